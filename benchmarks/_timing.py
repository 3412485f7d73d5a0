"""벤치마크 공용 도구: 같은 실행 안에서 잰 비율, 반복 측정의 최소/중앙/최대, 기계 정보, JSON 저장.

공유 기계에서는 다른 작업 때문에 시간이 몇 배씩 흔들립니다. 그래서 후보와 기준을 **번갈아** 여러 번 재고,
절대 시간보다 같은 실행에서 잰 비율을 보고합니다.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

__all__ = ["RESULTS_DIR", "Timing", "compare", "machine_info", "pin_threads", "save_results", "time_call"]

RESULTS_DIR = Path(__file__).resolve().parent / "results"


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


def save_results(name: str, results: dict[str, Any], *, device: str = "cpu") -> Path:
    """``benchmarks/results/<name>.json`` 에 기계 정보와 함께 원자적으로 저장합니다."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "machine": machine_info(device), "results": results}
    path = RESULTS_DIR / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
