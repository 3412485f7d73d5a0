"""AlexNet 의 PyTorch 구현: 한 줄기(single-tower) 버전, 논문의 두 GPU(grouped) 버전, 32×32용 축소판.

* ``AlexNet(groups=1)``: 원본 페이지와 같은 96/256/384/384/256 채널, 224 입력, conv1 패딩 2.
  매개변수 62,378,344개.
* ``AlexNet(groups=2)``: 논문 §3.2, §3.5 의 두 GPU 구조. conv2, conv4, conv5 는 같은 GPU(같은 묶음)의
  채널만 보고, conv3 과 FC 층은 두 묶음을 모두 봅니다. LRN 도 묶음 안에서만 이웃을 셉니다.
  매개변수 60,965,224개.
* ``AlexNet.for_cifar()``: 32×32 이미지를 CPU 에서 학습하기 위한 **축소판**. 구조(합성곱 5개,
  LRN, 겹치는 풀링, 드롭아웃이 있는 FC 3개)는 같지만 AlexNet 자체는 아닙니다.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .dropout import DROPOUT_MODES, Dropout
from .lrn import CONVENTIONS, LocalResponseNorm
from .pooling import pooling_output_size

__all__ = ["AlexNet", "PAPER_BIAS_ONE_LAYERS", "init_paper_", "layer_output_shapes", "layer_outputs"]

#: 논문 §5에서 편향을 1로 초기화하는 층. 나머지 편향은 0입니다.
PAPER_BIAS_ONE_LAYERS = ("conv2", "conv4", "conv5", "fc6", "fc7")


class AlexNet(nn.Module):
    """AlexNet (Krizhevsky, Sutskever & Hinton, 2012).

    층 순서는 논문 §3.5를 따릅니다. conv1, conv2 뒤에는 ReLU → LRN → 최대 풀링(3×3, 보폭 2)이,
    conv5 뒤에는 ReLU → 최대 풀링이 옵니다. FC6, FC7 의 ReLU 뒤에 드롭아웃이 있습니다(§4.2).
    ``dropout_mode="paper"`` 이면 드롭아웃이 논문 §4.2 그대로 테스트(``eval()``) 때 출력에 ``1 − p`` 를
    곱합니다(:class:`alexnetbook.dropout.Dropout`).
    합성곱 출력은 ``AdaptiveAvgPool2d`` 로 ``pool_output_size`` 에 맞춘 뒤 ``torch.flatten`` 으로
    펼칩니다. 224 입력에서는 이미 6×6 이므로 항등 함수이고, 다른 크기의 입력도 받게 해 줍니다.

    Args:
        num_classes: 출력 클래스 수.
        dropout: FC6, FC7 뒤 드롭아웃 확률(유닛을 끌 확률 ``p``, 논문 0.5).
        groups: 1(한 줄기) 또는 2(논문의 두 GPU 구조). conv2, conv4, conv5 와 두 LRN 에 적용됩니다.
        lrn: ``False`` 이면 LRN 층을 넣지 않습니다.
        channels: 다섯 합성곱 층의 출력 채널 수.
        hidden_features: FC6, FC7 의 뉴런 수.
        conv1_kernel_size: conv1 커널 크기.
        conv1_stride: conv1 보폭.
        conv1_padding: conv1 패딩. 224 입력에서 55×55 를 얻으려면 2(227 입력이면 0과 같음).
        conv2_kernel_size: conv2 커널 크기(패딩은 크기를 유지하도록 ``k // 2``).
        pool_output_size: 펼치기 전 ``AdaptiveAvgPool2d`` 의 출력 크기.
        lrn_convention: LRN 의 α 관례. 기본 ``"torch"`` 는 ``α / n`` 으로, 원본 페이지의
            ``nn.LocalResponseNorm(5, 1e-4, 0.75, 2)`` 그리고 cuda-convnet2 의 ImageNet 설정과 같습니다.
        dropout_mode: ``"inverted"`` (기본, 역드롭아웃: 학습 때 남긴 유닛을 ``1/(1−p)`` 배, 테스트 때
            그대로)이면 ``torch.nn.Dropout`` 을 씁니다. 이것은 ``alexnetbook.dropout.Dropout(p, mode="inverted")``
            과 비트 단위로 같은 계산이고, ``print(model)`` 이 torchvision 과 같은 모양으로 보입니다.
            ``"paper"`` (논문 §4.2: 학습 때 배율 없음, 테스트 때 ``1 − p`` 배)이면
            ``alexnetbook.dropout.Dropout(p, mode="paper")`` 를 씁니다. 드롭아웃에는 매개변수가 없으므로
            두 방식의 ``state_dict`` 는 똑같습니다.

    Raises:
        ValueError: 인자가 잘못되었을 때(채널이 ``groups`` 로 나누어떨어지지 않는 경우, 모르는
            ``dropout_mode`` 등).
    """

    def __init__(
        self,
        num_classes: int = 1000,
        dropout: float = 0.5,
        groups: int = 1,
        lrn: bool = True,
        *,
        channels: Sequence[int] = (96, 256, 384, 384, 256),
        hidden_features: int = 4096,
        conv1_kernel_size: int = 11,
        conv1_stride: int = 4,
        conv1_padding: int = 2,
        conv2_kernel_size: int = 5,
        pool_output_size: int = 6,
        lrn_convention: str = "torch",
        dropout_mode: str = "inverted",
    ) -> None:
        super().__init__()
        channels = tuple(channels)
        if len(channels) != 5 or any(not isinstance(c, int) or c < 1 for c in channels):
            raise ValueError(f"channels는 양의 정수 5개여야 합니다. 받은 값: {channels}")
        if groups not in (1, 2):
            raise ValueError(f"groups는 1 또는 2여야 합니다. 받은 값: {groups!r}")
        if any(c % groups for c in channels):
            raise ValueError(f"channels={channels} 가 groups={groups} 로 나누어떨어지지 않습니다.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout은 [0, 1) 범위여야 합니다. 받은 값: {dropout!r}")
        for name, value in (
            ("num_classes", num_classes),
            ("hidden_features", hidden_features),
            ("conv1_kernel_size", conv1_kernel_size),
            ("conv1_stride", conv1_stride),
            ("conv2_kernel_size", conv2_kernel_size),
            ("pool_output_size", pool_output_size),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}는 1 이상의 정수여야 합니다. 받은 값: {value!r}")
        if isinstance(conv1_padding, bool) or not isinstance(conv1_padding, int) or conv1_padding < 0:
            raise ValueError(f"conv1_padding은 0 이상의 정수여야 합니다. 받은 값: {conv1_padding!r}")
        if conv2_kernel_size % 2 == 0:
            raise ValueError(
                f"conv2_kernel_size는 홀수여야 합니다(패딩 k // 2 로 크기를 유지하려면). 받은 값: {conv2_kernel_size}"
            )
        if lrn_convention not in CONVENTIONS:
            raise ValueError(f"lrn_convention은 {CONVENTIONS} 중 하나여야 합니다. 받은 값: {lrn_convention!r}")
        if dropout_mode not in DROPOUT_MODES:
            raise ValueError(f"dropout_mode는 {DROPOUT_MODES} 중 하나여야 합니다. 받은 값: {dropout_mode!r}")
        c1, c2, c3, c4, c5 = channels
        self.groups = groups
        self.conv1_geometry = (conv1_kernel_size, conv1_stride, conv1_padding)
        self.conv2_kernel_size = conv2_kernel_size

        def norm() -> nn.Module:
            if not lrn:
                return nn.Identity()
            return LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0, convention=lrn_convention, groups=groups)

        def drop() -> nn.Module:
            # 역드롭아웃은 torch.nn.Dropout 과 alexnetbook.dropout.Dropout(mode="inverted") 이 같은 계산입니다.
            return nn.Dropout(p=dropout) if dropout_mode == "inverted" else Dropout(dropout, mode=dropout_mode)

        self.features = nn.Sequential(
            OrderedDict(
                [
                    ("conv1", nn.Conv2d(3, c1, conv1_kernel_size, stride=conv1_stride, padding=conv1_padding)),
                    ("relu1", nn.ReLU(inplace=True)),
                    ("norm1", norm()),
                    ("pool1", nn.MaxPool2d(kernel_size=3, stride=2)),
                    ("conv2", nn.Conv2d(c1, c2, conv2_kernel_size, padding=conv2_kernel_size // 2, groups=groups)),
                    ("relu2", nn.ReLU(inplace=True)),
                    ("norm2", norm()),
                    ("pool2", nn.MaxPool2d(kernel_size=3, stride=2)),
                    ("conv3", nn.Conv2d(c2, c3, 3, padding=1)),  # 두 묶음(GPU)을 모두 봄
                    ("relu3", nn.ReLU(inplace=True)),
                    ("conv4", nn.Conv2d(c3, c4, 3, padding=1, groups=groups)),
                    ("relu4", nn.ReLU(inplace=True)),
                    ("conv5", nn.Conv2d(c4, c5, 3, padding=1, groups=groups)),
                    ("relu5", nn.ReLU(inplace=True)),
                    ("pool5", nn.MaxPool2d(kernel_size=3, stride=2)),
                ]
            )
        )
        self.avgpool = nn.AdaptiveAvgPool2d((pool_output_size, pool_output_size))
        self.classifier = nn.Sequential(
            OrderedDict(
                [
                    ("fc6", nn.Linear(c5 * pool_output_size * pool_output_size, hidden_features)),
                    ("relu6", nn.ReLU(inplace=True)),
                    ("drop6", drop()),
                    ("fc7", nn.Linear(hidden_features, hidden_features)),
                    ("relu7", nn.ReLU(inplace=True)),
                    ("drop7", drop()),
                    ("fc8", nn.Linear(hidden_features, num_classes)),
                ]
            )
        )
        self.min_input_size = self._min_input_size()

    @classmethod
    def for_cifar(
        cls,
        num_classes: int = 10,
        dropout: float = 0.5,
        groups: int = 1,
        lrn: bool = True,
        *,
        channels: Sequence[int] = (24, 48, 64, 64, 48),
        hidden_features: int = 256,
        pool_output_size: int = 3,
        dropout_mode: str = "inverted",
    ) -> AlexNet:
        """32×32 이미지(CIFAR-10)용 **축소판**. AlexNet 과 구조는 같지만 AlexNet 은 아닙니다.

        합성곱 다섯 개(conv1, conv2 뒤 LRN), 겹치는 최대 풀링(3×3, 보폭 2) 셋, 드롭아웃이 있는 FC 세 개라는
        구조는 그대로 두고, conv1 을 5×5·보폭 1·패딩 2 로 바꾸고 채널과 FC 뉴런 수를 줄였습니다. 32 입력이면
        32 → 15 → 7 → 3, 28×28 조각(논문의 256 → 224 를 32 → 28 로 줄인 것)이면 28 → 13 → 6 → 2 입니다.
        28×28 조각으로 학습할 때는 ``pool_output_size=2`` 로 두면 224 입력의 AlexNet 처럼 적응형 풀링이
        항등 함수가 됩니다.

        기본 크기(채널 24/48/64/64/48, FC 256, 매개변수 약 30만 개)는 책의 학습 장이 CPU 2코어에서
        CIFAR-10 1만 장을 여러 에폭 학습할 수 있도록 작게 고른 것입니다.

        Args:
            num_classes: 출력 클래스 수.
            dropout: fc6, fc7 뒤 드롭아웃 확률.
            groups: 1 또는 2(conv2, conv4, conv5 와 LRN 을 두 묶음으로).
            lrn: ``False`` 이면 LRN 을 뺍니다.
            channels: 다섯 합성곱 층의 출력 채널 수.
            hidden_features: fc6, fc7 의 뉴런 수.
            pool_output_size: ``AdaptiveAvgPool2d`` 의 출력 크기(32 입력이면 3, 28 입력이면 2가 항등).
            dropout_mode: ``"inverted"`` 또는 ``"paper"`` (:class:`AlexNet` 참고).
        """
        return cls(
            num_classes=num_classes,
            dropout=dropout,
            groups=groups,
            lrn=lrn,
            channels=channels,
            hidden_features=hidden_features,
            conv1_kernel_size=5,
            conv1_stride=1,
            conv1_padding=2,
            conv2_kernel_size=5,
            pool_output_size=pool_output_size,
            dropout_mode=dropout_mode,
        )

    def _spatial_trace(self, size: int) -> list[int]:
        """입력 한 변 ``size`` 가 conv1, pool1, pool2, pool5 를 지나며 바뀌는 크기. 너무 작으면 ValueError."""
        k, s, p = self.conv1_geometry
        sizes = [pooling_output_size(size, k, s, p)]  # conv1
        sizes.append(pooling_output_size(sizes[-1], 3, 2))  # pool1 (conv2 는 크기 유지)
        sizes.append(pooling_output_size(sizes[-1], 3, 2))  # pool2 (conv3-5 는 크기 유지)
        sizes.append(pooling_output_size(sizes[-1], 3, 2))  # pool5
        return sizes

    def _min_input_size(self) -> int:
        size = 1
        while True:
            try:
                self._spatial_trace(size)
                return size
            except ValueError:
                size += 1

    def forward(self, x: Tensor) -> Tensor:
        """``(N, 3, H, W)`` 이미지를 ``(N, num_classes)`` 로짓으로 바꿉니다.

        Raises:
            TypeError: ``x`` 가 ``torch.Tensor`` 가 아닐 때.
            ValueError: ``x`` 가 4차원이 아니거나, 채널이 3이 아니거나, ``H`` 나 ``W`` 가
                ``min_input_size`` 보다 작을 때.
        """
        if not isinstance(x, Tensor):
            raise TypeError(f"x는 torch.Tensor 여야 합니다. 받은 타입: {type(x).__name__}")
        if x.dim() != 4:
            raise ValueError(f"x는 (N, 3, H, W) 모양이어야 합니다. 받은 모양: {tuple(x.shape)}")
        if x.shape[1] != 3:
            raise ValueError(f"x는 RGB 3채널 (N, 3, H, W) 이어야 합니다. 받은 채널 수: {x.shape[1]}")
        if min(x.shape[2], x.shape[3]) < self.min_input_size:
            raise ValueError(
                f"x의 높이와 너비는 {self.min_input_size} 이상이어야 합니다(이 신경망의 최소 입력 크기). "
                f"받은 크기: {x.shape[2]}×{x.shape[3]}"
            )
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
    if std < 0:
        raise ValueError(f"std는 0 이상이어야 합니다. 받은 값: {std}")
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
