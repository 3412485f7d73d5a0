"""벤치마크 공용 도구: 같은 실행 안에서 잰 비율, 반복 측정의 최소/중앙/최대, 기계 정보, JSON 저장.

공유 기계에서는 다른 작업 때문에 시간이 몇 배씩 흔들립니다. 그래서 후보와 기준을 **번갈아** 여러 번 재고,
절대 시간보다 같은 실행에서 잰 비율을 보고합니다(:func:`compare`, 여럿이면 :func:`alternate`).

결과는 패키지 데이터 폴더 ``code/alexnetbook/perf/results/`` 에 :func:`alexnetbook.checkpoint.atomic_write` 로
씁니다. 책은 :mod:`alexnetbook.perf.measurements` 로 그 파일을 읽습니다.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from alexnetbook.checkpoint import atomic_write

__all__ = ["RESULTS_DIR", "Timing", "alternate", "compare", "machine_info", "pin_threads", "save_results", "time_call"]

#: 결과 JSON 을 쓰는 곳: 패키지 데이터(``alexnetbook.perf.results``)의 저장소 안 폴더.
RESULTS_DIR = Path(__file__).resolve().parents[1] / "code" / "alexnetbook" / "perf" / "results"


def pin_threads(threads: int | None = None) -> int:
    """PyTorch 의 스레드 수를 고정하고 그 값을 돌려줍니다. ``None`` 이면 ``OMP_NUM_THREADS`` 나 코어 수."""
    if threads is None:
        threads = int(os.environ.get("OMP_NUM_THREADS", 0)) or (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    return threads


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(device: str = "cpu") -> dict[str, Any]:
    """결과 JSON 에 함께 저장할 기계 설명."""
    info: dict[str, Any] = {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": device,
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


class Timing(dict):
    """반복 측정 결과(초): ``min``, ``median``, ``max``, ``repeats``."""

    @classmethod
    def of(cls, samples: list[float]) -> Timing:
        return cls(min=min(samples), median=statistics.median(samples), max=max(samples), repeats=len(samples))


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_call(fn: Callable[[], Any], *, repeats: int = 5, warmup: int = 1, device: str = "cpu") -> Timing:
    """``fn()`` 을 ``warmup`` 번 실행한 뒤 ``repeats`` 번 잰 시간(초)."""
    for _ in range(warmup):
        fn()
    _sync(device)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        samples.append(time.perf_counter() - start)
    return Timing.of(samples)


def compare(
    candidate: Callable[[], Any],
    reference: Callable[[], Any],
    *,
    repeats: int = 5,
    warmup: int = 1,
    device: str = "cpu",
) -> dict[str, Any]:
    """후보와 기준을 번갈아 재고, 반복마다의 비율(기준 시간 / 후보 시간)을 요약합니다.

    Returns:
        ``{"candidate": Timing, "reference": Timing, "speedup": Timing}``. ``speedup`` 이 1보다 크면
        후보가 빠릅니다. 번갈아 재므로 기계 부하가 두 쪽에 비슷하게 걸립니다.
    """
    for _ in range(warmup):
        candidate()
        reference()
    _sync(device)
    cand, ref, ratio = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        candidate()
        _sync(device)
        t1 = time.perf_counter()
        reference()
        _sync(device)
        t2 = time.perf_counter()
        cand.append(t1 - t0)
        ref.append(t2 - t1)
        ratio.append((t2 - t1) / (t1 - t0))
    return {"candidate": Timing.of(cand), "reference": Timing.of(ref), "speedup": Timing.of(ratio)}


def alternate(
    arms: Mapping[str, Callable[[], Any]],
    reference: str,
    *,
    repeats: int = 3,
    warmup: Callable[[], Any] | None = None,
) -> dict[str, Any]:
    """여러 후보를 반복마다 한 번씩 차례로 재고, 반복마다 기준과의 비율(후보 시간 / 기준 시간)을 요약합니다.

    :func:`compare` 를 셋 이상으로 넓힌 것입니다. 한 반복 안의 시간은 바로 이어서 잰 것이므로 기계의 부하가
    모두에게 비슷하게 걸립니다.

    Args:
        arms: 이름 → 인자 없는 함수. 순서대로 잽니다.
        reference: 비율의 기준이 될 ``arms`` 의 이름.
        repeats: 반복 횟수.
        warmup: 재기 전에 한 번 부를 준비 운동 함수(``None`` 이면 없음).

    Returns:
        ``{"seconds": {이름: Timing}, "time_ratio": {이름: Timing}}``. ``time_ratio`` 가 1보다 크면 그 후보가
        기준보다 느립니다.
    """
    if reference not in arms:
        raise ValueError(f"reference={reference!r} 가 arms 에 없습니다: {list(arms)}")
    if warmup is not None:
        warmup()
    samples: dict[str, list[float]] = {name: [] for name in arms}
    for _ in range(repeats):
        for name, fn in arms.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    ratios = {name: [t / r for t, r in zip(times, samples[reference])] for name, times in samples.items()}
    return {"seconds": {name: Timing.of(times) for name, times in samples.items()},
            "time_ratio": {name: Timing.of(values) for name, values in ratios.items()}}


def save_results(name: str, results: dict[str, Any], *, device: str = "cpu") -> Path:
    """``code/alexnetbook/perf/results/<name>.json`` 에 기계 정보와 함께 원자적으로 저장합니다."""
    payload = {"benchmark": name, "machine": machine_info(device), "results": results}
    text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    return atomic_write(RESULTS_DIR / f"{name}.json", lambda f: f.write(text.encode("utf-8")))
