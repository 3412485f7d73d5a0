"""AlexNet 의 매개변수와 연산량이 층마다 어디에 있는지 세기.

* :func:`layer_costs`: 학습 층(``Conv2d``, ``Linear``)마다 매개변수 수와 이미지 한 장의 곱셈-누적(MAC) 횟수를
  ``torch.utils.flop_counter`` 로 셉니다(``meta`` 장치에서 세므로 실제 계산은 하지 않음). Krizhevsky(2014)의
  "One weird trick" 이 합성곱 층에는 데이터 병렬을, FC 층에는 모델 병렬을 권한 근거(연산은 합성곱 층에,
  매개변수는 FC 층에 몰려 있음)를 직접 확인합니다.
* :func:`count_flops`: 이미지 한 장의 순전파(또는 학습 한 스텝)의 부동소수점 연산 수. 성능 장이 측정한
  이미지/초를 GFLOP/s 로 바꿀 때 씁니다.

PyTorch 버전에 따라 ``FlopCounterMode`` 가 층별 수를 주지 않으면(torch 2.2 는 전체 합만 냄) 0 을 조용히
돌려주지 않고 ``RuntimeError`` 를 냅니다. 잘못된 숫자를 오류 없이 출력하는 것보다 멈추는 편이 낫기 때문입니다.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .checks import check_int

__all__ = ["LayerCost", "count_flops", "layer_costs"]


@dataclass(frozen=True)
class LayerCost:
    """학습 층 하나의 비용.

    Attributes:
        name: 모듈 경로(예: ``features.conv1``, ``classifier.fc8``).
        kind: ``"conv"`` 또는 ``"fc"``.
        params: 매개변수(가중치 + 편향) 수.
        macs: 이미지 한 장의 순전파 곱셈-누적 횟수(``flop_counter`` 의 FLOP ÷ 2).
    """

    name: str
    kind: str
    params: int
    macs: int


def layer_costs(model: nn.Module, input_size: int = 224) -> list[LayerCost]:
    """모델의 ``Conv2d`` 와 ``Linear`` 층마다 매개변수 수와 이미지 한 장의 순전파 MAC 을 셉니다.

    ``torch.utils.flop_counter.FlopCounterMode`` 로 ``meta`` 장치에서 세므로 실제 계산은 하지 않습니다
    (큰 모델도 즉시 끝남). flop_counter 는 곱셈과 덧셈을 따로 세어 MAC 의 두 배를 보고하므로 2로 나눕니다.

    Args:
        model: ``(N, 3, H, W)`` 를 받는 모델. 복사본을 ``meta`` 로 옮겨 세므로 원래 모델은 바뀌지 않습니다.
        input_size: 정사각형 입력의 한 변.

    Returns:
        층 순서대로의 :class:`LayerCost` 목록.

    Raises:
        ValueError: ``input_size`` 가 1보다 작거나, 모델에 ``Conv2d``/``Linear`` 가 없을 때.
        RuntimeError: ``FlopCounterMode`` 가 어떤 층의 연산 수를 주지 않았을 때(층별로 세지 않는 torch 2.2,
            모듈 이름을 다르게 붙이는 버전, 또는 순전파에서 쓰이지 않는 층).
    """
    check_int(input_size, "input_size", minimum=1)
    meta_model = copy.deepcopy(model).to("meta").eval()
    layers = [(n, m) for n, m in meta_model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    if not layers:
        raise ValueError("model에 Conv2d 나 Linear 층이 없습니다.")
    dtype = next(meta_model.parameters()).dtype
    counter = FlopCounterMode(display=False)
    with counter:
        meta_model(torch.zeros(1, 3, input_size, input_size, device="meta", dtype=dtype))
    counts = counter.get_flop_counts()
    root = type(meta_model).__name__
    missing = [name for name, _ in layers if f"{root}.{name}" not in counts]
    if missing:
        raise RuntimeError(
            f"torch {torch.__version__}의 FlopCounterMode가 층 {missing[:3]}의 연산 수를 주지 않았습니다"
            f"(받은 이름: {sorted(counts)[:4]}). 층별로 세지 않거나 모듈 이름을 다르게 붙이는 torch 버전이거나"
            "(층별 수는 torch 2.4 이상에서 확인했습니다), 그 층이 순전파에서 쓰이지 않았습니다."
        )
    costs = []
    for name, module in layers:
        flops = sum(counts[f"{root}.{name}"].values())
        costs.append(
            LayerCost(
                name=name,
                kind="conv" if isinstance(module, nn.Conv2d) else "fc",
                params=sum(p.numel() for p in module.parameters()),
                macs=int(flops) // 2,
            )
        )
    return costs


def count_flops(model: nn.Module, *, image_size: int = 224, train: bool = False) -> int:
    """이미지 한 장의 부동소수점 연산 수(FLOP)를 셉니다.

    순전파는 :func:`layer_costs` (``torch.utils.flop_counter`` 로 ``meta`` 장치에서 셈)의
    층별 곱셈-누적(MAC)을 더해 2배 합니다(MAC 하나 = 곱셈 + 덧셈 = 2 FLOP). 합성곱과 FC 층만 세고 ReLU,
    LRN, 풀링, 손실 같은 원소별 연산은 세지 않습니다.

    ``train=True`` 면 학습 한 스텝의 연산을 셉니다. 합성곱·FC 층마다 역전파는 입력 기울기와 가중치 기울기를
    하나씩 계산하고, 둘 다 순전파와 MAC 수가 같습니다. 다만 이미지의 기울기는 필요 없으므로 첫 층은 가중치
    기울기만 계산합니다. 그래서 ``3 × 순전파 − 첫 층의 순전파`` 입니다. ``FlopCounterMode`` 로 역전파까지 직접
    세지 않는 까닭은, ``flop_counter`` 가 묶음 합성곱(``groups > 1``)의 가중치 기울기를 묶음 수만큼 부풀려
    세기 때문입니다(``conv_backward_flop`` 이 묶음으로 나누지 않음). torch 2.14.1 에서 ``Conv2d(8, 8, 3, groups=2)``
    의 역전파로 확인했습니다(pytorch/pytorch PR #183405 가 이 계산을 고치려 한 PR 입니다).

    Args:
        model: ``(1, 3, image_size, image_size)`` 를 받고, 모듈 순서상 첫 ``Conv2d``/``Linear`` 가 이미지를 받는
            모델(:class:`~alexnetbook.models.AlexNet` 등). 원래 모델은 바뀌지 않습니다.
        image_size: 정사각형 입력의 한 변.
        train: ``True`` 면 순전파 + 역전파, ``False`` 면 순전파만.

    Returns:
        FLOP 수(정수).

    Raises:
        ValueError: ``image_size`` 가 1보다 작거나, 모델에 ``Conv2d``/``Linear`` 가 없을 때.
        RuntimeError: 층별 연산 수를 셀 수 없을 때(:func:`layer_costs`).
    """
    check_int(image_size, "image_size", minimum=1)
    costs = layer_costs(model, image_size)
    forward = 2 * sum(cost.macs for cost in costs)
    return 3 * forward - 2 * costs[0].macs if train else forward
