"""alexnetbook.stats: 시드 요약과 정확한 McNemar 검정."""

from __future__ import annotations

import math

import pytest
import torch

from alexnetbook import stats


def test_summary_values_and_text():
    s = stats.summarize([0.1, -0.2, 0.4])
    assert (s.n, s.min, s.max) == (3, -0.2, 0.4)
    assert s.mean == pytest.approx(0.1)
    assert not s.consistent_sign() and not s.all_positive()
    assert s.format(scale=100, digits=1, unit="%p") == "평균 10.0%p, 범위 -20.0%p ~ 40.0%p (시드 3개)"
    assert stats.summarize([1, 2]).all_positive() and stats.summarize([-1, -2]).consistent_sign()
    assert not stats.summarize([0.0, 1.0]).consistent_sign()  # 0 은 어느 쪽도 아님
    with pytest.raises(ValueError, match="values"):
        stats.summarize([])
    with pytest.raises(ValueError, match="NaN"):
        stats.summarize([1.0, math.nan])


def binomial_two_sided(b: int, c: int) -> float:
    """scipy 없이 정의대로: 귀무가설 Binomial(b + c, 1/2) 에서 관측보다 극단적이거나 같은 결과의 확률."""
    m = b + c
    probs = [math.comb(m, k) / 2**m for k in range(m + 1)]
    observed = probs[b]
    return min(1.0, sum(p for p in probs if p <= observed * (1 + 1e-12)))


@pytest.mark.parametrize(("b", "c"), [(0, 0), (3, 3), (10, 2), (2, 10), (0, 7), (40, 25)])
def test_mcnemar_counts_and_exact_p_value(b, c):
    correct_a = [True] * b + [False] * c + [True] * 5 + [False] * 4
    correct_b = [False] * b + [True] * c + [True] * 5 + [False] * 4
    result = stats.mcnemar(torch.tensor(correct_a), correct_b)
    assert (result.n, result.only_a, result.only_b) == (b + c + 9, b, c)
    assert result.p_value == pytest.approx(binomial_two_sided(b, c), rel=1e-12)
    assert result.error_difference == pytest.approx((c - b) / result.n)
    assert result.standard_error >= 0


def test_mcnemar_agrees_with_scipy_when_available():
    scipy_stats = pytest.importorskip("scipy.stats")
    result = stats.mcnemar([True] * 30 + [False] * 12, [False] * 30 + [True] * 12)
    assert result.p_value == pytest.approx(scipy_stats.binomtest(12, 42, 0.5).pvalue, rel=1e-10)


def test_mcnemar_rejects_bad_inputs():
    with pytest.raises(ValueError, match="길이"):
        stats.mcnemar([True, False], [True])
    with pytest.raises(ValueError, match="길이"):
        stats.mcnemar([], [])
