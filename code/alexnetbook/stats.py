"""실험 결과를 말하는 데 필요한 통계 두 가지: 시드 여러 개의 요약과, 같은 이미지에서 짝지은 비교.

* :func:`summarize`: 시드마다 잰 값들의 평균, 최솟값, 최댓값(:class:`Summary`). 책의 비교는 "시드 5개에서
  평균 …, 범위 … ~ …" 처럼 이 요약으로 씁니다. 값이 몇 개뿐이므로 표준편차나 신뢰구간 대신 범위를 그대로
  보여 줍니다.
* :func:`mcnemar`: 두 분류기(두 모델, 또는 1조각과 10조각 예측)가 **같은 이미지**에서 맞았는지를 짝지어
  비교하는 정확한(이항) McNemar 검정(:class:`McNemarResult`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from .checks import check_tensor

__all__ = ["McNemarResult", "Summary", "mcnemar", "summarize"]


@dataclass(frozen=True)
class Summary:
    """값 여러 개(보통 시드마다 하나)의 요약.

    Attributes:
        values: 원래 값들(순서 유지).
    """

    values: tuple[float, ...]

    @property
    def n(self) -> int:
        """값의 개수."""
        return len(self.values)

    @property
    def mean(self) -> float:
        """평균."""
        return sum(self.values) / len(self.values)

    @property
    def min(self) -> float:
        """최솟값."""
        return min(self.values)

    @property
    def max(self) -> float:
        """최댓값."""
        return max(self.values)

    def all_positive(self) -> bool:
        """모든 값이 0보다 큰지(모든 시드에서 같은 방향의 효과인지)."""
        return all(v > 0 for v in self.values)

    def all_negative(self) -> bool:
        """모든 값이 0보다 작은지."""
        return all(v < 0 for v in self.values)

    def consistent_sign(self) -> bool:
        """모든 값의 부호가 같은지(0 은 어느 쪽도 아님). 아니면 "시드마다 방향이 다름", 곧 일관된 효과가 없음."""
        return self.all_positive() or self.all_negative()

    def format(self, scale: float = 1.0, digits: int = 1, unit: str = "") -> str:
        """``"평균 12.3{unit}, 범위 10.1 ~ 14.0{unit} (시드 5개)"`` 처럼 씁니다.

        Args:
            scale: 값에 곱할 수(오류율 0–1 을 % 로 쓰려면 100).
            digits: 소수점 아래 자릿수.
            unit: 숫자 뒤에 붙일 단위(예: ``"%"``, ``"%p"``).
        """
        f = f"{{:.{digits}f}}"
        mean, low, high = (f.format(scale * v) for v in (self.mean, self.min, self.max))
        return f"평균 {mean}{unit}, 범위 {low}{unit} ~ {high}{unit} (시드 {self.n}개)"

    def __str__(self) -> str:
        return self.format(digits=3)


def summarize(values: Sequence[float]) -> Summary:
    """값들의 :class:`Summary`.

    Raises:
        ValueError: 값이 없거나 NaN 이 있을 때.
    """
    values = tuple(float(v) for v in values)
    if not values:
        raise ValueError("values가 비어 있습니다. 요약할 값이 하나 이상 있어야 합니다.")
    if any(math.isnan(v) for v in values):
        raise ValueError(f"values에 NaN 이 있습니다: {values}")
    return Summary(values)


@dataclass(frozen=True)
class McNemarResult:
    """두 분류기 A, B 를 같은 ``n`` 장의 이미지에서 짝지은 비교.

    두 분류기가 모두 맞히거나 모두 틀린 이미지는 차이에 기여하지 않습니다. 한쪽만 맞힌 이미지 수 ``b``
    (A 만 맞힘)와 ``c`` (B 만 맞힘)가 전부입니다. 두 오류율은 같은 이미지에서 잰 것이라 서로 독립이 아니므로,
    오류율 하나의 표준오차를 두 번 쓰는 대신 이 짝지은 통계를 씁니다.

    Attributes:
        n: 이미지 수.
        only_a: A 만 맞힌 이미지 수 ``b``.
        only_b: B 만 맞힌 이미지 수 ``c``.
    """

    n: int
    only_a: int
    only_b: int

    @property
    def error_difference(self) -> float:
        """오류율 차이 "A − B" ``(c − b) / n`` (음수면 A 가 나음)."""
        return (self.only_b - self.only_a) / self.n

    @property
    def standard_error(self) -> float:
        """짝지은 오류율 차이의 표준오차 ``sqrt(b + c − (b − c)² / n) / n``."""
        b, c, n = self.only_a, self.only_b, self.n
        return math.sqrt(max(b + c - (b - c) ** 2 / n, 0.0)) / n

    @property
    def p_value(self) -> float:
        """정확한(이항) McNemar 검정의 양측 p 값.

        두 분류기의 오류율이 같다는 귀무가설에서는 한쪽만 맞힌 ``m = b + c`` 장이 반반의 확률로 어느 한쪽에
        속하므로 ``b ~ Binomial(m, 1/2)`` 입니다. ``p = min(1, 2 · P(X ≤ min(b, c)))``.
        """
        b, c = self.only_a, self.only_b
        m = b + c
        if m == 0:
            return 1.0
        tail = sum(math.comb(m, i) for i in range(min(b, c) + 1))
        return min(1.0, 2 * tail / 2**m)  # 정수끼리의 나눗셈이라 큰 m 에서도 정확히 반올림됩니다


def mcnemar(correct_a: Tensor | Sequence[bool], correct_b: Tensor | Sequence[bool]) -> McNemarResult:
    """같은 이미지에서 A, B 가 맞았는지(``bool``)를 짝지어 :class:`McNemarResult` 를 만듭니다.

    Args:
        correct_a: ``(n,)`` A 가 이미지마다 맞았는지(:meth:`alexnetbook.evaluate.Predictions.correct`).
        correct_b: ``(n,)`` B 가 같은 순서의 이미지에서 맞았는지.

    Raises:
        ValueError: 길이가 다르거나 비었을 때.
    """
    a = torch.as_tensor(correct_a, dtype=torch.bool)
    b = torch.as_tensor(correct_b, dtype=torch.bool)
    check_tensor(a, "correct_a", dims=1)
    check_tensor(b, "correct_b", dims=1)
    if len(a) != len(b) or len(a) == 0:
        raise ValueError(f"correct_a 와 correct_b 는 길이가 같고 비어 있지 않아야 합니다. 받은 길이: {len(a)}, {len(b)}")
    return McNemarResult(n=len(a), only_a=int((a & ~b).sum()), only_b=int((b & ~a).sum()))
