"""데이터 파이프라인 대 학습 한 스텝: 어느 쪽이 학습 속도를 묶는가(최적화하지 않은 스텝과 최적화한 스텝 모두에서).

실제 사진 네 장을 메모리 안의 JPEG 로 두고, 항목마다 JPEG 풀기 + ``alexnet_train_transform`` (짧은 변 256,
가운데 256, 평균 빼기, 무작위 224 조각, 뒤집기, PCA 색 증강)을 하는 ``DataLoader``
(``alexnetbook.perf.input_pipeline.make_photo_loader``)를 작업 프로세스 0개와 2개로 잽니다.

* ``against``: 배치 ``batches`` 개를 만드는 한 바퀴와 학습 한 스텝(합성 데이터, 설정마다 따로 띄운 작업 프로세스,
  ``benchmarks.training`` 과 같음)을 :func:`benchmarks._timing.compare` 로 번갈아 재고, 반복마다 초당 이미지
  수의 비율(파이프라인 / 학습)을 요약합니다. 1보다 크면 파이프라인이 학습보다 빠르므로 학습 쪽이 속도를 묶습니다.
  학습 설정은 이 책의 eager float32 와 기법을 모두 켠 ``all_eager`` 입니다.
* ``end_to_end``: 학습 설정(기본은 최적화한 ``all_eager``)마다 작업 프로세스 **안에** 파이프라인을 만들고, 그 배치로 학습하는 한 바퀴와 같은
  수의 합성 배치로 학습하는 한 바퀴를 번갈아 재어 비율(합성 시간 / 실제 시간)을 적습니다. 1에 가까우면
  파이프라인이 학습을 늦추지 않는 것입니다. 코어가 둘뿐이면 파이프라인의 작업 프로세스가 학습과 코어를 나눠
  쓰므로, 이 값은 작업자 수에 따라 달라집니다.

실행: ``python benchmarks/pipeline.py`` (결과는 ``code/alexnetbook/perf/results/pipeline.json``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # python benchmarks/pipeline.py 로 실행할 때
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alexnetbook.perf.input_pipeline import make_photo_loader  # noqa: E402
from alexnetbook.perf.throughput import TRAIN_CONFIGS  # noqa: E402
from benchmarks._timing import Timing, compare, pin_threads, save_results  # noqa: E402
from benchmarks._workers import StepWorker  # noqa: E402
from benchmarks.machine import load_average  # noqa: E402
from benchmarks.training import VARIANTS, images_per_second  # noqa: E402

__all__ = ["TRAIN_CONFIG_NAMES", "main", "run"]

#: 파이프라인과 견줄 학습 설정: 이 책의 eager float32 와 기법을 모두 켠 것(torch.compile 제외).
TRAIN_CONFIG_NAMES = ("eager_fp32", "all_eager")


def _scaled(timing: dict[str, float], factor: float) -> Timing:
    return Timing(min=timing["min"] * factor, median=timing["median"] * factor, max=timing["max"] * factor,
                  repeats=timing["repeats"])


def run(
    batch_size: int = 32,
    batches: int = 4,
    workers: Sequence[int] = (0, 2),
    train_configs: Sequence[str] = TRAIN_CONFIG_NAMES,
    *,
    end_to_end_configs: Sequence[str] = ("all_eager",),
    end_to_end_batches: int = 2,
    repeats: int = 3,
    end_to_end_repeats: int = 2,
    warmup: int = 1,
    variant: str = "single_tower",
    threads: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """작업자 수마다 파이프라인과 학습을 번갈아 재고 결과 사전을 돌려줍니다(저장하지 않음).

    Args:
        batch_size: 배치 크기(학습과 같게).
        batches: 파이프라인 한 바퀴의 배치 수.
        workers: 잴 ``num_workers`` 값들.
        train_configs: 파이프라인과 비교할 학습 설정(``TRAIN_CONFIGS`` 의 이름).
        end_to_end_configs: 끝까지 잴 학습 설정(기본: 최적화한 ``all_eager`` 만).
        end_to_end_batches: 끝까지 잴 때 한 바퀴에 학습할 배치 수(0 이면 건너뜀).
        repeats: 파이프라인 대 학습을 번갈아 재는 횟수.
        end_to_end_repeats: 끝까지 잴 때 번갈아 재는 횟수.
        warmup: 재기 전에 버리는 실행 횟수.
        variant: 학습할 AlexNet 변형(``benchmarks.training.VARIANTS``).
        threads: 주 프로세스와 학습 작업자의 PyTorch 스레드 수(파이프라인 작업 프로세스는 PyTorch 가 1 스레드로 둡니다).
        seed: 가중치와 합성 데이터의 시드.

    Raises:
        ValueError: 모르는 설정이나 변형을 줄 때.
    """
    unknown = [c for c in (*train_configs, *end_to_end_configs) if c not in TRAIN_CONFIGS]
    if unknown or variant not in VARIANTS:
        raise ValueError(f"모르는 설정/변형: {unknown or variant}. 설정: {tuple(TRAIN_CONFIGS)}, 변형: {tuple(VARIANTS)}")
    threads = pin_threads(threads)
    settings = {"threads": threads, "seed": seed}
    result: dict[str, Any] = {
        "batch_size": batch_size, "batches_per_epoch": batches, "threads": threads, "variant": variant,
        "train_configs": {name: TRAIN_CONFIGS[name].label for name in train_configs},
        "repeats": repeats, "end_to_end_repeats": end_to_end_repeats,
        "transform": "alexnetbook.augment.alexnet_train_transform() on JPEG-decoded sample photos (PIL, quality 90)",
        "photos": "skimage astronaut, chelsea, coffee, rocket (300x451 to 512x512)",
        "load_average_before": load_average(), "workers": {},
    }
    steps = {name: StepWorker(name, VARIANTS[variant], batch_size, **settings) for name in train_configs}
    try:
        for num_workers in workers:
            entry: dict[str, Any] = {"num_workers": num_workers, "against": {}}
            loader = make_photo_loader(batch_size, num_workers, batches=batches)

            def one_pass() -> int:
                return sum(images.shape[0] for images, _ in loader)

            for name, step in steps.items():
                timing = compare(one_pass, step, repeats=repeats, warmup=warmup)
                # speedup = 학습 한 스텝 시간 / 한 바퀴 시간. 한 바퀴는 배치 batches 개이므로 초당 이미지 비율은 batches 배.
                entry["against"][name] = {
                    "label": TRAIN_CONFIGS[name].label,
                    "pipeline_over_train_images_per_second": _scaled(timing["speedup"], batches),
                    "pipeline_images_per_second": images_per_second(timing["candidate"], batch_size * batches),
                    "train_images_per_second": images_per_second(timing["reference"], batch_size),
                    "timing": timing,
                }
                a = entry["against"][name]
                print(f"  pipeline workers={num_workers}: {a['pipeline_images_per_second']['median']:.1f} img/s, "
                      f"{a['pipeline_over_train_images_per_second']['median']:.2f}x the train step ({a['label']}, "
                      f"{a['train_images_per_second']['median']:.1f} img/s)", flush=True)
            del loader
            if end_to_end_batches > 0:
                entry["end_to_end"] = {}
                for name in end_to_end_configs:
                    with StepWorker(name, VARIANTS[variant], batch_size, loader_batches=end_to_end_batches,
                                    loader_workers=num_workers, **settings) as worker:
                        timing = compare(worker.real_pass, worker.synthetic_pass, repeats=end_to_end_repeats,
                                         warmup=warmup)
                    images = batch_size * end_to_end_batches
                    entry["end_to_end"][name] = {
                        "label": TRAIN_CONFIGS[name].label,
                        "fraction_of_synthetic_speed": timing["speedup"],
                        "images_per_second": images_per_second(timing["candidate"], images),
                        "synthetic_images_per_second": images_per_second(timing["reference"], images),
                        "timing": timing,
                    }
                    e = entry["end_to_end"][name]
                    print(f"  end-to-end workers={num_workers} {e['label']}: {e['images_per_second']['median']:.1f} "
                          f"img/s = {timing['speedup']['median']:.2f} of synthetic-data training", flush=True)
            result["workers"][str(num_workers)] = entry
    finally:
        for worker in steps.values():
            worker.close()
    result["load_average_after"] = load_average()
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--train-configs", nargs="+", choices=tuple(TRAIN_CONFIGS), default=list(TRAIN_CONFIG_NAMES))
    parser.add_argument("--end-to-end-batches", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.batch_size, args.batches, args.workers, args.train_configs,
                 end_to_end_batches=args.end_to_end_batches, repeats=args.repeats, threads=args.threads)
    if not args.no_save:
        print(f"saved {save_results('pipeline', result)}")
    return result


if __name__ == "__main__":
    main()
