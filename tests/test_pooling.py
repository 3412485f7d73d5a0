"""alexnetbook.pooling: NumPy im2col/col2im 과 최대 풀링을 PyTorch 기준 구현과 비교합니다."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from alexnetbook import pooling, shapes
from alexnetbook.pooling import Im2colMaxPool2d, MaxPool2d, col2im, im2col, pooling_output_size
from benchmarks import pooling as pooling_benchmark

POOLS = (MaxPool2d, Im2colMaxPool2d)
TOL = {np.float64: 1e-12, np.float32: 1e-5}

# (입력 모양, kernel_size, stride, padding): 논문의 겹치는 풀링(3/2)과 겹치지 않는 풀링(2/2),
# 홀수 크기(13 → 6), 배치 1, 패딩 1, 직사각형 입력, 창과 입력이 같은 크기.
CASES = [
    ((2, 3, 13, 13), 3, 2, 0),
    ((2, 3, 13, 13), 2, 2, 0),
    ((1, 4, 11, 9), 3, 2, 1),
    ((1, 1, 7, 7), 3, 2, 0),
    ((3, 2, 8, 10), 2, 2, 1),
    ((2, 2, 9, 6), 3, 1, 1),
    ((2, 5, 12, 12), 5, 3, 2),
    ((1, 2, 3, 3), 3, 3, 0),
    ((2, 2, 4, 5), 1, 1, 0),
]


def random_cases(count: int = 25, seed: int = 2012) -> list[tuple[tuple[int, int, int, int], int, int, int]]:
    """시드를 고정한 무작위 (입력 모양, kernel_size, stride, padding) ``count`` 개.

    N 1–3, C 1–4, k 1–5, s 1..k+1 (겹침, 딱 맞음, 창 사이에 빈칸), p 0..k//2 (PyTorch 의 한계),
    H 와 W 는 덧댄 입력에 창이 들어가는 최소 크기 ``max(1, k - 2p)`` 부터 20 까지.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(count):
        k = int(rng.integers(1, 6))
        s = int(rng.integers(1, k + 2))
        p = int(rng.integers(0, k // 2 + 1))
        low = max(1, k - 2 * p)
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(low, 21)), int(rng.integers(low, 21)))
        cases.append((shape, k, s, p))
    return cases


RANDOM_CASES = random_cases()


