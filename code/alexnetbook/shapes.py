"""합성곱과 풀링이 함께 쓰는 출력 크기 공식(PyTorch 규칙 그대로).

한 공간 축의 입력 크기가 ``size``, 창(커널) 크기가 ``k``, 보폭이 ``s``, 양쪽 패딩이 ``p``, 창 안의 간격이
``d`` 이면 창의 실제 폭은 ``d(k-1) + 1`` 이고 출력 크기는

``floor((size + 2p - d(k-1) - 1) / s) + 1``

입니다. ``torch.nn.Conv2d`` 와 ``torch.nn.MaxPool2d`` 가 같은 식을 씁니다. 풀링에만 있는 ``ceil_mode=True``
는 내림 대신 올림을 쓰되, 마지막 창이 오른쪽 패딩에서만 시작하면 그 창을 버립니다. PyTorch 의
``aten/src/ATen/native/Pool.h`` 에 있는 ``pooling_output_shape_pad_lr`` 를 그대로 옮긴 것입니다.

PyTorch 가 오류를 내는 경우도 같습니다.

* 출력 크기가 1 보다 작으면 오류("Output size is too small"). ``ceil_mode=True`` 에서는 창이 덧댄 입력보다
  커도 창이 입력 안에서 시작하기만 하면 출력이 1 칸 생깁니다(예: 크기 2, 창 3, 보폭 2 → 1).
* 풀링 층은 패딩이 창 크기의 절반 이하여야 합니다(:func:`check_pooling_padding`). 합성곱에는 이 제한이
  없으므로 :func:`pooling_output_size` 는 검사하지 않고, 풀링 층이 따로 부릅니다.
"""

from __future__ import annotations

from .checks import check_int, check_type

__all__ = ["check_pooling_padding", "pooling_output_size"]


def pooling_output_size(
    size: int,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """한 공간 축의 합성곱·풀링 출력 크기 ``(size + 2p - d(k-1) - 1) // s + 1`` (PyTorch 규칙).

    ``ceil_mode=True`` 이면 분자에 ``s - 1`` 을 더해 올림하고, 마지막 창의 시작 ``(out - 1)·s`` 가
    ``size + p`` 이상(오른쪽 패딩 안)이면 그 창을 버립니다. 패딩이 창의 절반을 넘는지는 보지 않습니다
    (합성곱에서는 허용되므로). 풀링 층은 :func:`check_pooling_padding` 으로 따로 확인합니다.

    Args:
        size: 입력 크기(높이 또는 너비, 1 이상).
        kernel_size: 창 크기 ``k`` (1 이상).
        stride: 보폭 ``s`` (1 이상). ``None`` 이면 ``kernel_size``.
        padding: 양쪽 패딩의 크기 ``p`` (0 이상).
        dilation: 창 안의 간격 ``d`` (1 이상).
        ceil_mode: 올림 여부(풀링의 ``ceil_mode``).

    Returns:
        출력 크기(1 이상).

    Raises:
        TypeError: 정수 인자가 정수가 아니거나 ``ceil_mode`` 가 ``bool`` 이 아닐 때.
        ValueError: 인자가 범위를 벗어나거나, 출력 크기가 1 보다 작을 때(PyTorch 의 "Output size is too small").

    Example:
        >>> pooling_output_size(55, 3, 2)  # AlexNet pool1
        27
        >>> pooling_output_size(2, 3, 2, ceil_mode=True)  # 창이 입력보다 커도 입력 안에서 시작하면 1칸
        1
    """
    size = check_int(size, "size", minimum=1)
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
    stride = kernel_size if stride is None else check_int(stride, "stride", minimum=1)
    padding = check_int(padding, "padding", minimum=0)
    dilation = check_int(dilation, "dilation", minimum=1)
    check_type(ceil_mode, "ceil_mode", bool)
    span = dilation * (kernel_size - 1) + 1  # 창의 실제 폭
    out = (size + 2 * padding - span + (stride - 1 if ceil_mode else 0)) // stride + 1  # // 는 음수도 내림(div_rtn)
    if ceil_mode and (out - 1) * stride >= size + padding:  # 마지막 창이 오른쪽 패딩에서만 시작하면 버림
        out -= 1
    if out < 1:
        raise ValueError(
            f"kernel_size={kernel_size}(dilation={dilation} 이면 창의 실제 폭 {span})가 padding={padding} 을 "
            f"양쪽에 덧댄 입력 크기 {size + 2 * padding}(size={size})보다 커서 출력 크기가 {out} 입니다"
            f"(1 이상이어야 함, ceil_mode={ceil_mode}, stride={stride})."
        )
    return out


def check_pooling_padding(kernel_size: int, padding: int, dilation: int = 1) -> int:
    """풀링 층의 패딩이 PyTorch 의 한계 ``padding <= kernel_size // 2`` 안인지 확인합니다.

    PyTorch 는 두 곳에서 검사합니다. ``pooling_output_shape`` 는 창의 실제 폭의 절반
    ``(d(k-1) + 1) // 2`` 까지, ``pool2d_shape_check`` 는 ``k // 2`` 까지 허용합니다. ``d >= 1`` 이면 앞의 것이
    언제나 더 크므로 둘을 합친 한계는 ``k // 2`` 입니다. 덧댄 칸만으로 된 창(최댓값이 없는 창)이 생기지 않게
    하는 규칙입니다. 합성곱에는 이 제한이 없습니다.

    Args:
        kernel_size: 창 크기 ``k`` (1 이상).
        padding: 패딩 ``p`` (0 이상).
        dilation: 창 안의 간격 ``d`` (1 이상).

    Returns:
        파이썬 ``int`` 로 바꾼 ``padding``.

    Raises:
        TypeError: 인자가 정수가 아닐 때.
        ValueError: 인자가 범위를 벗어나거나 ``padding > kernel_size // 2`` 일 때.
    """
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
    check_int(dilation, "dilation", minimum=1)
    padding = check_int(padding, "padding", minimum=0)
    if padding > kernel_size // 2:
        raise ValueError(
            f"padding은(는) kernel_size // 2 = {kernel_size // 2} 이하여야 합니다(PyTorch 의 풀링 규칙). "
            f"받은 값: {padding} (kernel_size={kernel_size})"
        )
    return padding
