"""국소 응답 정규화(local response normalization, LRN), 논문 §3.3.

두 가지 관례(convention)를 지원합니다.

* ``"paper"``: 논문에 인쇄된 식 그대로
  ``b_c = a_c / (k + alpha * sum_{j=max(0, c-n//2)}^{min(N-1, c+n//2)} a_j**2) ** beta``.
  짝수 ``n`` 이면 창이 ``n + 1`` 개 채널을 덮습니다(인쇄된 식의 결과).
* ``"torch"``: ``torch.nn.LocalResponseNorm`` 과 똑같이 ``alpha / n`` 을 쓰고, 창은
  ``[c - n//2, c + (n-1)//2]`` 입니다(cuda-convnet2, Caffe, cuDNN 도 alpha 를 n 으로 나눕니다).

구현은 ``torch.autograd.Function`` 하나입니다. 순전파는 분모 ``D = k + s * (창 안의 제곱합)`` 을
``addcmul_`` 몇 번(창의 채널 수만큼)으로 한 버퍼에 바로 쌓고, 역전파는 닫힌 꼴의 기울기

``dL/da_j = g_j * D_j**-beta - 2 * s * beta * a_j * sum_{c: j in 창(c)} g_c * a_c * D_c**(-beta-1)``

를 순전파가 저장한 ``P = D**-beta`` 와 ``R = a * D**(-beta-1)`` 로 계산합니다(``g = dL/db``, ``s`` 는
제곱합에 곱하는 계수). ``nn.LocalResponseNorm`` 처럼 제곱, 패딩, ``avg_pool3d`` 의 중간 결과를 autograd 가
모두 저장하고 되짚는 것보다 메모리를 덜 읽고 쓰므로 CPU 에서 몇 배 빠릅니다(``benchmarks/lrn.py`` 로 잽니다).
bfloat16/float16 입력은 float32 로 계산하고 입력 dtype 으로 돌려줍니다. 이계 도함수(``create_graph=True``)도
지원합니다.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.fx
from torch import Tensor, nn

from .checks import check_choice, check_float, check_int, check_tensor

__all__ = ["CONVENTIONS", "LocalResponseNorm", "local_response_norm"]

CONVENTIONS = ("paper", "torch")


def _check_args(size: int, alpha: float, beta: float, k: float, convention: str, groups: int) -> None:
    """:func:`local_response_norm` 과 :class:`LocalResponseNorm` 의 인자를 검사합니다.

    검사는 :mod:`alexnetbook.checks` 에 맡깁니다. 오류 문장은 인자의 이름으로 시작합니다.

    Args:
        size: 1 이상의 정수(bool 은 거부, NumPy 정수 허용).
        alpha: 0 이상의 유한한 실수.
        beta: 0 이상의 유한한 실수.
        k: 0 이상의 유한한 실수.
        convention: :data:`CONVENTIONS` 중 하나.
        groups: 1 이상의 정수(bool 은 거부, NumPy 정수 허용).

    Raises:
        TypeError: ``size`` 나 ``groups`` 가 정수가 아니거나(``2.0``, ``True``), ``alpha``, ``beta``, ``k`` 가
            실수(int, float, NumPy 실수)가 아닐 때(예: 문자열 ``"1e-4"``).
        ValueError: ``size`` 나 ``groups`` 가 1 보다 작거나, ``alpha``, ``beta``, ``k`` 가 음수, NaN, 무한대이거나,
            ``convention`` 을 모를 때.
    """
    check_int(size, "size", minimum=1)
    for name, value in (("alpha", alpha), ("beta", beta), ("k", k)):
        check_float(value, name, minimum=0.0)
    check_choice(convention, "convention", CONVENTIONS)
    check_int(groups, "groups", minimum=1)


def _shifts(length: int, before: int, after: int) -> Iterator[tuple[int, int, int]]:
    """창 ``[c - before, c + after]`` 의 이웃 하나하나를 ``(dst 시작, src 시작, 길이)`` 로 냅니다.

    채널 ``dst 시작 + i`` 에 더할 이웃이 채널 ``src 시작 + i`` 입니다(``i < 길이``). 가장자리에서
    범위를 벗어나는 이웃은 길이를 줄여 빼므로, 0으로 채운 것과 같습니다. 자기 자신(거리 0)은 빠집니다.
    """
    for offset in range(-before, after + 1):
        if offset == 0 or abs(offset) >= length:
            continue
        if offset > 0:
            yield 0, offset, length - offset
        else:
            yield -offset, 0, length + offset


def _window_sum(values: Tensor, before: int, after: int) -> Tensor:
    """채널 창 ``[c - before, c + after]`` 안의 합(가장자리 밖은 0)을 새 버퍼 하나에 계산합니다.

    Args:
        values: ``(N, G, C/G, *S)``. 창은 dim 2(묶음 안의 채널) 방향입니다.
    """
    out = values.clone()  # 창의 가운데
    for dst, src, length in _shifts(values.shape[2], before, after):
        out.narrow(2, dst, length).add_(values.narrow(2, src, length))
    return out


def _denominator(
    xg: Tensor, before: int, after: int, scale: float, k: float, out: Tensor | None = None
) -> Tensor:
    """``D_c = k + scale * sum_{j=c-before}^{c+after} a_j**2`` 를 새 버퍼 하나(또는 ``out``)에 계산합니다.

    제곱 텐서를 따로 만들지 않고 ``addcmul_`` 로 ``scale * a_j**2`` 를 바로 쌓은 뒤, ``k`` 는 마지막에
    한 번만 더합니다(``k`` 에 작은 항을 하나씩 더하면 반올림 오차가 그만큼 쌓입니다).

    Args:
        xg: ``(N, G, C/G, *S)``. 창은 dim 2(묶음 안의 채널) 방향입니다.
        out: 주면 새 버퍼 대신 여기에 씁니다(``xg`` 와 같은 모양과 dtype).
    """
    zero = xg.new_zeros(())
    denom = torch.addcmul(zero, xg, xg, value=scale, out=out)  # 창의 가운데 scale * a_c**2: 새 버퍼 또는 out
    for dst, src, length in _shifts(xg.shape[2], before, after):
        neighbour = xg.narrow(2, src, length)
        denom.narrow(2, dst, length).addcmul_(neighbour, neighbour, value=scale)
    return denom.add_(k)


def _accumulate_dtype(dtype: torch.dtype) -> torch.dtype:
    """float32 보다 좁은 dtype(bfloat16, float16)은 float32 에서 계산합니다."""
    return torch.promote_types(dtype, torch.float32)


def _grouped(x: Tensor, groups: int) -> Tensor:
    """계산용 dtype 으로 바꾸고 채널 축을 묶음으로 나눕니다: ``(N, C, *S) -> (N, G, C/G, *S)``."""
    return x.to(_accumulate_dtype(x.dtype)).unflatten(1, (groups, x.shape[1] // groups))  # (N, C, *S) -> (N, G, C/G, *S)


class _LocalResponseNormFunction(torch.autograd.Function):
    """순전파와 손으로 쓴 역전파. 인자는 :func:`local_response_norm` 이 검사한 뒤 넘깁니다.

    순전파가 저장하는 것은 ``x``, ``P = D**-beta``, ``R = a * D**(-beta-1) = b / D`` 셋입니다. 그러면
    역전파는 ``dL/da_j = g_j * P_j + coef * a_j * sum_{c: j in 창(c)} g_c * R_c`` (``coef = -2 * s * beta``)
    를 곱셈 몇 번과 창 합 한 번으로 끝냅니다.

    출력 ``b`` 는 ``(N, C, *S)`` 모양의 새 버퍼에 바로 쓰고 그 버퍼를 돌려줍니다. ``(N, G, C/G, *S)`` 로 계산한
    결과를 ``flatten`` 해서 돌려주면 함수 안에서 만든 텐서의 **뷰** 가 되는데, autograd 는 그런 출력을 제자리에서
    고치는 것(예: 뒤따르는 ``nn.ReLU(inplace=True)``)을 막습니다. 저장한 ``P`` 와 ``R`` 은 출력과 다른 버퍼라서
    출력을 제자리에서 고쳐도 역전파가 틀리지 않습니다.
    """

    @staticmethod
    def forward(ctx, x: Tensor, before: int, after: int, scale: float, beta: float, k: float, groups: int) -> Tensor:
        xg = _grouped(x, groups)  # (N, G, C/G, *S)
        denom = _denominator(xg, before, after, scale, k)  # D
        power = denom.pow(-beta)  # P = D**-beta
        result = torch.empty_like(x, dtype=xg.dtype)  # (N, C, *S): 돌려줄 출력, 뷰가 아닌 새 버퍼(x 의 메모리 배치)
        out = result.unflatten(1, xg.shape[1:3])  # (N, C, *S) -> (N, G, C/G, *S): result 의 뷰
        torch.mul(xg, power, out=out)  # b = a * P 를 result 에 바로 씁니다
        ratio = torch.div(out, denom, out=denom)  # R = b / D: D 의 버퍼를 재사용합니다
        ctx.save_for_backward(x, power, ratio)
        ctx.params = (before, after, scale, beta, k, groups)
        return result.to(x.dtype)  # float32/64 는 result 그대로, bfloat16/float16 은 복사본

    @staticmethod
    def backward(ctx, grad_output: Tensor) -> tuple[Tensor | None, ...]:
        x, power, ratio = ctx.saved_tensors
        before, after, scale, beta, k, groups = ctx.params
        if torch.is_grad_enabled():
            # create_graph=True: 이 역전파 자체를 미분해야 하므로(이계 도함수) 제자리 연산 없이
            # 순전파를 autograd 로 다시 계산해 되짚습니다. 보통의 학습에서는 이 길을 타지 않습니다.
            xg = _grouped(x, groups)
            out = xg * _denominator(xg, before, after, scale, k).pow(-beta)
            out = out.flatten(1, 2)  # (N, G, C/G, *S) -> (N, C, *S)
            (grad_x,) = torch.autograd.grad(out, x, grad_output, create_graph=True)
            return grad_x, None, None, None, None, None, None
        xg = _grouped(x, groups)  # (N, G, C/G, *S)
        g = grad_output.unflatten(1, xg.shape[1:3])  # (N, C, *S) -> (N, G, C/G, *S)
        t = g * ratio  # t_c = g_c * a_c * D_c**(-beta-1)
        # j 가 창(c) = [c - before, c + after] 에 들면 c 는 [j - after, j + before]: 창을 뒤집어 더합니다.
        inner = _window_sum(t, after, before)
        grad = torch.mul(g, power, out=t)  # g_j * D_j**-beta: 다 쓴 t 의 버퍼를 재사용합니다
        grad.addcmul_(xg, inner, value=-2.0 * scale * beta)  # 작은 보정 항은 모아서 한 번에 더합니다
        return grad.flatten(1, 2).to(x.dtype), None, None, None, None, None, None  # (N, G, C/G, *S) -> (N, C, *S)


def local_response_norm(
    x: Tensor,
    size: int = 5,
    alpha: float = 1e-4,
    beta: float = 0.75,
    k: float = 2.0,
    convention: str = "paper",
    groups: int = 1,
) -> Tensor:
    """채널 방향 국소 응답 정규화.

    Args:
        x: ``(N, C, H, W)`` 또는 ``(N, C, L)`` 텐서. 메모리 배치(channels_last 등)는 상관없습니다.
        size: 합하는 이웃 채널 수 ``n``.
        alpha: 배율 ``α``. ``convention="torch"`` 이면 ``α / n`` 으로 씁니다.
        beta: 지수 ``β``.
        k: 더하는 상수 ``k``.
        convention: ``"paper"`` 또는 ``"torch"`` (모듈 설명 참고).
        groups: 채널을 ``groups`` 개의 연속한 묶음으로 나눠 묶음 안에서만 정규화합니다.
            AlexNet 의 두 GPU 가 각자 자기 절반의 채널만 정규화한 것과 같습니다(기본 1).

    Returns:
        ``x`` 와 같은 모양과 dtype 의 텐서. 제곱합은 float32 이상에서 누적합니다.

    Raises:
        TypeError: ``x`` 가 텐서가 아니거나 실수 dtype 이 아닐 때, ``size``, ``groups`` 가 정수가 아니거나
            ``alpha``, ``beta``, ``k`` 가 실수가 아닐 때.
        ValueError: 인자가 범위를 벗어났거나 ``x`` 의 차원이 3 또는 4가 아닐 때,
            ``C`` 가 ``groups`` 로 나누어떨어지지 않을 때.
    """
    _check_args(size, alpha, beta, k, convention, groups)
    check_tensor(x, "x", dims=(3, 4), floating=True)  # (N, C, H, W) 또는 (N, C, L)
    channels = x.shape[1]
    if channels % groups:
        raise ValueError(f"x의 채널 수 {channels} 가 groups={groups} 로 나누어떨어지지 않습니다.")
    if convention == "paper":
        before, after, scale = size // 2, size // 2, alpha
    else:
        before, after, scale = size // 2, (size - 1) // 2, alpha / size

    if torch.is_grad_enabled() and x.requires_grad:
        return _LocalResponseNormFunction.apply(x, before, after, scale, beta, k, groups)
    # 기울기가 필요 없으면 분모 버퍼 하나를 제자리에서 결과로 바꿉니다(새 버퍼 1개). 그 버퍼를 (N, C, *S) 로
    # 만들어 돌려주므로 결과는 뷰가 아닙니다(no_grad 에서 만든 뷰는 나중에 제자리에서 고칠 수 없습니다).
    xg = _grouped(x, groups)  # (N, G, C/G, *S)
    result = torch.empty_like(x, dtype=xg.dtype)  # (N, C, *S): 돌려줄 새 버퍼(x 의 메모리 배치)
    denom = result.unflatten(1, xg.shape[1:3])  # (N, C, *S) -> (N, G, C/G, *S): result 의 뷰
    _denominator(xg, before, after, scale, k, out=denom).pow_(-beta).mul_(xg)
    return result.to(x.dtype)  # float32/64 는 result 그대로, bfloat16/float16 은 복사본


# FX 추적(torch.fx, torchvision 의 create_feature_extractor)은 이 함수 안으로 들어가지 않고 호출 한 번으로
# 기록합니다. 함수 안의 입력 검사와 사용자 정의 autograd 함수는 추적할 수 없는 파이썬 분기이기 때문입니다.
torch.fx.wrap("local_response_norm")


class LocalResponseNorm(nn.Module):
    """:func:`local_response_norm` 의 모듈 버전.

    Args:
        size: 합하는 이웃 채널 수 ``n`` (논문 5).
        alpha: ``α`` (논문 1e-4).
        beta: ``β`` (논문 0.75).
        k: ``k`` (논문 2).
        convention: ``"paper"`` (인쇄된 식) 또는 ``"torch"`` (``α / n``).
        groups: 채널 묶음 수. 묶음 안에서만 이웃을 셉니다.

    Shape:
        - Input: ``(N, C, H, W)`` 또는 ``(N, C, L)``
        - Output: 입력과 같음

    Raises:
        TypeError: ``size``, ``groups`` 가 정수가 아니거나 ``alpha``, ``beta``, ``k`` 가 실수가 아닐 때.
        ValueError: 인자가 범위를 벗어나거나 ``convention`` 을 모를 때.
    """

    def __init__(
        self,
        size: int = 5,
        alpha: float = 1e-4,
        beta: float = 0.75,
        k: float = 2.0,
        convention: str = "paper",
        groups: int = 1,
    ) -> None:
        super().__init__()
        _check_args(size, alpha, beta, k, convention, groups)
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k
        self.convention = convention
        self.groups = groups

    def forward(self, x: Tensor) -> Tensor:
        """:func:`local_response_norm` 을 이 모듈의 설정으로 적용합니다.

        Args:
            x: ``(N, C, H, W)`` 또는 ``(N, C, L)`` 실수 텐서.

        Returns:
            ``x`` 와 같은 모양과 dtype 의 정규화된 텐서.

        Raises:
            TypeError: ``x`` 가 실수 텐서가 아닐 때.
            ValueError: ``x`` 의 차원이 3 또는 4가 아니거나 ``C`` 가 ``groups`` 로 나누어떨어지지 않을 때.
        """
        return local_response_norm(x, self.size, self.alpha, self.beta, self.k, self.convention, self.groups)

    def extra_repr(self) -> str:
        s = f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}, convention={self.convention!r}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s
