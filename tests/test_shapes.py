"""alexnetbook.shapes: 합성곱·풀링 출력 크기 공식을 PyTorch 가 실제로 내는 모양(과 오류)과 비교합니다."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from alexnetbook.shapes import check_pooling_padding, pooling_output_size


def torch_pool_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int | None:
    """``F.max_pool2d`` 가 내는 출력 크기. 오류(RuntimeError)면 ``None``."""
    try:
        return F.max_pool2d(torch.zeros(1, 1, size, size), k, s, p, d, ceil_mode=ceil_mode).shape[-1]
    except RuntimeError:
        return None


def our_size(*args, **kwargs) -> int | None:
    """:func:`pooling_output_size` 의 값. ValueError 면 ``None``."""
    try:
        return pooling_output_size(*args, **kwargs)
    except ValueError:
        return None


def test_sweep_matches_torch_max_pool2d():
    """size 1..12, kernel 1..7, stride 1..4, padding 0..kernel//2, dilation 1..3, ceil_mode 둘 다.

    모양이 같고, 둘 다 오류를 내는 경우도 같아야 합니다. ``dilation = 1`` 이면 ``F.avg_pool2d`` 와도 비교합니다.
    """
    mismatches, raised, ceil_rescued = [], 0, 0
    grid = itertools.product(range(1, 13), range(1, 8), range(1, 5), range(1, 4), (False, True))
    for size, k, s, d, ceil_mode in grid:
        for p in range(k // 2 + 1):
            ours = our_size(size, k, s, p, d, ceil_mode)
            ref = torch_pool_size(size, k, s, p, d, ceil_mode)
            if ours != ref:
                mismatches.append(((size, k, s, p, d, ceil_mode), ours, ref))
            if d == 1:
                try:
                    avg = F.avg_pool2d(torch.zeros(1, 1, size, size), k, s, p, ceil_mode=ceil_mode).shape[-1]
                except RuntimeError:
                    avg = None
                if ours != avg:
                    mismatches.append(((size, k, s, p, d, ceil_mode, "avg"), ours, avg))
            raised += ref is None
            ceil_rescued += ceil_mode and ref is not None and our_size(size, k, s, p, d, False) is None
    assert mismatches == []
    assert raised > 100 and ceil_rescued > 50  # 오류 경우와 "올림이라서 1칸 생기는" 경우를 실제로 덮었는지


@pytest.mark.parametrize(
    ("size", "k", "s", "d"),
    [(2, 3, 2, 1), (4, 5, 2, 1), (1, 2, 2, 1), (5, 6, 4, 1), (3, 5, 3, 1), (3, 3, 3, 2)],
)
def test_ceil_mode_window_larger_than_input_gives_one_like_torch(size, k, s, d):
    # 창(실제 폭 d(k-1)+1)이 입력보다 커도 입력 안에서 시작하면 올림에서는 출력 1칸. 내림에서는 둘 다 오류.
    assert pooling_output_size(size, k, s, 0, d, ceil_mode=True) == 1
    assert F.max_pool2d(torch.zeros(1, 1, size, size), k, s, 0, d, ceil_mode=True).shape[-2:] == (1, 1)
    with pytest.raises(ValueError, match="kernel_size"):
        pooling_output_size(size, k, s, 0, d, ceil_mode=False)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.max_pool2d(torch.zeros(1, 1, size, size), k, s, 0, d, ceil_mode=False)


@pytest.mark.parametrize(
    ("size", "k", "s", "p", "expected"), [(5, 2, 2, 1, 3), (7, 2, 2, 1, 4), (4, 4, 3, 2, 2), (2, 1, 2, 0, 1)]
)
def test_ceil_mode_drops_a_window_that_starts_in_the_right_padding(size, k, s, p, expected):
    # size 5, k 2, s 2, p 1: 올림 (5 + 2 - 2 + 1) // 2 + 1 = 4 이지만 넷째 창의 시작 3·2 = 6 이 size + p = 6 이상,
    # 곧 오른쪽 덧대기 안이므로 버려서 3.
    raw = (size + 2 * p - k + s - 1) // s + 1
    assert (raw - 1) * s >= size + p and raw == expected + 1
    assert pooling_output_size(size, k, s, p, ceil_mode=True) == expected
    assert F.max_pool2d(torch.zeros(1, 1, size, size), k, s, p, ceil_mode=True).shape[-1] == expected


def test_sweep_matches_torch_conv2d_without_padding_limit():
    """합성곱도 같은 공식(내림)입니다. 합성곱에는 덧대기 제한이 없으므로 padding 을 kernel_size + 1 까지 훑습니다."""
    mismatches = []
    for size, k, s, d in itertools.product(range(1, 13), range(1, 8), range(1, 5), range(1, 4)):
        weight = torch.zeros(1, 1, k, k)
        for p in range(k + 2):
            try:
                ref = F.conv2d(torch.zeros(1, 1, size, size), weight, stride=s, padding=p, dilation=d).shape[-1]
            except RuntimeError:
                ref = None
            ours = our_size(size, k, s, p, d)
            if ours != ref:
                mismatches.append(((size, k, s, p, d), ours, ref))
    assert mismatches == []


def test_stride_defaults_to_kernel_size_and_alexnet_sizes():
    assert pooling_output_size(13, 2) == pooling_output_size(13, 2, 2) == 6
    assert [pooling_output_size(n, 3, 2) for n in (55, 27, 13)] == [27, 13, 6]
    assert pooling_output_size(224, 11, 4, 2) == 55  # conv1


@pytest.mark.parametrize("k", range(1, 8))
@pytest.mark.parametrize("d", [1, 2, 3])
def test_pooling_padding_limit_matches_torch(k, d):
    """풀링의 덧대기 한계: torch 가 오류를 내는 padding 에서만 :func:`check_pooling_padding` 도 오류."""
    for p in range(k + 2):
        try:
            F.max_pool2d(torch.zeros(1, 1, 40, 40), k, 1, p, d)
            torch_ok = True
        except RuntimeError as err:
            assert "pad should be" in str(err)
            torch_ok = False
        try:
            assert check_pooling_padding(k, p, d) == p
            ours_ok = True
        except ValueError as err:
            assert str(err).startswith("padding")
            ours_ok = False
        assert ours_ok is torch_ok, (k, p, d)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"size": 0}, ValueError, "size"),
        ({"size": 2.0}, TypeError, "size"),
        ({"kernel_size": 0}, ValueError, "kernel_size"),
        ({"kernel_size": True}, TypeError, "kernel_size"),
        ({"stride": 0}, ValueError, "stride"),
        ({"padding": -1}, ValueError, "padding"),
        ({"dilation": 0}, ValueError, "dilation"),
        ({"ceil_mode": 1}, TypeError, "ceil_mode"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, name):
    args = {"size": 8, "kernel_size": 3, "stride": 2, "padding": 0, "dilation": 1, "ceil_mode": False} | kwargs
    with pytest.raises(error, match=rf"^{name}"):
        pooling_output_size(**args)


def test_check_pooling_padding_bad_types():
    with pytest.raises(TypeError, match="^padding"):
        check_pooling_padding(3, 1.0)
    with pytest.raises(ValueError, match="^padding.*kernel_size // 2 = 1"):
        check_pooling_padding(3, 2)
    with pytest.raises(ValueError, match="^dilation"):
        check_pooling_padding(3, 1, 0)
