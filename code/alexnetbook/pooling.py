"""최대 풀링(max pooling)을 NumPy 로 처음부터: im2col/col2im 과 순전파·역전파(논문 §3.4의 겹치는 풀링).

배열은 모두 PyTorch 와 같은 ``(N, C, H, W)`` 순서입니다. 기호는 논문을 따릅니다: 창(window) 크기 ``z``
(코드에서는 ``kernel_size``, ``k``), 보폭 ``s`` (``stride``), 패딩 ``p`` (``padding``).
출력 크기는 ``(H + 2p - k) // s + 1`` 입니다(:func:`pooling_output_size`, 합성곱과 함께 쓰는 공식이라
:mod:`alexnetbook.shapes` 에 있습니다). 풀링 층은 ``ceil_mode=True`` 로 올림도 할 수 있습니다.

두 가지 구현을 함께 둡니다.

* :class:`Im2colMaxPool2d`: :func:`im2col` 로 모든 창을 ``(N, C·k·k, L)`` 열 행렬에 복사한 뒤 창마다
  ``argmax`` 를 구하고, 역전파는 :func:`col2im` 으로 되돌립니다. 읽기 쉽지만 열 행렬이 입력보다
  큽니다(겹치는 풀링 ``k > s`` 에서 특히).
* :class:`MaxPool2d`: 열 행렬 없이, 창 안의 위치 ``(i, j)`` 마다 "모든 창의 ``(i, j)`` 번째 원소" 를
  보폭 있는 뷰(strided view)로 꺼내 ``k·k`` 번 비교합니다. 같은 결과를 더 적은 메모리로 빠르게 냅니다.

두 구현 모두 창 안에서 처음 나온 최댓값(행 우선 순서)에 기울기를 보냅니다. PyTorch 와 같은 규칙입니다.
"""

from __future__ import annotations

import numpy as np

from .checks import check_int, check_type
from .shapes import check_pooling_padding, pooling_output_size

__all__ = ["Im2colMaxPool2d", "MaxPool2d", "col2im", "im2col", "pooling_output_size"]


def _check_images(x: object, name: str = "x") -> np.ndarray:
    """``x`` 가 4차원 NumPy 배열 ``(N, C, H, W)`` 인지 확인합니다(``N = 0`` 인 빈 배치도 받습니다)."""
    check_type(x, name, np.ndarray)
    if x.ndim != 4:
        raise ValueError(f"{name}은(는) (N, C, H, W) 4차원 배열이어야 합니다. 받은 모양: {x.shape}")
    return x


def _output_hw(
    height: int, width: int, kernel_size: int, stride: int, padding: int, ceil_mode: bool = False
) -> tuple[int, int]:
    return (
        pooling_output_size(height, kernel_size, stride, padding, ceil_mode=ceil_mode),
        pooling_output_size(width, kernel_size, stride, padding, ceil_mode=ceil_mode),
    )


def _ceil_extra(size: int, out: int, kernel_size: int, stride: int, padding: int) -> int:
    """마지막 창이 덧댄 입력 끝을 넘는 칸 수(``ceil_mode=True`` 일 때만 0 보다 큼).

    출력 ``out`` 칸의 창들은 덧댄 입력의 ``[0, (out - 1)·s + k)`` 를 덮습니다. 덧댄 입력의 길이
    ``size + 2p`` 보다 길면 그만큼 끝(아래, 오른쪽)에 덧댄 칸을 더 붙여야 모든 창이 배열 안에 들어옵니다.
    내림(``ceil_mode=False``)에서는 언제나 0 입니다.
    """
    return max(0, (out - 1) * stride + kernel_size - (size + 2 * padding))


def _pad(x: np.ndarray, padding: int, value: float, extra_h: int = 0, extra_w: int = 0) -> np.ndarray:
    """마지막 두 축(높이, 너비) 양쪽에 ``padding`` 칸씩, 끝에는 ``extra_h``/``extra_w`` 칸 더 ``value`` 를 덧댑니다.

    덧댈 칸이 없으면 복사하지 않고 ``x`` 를 그대로 돌려줍니다. ``extra_*`` 는 ``ceil_mode=True`` 에서 마지막 창이
    덧댄 입력 밖으로 나가는 만큼입니다(:func:`_ceil_extra`).
    """
    if padding == 0 and extra_h == 0 and extra_w == 0:
        return x
    widths = [(0, 0)] * (x.ndim - 2) + [(padding, padding + extra_h), (padding, padding + extra_w)]  # H, W 축에만
    return np.pad(x, widths, constant_values=value)


