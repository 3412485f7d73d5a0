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


@pytest.mark.parametrize("bad", [0, -1, (6,), (6, 0), (1, 2, 3)])
def test_bad_output_size_raises(bad):
    with pytest.raises(ValueError, match="^output_size"):
        adaptive_avg_pool2d(torch.zeros(1, 1, 4, 4), bad)
    with pytest.raises(ValueError, match="^output_size"):
        AdaptiveAvgPool2d(bad)


@pytest.mark.parametrize("bad", [2.5, True, (True, 3), (3, 2.0), "ab"])
def test_wrong_output_size_type_raises_type_error(bad):
    # alexnetbook.checks 의 규칙(타입이 틀리면 TypeError). torch 도 TypeError 입니다.
    with pytest.raises(TypeError, match="^output_size"):
        adaptive_avg_pool2d(torch.zeros(1, 1, 4, 4), bad)
    with pytest.raises(TypeError, match="^output_size"):
        AdaptiveAvgPool2d(bad)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match=r"^x.*\(4, 4\)"):
        adaptive_avg_pool2d(torch.zeros(4, 4), 2)
    with pytest.raises(TypeError, match="^x.*실수"):
        adaptive_avg_pool2d(torch.zeros(1, 1, 4, 4, dtype=torch.int64), 2)
    with pytest.raises(TypeError, match="^x"):
        adaptive_avg_pool2d([[1.0]], 2)
    with pytest.raises(ValueError, match="1 이상"):
        adaptive_avg_pool2d(torch.zeros(1, 1, 0, 4), 2)
    with pytest.raises(ValueError, match="^in_size"):
        adaptive_bins(0, 3)
    with pytest.raises(TypeError, match="^out_size"):
        adaptive_bins(3, True)


# ---------------------------------------------------------------- 메모리 배치(channels_last)


def layouts(shape: tuple[int, ...]) -> dict[str, torch.Tensor]:
    """같은 값의 여러 메모리 배치(float64, ±100). 4차원은 channels_last 와 잘라 낸 channels_last 도."""
    g = torch.Generator().manual_seed(sum(shape))
    x = torch.rand(shape, generator=g, dtype=torch.float64) * 200 - 100
    if len(shape) == 3:
        c, h, w = shape
        hwc = torch.rand(h, w, c, generator=g, dtype=torch.float64) * 200 - 100
        hwc = hwc.permute(2, 0, 1)  # (H, W, C) -> (C, H, W): 채널 보폭이 1 인 3차원 입력
        return {"contiguous": x, "hwc_permuted": hwc}
    wide = torch.rand(*shape[:3], 2 * shape[3], generator=g, dtype=torch.float64) * 200 - 100
    return {
        "contiguous": x,
        "channels_last": x.to(memory_format=torch.channels_last),
        "channels_last_strided": wide.to(memory_format=torch.channels_last)[..., ::2],  # 조밀하지 않은 channels_last
    }


@pytest.mark.parametrize("output_size", [(3, 2), 1, (6, 7), (None, 2)])
@pytest.mark.parametrize("shape", [(2, 3, 7, 5), (1, 4, 6, 6), (2, 1, 5, 4), (0, 3, 7, 5), (3, 7, 5)],
                         ids=["4d", "batch1", "one_channel", "empty_batch", "3d"])
def test_memory_format_value_and_gradient_match_torch(shape, output_size):
    """출력의 메모리 배치가 torch 와 같아야 합니다(예전에는 channels_last 입력에도 늘 연속 배치였음).

    3차원 입력과 빈 배치(N = 0)는 torch 처럼 보통의 연속 배치입니다. 값과 float64 기울기도 비교합니다.
    """
    for name, x in layouts(shape).items():
        ours_x, ref_x = x.requires_grad_(True), layouts(shape)[name].requires_grad_(True)  # 같은 값, 같은 보폭
        assert ours_x.stride() == ref_x.stride()
        ours = adaptive_avg_pool2d(ours_x, output_size)
        ref = F.adaptive_avg_pool2d(ref_x, output_size)
        assert ours.shape == ref.shape, name
        for fmt in (torch.channels_last, torch.contiguous_format):
            if ours.dim() == 4 or fmt == torch.contiguous_format:
                assert ours.is_contiguous(memory_format=fmt) == ref.is_contiguous(memory_format=fmt), (name, fmt)
        torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)
        grad = torch.randn(ref.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
        ours.backward(grad)
        ref.backward(grad)
        torch.testing.assert_close(ours_x.grad, ref_x.grad, rtol=0, atol=1e-12)


def test_channels_last_input_gives_channels_last_output():
    x = torch.randn(2, 3, 13, 13, dtype=torch.float64).to(memory_format=torch.channels_last)
    out = AdaptiveAvgPool2d(6)(x)
    assert out.is_contiguous(memory_format=torch.channels_last) and not out.is_contiguous()
    assert F.adaptive_avg_pool2d(x, 6).is_contiguous(memory_format=torch.channels_last)
    plain = adaptive_avg_pool2d(x.contiguous(), 6)
    assert plain.is_contiguous() and not plain.is_contiguous(memory_format=torch.channels_last)
