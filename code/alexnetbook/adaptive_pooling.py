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

출력의 메모리 배치도 PyTorch 와 같습니다. 4차원 입력이 channels_last 처럼 놓여 있으면(PyTorch 의
``suggest_memory_format``) 출력도 channels_last 이고, 그 밖에는(3차원 입력, 빈 배치 포함) 보통의 연속 배치입니다.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .checks import check_int, check_tensor

__all__ = ["AdaptiveAvgPool2d", "adaptive_avg_pool2d", "adaptive_bins"]


def adaptive_bins(in_size: int, out_size: int) -> list[tuple[int, int]]:
    """한 축의 적응형 풀링 구간 ``[start, end)`` 목록.

    Args:
        in_size: 입력 크기 ``H`` (1 이상).
        out_size: 출력 크기 ``out`` (1 이상).

    Returns:
        길이 ``out_size`` 의 ``(start, end)`` 목록. ``start = floor(i·H/out)``, ``end = ceil((i+1)·H/out)``.

    Raises:
        TypeError: 크기가 정수가 아닐 때(``bool`` 포함).
        ValueError: 크기가 1 보다 작을 때.
    """
    in_size = check_int(in_size, "in_size", minimum=1)
    out_size = check_int(out_size, "out_size", minimum=1)
    # 정수 나눗셈으로 내림과 올림을 계산합니다(부동소수점 오차 없음). ceil(a / b) == -((-a) // b)
    return [((i * in_size) // out_size, -((-(i + 1) * in_size) // out_size)) for i in range(out_size)]


def _pair(output_size: int | None | Sequence[int | None]) -> tuple[int | None, int | None]:
    """``output_size`` 를 ``(높이, 너비)`` 쌍으로 바꾸고 검사합니다. 축마다 1 이상의 정수 또는 ``None``.

    Raises:
        TypeError: 정수, ``None``, 또는 그 둘의 쌍이 아닐 때(``bool``, 실수 포함).
        ValueError: 쌍의 길이가 2가 아니거나 크기가 1 보다 작을 때.
    """
    if output_size is None or not isinstance(output_size, Sequence):
        pair: tuple = (output_size, output_size)
        names = ("output_size", "output_size")
    else:
        pair = tuple(output_size)
        names = ("output_size[0]", "output_size[1]")
        if len(pair) != 2:
            raise ValueError(f"output_size은(는) 정수 하나 또는 (높이, 너비) 쌍이어야 합니다. 받은 값: {output_size!r}")
    checked = tuple(None if s is None else check_int(s, name, minimum=1) for s, name in zip(pair, names))
    return checked  # type: ignore[return-value]


def _suggest_memory_format(x: Tensor) -> torch.memory_format:
    """PyTorch 가 ``x`` 에서 이어 갈 메모리 배치(C++ 의 ``Tensor::suggest_memory_format``).

    4차원 텐서의 보폭(stride)이 채널, 너비, 높이, 배치 순으로 커지면 channels_last 입니다. 크기가 1 인 축의
    보폭은 순서에 끼지 않고, 애매하면(채널 보폭 0, 크기 0 인 축, ``N111`` 처럼 보폭이 모두 같은 경우) 보통의 연속
    배치로 봅니다. ``c10/core/MemoryFormat.h`` 의 ``is_channels_last_strides_2d_s4`` 를 그대로 옮겼습니다.
    """
    if x.dim() != 4 or x.stride(1) == 0:
        return torch.contiguous_format
    smallest = 0  # 지금까지 본 축이 덮는 보폭
    for d in (1, 3, 2, 0):  # C, W, H, N 순으로 보폭이 커져야 channels_last
        if x.shape[d] == 0 or x.stride(d) < smallest:
            return torch.contiguous_format
        if d == 0 and smallest == x.stride(1):  # N111 처럼 구별할 수 없으면 연속 배치
            return torch.contiguous_format
        smallest = x.stride(d) * max(x.shape[d], 1)
    return torch.channels_last


def adaptive_avg_pool2d(x: Tensor, output_size: int | None | Sequence[int | None]) -> Tensor:
    """적응형 평균 풀링. ``torch.nn.functional.adaptive_avg_pool2d`` 와 같은 값을 냅니다.

    칸마다 입력의 직사각형 구간을 잘라 평균하는 가장 단순한 방법으로 계산합니다. 자동 미분이 역전파를
    처리합니다(기울기는 구간 안의 모든 입력에 ``1 / 구간 넓이`` 씩 나뉩니다).

    Args:
        x: ``(N, C, H, W)`` 또는 ``(C, H, W)`` 실수 텐서.
        output_size: 출력의 ``(높이, 너비)``. 정수 하나면 정사각형, ``None`` 인 축은 입력 크기를 유지합니다.

    Returns:
        ``(N, C, out_h, out_w)`` 또는 ``(C, out_h, out_w)`` 텐서. 메모리 배치는 PyTorch 처럼 입력을 따릅니다
        (channels_last 입력이면 channels_last 출력). 빈 배치(``N = 0``)도 됩니다.

    Raises:
        TypeError: ``x`` 가 실수 텐서가 아니거나 ``output_size`` 의 타입이 잘못되었을 때.
        ValueError: ``x`` 가 3차원이나 4차원이 아니거나, 높이·너비가 0이거나, ``output_size`` 의 값이 잘못되었을 때.
    """
    check_tensor(x, "x", dims=(3, 4), floating=True)
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
    out = torch.stack(out_rows, dim=-2)  # (..., C, out_h, out_w): 늘 연속 배치
    return out.contiguous(memory_format=_suggest_memory_format(x))  # 입력의 메모리 배치를 따름(channels_last 면 복사)


class AdaptiveAvgPool2d(nn.Module):
    """:func:`adaptive_avg_pool2d` 의 모듈판. ``torch.nn.AdaptiveAvgPool2d`` 와 같은 인자를 받습니다.

    Args:
        output_size: 출력의 ``(높이, 너비)``. 정수 하나면 정사각형, ``None`` 인 축은 입력 크기 유지.

    Raises:
        TypeError: ``output_size`` 의 타입이 잘못되었을 때.
        ValueError: ``output_size`` 의 값이 잘못되었을 때.
    """

    def __init__(self, output_size: int | None | Sequence[int | None]) -> None:
        super().__init__()
        self.output_size = _pair(output_size)

    def forward(self, x: Tensor) -> Tensor:
        """:func:`adaptive_avg_pool2d` 를 이 모듈의 ``output_size`` 로 적용합니다.

        Args:
            x: ``(N, C, H, W)`` 또는 ``(C, H, W)`` 실수 텐서.

        Returns:
            ``(N, C, out_h, out_w)`` 또는 ``(C, out_h, out_w)`` 텐서(메모리 배치는 입력을 따름).
        """
        return adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
