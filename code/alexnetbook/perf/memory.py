"""CPU 학습에서 큰 텐서를 할당할 때마다 드는 페이지 폴트를 없애는 glibc ``malloc`` 설정.

PyTorch 의 CPU 텐서는 C 라이브러리의 ``malloc`` 으로 잡습니다. 리눅스의 glibc ``malloc`` 은 32 MiB 가 넘는
블록을 언제나 ``mmap`` 으로 운영체제에서 새로 받아 오고, 해제하면 곧바로 돌려줍니다(``munmap``). 운영체제는
새로 받은 페이지를 처음 쓸 때 0으로 채워 주므로(페이지 폴트), AlexNet 처럼 한 스텝마다 수십~수백 MiB 의
활성값, 기울기, bfloat16 가중치 사본을 새로 만드는 학습에서는 이 0 채우기가 계산만큼 시간을 먹습니다.
성능 장의 측정(``benchmarks/training.py``)이 이것을 보여 줍니다.

:func:`retain_freed_memory` 는 ``mallopt`` 로 ``mmap`` 을 끄고(``M_MMAP_MAX = 0``) 해제한 메모리를 돌려주는
기준을 크게 올려(``M_TRIM_THRESHOLD``), 해제한 메모리를 프로세스 안에 두었다가 다음 할당에 다시 씁니다.
PyTorch 의 성능 조정 안내서(pytorch.org/tutorials/recipes/recipes/tuning_guide.html)가 권하는 jemalloc,
TCMalloc 으로 바꾸는 것과 같은 목적이고, 설치나 ``LD_PRELOAD`` 없이 파이썬 안에서 바로 켤 수 있습니다. 같은 효과를 환경 변수 ``MALLOC_MMAP_MAX_=0`` 과
``MALLOC_TRIM_THRESHOLD_=<큰 값>`` 으로도 낼 수 있습니다(프로세스를 시작하기 전에 정해야 함).

대가: 프로세스의 메모리 사용량(RSS)이 가장 많이 썼을 때의 크기에서 줄지 않습니다. 설정은 프로세스 전체에
적용되고 되돌릴 수 없으므로, 학습을 하는 프로세스에서 모델을 만들기 전에 한 번 부르세요.
"""

from __future__ import annotations

import ctypes
import sys

from ..checks import check_int

__all__ = ["M_MMAP_MAX", "M_TRIM_THRESHOLD", "retain_freed_memory"]

#: glibc ``<malloc.h>`` 의 ``mallopt`` 매개변수 번호.
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4

_INT_MAX = 2**31 - 1


def retain_freed_memory(trim_threshold: int = _INT_MAX) -> bool:
    """glibc ``malloc`` 이 해제한 메모리를 운영체제에 돌려주지 않고 다시 쓰게 합니다(리눅스 전용).

    Args:
        trim_threshold: 힙 꼭대기의 빈 메모리가 이 바이트 수를 넘을 때만 운영체제에 돌려줍니다.
            C ``int`` 이므로 ``2**31 - 1`` 이하.

    Returns:
        설정이 적용되었으면 ``True``. glibc 가 아닌 환경(macOS, Windows, musl 리눅스 등)이면 아무것도 하지
        않고 ``False``.

    Raises:
        TypeError: ``trim_threshold`` 가 정수가 아닐 때.
        ValueError: ``trim_threshold`` 가 0 이상 ``2**31 - 1`` 이하가 아닐 때.
    """
    check_int(trim_threshold, "trim_threshold", minimum=0, maximum=_INT_MAX)
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # mallopt 는 성공하면 1 을 돌려줍니다.
    return mallopt(M_MMAP_MAX, 0) == 1 and mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1
