"""풀링 층의 출력 크기 계산(논문 §3.4의 겹치는 풀링).

이 모듈의 NumPy 최대 풀링 구현은 풀링 장에서 다룹니다.
"""

from __future__ import annotations

__all__ = ["pooling_output_size"]


def pooling_output_size(
    size: int,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """한 공간 축의 풀링(또는 합성곱) 출력 크기 ``(size + 2p - d(k-1) - 1) // s + 1``.

    ``torch.nn.MaxPool2d`` 와 ``torch.nn.Conv2d`` 의 규칙과 같습니다. ``ceil_mode=True`` 이면
    올림을 쓰되, 마지막 창이 오른쪽 패딩에서만 시작하면 버립니다(PyTorch 규칙).

    Args:
        size: 입력 크기(높이 또는 너비).
        kernel_size: 창 크기 ``z``.
        stride: 보폭 ``s``. ``None`` 이면 ``kernel_size``.
        padding: 양쪽에 덧대는 크기 ``p``.
        dilation: 창 안의 간격.
        ceil_mode: 올림 여부.

    Returns:
        출력 크기(1 이상).

    Raises:
        ValueError: 인자가 양수가 아니거나 창이 입력보다 커서 출력이 없을 때.
    """
    stride = kernel_size if stride is None else stride
    for name, value in (("size", size), ("kernel_size", kernel_size), ("stride", stride), ("dilation", dilation)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}는 1 이상의 정수여야 합니다. 받은 값: {value!r}")
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding은 0 이상의 정수여야 합니다. 받은 값: {padding!r}")
    span = dilation * (kernel_size - 1) + 1
    room = size + 2 * padding - span
    if room < 0:
        raise ValueError(
            f"kernel_size={kernel_size}(유효 크기 {span})가 패딩을 더한 입력 크기 {size + 2 * padding}보다 큽니다."
        )
    if ceil_mode:
        out = -(-room // stride) + 1
        if (out - 1) * stride >= size + padding:  # 마지막 창이 오른쪽 패딩에서만 시작하면 버림
            out -= 1
    else:
        out = room // stride + 1
    return out
