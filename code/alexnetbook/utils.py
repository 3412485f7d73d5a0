"""재현성과 장치 선택을 위한 작은 도구."""

from __future__ import annotations

import numbers
import os
import random

import numpy as np
import torch

from .checks import check_int

__all__ = ["GeneratorLike", "get_device", "make_generator", "set_seed"]

#: 생성기를 받는 인자의 타입: ``torch.Generator``, 정수 시드, 또는 ``None`` (전역 난수).
GeneratorLike = torch.Generator | int | None


def set_seed(seed: int, *, deterministic: bool = False) -> torch.Generator:
    """파이썬, NumPy, PyTorch(CPU와 모든 CUDA 장치)의 난수 시드를 한 번에 고정합니다.

    Args:
        seed: 0 이상 ``2**32 - 1`` 이하의 정수.
        deterministic: ``True`` 이면 ``torch.use_deterministic_algorithms(True)`` 도 켭니다.
            GPU에서 비트 단위 재현이 필요할 때 씁니다(느려질 수 있음).

    Returns:
        같은 시드로 초기화한 새 ``torch.Generator`` (CPU). ``DataLoader`` 나 증강에
        넘겨 전역 상태와 분리된 난수열을 쓰고 싶을 때 사용합니다.

    Raises:
        TypeError: ``seed`` 가 정수가 아닐 때.
        ValueError: ``seed`` 가 범위를 벗어날 때.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed는 정수여야 합니다. 받은 값의 타입: {type(seed).__name__}")
    seed = int(seed)
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed는 0 이상 2**32 미만이어야 합니다. 받은 값: {seed}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # 모든 CUDA 장치의 시드도 함께 고정합니다.
    os.environ["PYTHONHASHSEED"] = str(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def get_device(prefer: str | None = None) -> torch.device:
    """쓸 수 있는 가장 빠른 장치를 고릅니다: CUDA, Apple MPS, CPU 순서.

    Args:
        prefer: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` 처럼 원하는 장치. ``None`` 이면
            자동으로 고릅니다. 환경 변수 ``ALEXNETBOOK_DEVICE`` 가 있으면 그 값을 씁니다.

    Returns:
        ``torch.device``.

    Raises:
        ValueError: 요청한 장치를 이 컴퓨터에서 쓸 수 없을 때.
    """
    prefer = prefer or os.environ.get("ALEXNETBOOK_DEVICE")
    if prefer is not None:
        device = torch.device(prefer)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"prefer={prefer!r}: CUDA 장치를 찾을 수 없습니다.")
        if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(
                f"prefer={prefer!r}: CUDA 장치는 {torch.cuda.device_count()}개뿐입니다."
            )
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"prefer={prefer!r}: MPS 장치를 찾을 수 없습니다.")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def make_generator(generator: GeneratorLike) -> torch.Generator | None:
    """``torch.Generator``, 정수 시드, ``None`` 을 받아 무작위 변환 등이 쓸 생성기로 바꿉니다.

    Args:
        generator: 생성기(그대로 씀), 정수 시드(그 시드로 새 CPU 생성기를 만듦), 또는 ``None``
            (PyTorch 전역 난수를 씀).

    Returns:
        ``torch.Generator`` 또는 ``None``.

    Raises:
        TypeError: 다른 타입일 때.
        ValueError: 시드가 음수일 때.
    """
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, bool) or not isinstance(generator, numbers.Integral):
        raise TypeError(f"generator는 torch.Generator, 정수 시드, None 중 하나여야 합니다. 받은 타입: {type(generator).__name__}")
    return torch.Generator().manual_seed(check_int(generator, "generator", minimum=0))