def _window_entry(a: np.ndarray, i: int, j: int, stride: int, out_h: int, out_w: int) -> np.ndarray:
    """모든 창의 ``(i, j)`` 번째 원소를 모은 ``(..., out_h, out_w)`` 뷰(복사 없음). ``a`` 는 ``(..., H, W)``.

    출력 위치 ``(oh, ow)`` 의 창은 ``a[..., oh·s : oh·s + k, ow·s : ow·s + k]`` 이므로, 그 창의
    ``(i, j)`` 번째 원소는 ``a[..., oh·s + i, ow·s + j]`` 입니다. ``oh`` 와 ``ow`` 를 모두 훑으면
    ``i`` 에서 시작해 ``s`` 칸씩 건너뛰는 슬라이스가 됩니다.
    """
    return a[..., i:i + stride * (out_h - 1) + 1:stride, j:j + stride * (out_w - 1) + 1:stride]


def _first_real_position(kernel_size: int, stride: int, padding: int, out_h: int, out_w: int) -> np.ndarray:
    """창마다 패딩이 아닌(실제 입력) 첫 칸의 창 안 위치 ``t = i·k + j`` 를 ``(OH, OW)`` 정수 배열로 돌려줍니다.

    출력 위치 ``(oh, ow)`` 의 창은 덧댄 입력의 ``oh·s`` 행, ``ow·s`` 열에서 시작하고, 실제 입력은 ``p`` 행,
    ``p`` 열부터이므로 첫 실제 칸은 ``i0 = max(0, p - oh·s)``, ``j0 = max(0, p - ow·s)`` 입니다. 행 우선 순서로
    ``t < i0·k + j0`` 인 칸은 모두 덧댄 칸입니다. 창의 값이 모두 ``-inf`` 라서 덧댄 칸을 최댓값으로 고르게 될
    때, PyTorch 처럼 이 칸을 대신 고르는 데 씁니다(``np.maximum(argmax, 이 배열)``).
    """
    first_row = np.maximum(0, padding - stride * np.arange(out_h))  # (OH,)
    first_col = np.maximum(0, padding - stride * np.arange(out_w))  # (OW,)
    return first_row[:, None] * kernel_size + first_col[None, :]  # (OH, 1) + (1, OW) -> (OH, OW)


def im2col(
    x: np.ndarray,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    pad_value: float = 0.0,
) -> np.ndarray:
    """모든 ``k×k`` 창을 열(column)로 펼칩니다. ``torch.nn.functional.unfold`` 와 같은 배치입니다.

    열 행렬 ``col`` 의 모양은 ``(N, C·k·k, L)``, ``L = OH·OW`` 입니다. 둘째 축의 순서는 채널 ``c``,
    창 안의 행 ``i``, 열 ``j`` 순이고(번호 ``c·k·k + i·k + j``), 셋째 축은 출력 위치를 행 우선으로
    나열합니다(번호 ``oh·OW + ow``). 곧 ``col[n, c·k·k + i·k + j, oh·OW + ow] =
    x_pad[n, c, oh·s + i, ow·s + j]`` 입니다.

    Args:
        x: ``(N, C, H, W)`` 배열.
        kernel_size: 정사각형 창의 한 변 ``k``.
        stride: 보폭 ``s``.
        padding: 높이와 너비 양쪽에 덧댈 칸 수 ``p``.
        pad_value: 덧댄 칸의 값. 합성곱은 0, 최대 풀링은 ``-inf`` 를 씁니다.

    Returns:
        ``x`` 와 같은 dtype 의 ``(N, C·k·k, OH·OW)`` 새 배열.

    Raises:
        TypeError: ``x`` 가 NumPy 배열이 아닐 때.
        ValueError: ``x`` 가 4차원이 아니거나, 인자가 범위를 벗어나거나, 창이 덧댄 입력보다 클 때.
    """
    _check_images(x)
    n, c, h, w = x.shape
    out_h, out_w = _output_hw(h, w, kernel_size, stride, padding)
    x_pad = _pad(x, padding, pad_value)  # (N, C, H + 2p, W + 2p)
    col = np.empty((n, c, kernel_size, kernel_size, out_h, out_w), dtype=x.dtype)
    for i in range(kernel_size):
        for j in range(kernel_size):
            col[:, :, i, j] = _window_entry(x_pad, i, j, stride, out_h, out_w)
    return col.reshape(n, c * kernel_size * kernel_size, out_h * out_w)  # (N, C, k, k, OH, OW) -> (N, C·k·k, OH·OW)


