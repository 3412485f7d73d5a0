"""AlexNet 학습 한 스텝의 초당 이미지 수: 두 기준(이 책의 eager float32, PyTorch 그대로)에 대한 설정별 속도 비율.

모델은 ``alexnetbook.models.AlexNet`` 의 두 변형입니다. ``single_tower`` (한 타워, ``groups=1``, 96 채널,
62.4 M 매개변수)와 ``two_tower`` (두 타워, ``groups=2``, 논문의 두 GPU 구조, 61.0 M). 학습 한 스텝은 책의
학습 루프와 같은 :func:`alexnetbook.train.train_step` 이고(:mod:`alexnetbook.perf.throughput`), 설정은
``TRAIN_CONFIGS`` 에서 고릅니다.

기준은 둘입니다.

* ``eager_fp32``: 이 책의 AlexNet 그대로(LRN 은 :mod:`alexnetbook.lrn`), eager, float32. 기법 하나하나의 효과는
  이 기준과 견줍니다.
* ``stock_fp32``: 같은 모델의 LRN 을 ``torch.nn.LocalResponseNorm`` 으로 바꾼 "PyTorch 그대로" 의 eager float32.
  이 책의 기준 자체와, 기법을 모두 켠 조합을 이 기준과도 견줍니다.

``malloc`` 설정처럼 프로세스 전체에 걸리는 것이 있으므로 설정마다 작업 프로세스를 따로 띄우고(같은 시드, 같은
초기 가중치), :func:`benchmarks._timing.compare` 로 기준 작업자와 **번갈아** 잽니다. 반복마다의 시간 비율
(기준 / 후보)의 최소·중앙·최대와, 각각의 초당 이미지 수, 이미지 한 장의 학습 FLOP 으로 환산한 초당 FLOP 을
저장합니다. 결과의 비교마다 기준의 이름(``against``)이 붙어 있습니다. ``torch.compile`` 설정은 첫 호출(컴파일
포함) 시간도 따로 적습니다.

실행::

    python benchmarks/training.py                              # 기본 크기, JSON 저장
    python benchmarks/training.py --variants two_tower --configs bf16_autocast --batch-size 4 --repeats 2 --no-save
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # python benchmarks/training.py 로 실행할 때
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alexnetbook.costs import count_flops  # noqa: E402
from alexnetbook.models import AlexNet  # noqa: E402
from alexnetbook.perf.throughput import TRAIN_CONFIGS  # noqa: E402
from benchmarks._timing import compare, pin_threads, save_results  # noqa: E402
from benchmarks._workers import StepWorker  # noqa: E402
from benchmarks.machine import load_average  # noqa: E402

__all__ = ["BASELINES", "BATCH_SIZE", "COMPARISONS", "GOAL_SPEEDUP", "REFERENCE", "VARIANTS", "images_per_second",
           "main", "run"]

#: 잴 모델 변형: 이름 → ``AlexNet`` 인자.
VARIANTS: dict[str, dict[str, Any]] = {"single_tower": {"groups": 1}, "two_tower": {"groups": 2}}
#: 두 기준: 이 책의 eager float32 와 PyTorch 그대로(nn.LocalResponseNorm)의 eager float32.
REFERENCE = "eager_fp32"
STOCK = "stock_fp32"
BASELINES = (REFERENCE, STOCK)
#: (후보, 기준) 쌍. 기법은 이 책의 기준과, 이 책의 기준과 기법을 모두 켠 조합은 PyTorch 그대로의 기준과도 견줍니다.
COMPARISONS: tuple[tuple[str, str], ...] = (
    (REFERENCE, STOCK),
    *((name, REFERENCE) for name in ("channels_last", "bf16_autocast", "fused_sgd", "retain_memory", "compile",
                                     "all_eager", "all_compile")),
    ("all_eager", STOCK),
    ("all_compile", STOCK),
)
#: CPU 2코어에서 한 스텝이 1초 안팎인 배치 크기(논문은 128).
BATCH_SIZE = 32
#: 최적화한 설정 하나 이상이 이 책의 기준보다 이만큼 빨라야 한다는 측정 모음의 목표(중앙값).
GOAL_SPEEDUP = 2.0


def images_per_second(timing: dict[str, float], images: int) -> dict[str, float]:
    """초 단위 :class:`~benchmarks._timing.Timing` 을 초당 이미지 수(최소/중앙/최대)로 바꿉니다."""
    return {"min": images / timing["max"], "median": images / timing["median"], "max": images / timing["min"]}


def _candidates(comparisons: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """후보 → 그 후보를 견줄 기준들(처음 나온 순서)."""
    grouped: dict[str, list[str]] = {}
    for candidate, baseline in comparisons:
        grouped.setdefault(candidate, []).append(baseline)
    return grouped


def run(
    variants: Sequence[str] = tuple(VARIANTS),
    configs: Sequence[str] | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    repeats: int = 5,
    warmup: int = 1,
    threads: int | None = None,
    image_size: int = 224,
    seed: int = 0,
) -> dict[str, Any]:
    """변형마다 :data:`COMPARISONS` 의 비교를 재고 결과 사전을 돌려줍니다(저장하지 않음).

    변형마다 두 기준 작업자를 띄워 두고, 후보마다 작업자(:class:`benchmarks._workers.StepWorker`)를 새로 띄워
    기준과 번갈아 잽니다. 모든 작업자가 같은 시드로 같은 초기 가중치와 합성 배치에서 시작합니다.

    Args:
        variants: :data:`VARIANTS` 의 이름들.
        configs: 잴 후보(``TRAIN_CONFIGS`` 의 이름). ``None`` 이면 :data:`COMPARISONS` 의 후보 전부.
        batch_size: 배치 크기.
        repeats: 비교마다 번갈아 재는 횟수.
        warmup: 재기 전에 버리는 실행 횟수(첫 호출과 컴파일은 따로 한 번 더 합니다).
        threads: 작업자의 PyTorch 스레드 수. ``None`` 이면 ``OMP_NUM_THREADS`` 나 코어 수.
        image_size: 입력 한 변.
        seed: 초기 가중치와 합성 데이터의 시드.

    Returns:
        설정·스레드·부하, 그리고 ``variants[이름]`` 마다 ``train_flops_per_image``, ``baselines`` (기준 이름 →
        설명), ``configs[후보]`` (첫 호출 시간, 마지막 손실, 페이지 폴트, ``against[기준]`` 마다 ``speedup``,
        초당 이미지 수, GFLOP/s)와 ``best`` (이 책의 기준에 대해 가장 빠른 후보).

    Raises:
        ValueError: 모르는 설정이나 변형을 줄 때.
    """
    comparisons = [c for c in COMPARISONS if configs is None or c[0] in configs]
    unknown = [c for c in (configs or ()) if c not in TRAIN_CONFIGS] + [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"모르는 설정/변형: {unknown}. 설정: {tuple(TRAIN_CONFIGS)}, 변형: {tuple(VARIANTS)}")
    threads = pin_threads(threads)
    result: dict[str, Any] = {
        "batch_size": batch_size, "image_size": image_size, "repeats": repeats, "warmup": warmup, "threads": threads,
        "optimizer": "alexnetbook.train.make_optimizer(TrainConfig(lr=1e-3)): SGD(momentum=0.9, weight_decay=5e-4)",
        "step": "alexnetbook.train.train_step", "data": "synthetic N(0,1) images",
        "baselines": {name: TRAIN_CONFIGS[name].label for name in BASELINES},
        "method": "one spawned worker process per configuration, alternated with a baseline worker",
        "load_average_before": load_average(), "variants": {},
    }
    settings = {"batch_size": batch_size, "threads": threads, "image_size": image_size, "seed": seed}
    for variant in variants:
        model_kwargs = VARIANTS[variant]
        flops = count_flops(AlexNet(**model_kwargs), image_size=image_size, train=True)
        entry: dict[str, Any] = {"model": f"AlexNet({model_kwargs})", "train_flops_per_image": flops,
                                 "repeats": repeats, "comparisons": [list(c) for c in comparisons], "configs": {}}
        needed = [name for name in BASELINES if any(name in pair for pair in comparisons)]
        baselines = {name: StepWorker(name, model_kwargs, **settings) for name in needed}
        try:
            for candidate, against in _candidates(comparisons).items():
                worker = baselines.get(candidate) or StepWorker(candidate, model_kwargs, **settings)
                try:
                    entry["configs"][candidate] = _measure(candidate, worker, against, baselines, flops,
                                                           repeats=repeats, warmup=warmup, batch_size=batch_size)
                finally:
                    if candidate not in baselines:
                        worker.close()
                for name in against:
                    _print_line(variant, candidate, name, entry["configs"][candidate])
        finally:
            for worker in baselines.values():
                worker.close()
        best = max((c for c in entry["configs"] if REFERENCE in entry["configs"][c]["against"]),
                   key=lambda c: entry["configs"][c]["against"][REFERENCE]["speedup"]["median"], default=None)
        if best is not None:
            entry["best"] = {"config": best, "against": REFERENCE,
                             "speedup": entry["configs"][best]["against"][REFERENCE]["speedup"]}
        result["variants"][variant] = entry
    bests = [v["best"]["speedup"]["median"] for v in result["variants"].values() if "best" in v]
    result["goal"] = {"speedup_median_at_least": GOAL_SPEEDUP, "against": REFERENCE,
                      "best_median": max(bests) if bests else None, "met": bool(bests) and max(bests) >= GOAL_SPEEDUP}
    result["load_average_after"] = load_average()
    return result


def _measure(candidate: str, worker: StepWorker, against: Sequence[str], baselines: dict[str, StepWorker],
             flops: int, *, repeats: int, warmup: int, batch_size: int) -> dict[str, Any]:
    """후보 작업자 하나를 기준마다 번갈아 재고, 그 후보의 결과 사전을 만듭니다."""
    entry: dict[str, Any] = {"label": TRAIN_CONFIGS[candidate].label, "first_call_seconds": worker.first_call_seconds,
                             "against": {}}
    for name in against:
        reference = baselines[name]
        timing = compare(worker, reference, repeats=repeats, warmup=warmup)
        worker()  # 준비 운동이 끝난 뒤 한 스텝의 페이지 폴트를 기록합니다
        reference()
        entry.setdefault("minor_page_faults_per_step", worker.last_minor_faults)
        entry["against"][name] = {
            "baseline_label": TRAIN_CONFIGS[name].label,
            "speedup": timing["speedup"],
            "images_per_second": images_per_second(timing["candidate"], batch_size),
            "baseline_images_per_second": images_per_second(timing["reference"], batch_size),
            "gflops_per_second_median": flops * batch_size / timing["candidate"]["median"] / 1e9,
            "baseline_minor_page_faults_per_step": reference.last_minor_faults,
            "timing": timing,
        }
    entry["final_loss"] = worker.last_loss
    entry["finite"] = math.isfinite(worker.last_loss)
    return entry


def _print_line(variant: str, candidate: str, baseline: str, entry: dict[str, Any]) -> None:
    c = entry["against"][baseline]
    s = c["speedup"]
    print(f"  {variant:12s} {entry['label']:62s} vs {baseline:10s} x{s['median']:.2f} "
          f"(min {s['min']:.2f}, max {s['max']:.2f}); {c['images_per_second']['median']:.1f} img/s vs "
          f"{c['baseline_images_per_second']['median']:.1f}; first call {entry['first_call_seconds']:.1f} s; "
          f"page faults/step {entry['minor_page_faults_per_step']:,} vs {c['baseline_minor_page_faults_per_step']:,}",
          flush=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    candidates = tuple(_candidates(COMPARISONS))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", choices=tuple(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--configs", nargs="+", choices=candidates, default=None)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-save", action="store_true", help="perf/results/training.json 에 쓰지 않습니다")
    args = parser.parse_args(argv)
    result = run(args.variants, args.configs, batch_size=args.batch_size, repeats=args.repeats, warmup=args.warmup,
                 threads=args.threads)
    goal = result["goal"]
    if goal["best_median"] is not None:
        print(f"goal (best median vs {REFERENCE} >= {goal['speedup_median_at_least']}x): "
              + ("met" if goal["met"] else "NOT met") + f", best {goal['best_median']:.2f}x")
    if not args.no_save:
        print(f"saved {save_results('training', result)}")
    return result


if __name__ == "__main__":
    main()
