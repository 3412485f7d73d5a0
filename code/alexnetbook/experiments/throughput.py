"""성능 장의 측정 재료: AlexNet 학습 한 걸음과 추론을 여러 설정으로 만들고, 이미지 한 장의 연산량을 셉니다.

``benchmarks/training.py``, ``benchmarks/inference.py`` 가 여기의 함수로 같은 모델을 여러 설정에서 만들고,
``benchmarks._timing.compare`` 로 기준(eager float32)과 번갈아 잽니다. 설정(:class:`SpeedConfig`)은 서로
독립인 스위치 여섯 개의 조합입니다.

* ``channels_last``: 모델 가중치와 입력을 NHWC 메모리 배치로 둡니다(``torch.channels_last``). 값은 그대로이고
  oneDNN/cuDNN 이 채널을 가장 안쪽 축으로 읽게 됩니다.
* ``bf16``: ``torch.autocast(..., dtype=torch.bfloat16)`` 안에서 순전파와 손실을 계산합니다. 합성곱과 행렬
  곱은 bfloat16 으로, 손실과 가중치 갱신은 float32 로 합니다(가중치는 float32 그대로).
* ``bf16_weights``: (추론 전용) 모델 가중치와 입력을 아예 bfloat16 으로 바꿉니다. autocast 는 순전파마다
  float32 가중치(6천만 개)를 bfloat16 으로 새로 복사하므로, 배치가 작으면 그 복사가 계산보다 오래 걸립니다.
  학습에는 쓰지 않습니다(bfloat16 가중치에 작은 갱신을 더하면 반올림으로 사라짐).
* ``compile``: ``torch.compile(model)`` 로 순전파(와 autograd 가 만든 역전파)를 Inductor 로 컴파일합니다.
* ``fused_sgd``: ``torch.optim.SGD(..., fused=True)``. 모멘텀, 가중치 감쇠, 갱신을 매개변수마다 한 번의
  반복문으로 끝냅니다(기본 구현은 6천만 개 매개변수를 여러 번 읽고 씀). 갱신 식은 같습니다.
* ``retain_memory``: :func:`alexnetbook.cpu_memory.retain_freed_memory` 로 glibc ``malloc`` 이 해제한 큰 블록을
  운영체제에 돌려주지 않고 다시 쓰게 합니다. 한 걸음마다 새로 잡는 활성값과 기울기의 페이지 폴트가 사라집니다.
  **프로세스 전체에 적용되고 되돌릴 수 없으므로**, 벤치마크는 설정마다 프로세스를 따로 띄웁니다.

학습 한 걸음은 논문 §5 의 SGD(모멘텀 0.9, 가중치 감쇠 5e-4)로 교차 엔트로피를 줄이는 한 번의 갱신입니다.
입력은 합성 데이터(표준정규분포 이미지와 무작위 레이블)이므로 데이터 읽기 시간이 섞이지 않습니다.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..cpu_memory import retain_freed_memory

__all__ = [
    "INFERENCE_CONFIGS",
    "TRAIN_CONFIGS",
    "SpeedConfig",
    "count_flops",
    "make_inference",
    "make_train_step",
]


@dataclass(frozen=True)
class SpeedConfig:
    """학습·추론 속도 설정. 모든 스위치가 꺼진 것이 기준(eager float32)입니다.

    Attributes:
        channels_last: 모델과 입력을 ``torch.channels_last`` 로 둘지 여부.
        bf16: bfloat16 autocast 로 순전파할지 여부.
        bf16_weights: 모델과 입력을 bfloat16 으로 바꿀지 여부(추론 전용).
        compile: ``torch.compile`` 로 모델을 컴파일할지 여부.
        fused_sgd: ``SGD(fused=True)`` 를 쓸지 여부(학습에만 해당).
        retain_memory: :func:`~alexnetbook.cpu_memory.retain_freed_memory` 를 부를지 여부(프로세스 전체).
    """

    channels_last: bool = False
    bf16: bool = False
    bf16_weights: bool = False
    compile: bool = False
    fused_sgd: bool = False
    retain_memory: bool = False

    @property
    def label(self) -> str:
        """사람이 읽는 짧은 이름, 예: ``"channels_last + bf16 autocast"``."""
        parts = [name for name, on in (("torch.compile", self.compile), ("channels_last", self.channels_last),
                                       ("bf16 autocast", self.bf16), ("bf16 weights", self.bf16_weights),
                                       ("fused SGD", self.fused_sgd), ("malloc reuse", self.retain_memory)) if on]
        return " + ".join(parts) if parts else "eager float32"


#: 학습 한 걸음을 잴 설정: 기준과, 기법을 하나씩 켠 것, 그리고 함께 켠 것.
TRAIN_CONFIGS: dict[str, SpeedConfig] = {
    "eager_fp32": SpeedConfig(),
    "channels_last": SpeedConfig(channels_last=True),
    "bf16_autocast": SpeedConfig(bf16=True),
    "fused_sgd": SpeedConfig(fused_sgd=True),
    "retain_memory": SpeedConfig(retain_memory=True),
    "compile": SpeedConfig(compile=True),
    "all_eager": SpeedConfig(channels_last=True, bf16=True, fused_sgd=True, retain_memory=True),
    "all_compile": SpeedConfig(channels_last=True, bf16=True, compile=True, fused_sgd=True, retain_memory=True),
}

#: 추론을 잴 설정(옵티마이저가 없으므로 fused_sgd 는 없습니다).
INFERENCE_CONFIGS: dict[str, SpeedConfig] = {
    "eager_fp32": SpeedConfig(),
    "channels_last": SpeedConfig(channels_last=True),
    "bf16_autocast": SpeedConfig(bf16=True),
    "bf16_weights": SpeedConfig(bf16_weights=True),
    "channels_last_bf16_weights": SpeedConfig(channels_last=True, bf16_weights=True),
}


def _check_batch(batch_size: int, image_size: int) -> None:
    for name, value in (("batch_size", batch_size), ("image_size", image_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}는 1 이상의 정수여야 합니다. 받은 값: {value!r}")


def _memory_format(config: SpeedConfig) -> torch.memory_format:
    return torch.channels_last if config.channels_last else torch.contiguous_format


def _prepare(
    model: nn.Module, config: SpeedConfig, batch_size: int, image_size: int, device: torch.device, seed: int
) -> tuple[nn.Module, Callable[..., Tensor], Tensor, torch.Generator]:
    """모델을 장치와 메모리 배치로 옮기고, (모델, 순전파 함수, 입력 이미지, 생성기)를 돌려줍니다."""
    if not isinstance(config, SpeedConfig):
        raise TypeError(f"config는 SpeedConfig 여야 합니다. 받은 타입: {type(config).__name__}")
    _check_batch(batch_size, image_size)
    if config.retain_memory:
        retain_freed_memory()
    memory_format = _memory_format(config)
    dtype = torch.bfloat16 if config.bf16_weights else torch.float32
    model = model.to(device=device, dtype=dtype, memory_format=memory_format)
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(batch_size, 3, image_size, image_size, generator=generator)
    images = images.to(device=device, dtype=dtype).contiguous(memory_format=memory_format)
    forward = torch.compile(model) if config.compile else model
    return model, forward, images, generator


def make_train_step(
    model: nn.Module,
    config: SpeedConfig,
    batch_size: int,
    *,
    image_size: int = 224,
    num_classes: int = 1000,
    lr: float = 1e-3,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> Callable[..., Tensor]:
    """합성 배치 하나로 SGD 학습 한 걸음을 하는 함수를 만듭니다.

    ``model`` 은 제자리에서 ``config`` 의 메모리 배치로 바뀌고, 부를 때마다 갱신됩니다. 설정마다 따로 만든
    모델을 넘기세요(예: ``copy.deepcopy``). ``config.retain_memory`` 면 이 프로세스 전체의 ``malloc`` 설정을
    바꿉니다(되돌릴 수 없음).

    Args:
        model: ``(N, 3, image_size, image_size)`` 를 받아 ``(N, num_classes)`` 로짓을 내는 모델.
        config: :class:`SpeedConfig`.
        batch_size: 배치 크기.
        image_size: 입력 이미지 한 변.
        num_classes: 무작위 레이블의 클래스 수(모델의 출력 수와 같아야 함).
        lr: 학습률. 측정 동안 값이 발산하지 않도록 작게 둡니다.
        seed: 합성 이미지와 레이블의 시드.
        device: 장치.

    Returns:
        ``step(batch_images=None, batch_labels=None)``: 부를 때마다 학습 한 걸음을 하고 그 걸음의 손실(분리된
        스칼라 텐서)을 돌려주는 함수. 인자를 생략하면 만들 때 정한 합성 배치를, 주면 그 배치(예: ``DataLoader``
        의 출력)를 씁니다.

    Raises:
        TypeError: ``config`` 가 :class:`SpeedConfig` 가 아닐 때.
        ValueError: ``batch_size``, ``image_size``, ``num_classes`` 가 1보다 작거나, ``config.bf16_weights`` 일 때.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes는 1 이상의 정수여야 합니다. 받은 값: {num_classes!r}")
    if isinstance(config, SpeedConfig) and config.bf16_weights:
        raise ValueError("bf16_weights는 추론 전용입니다. 학습에는 bf16(autocast)을 쓰세요.")
    device = torch.device(device)
    model, forward, images, generator = _prepare(model, config, batch_size, image_size, device, seed)
    labels = torch.randint(0, num_classes, (batch_size,), generator=generator).to(device)
    model.train()
    optimizer = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4, **({"fused": True} if config.fused_sgd else {})
    )
    memory_format = _memory_format(config)

    def step(batch_images: Tensor | None = None, batch_labels: Tensor | None = None) -> Tensor:
        if (batch_images is None) != (batch_labels is None):
            raise ValueError("batch_images와 batch_labels는 함께 주거나 함께 생략해야 합니다.")
        x, y = images, labels
        if batch_images is not None:  # DataLoader 의 실제 배치: 장치와 메모리 배치를 맞춥니다
            x = batch_images.to(device).contiguous(memory_format=memory_format)
            y = batch_labels.to(device)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.bf16):
            loss = F.cross_entropy(forward(x), y)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def make_inference(
    model: nn.Module,
    config: SpeedConfig,
    batch_size: int,
    *,
    image_size: int = 224,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> Callable[[], Tensor]:
    """합성 배치 하나를 평가 모드로 추론하는 함수를 만듭니다(``torch.inference_mode``).

    ``model`` 은 제자리에서 평가 모드와 ``config`` 의 메모리 배치로 바뀝니다.

    Args:
        model: ``(N, 3, image_size, image_size)`` 를 받는 모델.
        config: :class:`SpeedConfig` (``fused_sgd`` 는 무시).
        batch_size: 배치 크기.
        image_size: 입력 이미지 한 변.
        seed: 합성 이미지의 시드.
        device: 장치.

    Returns:
        부를 때마다 같은 배치를 추론해 로짓 ``(batch_size, num_classes)`` 를 돌려주는 함수.

    Raises:
        TypeError: ``config`` 가 :class:`SpeedConfig` 가 아닐 때.
        ValueError: ``batch_size`` 나 ``image_size`` 가 1보다 작을 때.
    """
    device = torch.device(device)
    model, forward, images, _ = _prepare(model, config, batch_size, image_size, device, seed)
    model.eval()

    def infer() -> Tensor:
        with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.bf16):
            return forward(images)

    return infer


