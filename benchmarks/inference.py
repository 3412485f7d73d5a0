"""AlexNet 추론의 초당 이미지 수(배치 1 과 64): eager float32 를 기준으로 한 설정별 속도 비율.

평가 모드(드롭아웃 꺼짐), ``torch.inference_mode`` 에서 합성 배치 하나를 추론하는 시간을 잽니다. 설정은
``alexnetbook.perf.throughput.INFERENCE_CONFIGS`` 이고, 설정마다 같은 가중치의 사본을 만들어
:func:`benchmarks._timing.compare` 로 기준과 번갈아 잽니다. 배치 1 은 지연 시간(latency), 배치 64 는 처리량
(throughput)을 봅니다. 배치 1 은 한 번이 짧으므로 더 여러 번 잽니다.

실행: ``python benchmarks/inference.py`` (결과는 ``code/alexnetbook/perf/results/inference.json``).
"""

from __future__ import annotations

import argparse
import copy
import gc
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

if __package__ in (None, ""):  # python benchmarks/inference.py 로 실행할 때
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alexnetbook.costs import count_flops  # noqa: E402
from alexnetbook.models import AlexNet  # noqa: E402
from alexnetbook.perf.throughput import INFERENCE_CONFIGS, make_inference  # noqa: E402
from benchmarks._timing import compare, pin_threads, save_results  # noqa: E402
from benchmarks.machine import load_average  # noqa: E402
from benchmarks.training import REFERENCE, VARIANTS, images_per_second  # noqa: E402

__all__ = ["BATCH_SIZES", "main", "run"]

#: 배치 크기 → 번갈아 재는 횟수.
BATCH_SIZES: dict[int, int] = {1: 10, 64: 3}


def run(
    variants: Sequence[str] = tuple(VARIANTS),
    batch_sizes: dict[int, int] | None = None,
    configs: Sequence[str] | None = None,
    *,
    warmup: int = 1,
    threads: int | None = None,
    image_size: int = 224,
    seed: int = 0,
) -> dict[str, Any]:
    """변형·배치 크기마다 기준과 각 설정을 번갈아 재고 결과 사전을 돌려줍니다(저장하지 않음).

    Args:
        variants: ``benchmarks.training.VARIANTS`` 의 이름들.
        batch_sizes: 배치 크기 → 반복 횟수. ``None`` 이면 :data:`BATCH_SIZES`.
        configs: ``INFERENCE_CONFIGS`` 의 이름들(기준은 빼고). ``None`` 이면 전부.
        warmup: 재기 전에 버리는 실행 횟수.
        threads: PyTorch 스레드 수.
        image_size: 입력 한 변.
        seed: 가중치와 입력의 시드.

    Returns:
        ``variants[이름]["batch_<n>"]`` 마다 기준의 초당 이미지 수와 ``configs[설정]`` 의 ``speedup``,
        초당 이미지 수, 배치 한 번의 지연 시간(ms).
    """
    batch_sizes = dict(BATCH_SIZES if batch_sizes is None else batch_sizes)
    configs = [c for c in (configs or INFERENCE_CONFIGS) if c != REFERENCE]
    unknown = [c for c in configs if c not in INFERENCE_CONFIGS] + [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"모르는 설정/변형: {unknown}. 설정: {tuple(INFERENCE_CONFIGS)}, 변형: {tuple(VARIANTS)}")
    threads = pin_threads(threads)
    result: dict[str, Any] = {"image_size": image_size, "warmup": warmup, "threads": threads, "reference": REFERENCE,
                              "mode": "model.eval(), torch.inference_mode()", "load_average_before": load_average(),
                              "variants": {}}
    for variant in variants:
        torch.manual_seed(seed)
        base = AlexNet(**VARIANTS[variant])
        entry: dict[str, Any] = {"model": f"AlexNet({VARIANTS[variant]})",
                                 "forward_flops_per_image": count_flops(base, image_size=image_size)}
        for batch_size, repeats in batch_sizes.items():
            reference = make_inference(copy.deepcopy(base), INFERENCE_CONFIGS[REFERENCE], batch_size,
                                       image_size=image_size, seed=seed)
            per_batch: dict[str, Any] = {"batch_size": batch_size, "repeats": repeats, "configs": {}}
            for name in configs:
                infer = make_inference(copy.deepcopy(base), INFERENCE_CONFIGS[name], batch_size,
                                       image_size=image_size, seed=seed)
                timing = compare(infer, reference, repeats=repeats, warmup=warmup)
                per_batch["configs"][name] = {
                    "label": INFERENCE_CONFIGS[name].label,
                    "speedup": timing["speedup"],
                    "images_per_second": images_per_second(timing["candidate"], batch_size),
                    "reference_images_per_second": images_per_second(timing["reference"], batch_size),
                    "latency_ms_median": timing["candidate"]["median"] * 1e3,
                    "reference_latency_ms_median": timing["reference"]["median"] * 1e3,
                    "timing": timing,
                }
                c = per_batch["configs"][name]
                print(f"  {variant:12s} batch {batch_size:3d} {c['label']:32s} x{timing['speedup']['median']:.2f} "
                      f"(min {timing['speedup']['min']:.2f}, max {timing['speedup']['max']:.2f}); "
                      f"{c['images_per_second']['median']:.1f} img/s vs {c['reference_images_per_second']['median']:.1f}",
                      flush=True)
                del infer
                gc.collect()
            entry[f"batch_{batch_size}"] = per_batch
            del reference
            gc.collect()
        result["variants"][variant] = entry
    result["load_average_after"] = load_average()
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", choices=tuple(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=list(BATCH_SIZES))
    parser.add_argument("--repeats", type=int, default=None, help="모든 배치 크기에 같은 반복 횟수(기본은 배치마다 다름)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    batch_sizes = {b: args.repeats or BATCH_SIZES.get(b, 3) for b in args.batch_sizes}
    result = run(args.variants, batch_sizes, threads=args.threads)
    if not args.no_save:
        print(f"saved {save_results('inference', result)}")
    return result


if __name__ == "__main__":
    main()
