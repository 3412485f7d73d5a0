"""alexnetbook: 한국어 AlexNet 책의 동반 패키지.

데이터는 한 방향으로 흐릅니다: :mod:`~alexnetbook.data` (텐서로 읽기) → :mod:`~alexnetbook.augment` (평균 빼기와
증강) → :mod:`~alexnetbook.models` (AlexNet) → :mod:`~alexnetbook.train` / :mod:`~alexnetbook.evaluate`
(하나의 학습 루프와 하나의 평가). 나머지 모듈은 개념 하나에 하나씩입니다.

하위 모듈은 처음 쓰일 때 불러옵니다(lazy import). 그래서 ``import alexnetbook`` 은 가볍고, 선택 의존성인
JAX/Flax 를 불러오지 않습니다. ``from alexnetbook import *`` 도 JAX 를 부르지 않습니다(``flax_alexnet`` 과
``flax_train`` 은 ``__all__`` 에 없음). ``alexnetbook.flax_alexnet`` 처럼 직접 접근하거나
``from alexnetbook import flax_alexnet`` 할 때만 JAX가 필요합니다(``pip install "alexnet-book[jax]"``).
"""

from __future__ import annotations

import importlib
from types import ModuleType

__version__ = "0.2.0"

# 핵심: 데이터 → 증강 → 모델 → 학습/평가, 그리고 그 둘레의 작은 도구들.
_CORE = (
    "checks",
    "data",
    "batches",
    "augment",
    "models",
    "small_cnn",
    "config",
    "train",
    "evaluate",
    "checkpoint",
    "seeds",
    "stats",
    "utils",
    "plotting",
    "summary",
)
# 장마다 처음부터 구현하는 조각.
_PIECES = ("activations", "lrn", "pooling", "shapes", "dropout", "adaptive_pooling")
# 여러 장치와 규모.
_SCALE = ("parallel", "costs", "ddp", "launch", "cli")
# 장의 실험과 성능 측정.
_GROUPS = ("experiments", "perf")
# JAX 가 필요한 모듈: 이름으로는 불러올 수 있지만 ``*`` 에는 들어가지 않습니다.
_OPTIONAL = ("flax_alexnet", "flax_train")

__all__ = ["__version__", *_CORE, *_PIECES, *_SCALE, *_GROUPS]


def __getattr__(name: str) -> ModuleType:
    if name in __all__[1:] or name in _OPTIONAL:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'alexnetbook' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, *_OPTIONAL])
