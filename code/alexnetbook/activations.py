"""활성화 함수 시그모이드, tanh, ReLU 를 기본 텐서 연산만으로 구현합니다(논문 §3.1).

``torch.sigmoid``/``torch.tanh``/``torch.relu`` 를 쓰지 않고 ``exp``, ``expm1``, ``where`` 같은 기본 연산으로
만들되, 입력이 ±100 이나 ±1e4 처럼 커도 float32 와 float64 모두에서 출력과 기울기가 유한하도록
**수치적으로 안정한** 형태로 씁니다. 핵심은 ``exp`` 에 언제나 0 이하의 값만 넣는 것입니다
(``exp(-|x|)`` 는 0과 1 사이라 넘치지 않습니다).

교과서 공식을 그대로 옮긴 ``(e^x - e^-x) / (e^x + e^-x)`` 는 ``exp`` 가 ``inf`` 로 넘치는 순간 순전파에서
``inf / inf = nan`` 을 만들고, ``1 / (1 + exp(-x))`` 는 순전파는 멀쩡하지만 역전파에서 ``exp`` 의 기울기가
``0 · inf = nan`` 이 됩니다. 그 모습은 책의 ReLU 장에서 보여 줍니다.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from .checks import check_tensor

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["ACTIVATIONS", "ActivationFunction", "ReLU", "Sigmoid", "Tanh", "get_grads", "plot_activation"]


class ActivationFunction(nn.Module):
    """원소별 활성화 함수의 공통 바탕 클래스.

    Attributes:
        name: 클래스 이름(그림 제목 등에 씀).
        config: 다시 만들 때 필요한 설정. 여기의 함수들은 설정이 없어 ``{"name": name}`` 뿐입니다.
    """

    def __init__(self) -> None:
        super().__init__()
        self.name = self.__class__.__name__
        self.config: dict[str, Any] = {"name": self.name}

    def forward(self, x: Tensor) -> Tensor:  # pragma: no cover - 하위 클래스가 구현
        raise NotImplementedError


class Sigmoid(ActivationFunction):
    """로지스틱 시그모이드 σ(x) = 1 / (1 + e^(−x)). 출력 범위 (0, 1), σ′ = σ(1 − σ) ≤ 1/4.

    x ≥ 0 이면 ``1 / (1 + e^(−x))``, x < 0 이면 같은 값을 ``e^x / (1 + e^x)`` 로 계산합니다. 두 경우 모두
    ``exp`` 의 인자가 0 이하라서 넘치지 않고, 출력과 기울기가 언제나 유한합니다.

    Shape:
        입력 ``(*)``, 출력 ``(*)`` (같은 모양, 같은 dtype).
    """

    def forward(self, x: Tensor) -> Tensor:
        check_tensor(x, "x", floating=True)
        negative = x < 0
        z = torch.exp(torch.where(negative, x, -x))  # e^(−|x|) ∈ (0, 1]
        return torch.where(negative, z / (1 + z), 1 / (1 + z))


class Tanh(ActivationFunction):
    """쌍곡탄젠트 tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x)). 출력 범위 (−1, 1), tanh′ = 1 − tanh² ≤ 1.

    분자와 분모를 e^|x| 로 나누면 tanh(x) = sign(x) · (1 − e^(−2|x|)) / (1 + e^(−2|x|)) 입니다.
    ``exp`` 에는 0 이하의 값만 들어가므로 넘치지 않습니다. x 가 0 근처일 때 ``1 − e^(−2|x|)`` 의 뺄셈이
    유효숫자를 잃지 않도록 ``expm1`` (= e^t − 1)을 씁니다.

    Shape:
        입력 ``(*)``, 출력 ``(*)`` (같은 모양, 같은 dtype).
    """

    def forward(self, x: Tensor) -> Tensor:
        check_tensor(x, "x", floating=True)
        negative = x < 0
        m = torch.expm1(2 * torch.where(negative, x, -x))  # e^(−2|x|) − 1 ∈ (−1, 0]
        magnitude = -m / (2 + m)  # (1 − e^(−2|x|)) / (1 + e^(−2|x|)) = |tanh(x)|
        return torch.where(negative, -magnitude, magnitude)


class ReLU(ActivationFunction):
    """정류 선형 유닛 f(x) = max(0, x). 양수 쪽은 포화하지 않으며, 도함수는 0 또는 1 입니다.

    x = 0 에서의 기울기는 ``torch.relu`` 와 같게 0 으로 둡니다. ``NaN`` 입력은 ``NaN`` 으로 그대로
    내보냅니다(조용히 0 으로 바꾸지 않습니다).

    Shape:
        입력 ``(*)``, 출력 ``(*)`` (같은 모양, 같은 dtype).
    """

    def forward(self, x: Tensor) -> Tensor:
        check_tensor(x, "x", floating=True)
        return torch.where(x <= 0, torch.zeros((), dtype=x.dtype, device=x.device), x)


#: 이름 → 클래스.
ACTIVATIONS: dict[str, type[ActivationFunction]] = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
}


def get_grads(act_fn: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """원소별 함수 ``act_fn`` 의 도함수 값을 ``x`` 의 각 원소에서 autograd 로 구합니다.

    출력의 합을 역전파하므로, ``act_fn`` 이 원소별(element-wise) 함수일 때 결과의 i 번째 값이 f′(x_i) 입니다.

    Args:
        act_fn: 텐서를 받아 같은 모양의 텐서를 돌려주는 원소별 함수(모듈 포함).
        x: 실수 텐서. 원본은 바뀌지 않습니다.

    Returns:
        ``x`` 와 같은 모양의 기울기 텐서.

    Raises:
        TypeError: ``act_fn`` 이 호출할 수 없거나 텐서를 돌려주지 않을 때, ``x`` 가 실수 텐서가 아닐 때.
        ValueError: ``act_fn`` 의 출력 모양이 ``x`` 와 다를 때(원소별 함수가 아님), 또는 출력이 ``x`` 에
            의존하지 않아 기울기를 구할 수 없을 때.
    """
    if not callable(act_fn):
        raise TypeError(f"act_fn은 호출할 수 있어야 합니다. 받은 타입: {type(act_fn).__name__}")
    check_tensor(x, "x", floating=True)
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        out = act_fn(x)
        if not isinstance(out, Tensor):
            raise TypeError(f"act_fn은 텐서를 돌려주어야 합니다. 받은 타입: {type(out).__name__}")
        if out.shape != x.shape:
            raise ValueError(f"act_fn은 원소별 함수여야 합니다: 입력 {tuple(x.shape)} 과 출력 {tuple(out.shape)} 의 모양이 다릅니다.")
        if not out.requires_grad:
            # backward 를 부르면 torch 가 RuntimeError 를 내므로, 그 전에 원인을 알려 줍니다.
            raise ValueError("act_fn의 출력이 입력 x 에 대한 계산 그래프에 연결되어 있지 않아(requires_grad=False) 기울기를 구할 수 없습니다.")
        out.sum().backward()
    if x.grad is None:
        # 출력이 다른 텐서(예: 학습되는 매개변수)에만 연결되어 있고 x 와는 이어지지 않은 경우입니다.
        raise ValueError("act_fn의 출력이 입력 x 에 의존하지 않아 x 에 대한 기울기가 없습니다.")
    return x.grad


def plot_activation(act_fn: ActivationFunction, x: Tensor, ax: Axes) -> Axes:
    """활성화 함수와 그 도함수를 한 축에 그립니다(한국어 범례).

    Args:
        act_fn: :class:`ActivationFunction` (제목에 ``act_fn.name`` 을 씁니다).
        x: 1차원 실수 텐서(가로축 값).
        ax: 그릴 matplotlib 축.

    Returns:
        같은 ``ax``.

    Raises:
        TypeError: ``x`` 가 실수 텐서가 아닐 때.
        ValueError: ``x`` 가 1차원이 아닐 때.
    """
    check_tensor(x, "x", dims=1, floating=True)
    with torch.no_grad():
        y = act_fn(x)
    dy = get_grads(act_fn, x)
    xs, ys, dys = x.cpu().numpy(), y.cpu().numpy(), dy.cpu().numpy()
    ax.axhline(0, color="0.8", linewidth=0.8)
    ax.axvline(0, color="0.8", linewidth=0.8)
    ax.plot(xs, ys, linewidth=2, color="#2a5d8f", label="함수 f(x)")
    ax.plot(xs, dys, linewidth=2, linestyle="--", color="#d1495b", label="도함수 f′(x)")
    ax.set_title(getattr(act_fn, "name", type(act_fn).__name__))
    ax.set_xlabel("입력 x")
    ax.legend(loc="upper left")
    return ax
