"""드롭아웃 장의 과적합 실험: 드롭아웃이 있을 때와 없을 때의 학습/검증 오류율.

AlexNet 은 FC6, FC7 의 출력(ReLU 뒤)에 드롭아웃을 둡니다(논문 §4.2). 합성곱 부분까지 CPU 에서 여러 시드로
학습하기에는 무거우므로, 여기서는 **AlexNet 의 분류기 부분과 같은 배치**(FC → ReLU → 드롭아웃을 두 번,
그리고 출력 FC)를 32×32 CIFAR-10 픽셀에 바로 붙인 작은 신경망(:func:`classifier_head`, AlexNet 자체는 아님)으로 잽니다.

이 모듈에는 장의 설정과 신경망 하나, 그리고 시드 하나의 비교(:func:`run_seed`)만 있습니다. 데이터는
:func:`alexnetbook.data.load_tensors` 와 :func:`~alexnetbook.data.split_train_val` (검증 세트는 학습 이미지에서
떼어 냄), 중심 맞추기는 :func:`alexnetbook.augment.subtract_mean`, 학습은 :func:`alexnetbook.train.fit`, 여러
시드는 :func:`alexnetbook.seeds.run_seeds` 가 맡습니다.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..augment import subtract_mean
from ..checks import check_choice, check_float, check_int, check_tensor
from ..batches import TensorImageDataset
from ..data import load_tensors, split_train_val
from ..dropout import DROPOUT_MODES, Dropout
from ..evaluate import predict
from ..train import TrainConfig, fit

__all__ = ["SETTINGS", "DropoutRun", "classifier_head", "epochs_to_reach", "load_data", "run_seed"]

#: 비교하는 두 신경망: 이름 → 드롭아웃 확률 ``p``. 두 신경망은 드롭아웃 말고는 모두 같습니다.
SETTINGS: dict[str, float] = {"no_dropout": 0.0, "dropout": 0.5}


@dataclass(frozen=True)
class DropoutRun:
    """한 (설정, 시드) 실행의 결과. 오류율은 0–1.

    Attributes:
        history: :func:`alexnetbook.train.fit` 의 에폭별 기록(``train_eval_top1``, ``val_top1`` 등).
        val_correct: ``(n,)`` bool, 마지막 에폭 뒤 검증 이미지마다 top-1 으로 맞혔는지(짝지은 검정에 씀).
    """

    history: list[dict[str, float]]
    val_correct: Tensor

    @property
    def train_error(self) -> float:
        """마지막 에폭의 학습 세트 오류율(드롭아웃을 끈 평가 모드)."""
        return self.history[-1]["train_eval_top1"]

    @property
    def val_error(self) -> float:
        """마지막 에폭의 검증 세트 오류율."""
        return self.history[-1]["val_top1"]

    @property
    def best_val_error(self) -> float:
        """에폭 가운데 가장 낮은 검증 오류율(그 에폭에서 멈추는 조기 종료의 결과)."""
        return min(r["val_top1"] for r in self.history)

    @property
    def gap(self) -> float:
        """마지막 에폭의 "검증 오류율 − 학습 오류율"(클수록 과적합)."""
        return self.val_error - self.train_error


def load_data(
    train_per_class: int = 150, val_per_class: int = 100, *, seed: int = 0
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """CIFAR-10 학습 세트에서 클래스마다 ``train_per_class + val_per_class`` 장을 읽어 학습/검증으로 나눕니다.

    검증 세트도 **학습** 이미지에서 떼어 냅니다(가장 낮은 검증 오류율의 에폭을 고르는 데 쓰므로 테스트 세트는
    쓰지 않습니다). 전처리는 논문 §2처럼 학습 세트의 평균 이미지만 빼고(표준편차로 나누지 않음), 값이 −1과
    1 사이가 되도록 255로 나눕니다.

    Args:
        train_per_class: 클래스마다 학습 이미지 수.
        val_per_class: 클래스마다 검증 이미지 수.
        seed: 이미지를 고르고 나누는 시드.

    Returns:
        ``(train_images, train_labels, val_images, val_labels)``. 이미지는 ``(N, 3, 32, 32)`` float32.
    """
    check_int(train_per_class, "train_per_class", minimum=1)
    check_int(val_per_class, "val_per_class", minimum=1)
    images, labels = load_tensors("cifar10", "train", per_class=train_per_class + val_per_class, seed=seed)
    train_x, train_y, val_x, val_y = split_train_val(images, labels, val_per_class, seed=seed)
    train_x, val_x, _mean = subtract_mean(train_x, val_x, scale=1 / 255)
    return train_x, train_y, val_x, val_y


def classifier_head(
    in_features: int,
    hidden_features: int = 256,
    num_classes: int = 10,
    *,
    p: float = 0.5,
    mode: str = "inverted",
) -> nn.Sequential:
    """AlexNet 분류기와 같은 배치의 작은 MLP: flatten → fc6 → ReLU → 드롭아웃 → fc7 → ReLU → 드롭아웃 → fc8.

    드롭아웃은 논문처럼 FC6, FC7 의 **출력**(ReLU 뒤), 곧 fc7 과 fc8 의 입력에 둡니다. ``p == 0`` 이면 드롭아웃
    자리에 ``nn.Identity`` 를 둡니다. 드롭아웃 층에는 매개변수가 없으므로, 같은 시드에서 만든 두 신경망은
    ``p`` 와 상관없이 초기 가중치가 같습니다.

    Args:
        in_features: 펼친 입력의 크기(32×32 RGB 면 3072).
        hidden_features: fc6, fc7 의 뉴런 수.
        num_classes: 출력 클래스 수.
        p: 드롭아웃 확률, ``[0, 1)``.
        mode: :class:`alexnetbook.dropout.Dropout` 의 ``mode`` (``"inverted"`` 또는 ``"paper"``).

    Returns:
        층 이름이 ``flatten, fc6, relu6, drop6, fc7, relu7, drop7, fc8`` 인 ``nn.Sequential``.
    """
    check_int(in_features, "in_features", minimum=1)
    check_int(hidden_features, "hidden_features", minimum=1)
    check_int(num_classes, "num_classes", minimum=2)
    p = check_float(p, "p", minimum=0.0, maximum=1.0, open_max=True)
    check_choice(mode, "mode", DROPOUT_MODES)

    def drop() -> nn.Module:
        return Dropout(p, mode=mode) if p > 0 else nn.Identity()

    return nn.Sequential(OrderedDict([
        ("flatten", nn.Flatten()),  # (N, C, H, W) -> (N, C*H*W)
        ("fc6", nn.Linear(in_features, hidden_features)),
        ("relu6", nn.ReLU()),
        ("drop6", drop()),
        ("fc7", nn.Linear(hidden_features, hidden_features)),
        ("relu7", nn.ReLU()),
        ("drop7", drop()),
        ("fc8", nn.Linear(hidden_features, num_classes)),
    ]))


def run_seed(
    seed: int,
    train_images: Tensor,
    train_labels: Tensor,
    val_images: Tensor,
    val_labels: Tensor,
    *,
    hidden_features: int = 256,
    epochs: int = 22,
    lr: float = 0.01,
    batch_size: int = 64,
    mode: str = "inverted",
) -> dict[str, DropoutRun]:
    """시드 하나에서 :data:`SETTINGS` 의 두 신경망을 같은 초기 가중치, 같은 미니배치 순서로 학습합니다.

    시드는 초기 가중치, 미니배치 순서, 드롭아웃 마스크를 정합니다. 학습은 모멘텀 0.9 의 SGD 이고, 드롭아웃
    하나의 효과만 보려고 가중치 감쇠는 쓰지 않으며 학습률은 일정합니다. 학습 세트 오류율은 에폭마다 드롭아웃을
    끈 평가 모드로도 잽니다(기록의 ``train_eval_top1``). :func:`alexnetbook.seeds.run_seeds` 로 여러 시드를 돌립니다.

    Args:
        seed: 시드(0 이상).
        train_images: ``(N, C, H, W)`` 실수 학습 이미지(:func:`load_data`).
        train_labels: ``(N,)`` 학습 레이블.
        val_images: ``(M, C, H, W)`` 검증 이미지.
        val_labels: ``(M,)`` 검증 레이블.
        hidden_features: fc6, fc7 의 뉴런 수.
        epochs: 에폭 수.
        lr: 학습률.
        batch_size: 미니배치 크기.
        mode: 드롭아웃 방식(``"inverted"`` 또는 ``"paper"``).

    Returns:
        :data:`SETTINGS` 의 이름 → :class:`DropoutRun`.
    """
    check_int(seed, "seed", minimum=0)
    check_tensor(train_images, "train_images", dims=4, floating=True)
    check_tensor(val_images, "val_images", dims=4, floating=True)
    check_int(hidden_features, "hidden_features", minimum=1)
    config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, momentum=0.9, weight_decay=0.0,
                         max_lr_drops=0, seed=seed, device="cpu", progress=False, verbose=False)
    train = TensorImageDataset(train_images, train_labels)
    val = TensorImageDataset(val_images, val_labels)
    num_classes = int(torch.cat([train_labels, val_labels]).max()) + 1
    runs: dict[str, DropoutRun] = {}
    for name, p in SETTINGS.items():
        torch.manual_seed(seed)  # 두 신경망이 같은 초기 가중치에서 시작합니다
        model = classifier_head(train_images[0].numel(), hidden_features, num_classes, p=p, mode=mode)
        history = fit(model, train, val, config, eval_sets={"train_eval": train})
        runs[name] = DropoutRun(history, predict(model, val).correct())
    return runs


def epochs_to_reach(history: Sequence[dict[str, float]], target: float, key: str = "train_eval_top1") -> int | None:
    """기록의 ``key`` 가 처음으로 ``target`` 이하가 된 에폭. 끝까지 못 가면 ``None``.

    Raises:
        KeyError: 기록에 ``key`` 가 없을 때.
    """
    check_float(target, "target")
    for record in history:
        if record[key] <= target:
            return int(record["epoch"])
    return None
