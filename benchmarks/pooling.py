"""NumPy 최대 풀링(``alexnetbook.pooling``)과 ``torch.nn.functional.max_pool2d`` 의 속도·메모리 비교.

AlexNet 첫 풀링 층의 모양 ``(32, 96, 55, 55)``, 3×3 창, 보폭 2, float32 에서 순전파+역전파 한 번을 잽니다.

* 시간: :func:`benchmarks._timing.compare` 로 NumPy 와 PyTorch 를 번갈아 재고, 반복마다의 비율
  (NumPy 시간 / PyTorch 시간)의 최소·중앙·최대를 보고합니다. 목표는 2 이하입니다. NumPy 구현은
  한 스레드로 돌고 PyTorch 는 :func:`~benchmarks._timing.pin_threads` 의 스레드 수를 씁니다.
  참고로 PyTorch 를 한 스레드로 묶은 비율도 함께 잽니다.
* 메모리: 구현마다 새 파이썬 프로세스를 띄워, 입력과 ``dout`` 을 만든 뒤의 상주 메모리(VmRSS)에서
  순전파+역전파 동안의 최고 상주 메모리(VmHWM, ``/proc/self/clear_refs`` 에 5를 써서 먼저 초기화)까지
  늘어난 양을 잽니다. PyTorch 의 CPU 메모리는 ``tracemalloc`` 에 보이지 않으므로 두 쪽을 같은 방법으로
  재려는 것입니다. ``MALLOC_MMAP_THRESHOLD_`` 를 고정해 큰 배열마다 새로 할당하고 해제 즉시 돌려주게
  하므로, 이미 잡혀 있던 메모리를 재사용해 적게 재는 일을 막습니다. NumPy 쪽은 ``tracemalloc`` 으로도
  (NumPy 가 요청한 바이트를 정확히) 재서 함께 적습니다. 출력과 입력 기울기도 "추가 메모리" 에 들어갑니다.
  목표는 입력 크기의 2배 이하입니다.

실행: ``python benchmarks/pooling.py`` (결과는 ``code/alexnetbook/perf/results/pooling.json``). 다른 스크립트에서는
``from benchmarks.pooling import run`` 으로 부릅니다. Linux 전용(메모리 측정이 ``/proc`` 을 씁니다).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

if __package__ in (None, ""):  # python benchmarks/pooling.py 로 실행할 때
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alexnetbook.pooling import Im2colMaxPool2d, MaxPool2d, pooling_output_size  # noqa: E402
from benchmarks._timing import compare, pin_threads, save_results  # noqa: E402

__all__ = ["GOAL_MEMORY_RATIO", "GOAL_TIME_RATIO", "IMPLEMENTATIONS", "goal", "measure_peak_memory", "run"]

#: 잴 구현들: 이름 → 설명.
IMPLEMENTATIONS = {
    "numpy": "alexnetbook.pooling.MaxPool2d (창 위치별 보폭 뷰, 열 행렬 없음)",
    "numpy_im2col": "alexnetbook.pooling.Im2colMaxPool2d (im2col/col2im)",
    "torch": "torch.nn.functional.max_pool2d + autograd backward",
}

_DEFAULT_SHAPE = (32, 96, 55, 55)
#: 목표: 순전파+역전파 시간 비율 NumPy/PyTorch(중앙값)와 최고 추가 메모리/입력 크기의 상한.
GOAL_TIME_RATIO = 2.0
GOAL_MEMORY_RATIO = 2.0


def _inputs(shape: tuple[int, ...], kernel_size: int, stride: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """float32 입력 ``x`` ``(N, C, H, W)`` 와 출력 기울기 ``dout`` ``(N, C, OH, OW)``."""
    n, c, h, w = shape
    out_h, out_w = pooling_output_size(h, kernel_size, stride), pooling_output_size(w, kernel_size, stride)
    rng = np.random.default_rng(seed)
    x = np.maximum(rng.standard_normal(shape, dtype=np.float32), 0)  # ReLU 뒤처럼 0 이 많은(동점이 많은) 입력
    dout = rng.standard_normal((n, c, out_h, out_w), dtype=np.float32)
    return x, dout


def _step(
    name: str, x: np.ndarray, dout: np.ndarray, kernel_size: int, stride: int
) -> Callable[[], tuple[np.ndarray, np.ndarray] | tuple[torch.Tensor, torch.Tensor]]:
    """구현 ``name`` 의 순전파+역전파 한 번을 하는 함수를 만듭니다.

    Args:
        name: :data:`IMPLEMENTATIONS` 의 이름.
        x: ``(N, C, H, W)`` float32 입력.
        dout: ``(N, C, OH, OW)`` 출력 기울기.
        kernel_size: 창 크기 ``z``.
        stride: 보폭 ``s``.

    Returns:
        인자 없이 불러 ``(출력, 입력 기울기)`` 를 돌려주는 함수. 결과를 돌려주므로 측정하는 동안 두 배열이
        살아 있어, 메모리 측정에 출력과 입력 기울기가 들어갑니다.

    Raises:
        ValueError: ``name`` 을 모를 때.
    """
    if name in ("numpy", "numpy_im2col"):
        layer = (MaxPool2d if name == "numpy" else Im2colMaxPool2d)(kernel_size, stride)

        def numpy_step() -> tuple[np.ndarray, np.ndarray]:
            out = layer.forward(x)
            return out, layer.backward(dout)

        return numpy_step
    if name == "torch":
        xt = torch.from_numpy(x).requires_grad_()  # NumPy 와 메모리를 공유(복사 없음)
        dt = torch.from_numpy(dout)

        def torch_step() -> tuple[torch.Tensor, torch.Tensor]:
            xt.grad = None
            out = F.max_pool2d(xt, kernel_size, stride)
            out.backward(dt)
            return out, xt.grad

        return torch_step
    raise ValueError(f"name은 {tuple(IMPLEMENTATIONS)} 중 하나여야 합니다. 받은 값: {name!r}")


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status 에 {field} 가 없습니다(Linux 전용).")


def _probe(name: str, shape: tuple[int, ...], kernel_size: int, stride: int) -> dict[str, int]:
    """(하위 프로세스 안에서) 순전파+역전파 한 번의 최고 상주 메모리 증가량을 잽니다."""
    torch.set_num_threads(1)
    warm_x, warm_dout = _inputs((1, 2, 9, 9), kernel_size, stride)
    _step(name, warm_x, warm_dout, kernel_size, stride)()  # 라이브러리의 첫 호출 초기화는 빼고 잽니다
    x, dout = _inputs(shape, kernel_size, stride)
    step = _step(name, x, dout, kernel_size, stride)
    before = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM(최고 상주 메모리)을 지금 값으로 초기화
    result = step()
    peak = _status_kib("VmHWM")
    del result
    return {"rss_peak_extra_bytes": (peak - before) * 1024, "input_bytes": x.nbytes}


def measure_peak_memory(name: str, shape: tuple[int, ...], kernel_size: int = 3, stride: int = 2) -> dict[str, int]:
    """새 프로세스에서 구현 ``name`` 의 순전파+역전파 최고 메모리 증가량(바이트)을 잽니다."""
    if name not in IMPLEMENTATIONS:
        raise ValueError(f"name은 {tuple(IMPLEMENTATIONS)} 중 하나여야 합니다. 받은 값: {name!r}")
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072", OMP_NUM_THREADS="1")
    root = Path(__file__).resolve().parents[1]
    args = [sys.executable, str(Path(__file__).resolve()), "--probe", name,
            "--shape", *map(str, shape), "--kernel-size", str(kernel_size), "--stride", str(stride)]
    done = subprocess.run(args, env=env, cwd=root, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"메모리 측정 프로세스({name})가 실패했습니다:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _tracemalloc_peak(step: Callable[[], object]) -> int:
    """``step()`` 동안 NumPy 가 새로 잡은 메모리의 최고치(바이트). NumPy 는 할당을 tracemalloc 에 알립니다.

    Args:
        step: 인자 없는 함수. 돌려준 값은 최고치를 읽은 뒤에 버립니다(출력도 최고치에 들어감).

    Returns:
        ``step()`` 을 시작할 때보다 늘어난 최고 바이트 수.
    """
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    return peak - base


def goal(results: dict[str, Any]) -> dict[str, Any]:
    """:func:`run` 의 결과에서 목표(시간 비율 중앙값 ≤ 2, 최고 추가 메모리 ≤ 입력의 2배) 달성 여부를 판정합니다.

    시간은 ``results["time"]["ratio"]["median"]`` (NumPy ``MaxPool2d`` / PyTorch 기본 스레드), 메모리는
    ``MaxPool2d`` 의 RSS 증가량을 봅니다. 메모리를 재지 않았으면 메모리 항목은 ``None`` 이고, 전체 판정은
    시간만으로 합니다. 목표의 조건(모양 (32, 96, 55, 55), 3×3, 보폭 2)이 아니면 ``conditions_match`` 가
    ``False`` 입니다(그래도 판정은 그대로 적습니다).

    Returns:
        ``time_ratio_median_at_most``, ``time_ratio_median``, ``time_met``, ``memory_ratio_at_most``,
        ``memory_ratio``, ``memory_met``, ``conditions_match``, ``met``.
    """
    time_ratio = results["time"]["ratio"]["median"]
    memory_ratio = results["memory"]["numpy"]["rss_ratio_to_input"] if "memory" in results else None
    time_met = time_ratio <= GOAL_TIME_RATIO
    memory_met = None if memory_ratio is None else memory_ratio <= GOAL_MEMORY_RATIO
    return {
        "time_ratio_median_at_most": GOAL_TIME_RATIO,
        "time_ratio_median": time_ratio,
        "time_met": time_met,
        "memory_ratio_at_most": GOAL_MEMORY_RATIO,
        "memory_ratio": memory_ratio,
        "memory_met": memory_met,
        "conditions_match": (tuple(results["shape"]), results["kernel_size"], results["stride"]) == (_DEFAULT_SHAPE, 3, 2),
        "met": time_met and memory_met is not False,
    }


def _slowdown(speedup: dict[str, float]) -> dict[str, float]:
    """``compare`` 의 speedup(기준/후보)을 "후보가 몇 배 느린가"(후보/기준)로 바꿉니다."""
    return {"min": 1 / speedup["max"], "median": 1 / speedup["median"], "max": 1 / speedup["min"]}


def run(
    shape: tuple[int, int, int, int] = _DEFAULT_SHAPE,
    kernel_size: int = 3,
    stride: int = 2,
    *,
    repeats: int = 7,
    warmup: int = 1,
    threads: int | None = None,
    im2col_repeats: int = 3,
    memory: bool = True,
    save: bool = True,
) -> dict[str, Any]:
    """속도와 메모리를 재고 결과 사전을 돌려줍니다(``save`` 이면 ``perf/results/pooling.json`` 에도 저장).

    Args:
        shape: 입력 모양 ``(N, C, H, W)``.
        kernel_size: 창 크기 ``z``.
        stride: 보폭 ``s``.
        repeats: 번갈아 재는 반복 횟수(홀수를 권함: 중앙값이 실제 측정값이 됩니다).
        warmup: 재기 전에 버리는 실행 횟수.
        threads: PyTorch 스레드 수. ``None`` 이면 ``OMP_NUM_THREADS`` 나 코어 수.
        im2col_repeats: im2col 구현을 잴 반복 횟수(0 이면 건너뜀).
        memory: 메모리도 잴지 여부(하위 프로세스를 띄웁니다).
        save: 결과를 JSON 으로 저장할지 여부.

    Returns:
        ``time``, ``time_torch_1thread``, ``time_im2col``, ``memory``, ``goal`` (:func:`goal`) 등을 담은
        사전. 시간 비율은 NumPy 시간 / PyTorch 시간(1보다 크면 NumPy 가 느림)입니다.
    """
    threads = pin_threads(threads)
    load_before = os.getloadavg()  # 공유 기계의 부하(1, 5, 15분 평균 실행 대기 프로세스 수)를 함께 기록
    x, dout = _inputs(shape, kernel_size, stride)
    steps = {name: _step(name, x, dout, kernel_size, stride) for name in IMPLEMENTATIONS}
    out_np, dx_np = steps["numpy"]()
    out_t, dx_t = steps["torch"]()
    results: dict[str, Any] = {
        "shape": list(shape), "kernel_size": kernel_size, "stride": stride, "dtype": "float32",
        "input_bytes": x.nbytes, "torch_threads": threads, "numpy_threads": 1,
        "implementations": IMPLEMENTATIONS,
        "same_output": bool(np.array_equal(out_np, out_t.detach().numpy())),
        "max_abs_grad_diff": float(np.abs(dx_np - dx_t.numpy()).max()),
        "dtype_kept": out_np.dtype == x.dtype and dx_np.dtype == x.dtype,
    }
    del out_np, dx_np, out_t, dx_t

    timing = compare(steps["numpy"], steps["torch"], repeats=repeats, warmup=warmup)
    results["time"] = {**timing, "ratio": _slowdown(timing["speedup"])}
    torch.set_num_threads(1)
    timing = compare(steps["numpy"], steps["torch"], repeats=repeats, warmup=warmup)
    results["time_torch_1thread"] = {**timing, "ratio": _slowdown(timing["speedup"])}
    torch.set_num_threads(threads)
    if im2col_repeats > 0:
        timing = compare(steps["numpy_im2col"], steps["torch"], repeats=im2col_repeats, warmup=1)
        results["time_im2col"] = {**timing, "ratio": _slowdown(timing["speedup"])}

    if memory:
        n, c, h, w = shape
        out_elems = n * c * pooling_output_size(h, kernel_size, stride) * pooling_output_size(w, kernel_size, stride)
        mem: dict[str, Any] = {
            "method": "새 프로세스에서 VmHWM − VmRSS (clear_refs 로 초기화, MALLOC_MMAP_THRESHOLD_=131072)",
            # PyTorch 가 잡아야 하는 것: 출력(float32) + 최댓값 위치(int64) + 입력 기울기(float32)
            "torch_expected_bytes": out_elems * (4 + 8) + x.nbytes,
        }
        for name in IMPLEMENTATIONS:
            probe = measure_peak_memory(name, shape, kernel_size, stride)
            mem[name] = {"rss_peak_extra_bytes": probe["rss_peak_extra_bytes"],
                         "rss_ratio_to_input": probe["rss_peak_extra_bytes"] / x.nbytes}
        for name in ("numpy", "numpy_im2col"):
            peak = _tracemalloc_peak(steps[name])
            mem[name].update(tracemalloc_peak_bytes=peak, tracemalloc_ratio_to_input=peak / x.nbytes)
        results["memory"] = mem
    results["load_average"] = {"before": list(load_before), "after": list(os.getloadavg()), "cpu_count": os.cpu_count()}
    results["goal"] = goal(results)
    if save:
        results["saved_to"] = str(save_results("pooling", results).relative_to(Path(__file__).resolve().parents[1]))
    return results


def _report(r: dict[str, Any]) -> None:
    mib = 2**20
    print(f"최대 풀링 순전파+역전파, 입력 {tuple(r['shape'])} float32 ({r['input_bytes'] / mib:.1f} MiB), "
          f"창 {r['kernel_size']}×{r['kernel_size']}, 보폭 {r['stride']}")
    print(f"출력이 PyTorch 와 같음: {r['same_output']}, 기울기 최대 차이 {r['max_abs_grad_diff']:.2e}, dtype 유지: {r['dtype_kept']}")
    rows = [("time", f"PyTorch {r['torch_threads']}스레드"), ("time_torch_1thread", "PyTorch 1스레드")]
    if "time_im2col" in r:
        rows.append(("time_im2col", f"im2col 판 vs PyTorch {r['torch_threads']}스레드"))
    for key, label in rows:
        t = r[key]
        print(f"[{label}] 시간 비율 NumPy/PyTorch 최소 {t['ratio']['min']:.2f} / 중앙 {t['ratio']['median']:.2f} / "
              f"최대 {t['ratio']['max']:.2f}  (중앙값 NumPy {t['candidate']['median'] * 1e3:.0f} ms, "
              f"PyTorch {t['reference']['median'] * 1e3:.0f} ms, {t['speedup']['repeats']}회)")
    if "memory" in r:
        m = r["memory"]
        for name in IMPLEMENTATIONS:
            line = (f"최고 추가 메모리 {name:13s} RSS {m[name]['rss_peak_extra_bytes'] / mib:7.1f} MiB "
                    f"(입력의 {m[name]['rss_ratio_to_input']:.2f}배)")
            if "tracemalloc_peak_bytes" in m[name]:
                line += (f", tracemalloc {m[name]['tracemalloc_peak_bytes'] / mib:.1f} MiB "
                         f"({m[name]['tracemalloc_ratio_to_input']:.2f}배)")
            print(line)
        print(f"PyTorch 가 꼭 잡아야 하는 양(출력+int64 위치+입력 기울기): {m['torch_expected_bytes'] / mib:.1f} MiB")
    g = r["goal"]
    verdict = "met" if g["met"] else "NOT met"
    memory = "재지 않음" if g["memory_ratio"] is None else (
        f"{g['memory_ratio']:.2f}배 {'met' if g['memory_met'] else 'NOT met'}")
    note = "" if g["conditions_match"] else " (목표의 조건 (32, 96, 55, 55), 3×3, 보폭 2 가 아니므로 참고용)"
    print(f"goal (시간 비율 중앙값 <= {g['time_ratio_median_at_most']:g}, 추가 메모리 최고치 <= 입력의 "
          f"{g['memory_ratio_at_most']:g}배): {verdict}{note}  [시간 {g['time_ratio_median']:.2f} "
          f"{'met' if g['time_met'] else 'NOT met'}, 메모리 {memory}]")
    load = r["load_average"]
    print(f"측정 중 기계 부하(1분 평균): 시작 {load['before'][0]:.1f}, 끝 {load['after'][0]:.1f} (코어 {load['cpu_count']}개)")
    if "saved_to" in r:
        print(f"저장: {r['saved_to']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=4, default=list(_DEFAULT_SHAPE), metavar=("N", "C", "H", "W"))
    parser.add_argument("--kernel-size", type=int, default=3)
    parser.add_argument("--stride", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-save", action="store_true", help="JSON 을 쓰지 않습니다")
    parser.add_argument("--probe", choices=tuple(IMPLEMENTATIONS), help=argparse.SUPPRESS)  # 메모리 측정용 내부 옵션
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(_probe(args.probe, tuple(args.shape), args.kernel_size, args.stride)))
        return
    _report(run(tuple(args.shape), args.kernel_size, args.stride, repeats=args.repeats,
                threads=args.threads, save=not args.no_save))


if __name__ == "__main__":
    main()
