"""alexnetbook.adaptive_pooling 의 테스트: 구간 공식과 torch 의 적응형 평균 풀링(순전파·역전파, float64)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from alexnetbook.adaptive_pooling import AdaptiveAvgPool2d, adaptive_avg_pool2d, adaptive_bins


@pytest.mark.parametrize(("size", "out"), [(10, 4), (13, 6), (7, 6), (5, 6), (6, 6), (12, 6), (1, 3), (31, 7)])
def test_bins_follow_floor_ceil_formula(size, out):
    bins = adaptive_bins(size, out)
    assert len(bins) == out
    for i, (start, end) in enumerate(bins):
        assert start == math.floor(i * size / out)
        assert end == math.ceil((i + 1) * size / out)
        assert 0 <= start < end <= size
    assert bins[0][0] == 0 and bins[-1][1] == size
    # 이웃 구간 사이에 빈틈이 없습니다(모든 입력이 어떤 칸에 들어감).
    assert all(b[0] <= a[1] for a, b in zip(bins, bins[1:]))


def test_bins_worked_example_and_divisible_case():
    assert adaptive_bins(10, 4) == [(0, 3), (2, 5), (5, 8), (7, 10)]  # 화소 2와 7이 두 칸에 들어감
    assert adaptive_bins(12, 6) == [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10), (10, 12)]  # AvgPool2d(2) 와 같음
    assert adaptive_bins(5, 6) == [(0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 5)]  # 늘리기


@pytest.mark.parametrize(
    ("shape", "output_size"),
    [
        ((2, 3, 13, 13), 6),
        ((2, 3, 7, 7), (6, 6)),
        ((1, 4, 5, 5), 6),
        ((1, 2, 6, 6), 6),
        ((3, 2, 10, 7), (4, 3)),
        ((2, 1, 1, 1), (3, 2)),
        ((2, 5, 9, 11), (None, 4)),
        ((4, 9, 8), 3),  # (C, H, W)
    ],
)
def test_matches_torch_forward_and_backward_float64(shape, output_size):
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(shape, generator=g, dtype=torch.float64) * 200 - 100).requires_grad_(True)  # ±100
    x_ref = x.detach().clone().requires_grad_(True)
    ours = adaptive_avg_pool2d(x, output_size)
    ref = F.adaptive_avg_pool2d(x_ref, output_size)
    assert ours.shape == ref.shape
    assert (ours - ref).abs().max().item() < 1e-12
    grad = torch.randn(ref.shape, generator=g, dtype=torch.float64)
    ours.backward(grad)
    ref.backward(grad)
    assert (x.grad - x_ref.grad).abs().max().item() < 1e-12


def test_divisible_case_equals_avg_pool():
    x = torch.randn(2, 3, 12, 12, dtype=torch.float64)
    assert torch.allclose(adaptive_avg_pool2d(x, 6), F.avg_pool2d(x, 2), atol=1e-12, rtol=0)


def test_module_matches_torch_module():
    x = torch.randn(1, 3, 13, 9, dtype=torch.float64)
    ours, ref = AdaptiveAvgPool2d((6, 4)), nn.AdaptiveAvgPool2d((6, 4))
    assert torch.allclose(ours(x), ref(x), atol=1e-12, rtol=0)
    assert "output_size=(6, 4)" in repr(ours)


@pytest.mark.parametrize("bad", [0, -1, (6,), (6, 0), 2.5, (True, 3)])
def test_bad_output_size_raises(bad):
    with pytest.raises(ValueError, match="output_size"):
        adaptive_avg_pool2d(torch.zeros(1, 1, 4, 4), bad)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        adaptive_avg_pool2d(torch.zeros(4, 4), 2)
    with pytest.raises(TypeError, match="실수"):
        adaptive_avg_pool2d(torch.zeros(1, 1, 4, 4, dtype=torch.int64), 2)
    with pytest.raises(ValueError, match="1 이상"):
        adaptive_avg_pool2d(torch.zeros(1, 1, 0, 4), 2)
    with pytest.raises(ValueError, match="in_size"):
        adaptive_bins(0, 3)
