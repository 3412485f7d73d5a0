"""성능 장의 측정 재료: AlexNet 학습 한 스텝과 추론을 여러 속도 설정으로 만듭니다.

학습 한 스텝은 책의 학습 루프가 쓰는 것과 **같은** 스텝입니다. 옵티마이저는
:func:`alexnetbook.train.make_optimizer`, 스텝은 :func:`alexnetbook.train.train_step` 이고, 속도 스위치 넷
(``channels_last``, ``bf16`` autocast, ``fused_sgd``, ``compile``)과 학습률·모멘텀·가중치 감쇠는
:class:`~alexnetbook.train.TrainConfig` 에 있습니다. :class:`SpeedConfig` 는 그 설정에 ``TrainConfig`` 가
말하지 않는 세 가지만 더합니다.

* ``retain_memory``: :func:`alexnetbook.perf.memory.retain_freed_memory` 로 glibc ``malloc`` 이 해제한 큰
  블록을 다시 쓰게 합니다. **프로세스 전체에 걸리고 되돌릴 수 없으므로** 벤치마크는 설정마다 프로세스를 따로 띄웁니다.
* ``bf16_weights``: (추론 전용) 가중치와 입력을 아예 bfloat16 으로 바꿉니다. autocast 는 순전파마다 float32
  가중치의 bfloat16 사본을 새로 만드는데, 배치가 작으면 그 복사가 계산보다 오래 걸립니다.
* ``torch_lrn``: 이 책의 LRN 을 ``torch.nn.LocalResponseNorm`` 으로 바꾼 "그대로의 PyTorch" 기준
  (:func:`use_torch_lrn_`). 속도 비율이 이 책의 구현을 기준으로 한 것인지, PyTorch 그대로를 기준으로 한 것인지
  가리기 위한 설정입니다.

입력은 합성 데이터(표준정규분포 이미지와 무작위 레이블)이므로 데이터 읽기 시간이 섞이지 않습니다.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..checks import check_int, check_type
from ..lrn import LocalResponseNorm
from ..train import TrainConfig, make_optimizer, train_step
from .memory import retain_freed_memory

__all__ = [
    "BENCH_TRAIN",
    "INFERENCE_CONFIGS",
    "TRAIN_CONFIGS",
    "GroupedTorchLRN",
    "SpeedConfig",
    "make_inference",
    "make_train_step",
    "speed_config",
    "use_torch_lrn_",
]

#: 벤치마크의 학습 설정: 논문 §5 의 모멘텀과 가중치 감쇠, 그리고 측정 동안 발산하지 않도록 작은 학습률.
BENCH_TRAIN = TrainConfig(lr=1e-3, device="cpu", progress=False, verbose=False)

_OWN_FIELDS = ("retain_memory", "bf16_weights", "torch_lrn")


@dataclass(frozen=True)
class SpeedConfig:
    """학습 스텝이나 추론 하나의 속도 설정. 모든 스위치가 꺼진 것이 이 책의 "eager float32" 입니다.

    Attributes:
        train: 학습률, 모멘텀, 가중치 감쇠와 속도 스위치(``channels_last``, ``bf16``, ``fused_sgd``,
            ``compile``)를 담은 :class:`~alexnetbook.train.TrainConfig`.
        retain_memory: :func:`~alexnetbook.perf.memory.retain_freed_memory` 를 부를지 여부(프로세스 전체).
        bf16_weights: 모델과 입력을 bfloat16 으로 바꿀지 여부(추론 전용).
        torch_lrn: 이 책의 LRN 을 ``torch.nn.LocalResponseNorm`` 으로 바꿀지 여부(:func:`use_torch_lrn_`).
    """

    train: TrainConfig = BENCH_TRAIN
    retain_memory: bool = False
    bf16_weights: bool = False
    torch_lrn: bool = False

    def __post_init__(self) -> None:
        check_type(self.train, "train", TrainConfig)
        for name in _OWN_FIELDS:
            check_type(getattr(self, name), name, bool)

    @property
    def label(self) -> str:
        """사람이 읽는 짧은 이름, 예: ``"channels_last + bf16 autocast"``."""
        t = self.train
        parts = [name for name, on in (("torch.compile", t.compile), ("channels_last", t.channels_last),
                                       ("bf16 autocast", t.bf16), ("bf16 weights", self.bf16_weights),
                                       ("fused SGD", t.fused_sgd), ("malloc reuse", self.retain_memory)) if on]
        text = " + ".join(parts) or "eager float32"
        return f"{text} (nn.LocalResponseNorm)" if self.torch_lrn else text


def speed_config(**switches: bool | float) -> SpeedConfig:
    """스위치 이름으로 :class:`SpeedConfig` 를 만듭니다. ``TrainConfig`` 의 필드는 :data:`BENCH_TRAIN` 에 덮어씁니다.

    예: ``speed_config(channels_last=True, bf16=True, retain_memory=True)``.
    """
    own = {name: switches.pop(name) for name in _OWN_FIELDS if name in switches}
    return SpeedConfig(train=dataclasses.replace(BENCH_TRAIN, **switches), **own)


#: 학습 스텝을 잴 설정: PyTorch 그대로의 기준, 이 책의 기준, 기법을 하나씩 켠 것, 그리고 함께 켠 것.
TRAIN_CONFIGS: dict[str, SpeedConfig] = {
    "stock_fp32": speed_config(torch_lrn=True),
    "eager_fp32": speed_config(),
    "channels_last": speed_config(channels_last=True),
    "bf16_autocast": speed_config(bf16=True),
    "fused_sgd": speed_config(fused_sgd=True),
    "retain_memory": speed_config(retain_memory=True),
    "compile": speed_config(compile=True),
    "all_eager": speed_config(channels_last=True, bf16=True, fused_sgd=True, retain_memory=True),
    "all_compile": speed_config(channels_last=True, bf16=True, compile=True, fused_sgd=True, retain_memory=True),
}

#: 추론을 잴 설정(옵티마이저가 없으므로 fused_sgd 는 없습니다).
INFERENCE_CONFIGS: dict[str, SpeedConfig] = {
    "eager_fp32": speed_config(),
    "channels_last": speed_config(channels_last=True),
    "bf16_autocast": speed_config(bf16=True),
    "bf16_weights": speed_config(bf16_weights=True),
    "channels_last_bf16_weights": speed_config(channels_last=True, bf16_weights=True),
}


class GroupedTorchLRN(nn.Module):
    """채널 묶음마다 따로 적용하는 ``torch.nn.LocalResponseNorm`` (두 타워 모델의 타워별 LRN).

    ``(N, C, H, W)`` 를 ``(N·G, C/G, H, W)`` 로 보고 torch 의 LRN 을 한 번 부른 뒤 되돌립니다.
    """

    def __init__(self, lrn: nn.LocalResponseNorm, groups: int) -> None:
        super().__init__()
        self.lrn = lrn
        self.groups = check_int(groups, "groups", minimum=1)

    def forward(self, x: Tensor) -> Tensor:
        n, c, *spatial = x.shape
        per_group = x.reshape(n * self.groups, c // self.groups, *spatial)  # (N, C, ...) -> (N·G, C/G, ...)
        return self.lrn(per_group).reshape(x.shape)  # (N·G, C/G, ...) -> (N, C, ...)


def use_torch_lrn_(model: nn.Module) -> nn.Module:
    """모델 안의 :class:`alexnetbook.lrn.LocalResponseNorm` 을 모두 ``torch.nn.LocalResponseNorm`` 으로 바꿉니다.

    ``convention="torch"`` 인 이 책의 LRN 은 ``nn.LocalResponseNorm(size, alpha, beta, k)`` 와 같은 식이므로,
    바꾼 모델은 (반올림 오차 안에서) 같은 값을 계산합니다. ``groups > 1`` 이면 :class:`GroupedTorchLRN` 으로 감쌉니다.

    Args:
        model: 제자리에서 바꿀 모델.

    Returns:
        같은 ``model``.

    Raises:
        ValueError: ``convention="paper"`` 인 LRN 이 있을 때(torch 의 LRN 과 창과 계수가 다름).
    """
    check_type(model, "model", nn.Module)
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if not isinstance(child, LocalResponseNorm):
                continue
            if child.convention != "torch":
                raise ValueError(f"{name}: convention={child.convention!r} 인 LRN 은 torch 의 LRN 과 식이 다릅니다.")
            stock = nn.LocalResponseNorm(child.size, alpha=child.alpha, beta=child.beta, k=child.k)
            setattr(parent, name, stock if child.groups == 1 else GroupedTorchLRN(stock, child.groups))
    return model


def _prepare(
    model: nn.Module, config: SpeedConfig, batch_size: int, image_size: int, device: torch.device, seed: int
) -> tuple[nn.Module, nn.Module, Tensor, torch.Generator]:
    """모델을 설정대로 바꾸고 장치로 옮긴 뒤, (모델, 순전파에 쓸 모듈, 합성 이미지, 생성기)를 돌려줍니다."""
    check_type(model, "model", nn.Module)
    check_type(config, "config", SpeedConfig)
    check_int(batch_size, "batch_size", minimum=1)
    check_int(image_size, "image_size", minimum=1)
    if config.retain_memory:
        retain_freed_memory()
    if config.torch_lrn:
        use_torch_lrn_(model)
    memory_format = config.train.memory_format
    dtype = torch.bfloat16 if config.bf16_weights else torch.float32
    model = model.to(device=device, dtype=dtype, memory_format=memory_format)
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(batch_size, 3, image_size, image_size, generator=generator)
    images = images.to(device=device, dtype=dtype).contiguous(memory_format=memory_format)
    forward = torch.compile(model) if config.train.compile else model
    return model, forward, images, generator


def make_train_step(
    model: nn.Module,
    config: SpeedConfig,
    batch_size: int,
    *,
    image_size: int = 224,
    num_classes: int = 1000,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> Callable[..., Tensor]:
    """합성 배치 하나로 :func:`alexnetbook.train.train_step` 을 부르는 함수를 만듭니다.

    ``model`` 은 제자리에서 바뀌고(메모리 배치, ``torch_lrn``) 부를 때마다 갱신됩니다. 설정마다 따로 만든 모델을
    넘기세요. ``config.retain_memory`` 면 이 프로세스 전체의 ``malloc`` 설정을 바꿉니다(되돌릴 수 없음).

    Args:
        model: ``(N, 3, image_size, image_size)`` 를 받아 ``(N, num_classes)`` 로짓을 내는 모델.
        config: :class:`SpeedConfig`. 옵티마이저는 ``make_optimizer(model, config.train)`` 입니다.
        batch_size: 배치 크기.
        image_size: 입력 이미지 한 변.
        num_classes: 무작위 레이블의 클래스 수(모델의 출력 수와 같아야 함).
        seed: 합성 이미지와 레이블의 시드.
        device: 장치. ``None`` 이면 ``config.train.device`` (없으면 CPU).

    Returns:
        ``step(batch_images=None, batch_labels=None)``: 부를 때마다 학습 한 스텝을 하고 그 스텝의 손실(떼어 낸
        스칼라 텐서)을 돌려주는 함수. 인자를 생략하면 만들 때 정한 합성 배치를, 주면 그 배치(예: ``DataLoader``
        의 출력)를 씁니다.

    Raises:
        TypeError: ``model`` 이나 ``config`` 의 타입이 틀렸을 때.
        ValueError: ``batch_size``, ``image_size``, ``num_classes`` 가 1보다 작거나, ``config.bf16_weights`` 일 때.
    """
    check_type(config, "config", SpeedConfig)
    check_int(num_classes, "num_classes", minimum=1)
    if config.bf16_weights:
        raise ValueError("bf16_weights는 추론 전용입니다. 학습에는 bf16(autocast)을 쓰세요.")
    device = torch.device(device or config.train.device or "cpu")
    model, forward, images, generator = _prepare(model, config, batch_size, image_size, device, seed)
    labels = torch.randint(0, num_classes, (batch_size,), generator=generator).to(device)
    model.train()
    optimizer = make_optimizer(model, config.train)

    def step(batch_images: Tensor | None = None, batch_labels: Tensor | None = None) -> Tensor:
        if (batch_images is None) != (batch_labels is None):
            raise ValueError("batch_images와 batch_labels는 함께 주거나 함께 생략해야 합니다.")
        x, y = images, labels
        if batch_images is not None:  # DataLoader 의 실제 배치: 장치와 메모리 배치를 맞춥니다
            x = batch_images.to(device).contiguous(memory_format=config.train.memory_format)
            y = batch_labels.to(device)
        _, loss = train_step(forward, optimizer, x, y, bf16=config.train.bf16)
        return loss

    return step


def make_inference(
    model: nn.Module,
    config: SpeedConfig,
    batch_size: int,
    *,
    image_size: int = 224,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> Callable[[], Tensor]:
    """합성 배치 하나를 평가 모드로 추론하는 함수를 만듭니다(``torch.inference_mode``).

    ``model`` 은 제자리에서 평가 모드와 ``config`` 의 메모리 배치로 바뀝니다.

    Args:
        model: ``(N, 3, image_size, image_size)`` 를 받는 모델.
        config: :class:`SpeedConfig` (``fused_sgd`` 는 무시).
        batch_size: 배치 크기.
        image_size: 입력 이미지 한 변.
        seed: 합성 이미지의 시드.
        device: 장치. ``None`` 이면 ``config.train.device`` (없으면 CPU).

    Returns:
        부를 때마다 같은 배치를 추론해 로짓 ``(batch_size, num_classes)`` 를 돌려주는 함수.

    Raises:
        TypeError: ``model`` 이나 ``config`` 의 타입이 틀렸을 때.
        ValueError: ``batch_size`` 나 ``image_size`` 가 1보다 작을 때.
    """
    check_type(config, "config", SpeedConfig)
    device = torch.device(device or config.train.device or "cpu")
    model, forward, images, _ = _prepare(model, config, batch_size, image_size, device, seed)
    model.eval()

    def infer() -> Tensor:
        with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.train.bf16):
            return forward(images)

    return infer
