"""드롭아웃(dropout)의 두 가지 방식: 논문 §4.2의 "테스트 때 ×(1−p)" 와 오늘날의 역드롭아웃.

* ``mode="paper"``: 학습 때 각 유닛을 확률 ``1 − p`` 로 남기고(나머지는 0) 크기는 그대로 둡니다.
  테스트 때는 모든 유닛을 쓰되 출력에 ``1 − p`` 를 곱합니다. AlexNet 은 ``p = 0.5`` 여서
  "테스트 때 0.5를 곱한다" 가 됩니다(Krizhevsky et al., 2012, §4.2).
* ``mode="inverted"``: 학습 때 남긴 유닛을 ``1 / (1 − p)`` 배 키우고, 테스트 때는 아무것도 하지
  않습니다. ``torch.nn.Dropout`` 과 ``torch.nn.functional.dropout`` 이 이 방식입니다.

두 방식 모두 학습 때 출력의 기댓값이 테스트 때 출력과 같습니다. 다른 점은 ``1 − p`` 배율을 학습과
테스트 중 어디에 붙이느냐 하나뿐입니다. 마스크는 ``torch.nn.functional.dropout`` 과 같은 방법
(``Tensor.bernoulli_(1 − p)``)으로 뽑으므로, 같은 난수 상태에서 같은 유닛을 끕니다.
"""

from __future__ import annotations

import torch
import torch.fx
from torch import Tensor, nn

from .checks import check_choice, check_float, check_tensor

__all__ = ["DROPOUT_MODES", "Dropout", "dropout", "dropout_mask"]

#: 지원하는 드롭아웃 방식.
DROPOUT_MODES = ("inverted", "paper")


def _check_p(p: float) -> float:
    """유닛을 끌 확률 ``p`` 는 ``[0, 1)`` 의 실수(``p = 1`` 이면 모든 유닛이 꺼져 ``1/(1−p)`` 가 정의되지 않음)."""
    return check_float(p, "p", minimum=0.0, maximum=1.0, open_max=True)


def dropout_mask(input: Tensor, p: float, generator: torch.Generator | None = None) -> Tensor:
    """``input`` 과 같은 모양의 0/1 마스크. 각 원소가 확률 ``1 − p`` 로 1(유닛을 남김)입니다.

    ``torch.nn.functional.dropout`` 이 CPU 에서 쓰는 것과 같은 ``bernoulli_(1 − p)`` 호출이므로,
    ``generator`` 가 ``None`` 이면 같은 전역 시드에서 같은 마스크가 나옵니다.

    Args:
        input: 아무 모양의 실수 텐서. 모양, dtype, 장치만 씁니다.
        p: 유닛을 끌 확률, ``[0, 1)``.
        generator: 난수 생성기. ``None`` 이면 PyTorch 전역 난수를 씁니다.

    Returns:
        ``input`` 과 모양, dtype 이 같은 0/1 텐서.
    """
    p = _check_p(p)
    return torch.empty_like(input).bernoulli_(1.0 - p, generator=generator)


def dropout(
    input: Tensor,
    p: float = 0.5,
    *,
    training: bool = True,
    mode: str = "inverted",
    generator: torch.Generator | None = None,
) -> Tensor:
    """드롭아웃 함수. :class:`Dropout` 의 함수판입니다.

    Args:
        input: 아무 모양의 실수 텐서.
        p: 유닛을 끌 확률, ``[0, 1)``. 논문은 0.5.
        training: ``True`` 면 마스크를 곱하고, ``False`` 면 테스트 때의 계산을 합니다.
        mode: ``"inverted"`` (학습 때 ``1/(1−p)`` 배, 테스트 때 그대로) 또는
            ``"paper"`` (학습 때 배율 없음, 테스트 때 ``(1−p)`` 배).
        generator: 마스크를 뽑을 난수 생성기. ``None`` 이면 전역 난수.

    Returns:
        ``input`` 과 같은 모양의 텐서.

    Raises:
        TypeError: ``input`` 이 실수 텐서가 아니거나 ``p`` 가 실수가 아닐 때.
        ValueError: ``p`` 가 ``[0, 1)`` 밖이거나 ``mode`` 가 잘못되었을 때.
    """
    check_tensor(input, "input", floating=True)
    p = _check_p(p)
    check_choice(mode, "mode", DROPOUT_MODES)
    if not training:
        return input * (1.0 - p) if mode == "paper" else input
    mask = dropout_mask(input, p, generator)
    if mode == "paper":
        return input * mask
    # torch.nn.functional.dropout 과 같은 순서로 계산합니다(마스크를 먼저 나눔): 결과가 비트 단위로 같습니다.
    return input * (mask / (1.0 - p))


# FX 추적(torch.fx, create_feature_extractor)은 이 함수 안의 입력 검사와 난수 분기를 추적할 수 없으므로
# 호출 한 번으로 기록합니다. 추적한 그래프에서도 학습/평가 모드에 따라 그대로 동작합니다.
torch.fx.wrap("dropout")


class Dropout(nn.Module):
    """드롭아웃 층. ``mode`` 로 논문 방식과 역드롭아웃 방식을 고릅니다.

    ``mode="inverted"`` 는 ``torch.nn.Dropout(p)`` 와 같은 일을 합니다. ``mode="paper"`` 는
    AlexNet 논문 §4.2 그대로, 학습 때는 끄기만 하고 테스트(``eval()``) 때 ``1 − p`` 를 곱합니다.

    Args:
        p: 유닛을 끌 확률, ``[0, 1)``. 기본 0.5 (논문 값).
        mode: ``"inverted"`` 또는 ``"paper"``.
        generator: 마스크를 뽑을 ``torch.Generator``. ``None`` 이면 전역 난수
            (``torch.nn.functional.dropout`` 과 같은 마스크).

    Raises:
        TypeError: ``p`` 가 실수가 아닐 때.
        ValueError: ``p`` 가 ``[0, 1)`` 밖이거나 ``mode`` 가 잘못되었을 때.

    Example:
        >>> layer = Dropout(0.5, mode="paper").eval()
        >>> layer(torch.ones(3))
        tensor([0.5000, 0.5000, 0.5000])
    """

    def __init__(self, p: float = 0.5, mode: str = "inverted", *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.p = _check_p(p)
        self.mode = check_choice(mode, "mode", DROPOUT_MODES)
        self.generator = generator

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, training=self.training, mode=self.mode, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode!r}"
