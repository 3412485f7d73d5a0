"""alexnetbook: 한국어 AlexNet 책의 동반 패키지.

하위 모듈은 처음 쓰일 때 불러옵니다(lazy import). 그래서 ``import alexnetbook`` 은
가볍고, 선택 의존성인 JAX/Flax를 절대 불러오지 않습니다. ``alexnetbook.flax_alexnet`` 처럼
직접 접근하거나 ``from alexnetbook import flax_alexnet`` 할 때만 JAX가 필요합니다.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__version__ = "0.1.0"

# 책의 각 장이 쓰는 하위 모듈 이름. 개념 하나에 모듈 하나입니다.
_SUBMODULES = (
    "activations",
    "adaptive_pooling",
    "augment",
    "benchmark_results",
    "cpu_memory",
    "data",
    "ddp",
    "dropout",
    "experiments",
    "flax_alexnet",
    "lrn",
    "models",
    "parallel",
    "plotting",
    "pooling",
    "summary",
    "train",
    "utils",
)

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name: str) -> ModuleType:
    if name in _SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'alexnetbook' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
