"""학습 장의 실험: 논문 §5의 방법을 줄여 AlexNet 축소판을 CIFAR-10 으로 학습합니다.

* :func:`load_cifar_tensors`: 오프라인 CIFAR-10 사본(없으면 torchvision 내려받기)을 ``uint8`` 텐서로.
* :func:`make_model`: ``AlexNet.for_cifar`` 축소판을 논문 초기화 또는 PyTorch 기본 초기화로 만듭니다.
* :func:`input_dependence`: 층마다 출력이 **이미지에 따라 얼마나 달라지는지**(초기화 진단).
* :func:`momentum_trajectories`: 논문의 모멘텀 갱신 식과 ``torch.optim.SGD`` 를 같은 기울기로 비교.

학습 자체는 :func:`alexnetbook.train.fit` 이 합니다.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ..data import dataset_to_tensors, load_cifar10
from ..models import AlexNet, init_paper_, layer_outputs
from ..utils import set_seed

__all__ = ["INITS", "input_dependence", "load_cifar_tensors", "make_model", "momentum_trajectories"]

#: :func:`make_model` 이 아는 초기화.
INITS = ("paper", "pytorch")


def load_cifar_tensors(
    per_class_train: int | None = None, per_class_val: int | None = None, *, seed: int = 0
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """CIFAR-10 학습·테스트 세트를 ``(N, 3, 32, 32)`` ``uint8`` 텐서와 레이블로 읽습니다.

    오프라인 사본이 있으면 그것(학습 10,000장, 테스트 5,000장)을, 없으면 torchvision 으로 전체를 내려받아
    읽습니다(:func:`alexnetbook.data.load_cifar10`).

    Args:
        per_class_train: 학습 세트에서 클래스마다 고를 개수. ``None`` 이면 전부.
        per_class_val: 테스트(검증) 세트에서 클래스마다 고를 개수. ``None`` 이면 전부.
        seed: 고를 이미지를 섞는 시드.

    Returns:
        ``(train_images, train_labels, val_images, val_labels)``.
    """
    train = dataset_to_tensors(load_cifar10("train"), per_class=per_class_train, seed=seed)
    val = dataset_to_tensors(load_cifar10("test"), per_class=per_class_val, seed=seed)
    return (*train, *val)


def make_model(init: str = "pytorch", *, seed: int = 0, **kwargs: object) -> AlexNet:
    """28×28 조각용 ``AlexNet.for_cifar(pool_output_size=2)`` 를 만듭니다.

    Args:
        init: ``"paper"`` (§5: 가중치 N(0, 0.01²), conv2·conv4·conv5·fc6·fc7 편향 1) 또는 ``"pytorch"``
            (PyTorch 기본 초기화).
        seed: 초기화 시드.
        **kwargs: ``AlexNet.for_cifar`` 에 넘길 인자(``channels``, ``hidden_features`` 등).

    Raises:
        ValueError: 모르는 ``init``.
    """
    if init not in INITS:
        raise ValueError(f"init은 {INITS} 중 하나여야 합니다. 받은 값: {init!r}")
    set_seed(seed)
    model = AlexNet.for_cifar(pool_output_size=2, **kwargs)  # type: ignore[arg-type]
    if init == "paper":
        init_paper_(model)
    return model


def input_dependence(model: AlexNet, images: Tensor) -> dict[str, float]:
    """층마다 출력이 이미지에 따라 얼마나 달라지는지 잽니다(평가 모드).

    한 층의 출력 ``a`` (배치 ``N``)에 대해 ``(배치 방향 표준편차의 평균) / (제곱 평균의 제곱근)`` 을 계산합니다.
    0 이면 모든 이미지에 똑같은 값을 내는 층(입력을 잊은 층), 1 안팎이면 이미지마다 크게 다른 값을 내는
    층입니다. 마지막 층(fc8)의 값이 0 에 가까우면 신경망의 출력이 입력과 거의 상관없으므로, 손실의 기울기도
    이미지를 구별하는 방향을 거의 가리키지 못합니다.

    Args:
        model: :class:`AlexNet`.
        images: ``(N, 3, H, W)`` 입력 배치(N ≥ 2).

    Returns:
        층 이름(``relu1`` … ``relu7``, ``fc8``) → 비율.

    Raises:
        ValueError: 배치가 2장보다 적을 때.
    """
    if images.dim() != 4 or len(images) < 2:
        raise ValueError(f"images는 두 장 이상의 (N, 3, H, W) 배치여야 합니다. 받은 모양: {tuple(images.shape)}")
    names = ["relu1", "relu2", "relu3", "relu4", "relu5", "relu6", "relu7", "fc8"]
    stats: dict[str, float] = {}
    for name, output in layer_outputs(model, images, names).items():
        flat = output.double().flatten(1)  # (N, ...) -> (N, D)
        rms = flat.pow(2).mean().sqrt()
        stats[name] = float(flat.std(dim=0).mean() / rms) if rms > 0 else 0.0
    return stats


def momentum_trajectories(
    lrs: Sequence[float],
    *,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    w0: float = 1.0,
    curvature: float = 1.0,
) -> tuple[list[float], list[float]]:
    """손실 ``curvature · w² / 2`` 에서 두 갱신 식이 만드는 가중치의 궤적을 float64 로 비교합니다.

    * 논문 §5: ``v ← μ·v − λ·ε·w − ε·∂L/∂w``, ``w ← w + v``.
    * PyTorch: ``torch.optim.SGD(momentum=μ, weight_decay=λ)`` 그대로(``b ← μ·b + (g + λ·w)``, ``w ← w − ε·b``).

    Args:
        lrs: 걸음마다의 학습률 ``ε`` (중간에 줄이면 학습률 감소를 흉내 냄).
        momentum: ``μ``.
        weight_decay: ``λ``.
        w0: 처음 가중치.
        curvature: 손실의 곡률.

    Returns:
        ``(논문 식의 w 목록, PyTorch 의 w 목록)``; 각 목록은 매 걸음 뒤의 가중치.
    """
    # 논문의 식: 학습률이 속도 v 안에 들어갑니다.
    w, v = w0, 0.0
    paper: list[float] = []
    for lr in lrs:
        v = momentum * v - weight_decay * lr * w - lr * curvature * w
        w = w + v
        paper.append(w)
    # PyTorch: 모멘텀 버퍼에는 학습률이 들어가지 않습니다.
    param = torch.tensor([w0], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lrs[0] if lrs else 0.0, momentum=momentum, weight_decay=weight_decay)
    pytorch: list[float] = []
    for lr in lrs:
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad()
        (0.5 * curvature * param.pow(2).sum()).backward()
        optimizer.step()
        pytorch.append(float(param.detach()))
    return paper, pytorch
