"""인자 검사를 한곳에서: 패키지의 모든 공개 함수가 이 도우미로 잘못된 입력을 거릅니다.

잘못된 **타입** 은 ``TypeError``, 타입은 맞지만 **값** 이 범위를 벗어나면 ``ValueError`` 입니다. 두 오류 모두
인자의 이름, 기대하는 값, 받은 값을 한 문장에 담습니다. ``bool`` 은 파이썬에서 ``int`` 의 하위 클래스이지만
정수 인자로 받지 않습니다(``epochs=True`` 는 거의 언제나 실수입니다).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Sequence
from typing import Any, TypeVar

import torch
from torch import Tensor

__all__ = ["check_choice", "check_float", "check_int", "check_size", "check_tensor", "check_type"]

T = TypeVar("T")


def _range_text(minimum: float | None, maximum: float | None, *, open_min: bool = False, open_max: bool = False) -> str:
    if minimum is not None and maximum is not None:
        return f"{'(' if open_min else '['}{minimum}, {maximum}{')' if open_max else ']'} 범위"
    if minimum is not None:
        return f"{minimum} {'초과' if open_min else '이상'}"
    if maximum is not None:
        return f"{maximum} {'미만' if open_max else '이하'}"
    return "범위 제한 없음"


def check_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` 가 ``[minimum, maximum]`` 안의 정수(``bool`` 제외, NumPy 정수 허용)인지 확인합니다.

    Args:
        value: 검사할 값.
        name: 오류 문장에 쓸 인자 이름.
        minimum: 허용하는 가장 작은 값(``None`` 이면 제한 없음).
        maximum: 허용하는 가장 큰 값(``None`` 이면 제한 없음).

    Returns:
        파이썬 ``int`` 로 바꾼 값.

    Raises:
        TypeError: 정수가 아닐 때.
        ValueError: 범위를 벗어날 때.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}은(는) 정수여야 합니다({_range_text(minimum, maximum)}). 받은 값: {value!r}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name}은(는) {_range_text(minimum, maximum)}의 정수여야 합니다. 받은 값: {value}")
    return value


def check_float(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    open_min: bool = False,
    open_max: bool = False,
) -> float:
    """``value`` 가 유한한 실수이고 주어진 구간 안에 있는지 확인합니다(정수도 받습니다).

    Args:
        value: 검사할 값.
        name: 오류 문장에 쓸 인자 이름.
        minimum: 아래 끝(``None`` 이면 제한 없음).
        maximum: 위 끝(``None`` 이면 제한 없음).
        open_min: ``True`` 면 ``minimum`` 자체는 허용하지 않습니다(``value > minimum``).
        open_max: ``True`` 면 ``maximum`` 자체는 허용하지 않습니다(``value < maximum``).

    Returns:
        파이썬 ``float`` 로 바꾼 값.

    Raises:
        TypeError: 실수가 아닐 때(``bool`` 포함).
        ValueError: NaN, 무한대이거나 구간을 벗어날 때.
    """
    expected = _range_text(minimum, maximum, open_min=open_min, open_max=open_max)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}은(는) 실수여야 합니다({expected}). 받은 값: {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name}은(는) 유한한 실수여야 합니다({expected}). 받은 값: {value}")
    too_small = minimum is not None and (value <= minimum if open_min else value < minimum)
    too_large = maximum is not None and (value >= maximum if open_max else value > maximum)
    if too_small or too_large:
        raise ValueError(f"{name}은(는) {expected}여야 합니다. 받은 값: {value!r}")
    return value


def check_size(value: Any, name: str) -> tuple[int, int]:
    """``value`` 가 양의 정수 하나(정사각형) 또는 양의 정수 두 개 ``(높이, 너비)`` 인지 확인합니다.

    Args:
        value: 검사할 값.
        name: 오류 문장에 쓸 인자 이름.

    Returns:
        ``(높이, 너비)``.

    Raises:
        TypeError: 정수도 시퀀스도 아니거나 원소가 정수가 아닐 때.
        ValueError: 원소가 두 개가 아니거나 1보다 작을 때.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (int(value), int(value))
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"{name}은(는) 정수 하나 또는 (높이, 너비) 시퀀스여야 합니다. 받은 값: {value!r}")
    if len(value) != 2:
        raise ValueError(f"{name}은(는) 양의 정수 하나 또는 (높이, 너비) 두 개여야 합니다. 받은 값: {tuple(value)!r}")
    return check_int(value[0], f"{name}[0]", minimum=1), check_int(value[1], f"{name}[1]", minimum=1)


def check_choice(value: T, name: str, choices: Collection[T]) -> T:
    """``value`` 가 ``choices`` 중 하나인지 확인합니다.

    Raises:
        ValueError: 목록에 없을 때(목록을 함께 보여 줍니다).
    """
    try:
        ok = value in choices
    except TypeError:  # 해시할 수 없는 값
        ok = False
    if not ok:
        raise ValueError(f"{name}은(는) {tuple(choices)} 중 하나여야 합니다. 받은 값: {value!r}")
    return value


def check_type(value: T, name: str, types: type | tuple[type, ...]) -> T:
    """``value`` 가 ``types`` 의 인스턴스인지 확인합니다.

    Raises:
        TypeError: 아닐 때(기대한 타입과 받은 타입의 이름을 함께 보여 줍니다).
    """
    if not isinstance(value, types):
        names = " 또는 ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        raise TypeError(f"{name}은(는) {names} 여야 합니다. 받은 타입: {type(value).__name__}")
    return value


def check_tensor(
    value: Any,
    name: str,
    *,
    dims: int | Collection[int] | None = None,
    floating: bool = False,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """``value`` 가 조건에 맞는 ``torch.Tensor`` 인지 확인합니다.

    Args:
        value: 검사할 값.
        name: 오류 문장에 쓸 인자 이름.
        dims: 허용하는 차원 수(정수 하나 또는 여럿). ``None`` 이면 검사하지 않습니다.
        floating: ``True`` 면 실수 dtype 만 받습니다.
        dtype: 주면 정확히 이 dtype 만 받습니다.

    Returns:
        같은 텐서.

    Raises:
        TypeError: 텐서가 아니거나 dtype 이 맞지 않을 때.
        ValueError: 차원 수가 맞지 않을 때.
    """
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}은(는) torch.Tensor 여야 합니다. 받은 타입: {type(value).__name__}")
    if floating and not value.is_floating_point():
        raise TypeError(f"{name}은(는) 실수 텐서여야 합니다. 받은 dtype: {value.dtype}")
    if dtype is not None and value.dtype != dtype:
        raise TypeError(f"{name}의 dtype은 {dtype} 이어야 합니다. 받은 dtype: {value.dtype}")
    if dims is not None:
        allowed = (dims,) if isinstance(dims, int) else tuple(dims)
        if value.dim() not in allowed:
            expected = " 또는 ".join(f"{d}차원" for d in allowed)
            raise ValueError(f"{name}은(는) {expected} 텐서여야 합니다. 받은 모양: {tuple(value.shape)}")
    return value