def col2im(
    col: np.ndarray,
    input_shape: tuple[int, int, int, int],
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
) -> np.ndarray:
    """:func:`im2col` 의 열 배치를 이미지로 되돌리며, 같은 칸에 온 값은 **더합니다**
    (``torch.nn.functional.fold`` 와 같음).

    창이 겹치면(``k > s``) 한 입력 칸이 여러 열에 들어 있으므로, 역전파에서는 그 기울기들을 모두
    더해야 합니다. 덧댄 칸에 온 값은 버립니다.

    Args:
        col: ``(N, C·k·k, OH·OW)`` 배열.
        input_shape: 원래 입력의 모양 ``(N, C, H, W)`` (패딩 전). ``N = 0`` (빈 배치)도 됩니다.
        kernel_size: 창의 한 변 ``k``.
        stride: 보폭 ``s``.
        padding: 덧댄 칸 수 ``p``.

    Returns:
        ``col`` 과 같은 dtype 의 ``(N, C, H, W)`` 배열.

    Raises:
        TypeError: ``col`` 이 NumPy 배열이 아니거나 ``input_shape`` 가 정수의 튜플(또는 리스트)이 아닐 때.
        ValueError: ``input_shape`` 가 ``N >= 0``, ``C, H, W >= 1`` 인 정수 네 개가 아니거나 ``col`` 의 모양이
            맞지 않을 때.
    """
    check_type(col, "col", np.ndarray)
    check_type(input_shape, "input_shape", (tuple, list))
    if len(input_shape) != 4:
        raise ValueError(f"input_shape은(는) (N, C, H, W) 네 개의 정수여야 합니다. 받은 값: {input_shape!r}")
    n, c, h, w = (check_int(v, f"input_shape[{i}]", minimum=0 if i == 0 else 1) for i, v in enumerate(input_shape))
    out_h, out_w = _output_hw(h, w, kernel_size, stride, padding)
    expected = (n, c * kernel_size * kernel_size, out_h * out_w)
    if col.shape != expected:
        raise ValueError(f"col은 (N, C·k·k, OH·OW) = {expected} 모양이어야 합니다. 받은 모양: {col.shape}")
    cols = col.reshape(n, c, kernel_size, kernel_size, out_h, out_w)  # (N, C·k·k, OH·OW) -> (N, C, k, k, OH, OW)
    x_pad = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=col.dtype)
    for i in range(kernel_size):
        for j in range(kernel_size):
            _window_entry(x_pad, i, j, stride, out_h, out_w)[...] += cols[:, :, i, j]  # 겹치는 칸은 누적
    return np.ascontiguousarray(x_pad[:, :, padding:padding + h, padding:padding + w])


