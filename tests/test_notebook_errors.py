"""book/_ext/notebook_errors.py: 저장된 오류 출력이 있는 노트북은 ``-W`` 책 빌드를 실패시킵니다."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from sphinx.cmd.build import build_main

ROOT = Path(__file__).resolve().parents[1]
EXT_DIR = ROOT / "book" / "_ext"
sys.path.insert(0, str(EXT_DIR))

import notebook_errors  # noqa: E402


def _notebook(outputs: list[dict]) -> dict:
    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [
            {"cell_type": "markdown", "id": "a", "metadata": {}, "source": "# 제목\n\n본문입니다."},
            {"cell_type": "code", "id": "b", "metadata": {}, "execution_count": 1, "source": "1 / 0",
             "outputs": outputs},
        ],
    }


ERROR = {"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero", "traceback": []}
STREAM = {"output_type": "stream", "name": "stdout", "text": "ok\n"}


def test_error_outputs_lists_cell_and_exception():
    assert notebook_errors.error_outputs(_notebook([STREAM])) == []
    assert notebook_errors.error_outputs(_notebook([STREAM, ERROR])) == [(1, "ZeroDivisionError: division by zero")]
    with pytest.raises(TypeError, match="cells"):
        notebook_errors.error_outputs({"metadata": {}})


@pytest.mark.parametrize("outputs, ok", [([STREAM], True), ([ERROR], False)], ids=["clean", "error"])
def test_warning_fails_a_strict_build(tmp_path, outputs, ok, capsys):
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(EXT_DIR)!r})\n"
        "extensions = ['myst_nb', 'notebook_errors']\nnb_execution_mode = 'off'\n"
        "exclude_patterns = ['_build']\n", encoding="utf-8")
    (src / "index.ipynb").write_text(json.dumps(_notebook(outputs)), encoding="utf-8")
    status = build_main(["-W", "-q", "-b", "html", str(src), str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert (status == 0) == ok, err
    if not ok:
        assert "저장된 오류 출력" in err and "ZeroDivisionError" in err
