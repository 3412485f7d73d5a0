"""논문 §3.1 그림 1의 재현: 네 층 CNN 에서 ReLU 와 tanh 가 학습 세트 오류율 목표에 닿는 데 걸리는 에폭 수.

논문의 그림 1은 CIFAR-10 에서 ReLU 를 쓴 네 층 CNN 이 학습 오류율 25%에 tanh 신경망보다 여섯 배 빨리
닿았다고 보고합니다. 두 신경망의 학습률은 "각각 학습이 가장 빠르도록 따로" 골랐고, 정규화는 전혀 쓰지
않았습니다. 여기서는 같은 조건(모멘텀 SGD, 정규화 없음, 0–255 픽셀에서 학습 세트 평균만 빼는 전처리,
가중치 ~ N(0, 0.01²))으로 두 가지 방식을 비교합니다.

* (a) 두 신경망에 **같은 학습률** 하나를 씁니다.
* (b) 작은 격자에서 신경망마다 **가장 빠른 학습률**을 고릅니다(논문의 방식). 공통 학습률에서 출발해
  격자를 바깥쪽으로 걸어가며, 지금까지의 최선보다 느린 실행은 도중에 멈춥니다(:func:`run_relu_vs_tanh`).

시간(초)이 아니라 에폭 수를 셉니다. 같은 시드, 같은 스레드 수라면 CPU 에서 결과가 비트 단위로 같습니다.

Colab 에서 전체 CIFAR-10(5만 장)으로 돌리려면 ``run_relu_vs_tanh(per_class=None, device="cuda")`` 처럼
부릅니다. 오프라인 사본(``ALEXNETBOOK_DATA``)이 없는 곳에서는 :func:`alexnetbook.data.load_cifar10` 이
torchvision 으로 전체 데이터를 내려받습니다.
"""

from __future__ import annotations

import math
import os
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from ..activations import ACTIVATIONS, get_grads
from ..data import dataset_to_tensors, load_cifar10, load_fashion_mnist
from ..models import init_paper_
from ..pooling import pooling_output_size
from ..utils import set_seed
from .common import EpochRecord, error_rate, fit_epochs, subtract_mean

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "DATASETS",
    "FourLayerCNN",
    "ReluVsTanhResult",
    "RunResult",
    "initial_layer_stats",
    "load_images",
    "paper_init_cnn",
    "plot_curves",
    "run_relu_vs_tanh",
    "train_until",
]

#: ``dataset`` 인자로 쓸 수 있는 이름 → 로더(:mod:`alexnetbook.data`).
DATASETS = {"cifar10": load_cifar10, "fashion-mnist": load_fashion_mnist}

# 표와 그림에 쓰는 이름.
_DISPLAY_NAMES = {"relu": "ReLU", "tanh": "tanh", "sigmoid": "시그모이드"}

# 학습 오류율을 잴 때의 배치 크기. 결과에는 영향이 없고 속도만 바뀝니다.
_EVAL_BATCH = 250

# 실험에는 PyTorch 내장 활성화 함수를 씁니다(빠름). alexnetbook.activations 의 구현과 float64 에서
# 같은 값을 낸다는 것은 tests/test_activations.py 가 확인합니다.
_ACTIVATION_MODULES: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def _check_activation(activation: Any, name: str = "activation") -> None:
    """``activation`` 이 :data:`_ACTIVATION_MODULES` 의 이름인지 확인합니다."""
    if not isinstance(activation, str) or activation not in _ACTIVATION_MODULES:
        raise ValueError(f"{name}은 {sorted(_ACTIVATION_MODULES)} 중 하나여야 합니다. 받은 값: {activation!r}")


