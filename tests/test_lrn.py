"""alexnetbook.lrn: 논문의 식(NumPy 루프), torch.nn.LocalResponseNorm, gradcheck 와의 비교."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from alexnetbook.lrn import CONVENTIONS, LocalResponseNorm, local_response_norm
from alexnetbook.perf import lrn_speed


def lrn_loop(a: np.ndarray, n: int, alpha: float, beta: float, k: float, convention: str, groups: int = 1) -> np.ndarray:
    """논문 §3.3 의 식을 채널 하나, 위치 하나씩 그대로 옮긴 기준 구현(float64).

    ``paper``: 창 j = max(0, i - n//2) .. min(N-1, i + n//2), 계수 alpha.
    ``torch``: 창 j = i - n//2 .. i + (n-1)//2 (범위 안만), 계수 alpha / n.
    ``groups`` 이면 N 은 묶음 하나의 채널 수이고, i 와 j 는 묶음 안의 번호입니다.
    """
    a = np.asarray(a, dtype=np.float64)
    out = np.empty_like(a)
    channels = a.shape[1]
    per_group = channels // groups
    if convention == "paper":
        before, after, coef = n // 2, n // 2, alpha
    else:
        before, after, coef = n // 2, (n - 1) // 2, alpha / n
    for b in range(a.shape[0]):
        for group in range(groups):
            first = group * per_group
            for i in range(per_group):
                for pos in np.ndindex(*a.shape[2:]):
                    total = 0.0
                    for j in range(max(0, i - before), min(per_group - 1, i + after) + 1):
                        total += a[(b, first + j, *pos)] ** 2
                    out[(b, first + i, *pos)] = a[(b, first + i, *pos)] / (k + coef * total) ** beta
    return out


def rand(*shape: int, scale: float = 3.0, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).to(dtype)


# ---------------------------------------------------------------- 논문의 식(NumPy 루프)


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 6, 9])
@pytest.mark.parametrize("shape", [(2, 7, 3, 2), (1, 6, 4)], ids=["4d", "3d"])
def test_matches_numpy_loop(convention, size, shape):
    x = rand(*shape, scale=10.0)
    ours = local_response_norm(x, size, alpha=1e-2, beta=0.75, k=2.0, convention=convention)
    ref = lrn_loop(x.numpy(), size, 1e-2, 0.75, 2.0, convention)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("size", [3, 4])
def test_groups_match_numpy_loop(convention, size):
    x = rand(2, 8, 3, 3, scale=10.0, seed=1)
    ours = local_response_norm(x, size, alpha=1e-2, beta=0.6, k=1.5, convention=convention, groups=2)
    ref = lrn_loop(x.numpy(), size, 1e-2, 0.6, 1.5, convention, groups=2)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-12, atol=1e-12)


def test_paper_defaults_are_the_printed_hyperparameters():
    x = rand(1, 9, 2, 2, scale=30.0, seed=2)
    ref = lrn_loop(x.numpy(), 5, 1e-4, 0.75, 2.0, "paper")  # k=2, n=5, α=1e-4, β=0.75 (§3.3)
    np.testing.assert_allclose(local_response_norm(x).numpy(), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(LocalResponseNorm()(x).numpy(), ref, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- torch.nn.LocalResponseNorm


def forward_backward(fn, x: torch.Tensor, grad_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = x.detach().clone().requires_grad_()
    out = fn(x)
    (grad,) = torch.autograd.grad(out, x, grad_out)
    return out.detach(), grad


@pytest.mark.parametrize("size", [1, 3, 5, 7])
@pytest.mark.parametrize("shape", [(2, 10, 4, 3), (3, 10, 5)], ids=["4d", "3d"])
def test_paper_convention_is_torch_with_alpha_times_size(size, shape):
    x, g = rand(*shape, scale=20.0), rand(*shape, seed=9)
    ours = forward_backward(lambda t: local_response_norm(t, size, 1e-4, 0.75, 2.0, "paper"), x, g)
    ref = forward_backward(nn.LocalResponseNorm(size, alpha=1e-4 * size, beta=0.75, k=2.0), x, g)
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("size", [2, 4, 6])
def test_paper_convention_even_size_covers_size_plus_one_maps(size):
    # 인쇄된 식의 창 [i - n/2, i + n/2] 은 짝수 n 에서 n + 1 개 채널입니다.
    # 그래서 torch 의 size = n + 1, alpha = α * (n + 1) 과 같습니다.
    x, g = rand(2, 9, 3, 3, scale=20.0), rand(2, 9, 3, 3, seed=9)
    ours = forward_backward(lambda t: local_response_norm(t, size, 1e-4, 0.75, 2.0, "paper"), x, g)
    ref = forward_backward(nn.LocalResponseNorm(size + 1, alpha=1e-4 * (size + 1), beta=0.75, k=2.0), x, g)
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 6, 11])
@pytest.mark.parametrize("shape", [(2, 10, 4, 3), (3, 10, 5)], ids=["4d", "3d"])
def test_torch_convention_equals_torch_with_same_alpha(size, shape):
    x, g = rand(*shape, scale=20.0), rand(*shape, seed=9)
    ours = forward_backward(lambda t: local_response_norm(t, size, 1e-3, 0.6, 1.0, "torch"), x, g)
    ref = forward_backward(nn.LocalResponseNorm(size, alpha=1e-3, beta=0.6, k=1.0), x, g)
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_source_page_module_computes_alpha_over_n():
    # 원본 페이지의 nn.LocalResponseNorm(size=5, alpha=0.0001, beta=0.75, k=2):
    # b = a / (2 + (1e-4 / 5) * Σ a²)^0.75. 논문의 식을 그대로 옮긴 것(α = 1e-4)과는 다릅니다.
    x = rand(1, 8, 3, 3, scale=50.0, seed=3)
    page = nn.LocalResponseNorm(size=5, alpha=0.0001, beta=0.75, k=2)(x)
    np.testing.assert_allclose(page.numpy(), lrn_loop(x.numpy(), 5, 1e-4 / 5, 0.75, 2.0, "paper"), rtol=1e-12)
    assert not torch.allclose(page, local_response_norm(x, 5, 1e-4, 0.75, 2.0, "paper"), rtol=1e-3)


def test_float32_close_to_torch():
    x, g = rand(4, 96, 13, 13, scale=1.0, dtype=torch.float32), rand(4, 96, 13, 13, seed=5, dtype=torch.float32)
    ours = forward_backward(lambda t: local_response_norm(t, 5, 1e-4, 0.75, 2.0, "torch"), x, g)
    ref = forward_backward(nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0), x, g)
    for a, b in zip(ours, ref):
        assert a.dtype == torch.float32
        assert (a - b).abs().max().item() <= 1e-6


# ---------------------------------------------------------------- 기울기


@pytest.mark.parametrize(
    ("size", "convention", "groups", "shape"),
    [
        (5, "paper", 1, (2, 7, 3, 2)),
        (4, "paper", 1, (1, 6, 2, 3)),
        (4, "torch", 1, (2, 7, 3)),
        (3, "torch", 2, (2, 8, 2, 2)),
        (5, "paper", 2, (1, 6, 4)),
        (1, "torch", 1, (2, 3, 2, 2)),
    ],
)
def test_gradcheck(size, convention, groups, shape):
    x = rand(*shape, scale=2.0).requires_grad_()
    fn = lambda t: local_response_norm(t, size, alpha=0.1, beta=0.75, k=1.0, convention=convention, groups=groups)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x,))


def test_gradgradcheck():
    x = rand(2, 6, 3, scale=2.0).requires_grad_()
    fn = lambda t: local_response_norm(t, 4, alpha=0.1, beta=0.75, k=1.0, convention="torch", groups=2)  # noqa: E731
    assert torch.autograd.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("value", [100.0, -100.0])
def test_large_inputs_gradient_matches_torch(value):
    # ±100 근처 값: 분모가 k 보다 훨씬 커지는 영역(논문의 0–255 픽셀 규모 활성값).
    x = rand(2, 9, 3, 3, scale=5.0) + value
    g = rand(2, 9, 3, 3, seed=4)
    ours = forward_backward(lambda t: local_response_norm(t, 5, 1e-4, 0.75, 2.0, "paper"), x, g)
    ref = forward_backward(nn.LocalResponseNorm(5, 5e-4, 0.75, 2.0), x, g)
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_batch_of_one_channels_last_and_expanded_grad():
    x = rand(1, 8, 5, 5).to(memory_format=torch.channels_last).requires_grad_()
    out = local_response_norm(x, 5, 1e-2, 0.75, 2.0)
    out.sum().backward()  # 출력 기울기가 모든 stride 0 인 expand 텐서입니다
    ref_x = x.detach().contiguous().requires_grad_()
    ref = nn.LocalResponseNorm(5, 5e-2, 0.75, 2.0)(ref_x)
    ref.sum().backward()
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(x.grad, ref_x.grad, rtol=1e-12, atol=1e-12)


def test_no_grad_path_matches_autograd_path():
    x = rand(2, 10, 4, 4).requires_grad_()
    with_graph = local_response_norm(x, 5, 1e-2, 0.75, 2.0)
    with torch.no_grad():
        without = local_response_norm(x, 5, 1e-2, 0.75, 2.0)
    assert with_graph.requires_grad and not without.requires_grad
    torch.testing.assert_close(with_graph.detach(), without, rtol=0, atol=0)


# ---------------------------------------------------------------- 출력을 제자리에서 고치기(ReLU(inplace=True))


def torch_lrn_grouped(size: int, groups: int, **kwargs) -> nn.Module:
    """``torch.nn.LocalResponseNorm`` 을 채널 묶음마다 따로 적용하는 기준 모듈(``groups=1`` 이면 그대로)."""

    class Grouped(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lrn = nn.LocalResponseNorm(size, **kwargs)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cat([self.lrn(part) for part in x.chunk(groups, dim=1)], dim=1)

    return Grouped()


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "3d"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_inplace_relu_after_lrn_matches_torch(dtype, layout, groups):
    """LRN 출력을 ``nn.ReLU(inplace=True)`` 가 제자리에서 고쳐도 되고, 기울기가 torch 와 같아야 합니다.

    예전에는 autograd Function 이 내부 버퍼의 뷰(``out.flatten(1, 2)``)를 돌려줘서 "Output 0 of
    _LocalResponseNormFunction is a view and is being modified inplace" 오류가 났습니다.
    """
    shape = (2, 8, 3) if layout == "3d" else (2, 8, 4, 3)
    x = rand(*shape, scale=20.0, seed=11).to(dtype)  # 음수도 있어서 ReLU 가 실제로 값을 바꿉니다
    if layout == "channels_last":
        x = x.to(memory_format=torch.channels_last)
    ours_x, ref_x = x.clone().requires_grad_(), x.clone().requires_grad_()
    lrn = LocalResponseNorm(5, 1e-3, 0.75, 1.0, convention="torch", groups=groups)
    ours = nn.Sequential(lrn, nn.ReLU(inplace=True))
    ref = nn.Sequential(torch_lrn_grouped(5, groups, alpha=1e-3, beta=0.75, k=1.0), nn.ReLU(inplace=True))
    out, ref_out = ours(ours_x), ref(ref_x)
    g = rand(*shape, seed=12).to(dtype)
    out.backward(g)
    ref_out.backward(g)
    tol = {"rtol": 1e-12, "atol": 1e-12} if dtype == torch.float64 else {"rtol": 1e-5, "atol": 1e-5}
    assert out.dtype == dtype and (out == 0).any() and (out > 0).any()
    torch.testing.assert_close(out.detach(), ref_out.detach(), **tol)
    torch.testing.assert_close(ours_x.grad, ref_x.grad, **tol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("grad_mode", ["autograd", "no_grad"])
def test_output_is_not_a_view_of_an_internal_buffer(dtype, grad_mode):
    x = rand(2, 8, 3, 3, dtype=dtype).requires_grad_()
    if grad_mode == "no_grad":
        with torch.no_grad():
            out = local_response_norm(x, 5, groups=2)
    else:
        out = local_response_norm(x, 5, groups=2)
    assert not out._is_view() and out.shape == x.shape and out.dtype == dtype


def test_no_grad_output_can_be_modified_in_place_with_grad_enabled():
    # no_grad 에서 만든 뷰를 기울기가 필요한 값으로 제자리에서 고치면 torch 가 막습니다. 출력이 뷰가 아니면 됩니다.
    x, w = rand(2, 8, 3, 3), rand(2, 8, 3, 3, seed=1).requires_grad_()
    with torch.no_grad():
        out = local_response_norm(x, 5, 1e-2, 0.75, 2.0, convention="torch")
        ref = nn.LocalResponseNorm(5, 1e-2, 0.75, 2.0)(x)
    out.mul_(w)
    (grad,) = torch.autograd.grad(out.sum(), w)
    torch.testing.assert_close(grad, ref, rtol=1e-12, atol=1e-12)


def test_modifying_the_output_in_place_keeps_the_gradient():
    # 저장한 P, R 이 출력과 다른 버퍼여야 합니다. 출력을 제자리에서 두 배로 만들면 기울기도 정확히 두 배입니다.
    x, g = rand(2, 8, 3, 3, scale=5.0), rand(2, 8, 3, 3, seed=3)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    (ref,) = torch.autograd.grad(local_response_norm(x1, 5, 1e-2), x1, g)
    out = local_response_norm(x2, 5, 1e-2)
    out.mul_(2.0)
    (grad,) = torch.autograd.grad(out, x2, g)
    torch.testing.assert_close(grad, 2.0 * ref, rtol=1e-14, atol=0)


# ---------------------------------------------------------------- 채널 가장자리와 묶음(groups)


def changed_channels(out: torch.Tensor, base: torch.Tensor) -> set[int]:
    changed = (out - base).abs().amax(dim=(0, 2, 3)) > 0  # (N, C, H, W) -> (C,)
    return set(torch.nonzero(changed).flatten().tolist())  # (바뀐 채널 수, 1) -> (바뀐 채널 수,)


@pytest.mark.parametrize(
    ("convention", "size", "spike", "expected"),
    [
        ("paper", 5, 4, {2, 3, 5, 6}),
        ("paper", 4, 4, {2, 3, 5, 6}),  # 짝수 n 도 양쪽으로 n/2: n + 1 개 채널
        ("torch", 5, 4, {2, 3, 5, 6}),
        ("torch", 4, 4, {3, 5, 6}),  # torch 의 짝수 창 [c - n/2, c + n/2 - 1]
        ("paper", 5, 0, {1, 2}),  # 첫 채널: 앞쪽 이웃이 없습니다
        ("paper", 5, 9, {7, 8}),  # 마지막 채널
    ],
)
def test_spike_reaches_exactly_the_window(convention, size, spike, expected):
    base = torch.ones(1, 10, 2, 2, dtype=torch.float64)
    x = base.clone()
    x[:, spike] = 50.0
    out = local_response_norm(x, size, 1e-2, 0.75, 2.0, convention)
    ref = local_response_norm(base, size, 1e-2, 0.75, 2.0, convention)
    assert changed_channels(out, ref) - {spike} == expected


def test_tower_boundary_with_two_groups():
    # 96 채널을 두 GPU 처럼 48 + 48 로 나누면, 채널 47 의 큰 값이 채널 48 에 닿지 않습니다.
    base = torch.ones(1, 96, 3, 3, dtype=torch.float64)
    x = base.clone()
    x[:, 47] = 100.0
    two = local_response_norm(x, 5, 1e-2, 0.75, 2.0, groups=2)
    two_base = local_response_norm(base, 5, 1e-2, 0.75, 2.0, groups=2)
    assert changed_channels(two, two_base) - {47} == {45, 46}
    one = local_response_norm(x, 5, 1e-2, 0.75, 2.0, groups=1)
    one_base = local_response_norm(base, 5, 1e-2, 0.75, 2.0, groups=1)
    assert changed_channels(one, one_base) - {47} == {45, 46, 48, 49}
    # 묶음 하나만 떼어 내 정규화한 것과 같습니다.
    torch.testing.assert_close(two[:, 48:], local_response_norm(x[:, 48:], 5, 1e-2, 0.75, 2.0), rtol=0, atol=0)


def test_tower_boundary_gradient():
    x = rand(1, 96, 2, 2).requires_grad_()
    out = local_response_norm(x, 5, 1e-2, 0.75, 2.0, groups=2)
    (grad,) = torch.autograd.grad(out[:, 48].sum(), x)
    assert grad[:, :48].abs().max().item() == 0.0
    assert grad[:, 48:51].abs().min().item() > 0.0


# ---------------------------------------------------------------- 낮은 정밀도


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_input(dtype):
    x32 = rand(2, 16, 5, 5, scale=4.0, dtype=torch.float32)
    x = x32.to(dtype).requires_grad_()
    out = local_response_norm(x, 5, 1e-4, 0.75, 2.0)
    assert out.dtype == dtype and out.shape == x.shape
    (grad,) = torch.autograd.grad(out, x, torch.ones_like(out))
    assert grad.dtype == dtype
    # float32 에서 같은 (반올림된) 입력으로 계산한 값과 그 dtype 의 반올림 안에서 같습니다.
    x_same = x.detach().float().requires_grad_()
    ref = local_response_norm(x_same, 5, 1e-4, 0.75, 2.0)
    (ref_grad,) = torch.autograd.grad(ref, x_same, torch.ones_like(ref))
    tol = {"rtol": 1e-2, "atol": 1e-2} if dtype == torch.bfloat16 else {"rtol": 2e-3, "atol": 2e-3}
    torch.testing.assert_close(out.float(), ref, **tol)
    torch.testing.assert_close(grad.float(), ref_grad, **tol)


def test_float16_squares_do_not_overflow():
    # 300² = 90,000 은 float16 의 최댓값 65,504 를 넘습니다. 제곱합을 float32 에서 쌓으므로 괜찮습니다.
    x = torch.full((1, 5, 2, 2), 300.0, dtype=torch.float16)
    out = local_response_norm(x, 5, 1e-4, 0.75, 2.0)
    in_window = torch.tensor([3.0, 4.0, 5.0, 4.0, 3.0]).view(1, 5, 1, 1)  # 가장자리 채널은 이웃이 적습니다
    expected = 300.0 / (2.0 + 1e-4 * in_window * 300.0**2) ** 0.75
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out.float(), expected.expand(1, 5, 2, 2), rtol=2e-3, atol=0)


# ---------------------------------------------------------------- 거의 상수 배율


def test_near_constant_scale_for_inputs_of_order_one():
    x = torch.rand(4, 96, 8, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64).clamp_min(1e-3)
    ratio = local_response_norm(x) / x
    assert abs(ratio.mean().item() - 2**-0.75) < 1e-3
    assert ratio.min().item() > 2**-0.75 * (1 - 1e-3)


# ---------------------------------------------------------------- 잘못된 입력


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"size": 0}, "size"),
        ({"alpha": -1e-4}, "alpha"),
        ({"alpha": math.nan}, "alpha"),
        ({"alpha": math.inf}, "alpha"),
        ({"beta": -0.75}, "beta"),
        ({"k": -2.0}, "k"),
        ({"convention": "caffe"}, "convention"),
        ({"groups": 0}, "groups"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs, name):
    x = torch.ones(1, 4, 2, 2)
    with pytest.raises(ValueError, match=rf"^{name}"):
        local_response_norm(x, **kwargs)
    with pytest.raises(ValueError, match=rf"^{name}"):
        LocalResponseNorm(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"size": 2.0}, "size"), ({"size": True}, "size"), ({"groups": 1.0}, "groups"), ({"groups": True}, "groups")],
)
def test_non_integer_size_and_groups_raise_type_error_naming_them(kwargs, name):
    # alexnetbook.checks 의 규칙: 타입이 틀리면 TypeError, 값이 범위 밖이면 ValueError.
    with pytest.raises(TypeError, match=rf"^{name}"):
        local_response_norm(torch.ones(1, 4, 2, 2), **kwargs)
    with pytest.raises(TypeError, match=rf"^{name}"):
        LocalResponseNorm(**kwargs)


@pytest.mark.parametrize("name", ["alpha", "beta", "k"])
@pytest.mark.parametrize("value", ["1e-4", None, True, torch.tensor(0.5)], ids=["str", "None", "bool", "tensor"])
def test_non_numeric_hyperparameters_raise_type_error_naming_them(name, value):
    # 설정 파일에서 읽은 문자열 "1e-4" 를 그대로 넘기면, 비교(>=)에서 이름 없는 TypeError 가 나는 대신
    # 어느 인자가 잘못되었는지 알려 줘야 합니다.
    with pytest.raises(TypeError, match=rf"^{name}"):
        local_response_norm(torch.ones(1, 4, 2, 2), **{name: value})
    with pytest.raises(TypeError, match=rf"^{name}"):
        LocalResponseNorm(**{name: value})


def test_numpy_and_integer_hyperparameters_are_accepted():
    x = rand(1, 6, 2, 2)
    ref = local_response_norm(x, 5, 1e-4, 0.75, 2.0)
    torch.testing.assert_close(local_response_norm(x, 5, np.float64(1e-4), np.float32(0.75), 2), ref, rtol=1e-6, atol=0)


@pytest.mark.parametrize("shape", [(4,), (2, 4), (1, 4, 2, 2, 2)])
def test_wrong_rank_raises(shape):
    with pytest.raises(ValueError, match=rf"^x.*{re.escape(str(shape))}"):
        local_response_norm(torch.ones(shape))


def test_channels_not_divisible_by_groups_and_bad_types():
    with pytest.raises(ValueError, match="groups=2"):
        local_response_norm(torch.ones(1, 5, 2, 2), groups=2)
    with pytest.raises(TypeError, match="^x"):
        local_response_norm(np.ones((1, 4, 2, 2)))
    with pytest.raises(TypeError, match="^x"):
        local_response_norm(torch.ones(1, 4, 2, 2, dtype=torch.int64))


def test_module_repr_and_no_parameters():
    module = LocalResponseNorm(5, groups=2)
    assert "convention='paper'" in repr(module) and "groups=2" in repr(module)
    assert list(module.parameters()) == [] and module.state_dict() == {}


# ---------------------------------------------------------------- 측정 도구(작은 크기)


def test_speed_cases_agree_on_a_tiny_slice():
    cases = lrn_speed.make_cases((2, 12, 5, 5), "float32")
    assert cases.max_abs_diff_output <= 1e-6 and cases.max_abs_diff_grad <= 1e-6
    out, grad = cases.candidate()
    assert out.shape == grad.shape == (2, 12, 5, 5)
    assert not cases.candidate_forward().requires_grad
    low = lrn_speed.make_cases((2, 12, 5, 5), "bfloat16")
    assert low.candidate()[0].dtype == torch.bfloat16 and low.max_abs_diff_output < 0.05
    assert "float32 copy" in low.reference_name


def test_measure_speedup_reports_ratios():
    threads = torch.get_num_threads()
    result = lrn_speed.measure_speedup((1, 8, 4, 4), repeats=2, threads=1)
    assert 0 < result["speedup_min"] <= result["speedup_median"] <= result["speedup_max"]
    assert result["repeats"] == 2 and result["threads"] == 1 and result["max_abs_diff_grad"] <= 1e-6
    assert torch.get_num_threads() == threads  # 재고 나면 스레드 수를 되돌립니다
    with pytest.raises(ValueError, match="repeats"):
        lrn_speed.measure_speedup((1, 8, 4, 4), repeats=0)
    with pytest.raises(ValueError, match="threads"):
        lrn_speed.measure_speedup((1, 8, 4, 4), threads=0)
    with pytest.raises(ValueError, match="dtype"):
        lrn_speed.make_cases((1, 8, 4, 4), "int8")


def test_saved_for_backward_bytes():
    x = rand(2, 12, 5, 5, dtype=torch.float32).requires_grad_()
    # 이 책의 구현은 x, P = D**-beta, R = b / D 세 개만 저장합니다.
    assert lrn_speed.saved_for_backward_bytes(lambda t: local_response_norm(t, 5), x) == 3 * x.nbytes
    assert lrn_speed.saved_for_backward_bytes(nn.LocalResponseNorm(5), x) > 3 * x.nbytes
    assert lrn_speed.saved_for_backward_bytes(lambda t: t * 2.0, x) == 0  # 상수배는 아무것도 저장하지 않음
    with pytest.raises(ValueError, match="requires_grad"):
        lrn_speed.saved_for_backward_bytes(nn.LocalResponseNorm(5), x.detach())


# ---------------------------------------------------------------- 벤치마크 스크립트


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_benchmark_script_prints_ratio_and_difference():
    """``python benchmarks/lrn.py`` 가 작은 모양에서 끝까지 돌고 속도 비율과 최대 차이를 출력하는지(저장 안 함)."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "benchmarks/lrn.py", "--shape", "2", "8", "5", "5", "--dtype", "float32", "bfloat16",
         "--threads", "1", "--repeats", "2", "--warmup", "1", "--no-save"],
        cwd=root, capture_output=True, text=True, timeout=110, check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line for line in lines if line.startswith("LRN ")] == [
        "LRN (2, 8, 5, 5) float32, threads=1", "LRN (2, 8, 5, 5) bfloat16, threads=1"]
    ratios = [re.search(r"speed ratio \(torch / ours\): min (\S+)x  median (\S+)x  max (\S+)x  \(2 repeats\)", line)
              for line in lines if "speed ratio" in line]
    assert len(ratios) == 4 and all(ratios)  # dtype 둘 × (순전파, 순전파 + 역전파)
    for match in ratios:
        low, median, high = map(float, match.groups())
        assert 0 < low <= median <= high
    diffs = [re.fullmatch(r"  max abs diff: output (\S+), grad (\S+)", line) for line in lines if "max abs diff" in line]
    assert len(diffs) == 2 and all(diffs)
    assert max(map(float, diffs[0].groups())) <= 1e-6  # float32
    assert max(map(float, diffs[1].groups())) <= 0.05  # bfloat16 (반올림 한 자리 안)
    assert "goal" not in done.stdout  # 목표는 (32, 96, 55, 55) float32 에서만 판정합니다
    assert "saved" not in done.stdout
