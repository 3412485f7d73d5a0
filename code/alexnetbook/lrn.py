"""국소 응답 정규화(local response normalization, LRN), 논문 §3.3.

두 가지 관례(convention)를 지원합니다.

* ``"paper"``: 논문에 인쇄된 식 그대로
  ``b_c = a_c / (k + alpha * sum_{j=max(0, c-n//2)}^{min(N-1, c+n//2)} a_j**2) ** beta``.
  짝수 ``n`` 이면 창이 ``n + 1`` 개 채널을 덮습니다(인쇄된 식의 결과).
* ``"torch"``: ``torch.nn.LocalResponseNorm`` 과 똑같이 ``alpha / n`` 을 쓰고, 창은
  ``[c - n//2, c + (n-1)//2]`` 입니다(cuda-convnet2, Caffe, cuDNN 도 alpha 를 n 으로 나눕니다).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["CONVENTIONS", "LocalResponseNorm", "local_response_norm"]

CONVENTIONS = ("paper", "torch")


def _check_args(size: int, alpha: float, beta: float, k: float, convention: str, groups: int) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size는 1 이상의 정수여야 합니다. 받은 값: {size!r}")
    for name, value in (("alpha", alpha), ("beta", beta), ("k", k)):
        if not value >= 0:  # NaN 도 거부합니다
            raise ValueError(f"{name}는 0 이상이어야 합니다. 받은 값: {value!r}")
    if convention not in CONVENTIONS:
        raise ValueError(f"convention은 {CONVENTIONS} 중 하나여야 합니다. 받은 값: {convention!r}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"groups는 1 이상의 정수여야 합니다. 받은 값: {groups!r}")


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
        x: ``(N, C, H, W)`` 또는 ``(N, C, L)`` 텐서.
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
        ValueError: 인자가 잘못되었거나 ``x`` 의 차원이 3 또는 4가 아닐 때,
            ``C`` 가 ``groups`` 로 나누어떨어지지 않을 때.
    """
    _check_args(size, alpha, beta, k, convention, groups)
    if not isinstance(x, Tensor):
        raise TypeError(f"x는 torch.Tensor 여야 합니다. 받은 타입: {type(x).__name__}")
    if x.dim() not in (3, 4):
        raise ValueError(f"x는 (N, C, H, W) 또는 (N, C, L) 모양이어야 합니다. 받은 모양: {tuple(x.shape)}")
    n, c = x.shape[:2]
    if c % groups:
        raise ValueError(f"x의 채널 수 {c} 가 groups={groups} 로 나누어떨어지지 않습니다.")
    if convention == "paper":
        before, after, scale = size // 2, size // 2, alpha
    else:
        before, after, scale = size // 2, (size - 1) // 2, alpha / size

    acc_dtype = torch.promote_types(x.dtype, torch.float32)
    xa = x.to(acc_dtype)
    sq = xa * xa
    spatial = sq.shape[2:]
    sq = sq.reshape(n, groups, c // groups, -1)  # (N, C, *S) -> (N, G, C/G, prod(S))
    cg = c // groups
    padded = F.pad(sq, (0, 0, before, after))  # 채널 축 앞뒤를 0으로 채움: (N, G, C/G + before + after, S)
    window = padded.narrow(2, 0, cg).clone()
    for offset in range(1, before + after + 1):
        window += padded.narrow(2, offset, cg)
    window = window.reshape(n, c, *spatial)  # (N, G, C/G, prod(S)) -> (N, C, *S)
    return (xa / (window * scale + k).pow(beta)).to(x.dtype)


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
        return local_response_norm(x, self.size, self.alpha, self.beta, self.k, self.convention, self.groups)

    def extra_repr(self) -> str:
        s = f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}, convention={self.convention!r}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s
