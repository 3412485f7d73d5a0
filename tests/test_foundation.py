"""기반 모듈(utils, plotting, data)과 패키지 구성의 테스트."""

from __future__ import annotations

import os
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
from alexnetbook import data, plotting, utils

ROOT = Path(__file__).resolve().parents[1]


def test_code_folder_is_not_a_package():
    assert not (ROOT / "code" / "__init__.py").exists()


def test_stdlib_code_module_not_shadowed_from_repo_root():
    out = subprocess.run(
        [sys.executable, "-c", "import code; print(code.interact)"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    assert out.startswith("<function interact")


def test_import_alexnetbook_does_not_import_jax():
    code = "import alexnetbook, sys; import alexnetbook.utils; print('jax' in sys.modules, 'flax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


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


def test_data_root_env(monkeypatch, tmp_path):
    monkeypatch.setenv("ALEXNETBOOK_DATA", str(tmp_path))
    assert data.data_root() == tmp_path.resolve()
    monkeypatch.delenv("ALEXNETBOOK_DATA")
    assert data.data_root() == Path.home() / ".cache" / "alexnetbook"


def test_bad_split():
    with pytest.raises(ValueError, match="split"):
        data.load_cifar10("val")
    with pytest.raises(ValueError, match="split"):
        data.load_fashion_mnist("validation")


def test_cifar10_missing_gives_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match="ALEXNETBOOK_DATA"):
        data.load_cifar10("train", root=tmp_path, download=False)


def test_fashion_mnist_missing_gives_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "nowhere")
    with pytest.raises(RuntimeError, match="dataset-fashion-mnist"):
        data.load_fashion_mnist("test", root=tmp_path, download=False)


needs_cifar = pytest.mark.skipif(
    not (data.data_root() / "cifar10-subset").is_dir() and not os.environ.get("CI"),
    reason="offline CIFAR-10 subset not found (set ALEXNETBOOK_DATA)",
)


@needs_cifar
def test_cifar10_offline_subset():
    ds = data.load_cifar10("test")
    assert tuple(ds.classes) == data.CIFAR10_CLASSES
    img, label = ds[0]
    assert img.size == (32, 32) and img.mode == "RGB"
    images, labels = data.dataset_to_tensors(ds, per_class=3, seed=1)
    assert images.shape == (30, 3, 32, 32) and images.dtype == torch.uint8
    assert torch.equal(torch.bincount(labels), torch.full((10,), 3))
    again, labels2 = data.dataset_to_tensors(ds, per_class=3, seed=1)
    assert torch.equal(images, again) and torch.equal(labels, labels2)


needs_fmnist = pytest.mark.skipif(
    not data.FASHION_MNIST_SYSTEM_DIR.is_dir() and not os.environ.get("CI"),
    reason="Debian package dataset-fashion-mnist not installed",
)


@needs_fmnist
def test_fashion_mnist_offline():
    ds = data.load_fashion_mnist("test")
    assert len(ds) == 10_000
    assert ds.data.shape == (10_000, 28, 28) and ds.data.dtype == torch.uint8
    assert torch.equal(torch.bincount(ds.targets), torch.full((10,), 1000))
    img, label = ds[0]
    assert img.size == (28, 28) and img.mode == "L" and 0 <= label < 10
    assert len(data.load_fashion_mnist("train")) == 60_000


def test_idx_dataset_rejects_bad_shapes():
    with pytest.raises(ValueError, match="images"):
        data.IDXDataset(np.zeros((3, 4), np.uint8), np.zeros(3, np.uint8), ("a",))


def test_dataset_to_tensors_bad_per_class():
    ds = data.IDXDataset(np.zeros((4, 2, 2), np.uint8), np.array([0, 0, 1, 1], np.uint8), ("a", "b"))
    with pytest.raises(ValueError, match="per_class"):
        data.dataset_to_tensors(ds, per_class=0)
    with pytest.raises(ValueError, match="per_class=3"):
        data.dataset_to_tensors(ds, per_class=3)
    images, labels = data.dataset_to_tensors(ds, per_class=2)
    assert images.shape == (4, 1, 2, 2)


def test_sample_photos():
    photos = data.sample_photos()
    assert set(photos) == {"astronaut", "chelsea", "coffee", "rocket"}
    for img in photos.values():
        assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8