class MaxPool2d:
    """NumPy 최대 풀링 층. ``torch.nn.MaxPool2d(kernel_size, stride, padding)`` 과 같은 값을 냅니다.

    순전파는 창 안의 위치 ``(i, j)`` 를 ``k·k`` 번 돌며, 모든 창의 ``(i, j)`` 번째 원소를 보폭 있는 뷰로
    꺼내 지금까지의 최댓값과 비교합니다. 열 행렬을 만들지 않으므로 추가 메모리는 출력 크기 정도입니다.
    각 출력의 최댓값이 창 안 어디(``t = i·k + j``)에 있었는지 기억했다가, 역전파에서 그 자리로만
    기울기를 보냅니다. 창이 겹치면(``k > s``) 한 입력 칸이 여러 창의 최댓값일 수 있고, 그 기울기는 더해집니다.

    규칙(PyTorch 와 같음):

    * 출력 크기 ``(H + 2p - k) // s + 1``. 덧댄 칸은 ``-inf`` 라서 최댓값이 되지 않습니다. 창의 실제 값이
      모두 ``-inf`` 이면 창 안의 첫 실제 칸을 최댓값 자리로 고릅니다(기울기가 덧댄 칸으로 사라지지 않음).
    * 창 안에 최댓값이 여럿이면(예: ReLU 뒤의 0) 행 우선 순서로 **처음** 나온 것을 고릅니다.
    * NaN 은 최댓값으로 취급하고, 한 창에 NaN 이 여럿이면 마지막 NaN 을 고릅니다.
    * 입력의 dtype(float16/32/64)을 그대로 유지합니다.

    * ``ceil_mode=True`` 이면 출력 크기를 올림으로 셉니다(:func:`pooling_output_size`). 덧댄 입력 끝을 넘는
      마지막 창은 넘는 칸을 ``-inf`` 로 채운 것처럼 다룹니다(PyTorch 처럼 입력 안의 칸만 봄).

    Args:
        kernel_size: 정사각형 창의 한 변 ``z`` (논문 표기).
        stride: 보폭 ``s``. ``None`` 이면 ``kernel_size`` (겹치지 않는 풀링).
        padding: 양쪽에 덧댈 칸 수. PyTorch 처럼 ``kernel_size // 2`` 이하여야 합니다.
        ceil_mode: ``True`` 면 출력 크기를 올림으로 셉니다(``torch.nn.MaxPool2d`` 의 ``ceil_mode``).
            키워드로만 받습니다.

    Raises:
        TypeError: ``kernel_size``, ``stride``, ``padding`` 이 정수가 아니거나 ``ceil_mode`` 가 ``bool`` 이 아닐 때.
        ValueError: ``kernel_size`` 나 ``stride`` 가 1 이상이 아니거나,
            ``padding`` 이 0 이상 ``kernel_size // 2`` 이하가 아닐 때.

    Example:
        >>> pool = MaxPool2d(kernel_size=3, stride=2)  # AlexNet 의 겹치는 풀링 (z=3, s=2)
        >>> x = np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5)  # (25,) -> (1, 1, 5, 5)
        >>> pool.forward(x)[0, 0]
        array([[12., 14.],
               [22., 24.]], dtype=float32)
    """

    def __init__(
        self, kernel_size: int, stride: int | None = None, padding: int = 0, *, ceil_mode: bool = False
    ) -> None:
        self.kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
        self.stride = self.kernel_size if stride is None else check_int(stride, "stride", minimum=1)
        self.padding = check_pooling_padding(self.kernel_size, padding)  # 0 이상 kernel_size // 2 이하
        self.ceil_mode = check_type(ceil_mode, "ceil_mode", bool)
        # 마지막 forward 의 (입력 모양, 입력 dtype, 최댓값 위치). 위치는 (N, C, OH, OW) 배열로, 값 t = i·k + j.
        self._saved: tuple[tuple[int, ...], np.dtype, np.ndarray] | None = None

    def __repr__(self) -> str:
        ceil = ", ceil_mode=True" if self.ceil_mode else ""
        args = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}{ceil}"
        return f"{type(self).__name__}({args})"

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(N, C, H, W)`` 입력을 풀링해 ``(N, C, OH, OW)`` 를 돌려주고, 역전파에 쓸 최댓값 위치를 저장합니다.

        Raises:
            TypeError: ``x`` 가 실수형 NumPy 배열이 아닐 때.
            ValueError: ``x`` 가 4차원이 아니거나, ``kernel_size`` 가 덧댄 입력보다 클 때.
        """
        _check_images(x)
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"x는 실수형(float16/32/64) 배열이어야 합니다(패딩에 -inf 사용). 받은 dtype: {x.dtype}")
        _, _, h, w = x.shape
        out_h, out_w = _output_hw(h, w, self.kernel_size, self.stride, self.padding, self.ceil_mode)
        out, argmax = self._max_and_argmax(x, out_h, out_w)
        self._saved = (x.shape, x.dtype, argmax)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """출력의 기울기 ``dout`` ``(N, C, OH, OW)`` 를 받아 입력의 기울기 ``(N, C, H, W)`` 를 돌려줍니다.

        각 ``dout`` 값은 자기 창의 최댓값 자리로만 갑니다(``∂ max / ∂ x = 1[x 가 고른 최댓값]``).
        결과의 dtype 은 순전파 입력의 dtype 과 같습니다.

        Raises:
            RuntimeError: :meth:`forward` 를 먼저 부르지 않았을 때.
            TypeError: ``dout`` 이 NumPy 배열이 아닐 때.
            ValueError: ``dout`` 의 모양이 마지막 순전파 출력과 다를 때.
        """
        if self._saved is None:
            raise RuntimeError(f"{type(self).__name__}.backward 전에 forward 를 먼저 불러야 합니다(저장된 최댓값 위치가 없음).")
        check_type(dout, "dout", np.ndarray)
        input_shape, dtype, argmax = self._saved
        if dout.shape != argmax.shape:
            raise ValueError(f"dout은 마지막 forward 출력과 같은 {argmax.shape} 모양이어야 합니다. 받은 모양: {dout.shape}")
        return self._route_gradient(dout.astype(dtype, copy=False), argmax, input_shape)

    # 아래 두 메서드가 구현마다 다른 부분입니다. 최댓값 위치 argmax 의 뜻(t = i·k + j)은 같습니다.

    def _max_and_argmax(self, x: np.ndarray, out_h: int, out_w: int) -> tuple[np.ndarray, np.ndarray]:
        k, s, p = self.kernel_size, self.stride, self.padding
        n, c, h, w = x.shape
        extra_h, extra_w = _ceil_extra(h, out_h, k, s, p), _ceil_extra(w, out_w, k, s, p)  # ceil_mode 가 아니면 0
        out = np.empty((n, c, out_h, out_w), dtype=x.dtype)
        argmax = np.empty(out.shape, dtype=np.min_scalar_type(-k * k))  # 작은 부호 있는 정수(k=3 이면 int8)
        has_nan = bool(np.isnan(x).any())
        if p:
            first_real = _first_real_position(k, s, p, out_h, out_w).astype(argmax.dtype)  # (OH, OW)
        # 이미지 한 장씩 처리합니다. 한 장(AlexNet pool1 에서 1.2 MB)이 CPU 캐시에 머무는 동안
        # k·k 번 다시 읽게 되어, 배치 전체를 한 번에 훑을 때보다 빠릅니다.
        for b in range(n):
            x_pad = _pad(x[b], p, -np.inf, extra_h, extra_w)  # (C, H + 2p + extra_h, W + 2p + extra_w)
            best, where = out[b], argmax[b]  # (C, OH, OW) 뷰: 여기에 바로 씁니다
            best[...] = _window_entry(x_pad, 0, 0, s, out_h, out_w)  # 창의 첫 원소로 시작
            where[...] = 0
            for t in range(1, k * k):
                i, j = divmod(t, k)
                entry = _window_entry(x_pad, i, j, s, out_h, out_w)  # (C, OH, OW) 뷰: 모든 창의 (i, j) 원소
                better = entry > best  # 같으면 바꾸지 않으므로 처음 나온 최댓값이 남습니다
                if has_nan:
                    better |= np.isnan(entry)  # PyTorch 처럼 NaN 을 최댓값으로
                np.maximum(best, entry, out=best)
                where += better * (t - where)  # better 이면 t, 아니면 그대로(마스크 대입보다 빠른 산술)
            if p:
                np.maximum(where, first_real, out=where)  # 모두 -inf 인 창: 덧댄 칸 대신 첫 실제 칸
        return out, argmax

    def _route_gradient(self, dout: np.ndarray, argmax: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
        k, s, p = self.kernel_size, self.stride, self.padding
        n, c, h, w = input_shape
        out_h, out_w = argmax.shape[2:]
        extra_h, extra_w = _ceil_extra(h, out_h, k, s, p), _ceil_extra(w, out_w, k, s, p)  # ceil_mode 가 아니면 0
        padded = p > 0 or extra_h > 0 or extra_w > 0
        finite = bool(np.isfinite(dout).all())
        dx = np.zeros((n, c, h, w), dtype=dout.dtype)
        for b in range(n):  # 순전파처럼 한 장씩
            if padded:  # (C, H + 2p + extra_h, W + 2p + extra_w)
                dx_pad = np.zeros((c, h + 2 * p + extra_h, w + 2 * p + extra_w), dtype=dout.dtype)
            else:
                dx_pad = dx[b]
            for t in range(k * k):
                i, j = divmod(t, k)
                hit = argmax[b] == t  # (C, OH, OW): 이 창의 최댓값이 (i, j) 에 있었나
                # inf·0 = NaN 이 되지 않도록, dout 에 inf/NaN 이 있을 때만 느린 np.where 를 씁니다.
                share = dout[b] * hit if finite else np.where(hit, dout[b], 0)
                _window_entry(dx_pad, i, j, s, out_h, out_w)[...] += share  # 창이 겹치면(k > s) 같은 칸에 누적
            if padded:
                dx[b] = dx_pad[:, p:p + h, p:p + w]  # 덧댄 칸에 온 기울기는 버립니다
        return dx


class Im2colMaxPool2d(MaxPool2d):
    """:func:`im2col` 과 :func:`col2im` 으로 짠 최대 풀링. :class:`MaxPool2d` 와 같은 값을 냅니다.

    창 ``k·k`` 개의 값을 모두 열 행렬에 복사한 뒤 창마다 ``argmax`` 를 구하므로 코드가 곧 정의입니다.
    대신 열 행렬 ``(N, C·k·k, OH·OW)`` 이 창이 겹치는 만큼(대략 ``k²/s²`` 배) 입력보다 크고, 역전파도 같은
    크기의 기울기 열 행렬을 만듭니다. 공부용·검증용이며, 빠른 구현은 :class:`MaxPool2d` 입니다.

    ``np.argmax`` 는 처음 나온 최댓값을 고르므로 동점 규칙은 PyTorch 와 같습니다. 다만 창 안에 NaN 이
    여럿이면 (PyTorch 와 달리) 처음 NaN 을 고릅니다. 출력값은 어느 쪽이든 NaN 입니다.

    ``ceil_mode=True`` 이면 마지막 창이 덧댄 입력 밖으로 나가는 만큼 입력 끝에 ``-inf`` 를 더 붙여
    :func:`im2col` 에 넘기고(그러면 내림으로 센 출력 크기가 올림으로 센 크기와 같아집니다), 역전파에서는
    :func:`col2im` 의 결과에서 그만큼을 잘라 냅니다.
    """

    def _max_and_argmax(self, x: np.ndarray, out_h: int, out_w: int) -> tuple[np.ndarray, np.ndarray]:
        k, s, p = self.kernel_size, self.stride, self.padding
        n, c, h, w = x.shape
        extra_h, extra_w = _ceil_extra(h, out_h, k, s, p), _ceil_extra(w, out_w, k, s, p)  # ceil_mode 가 아니면 0
        x = _pad(x, 0, -np.inf, extra_h, extra_w)  # (N, C, H + extra_h, W + extra_w): 끝에만 덧댐
        col = im2col(x, k, s, p, pad_value=-np.inf)  # (N, C·k·k, OH·OW)
        col = col.reshape(n, c, k * k, out_h * out_w)  # (N, C·k·k, L) -> (N, C, k·k, L): 셋째 축이 창 하나
        argmax = col.argmax(axis=2)  # (N, C, L) 창 안 위치 t = i·k + j (처음 나온 최댓값)
        if p:  # 모두 -inf 인 창에서 argmax 가 고른 덧댄 칸 대신 첫 실제 칸(PyTorch 규칙)
            first_real = _first_real_position(k, s, p, out_h, out_w).reshape(1, 1, -1)  # (OH, OW) -> (1, 1, L)
            np.maximum(argmax, first_real, out=argmax)
        out = np.take_along_axis(col, argmax[:, :, None, :], axis=2)  # (N, C, 1, L)
        return out.reshape(n, c, out_h, out_w), argmax.reshape(n, c, out_h, out_w)  # (N, C, 1, L) -> (N, C, OH, OW)

    def _route_gradient(self, dout: np.ndarray, argmax: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
        k, s, p = self.kernel_size, self.stride, self.padding
        n, c, out_h, out_w = dout.shape
        _, _, h, w = input_shape
        extra_h, extra_w = _ceil_extra(h, out_h, k, s, p), _ceil_extra(w, out_w, k, s, p)  # ceil_mode 가 아니면 0
        dcol = np.zeros((n, c, k * k, out_h * out_w), dtype=dout.dtype)  # 최댓값이 아닌 자리의 기울기는 0
        np.put_along_axis(
            dcol,
            argmax.reshape(n, c, 1, out_h * out_w),  # (N, C, OH, OW) -> (N, C, 1, L)
            dout.reshape(n, c, 1, out_h * out_w),  # (N, C, OH, OW) -> (N, C, 1, L)
            axis=2,
        )
        dcol = dcol.reshape(n, c * k * k, out_h * out_w)  # (N, C, k·k, L) -> (N, C·k·k, L)
        dx = col2im(dcol, (n, c, h + extra_h, w + extra_w), k, s, p)  # 겹친 창의 기울기는 col2im 이 더합니다
        if extra_h or extra_w:  # ceil_mode: 끝에 덧댄 칸에 온 기울기는 버립니다
            dx = np.ascontiguousarray(dx[:, :, :h, :w])
        return dx
