"""메모리 텐서 데이터셋과 하나의 배치 돌기(:mod:`alexnetbook.batches`)의 테스트."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from alexnetbook.batches import TensorImageDataset, iterate_batches


def test_tensor_image_dataset_batch_and_transform():
    images = torch.arange(2 * 3 * 4 * 4, dtype=torch.uint8).view(2, 3, 4, 4)  # (96,) -> (2, 3, 4, 4)
    labels = torch.tensor([1, 0])
    plain = TensorImageDataset(images, labels)
    x, y = plain.batch(torch.tensor([1, 0, 1]))
    assert torch.equal(x, images[[1, 0, 1]]) and y.tolist() == [0, 1, 0]
    flipped = TensorImageDataset(images, labels, transform=lambda img: img.flip(-1).float())
    x, _ = flipped.batch(torch.tensor([0, 1]))
    assert torch.equal(x, images.flip(-1).float())
    assert torch.equal(flipped[1][0], images[1].flip(-1).float())


@pytest.mark.parametrize(
    ("images", "labels", "error", "name"),
    [
        (torch.zeros(2, 4, 4), torch.zeros(2, dtype=torch.long), ValueError, "images"),
        (torch.zeros(2, 3, 4, 4), torch.zeros(2), TypeError, "labels"),
        (torch.zeros(2, 3, 4, 4), torch.zeros(3, dtype=torch.long), ValueError, "개수"),
        (np.zeros((2, 3, 4, 4)), torch.zeros(2, dtype=torch.long), TypeError, "images"),
    ],
)
def test_tensor_image_dataset_validates(images, labels, error, name):
    with pytest.raises(error, match=name):
        TensorImageDataset(images, labels)


def test_iterate_batches_same_batches_on_both_paths():
    images = torch.randn(10, 3, 2, 2)
    labels = torch.arange(10)
    order = torch.tensor([3, 1, 4, 0, 5, 9, 2, 6, 8, 7])
    fast = list(iterate_batches(TensorImageDataset(images, labels), 4, order=order))
    slow = list(iterate_batches(TensorDataset(images, labels), 4, order=order))
    assert len(fast) == len(slow) == 3
    for (xa, ya, ia), (xb, yb, ib) in zip(fast, slow):
        assert torch.equal(xa, xb) and torch.equal(ya, yb) and torch.equal(ia, ib)
    loader = DataLoader(TensorDataset(images, labels), batch_size=5)
    assert [idx for _, _, idx in iterate_batches(loader, 99)] == [None, None]
    with pytest.raises(ValueError, match="batch_size"):
        list(iterate_batches(TensorDataset(images, labels), 0))


def test_iterate_batches_leaves_the_global_random_state_alone():
    dataset = TensorDataset(torch.randn(8, 1), torch.arange(8))
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    list(iterate_batches(dataset, 3))
    assert torch.equal(torch.rand(3), expected)
