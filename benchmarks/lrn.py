"""``alexnetbook.lrn`` 대 ``torch.nn.LocalResponseNorm``: 순전파 + 역전파 속도와 값의 차이.

실행::

    python benchmarks/lrn.py                      # (32, 96, 55, 55) float32 와 bfloat16, JSON 저장
    python benchmarks/lrn.py --dtype float32 --threads 1 2 --repeats 20 --no-save

목표(테스트가 아니라 이 측정으로 확인): float32 에서 순전파 + 역전파가 ``nn.LocalResponseNorm`` 보다
2.5배 이상 빠르고, 출력과 기울기의 차이가 1e-6 이하. 같은 실행 안에서 두 구현을 번갈아 재고
(``benchmarks._timing.compare``), 반복마다의 비율을 최소/중앙/최대로 보고합니다. bfloat16 에서는 torch 의
CPU LRN 이 4차원 입력을 받지 않으므로 float32 사본에서 계산한 것을 기준으로 삼습니다.

다른 스크립트(``python -m benchmarks``)는 :func:`run` 을 불러 씁니다.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # python benchmarks/lrn.py 로 실행할 때 저장소 루트를 찾게 합니다
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alexnetbook.perf.lrn_speed import DTYPES, make_cases
from benchmarks._timing import compare, pin_threads, save_results

__all__ = ["GOAL_MAX_ABS_DIFF", "GOAL_SPEEDUP", "SHAPE", "main", "run"]

#: AlexNet conv1 의 출력(배치 32): 측정 모양.
SHAPE = (32, 96, 55, 55)
#: float32 순전파 + 역전파의 목표 속도 비율(중앙값)과 값의 최대 차이.
GOAL_SPEEDUP = 2.5
GOAL_MAX_ABS_DIFF = 1e-6


def run(
    shape: tuple[int, ...] = SHAPE,
    dtype: str = "float32",
    *,
    repeats: int = 10,
    warmup: int = 2,
    threads: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """한 dtype 에 대해 순전파만, 순전파 + 역전파를 각각 번갈아 재고 결과를 돌려줍니다(저장하지 않음).

    Args:
        shape: 입력 모양 ``(N, C, H, W)`` 또는 ``(N, C, L)``.
        dtype: ``"float32"``, ``"bfloat16"``, ``"float16"``, ``"float64"``.
        repeats: 번갈아 재는 횟수.
        warmup: 재기 전에 버리는 실행 횟수.
        threads: PyTorch 스레드 수. ``None`` 이면 ``OMP_NUM_THREADS`` 나 코어 수.
        seed: 입력 시드.

    Returns:
        ``shape``, ``dtype``, ``threads``, ``candidate``, ``reference``, ``forward`` 와 ``forward_backward``
        (각각 ``_timing.compare`` 의 ``candidate``/``reference``/``speedup`` 요약, 초),
        ``max_abs_diff`` (``output``, ``grad``), 그리고 목표의 조건(float32, :data:`SHAPE`)에서만 목표 달성
        여부 ``goal``.
    """
    threads = pin_threads(threads)
    cases = make_cases(shape, dtype, seed=seed)
    result: dict[str, Any] = {
        "shape": list(shape),
        "dtype": dtype,
        "threads": threads,
        "input": f"standard normal, seed {seed}",
        "candidate": "alexnetbook.lrn.local_response_norm(x, 5, 1e-4, 0.75, 2.0, convention='torch')",
        "reference": cases.reference_name,
        "forward": compare(cases.candidate_forward, cases.reference_forward, repeats=repeats, warmup=warmup),
        "forward_backward": compare(cases.candidate, cases.reference, repeats=repeats, warmup=warmup),
        "max_abs_diff": {"output": cases.max_abs_diff_output, "grad": cases.max_abs_diff_grad},
    }
    if dtype == "float32" and tuple(shape) == SHAPE:
        result["goal"] = {
            "speedup_median_at_least": GOAL_SPEEDUP,
            "max_abs_diff_at_most": GOAL_MAX_ABS_DIFF,
            "met": result["forward_backward"]["speedup"]["median"] >= GOAL_SPEEDUP
            and max(result["max_abs_diff"].values()) <= GOAL_MAX_ABS_DIFF,
        }
    return result


def _report(result: dict[str, Any]) -> str:
    lines = [f"LRN {tuple(result['shape'])} {result['dtype']}, threads={result['threads']}"]
    for key, label in (("forward", "forward"), ("forward_backward", "forward + backward")):
        speedup = result[key]["speedup"]
        lines.append(
            f"  {label:<19} speed ratio (torch / ours): min {speedup['min']:.2f}x  "
            f"median {speedup['median']:.2f}x  max {speedup['max']:.2f}x  ({speedup['repeats']} repeats)"
        )
    diff = result["max_abs_diff"]
    lines.append(f"  max abs diff: output {diff['output']:.3g}, grad {diff['grad']:.3g}")
    if "goal" in result:
        goal = result["goal"]
        lines.append(
            f"  goal (median >= {goal['speedup_median_at_least']}x, diff <= {goal['max_abs_diff_at_most']:g}): "
            + ("met" if goal["met"] else "NOT met")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs="+", default=list(SHAPE), help="입력 모양 (기본 32 96 55 55)")
    parser.add_argument("--dtype", choices=tuple(DTYPES), nargs="+", default=["float32", "bfloat16"])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, nargs="+", default=None,
        help="PyTorch 스레드 수(여러 개 가능). 기본은 OMP_NUM_THREADS 나 코어 수, 그리고 float32 는 1 도",
    )
    parser.add_argument("--no-save", action="store_true", help="perf/results/lrn.json 에 쓰지 않습니다")
    args = parser.parse_args(argv)
    default_threads = pin_threads()
    results = {}
    for dtype in args.dtype:
        # 공유 기계에서는 짧은 병렬 연산이 많을수록 스레드 동기화에서 더 많이 기다리므로, 비율이 스레드 수에
        # 따라 달라집니다. 그래서 float32 는 기본 스레드 수와 1 스레드에서 모두 잽니다.
        thread_counts = args.threads or ([default_threads, 1] if dtype == "float32" and default_threads > 1 else [default_threads])
        for threads in thread_counts:
            key = dtype if threads == thread_counts[0] else f"{dtype}_threads{threads}"
            results[key] = run(tuple(args.shape), dtype, repeats=args.repeats, warmup=args.warmup, threads=threads)
            print(_report(results[key]), flush=True)
    if not args.no_save:
        print(f"saved {save_results('lrn', results)}")
    return results


if __name__ == "__main__":
    main()
