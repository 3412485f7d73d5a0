"""``torchinfo`` 요약표를 책에 그대로 실을 수 있게 다듬습니다.

torchinfo 1.8.0 은 Python 3.11 이상에서 요약표 끝의 단위를 ``Total mult-adds (Units.MEGABYTES): 24.08`` 처럼
열거형 이름으로 찍습니다(torchinfo 이슈 #350). ``Units`` 가 ``str`` 을 섞은 ``Enum`` 이라 f-문자열에서
값(``"M"``) 대신 이름이 나오기 때문입니다. :func:`model_summary` 는 같은 표를 만들되 이 단위를 원래
의도한 값(``M``, ``G``, ``T``)으로 바꿔 돌려줍니다. torchinfo 자체는 건드리지 않습니다.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from torch import nn

__all__ = ["fix_torchinfo_units", "model_summary"]

_UNIT_PATTERN = re.compile(r"\bUnits\.([A-Z]+)\b")


def fix_torchinfo_units(text: str) -> str:
    """``(Units.MEGABYTES)`` 같은 열거형 이름을 ``(M)`` 같은 단위 값으로 바꿉니다.

    Args:
        text: ``str(torchinfo.summary(...))`` 의 결과.

    Returns:
        단위를 고친 문자열. 고칠 것이 없으면 그대로.
    """
    from torchinfo.enums import Units

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return Units[name].value if name in Units.__members__ else match.group(0)

    return _UNIT_PATTERN.sub(value, text)


def model_summary(
    model: nn.Module,
    input_size: Sequence[int],
    *,
    depth: int = 3,
    col_names: Sequence[str] = ("output_size", "num_params"),
    row_settings: Sequence[str] = ("var_names",),
    **kwargs: Any,
) -> str:
    """``torchinfo.summary`` 의 표를 문자열로 돌려줍니다(단위 표기를 고친 것).

    Args:
        model: 요약할 모델. 평가 모드 여부는 그대로 둡니다.
        input_size: 입력 모양, 예: ``(1, 3, 224, 224)``.
        depth: 보여 줄 모듈 깊이.
        col_names: 열 이름(torchinfo 의 ``col_names``).
        row_settings: 행 설정. 기본 ``("var_names",)`` 는 ``Conv2d (conv1)`` 처럼 층 이름을 함께 보입니다.
        **kwargs: ``torchinfo.summary`` 에 그대로 넘길 인자(``device``, ``dtypes`` 등).

    Returns:
        요약표 문자열. ``print`` 로 출력하세요.

    Raises:
        ValueError: ``input_size`` 가 정수 모양이 아닐 때.
    """
    from torchinfo import summary

    if not input_size or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in input_size):
        raise ValueError(f"input_size는 양의 정수들의 모양이어야 합니다. 받은 값: {input_size!r}")
    stats = summary(model, input_size=tuple(input_size), depth=depth, col_names=tuple(col_names),
                    row_settings=tuple(row_settings), verbose=0, **kwargs)
    return fix_torchinfo_units(str(stats))