def _check_int(value: Any, name: str, minimum: int) -> None:
    """``value`` 가 ``minimum`` 이상의 정수(bool 제외)인지 확인합니다."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}은 정수여야 합니다. 받은 타입: {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}은 {minimum} 이상이어야 합니다. 받은 값: {value}")


def _check_architecture(
    *,
    num_classes: Any,
    channels: Any,
    kernel_size: Any,
    in_channels: Any = None,
    image_size: Any = None,
) -> None:
    """:class:`FourLayerCNN` 의 모양 인자를 확인합니다. ``None`` 으로 둔 인자는 건너뜁니다."""
    _check_int(num_classes, "num_classes", 2)
    _check_int(kernel_size, "kernel_size", 1)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size는 양의 홀수여야 합니다(같은 크기 패딩). 받은 값: {kernel_size}")
    channels = tuple(channels)
    if len(channels) != 3:
        raise ValueError(f"channels는 양의 정수 세 개여야 합니다. 받은 값: {channels}")
    for i, c in enumerate(channels):
        _check_int(c, f"channels[{i}]", 1)
    if in_channels is not None:
        _check_int(in_channels, "in_channels", 1)
    if image_size is not None:
        _check_int(image_size, "image_size", 1)
        if image_size < 8:
            raise ValueError(f"image_size는 2×2 풀링을 세 번 하려면 8 이상이어야 합니다. 받은 값: {image_size}")


def _check_data(images: Any, labels: Any, num_classes: int) -> None:
    """학습 데이터의 모양과 레이블 범위를 확인합니다(레이블에서 클래스 수를 짐작하지 않습니다)."""
    _check_int(num_classes, "num_classes", 2)
    if not isinstance(images, Tensor) or not torch.is_floating_point(images):
        raise TypeError(f"images는 실수 torch.Tensor 여야 합니다. 받은 값: {type(images).__name__}")
    if images.dim() != 4 or images.shape[-1] != images.shape[-2]:
        raise ValueError(f"images는 정사각형 (N, C, H, H) 이미지여야 합니다. 받은 모양: {tuple(images.shape)}")
    if not isinstance(labels, Tensor) or labels.dtype != torch.int64:
        raise TypeError(f"labels는 int64 torch.Tensor 여야 합니다. 받은 값: {getattr(labels, 'dtype', type(labels).__name__)}")
    if labels.shape != (len(images),):
        raise ValueError(f"labels는 ({len(images)},) 모양이어야 합니다(images 와 같은 개수). 받은 모양: {tuple(labels.shape)}")
    if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(
            f"labels는 0 이상 num_classes={num_classes} 미만이어야 합니다. "
            f"받은 범위: {int(labels.min())}..{int(labels.max())}"
        )


class FourLayerCNN(nn.Module):
    """학습되는 층이 넷(합성곱 3 + 완전 연결 1)인 작은 CNN. 활성화 함수만 바꿔 끼웁니다.

    구조: ``[conv(k×k, 같은 크기 패딩) → 활성화 → 2×2 최대 풀링] × 3 → 완전 연결(클래스 수)``.
    논문은 그림 1의 네 층 CNN 의 세부 구조를 밝히지 않았으므로, 층 수만 맞춘 작은 신경망입니다.

    Args:
        activation: ``"relu"``, ``"tanh"``, ``"sigmoid"`` 중 하나.
        in_channels: 입력 채널 수(CIFAR-10 은 3, Fashion-MNIST 는 1).
        num_classes: 클래스 수.
        image_size: 입력 높이(= 너비).
        channels: 세 합성곱 층의 출력 채널 수.
        kernel_size: 합성곱 커널 크기(홀수).

    Shape:
        입력 ``(N, in_channels, image_size, image_size)``, 출력 ``(N, num_classes)``.

    Raises:
        TypeError: ``in_channels``, ``num_classes``, ``image_size``, ``kernel_size`` 나 ``channels`` 의 원소가
            정수가 아닐 때.
        ValueError: ``activation`` 이 알 수 없는 이름이거나, ``in_channels`` 가 1 미만, ``num_classes`` 가
            2 미만이거나, ``channels`` 가 양의 정수 셋이 아니거나, ``kernel_size`` 가 양의 홀수가 아니거나,
            ``image_size`` 가 세 번 풀링하기에 너무 작을 때(8 미만).
    """

    def __init__(
        self,
        activation: str = "relu",
        in_channels: int = 3,
        num_classes: int = 10,
        image_size: int = 32,
        channels: Sequence[int] = (16, 16, 32),
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        _check_activation(activation)
        _check_architecture(
            num_classes=num_classes, channels=channels, kernel_size=kernel_size,
            in_channels=in_channels, image_size=image_size,
        )
        self.activation = activation
        act = _ACTIVATION_MODULES[activation]
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        size, c_in = image_size, in_channels
        for i, c_out in enumerate(channels, start=1):
            layers[f"conv{i}"] = nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2)
            layers[f"act{i}"] = act()
            layers[f"pool{i}"] = nn.MaxPool2d(2)
            size = pooling_output_size(size, 2)
            c_in = c_out
        self.features = nn.Sequential(layers)
        self.flat_features = c_in * size * size
        self.fc4 = nn.Linear(self.flat_features, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = torch.flatten(x, 1)  # (N, C, S, S) -> (N, C*S*S)
        return self.fc4(x)


def paper_init_cnn(activation: str, *, seed: int = 0, **model_kwargs: Any) -> FourLayerCNN:
    """시드를 고정하고 :class:`FourLayerCNN` 을 만들어 논문 §5 방식으로 초기화합니다.

    모든 가중치 ~ N(0, 0.01²)(0.01 은 표준편차), 편향은 모두 0 입니다(:func:`alexnetbook.models.init_paper_`).
    매개변수의 모양은 활성화 함수와 상관없으므로, 같은 ``seed`` 면 ReLU 신경망과 tanh 신경망의 초기
    가중치가 똑같습니다.

    Args:
        activation: ``"relu"``, ``"tanh"``, ``"sigmoid"``.
        seed: 초기화 시드.
        **model_kwargs: :class:`FourLayerCNN` 의 나머지 인자(``in_channels``, ``image_size``,
            ``num_classes``, ``channels``, ``kernel_size``).

    Returns:
        초기화한 :class:`FourLayerCNN`.
    """
    set_seed(seed)
    model = FourLayerCNN(activation, **model_kwargs)
    init_paper_(model, std=0.01, bias_one_layers=())
    return model


def initial_layer_stats(
    images: Tensor,
    labels: Tensor,
    *,
    activations: Sequence[str] = ("relu", "tanh"),
    num_classes: int = 10,
    seed: int = 0,
    channels: Sequence[int] = (16, 16, 32),
    kernel_size: int = 3,
    saturation: float = 0.99,
) -> dict[str, list[dict[str, float]]]:
    """학습 전(초기화 직후) 각 합성곱 층의 활성화 함수 입출력, 도함수, 가중치 기울기의 크기를 잽니다.

    :func:`train_until` 과 같은 시드, 같은 초기화를 쓰므로 학습을 시작하는 바로 그 신경망입니다.
    도함수는 :mod:`alexnetbook.activations` 의 구현으로 autograd 를 써서 구합니다. 가중치 기울기는
    ``images`` 전체를 한 배치로 넣은 교차 엔트로피 손실(배치 평균)을 역전파해서 구합니다. 학습의 첫
    걸음에서 각 층의 가중치가 얼마나 움직일지를 보여 줍니다(모멘텀 SGD 의 첫 걸음 = 학습률 × 기울기).

    Args:
        images: ``(N, C, H, H)`` 전처리된 이미지(몇백 장이면 충분합니다).
        labels: ``(N,)`` 정수 레이블(0 이상 ``num_classes`` 미만).
        activations: 잴 활성화 함수 이름들.
        num_classes: 클래스 수.
        seed: 초기화 시드.
        channels: 합성곱 채널 수.
        kernel_size: 커널 크기.
        saturation: ``|f(x)|`` 가 이 값을 넘으면 포화했다고 셉니다(ReLU 는 포화하지 않으므로 0).

    Returns:
        활성화 함수 이름 → 층마다 ``{"input_std", "output_std", "mean_grad", "saturated", "weight_grad_norm"}``
        사전의 목록(conv1, conv2, conv3 순서). ``input_std`` 는 활성화 함수에 들어가는 값(합성곱 출력)의
        표준편차, ``output_std`` 는 활성화 함수 출력의 표준편차, ``mean_grad`` 는 도함수 f′ 의 평균,
        ``saturated`` 는 포화한 유닛의 비율, ``weight_grad_norm`` 은 그 합성곱 층 가중치에 대한 손실
        기울기의 L2 노름입니다.

    Raises:
        TypeError: ``images`` 나 ``labels`` 의 종류가 잘못되었을 때.
        ValueError: ``images`` 가 정사각형 4차원 텐서가 아니거나, ``labels`` 의 모양이나 범위가 맞지 않거나,
            ``activations`` 에 알 수 없는 이름이 있을 때.
    """
    _check_data(images, labels, num_classes)
    for i, name in enumerate(activations):
        _check_activation(name, f"activations[{i}]")
    stats: dict[str, list[dict[str, float]]] = {}
    for name in activations:
        model = paper_init_cnn(
            name, in_channels=images.shape[1], image_size=images.shape[-1], num_classes=num_classes,
            seed=seed, channels=channels, kernel_size=kernel_size,
        )
        scratch = ACTIVATIONS[name]()
        rows = []
        x = images
        with torch.enable_grad():
            for layer_name, layer in model.features.named_children():
                if layer_name.startswith("act"):
                    pre = x.detach()
                    with torch.no_grad():
                        y = scratch(pre)
                    grad = get_grads(scratch, pre)
                    saturated = (y.abs() > saturation).float().mean().item() if name != "relu" else 0.0
                    rows.append({
                        "input_std": pre.std().item(), "output_std": y.std().item(),
                        "mean_grad": grad.mean().item(), "saturated": saturated,
                    })
                x = layer(x)
            logits = model.fc4(torch.flatten(x, 1))  # (N, C, S, S) -> (N, C*S*S) -> (N, num_classes)
            nn.functional.cross_entropy(logits, labels).backward()
        convs = [m for n, m in model.features.named_children() if n.startswith("conv")]
        for row, conv in zip(rows, convs):
            row["weight_grad_norm"] = conv.weight.grad.norm().item()
        stats[name] = rows
    return stats


@dataclass
class RunResult:
    """한 (활성화 함수, 학습률) 조합의 학습 기록.

    Attributes:
        activation: ``"relu"`` 등.
        lr: 학습률.
        train_errors: 에폭마다 잰 학습 세트 오류율(0–1). 길이가 실제로 학습한 에폭 수입니다.
        epochs_to_target: 학습 오류율이 처음으로 목표 이하가 된 에폭. 닿지 못했으면 ``None``.
        status: ``"reached"`` (목표 도달), ``"max_epochs"`` (상한까지 못 닿음),
            ``"pruned"`` (이미 찾은 최선보다 빠를 수 없어 중단), ``"diverged"`` (손실이 발산).
        epoch_cap: 이 실행에 허용한 최대 에폭 수.
    """

    activation: str
    lr: float
    train_errors: list[float]
    epochs_to_target: int | None
    status: str
    epoch_cap: int

    def epochs_to(self, error: float) -> int | None:
        """학습 오류율이 처음으로 ``error`` 이하가 된 에폭(1부터). 기록 안에서 닿지 못했으면 ``None``.

        목표보다 느슨한 기준(예: 목표 + 5%p)에 언제 닿았는지 보면, 곡선이 목표 근처에서 얼마나
        평평했는지(에폭 수가 목표의 작은 변화에 얼마나 민감한지) 알 수 있습니다.
        """
        return next((i for i, e in enumerate(self.train_errors, start=1) if e <= error), None)

    def epochs_text(self) -> str:
        """표에 쓸 에폭 수: 닿았으면 숫자, 아니면 ``"> 상한"`` 또는 ``"발산"``."""
        if self.epochs_to_target is not None:
            return str(self.epochs_to_target)
        if self.status == "diverged":
            return "발산"
        return f"> {self.epoch_cap}"


def load_images(
    dataset: str = "cifar10",
    per_class: int | None = 500,
    *,
    root: str | os.PathLike[str] | None = None,
    seed: int = 0,
) -> tuple[Tensor, Tensor]:
    """학습 이미지를 읽어 논문 §2의 전처리(0–255 값에서 학습 세트 평균 이미지를 뺌)를 합니다.

    Args:
        dataset: ``"cifar10"`` 또는 ``"fashion-mnist"``.
        per_class: 클래스마다 쓸 이미지 수. ``None`` 이면 로더가 주는 학습 이미지 전부(Colab 에서는
            전체 CIFAR-10 5만 장, 오프라인 사본이 있는 곳에서는 그 사본 1만 장).
        root: 로더에 넘길 데이터 폴더. ``None`` 이면 :func:`alexnetbook.data.data_root`.
        seed: 이미지를 고르는 순서의 시드.

    Returns:
        ``images``: ``(N, C, H, W)`` float32 텐서(평균을 뺀 0–255 척도), ``labels``: ``(N,)`` int64.

    Raises:
        ValueError: ``dataset`` 이 알 수 없는 이름일 때.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset은 {sorted(DATASETS)} 중 하나여야 합니다. 받은 값: {dataset!r}")
    loader = DATASETS[dataset]
    raw, labels = dataset_to_tensors(loader("train", root=root), per_class=per_class, seed=seed)
    images, _mean = subtract_mean(raw)
    return images, labels


