"""그림에 한국어가 제대로 나오게 하는 matplotlib 설정.

``koreanize-matplotlib`` 패키지에 들어 있는 나눔고딕(NanumGothic) 글꼴 파일만 빌려 씁니다.
그 패키지를 ``import`` 하면 ``distutils`` 를 불러와 DeprecationWarning을 내고, ``distutils`` 가
없는 Python 3.12 이상(현재 Colab)에서는 아예 실패하므로, 모듈을 실행하지 않고
``importlib.util.find_spec`` 으로 위치만 찾습니다.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib as mpl
from matplotlib import font_manager

__all__ = ["KOREAN_FONT", "korean_font_files", "setup_korean_plots"]

#: 등록되는 한국어 글꼴의 family 이름.
KOREAN_FONT = "NanumGothic"

# 흰 배경: 책의 다크 모드에서도 그림이 읽히도록 모든 바탕을 흰색으로 둡니다.
_WHITE_STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.edgecolor": "white",
    "figure.edgecolor": "white",
    "axes.edgecolor": "black",
    "axes.labelcolor": "black",
    "text.color": "black",
    "xtick.color": "black",
    "ytick.color": "black",
    "legend.facecolor": "white",
    "legend.edgecolor": "0.8",
}


def korean_font_files() -> list[Path]:
    """koreanize-matplotlib 에 들어 있는 NanumGothic ``.ttf`` 파일 경로들을 돌려줍니다.

    Raises:
        ModuleNotFoundError: koreanize-matplotlib 이 설치되어 있지 않을 때
            (``pip install koreanize-matplotlib`` 로 설치합니다).
    """
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "koreanize-matplotlib 패키지가 필요합니다: pip install koreanize-matplotlib"
        )
    font_dir = Path(next(iter(spec.submodule_search_locations))) / "fonts"
    files = sorted(font_dir.glob("*.ttf"))
    if not files:
        raise FileNotFoundError(f"{font_dir} 에서 .ttf 글꼴 파일을 찾지 못했습니다.")
    return files


def setup_korean_plots(*, dpi: int = 100) -> str:
    """matplotlib 이 한국어를 그리도록 설정합니다. 어느 컴퓨터(Colab 포함)에서나 같은 결과를 냅니다.

    하는 일:

    * 나눔고딕 글꼴 파일을 ``fontManager.addfont`` 로 등록하고 기본 글꼴로 지정합니다.
    * 나눔고딕에 없는 글리프(예: 수학 기호 ``−``, U+2212)는 DejaVu Sans로 대신 그리도록
      글꼴 목록을 ``[NanumGothic, DejaVu Sans]`` 로 둡니다. 그래서 음수 눈금의 빼기 기호가
      네모(□)로 깨지지 않고 진짜 빼기 기호로 나옵니다.
    * 그림, 축, 저장 파일의 배경을 흰색으로 둡니다(다크 모드 독자를 위해).

    여러 번 불러도 안전합니다.

    Args:
        dpi: 노트북에 표시할 그림의 해상도.

    Returns:
        등록된 글꼴 family 이름 (``"NanumGothic"``).
    """
    registered = {f.fname for f in font_manager.fontManager.ttflist}
    for path in korean_font_files():
        if str(path) not in registered:
            font_manager.fontManager.addfont(str(path))
    mpl.rcParams["font.family"] = [KOREAN_FONT, "DejaVu Sans"]
    mpl.rcParams["axes.unicode_minus"] = True
    mpl.rcParams["mathtext.fontset"] = "dejavusans"
    mpl.rcParams["figure.dpi"] = dpi
    mpl.rcParams.update(_WHITE_STYLE)
    return KOREAN_FONT
