"""저장된 오류 출력이 있는 노트북을 책 빌드의 경고로 만드는 Sphinx 확장.

책은 노트북을 실행하지 않고(``execute_notebooks: "off"``) 커밋된 출력을 그대로 보여 줍니다. myst-nb 는 저장된
오류 출력(``output_type == "error"``)을 보통의 트레이스백으로 그릴 뿐 경고를 내지 않으므로, 예외가 난 채
커밋된 노트북도 ``-W`` 빌드를 통과합니다. 이 확장은 문서를 읽을 때 그런 출력을 찾아 경고를 내고,
``jupyter-book build -W`` 가 실패하게 합니다.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

__all__ = ["error_outputs", "setup"]

logger = logging.getLogger(__name__)


def error_outputs(notebook: dict[str, Any]) -> list[tuple[int, str]]:
    """노트북의 오류 출력을 ``(셀 번호, "예외 이름: 메시지")`` 목록으로 돌려줍니다.

    Args:
        notebook: ``json.load`` 로 읽은 노트북(nbformat 4).

    Returns:
        오류 출력이 있는 코드 셀마다 하나씩. 셀 번호는 0부터 셉니다(마크다운 셀 포함).

    Raises:
        TypeError: ``notebook`` 에 ``cells`` 목록이 없을 때.
    """
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise TypeError("notebook 은 'cells' 목록이 있는 nbformat 4 사전이어야 합니다")
    found = []
    for index, cell in enumerate(cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append((index, f"{output.get('ename', '?')}: {output.get('evalue', '')}"))
    return found


def _check_source(app: Sphinx, docname: str, source: list[str]) -> None:
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".ipynb":
        return
    for index, message in error_outputs(json.loads(path.read_text(encoding="utf-8"))):
        logger.warning("셀 %d 에 저장된 오류 출력이 있습니다(%s). 노트북을 고쳐 다시 실행하세요.", index, message,
                       location=docname, type="alexnetbook", subtype="notebook_error")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("source-read", _check_source)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
