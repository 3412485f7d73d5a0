"""성능 장의 입력 파이프라인: 실제 사진의 JPEG 를 풀고 AlexNet 학습 증강을 거쳐 배치를 만드는 ``DataLoader``.

ImageNet 학습에서 데이터 쪽이 하는 일은 JPEG 디코딩, 짧은 변 256 맞추기와 가운데 자르기, 평균 빼기,
무작위 224 조각과 뒤집기, PCA 색 증강입니다(논문 §2, §4.1). :class:`JpegPhotoDataset` 은 scikit-image 의
실제 사진 네 장(:func:`alexnetbook.data.sample_photos`)을 메모리 안의 JPEG 로 한 번 압축해 두고, 항목을
꺼낼 때마다 그 JPEG 를 새로 풀어 :func:`alexnetbook.augment.alexnet_train_transform` 을 적용합니다. 디스크를
읽는 시간만 빠지고 나머지는 실제 파이프라인과 같은 일을 합니다. ``benchmarks/pipeline.py`` 가 이것으로
작업 프로세스 0개와 2개일 때의 초당 이미지 수를 학습 한 스텝과 비교합니다.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import PIL.Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from ..augment import alexnet_train_transform
from ..checks import check_int
from ..data import sample_photos

__all__ = ["JpegPhotoDataset", "encode_jpegs", "make_photo_loader"]


def encode_jpegs(photos: dict[str, np.ndarray] | None = None, quality: int = 90) -> list[bytes]:
    """``(H, W, 3)`` ``uint8`` 사진들을 메모리 안의 JPEG 바이트로 압축합니다.

    Args:
        photos: 이름 → 사진. ``None`` 이면 :func:`alexnetbook.data.sample_photos` 의 네 장.
        quality: JPEG 품질(1–95).

    Returns:
        사진 순서대로의 JPEG 바이트 목록.

    Raises:
        TypeError: ``quality`` 가 정수가 아닐 때.
        ValueError: ``quality`` 가 범위를 벗어나거나, 사진이 ``(H, W, 3)`` ``uint8`` 이 아닐 때.
    """
    check_int(quality, "quality", minimum=1, maximum=95)
    photos = sample_photos() if photos is None else photos
    encoded = []
    for name, photo in photos.items():
        photo = np.asarray(photo)
        if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
            raise ValueError(f"사진 {name!r}은(는) (H, W, 3) uint8 이어야 합니다. 받은 값: {photo.shape} {photo.dtype}")
        buffer = io.BytesIO()
        PIL.Image.fromarray(photo).save(buffer, format="JPEG", quality=quality)
        encoded.append(buffer.getvalue())
    return encoded


class JpegPhotoDataset(Dataset):
    """JPEG 바이트 몇 개를 ``length`` 번 돌려 가며 풀고 변환하는 데이터셋(레이블은 사진 번호).

    Args:
        jpegs: JPEG 바이트 목록(:func:`encode_jpegs`).
        length: 데이터셋 길이. 항목 ``i`` 는 ``jpegs[i % len(jpegs)]`` 입니다.
        transform: PIL 이미지를 받는 변환. ``None`` 이면 :func:`alexnetbook.augment.alexnet_train_transform`
            (전역 난수; ``DataLoader`` 작업자마다 다른 난수열).

    Raises:
        TypeError: ``length`` 가 정수가 아닐 때.
        ValueError: ``jpegs`` 가 비었거나 ``length`` 가 1보다 작을 때.
    """

    def __init__(
        self, jpegs: Sequence[bytes], length: int, transform: Callable[[PIL.Image.Image], Tensor] | None = None
    ) -> None:
        if not jpegs:
            raise ValueError("jpegs가 비어 있습니다. JPEG 바이트를 하나 이상 주세요.")
        check_int(length, "length", minimum=1)
        self.jpegs = list(jpegs)
        self.length = length
        self.transform = alexnet_train_transform() if transform is None else transform

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        if not -self.length <= index < self.length:
            raise IndexError(f"index {index}가 길이 {self.length}의 범위를 벗어났습니다.")
        label = (index % self.length) % len(self.jpegs)  # 음수 번호는 끝에서부터 셉니다
        with PIL.Image.open(io.BytesIO(self.jpegs[label])) as image:
            return self.transform(image.convert("RGB")), label


def make_photo_loader(
    batch_size: int, num_workers: int, *, batches: int = 4, quality: int = 90, **loader_kwargs: Any
) -> DataLoader:
    """실제 사진 JPEG 로 AlexNet 학습 배치 ``batches`` 개를 내는 ``DataLoader`` 를 만듭니다.

    작업 프로세스가 있으면 ``persistent_workers=True`` 로 두어, 한 에폭을 다시 돌 때 프로세스를 새로 띄우는
    시간이 측정에 섞이지 않게 합니다.

    Args:
        batch_size: 배치 크기.
        num_workers: 작업 프로세스 수(0 이면 주 프로세스에서 만듦).
        batches: 한 에폭의 배치 수.
        quality: JPEG 품질.
        **loader_kwargs: ``DataLoader`` 에 더 넘길 인자.

    Returns:
        ``(batch_size, 3, 224, 224)`` float32 이미지와 레이블을 내는 ``DataLoader``.

    Raises:
        TypeError: ``batch_size``, ``batches``, ``num_workers`` 가 정수가 아닐 때.
        ValueError: ``batch_size``, ``batches`` 가 1보다 작거나 ``num_workers`` 가 음수일 때.
    """
    check_int(batch_size, "batch_size", minimum=1)
    check_int(batches, "batches", minimum=1)
    check_int(num_workers, "num_workers", minimum=0)
    dataset = JpegPhotoDataset(encode_jpegs(quality=quality), batch_size * batches)
    return DataLoader(
        dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers,
        persistent_workers=num_workers > 0, **loader_kwargs,
    )
