"""같은 실험을 여러 시드로 돌리기: 시드마다 프로세스 하나, 프로세스마다 CPU 스레드 하나.

결과가 시드 하나의 우연인지 보려면 같은 비교를 여러 시드로 되풀이해야 합니다. :func:`run_seeds` 는
``fn(seed, *args, **kwargs)`` 를 시드마다 부르고 결과를 시드 순서대로 돌려줍니다.

**무엇을 재어 골랐는가.** 작은 CNN(:class:`~alexnetbook.small_cnn.SmallCNN`)을 CPU 2코어에서 시드 4개로 한 에폭씩
학습하는 세 방법을 ``benchmarks/seeds.py`` 가 같은 실행 안에서 번갈아 잽니다(결과는 성능 장). 조용한 기계에서는
스레드 2개로 차례로 돌리기가 가장 빨랐고, 스레드 1개짜리 프로세스 2개가 약 1.2배,
``torch.func.stack_module_state`` + ``vmap`` 으로 네 모델을 한 번에 학습하기가 약 2.6배 걸렸습니다(묶음 합성곱으로
바뀌며 oneDNN 의 빠른 경로를 벗어남). 그런데도 프로세스를 쓰는 까닭은 둘입니다. 첫째, 다른 작업이 코어를
나눠 쓰는 기계(CI)에서는 스레드 2개짜리 OpenMP 커널이 다른 스레드를 기다리며 코어를 돌려 부하보다 훨씬
느려지지만(같은 CNN 한 에폭이 부하 약 3배에서 6배 느려짐), 스레드 1개짜리 프로세스는 부하만큼만
느려집니다(약 2.6배). 둘째, 코어가 많은 기계에서는 프로세스 수만큼 빨라지지만 이 작은 신경망은 스레드를
늘려도 거의 빨라지지 않습니다.

**왜 스레드 하나인가.** CPU 에서 같은 시드의 결과가 비트 단위로 같으려면 스레드 수도 같아야 합니다. 시드마다
늘 스레드 하나로 돌리므로, 프로세스를 몇 개 쓰든(노트북, CI, 코어가 많은 기계) 시드마다 같은 숫자가 나옵니다.

``fn`` 은 모듈 수준에 정의한 함수여야 합니다(작업 프로세스가 이름으로 불러옵니다). 노트북 셀에서 정의한
함수는 ``processes=1`` 로 이 프로세스 안에서 돌립니다.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

import torch

from .checks import check_int

__all__ = ["default_processes", "run_seeds"]

R = TypeVar("R")

#: 작업 프로세스 수를 정하는 환경 변수(없으면 코어 수).
PROCESSES_ENV = "ALEXNETBOOK_SEED_PROCESSES"


def default_processes() -> int:
    """기본 작업 프로세스 수: ``$ALEXNETBOOK_SEED_PROCESSES`` 가 있으면 그 값, 없으면 이 프로세스가 쓸 수 있는 코어 수."""
    env = os.environ.get(PROCESSES_ENV)
    if env:
        return check_int(int(env), PROCESSES_ENV, minimum=1)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _single_thread(fn: Callable[..., R], seed: int, args: tuple, kwargs: dict[str, Any]) -> R:
    """스레드 하나로 ``fn(seed, *args, **kwargs)`` 를 부르고, 스레드 수를 원래대로 돌려놓습니다."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fn(seed, *args, **kwargs)
    finally:
        torch.set_num_threads(previous)


def _context() -> multiprocessing.context.BaseContext:
    """작업 프로세스를 띄울 방식. ``fork`` 는 스레드가 이미 돈 프로세스(주피터 커널, PyTorch)에서 위험하므로
    ``forkserver`` (리눅스, macOS)나 ``spawn`` (윈도우)을 씁니다. forkserver 는 torch 를 한 번만 불러 두고
    그 프로세스를 복제하므로 작업 프로세스가 빨리 뜹니다."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["torch", "alexnetbook.train"])
        return ctx
    return multiprocessing.get_context("spawn")


def run_seeds(
    fn: Callable[..., R],
    seeds: Sequence[int],
    *args: Any,
    processes: int | None = None,
    **kwargs: Any,
) -> list[R]:
    """``fn(seed, *args, **kwargs)`` 를 ``seeds`` 의 시드마다 부르고 결과를 시드 순서대로 돌려줍니다.

    Args:
        fn: 모듈 수준 함수(작업 프로세스가 이름으로 불러옵니다). 첫 인자로 시드를 받습니다.
        seeds: 시드들(0 이상의 정수, 중복 없이).
        *args: ``fn`` 에 넘길 나머지 위치 인자(시드마다 같음). 텐서는 공유 메모리로 넘어갑니다.
        processes: 작업 프로세스 수. ``None`` 이면 ``min(시드 수, default_processes())``. 1 이면 새 프로세스
            없이 이 프로세스에서 차례로 돌립니다(그래도 스레드는 하나).
        **kwargs: ``fn`` 에 넘길 키워드 인자.

    Returns:
        ``[fn(seeds[0], ...), fn(seeds[1], ...), ...]``.

    Raises:
        TypeError: ``fn`` 이 작업 프로세스에서 불러올 수 없는 함수(노트북이나 ``__main__`` 에서 정의한 함수,
            람다)인데 ``processes`` 가 1보다 클 때.
        ValueError: ``seeds`` 가 비었거나 중복이 있을 때.
        ``fn`` 이 낸 예외: 그대로 다시 냅니다.
    """
    if not callable(fn):
        raise TypeError(f"fn은 호출할 수 있는 함수여야 합니다. 받은 타입: {type(fn).__name__}")
    seeds = [check_int(s, "seeds 의 원소", minimum=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds에 시드가 하나 이상 있어야 합니다.")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds에 같은 시드가 두 번 있습니다: {seeds}")
    if processes is None:
        processes = min(len(seeds), default_processes())
    processes = check_int(processes, "processes", minimum=1)
    if processes == 1 or len(seeds) == 1:
        return [_single_thread(fn, seed, args, kwargs) for seed in seeds]
    module = getattr(fn, "__module__", "__main__")
    if module == "__main__" or "<" in getattr(fn, "__qualname__", "<"):
        raise TypeError(
            f"fn={getattr(fn, '__qualname__', fn)!r} 는 작업 프로세스에서 이름으로 불러올 수 없습니다(노트북이나 "
            "__main__ 에서 정의했거나 람다·안쪽 함수). 모듈에 정의하거나 processes=1 로 부르세요."
        )
    with ProcessPoolExecutor(max_workers=min(processes, len(seeds)), mp_context=_context()) as pool:
        futures = [pool.submit(_single_thread, fn, seed, args, kwargs) for seed in seeds]
        return [f.result() for f in futures]
