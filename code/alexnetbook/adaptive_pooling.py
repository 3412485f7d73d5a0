"""적응형 평균 풀링(adaptive average pooling)을 처음부터 구현합니다.

``torch.nn.AdaptiveAvgPool2d(output_size)`` 는 커널 크기와 보폭을 정하지 않고 **출력 크기**를 정합니다.
입력 크기가 ``H`` 이고 출력 크기가 ``out`` 이면, 출력의 ``i`` 번째 칸은 입력의 ``[start_i, end_i)`` 구간을
평균합니다.

* ``start_i = floor(i * H / out)``
* ``end_i = ceil((i + 1) * H / out)``

``H`` 가 ``out`` 으로 나누어떨어지면 구간이 겹치지 않고 크기가 ``H / out`` 으로 같아져
``AvgPool2d(H // out)`` 과 같습니다. 나누어떨어지지 않으면 구간의 크기가 칸마다 다르고 이웃 구간이 겹칠 수
있습니다. ``H < out`` 이면 한 입력 값이 여러 칸에 들어갑니다(크기를 늘림). 이 구간 공식은 PyTorch 의
``aten/src/ATen/native/AdaptivePooling.h`` 의 ``start_index``/``end_index`` 와 같습니다.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = ["AdaptiveAvgPool2d", "adaptive_avg_pool2d", "adaptive_bins"]


def adaptive_bins(in_size: int, out_size: int) -> list[tuple[int, int]]:
    """한 축의 적응형 풀링 구간 ``[start, end)`` 목록.

    Args:
        in_size: 입력 크기 ``H`` (1 이상).
        out_size: 출력 크기 ``out`` (1 이상).

    Returns:
        길이 ``out_size`` 의 ``(start, end)`` 목록. ``start = floor(i·H/out)``, ``end = ceil((i+1)·H/out)``.

    Raises:
        ValueError: 크기가 1 이상의 정수가 아닐 때.
    """
    for name, value in (("in_size", in_size), ("out_size", out_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}는 1 이상의 정수여야 합니다. 받은 값: {value!r}")
    # 정수 나눗셈으로 내림과 올림을 계산합니다(부동소수점 오차 없음). ceil(a / b) == -((-a) // b)
    return [((i * in_size) // out_size, -((-(i + 1) * in_size) // out_size)) for i in range(out_size)]


def _pair(output_size: int | None | Sequence[int | None]) -> tuple[int | None, int | None]:
    if output_size is None or isinstance(output_size, int):
        pair: tuple = (output_size, output_size)
    elif isinstance(output_size, Sequence):
        pair = tuple(output_size)
    else:
        pair = ()
    if len(pair) != 2 or any(s is not None and (isinstance(s, bool) or not isinstance(s, int) or s < 1) for s in pair):
        raise ValueError(f"output_size는 1 이상의 정수, None, 또는 그 둘의 쌍이어야 합니다. 받은 값: {output_size!r}")
    return pair  # type: ignore[return-value]


def adaptive_avg_pool2d(x: Tensor, output_size: int | None | Sequence[int | None]) -> Tensor:
    """적응형 평균 풀링. ``torch.nn.functional.adaptive_avg_pool2d`` 와 같은 값을 냅니다.

    칸마다 입력의 직사각형 구간을 잘라 평균하는 가장 단순한 방법으로 계산합니다. 자동 미분이 역전파를
    처리합니다(기울기는 구간 안의 모든 입력에 ``1 / 구간 넓이`` 씩 나뉩니다).

    Args:
        x: ``(N, C, H, W)`` 또는 ``(C, H, W)`` 실수 텐서.
        output_size: 출력의 ``(높이, 너비)``. 정수 하나면 정사각형, ``None`` 인 축은 입력 크기를 유지합니다.

    Returns:
        ``(N, C, out_h, out_w)`` 또는 ``(C, out_h, out_w)`` 텐서.

    Raises:
        TypeError: ``x`` 가 실수 텐서가 아닐 때.
        ValueError: ``x`` 가 3차원이나 4차원이 아니거나, 높이·너비가 0이거나, ``output_size`` 가 잘못되었을 때.
    """
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise TypeError(f"x는 실수 텐서여야 합니다. 받은 값: {type(x).__name__}")
    if x.dim() not in (3, 4):
        raise ValueError(f"x는 (N, C, H, W) 또는 (C, H, W) 여야 합니다. 받은 모양: {tuple(x.shape)}")
    height, width = x.shape[-2:]
    if height < 1 or width < 1:
        raise ValueError(f"x의 높이와 너비는 1 이상이어야 합니다. 받은 모양: {tuple(x.shape)}")
    out_h, out_w = _pair(output_size)
    rows = adaptive_bins(height, out_h or height)
    cols = adaptive_bins(width, out_w or width)
    out_rows = []
    for top, bottom in rows:
        cells = [x[..., top:bottom, left:right].mean(dim=(-2, -1)) for left, right in cols]  # 각 (..., C)
        out_rows.append(torch.stack(cells, dim=-1))  # (..., C, out_w)
    return torch.stack(out_rows, dim=-2)  # (..., C, out_h, out_w)


class AdaptiveAvgPool2d(nn.Module):
    """:func:`adaptive_avg_pool2d` 의 모듈판. ``torch.nn.AdaptiveAvgPool2d`` 와 같은 인자를 받습니다.

    Args:
        output_size: 출력의 ``(높이, 너비)``. 정수 하나면 정사각형, ``None`` 인 축은 입력 크기 유지.
    """

    def __init__(self, output_size: int | None | Sequence[int | None]) -> None:
        super().__init__()
        self.output_size = _pair(output_size)

    def forward(self, x: Tensor) -> Tensor:
        return adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