def train_until(
    activation: str,
    images: Tensor,
    labels: Tensor,
    *,
    lr: float,
    target: float,
    max_epochs: int,
    num_classes: int = 10,
    seed: int = 0,
    batch_size: int = 128,
    momentum: float = 0.9,
    device: str | torch.device = "cpu",
    channels: Sequence[int] = (16, 16, 32),
    kernel_size: int = 3,
    eval_size: int | None = 1000,
) -> RunResult:
    """:class:`FourLayerCNN` 하나를 논문 방식으로 초기화해, 학습 오류율이 ``target`` 이하가 될 때까지 학습합니다.

    초기화는 모든 가중치 ~ N(0, 0.01²), 편향 0 입니다(:func:`alexnetbook.models.init_paper_`). 같은 ``seed``
    라면 ReLU 신경망과 tanh 신경망은 **같은 초기 가중치**와 **같은 미니배치 순서**로 시작합니다.
    정규화(가중치 감쇠, 드롭아웃)는 쓰지 않습니다. 에폭이 끝날 때마다 학습 이미지 앞쪽 ``eval_size`` 장의
    오류율을 잽니다(:func:`load_images` 의 이미지는 클래스가 번갈아 나오므로 앞쪽도 클래스가 고릅니다).

    Args:
        activation: ``"relu"``, ``"tanh"``, ``"sigmoid"``.
        images: ``(N, C, H, W)`` 전처리된 학습 이미지(정사각형).
        labels: ``(N,)`` 정수 레이블.
        lr: 학습률.
        target: 목표 학습 오류율(0–1).
        max_epochs: 최대 에폭 수. 0 이면 학습하지 않고 ``"pruned"`` 로 돌려줍니다.
        num_classes: 클래스 수(출력 층의 크기). 레이블에서 짐작하지 않고, 레이블이 모두
            ``0 .. num_classes - 1`` 안에 있는지 확인합니다.
        seed: 초기화와 미니배치 순서의 시드.
        batch_size: 미니배치 크기.
        momentum: 모멘텀.
        device: 학습할 장치(``"cuda"`` 등). 결과가 비트 단위로 재현되는 것은 CPU 에서입니다.
        channels: :class:`FourLayerCNN` 의 합성곱 채널 수.
        kernel_size: :class:`FourLayerCNN` 의 커널 크기.
        eval_size: 학습 오류율을 잴 학습 이미지 수(앞에서부터). ``None`` 이면 전부. 학습 자체에는 영향이
            없고, 평가 계산을 줄이기 위한 것입니다.

    Returns:
        :class:`RunResult`.

    Raises:
        ValueError: 인자가 잘못되었을 때.
    """
    _check_activation(activation)
    _check_data(images, labels, num_classes)
    if eval_size is not None:
        _check_int(eval_size, "eval_size", 1)
    if not 0 < target < 1:
        raise ValueError(f"target은 0과 1 사이여야 합니다. 받은 값: {target}")
    if not lr > 0:
        raise ValueError(f"lr은 양수여야 합니다. 받은 값: {lr}")
    _check_int(max_epochs, "max_epochs", 0)
    if max_epochs == 0:
        return RunResult(activation, lr, [], None, "pruned", 0)
    model = paper_init_cnn(
        activation, in_channels=images.shape[1], image_size=images.shape[-1], num_classes=num_classes,
        seed=seed, channels=channels, kernel_size=kernel_size,
    )
    device = torch.device(device)
    model.to(device)
    x, y = images.to(device), labels.to(device)
    x_eval, y_eval = (x, y) if eval_size is None else (x[:eval_size], y[:eval_size])
    errors: list[float] = []

    def reached_target(_record: EpochRecord) -> bool:
        # fit_epochs 의 eval_sets 대신 여기서 재는 것은 평가 배치를 작게(_EVAL_BATCH) 잡기 위해서입니다.
        # CPU 에서는 이쪽이 캐시에 잘 맞아 두 배쯤 빠릅니다.
        errors.append(error_rate(model, x_eval, y_eval, batch_size=_EVAL_BATCH))
        return errors[-1] <= target

    try:
        fit_epochs(
            model, x, y, epochs=max_epochs, lr=lr, momentum=momentum, batch_size=batch_size, seed=seed,
            stop=reached_target,
        )
    except RuntimeError as err:
        if "손실" not in str(err):  # fit_epochs 가 발산을 알리는 오류만 잡습니다
            raise
        return RunResult(activation, lr, [], None, "diverged", max_epochs)
    result = RunResult(activation, lr, errors, None, "max_epochs", max_epochs)
    result.epochs_to_target = result.epochs_to(target)
    if result.epochs_to_target is not None:
        result.status = "reached"
    return result


