"""AlexNet 의 PyTorch 구현: 한 타워(single-tower) 버전, 논문의 두 GPU(묶음, grouped) 버전, 32×32용 축소판.

* :class:`AlexNetConfig`: 구조를 정하는 인자를 모은 설정 하나. PyTorch 모델(:class:`AlexNet`), 두 타워 모델
  (:class:`alexnetbook.parallel.TwoTowerAlexNet`), Flax 모델(:mod:`alexnetbook.flax_alexnet`)이 모두 이 설정으로
  같은 구조를 만듭니다. 만든 모델의 설정은 ``model.config`` 에 있습니다.
* ``AlexNet(groups=1)``: 원본 페이지와 같은 96/256/384/384/256 채널, 224 입력, conv1 패딩 2.
  매개변수 62,378,344개.
* ``AlexNet(groups=2)``: 논문 §3.2, §3.5 의 두 GPU 구조. conv2, conv4, conv5 는 같은 GPU(같은 묶음)의
  채널만 보고, conv3 과 FC 층은 두 묶음을 모두 봅니다. LRN 도 묶음 안에서만 이웃을 셉니다.
  매개변수 60,965,224개.
* ``AlexNet.for_cifar()``: 32×32 이미지를 CPU 에서 학습하기 위한 **축소판**. 구조(합성곱 5개,
  LRN, 겹치는 풀링, 드롭아웃이 있는 FC 3개)는 같지만 AlexNet 자체는 아닙니다.

모델은 ``torch.fx`` 로 추적할 수 있습니다(입력 검사는 추적 그래프에 함수 호출 한 번으로 남습니다). 그래서
``torchvision.models.feature_extraction.create_feature_extractor(model, {"classifier.relu7": "fc7"})`` 로
ReLU 를 지난 fc7 특징(논문 그림 4 의 4096차원 활성값)을 꺼낼 수 있습니다. ``"classifier.fc7"`` 을 달라고 하면
ReLU 앞의 값입니다.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.fx
from torch import Tensor, nn

from .checks import check_choice, check_float, check_int, check_tensor
from .dropout import DROPOUT_MODES, Dropout
from .lrn import CONVENTIONS, LocalResponseNorm
from .shapes import pooling_output_size

__all__ = [
    "AlexNet",
    "AlexNetConfig",
    "PAPER_BIAS_ONE_LAYERS",
    "check_image_batch",
    "init_paper_",
    "layer_output_shapes",
    "layer_outputs",
]

#: 논문 §5에서 편향을 1로 초기화하는 층. 나머지 편향은 0입니다.
PAPER_BIAS_ONE_LAYERS = ("conv2", "conv4", "conv5", "fc6", "fc7")


@dataclass(frozen=True)
class AlexNetConfig:
    """AlexNet 의 구조를 정하는 설정. 기본값이 논문(과 원본 페이지)의 224 입력 AlexNet 입니다.

    Attributes:
        num_classes: 출력 클래스 수.
        dropout: FC6, FC7 뒤 드롭아웃 확률(유닛을 끌 확률 ``p``, 논문 0.5).
        groups: 1(한 타워) 또는 2(논문의 두 GPU 구조). conv2, conv4, conv5 와 두 LRN 에 적용됩니다.
        lrn: ``False`` 이면 LRN 층을 넣지 않습니다.
        channels: 다섯 합성곱 층의 출력 채널 수.
        hidden_features: FC6, FC7 의 뉴런 수.
        conv1_kernel_size: conv1 커널 크기.
        conv1_stride: conv1 보폭.
        conv1_padding: conv1 패딩. 224 입력에서 55×55 를 얻으려면 2(227 입력이면 0과 같음). 논문은 패딩을
            밝히지 않았으므로 이 값은 널리 쓰이는 관례입니다.
        conv2_kernel_size: conv2 커널 크기(패딩은 크기를 유지하도록 ``k // 2``).
        pool_output_size: 펼치기 전 ``AdaptiveAvgPool2d`` 의 출력 크기.
        lrn_convention: LRN 의 α 관례. 기본 ``"torch"`` 는 ``α / n`` 으로, 원본 페이지의
            ``nn.LocalResponseNorm(5, 1e-4, 0.75, 2)`` 그리고 cuda-convnet2 의 ImageNet 설정과 같습니다.
        dropout_mode: ``"inverted"`` (기본, ``torch.nn.Dropout``) 또는 ``"paper"`` (논문 §4.2: 테스트 때
            ``1 − p`` 배, :class:`alexnetbook.dropout.Dropout`). 드롭아웃에는 매개변수가 없으므로 두 방식의
            ``state_dict`` 는 똑같습니다.

    Raises:
        TypeError: 정수·실수 자리에 다른 타입이 올 때.
        ValueError: 값이 범위를 벗어나거나, 채널이 ``groups`` 로 나누어떨어지지 않을 때.
    """

    num_classes: int = 1000
    dropout: float = 0.5
    groups: int = 1
    lrn: bool = True
    channels: tuple[int, int, int, int, int] = (96, 256, 384, 384, 256)
    hidden_features: int = 4096
    conv1_kernel_size: int = 11
    conv1_stride: int = 4
    conv1_padding: int = 2
    conv2_kernel_size: int = 5
    pool_output_size: int = 6
    lrn_convention: str = "torch"
    dropout_mode: str = "inverted"

    def __post_init__(self) -> None:
        channels = tuple(self.channels) if isinstance(self.channels, Sequence) else self.channels
        if not isinstance(channels, tuple) or len(channels) != 5:
            raise ValueError(f"channels는 양의 정수 5개여야 합니다. 받은 값: {self.channels!r}")
        object.__setattr__(self, "channels", tuple(check_int(c, f"channels[{i}]", minimum=1)
                                                   for i, c in enumerate(channels)))
        check_choice(self.groups, "groups", (1, 2))
        if any(c % self.groups for c in self.channels):
            raise ValueError(f"channels={self.channels} 가 groups={self.groups} 로 나누어떨어지지 않습니다.")
        check_float(self.dropout, "dropout", minimum=0.0, maximum=1.0, open_max=True)
        for name in ("num_classes", "hidden_features", "conv1_kernel_size", "conv1_stride", "conv2_kernel_size",
                     "pool_output_size"):
            check_int(getattr(self, name), name, minimum=1)
        check_int(self.conv1_padding, "conv1_padding", minimum=0)
        if self.conv2_kernel_size % 2 == 0:
            raise ValueError(
                f"conv2_kernel_size는 홀수여야 합니다(패딩 k // 2 로 크기를 유지하려면). 받은 값: {self.conv2_kernel_size}"
            )
        if not isinstance(self.lrn, bool):
            raise TypeError(f"lrn은 bool 이어야 합니다. 받은 값: {self.lrn!r}")
        check_choice(self.lrn_convention, "lrn_convention", CONVENTIONS)
        check_choice(self.dropout_mode, "dropout_mode", DROPOUT_MODES)

    @classmethod
    def cifar(cls, **overrides: Any) -> AlexNetConfig:
        """32×32 이미지(CIFAR-10)용 **축소판** 설정(:meth:`AlexNet.for_cifar`).

        합성곱 다섯 개(conv1, conv2 뒤 LRN), 겹치는 최대 풀링(3×3, 보폭 2) 셋, 드롭아웃이 있는 FC 세 개라는
        구조는 그대로 두고, conv1 을 5×5·보폭 1·패딩 2 로 바꾸고 채널(24/48/64/64/48)과 FC 뉴런 수(256)를
        줄였습니다. 32 입력이면 32 → 15 → 7 → 3, 28×28 조각(논문의 256 → 224 를 32 → 28 로 줄인 것)이면
        28 → 13 → 6 → 2 입니다. 기본 ``pool_output_size=3`` 은 32 입력에서 적응형 풀링이 항등 함수가 되는
        크기이고, 28×28 조각으로 학습할 때는 2 로 둡니다.

        Args:
            **overrides: 바꿀 필드(예: ``num_classes``, ``groups``, ``pool_output_size``).
        """
        base = dict(num_classes=10, channels=(24, 48, 64, 64, 48), hidden_features=256, conv1_kernel_size=5,
                    conv1_stride=1, conv1_padding=2, conv2_kernel_size=5, pool_output_size=3)
        unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise TypeError(f"AlexNetConfig 에 없는 필드: {sorted(unknown)}")
        return cls(**{**base, **overrides})

    def spatial_sizes(self, size: int) -> list[int]:
        """입력 한 변 ``size`` 가 conv1, pool1, pool2, pool5 를 지나며 바뀌는 크기.

        Raises:
            ValueError: 입력이 너무 작아 어느 층의 출력이 비게 될 때.
        """
        sizes = [pooling_output_size(size, self.conv1_kernel_size, self.conv1_stride, self.conv1_padding)]  # conv1
        for _pool in ("pool1", "pool2", "pool5"):  # conv2–conv5 는 크기를 유지합니다
            sizes.append(pooling_output_size(sizes[-1], 3, 2))
        return sizes

    @property
    def min_input_size(self) -> int:
        """이 구조가 받을 수 있는 가장 작은 입력 한 변."""
        size = 1
        while True:
            try:
                self.spatial_sizes(size)
                return size
            except ValueError:
                size += 1


@torch.fx.wrap
def check_image_batch(x: Tensor, min_input_size: int) -> Tensor:
    """``(N, 3, H, W)`` 인지, ``H``, ``W`` 가 충분히 큰지 확인합니다(:class:`AlexNet` 과 두 타워 모델이 함께 씀).

    ``torch.fx.wrap`` 으로 감싸 두었기 때문에 FX 추적은 이 함수 안으로 들어가지 않고 호출 한 번으로
    기록합니다. 추적한 그래프를 실행할 때도 검사는 그대로 일어납니다.
    """
    check_tensor(x, "x")
    if x.dim() != 4:
        raise ValueError(f"x는 (N, 3, H, W) 모양이어야 합니다. 받은 모양: {tuple(x.shape)}")
    if x.shape[1] != 3:
        raise ValueError(f"x는 RGB 3채널 (N, 3, H, W) 이어야 합니다. 받은 채널 수: {x.shape[1]}")
    if min(x.shape[2], x.shape[3]) < min_input_size:
        raise ValueError(
            f"x의 높이와 너비는 {min_input_size} 이상이어야 합니다(이 신경망의 최소 입력 크기). "
            f"받은 크기: {x.shape[2]}×{x.shape[3]}"
        )
    return x


class AlexNet(nn.Module):
    """AlexNet (Krizhevsky, Sutskever & Hinton, 2012).

    층 순서는 논문 §3.5를 따릅니다. conv1, conv2 뒤에는 ReLU → LRN → 최대 풀링(3×3, 보폭 2)이,
    conv5 뒤에는 ReLU → 최대 풀링이 옵니다. FC6, FC7 의 ReLU 뒤에 드롭아웃이 있습니다(§4.2).
    합성곱 출력은 ``AdaptiveAvgPool2d`` 로 ``pool_output_size`` 에 맞춘 뒤 ``torch.flatten`` 으로
    펼칩니다. 224 입력에서는 이미 6×6 이므로 항등 함수이고, 다른 크기의 입력도 받게 해 줍니다.

    인자는 :class:`AlexNetConfig` 의 필드와 같습니다(앞의 넷은 위치 인자로도 받음). 이미 만든 설정이
    있으면 :meth:`from_config` 를 씁니다.

    Attributes:
        config: 이 모델을 만든 :class:`AlexNetConfig`.
        min_input_size: 받을 수 있는 가장 작은 입력 한 변.

    Raises:
        TypeError, ValueError: 설정이 잘못되었을 때(:class:`AlexNetConfig`).
    """

    def __init__(
        self,
        num_classes: int = 1000,
        dropout: float = 0.5,
        groups: int = 1,
        lrn: bool = True,
        **config: Any,
    ) -> None:
        super().__init__()
        unknown = set(config) - {f.name for f in dataclasses.fields(AlexNetConfig)}
        if unknown:
            raise TypeError(f"AlexNet 에 없는 인자: {sorted(unknown)}")
        cfg = AlexNetConfig(num_classes=num_classes, dropout=dropout, groups=groups, lrn=lrn, **config)
        self.config = cfg
        self.groups = cfg.groups
        self.min_input_size = cfg.min_input_size
        c1, c2, c3, c4, c5 = cfg.channels
        k2 = cfg.conv2_kernel_size

        def norm() -> nn.Module:
            if not cfg.lrn:
                return nn.Identity()
            return LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0, convention=cfg.lrn_convention, groups=cfg.groups)

        def drop() -> nn.Module:
            # 역드롭아웃은 torch.nn.Dropout 과 alexnetbook.dropout.Dropout(mode="inverted") 이 같은 계산입니다.
            return nn.Dropout(p=cfg.dropout) if cfg.dropout_mode == "inverted" else Dropout(cfg.dropout, mode="paper")

        self.features = nn.Sequential(
            OrderedDict(
                [
                    ("conv1", nn.Conv2d(3, c1, cfg.conv1_kernel_size, stride=cfg.conv1_stride,
                                        padding=cfg.conv1_padding)),
                    ("relu1", nn.ReLU(inplace=True)),
                    ("norm1", norm()),
                    ("pool1", nn.MaxPool2d(kernel_size=3, stride=2)),
                    ("conv2", nn.Conv2d(c1, c2, k2, padding=k2 // 2, groups=cfg.groups)),
                    ("relu2", nn.ReLU(inplace=True)),
                    ("norm2", norm()),
                    ("pool2", nn.MaxPool2d(kernel_size=3, stride=2)),
                    ("conv3", nn.Conv2d(c2, c3, 3, padding=1)),  # 두 묶음(GPU)을 모두 봄
                    ("relu3", nn.ReLU(inplace=True)),
                    ("conv4", nn.Conv2d(c3, c4, 3, padding=1, groups=cfg.groups)),
                    ("relu4", nn.ReLU(inplace=True)),
                    ("conv5", nn.Conv2d(c4, c5, 3, padding=1, groups=cfg.groups)),
                    ("relu5", nn.ReLU(inplace=True)),
                    ("pool5", nn.MaxPool2d(kernel_size=3, stride=2)),
                ]
            )
        )
        s = cfg.pool_output_size
        self.avgpool = nn.AdaptiveAvgPool2d((s, s))
        self.classifier = nn.Sequential(
            OrderedDict(
                [
                    ("fc6", nn.Linear(c5 * s * s, cfg.hidden_features)),
                    ("relu6", nn.ReLU(inplace=True)),
                    ("drop6", drop()),
                    ("fc7", nn.Linear(cfg.hidden_features, cfg.hidden_features)),
                    ("relu7", nn.ReLU(inplace=True)),
                    ("drop7", drop()),
                    ("fc8", nn.Linear(cfg.hidden_features, cfg.num_classes)),
                ]
            )
        )

    @classmethod
    def from_config(cls, config: AlexNetConfig) -> AlexNet:
        """:class:`AlexNetConfig` 로 모델을 만듭니다."""
        if not isinstance(config, AlexNetConfig):
            raise TypeError(f"config는 AlexNetConfig 여야 합니다. 받은 타입: {type(config).__name__}")
        return cls(**dataclasses.asdict(config))

    @classmethod
    def for_cifar(cls, num_classes: int = 10, dropout: float = 0.5, groups: int = 1, lrn: bool = True,
                  **overrides: Any) -> AlexNet:
        """32×32 이미지(CIFAR-10)용 **축소판**(:meth:`AlexNetConfig.cifar`). AlexNet 과 구조는 같지만 AlexNet 은 아닙니다.

        기본 크기(채널 24/48/64/64/48, FC 256; 매개변수는 32 입력용 ``pool_output_size=3`` 에서 약 30만 개, 28×28 조각용
        ``pool_output_size=2`` 에서 약 24만 개)는 책의 학습 장이 CPU 2코어에서
        CIFAR-10 1만 장을 여러 에폭 학습할 수 있도록 작게 고른 것입니다.

        Args:
            num_classes, dropout, groups, lrn: :class:`AlexNetConfig` 와 같습니다.
            **overrides: 바꿀 다른 필드(``channels``, ``hidden_features``, ``pool_output_size``, ``dropout_mode`` 등).
        """
        return cls.from_config(
            AlexNetConfig.cifar(num_classes=num_classes, dropout=dropout, groups=groups, lrn=lrn, **overrides)
        )

    def forward(self, x: Tensor) -> Tensor:
        """``(N, 3, H, W)`` 이미지를 ``(N, num_classes)`` 로짓으로 바꿉니다.

        Raises:
            TypeError: ``x`` 가 ``torch.Tensor`` 가 아닐 때.
            ValueError: ``x`` 가 4차원이 아니거나, 채널이 3이 아니거나, ``H`` 나 ``W`` 가
                ``min_input_size`` 보다 작을 때.
        """
        x = check_image_batch(x, self.min_input_size)
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)  # (N, C, S, S) -> (N, C*S*S); 배치 축은 그대로 둡니다
        return self.classifier(x)


@torch.no_grad()
def init_paper_(model: nn.Module, std: float = 0.01, bias_one_layers: Sequence[str] = PAPER_BIAS_ONE_LAYERS) -> nn.Module:
    """논문 §5의 초기화: 모든 가중치 ~ N(0, 표준편차 0.01), conv2·conv4·conv5·FC 은닉층 편향 1, 나머지 0.

    0.01 은 분산이 아니라 **표준편차** 입니다.

    Args:
        model: ``conv1`` ... ``fc8`` 이름의 층을 가진 모델(:class:`AlexNet` 등).
        std: 가중치 정규분포의 표준편차.
        bias_one_layers: 편향을 1로 둘 층 이름.

    Returns:
        같은 ``model`` (제자리에서 바뀜).

    Raises:
        ValueError: ``std`` 가 음수일 때, 또는 ``bias_one_layers`` 의 이름이 모델에 없을 때.
    """
    check_float(std, "std", minimum=0.0)
    seen = set()
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            short = name.rsplit(".", 1)[-1]
            module.weight.normal_(0.0, std)
            if module.bias is not None:
                module.bias.fill_(1.0 if short in bias_one_layers else 0.0)
            seen.add(short)
    missing = set(bias_one_layers) - seen
    if missing:
        raise ValueError(f"bias_one_layers 중 모델에 없는 층: {sorted(missing)}")
    return model


@torch.no_grad()
def layer_outputs(model: AlexNet, x: Tensor, names: Sequence[str] | None = None) -> dict[str, Tensor]:
    """``x`` 를 평가 모드로 흘려 보내며 이름 있는 층의 출력을 모읍니다.

    ``features`` 와 ``classifier`` 의 층(``conv1`` ... ``fc8``)과 ``avgpool`` 중 ``names`` 에 있는 것의
    출력을 복사해 돌려줍니다(``ReLU(inplace=True)`` 가 바로 앞 층의 출력을 덮어쓰므로 복사합니다).
    모델의 train/eval 상태는 되돌려 놓습니다.

    Args:
        model: :class:`AlexNet` (또는 같은 이름의 ``features``, ``avgpool``, ``classifier`` 를 가진 모델).
        x: 입력 배치.
        names: 모을 층 이름. ``None`` 이면 모든 층.

    Returns:
        층 이름 → 출력 텐서. 층 순서를 지킵니다.

    Raises:
        ValueError: ``names`` 에 없는 층 이름이 있을 때, 또는 모델의 ``forward`` 가 입력을 거부할 때.
    """
    named = [*model.features.named_children(), ("avgpool", model.avgpool), *model.classifier.named_children()]
    wanted = [n for n, _ in named] if names is None else list(names)
    unknown = set(wanted) - {n for n, _ in named}
    if unknown:
        raise ValueError(f"모델에 없는 층 이름: {sorted(unknown)}")
    outputs: dict[str, Tensor] = {}
    hooks = [
        module.register_forward_hook(lambda _m, _i, out, name=name: outputs.__setitem__(name, out.detach().clone()))
        for name, module in named
        if name in wanted
    ]
    was_training = model.training
    model.eval()
    try:
        model(x)
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return {name: outputs[name] for name, _ in named if name in outputs}


def layer_output_shapes(model: AlexNet, input_size: Sequence[int]) -> dict[str, tuple[int, ...]]:
    """0으로 채운 입력 하나를 흘려 보내며 이름 있는 층마다 출력 모양을 기록합니다(:func:`layer_outputs`).

    Args:
        model: :class:`AlexNet` (``meta`` 장치에 만든 모델이면 값 없이 모양만 계산합니다).
        input_size: 입력 모양, 예: ``(1, 3, 224, 224)``.

    Returns:
        층 이름(``conv1`` ... ``pool5``, ``avgpool``, ``fc6`` ... ``fc8``) → 출력 모양.

    Raises:
        ValueError: 모델의 ``forward`` 가 입력을 거부할 때(그 오류를 그대로 냅니다).
    """
    param = next(model.parameters(), None)
    x = torch.zeros(tuple(input_size), device=param.device if param is not None else None,
                    dtype=param.dtype if param is not None else None)
    return {name: tuple(out.shape) for name, out in layer_outputs(model, x).items()}