def count_flops(model: nn.Module, *, image_size: int = 224, train: bool = False) -> int:
    """이미지 한 장의 부동소수점 연산 수(FLOP)를 셉니다.

    순전파는 :func:`alexnetbook.parallel.layer_costs` (``torch.utils.flop_counter`` 로 ``meta`` 장치에서 셈)의
    층별 곱셈-누적(MAC)을 더해 2배 합니다(MAC 하나 = 곱셈 + 덧셈 = 2 FLOP). 합성곱과 FC 층만 세고 ReLU,
    LRN, 풀링, 손실 같은 원소별 연산은 세지 않습니다.

    ``train=True`` 면 학습 한 걸음의 연산을 셉니다. 합성곱·FC 층마다 역전파는 입력 기울기와 가중치 기울기를
    하나씩 계산하고, 둘 다 순전파와 MAC 수가 같습니다. 다만 이미지의 기울기는 필요 없으므로 첫 층은 가중치
    기울기만 계산합니다. 그래서 ``3 × 순전파 − 첫 층의 순전파`` 입니다. ``FlopCounterMode`` 로 역전파까지 직접
    세지 않는 까닭은, torch 2.14 의 ``flop_counter`` 가 묶음 합성곱(``groups > 1``)의 가중치 기울기를 묶음
    수만큼 부풀려 세기 때문입니다(``conv_backward_flop`` 이 묶음을 나누지 않음; pytorch/pytorch PR #183405).

    Args:
        model: ``(1, 3, image_size, image_size)`` 를 받고, 모듈 순서상 첫 ``Conv2d``/``Linear`` 가 이미지를 받는
            모델(:class:`~alexnetbook.models.AlexNet` 등). 원래 모델은 바뀌지 않습니다.
        image_size: 정사각형 입력의 한 변.
        train: ``True`` 면 순전파 + 역전파, ``False`` 면 순전파만.

    Returns:
        FLOP 수(정수).

    Raises:
        ValueError: ``image_size`` 가 1보다 작거나, 모델에 ``Conv2d``/``Linear`` 가 없을 때.
    """
    from ..parallel import layer_costs

    _check_batch(1, image_size)
    costs = layer_costs(model, image_size)
    forward = 2 * sum(cost.macs for cost in costs)
    return 3 * forward - 2 * costs[0].macs if train else forward