@dataclass
class ReluVsTanhResult:
    """:func:`run_relu_vs_tanh` 의 결과.

    Attributes:
        runs: 실행한 모든 (활성화 함수, 학습률) 조합의 기록.
        shared_lr: 방식 (a)의 공통 학습률.
        target: 목표 학습 오류율.
        max_epochs: 에폭 상한.
        dataset: 데이터셋 이름.
        num_images: 학습 이미지 수.
        activations: 비교한 두 활성화 함수.
        grid: 탐색한 학습률 격자(돌리지 않은 학습률 포함).
        eval_size: 학습 오류율을 잰 학습 이미지 수(``None`` 이면 전부).
    """

    runs: list[RunResult]
    shared_lr: float
    target: float
    max_epochs: int
    dataset: str
    num_images: int
    activations: tuple[str, ...] = field(default=("relu", "tanh"))
    grid: tuple[float, ...] = field(default=())
    eval_size: int | None = None

    def run(self, activation: str, lr: float) -> RunResult:
        """주어진 조합의 기록. 없으면 ``KeyError``."""
        for r in self.runs:
            if r.activation == activation and math.isclose(r.lr, lr):
                return r
        raise KeyError(f"({activation!r}, lr={lr}) 실행 기록이 없습니다.")

    def best(self, activation: str) -> RunResult:
        """목표에 가장 적은 에폭으로 닿은 실행(같으면 먼저 실행한 것). 아무도 못 닿았으면 공통 학습률 실행."""
        reached = [r for r in self.runs if r.activation == activation and r.epochs_to_target is not None]
        if not reached:
            return self.run(activation, self.shared_lr)
        return min(reached, key=lambda r: r.epochs_to_target)  # type: ignore[arg-type, return-value]

    def protocols(self) -> dict[str, tuple[RunResult, RunResult]]:
        """방식 이름 → (ReLU 실행, tanh 실행)."""
        relu, tanh = self.activations
        return {
            "(a) 같은 학습률": (self.run(relu, self.shared_lr), self.run(tanh, self.shared_lr)),
            "(b) 각자 최선의 학습률": (self.best(relu), self.best(tanh)),
        }

    @staticmethod
    def ratio_text(fast: RunResult, slow: RunResult) -> str:
        """에폭 수의 비(느린 쪽 / 빠른 쪽). 한쪽이 못 닿았으면 부등호로 씁니다."""
        a, b = fast.epochs_to_target, slow.epochs_to_target
        if a is None and b is None:
            return "알 수 없음"
        if a is None:
            return f"< {b / fast.epoch_cap:.1f}"  # type: ignore[operator]
        if b is None:
            return f"> {slow.epoch_cap / a:.1f}"
        return f"{b / a:.1f}"

    def table(self) -> str:
        """방식별 학습률, 목표까지의 에폭 수, 그 비를 고정 폭 표로 만듭니다."""
        a, b = (_DISPLAY_NAMES.get(n, n) for n in self.activations)
        widths = (22, 10, 11, 10, 11, 16)
        header = ("방식", f"{a} lr", f"{a} 에폭", f"{b} lr", f"{b} 에폭", f"비({b}÷{a})")
        lines = [_row(header, widths)]
        for name, (r, t) in self.protocols().items():
            cells = (name, f"{r.lr:g}", r.epochs_text(), f"{t.lr:g}", t.epochs_text(), self.ratio_text(r, t))
            lines.append(_row(cells, widths))
        return "\n".join(lines)

    def threshold_table(self, offsets: Sequence[float] = (0.1, 0.05, 0.0)) -> str:
        """방식 (a)(공통 학습률)에서 목표보다 느슨한 기준(목표 + offset)에 처음 닿은 에폭과 그 비의 표.

        곡선이 목표 근처에서 평평하면, 목표를 몇 %p 만 바꿔도 에폭 수의 비가 크게 달라집니다. 이 표는
        (a)의 비가 목표의 선택에 얼마나 민감한지 보여 줍니다. 실행은 목표에 닿으면 멈추므로 목표보다
        엄격한 기준은 잴 수 없습니다.

        Args:
            offsets: 목표에 더할 0 이상의 값(0.05 = 5%p). 목표 + offset 은 1 미만이어야 합니다.

        Returns:
            기준마다 두 신경망의 에폭 수와 비를 담은 고정 폭 표.

        Raises:
            ValueError: offset 이 음수이거나 목표 + offset 이 1 이상일 때.
        """
        a, b = (_DISPLAY_NAMES.get(n, n) for n in self.activations)
        widths = (16, 10, 11, 16)
        lines = [_row(("기준", f"{a} 에폭", f"{b} 에폭", f"비({b}÷{a})"), widths)]
        pair = self.protocols()["(a) 같은 학습률"]
        for offset in offsets:
            level = round(self.target + offset, 6)
            if offset < 0 or level >= 1:
                raise ValueError(f"offsets는 0 이상이고 target + offset < 1 이어야 합니다. 받은 값: {offset}")
            fast, slow = (replace(run, epochs_to_target=run.epochs_to(level)) for run in pair)
            cells = (f"오류율 ≤ {level:.0%}", fast.epochs_text(), slow.epochs_text(), self.ratio_text(fast, slow))
            lines.append(_row(cells, widths))
        return "\n".join(lines)

    def grid_table(self) -> str:
        """격자의 모든 조합: 학습률마다 목표까지의 에폭 수. 중단은 ``> n``, 돌리지 않은 조합은 ``-``."""
        lrs = sorted({*self.grid, *(r.lr for r in self.runs)})
        widths = (10, *(12 for _ in self.activations))
        lines = [_row(("학습률", *(_DISPLAY_NAMES.get(n, n) for n in self.activations)), widths)]
        for lr in lrs:
            cells = []
            for activation in self.activations:
                try:
                    cells.append(self.run(activation, lr).epochs_text())
                except KeyError:
                    cells.append("-")
            lines.append(_row((f"{lr:g}", *cells), widths))
        return "\n".join(lines)