def torch_pool(
    x: np.ndarray, dout: np.ndarray, k: int, s: int, p: int, ceil_mode: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PyTorch 의 출력, 입력 기울기(autograd), 최댓값의 평면 번호(``return_indices``)."""
    xt = torch.from_numpy(x).requires_grad_()
    out, idx = F.max_pool2d(xt, k, s, p, ceil_mode=ceil_mode, return_indices=True)
    out.backward(torch.from_numpy(dout))
    return out.detach().numpy(), xt.grad.numpy(), idx.numpy()


def grid_index(x: np.ndarray, pool: MaxPool2d) -> np.ndarray:
    """출력마다 기울기를 하나씩 보내 최댓값으로 고른 입력 칸의 평면 번호 ``h·W + w`` 를 찾습니다."""
    out = pool.forward(x)
    n, c, oh, ow = out.shape
    idx = np.empty(out.shape, dtype=np.int64)
    for a in range(oh):
        for b in range(ow):
            dout = np.zeros(out.shape, dtype=x.dtype)
            dout[:, :, a, b] = 1
            dx = pool.backward(dout)  # (N, C, H, W): 고른 칸 하나만 1
            idx[:, :, a, b] = dx.reshape(n, c, -1).argmax(axis=2)  # (N, C, H, W) -> (N, C, H·W)
    return idx


def assert_exactly_like_torch(
    pool: MaxPool2d, x: np.ndarray, rng: np.random.Generator, k: int, s: int, p: int, ceil_mode: bool = False
) -> None:
    """출력, 입력 기울기, 최댓값 위치가 PyTorch 와 정확히 같은지 봅니다(정수 기울기라 더하는 순서와 상관없이 정확)."""
    out = pool.forward(x)
    dout = rng.integers(-4, 5, out.shape).astype(np.float64)
    ref_out, ref_dx, ref_idx = torch_pool(x, dout, k, s, p, ceil_mode=ceil_mode)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(pool.backward(dout), ref_dx)
    np.testing.assert_array_equal(grid_index(x, pool), ref_idx)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,k,s,p", CASES + RANDOM_CASES)
@pytest.mark.parametrize("pool_cls", POOLS)
def test_matches_torch_forward_and_backward(pool_cls, shape, k, s, p, dtype):
    """고른 경우(CASES)와 시드를 고정한 무작위 경우 25개(RANDOM_CASES): 순전파와 autograd 역전파."""
    rng = np.random.default_rng(hash((shape, k, s, p)) % 2**32)
    x = rng.standard_normal(shape).astype(dtype)
    pool = pool_cls(k, s, p)
    out = pool.forward(x)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx = pool.backward(dout)
    ref_out, ref_dx, _ = torch_pool(x, dout, k, s, p)
    assert out.shape == ref_out.shape == (shape[0], shape[1], pooling_output_size(shape[2], k, s, p),
                                          pooling_output_size(shape[3], k, s, p))
    assert out.dtype == dx.dtype == dtype
    np.testing.assert_array_equal(out, ref_out)  # 최댓값은 고르기만 하므로 정확히 같아야 함
    np.testing.assert_allclose(dx, ref_dx, rtol=0, atol=TOL[dtype])


def test_random_cases_cover_the_edges():
    """무작위 추첨이 실제로 다양한 경우를 덮는지(추첨을 바꿨을 때 조용히 좁아지지 않도록)."""
    ks, strides = {k for _, k, _, _ in RANDOM_CASES}, [(k, s) for _, k, s, _ in RANDOM_CASES]
    assert len(RANDOM_CASES) == 25 and ks == {1, 2, 3, 4, 5}
    assert any(s < k for k, s in strides) and any(s == k for k, s in strides) and any(s > k for k, s in strides)
    assert any(p > 0 for *_, p in RANDOM_CASES) and any(shape[0] == 1 for shape, *_ in RANDOM_CASES)
    assert any(shape[2] % 2 == 1 for shape, *_ in RANDOM_CASES) and any(shape[2] != shape[3] for shape, *_ in RANDOM_CASES)


@pytest.mark.parametrize("pool_cls", POOLS)
@pytest.mark.parametrize("k,s", [(3, 2), (2, 2)])
def test_odd_size_13_to_6(pool_cls, k, s):
    x = np.random.default_rng(0).standard_normal((1, 2, 13, 13))
    assert pool_cls(k, s).forward(x).shape == (1, 2, 6, 6)


@pytest.mark.parametrize("pool_cls", POOLS)
@pytest.mark.parametrize("k,s,p", [(3, 2, 1), (2, 2, 1), (3, 1, 1)])
def test_all_negative_input_with_padding(pool_cls, k, s, p):
    """덧대기를 0으로 하면 음수만 있는 창의 최댓값이 0이 됩니다. -inf 덧대기는 그렇지 않아야 합니다."""
    rng = np.random.default_rng(1)
    x = -1.0 - rng.random((2, 3, 7, 8))  # 모두 -1 보다 작음
    pool = pool_cls(k, s, p)
    out = pool.forward(x)
    dout = rng.standard_normal(out.shape)
    ref_out, ref_dx, _ = torch_pool(x, dout, k, s, p)
    assert (out < -1).all()
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_allclose(pool.backward(dout), ref_dx, rtol=0, atol=1e-12)


@pytest.mark.parametrize("pool_cls", POOLS)
@pytest.mark.parametrize("k,s,p", [(3, 2, 0), (2, 2, 0), (3, 2, 1), (3, 1, 1)])
@pytest.mark.parametrize("kind", ["relu", "zeros", "plus_minus_100"])
def test_ties_pick_first_maximum_like_torch(pool_cls, k, s, p, kind):
    """동점이 많을 때(ReLU 뒤의 0, 모두 0, ±100) 최댓값 위치와 기울기가 PyTorch 와 정확히 같아야 합니다."""
    rng = np.random.default_rng(2)
    shape = (2, 3, 9, 9)
    if kind == "relu":
        x = np.maximum(rng.standard_normal(shape), 0)
    elif kind == "zeros":
        x = np.zeros(shape)
    else:
        x = rng.choice([-100.0, 100.0], size=shape)
    assert_exactly_like_torch(pool_cls(k, s, p), x, rng, k, s, p)


@pytest.mark.parametrize("pool_cls", POOLS)
def test_overlapping_windows_accumulate_gradient(pool_cls):
    """z > s 이면 한 칸이 여러 창의 최댓값이 되고, 그 칸의 기울기는 창마다의 기울기의 합입니다."""
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0  # 3×3 창, 보폭 2 인 네 창이 모두 가운데 칸을 덮음
    pool = pool_cls(3, 2)
    out = pool.forward(x)
    np.testing.assert_array_equal(out, np.ones((1, 1, 2, 2)))
    dx = pool.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    assert dx[0, 0, 2, 2] == 10.0
    assert dx.sum() == 10.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nan_is_treated_as_maximum_like_torch(dtype):
    x = np.random.default_rng(3).standard_normal((2, 2, 7, 7)).astype(dtype)
    x[0, 0, 1, 1] = x[0, 0, 2, 2] = x[1, 1, 4, 0] = np.nan
    pool = MaxPool2d(3, 2, 1)
    out = pool.forward(x)
    dout = np.ones(out.shape, dtype=dtype)
    ref_out, ref_dx, _ = torch_pool(x, dout, 3, 2, 1)
    assert out.dtype == dtype
    assert np.isnan(out).any()
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref_out))
    np.testing.assert_array_equal(out[~np.isnan(out)], ref_out[~np.isnan(ref_out)])
    np.testing.assert_array_equal(pool.backward(dout), ref_dx)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("pool_cls", POOLS)
def test_infinite_upstream_gradient_goes_only_to_the_maximum(pool_cls, dtype):
    x = np.random.default_rng(4).standard_normal((1, 2, 7, 7)).astype(dtype)
    pool = pool_cls(3, 2)
    dout = np.ones(pool.forward(x).shape, dtype=dtype)
    dout[0, 1, 0, 2] = np.inf
    _, ref_dx, _ = torch_pool(x, dout, 3, 2, 0)
    dx = pool.backward(dout)
    assert dx.dtype == dtype and np.isinf(dx).sum() == 1
    assert not np.isnan(dx).any()
    np.testing.assert_array_equal(dx, ref_dx)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("pool_cls", POOLS)
def test_infinite_inputs_like_torch(pool_cls, dtype):
    """+inf 는 창의 최댓값이 되고, -inf 만 있는 창은 -inf 를 냅니다(덧댄 -inf 칸과 구별되어야 함)."""
    x = np.random.default_rng(10).standard_normal((2, 2, 7, 7)).astype(dtype)
    x[0, 0, 2, 3] = np.inf
    x[1, 1, :3, :3] = -np.inf  # 패딩 1 인 왼쪽 위 창은 덧댄 칸과 -inf 뿐
    pool = pool_cls(3, 2, 1)
    out = pool.forward(x)
    dout = np.random.default_rng(11).integers(-4, 5, out.shape).astype(dtype)
    ref_out, ref_dx, _ = torch_pool(x, dout, 3, 2, 1)
    assert np.isposinf(out).any() and np.isneginf(out[1, 1, 0, 0])
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(pool.backward(dout), ref_dx)


@pytest.mark.parametrize("pool_cls", POOLS)
def test_float16_kept(pool_cls):
    x = np.random.default_rng(5).standard_normal((1, 2, 8, 8)).astype(np.float16)
    pool = pool_cls(3, 2, 1)
    out = pool.forward(x)
    dx = pool.backward(np.ones(out.shape, dtype=np.float32))
    assert out.dtype == dx.dtype == np.float16
    ref_out, _, _ = torch_pool(x.astype(np.float32), np.ones(out.shape, np.float32), 3, 2, 1)
    np.testing.assert_array_equal(out.astype(np.float32), ref_out)


@pytest.mark.parametrize("shape,k,s,p", CASES)
def test_two_implementations_route_gradients_identically(shape, k, s, p):
    rng = np.random.default_rng(6)
    x = np.maximum(rng.standard_normal(shape), 0)
    a, b = MaxPool2d(k, s, p), Im2colMaxPool2d(k, s, p)
    np.testing.assert_array_equal(a.forward(x), b.forward(x))
    dout = rng.integers(-3, 4, a.forward(x).shape).astype(np.float64)
    np.testing.assert_array_equal(a.backward(dout), b.backward(dout))


# --- ceil_mode -------------------------------------------------------------------------------------------------

# (입력 모양, kernel_size, stride, padding): 올림으로 마지막 창이 덧댄 입력 밖으로 나가는 경우들. 앞의 다섯은
# 창이 입력보다 커서 내림이면 출력이 없는 경우(크기, 창, 보폭) = (2, 3, 2), (4, 5, 2), (1, 2, 2), (5, 6, 4), (3, 5, 3).
CEIL_CASES = [
    ((1, 2, 2, 2), 3, 2, 0),
    ((2, 1, 4, 4), 5, 2, 0),
    ((1, 3, 1, 1), 2, 2, 0),
    ((1, 1, 5, 5), 6, 4, 0),
    ((2, 2, 3, 3), 5, 3, 0),
    ((2, 3, 13, 13), 3, 2, 0),  # 올림이어도 13 → 6 (AlexNet)
    ((2, 3, 14, 12), 3, 2, 0),  # 14 → 7 (내림이면 6)
    ((1, 2, 10, 11), 2, 3, 1),
    ((2, 2, 5, 7), 2, 2, 1),  # 마지막 창이 오른쪽 덧대기에서만 시작하면 버림: 5 → 3, 7 → 4
    ((2, 2, 8, 9), 4, 3, 2),
    ((1, 2, 7, 6), 5, 4, 2),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,k,s,p", CEIL_CASES)
@pytest.mark.parametrize("pool_cls", POOLS)
def test_ceil_mode_matches_torch_forward_and_backward(pool_cls, shape, k, s, p, dtype):
    rng = np.random.default_rng(hash((shape, k, s, p)) % 2**32)
    x = rng.standard_normal(shape).astype(dtype)
    pool = pool_cls(k, s, p, ceil_mode=True)
    out = pool.forward(x)
    dout = rng.standard_normal(out.shape).astype(dtype)
    ref_out, ref_dx, ref_idx = torch_pool(x, dout, k, s, p, ceil_mode=True)
    assert out.shape == ref_out.shape == (shape[0], shape[1], pooling_output_size(shape[2], k, s, p, ceil_mode=True),
                                          pooling_output_size(shape[3], k, s, p, ceil_mode=True))
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_allclose(pool.backward(dout), ref_dx, rtol=0, atol=TOL[dtype])
    np.testing.assert_array_equal(grid_index(x, pool), ref_idx)


@pytest.mark.parametrize("pool_cls", POOLS)
@pytest.mark.parametrize("k,s,p", [(3, 2, 0), (3, 2, 1), (2, 3, 1), (4, 3, 2)])
def test_ceil_mode_ties_and_minus_infinity_like_torch(pool_cls, k, s, p):
    """올림으로 생긴 끝의 창에서도 동점(0)과 ``-inf`` 만 있는 창의 최댓값 위치가 PyTorch 와 같아야 합니다."""
    rng = np.random.default_rng(12)
    x = np.maximum(rng.standard_normal((2, 2, 8, 10)), 0)
    x[0, 0, -3:, :] = -np.inf  # 마지막 행들(올림으로 잘린 창)이 -inf 뿐
    x[1, 1, :, -2:] = -np.inf
    assert_exactly_like_torch(pool_cls(k, s, p, ceil_mode=True), x, rng, k, s, p, ceil_mode=True)


@pytest.mark.parametrize("pool_cls", POOLS)
def test_ceil_mode_too_small_raises_like_torch(pool_cls):
    # 창이 입력 밖(오른쪽 덧대기)에서만 시작할 수 있으면 올림이어도 출력이 없습니다. torch 도 오류입니다.
    x = np.zeros((1, 1, 2, 2))
    with pytest.raises(RuntimeError, match="too small"):
        F.max_pool2d(torch.from_numpy(x), 5, 2, 0, ceil_mode=True)
    with pytest.raises(ValueError, match="kernel_size"):
        pool_cls(5, 2, ceil_mode=True).forward(x)


# --- 빈 배치(N = 0) -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("k,s,p", [(3, 2, 1), (2, 2, 0), (3, 2, 0)])
@pytest.mark.parametrize("pool_cls", POOLS)
def test_empty_batch_matches_torch_forward_and_backward(pool_cls, k, s, p, ceil_mode):
    """``(0, 16, 50, 32)`` 입력: 순전파와 역전파가 PyTorch 처럼 빈 배열을 냅니다(예전에는 col2im 이 N = 0 을 거부)."""
    x = np.zeros((0, 16, 50, 32))
    pool = pool_cls(k, s, p, ceil_mode=ceil_mode)
    out = pool.forward(x)
    dout = np.zeros(out.shape)
    dx = pool.backward(dout)
    ref_out, ref_dx, _ = torch_pool(x, dout, k, s, p, ceil_mode=ceil_mode)
    assert out.shape == ref_out.shape and dx.shape == ref_dx.shape == x.shape and dx.dtype == x.dtype
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(dx, ref_dx)


def test_im2col_col2im_empty_batch_match_torch():
    x = np.zeros((0, 3, 7, 6))
    col = im2col(x, 3, 2, 1)
    ref = F.unfold(torch.from_numpy(x), 3, padding=1, stride=2).numpy()
    assert col.shape == ref.shape
    img = col2im(col, x.shape, 3, 2, 1)
    ref_img = F.fold(torch.from_numpy(col), (7, 6), 3, padding=1, stride=2).numpy()
    assert img.shape == ref_img.shape == x.shape


# --- im2col / col2im ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape,k,s,p", CASES)
def test_im2col_matches_torch_unfold(shape, k, s, p):
    x = np.random.default_rng(7).standard_normal(shape)
    col = im2col(x, k, s, p)
    ref = F.unfold(torch.from_numpy(x), k, padding=p, stride=s).numpy()
    assert col.shape == ref.shape
    np.testing.assert_array_equal(col, ref)


@pytest.mark.parametrize("shape,k,s,p", CASES)
def test_col2im_matches_torch_fold_and_is_adjoint(shape, k, s, p):
    rng = np.random.default_rng(8)
    x = rng.standard_normal(shape)
    col = rng.standard_normal(im2col(x, k, s, p).shape)
    img = col2im(col, shape, k, s, p)
    ref = F.fold(torch.from_numpy(col), shape[2:], k, padding=p, stride=s).numpy()
    np.testing.assert_allclose(img, ref, rtol=0, atol=1e-12)
    # col2im 은 im2col 의 전치(adjoint): <im2col(x), col> = <x, col2im(col)>
    assert np.isclose(np.sum(im2col(x, k, s, p) * col), np.sum(x * img), rtol=1e-12)


def test_im2col_layout_and_pad_value():
    x = np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4)  # (96,) -> (2, 3, 4, 4)
    col = im2col(x, 3, stride=1, padding=1, pad_value=-np.inf)
    assert col.dtype == np.float32
    assert col.shape == (2, 3 * 9, 16)
    # col[n, c·9 + i·3 + j, oh·4 + ow] == x_pad[n, c, oh + i, ow + j]
    assert col[1, 2 * 9 + 1 * 3 + 2, 0 * 4 + 1] == x[1, 2, 0, 2]
    assert col[0, 0, 0] == -np.inf  # 왼쪽 위 창의 (0, 0) 은 덧댄 칸


# --- pooling_output_size ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [5, 13, 27, 55, 56])
@pytest.mark.parametrize("k,s,p", [(3, 2, 0), (2, 2, 0), (3, 2, 1), (3, 1, 1), (5, 3, 2)])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pooling_output_size_matches_torch(size, k, s, p, ceil_mode):
    out = F.max_pool2d(torch.zeros(1, 1, size, size), k, s, p, ceil_mode=ceil_mode)
    assert pooling_output_size(size, k, s, p, ceil_mode=ceil_mode) == out.shape[-1]


def test_alexnet_pooling_sizes():
    assert [pooling_output_size(n, 3, 2) for n in (55, 27, 13)] == [27, 13, 6]
    assert [pooling_output_size(n, 2, 2) for n in (55, 27, 13)] == [27, 13, 6]  # 논문 §3.4: 같은 출력 크기


def test_pooling_output_size_is_reexported_from_shapes():
    # 공식은 alexnetbook.shapes 에 하나만 있고, 풀링 장은 alexnetbook.pooling 에서 불러옵니다. 전체 비교는 test_shapes.py.
    assert pooling.pooling_output_size is shapes.pooling_output_size
    assert "pooling_output_size" in pooling.__all__


# --- 잘못된 입력 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pool_cls", POOLS)
def test_bad_arguments_name_the_argument(pool_cls):
    with pytest.raises(ValueError, match="stride"):
        pool_cls(3, 0)
    with pytest.raises(ValueError, match="stride"):
        pool_cls(3, -2)
    with pytest.raises(ValueError, match="kernel_size"):
        pool_cls(0)
    with pytest.raises(ValueError, match="padding"):
        pool_cls(3, 2, 2)  # 3 // 2 = 1 보다 큼
    with pytest.raises(ValueError, match="padding"):
        pool_cls(3, 2, -1)
    pool = pool_cls(3, 2, 1)
    with pytest.raises(ValueError, match=r"x.*\(N, C, H, W\)"):
        pool.forward(np.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match="kernel_size"):
        pool_cls(5, 2).forward(np.zeros((1, 1, 4, 4)))  # 창이 덧대지 않은 입력보다 큼
    with pytest.raises(TypeError, match="x"):
        pool.forward(torch.zeros(1, 1, 8, 8))
    with pytest.raises(TypeError, match="dtype"):
        pool.forward(np.zeros((1, 1, 8, 8), dtype=np.int64))


@pytest.mark.parametrize("pool_cls", POOLS)
@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        ((3.0,), {}, "kernel_size"),
        ((True,), {}, "kernel_size"),
        ((3, 2.0), {}, "stride"),
        ((3, 2, True), {}, "padding"),
        ((3, 2), {"ceil_mode": 1}, "ceil_mode"),
        ((3, 2), {"ceil_mode": "yes"}, "ceil_mode"),
    ],
)
def test_wrong_argument_types_raise_type_error_naming_them(pool_cls, args, kwargs, name):
    with pytest.raises(TypeError, match=rf"^{name}"):
        pool_cls(*args, **kwargs)


@pytest.mark.parametrize("pool_cls", POOLS)
def test_ceil_mode_is_keyword_only(pool_cls):
    # torch.nn.MaxPool2d 의 네 번째 위치 인자는 dilation 이므로, 위치로 받으면 뜻이 엇갈립니다.
    with pytest.raises(TypeError):
        pool_cls(3, 2, 0, True)
    assert pool_cls(3, 2, 0, ceil_mode=True).ceil_mode is True


@pytest.mark.parametrize("pool_cls", POOLS)
def test_backward_errors(pool_cls):
    pool = pool_cls(3, 2)
    with pytest.raises(RuntimeError, match="forward"):
        pool.backward(np.zeros((1, 1, 3, 3)))
    pool.forward(np.zeros((1, 1, 7, 7)))
    with pytest.raises(ValueError, match=r"dout.*\(1, 1, 3, 3\)"):
        pool.backward(np.zeros((1, 1, 4, 4)))
    with pytest.raises(TypeError, match="dout"):
        pool.backward([[0.0]])


def test_im2col_col2im_bad_input():
    with pytest.raises(ValueError, match="x"):
        im2col(np.zeros((4, 4)), 2)
    with pytest.raises(ValueError, match="stride"):
        im2col(np.zeros((1, 1, 4, 4)), 2, stride=0)
    with pytest.raises(ValueError, match="kernel_size"):
        im2col(np.zeros((1, 1, 4, 4)), 7, padding=1)
    with pytest.raises(ValueError, match="col"):
        col2im(np.zeros((1, 4, 5)), (1, 1, 4, 4), 2, 2)
    with pytest.raises(ValueError, match="input_shape"):
        col2im(np.zeros((1, 4, 4)), (1, 4, 4), 2, 2)
    with pytest.raises(ValueError, match=r"input_shape\[0\]"):
        col2im(np.zeros((1, 4, 4)), (-1, 1, 4, 4), 2, 2)
    with pytest.raises(ValueError, match=r"input_shape\[1\]"):
        col2im(np.zeros((1, 0, 4)), (1, 0, 4, 4), 2, 2)
    with pytest.raises(TypeError, match=r"input_shape\[2\]"):
        col2im(np.zeros((1, 4, 4)), (1, 1, 4.0, 4), 2, 2)
    with pytest.raises(TypeError, match="input_shape"):
        col2im(np.zeros((1, 4, 4)), "1144", 2, 2)
    with pytest.raises(TypeError, match="col"):
        col2im([[0.0]], (1, 1, 4, 4), 2, 2)


def test_repr():
    assert repr(MaxPool2d(3, 2)) == "MaxPool2d(kernel_size=3, stride=2, padding=0)"
    expected = "Im2colMaxPool2d(kernel_size=3, stride=2, padding=1, ceil_mode=True)"
    assert repr(Im2colMaxPool2d(3, 2, 1, ceil_mode=True)) == expected
    assert MaxPool2d(2).stride == 2  # stride=None 이면 겹치지 않는 풀링


# --- 벤치마크 스크립트 ------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_benchmark_script_runs_on_a_tiny_input(capsys):
    """벤치마크의 ``main`` 이 작은 입력에서 끝까지 돌고 비율과 메모리를 출력하는지(결과는 저장 안 함).

    메모리는 구현마다 ``python benchmarks/pooling.py --probe`` 프로세스로 재므로 스크립트로 실행하는 길도 지나갑니다.
    ``main`` 은 이 프로세스에서 부르고, 바꾼 PyTorch 스레드 수는 되돌려 둡니다.
    """
    threads = torch.get_num_threads()
    try:
        pooling_benchmark.main(["--shape", "2", "3", "11", "11", "--repeats", "1", "--no-save"])
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "시간 비율 NumPy/PyTorch" in out
    assert "출력이 PyTorch 와 같음: True" in out
    assert out.count("최고 추가 메모리") == 3
    goal_lines = [line for line in out.splitlines() if line.startswith("goal (")]
    assert len(goal_lines) == 1 and ("met" in goal_lines[0]) and "참고용" in goal_lines[0]


def fake_results(time_ratio: float, memory_ratio: float | None, shape=(32, 96, 55, 55)) -> dict:
    results = {"shape": list(shape), "kernel_size": 3, "stride": 2, "time": {"ratio": {"median": time_ratio}}}
    if memory_ratio is not None:
        results["memory"] = {"numpy": {"rss_ratio_to_input": memory_ratio}}
    return results


@pytest.mark.parametrize(
    ("time_ratio", "memory_ratio", "met"),
    [(1.0, 1.3, True), (2.0, 2.0, True), (2.1, 1.3, False), (1.0, 2.5, False), (1.5, None, True), (3.0, None, False)],
)
def test_benchmark_goal_verdict_does_not_hide_a_miss(time_ratio, memory_ratio, met):
    goal = pooling_benchmark.goal(fake_results(time_ratio, memory_ratio))
    assert goal["met"] is met and goal["conditions_match"]
    assert goal["time_met"] is (time_ratio <= 2.0)
    assert goal["memory_met"] is (None if memory_ratio is None else memory_ratio <= 2.0)
    assert not pooling_benchmark.goal(fake_results(time_ratio, memory_ratio, shape=(2, 3, 11, 11)))["conditions_match"]
