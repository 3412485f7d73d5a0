"""``python -m benchmarks`` (``make bench``): 책의 성능 측정 전체를 한 번에 실행하고 목표 달성 여부를 보고합니다.

테스트(``make test``)와는 별개입니다. 경우(case)마다 후보와 기준을 같은 실행 안에서 번갈아 재고
(:func:`benchmarks._timing.compare`), 준비 운동 뒤 반복마다의 비율을 최소/중앙/최대로 적습니다. 스레드 수는
고정하고(:func:`benchmarks._timing.pin_threads`) 결과와 함께 기록합니다.

경우(순서대로):

0. ``machine``: 기계 설명(CPU 계열, 플래그, 부하)과 행렬 곱·합성곱 천장(float32 대 bfloat16) → ``suite.json``
1. ``pooling``: NumPy 최대 풀링 대 ``F.max_pool2d`` (순전파+역전파, 최고 메모리) → ``pooling.json``
2. ``lrn``: ``alexnetbook.lrn`` 대 ``nn.LocalResponseNorm`` (순전파+역전파, float32·bfloat16) → ``lrn.json``
3. ``training``: AlexNet 학습 한 스텝, 이 책의 eager float32 와 PyTorch 그대로(nn.LocalResponseNorm)에 대한
   설정별 비율 → ``training.json`` (책이 인용하는 하나의 CPU 학습 속도가 여기서 나옵니다)
4. ``inference``: 추론 배치 1·64 → ``inference.json``
5. ``pipeline``: JPEG + 증강 ``DataLoader`` (작업자 0·2) 대 학습 한 스텝(최적화 전과 후) → ``pipeline.json``
6. ``seeds``: 작은 CNN 을 시드 4개로 학습하는 네 방법(차례로 2·1 스레드, 프로세스 2개, vmap) → ``seeds.json``

결과는 모두 ``code/alexnetbook/perf/results/`` (패키지 데이터)에 저장하고, 책은
:mod:`alexnetbook.perf.measurements` 로 읽습니다.

측정 모음의 목표(이 저장소의 점검용): 1은 NumPy 가 PyTorch 의 2배 시간 이내, 2는 2.5배 이상 빠름, 3은 최적화한
설정 하나 이상이 이 책의 eager float32 의 2배 이상. 못 미치면 그대로 "NOT met" 으로 보고하고 JSON 에도 그렇게
적습니다(숨기지 않음). 종료 코드는 측정이 끝까지 돌았는지만 나타냅니다.

``--quick`` 은 아주 작은 크기로 모든 경우를 한 번씩 돌려 코드가 도는지만 봅니다(결과를 저장하지 않음).
``torch.compile`` 의 컴파일 시간을 정직하게 재려고, 따로 정하지 않았으면 Inductor 캐시를 빈 임시 폴더로
둡니다(매번 처음부터 컴파일).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # python benchmarks/__main__.py 로 실행할 때
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# torch 의 Inductor 설정은 처음 컴파일할 때 읽으므로, torch 를 불러오기 전에 정해 둡니다.
# (작업 프로세스가 이 파일을 다시 불러올 때는 물려받은 값이 있으므로 새 폴더를 만들지 않습니다.)
_COMPILE_CACHE = "given" if "TORCHINDUCTOR_CACHE_DIR" in os.environ else "cold"
if "TORCHINDUCTOR_CACHE_DIR" not in os.environ:
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="alexnetbook-inductor-")

from benchmarks import inference, lrn, machine, pipeline, pooling, seeds, training  # noqa: E402
from benchmarks._timing import machine_info, pin_threads, save_results  # noqa: E402

__all__ = ["CASES", "PROFILES", "main"]

CASES = ("machine", "pooling", "lrn", "training", "inference", "pipeline", "seeds")

#: 측정 크기. ``full`` 은 2코어 CPU 에서 전체가 10분 안에 끝나도록, ``quick`` 은 코드가 도는지만 보도록 고른 값.
PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    "full": {
        "machine": {"size": 2048, "conv_batch_size": 64, "repeats": 5},
        "pooling": {"shape": (32, 96, 55, 55), "repeats": 7, "im2col_repeats": 3, "memory": True},
        "lrn": {"argv": ["--repeats", "7"]},
        "training": {"runs": [{"variants": ("single_tower",), "repeats": 7},
                              {"variants": ("two_tower",), "repeats": 5,
                               "configs": ("eager_fp32", "all_eager", "all_compile")}],
                     "batch_size": 32, "warmup": 1},
        "inference": {"batch_sizes": {1: 10, 64: 3}},
        "pipeline": {"batch_size": 32, "batches": 4, "repeats": 3, "end_to_end_batches": 2, "end_to_end_repeats": 3},
        "seeds": {"images": 5000, "repeats": 3, "warmup_images": 512},
    },
    "quick": {
        "machine": {"size": 256, "conv_batch_size": 2, "repeats": 2},
        "pooling": {"shape": (2, 8, 15, 15), "repeats": 2, "im2col_repeats": 1, "memory": False},
        "lrn": {"argv": ["--shape", "2", "16", "13", "13", "--repeats", "2", "--warmup", "1", "--no-save"]},
        "training": {"runs": [{"variants": ("two_tower",), "repeats": 1,
                               "configs": ("eager_fp32", "bf16_autocast", "all_eager")}],
                     "batch_size": 2, "warmup": 1, "image_size": 64},
        "inference": {"variants": ("two_tower",), "batch_sizes": {1: 2, 4: 1}, "image_size": 64},
        "pipeline": {"batch_size": 2, "batches": 1, "repeats": 1, "end_to_end_batches": 1, "end_to_end_repeats": 1},
        "seeds": {"images": 256, "repeats": 1, "warmup_images": 0},
    },
}

GOALS = {
    "pooling": "NumPy max pool (fwd+bwd) within 2x the time of F.max_pool2d (median)",
    "lrn_float32": "alexnetbook.lrn fwd+bwd >= 2.5x faster than nn.LocalResponseNorm, float32 (median)",
    "lrn_bfloat16": "alexnetbook.lrn fwd+bwd >= 2.5x faster than nn.LocalResponseNorm, bfloat16 (median)",
    "training": "an optimized CPU training configuration >= 2x this book's eager float32 images/s (median)",
}


def _pooling(settings: dict[str, Any], save: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    r = pooling.run(settings["shape"], repeats=settings["repeats"], im2col_repeats=settings["im2col_repeats"],
                    memory=settings["memory"], save=save)
    ratio = r["time"]["ratio"]
    print(f"  NumPy / PyTorch time: median {ratio['median']:.2f} (min {ratio['min']:.2f}, max {ratio['max']:.2f}); "
          f"same output {r['same_output']}")
    if "memory" in r:
        m = r["memory"]
        print(f"  peak extra memory / input: numpy {m['numpy']['rss_ratio_to_input']:.2f}, "
              f"torch {m['torch']['rss_ratio_to_input']:.2f}")
    goal = {"value": ratio["median"], "target": "<= 2", "met": ratio["median"] <= 2.0}
    return r, {"pooling": goal}


def _lrn(settings: dict[str, Any], save: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    argv = list(settings["argv"])
    if not save and "--no-save" not in argv:
        argv.append("--no-save")
    r = lrn.main(argv)
    goals = {}
    for dtype in ("float32", "bfloat16"):
        if dtype in r:
            value = r[dtype]["forward_backward"]["speedup"]["median"]
            goals[f"lrn_{dtype}"] = {"value": value, "target": f">= {lrn.GOAL_SPEEDUP}",
                                     "met": value >= lrn.GOAL_SPEEDUP}
    return r, goals


def _training(settings: dict[str, Any], save: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """변형마다 다른 크기로 잰 결과를 하나의 ``training.json`` 으로 합칩니다."""
    common = {k: v for k, v in settings.items() if k != "runs"}
    r: dict[str, Any] = {}
    for part in settings["runs"]:
        measured = training.run(**common, **part)
        if r:
            r["variants"].update(measured["variants"])
            r["load_average_after"] = measured["load_average_after"]
        else:
            r = measured
    r.pop("repeats", None)  # 변형마다 다를 수 있으므로 variants[이름]["repeats"] 를 봅니다
    bests = [v["best"]["speedup"]["median"] for v in r["variants"].values() if "best" in v]
    r["goal"].update(best_median=max(bests) if bests else None, met=bool(bests) and max(bests) >= training.GOAL_SPEEDUP)
    if save:
        save_results("training", r)
    best = r["goal"]["best_median"]
    return r, {"training": {"value": best, "target": f">= {training.GOAL_SPEEDUP}", "met": r["goal"]["met"],
                            "best": {v: e.get("best") for v, e in r["variants"].items()}}}


def _seeds(settings: dict[str, Any], save: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    r = seeds.run(**settings)
    seeds.report(r)
    if save:
        save_results("seeds", r)
    return r, {}


def _save_or_not(name: str, runner, settings: dict[str, Any], save: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    r = runner(**settings)
    if save:
        save_results(name, r)
    return r, {}


def _format_goal(name: str, goal: dict[str, Any]) -> str:
    status = {True: "met", False: "NOT met", None: "n/a"}[goal["met"]]
    return f"{name:13s} {status:8s} measured {goal['value']:.2f}, target {goal['target']}  ({GOALS[name]})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="아주 작은 크기로 한 번씩(저장하지 않음)")
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES), help="실행할 경우(기본: 전부)")
    parser.add_argument("--no-save", action="store_true", help="perf/results/*.json 에 쓰지 않습니다")
    parser.add_argument("--threads", type=int, default=None, help="PyTorch 스레드 수(기본 OMP_NUM_THREADS)")
    args = parser.parse_args(argv)
    profile = "quick" if args.quick else "full"
    save = not (args.no_save or args.quick)
    settings = PROFILES[profile]
    threads = pin_threads(args.threads)
    start = time.perf_counter()
    suite: dict[str, Any] = {
        "profile": profile, "threads": threads, "cases_run": list(args.cases), "settings": settings,
        "compile_cache": _COMPILE_CACHE, "machine_before": machine.describe(), "case_seconds": {}, "goals": {},
        "gpu": "not measured: no GPU was available to this run",
    }
    print(f"[{profile}] threads={threads}, load average {suite['machine_before']['load_average']}, "
          f"{machine_info()['cpu_model']} x{machine_info()['cpu_count']}", flush=True)
    runners = {
        "pooling": lambda: _pooling(settings["pooling"], save),
        "lrn": lambda: _lrn(settings["lrn"], save),
        "training": lambda: _training(settings["training"], save),
        "inference": lambda: _save_or_not("inference", inference.run, settings["inference"], save),
        "pipeline": lambda: _save_or_not("pipeline", pipeline.run, settings["pipeline"], save),
        "seeds": lambda: _seeds(settings["seeds"], save),
    }
    for case in CASES:
        if case not in args.cases:
            continue
        print(f"== {case}", flush=True)
        case_start = time.perf_counter()
        if case == "machine":
            m = settings["machine"]
            suite["gemm"] = machine.gemm_ceiling(m["size"], repeats=m["repeats"], threads=threads)
            suite["conv"] = machine.conv_ceiling(m["conv_batch_size"], repeats=m["repeats"], threads=threads)
            for key in ("gemm", "conv"):
                g = suite[key]
                print(f"  {key}: float32 {g['float32_gflops']['median']:.1f} GFLOP/s, "
                      f"bfloat16 {g['bfloat16_gflops']['median']:.1f} GFLOP/s "
                      f"(x{g['bf16_speedup']['median']:.2f})", flush=True)
        else:
            _, goals = runners[case]()
            suite["goals"].update(goals)
        suite["case_seconds"][case] = time.perf_counter() - case_start
        print(f"   {case}: {suite['case_seconds'][case]:.0f} s", flush=True)
    if profile == "quick":  # 아주 작은 크기에서는 목표를 판정하지 않습니다
        for goal in suite["goals"].values():
            goal["met"] = None
    suite["total_seconds"] = time.perf_counter() - start
    suite["machine_after"] = machine.describe()
    print("== goals")
    for name, goal in suite["goals"].items():
        print("  " + _format_goal(name, goal))
    print(f"  GPU: {suite['gpu']}")
    print(f"total {suite['total_seconds']:.0f} s; load average before {suite['machine_before']['load_average']}, "
          f"after {suite['machine_after']['load_average']}")
    if save:
        print(f"saved {save_results('suite', suite)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