def _display_width(text: str) -> int:
    """터미널에서 차지하는 칸 수(한글 같은 전각 문자는 두 칸)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    """첫 칸은 왼쪽, 나머지는 오른쪽에 맞춘 표의 한 줄. 한글의 폭을 두 칸으로 셉니다."""
    first, *rest = cells
    out = first + " " * max(widths[0] - _display_width(first), 1)
    for cell, width in zip(rest, widths[1:]):
        out += " " * max(width - _display_width(cell), 1) + cell
    return out.rstrip()


def run_relu_vs_tanh(
    *,
    dataset: str = "cifar10",
    per_class: int | None = 500,
    root: str | os.PathLike[str] | None = None,
    shared_lr: float = 0.003,
    lrs: Sequence[float] = (0.001, 0.003, 0.01, 0.03, 0.1),
    target: float = 0.5,
    max_epochs: int = 40,
    num_classes: int = 10,
    seed: int = 0,
    batch_size: int = 128,
    momentum: float = 0.9,
    device: str | torch.device = "cpu",
    channels: Sequence[int] = (16, 16, 32),
    kernel_size: int = 3,
    activations: tuple[str, str] = ("relu", "tanh"),
    eval_size: int | None = 1000,
    images: Tensor | None = None,
    labels: Tensor | None = None,
    verbose: bool = False,
) -> ReluVsTanhResult:
    """그림 1의 실험을 두 방식으로 합니다. (a) 공통 학습률 ``shared_lr``, (b) ``lrs`` 격자에서 각자 최선.

    활성화 함수마다 학습률 격자를 다음과 같이 탐색합니다.

    1. ``shared_lr`` 를 ``max_epochs`` 까지 돌립니다(방식 (a)의 결과이자 탐색의 출발점).
    2. 격자에서 한 칸씩 **큰 쪽으로** 걸어갑니다. 매 실행은 지금까지의 최선보다 적은 에폭까지만
       허용하고(그보다 오래 걸리면 어차피 최선이 아니므로 중단), 최선을 갱신하지 못하면 그 방향을 멈춥니다.
    3. 큰 쪽에서 한 번도 나아지지 않았으면 같은 방법으로 **작은 쪽으로** 걸어갑니다.

    목표까지의 에폭 수가 학습률에 대해 골짜기 하나 모양(단봉)이라고 가정하는 선 탐색입니다. 그 가정
    아래에서는 격자 전체를 끝까지 돌린 것과 같은 학습률을 고르고(동률이면 먼저 돈 쪽), 계산은 훨씬
    적게 듭니다. 돌리지 않은 학습률은 :meth:`ReluVsTanhResult.grid_table` 에 ``-`` 로 나옵니다.

    Args:
        dataset: ``"cifar10"`` (기본) 또는 ``"fashion-mnist"``.
        per_class: 클래스마다 쓸 학습 이미지 수. ``None`` 이면 전부(Colab 에서 전체 CIFAR-10).
        root: 데이터 폴더(:func:`load_images`).
        shared_lr: 방식 (a)의 공통 학습률. ``lrs`` 에 없으면 격자에 더합니다.
        lrs: 방식 (b)의 학습률 격자.
        target: 목표 학습 오류율(논문은 0.25).
        max_epochs: 실행마다의 에폭 상한.
        num_classes: 클래스 수(CIFAR-10 과 Fashion-MNIST 는 10). 레이블이 그 범위 안에 있는지 확인합니다.
        seed: 데이터 선택, 초기화, 미니배치 순서의 시드.
        batch_size: 미니배치 크기(논문 §5는 128).
        momentum: 모멘텀(논문 §5는 0.9).
        device: 학습 장치.
        channels: 합성곱 채널 수.
        kernel_size: 합성곱 커널 크기.
        activations: 비교할 두 활성화 함수 이름(빠를 것으로 보는 쪽을 먼저). 학습을 시작하기 전에 확인합니다.
        eval_size: 학습 오류율을 잴 학습 이미지 수(:func:`train_until`).
        images: 이미 전처리한 ``(N, C, H, W)`` 이미지. 주면 ``dataset`` 을 읽지 않습니다.
        labels: ``images`` 의 ``(N,)`` 레이블.
        verbose: 실행마다 한 줄씩 출력할지 여부.

    Returns:
        :class:`ReluVsTanhResult`.

    Raises:
        ValueError: 인자가 잘못되었을 때.
    """
    # 인자는 데이터를 읽거나 학습을 시작하기 전에 모두 확인합니다.
    if not shared_lr > 0 or not all(lr > 0 for lr in lrs):
        raise ValueError(f"학습률은 모두 양수여야 합니다. shared_lr={shared_lr}, lrs={tuple(lrs)}")
    _check_int(max_epochs, "max_epochs", 1)
    if len(activations) != 2:
        raise ValueError(f"activations는 이름 두 개여야 합니다. 받은 값: {tuple(activations)}")
    for i, name in enumerate(activations):
        _check_activation(name, f"activations[{i}]")
    if not 0 < target < 1:
        raise ValueError(f"target은 0과 1 사이여야 합니다. 받은 값: {target}")
    if eval_size is not None:
        _check_int(eval_size, "eval_size", 1)
    _check_architecture(num_classes=num_classes, channels=channels, kernel_size=kernel_size)
    if (images is None) != (labels is None):
        raise ValueError("images와 labels는 함께 주거나 함께 생략해야 합니다.")
    if images is None or labels is None:
        images, labels = load_images(dataset, per_class, root=root, seed=seed)
    _check_data(images, labels, num_classes)
    kwargs = dict(
        target=target, num_classes=num_classes, seed=seed, batch_size=batch_size, momentum=momentum, device=device,
        channels=channels, kernel_size=kernel_size, eval_size=eval_size,
    )
    grid = sorted({float(lr) for lr in lrs if not math.isclose(lr, shared_lr)})
    larger = [lr for lr in grid if lr > shared_lr]  # 작은 것부터
    smaller = [lr for lr in reversed(grid) if lr < shared_lr]  # 큰 것부터
    runs: list[RunResult] = []
    for activation in activations:
        first = train_until(activation, images, labels, lr=shared_lr, max_epochs=max_epochs, **kwargs)
        runs.append(first)
        best = first.epochs_to_target
        if verbose:
            print(f"{activation:>8} lr={shared_lr:<8g} {first.epochs_text():>6} 에폭", flush=True)
        for direction in (larger, smaller):
            improved = False
            for lr in direction:
                cap = max_epochs if best is None else best - 1
                result = train_until(activation, images, labels, lr=lr, max_epochs=cap, **kwargs)
                if result.status == "max_epochs" and cap < max_epochs:
                    result.status = "pruned"
                runs.append(result)
                if verbose:
                    print(f"{activation:>8} lr={lr:<8g} {result.epochs_text():>6} 에폭", flush=True)
                if result.epochs_to_target is None:
                    break  # 최선보다 빠르지 않았으므로 이 방향은 여기까지
                best, improved = result.epochs_to_target, True
            if improved:
                break  # 큰 쪽에서 나아졌으면 작은 쪽은 볼 필요가 없습니다(단봉 가정)
    return ReluVsTanhResult(
        runs=runs, shared_lr=shared_lr, target=target, max_epochs=max_epochs,
        dataset=dataset, num_images=len(images), activations=tuple(activations), grid=tuple([shared_lr, *grid]),
        eval_size=None if eval_size is None else min(eval_size, len(images)),
    )


def plot_curves(result: ReluVsTanhResult, axes: Sequence[Axes]) -> Sequence[Axes]:
    """두 방식의 학습 오류율 곡선을 그립니다. 논문의 그림 1처럼 ReLU 는 실선, tanh 는 점선입니다.

    Args:
        result: :func:`run_relu_vs_tanh` 의 결과.
        axes: 축 두 개(방식 (a), (b) 순서).

    Returns:
        같은 ``axes``.

    Raises:
        ValueError: 축이 두 개가 아닐 때.
    """
    from matplotlib.ticker import MaxNLocator

    if len(axes) != 2:
        raise ValueError(f"axes는 축 두 개여야 합니다. 받은 개수: {len(axes)}")
    styles = {result.activations[0]: ("-", "#2a5d8f"), result.activations[1]: ("--", "#d1495b")}
    for i, (ax, (name, pair)) in enumerate(zip(axes, result.protocols().items())):
        for run in pair:
            style, color = styles[run.activation]
            epochs = range(1, len(run.train_errors) + 1)
            label = f"{_DISPLAY_NAMES.get(run.activation, run.activation)} (lr {run.lr:g}): {run.epochs_text()} 에폭"
            ax.plot(epochs, [100 * e for e in run.train_errors], style, color=color, linewidth=2, marker=".", label=label)
        ax.axhline(100 * result.target, color="0.4", linewidth=1, linestyle=":", label=f"목표 {result.target:.0%}")
        ax.set_title(name)
        ax.set_xlabel("에폭")
        if i == 0:
            ax.set_ylabel("학습 세트 오류율 (%)")
        ax.set_xlim(left=0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # 에폭은 정수
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right")  # 곡선은 왼쪽 위에서 시작해 내려가므로 오른쪽 위가 비어 있습니다
    return axes
