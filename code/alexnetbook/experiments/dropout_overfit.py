"""드롭아웃 장의 작은 과적합 실험: 드롭아웃이 있을 때와 없을 때의 학습/검증 오류율 차이.

AlexNet 이 드롭아웃을 넣은 곳은 FC6, FC7 두 완전 연결 층입니다(논문 §4.2). 합성곱 부분까지 CPU 에서
학습하기에는 무거우므로, 여기서는 **AlexNet 의 분류기 부분과 같은 모양**(FC → ReLU → 드롭아웃을 두 번,
그리고 출력 FC)을 32×32 CIFAR-10 픽셀에 바로 붙인 작은 신경망으로 잽니다. AlexNet 자체는 아닙니다.

데이터는 CIFAR-10 학습 세트의 앞부분 일부(클래스마다 ``train_per_class`` 장)로 학습하고, 테스트 세트의
일부(클래스마다 ``val_per_class`` 장)를 검증 세트로 씁니다. 전처리는 논문처럼 학습 세트 평균만 빼고
(표준편차로 나누지 않음) 255로 나눠 0–1 척도로 둡니다. 학습 루프는
:func:`alexnetbook.experiments.common.fit_epochs` 입니다.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .. import data
from ..dropout import Dropout
from .common import EpochRecord, fit_epochs, subtract_mean

__all__ = [
    "DEFAULT_SETTINGS",
    "OverfitData",
    "classifier_head",
    "epochs_to_reach",
    "load_overfit_data",
    "run_dropout_overfit",
]

#: 기본 비교: 이름 → ``(p, mode)``. 두 신경망은 드롭아웃 말고는 모두 같습니다.
DEFAULT_SETTINGS: dict[str, tuple[float, str]] = {
    "no_dropout": (0.0, "inverted"),
    "dropout": (0.5, "inverted"),
}


@dataclass
class OverfitData:
    """실험에 쓰는, 메모리에 올린 데이터. 이미지는 평균을 뺀 0–1 척도의 ``(N, 3, 32, 32)`` 실수 텐서입니다."""

    train_images: Tensor
    train_labels: Tensor
    val_images: Tensor
    val_labels: Tensor


def load_overfit_data(train_per_class: int = 200, val_per_class: int = 100, *, seed: int = 0) -> OverfitData:
    """CIFAR-10 (오프라인 사본 우선)에서 작은 학습 세트와 검증 세트를 읽어 전처리합니다.

    Args:
        train_per_class: 클래스마다 학습 이미지 수(학습 세트에서).
        val_per_class: 클래스마다 검증 이미지 수(테스트 세트에서).
        seed: 이미지를 고르는 순서의 시드.

    Returns:
        :class:`OverfitData`.
    """
    train_x, train_y = data.dataset_to_tensors(data.load_cifar10("train"), per_class=train_per_class, seed=seed)
    val_x, val_y = data.dataset_to_tensors(data.load_cifar10("test"), per_class=val_per_class, seed=seed)
    train_c, val_c, _mean = subtract_mean(train_x, val_x)  # 0–255 척도에서 학습 세트 평균 이미지를 뺌
    return OverfitData(train_c / 255.0, train_y, val_c / 255.0, val_y)


def classifier_head(
    in_features: int,
    hidden_features: int = 512,
    num_classes: int = 10,
    *,
    p: float = 0.5,
    mode: str = "inverted",
) -> nn.Sequential:
    """AlexNet 분류기와 같은 배치의 작은 MLP: flatten → fc6 → ReLU → 드롭아웃 → fc7 → ReLU → 드롭아웃 → fc8.

    드롭아웃은 논문처럼 FC6, FC7 의 **출력**(ReLU 뒤)에 둡니다. ``p == 0`` 이면 드롭아웃 자리에
    ``nn.Identity`` 를 둡니다.

    Args:
        in_features: 펼친 입력의 크기(32×32 RGB 면 3072).
        hidden_features: fc6, fc7 의 뉴런 수.
        num_classes: 출력 클래스 수.
        p: 드롭아웃 확률.
        mode: :class:`alexnetbook.dropout.Dropout` 의 ``mode``.

    Returns:
        ``nn.Sequential``.
    """

    def drop() -> nn.Module:
        return Dropout(p, mode=mode) if p > 0 else nn.Identity()

    return nn.Sequential(
        OrderedDict(
            [
                ("flatten", nn.Flatten()),  # (N, C, H, W) -> (N, C*H*W)
                ("fc6", nn.Linear(in_features, hidden_features)),
                ("relu6", nn.ReLU()),
                ("drop6", drop()),
                ("fc7", nn.Linear(hidden_features, hidden_features)),
                ("relu7", nn.ReLU()),
                ("drop7", drop()),
                ("fc8", nn.Linear(hidden_features, num_classes)),
            ]
        )
    )


def run_dropout_overfit(
    dataset: OverfitData | None = None,
    *,
    settings: Mapping[str, tuple[float, str]] | None = None,
    hidden_features: int = 512,
    epochs: int = 40,
    lr: float = 0.01,
    batch_size: int = 64,
    seed: int = 0,
) -> dict[str, list[EpochRecord]]:
    """설정마다 같은 초기 가중치와 같은 미니배치 순서로 학습하고, 에폭마다 학습/검증 오류율을 기록합니다.

    가중치 감쇠(weight decay)는 쓰지 않습니다. 드롭아웃 하나의 효과만 보기 위해서입니다. 학습 세트 오류율은
    드롭아웃을 끈 평가 모드로 잽니다.

    Args:
        dataset: :class:`OverfitData`. ``None`` 이면 :func:`load_overfit_data` 의 기본값으로 읽습니다.
        settings: 이름 → ``(p, mode)``. ``None`` 이면 :data:`DEFAULT_SETTINGS`.
        hidden_features: fc6, fc7 의 뉴런 수.
        epochs: 에폭 수.
        lr: 학습률(모멘텀 0.9 SGD).
        batch_size: 미니배치 크기.
        seed: 초기화, 미니배치 순서, 드롭아웃 마스크의 시드.

    Returns:
        이름 → 에폭별 :class:`~alexnetbook.experiments.common.EpochRecord` 목록. ``errors`` 의 키는
        ``"train"`` 과 ``"val"`` 입니다.
    """
    dataset = dataset if dataset is not None else load_overfit_data()
    settings = dict(settings if settings is not None else DEFAULT_SETTINGS)
    in_features = dataset.train_images[0].numel()
    eval_sets = {
        "train": (dataset.train_images, dataset.train_labels),
        "val": (dataset.val_images, dataset.val_labels),
    }
    results: dict[str, list[EpochRecord]] = {}
    for name, (p, mode) in settings.items():
        torch.manual_seed(seed)  # 모든 설정이 같은 초기 가중치에서 시작합니다(드롭아웃 층에는 가중치가 없음).
        model = classifier_head(in_features, hidden_features, int(dataset.train_labels.max()) + 1, p=p, mode=mode)
        results[name] = fit_epochs(
            model,
            dataset.train_images,
            dataset.train_labels,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            seed=seed,
            eval_sets=eval_sets,
        )
    return results


def epochs_to_reach(history: list[EpochRecord], target: float, key: str = "train") -> int | None:
    """``errors[key]`` 가 처음으로 ``target`` 이하가 된 에폭. 끝까지 못 가면 ``None``."""
    for record in history:
        if record.errors[key] <= target:
            return record.epoch
    return None
