"""AlexNet 학습 한 걸음의 초당 이미지 수: eager float32 를 기준으로 한 여러 설정의 속도 비율.

모델은 ``alexnetbook.models.AlexNet`` 의 두 변형입니다. ``grouped`` (``groups=2``, 논문의 두 GPU 구조,
61.0 M 매개변수)와 ``seed`` (``groups=1``, 한 줄기 96 채널, 62.4 M). 설정은
``alexnetbook.experiments.throughput.TRAIN_CONFIGS`` 에서 고릅니다. ``malloc`` 설정처럼 프로세스 전체에 걸리는
것이 있으므로 설정마다 작업 프로세스를 따로 띄우고(같은 시드, 같은 초기 가중치),
:func:`benchmarks._timing.compare` 로 기준 작업자(eager float32, 기본 SGD, 기본 할당자)와 **번갈아** 잽니다. 반복마다의 시간 비율
(기준 / 후보)의 최소·중앙·최대와, 각각의 초당 이미지 수, 이미지 한 장의 학습 FLOP 으로 환산한 초당 FLOP 을
저장합니다. ``torch.compile`` 설정은 첫 호출(컴파일 포함) 시간도 따로 적습니다.

목표(이 측정으로 확인): CPU 에서 최적화한 설정 하나 이상이 eager float32 의 2배 이상(중앙값).

실행::

    python benchmarks/training.py                              # 기본 크기, JSON 저장
    python benchmarks/training.py --variants grouped --configs bf16_autocast --batch-size 4 --repeats 2 --no-save
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

from alexnetbook.experiments.throughput import TRAIN_CONFIGS, count_flops  # noqa: E402
from alexnetbook.models import AlexNet  # noqa: E402
from benchmarks._timing import compare, pin_threads, save_results  # noqa: E402
from benchmarks._workers import StepWorker  # noqa: E402
from benchmarks.machine import load_average  # noqa: E402

__all__ = ["BATCH_SIZE", "GOAL_SPEEDUP", "VARIANTS", "images_per_second", "main", "run"]

#: 잴 모델 변형: 이름 → ``AlexNet`` 인자.
VARIANTS: dict[str, dict[str, Any]] = {"grouped": {"groups": 2}, "seed": {"groups": 1}}
#: CPU 2코어에서 한 걸음이 몇 초 안에 끝나는 배치 크기(논문은 128).
BATCH_SIZE = 32
#: 최적화한 설정 하나 이상이 넘어야 하는 속도 비율(중앙값).
GOAL_SPEEDUP = 2.0
REFERENCE = "eager_fp32"


def images_per_second(timing: dict[str, float], images: int) -> dict[str, float]:
    """초 단위 :class:`~benchmarks._timing.Timing` 을 초당 이미지 수(최소/중앙/최대)로 바꿉니다."""
    return {"min": images / timing["max"], "median": images / timing["median"], "max": images / timing["min"]}


def run(
    variants: Sequence[str] = tuple(VARIANTS),
    configs: Sequence[str] | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    repeats: int = 3,
    warmup: int = 1,
    threads: int | None = None,
    image_size: int = 224,
    seed: int = 0,
) -> dict[str, Any]:
    """변형마다 기준과 각 설정을 번갈아 재고 결과 사전을 돌려줍니다(저장하지 않음).

    설정마다 작업 프로세스(:class:`benchmarks._workers.StepWorker`)를 새로 띄우고, 변형마다 하나 띄운 기준
    작업자와 번갈아 잽니다. 모든 작업자가 같은 시드로 같은 초기 가중치와 합성 배치에서 시작합니다.

    Args:
        variants: :data:`VARIANTS` 의 이름들.
        configs: ``TRAIN_CONFIGS`` 의 이름들(기준 ``eager_fp32`` 는 빼고). ``None`` 이면 전부.
        batch_size: 배치 크기.
        repeats: 번갈아 재는 횟수.
        warmup: 재기 전에 버리는 실행 횟수(첫 호출과 컴파일은 따로 한 번 더 합니다).
        threads: 작업자의 PyTorch 스레드 수. ``None`` 이면 ``OMP_NUM_THREADS`` 나 코어 수.
        image_size: 입력 한 변.
        seed: 초기 가중치와 합성 데이터의 시드.

    Returns:
        설정·스레드·부하, 그리고 ``variants[이름]`` 마다 ``train_flops_per_image``, ``configs[설정]``
        (``speedup``, 초당 이미지 수, GFLOP/s, 첫 호출 시간, 마지막 손실)과 ``best``. ``goal`` 은 모든 변형에서
        가장 좋은 설정의 중앙값이 :data:`GOAL_SPEEDUP` 이상인지입니다.
    """
    configs = [c for c in (configs or TRAIN_CONFIGS) if c != REFERENCE]
    unknown = [c for c in configs if c not in TRAIN_CONFIGS] + [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"모르는 설정/변형: {unknown}. 설정: {tuple(TRAIN_CONFIGS)}, 변형: {tuple(VARIANTS)}")
    threads = pin_threads(threads)
    result: dict[str, Any] = {
        "batch_size": batch_size, "image_size": image_size, "repeats": repeats, "warmup": warmup, "threads": threads,
        "optimizer": "torch.optim.SGD(lr=1e-3, momentum=0.9, weight_decay=5e-4)", "data": "synthetic N(0,1) images",
        "reference": REFERENCE, "method": "one spawned worker process per configuration, alternated with a reference "
        "worker (eager float32, default allocator)", "load_average_before": load_average(), "variants": {},
    }
    for variant in variants:
        model_kwargs = VARIANTS[variant]
        flops = count_flops(AlexNet(**model_kwargs), image_size=image_size, train=True)
        entry: dict[str, Any] = {"model": f"AlexNet({model_kwargs})", "train_flops_per_image": flops, "configs": {}}
        settings = {"batch_size": batch_size, "threads": threads, "image_size": image_size, "seed": seed}
        with StepWorker(REFERENCE, model_kwargs, **settings) as reference:
            entry["reference_first_call_seconds"] = reference.first_call_seconds
            for name in configs:
                config = TRAIN_CONFIGS[name]
                with StepWorker(name, model_kwargs, **settings) as step:
                    timing = compare(step, reference, repeats=repeats, warmup=warmup)
                    step()
                    reference()
                    loss = step.last_loss
                entry["configs"][name] = {
                    "label": config.label,
                    "speedup": timing["speedup"],
                    "images_per_second": images_per_second(timing["candidate"], batch_size),
                    "reference_images_per_second": images_per_second(timing["reference"], batch_size),
                    "gflops_per_second_median": flops * batch_size / timing["candidate"]["median"] / 1e9,
                    "first_call_seconds": step.first_call_seconds,
                    "minor_page_faults_per_step": step.last_minor_faults,
                    "reference_minor_page_faults_per_step": reference.last_minor_faults,
                    "final_loss": loss,
                    "finite": math.isfinite(loss),
                    "timing": timing,
                }
                c = entry["configs"][name]
                print(f"  {variant:8s} {config.label:65s} x{timing['speedup']['median']:.2f} "
                      f"(min {timing['speedup']['min']:.2f}, max {timing['speedup']['max']:.2f}); "
                      f"{c['images_per_second']['median']:.1f} img/s vs {c['reference_images_per_second']['median']:.1f}; "
                      f"first call {step.first_call_seconds:.1f} s; page faults/step {step.last_minor_faults:,} vs "
                      f"{reference.last_minor_faults:,}", flush=True)
        ref_ips = sorted(c["reference_images_per_second"]["median"] for c in entry["configs"].values())
        entry["reference_images_per_second_median_over_configs"] = ref_ips[len(ref_ips) // 2] if ref_ips else None
        if entry["configs"]:
            best = max(entry["configs"], key=lambda c: entry["configs"][c]["speedup"]["median"])
            entry["best"] = {"config": best, "speedup": entry["configs"][best]["speedup"]}
        result["variants"][variant] = entry
    bests = [v["best"]["speedup"]["median"] for v in result["variants"].values() if "best" in v]
    result["goal"] = {"speedup_median_at_least": GOAL_SPEEDUP, "best_median": max(bests) if bests else None,
                      "met": bool(bests) and max(bests) >= GOAL_SPEEDUP}
    result["load_average_after"] = load_average()
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", choices=tuple(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--configs", nargs="+", choices=[c for c in TRAIN_CONFIGS if c != REFERENCE], default=None)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-save", action="store_true", help="benchmarks/results/training.json 에 쓰지 않습니다")
    args = parser.parse_args(argv)
    result = run(args.variants, args.configs, batch_size=args.batch_size, repeats=args.repeats, warmup=args.warmup,
                 threads=args.threads)
    goal = result["goal"]
    print(f"goal (best median >= {goal['speedup_median_at_least']}x): "
          + ("met" if goal["met"] else "NOT met") + f", best {goal['best_median']:.2f}x")
    if not args.no_save:
        print(f"saved {save_results('training', result)}")
    return result


if __name__ == "__main__":
    main()
