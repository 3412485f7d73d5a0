"""논문의 두 GPU 모델 병렬(model parallelism): :class:`TwoTowerAlexNet`.

논문 §3.2, §3.5 처럼 모든 학습 층의 커널(뉴런)을 절반씩 두 장치에 나눈 AlexNet 입니다. 두 타워(tower)는
**conv3 과 FC 층(fc6, fc7, fc8)으로 들어갈 때만** 상대 장치의 활성값을 받습니다. conv2, conv4, conv5 와 두
LRN 은 자기 장치의 절반만 봅니다. 같은 가중치라면 ``AlexNet(groups=2)`` 와 순전파·역전파 값이 같습니다.
층마다 매개변수와 연산량을 세는 도구는 :mod:`alexnetbook.costs` 에 있습니다.

FC 층을 어디에 둘지는 논문이 그림 2 로만 보여 줍니다. 여기서는 그림 2 처럼 fc6, fc7 의 뉴런을
2048개씩 두 장치에 나누고, 같은 규칙을 fc8 에도 적용해 1000개 출력을 500개씩 나눕니다. 모든 학습 층이
"출력 뉴런(커널)의 절반씩" 이라는 한 가지 규칙으로 나뉘므로, 가중치와 편향은 모두 0번 축을 반으로
자르면 되고, 두 장치의 매개변수 수는 정확히 같습니다. 마지막 로짓 두 조각만 ``devices[0]`` 으로 모읍니다.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .checks import check_type
from .lrn import LocalResponseNorm
from .models import AlexNet, AlexNetConfig, check_image_batch
from .utils import get_device

__all__ = [
    "CROSS_DEVICE_INPUTS",
    "STAGES",
    "TwoTowerAlexNet",
]

#: 한 타워가 실행하는 층을, 장치 사이 통신이 일어나는 곳에서 끊은 단계들.
#: 첫 단계만 입력 이미지를 받고, 나머지 단계는 **두 타워의 출력을 이어 붙인 것** 을 입력으로 받습니다.
STAGES: tuple[tuple[str, ...], ...] = (
    ("conv1", "relu1", "norm1", "pool1", "conv2", "relu2", "norm2", "pool2"),
    ("conv3", "relu3", "conv4", "relu4", "conv5", "relu5", "pool5", "avgpool"),
    ("fc6", "relu6", "drop6"),
    ("fc7", "relu7", "drop7"),
    ("fc8",),
)

#: 입력으로 두 장치의 활성값을 모두 받는 층(논문 §3.5). 나머지 학습 층은 같은 장치의 절반만 봅니다.
CROSS_DEVICE_INPUTS: tuple[str, ...] = tuple(stage[0] for stage in STAGES[1:])


def _half_sizes(n: int) -> list[int]:
    """``n`` 개를 두 타워에 나눌 크기. 홀수면 0번 타워가 하나 더 갖습니다."""
    return [n - n // 2, n // 2]


def _split_rows(t: Tensor) -> tuple[Tensor, Tensor]:
    """출력 뉴런(0번 축)을 두 타워 몫으로 자릅니다. 합성곱 가중치 ``(C_out, C_in/g, k, k)`` 도, 선형 가중치
    ``(out, in)`` 도, 편향 ``(out,)`` 도 같은 규칙입니다."""
    first, second = torch.split(t, _half_sizes(t.shape[0]), dim=0)
    return first, second


def _check_devices(devices: Sequence[str | torch.device]) -> tuple[torch.device, torch.device]:
    if isinstance(devices, (str, torch.device)) or len(devices) != 2:
        raise ValueError(f"devices는 장치 두 개의 시퀀스여야 합니다(예: ('cuda:0', 'cuda:1')). 받은 값: {devices!r}")
    checked = []
    for d in devices:
        try:
            checked.append(get_device(str(d)))
        except (RuntimeError, ValueError) as err:
            raise ValueError(
                f"devices={tuple(str(x) for x in devices)!r}: 장치 {d!r}을(를) 쓸 수 없습니다({err}). "
                "GPU가 없으면 devices=('cpu', 'cpu')로 같은 계산을 CPU에서 할 수 있습니다."
            ) from err
    return checked[0], checked[1]


def _grouped_layers(model: AlexNet) -> dict[str, nn.Module]:
    """``AlexNet`` 의 층을 이름으로 찾는 사전(features, avgpool, classifier 를 한 이름 공간으로)."""
    layers = dict(model.features.named_children())
    layers["avgpool"] = model.avgpool
    layers.update(model.classifier.named_children())
    return layers


def _tower_layer(layer: nn.Module, half: int, device: torch.device) -> nn.Module:
    """묶음(grouped) 모델의 층 하나에서 ``half`` 번 타워의 몫을 떼어 ``device`` 에 새로 만듭니다(값은 복사)."""
    if isinstance(layer, nn.Conv2d):
        weight = _split_rows(layer.weight.detach())[half]
        # meta 장치에 모양만 만들고(무작위 초기화를 건너뜀) 아래에서 잘라 낸 값으로 매개변수를 채웁니다.
        new = nn.Conv2d(
            weight.shape[1], weight.shape[0], layer.kernel_size,  # 묶음 합성곱이면 입력이 이미 절반
            stride=layer.stride, padding=layer.padding, bias=layer.bias is not None, device="meta",
        )
    elif isinstance(layer, nn.Linear):
        weight = _split_rows(layer.weight.detach())[half]
        new = nn.Linear(weight.shape[1], weight.shape[0], bias=layer.bias is not None, device="meta")
    elif isinstance(layer, LocalResponseNorm):
        # 묶음 LRN(groups=2)은 각 절반 안에서만 이웃을 셉니다 = 타워마다 groups=1 인 LRN.
        return LocalResponseNorm(layer.size, layer.alpha, layer.beta, layer.k, layer.convention, groups=1)
    else:  # ReLU, MaxPool2d, Dropout, AdaptiveAvgPool2d, Identity: 매개변수가 없음
        return copy.deepcopy(layer)
    new.weight = nn.Parameter(weight.to(device, copy=True))
    if layer.bias is not None:
        new.bias = nn.Parameter(_split_rows(layer.bias.detach())[half].to(device, copy=True))
    return new


class TwoTowerAlexNet(nn.Module):
    """두 장치에 나누어 올린 AlexNet: 논문 §3.2 의 모델 병렬.

    타워 ``i`` 는 모든 학습 층의 출력 채널(뉴런) 절반을 ``devices[i]`` 에 둡니다. 순전파는 :data:`STAGES`
    의 단계를 차례로 밟고, 단계가 바뀔 때마다(= :data:`CROSS_DEVICE_INPUTS` 의 층으로 들어가기 직전)
    두 타워의 출력을 서로의 장치로 복사해 채널 축으로 이어 붙입니다. conv2, conv4, conv5 는 단계 안에
    있으므로 자기 장치의 절반만 봅니다. 역전파에서는 autograd 가 같은 복사를 거꾸로 합니다.

    Args:
        devices: 두 타워의 장치. 기본값은 GPU 두 개. ``("cpu", "cpu")`` 이면 어디서나 실행됩니다.
        grouped: 이 모델의 가중치를 나누어 가져올 ``AlexNet(groups=2)``. ``None`` 이면
            ``AlexNet(groups=2, **alexnet_kwargs)`` 를 새로 만들어 나눕니다(초기화도 그 모델과 같음).
            :meth:`from_grouped` 를 쓰는 편이 읽기 쉽습니다.
        **alexnet_kwargs: ``grouped`` 가 없을 때 :class:`~alexnetbook.models.AlexNet` 에 넘길 인자
            (``num_classes``, ``dropout``, ``channels`` 등; ``groups`` 는 항상 2).

    Attributes:
        devices: 두 타워의 ``torch.device``.
        towers: 타워 두 개. 각각 층 이름(``conv1`` … ``fc8``)으로 찾는 ``nn.ModuleDict``.
        config: 나눈 ``AlexNet(groups=2)`` 의 :class:`~alexnetbook.models.AlexNetConfig` (:meth:`to_grouped` 가 씀).
        last_transfers: 마지막 순전파에서 상대 장치로 복사한 원소 수(두 방향의 합). 키는 그 값을 입력으로
            받은 층 이름, 그리고 로짓을 ``devices[0]`` 으로 모은 ``"output"``. 장치가 같아도 셉니다.

    Raises:
        ValueError: ``devices`` 가 잘못되었거나 그 장치를 쓸 수 없을 때, ``grouped`` 의 ``groups`` 가 2가 아니거나
            구조를 바꾼 모델일 때.
        TypeError: ``grouped`` 가 :class:`~alexnetbook.models.AlexNet` 이 아닐 때, ``grouped`` 와
            ``alexnet_kwargs`` 를 함께 줄 때.

    Shape:
        - Input: ``(N, 3, H, W)`` (어느 장치에 있어도 됨)
        - Output: ``(N, num_classes)``, ``devices[0]`` 에 있음
    """

    def __init__(
        self,
        devices: Sequence[str | torch.device] = ("cuda:0", "cuda:1"),
        *,
        grouped: AlexNet | None = None,
        **alexnet_kwargs,
    ) -> None:
        super().__init__()
        self.devices = _check_devices(devices)
        if grouped is None:
            if alexnet_kwargs.pop("groups", 2) != 2:
                raise ValueError("TwoTowerAlexNet은 groups=2인 AlexNet만 나눌 수 있습니다.")
            grouped = AlexNet(groups=2, **alexnet_kwargs)
        elif alexnet_kwargs:
            raise TypeError(f"grouped를 줄 때는 다른 AlexNet 인자를 함께 줄 수 없습니다: {sorted(alexnet_kwargs)}")
        self.config = self._checked_config(grouped)
        layers = _grouped_layers(grouped)
        self.towers = nn.ModuleList(
            nn.ModuleDict(
                OrderedDict(
                    (name, _tower_layer(layers[name], half, device)) for stage in STAGES for name in stage
                )
            )
            for half, device in enumerate(self.devices)
        )
        self.min_input_size = grouped.min_input_size
        self.last_transfers: dict[str, int] = {}
        self.train(grouped.training)

    @staticmethod
    def _checked_config(grouped: AlexNet) -> AlexNetConfig:
        check_type(grouped, "grouped", AlexNet)
        if grouped.groups != 2:
            raise ValueError(f"grouped는 AlexNet(groups=2)여야 합니다. 받은 groups: {grouped.groups}")
        config = grouped.config
        if config.num_classes < 2:
            raise ValueError(f"두 타워로 나누려면 num_classes가 2 이상이어야 합니다. 받은 값: {config.num_classes}")
        with torch.device("meta"):  # 값은 만들지 않고 구조만 다시 만들어 비교합니다
            rebuilt = AlexNet.from_config(config)
        if repr(rebuilt) != repr(grouped):
            raise ValueError(
                "grouped의 구조가 AlexNet(groups=2, ...)이 만드는 구조와 다릅니다(층을 바꿔 끼운 모델은 "
                "나눌 수 없습니다)."
            )
        return config

    @classmethod
    def from_grouped(
        cls, model: AlexNet, devices: Sequence[str | torch.device] = ("cuda:0", "cuda:1")
    ) -> TwoTowerAlexNet:
        """``AlexNet(groups=2)`` 의 가중치를 복사해 두 타워 모델을 만듭니다(원래 모델은 그대로 둡니다).

        모든 합성곱·선형 층의 가중치와 편향을 출력 축(0번 축)에서 반으로 잘라 ``devices[i]`` 로 옮깁니다.
        """
        return cls(devices, grouped=model)

    def grouped_state_dict(self) -> OrderedDict[str, Tensor]:
        """두 타워의 가중치를 출력 축으로 이어 붙여 ``AlexNet(groups=2)`` 의 ``state_dict`` 형식으로 돌려줍니다.

        텐서는 ``devices[0]`` 에 모입니다.
        """
        prefix = {name: "features" for name in STAGES[0] + STAGES[1][:-1]}
        prefix.update({name: "classifier" for stage in STAGES[2:] for name in stage})
        state: OrderedDict[str, Tensor] = OrderedDict()
        for stage in STAGES:
            for name in stage:
                for pname, _ in self.towers[0][name].named_parameters():
                    halves = [getattr(t[name], pname).detach().to(self.devices[0]) for t in self.towers]
                    state[f"{prefix[name]}.{name}.{pname}"] = torch.cat(halves, dim=0)
        return state

    def to_grouped(self) -> AlexNet:
        """같은 가중치의 ``AlexNet(groups=2)`` 를 ``devices[0]`` 에 만들어 돌려줍니다(:meth:`from_grouped` 의 역)."""
        with torch.device("meta"):  # 모양만 만들고, 이어 붙인 가중치를 그대로 매개변수로 씁니다
            model = AlexNet.from_config(self.config)
        model.load_state_dict(self.grouped_state_dict(), assign=True)
        return model.train(self.training)

    def _exchange(self, parts: list[Tensor], key: str) -> list[Tensor]:
        """각 타워에, 두 타워의 출력을 자기 장치로 모아 채널(특징) 축으로 이어 붙인 텐서를 줍니다."""
        self.last_transfers[key] = sum(p.numel() for p in parts)  # 타워마다 상대 몫 하나씩 = 양방향 합
        return [torch.cat([p.to(device) for p in parts], dim=1) for device in self.devices]

    def forward(self, x: Tensor) -> Tensor:
        """``(N, 3, H, W)`` 이미지를 ``devices[0]`` 의 ``(N, num_classes)`` 로짓으로 바꿉니다.

        Raises:
            TypeError: ``x`` 가 텐서가 아닐 때.
            ValueError: ``x`` 의 모양이 ``(N, 3, H, W)`` 가 아니거나 너무 작을 때(``AlexNet`` 과 같은 검사).
        """
        check_image_batch(x, self.min_input_size)
        self.last_transfers = {}
        # 두 GPU 모두 같은 입력 배치를 받습니다.
        parts = [self._run(tower, STAGES[0], x.to(device)) for tower, device in zip(self.towers, self.devices)]
        for stage in STAGES[1:]:
            if stage[0] == "fc6":
                parts = [torch.flatten(p, 1) for p in parts]  # (N, C/2, S, S) -> (N, C/2*S*S), 채널 우선 순서
            inputs = self._exchange(parts, stage[0])
            parts = [self._run(tower, stage, h) for tower, h in zip(self.towers, inputs)]
        self.last_transfers["output"] = parts[1].numel()
        return torch.cat([parts[0], parts[1].to(self.devices[0])], dim=1)  # 로짓 두 조각: (N, 500) ×2 -> (N, 1000)

    @staticmethod
    def _run(tower: nn.ModuleDict, stage: tuple[str, ...], h: Tensor) -> Tensor:
        for name in stage:
            h = tower[name](h)
        return h

    def extra_repr(self) -> str:
        return f"devices=({self.devices[0]}, {self.devices[1]})"
