"""기반 모듈(utils, plotting, data)과 패키지 구성의 테스트."""

from __future__ import annotations

import random
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")

import alexnetbook
from alexnetbook import plotting, utils

ROOT = Path(__file__).resolve().parents[1]


def test_code_folder_is_not_a_package():
    assert not (ROOT / "code" / "__init__.py").exists()


def test_stdlib_code_module_not_shadowed_from_repo_root():
    out = subprocess.run(
        [sys.executable, "-c", "import code; print(code.interact)"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    assert out.startswith("<function interact")


@pytest.mark.slow
def test_star_import_loads_every_module_but_never_jax():
    code = ("from alexnetbook import *; import sys, alexnetbook; "
            "print('jax' in sys.modules, 'flax' in sys.modules, len(alexnetbook.__all__), 'flax_alexnet' in dir(), 'flax_train' in dir())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ["False", "False"]
    assert int(out[2]) > 20 and out[3:] == ["False", "False"]
    assert {"flax_alexnet", "flax_train"} <= set(dir(alexnetbook))  # 이름으로는 여전히 불러올 수 있습니다


def test_unknown_attribute_raises():
    with pytest.raises(AttributeError, match="no attribute"):
        alexnetbook.does_not_exist  # noqa: B018


def test_set_seed_reproduces_all_sources():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    utils.set_seed(123)
    a = draw()
    utils.set_seed(123)
    b = draw()
    utils.set_seed(124)
    c = draw()
    assert a == b
    assert a != c


def test_set_seed_returns_seeded_generator():
    g1 = utils.set_seed(7)
    g2 = utils.set_seed(7)
    assert torch.equal(torch.rand(5, generator=g1), torch.rand(5, generator=g2))


@pytest.mark.parametrize("bad", [1.5, "3", None, True])
def test_set_seed_rejects_non_int(bad):
    with pytest.raises(TypeError, match="seed"):
        utils.set_seed(bad)


@pytest.mark.parametrize("bad", [-1, 2**32])
def test_set_seed_rejects_out_of_range(bad):
    with pytest.raises(ValueError, match="seed"):
        utils.set_seed(bad)


def test_get_device_cpu_and_errors(monkeypatch):
    monkeypatch.delenv("ALEXNETBOOK_DEVICE", raising=False)
    assert utils.get_device("cpu") == torch.device("cpu")
    assert utils.get_device().type in {"cpu", "cuda", "mps"}
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="prefer"):
            utils.get_device("cuda")
    monkeypatch.setenv("ALEXNETBOOK_DEVICE", "cpu")
    assert utils.get_device() == torch.device("cpu")


def test_korean_plots_without_warnings(tmp_path):
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 글리프 누락 경고나 DeprecationWarning 이 나면 실패
        name = plotting.setup_korean_plots()
        fig, ax = plt.subplots()
        ax.plot([-2, -1, 0, 1], [1, -1, 0, 2])
        ax.set_title("활성화 함수와 기울기 −1")
        fig.savefig(tmp_path / "k.png")
        plt.close(fig)
    assert name == "NanumGothic"
    assert "koreanize_matplotlib" not in sys.modules
    found = font_manager.findfont(font_manager.FontProperties(family="NanumGothic"), fallback_to_default=False)
    assert Path(found).name == "NanumGothic.ttf"
    assert matplotlib.rcParams["figure.facecolor"] == "white"
    assert matplotlib.rcParams["savefig.facecolor"] == "white"


def test_korean_plots_idempotent():
    from matplotlib import font_manager

    plotting.setup_korean_plots()
    n = len(font_manager.fontManager.ttflist)
    plotting.setup_korean_plots()
    assert len(font_manager.fontManager.ttflist) == n
