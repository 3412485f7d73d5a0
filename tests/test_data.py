"""데이터 경로의 테스트: 하나의 입구(load_tensors), 검증 세트 떼기, 평균 빼기."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from alexnetbook import data
from alexnetbook.augment import SubtractMean, subtract_mean



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


@needs_cifar
def test_load_tensors_cifar_is_deterministic_and_balanced():
    images, labels = data.load_tensors("cifar10", "test", per_class=4, seed=2)
    assert images.shape == (40, 3, 32, 32) and images.dtype == torch.uint8 and labels.dtype == torch.int64
    assert torch.equal(torch.bincount(labels), torch.full((10,), 4))
    assert labels[:10].tolist() == list(range(10))  # 클래스가 번갈아 나옴
    again = data.load_tensors("cifar10", "test", per_class=4, seed=2)
    assert torch.equal(images, again[0]) and torch.equal(labels, again[1])
    other = data.load_tensors("cifar10", "test", per_class=4, seed=3)
    assert not torch.equal(images, other[0])


@needs_fmnist
def test_load_tensors_fashion_mnist_uses_the_array_fast_path_with_the_same_pixels():
    images, labels = data.load_tensors("fashion-mnist", "test", per_class=2, seed=0)
    assert images.shape == (20, 1, 28, 28) and images.dtype == torch.uint8
    ds = data.load_fashion_mnist("test")
    order = torch.randperm(len(ds), generator=torch.Generator().manual_seed(0))
    first = order[ds.targets[order] == 0][0]
    assert torch.equal(images[0, 0], torch.tensor(np.asarray(ds[int(first)][0])))


def test_load_tensors_rejects_unknown_names():
    with pytest.raises(ValueError, match="dataset"):
        data.load_tensors("imagenet")
    with pytest.raises(ValueError, match="split"):
        data.load_tensors("cifar10", "val")


def test_split_train_val_is_disjoint_balanced_and_seeded():
    images = torch.arange(60).view(60, 1, 1, 1)  # (60,) -> (60, 1, 1, 1): 이미지 값 = 원래 번호
    labels = torch.arange(60) % 3
    tx, ty, vx, vy = data.split_train_val(images, labels, 4, seed=1)
    assert len(vx) == 12 and len(tx) == 48
    assert torch.equal(torch.bincount(vy), torch.full((3,), 4))
    assert set(tx.flatten().tolist()).isdisjoint(vx.flatten().tolist())
    assert sorted(tx.flatten().tolist() + vx.flatten().tolist()) == list(range(60))
    assert torch.equal(labels[tx.flatten()], ty) and torch.equal(labels[vx.flatten()], vy)
    again = data.split_train_val(images, labels, 4, seed=1)
    assert torch.equal(again[2], vx)
    assert not torch.equal(data.split_train_val(images, labels, 4, seed=2)[2], vx)
    with pytest.raises(ValueError, match="val_per_class"):
        data.split_train_val(images, labels, 20)
    with pytest.raises(ValueError, match="val_per_class"):
        data.split_train_val(images, labels, 0)
    with pytest.raises(ValueError, match="개수"):
        data.split_train_val(images, labels[:10], 2)


def test_subtract_mean_uses_the_training_mean_for_every_set():
    g = torch.Generator().manual_seed(0)
    train = torch.randint(0, 256, (6, 3, 4, 4), dtype=torch.uint8, generator=g)
    test = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8, generator=g)
    a, b, mean = subtract_mean(train, test)
    assert mean.shape == (3, 4, 4) and a.dtype == torch.float32
    torch.testing.assert_close(a, train.float() - train.float().mean(0))
    torch.testing.assert_close(b, test.float() - train.float().mean(0))
    torch.testing.assert_close(a.mean(0), torch.zeros(3, 4, 4), atol=1e-4, rtol=0)
    scaled, _ = subtract_mean(train, scale=1 / 255)
    torch.testing.assert_close(scaled, a / 255)
    torch.testing.assert_close(SubtractMean(mean)(train[0].float()), a[0])  # 이미지 하나씩 처리해도 같음
    with pytest.raises(ValueError, match="others"):
        subtract_mean(train, torch.zeros(2, 3, 5, 5))
    with pytest.raises(ValueError, match="train"):
        subtract_mean(train[0])
    with pytest.raises(ValueError, match="scale"):
        subtract_mean(train, scale=0.0)
