"""메모리에 올린 이미지 텐서를 미니배치로 나누어 학습 루프와 평가에 넘깁니다.

:func:`alexnetbook.data.load_tensors` 가 읽은 ``uint8`` 텐서를 :class:`TensorImageDataset` 에 담으면,
:func:`iterate_batches` 가 텐서 인덱싱 한 번으로 미니배치를 꺼냅니다. JPEG 를 에폭마다 다시 풀지 않고 샘플마다
파이썬을 거치지 않으므로 작은 신경망의 학습이 빠릅니다. 다른 Dataset 이나 ``DataLoader`` 도 같은 함수로
돕니다. :func:`alexnetbook.train.fit` 과 :mod:`alexnetbook.evaluate` 가 함께 쓰는 **하나의** 길입니다.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from .checks import check_int, check_tensor

__all__ = ["TensorImageDataset", "iterate_batches"]


class TensorImageDataset(Dataset):
    """메모리에 올린 이미지 텐서 데이터셋(JPEG 를 에폭마다 다시 풀지 않도록).

    ``transform`` 이 없으면 :meth:`batch` 가 미니배치를 텐서 인덱싱 한 번으로 꺼내므로, 작은 신경망의 학습
    루프(:func:`alexnetbook.train.fit`)가 샘플마다 파이썬을 거치지 않습니다. ``transform`` 이 있으면 이미지마다
    부릅니다(무작위 조각처럼 이미지마다 다른 증강).

    Args:
        images: ``(N, C, H, W)`` 텐서(``uint8`` 또는 실수).
        labels: ``(N,)`` 정수 텐서.
        transform: ``(C, H, W)`` 이미지 하나를 받아 모델 입력을 돌려주는 함수.

    Raises:
        TypeError: 텐서가 아니거나 레이블이 정수가 아닐 때.
        ValueError: 모양이 맞지 않을 때.
    """

    def __init__(self, images: Tensor, labels: Tensor, transform: Callable[[Tensor], Tensor] | None = None) -> None:
        check_tensor(images, "images", dims=4)
        check_tensor(labels, "labels", dims=1)
        if labels.is_floating_point() or labels.dtype == torch.bool:
            raise TypeError(f"labels는 정수 텐서여야 합니다. 받은 dtype: {labels.dtype}")
        if len(images) != len(labels):
            raise ValueError(f"images 와 labels 의 개수가 다릅니다: {len(images)} != {len(labels)}")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform은 호출할 수 있는 객체여야 합니다. 받은 타입: {type(transform).__name__}")
        self.images = images
        self.labels = labels.long()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, self.labels[index]

    def batch(self, indices: Tensor) -> tuple[Tensor, Tensor]:
        """``indices`` 의 이미지와 레이블을 한 번에 꺼냅니다: ``(B, ...)`` 이미지, ``(B,)`` 레이블."""
        if self.transform is None:
            return self.images[indices], self.labels[indices]
        return torch.stack([self.transform(self.images[i]) for i in indices.tolist()]), self.labels[indices]


def iterate_batches(
    data: Dataset | DataLoader,
    batch_size: int,
    *,
    order: Tensor | None = None,
    num_workers: int = 0,
    pin_memory: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[tuple[Tensor, Tensor, Tensor | None]]:
    """``data`` 를 ``(이미지, 레이블, 번호)`` 미니배치로 한 바퀴 돕니다. 학습 루프와 평가가 함께 쓰는 **하나의** 길입니다.

    * :class:`TensorImageDataset` 이고 작업 프로세스가 없으면 :meth:`TensorImageDataset.batch` 로 텐서 인덱싱
      한 번에 배치를 꺼냅니다.
    * 다른 Dataset 이면 같은 순서로 ``DataLoader`` 가 읽습니다(``num_workers`` 개 작업 프로세스).
    * 이미 만든 ``DataLoader`` 는 그대로 돕니다(``batch_size``, ``order`` 는 무시하고, 번호는 ``None``).

    번호는 그 배치에 든 샘플들의 Dataset 안 번호(``order`` 의 해당 조각)입니다.

    Args:
        data: Dataset 또는 DataLoader. 샘플은 ``(이미지, 레이블)`` 입니다.
        batch_size: 미니배치 크기.
        order: 돌 순서(샘플 번호의 1차원 텐서). ``None`` 이면 0, 1, 2, … 순서.
        num_workers: ``DataLoader`` 작업 프로세스 수.
        pin_memory: ``DataLoader`` 의 ``pin_memory`` (GPU 로 옮길 때).
        generator: ``DataLoader`` 가 작업 프로세스의 시드를 뽑을 생성기. ``None`` 이면 고정된 새 생성기를 씁니다.
            어느 쪽이든 PyTorch 의 전역 난수는 건드리지 않으므로, 두 길(텐서 인덱싱과 ``DataLoader``)에서
            이미지마다 부르는 무작위 증강이 같은 난수열을 씁니다.

    Yields:
        ``(images, labels, indices)``.
    """
    if isinstance(data, DataLoader):
        for images, labels in data:
            yield images, labels, None
        return
    check_int(batch_size, "batch_size", minimum=1)
    check_int(num_workers, "num_workers", minimum=0)
    if order is None:
        order = torch.arange(len(data))  # type: ignore[arg-type]
    if isinstance(data, TensorImageDataset) and num_workers == 0:
        for start in range(0, len(order), batch_size):
            indices = order[start:start + batch_size]
            images, labels = data.batch(indices)
            yield images, labels, indices
        return
    loader = DataLoader(data, batch_size=batch_size, sampler=order.tolist(), num_workers=num_workers,
                        pin_memory=pin_memory, generator=generator if generator is not None else torch.Generator())
    for start, (images, labels) in zip(range(0, len(order), batch_size), loader):
        yield images, labels, order[start:start + batch_size]
