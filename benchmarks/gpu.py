"""GPU 에서 AlexNet 학습 한 스텝과 추론의 초당 이미지 수, 그리고 GPU bfloat16 최고 속도 대비 비율.

``python -m benchmarks.gpu`` 는 CUDA 장치가 있는 기계에서 한 번에 끝나도록 준비한 측정입니다(H200 한 장에서 몇 분).
``make bench`` 의 CPU 측정과 달리 기준과 번갈아 재지 않고, 설정마다 준비 운동 뒤 ``repeats`` 번 잰 시간의
최소/중앙/최대를 적습니다. GPU 는 전용으로 빌리므로 공유 CPU 처럼 흔들리지 않기 때문입니다. 시간은
``torch.cuda.synchronize()`` 뒤에 읽습니다(:func:`benchmarks._timing.time_call`).

잴 것(데이터는 GPU 위의 합성 데이터):

* 학습 한 스텝(논문 §5 의 SGD, 책의 학습 루프와 같은 ``alexnetbook.train.train_step``): eager float32, channels_last + bf16 autocast, 그리고 그 위에 ``torch.compile``.
* 추론: 배치 1 과 64 에서 같은 세 설정.
* 이미지 한 장의 FLOP(:func:`alexnetbook.costs.count_flops`)으로 환산한 초당 FLOP 을
  (1) 같은 GPU 에서 잰 bfloat16 행렬 곱의 속도와 (2) 제조사가 밝힌 bfloat16 밀집(dense) 최고치로 나눈 비율.

결과는 ``code/alexnetbook/perf/results/gpu.json`` 에 기계 설명과 함께 저장합니다. CUDA 가 없으면 측정하지 않고 알립니다.
``--device cpu --quick`` 은 작은 크기로 코드 경로만 확인합니다(저장하지 않음, 테스트용).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

if __package__ in (None, ""):  # python benchmarks/gpu.py 로 실행할 때
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alexnetbook.costs import count_flops  # noqa: E402
from alexnetbook.models import AlexNet  # noqa: E402
from alexnetbook.perf.throughput import SpeedConfig, make_inference, make_train_step, speed_config  # noqa: E402
from benchmarks._timing import save_results, time_call  # noqa: E402
from benchmarks.training import VARIANTS, images_per_second  # noqa: E402

__all__ = ["CONFIGS", "VENDOR_BF16_DENSE_TFLOPS", "main", "matmul_ceiling", "run", "vendor_peak_tflops"]

#: GPU 에서 잴 설정(학습과 추론 공통).
CONFIGS: dict[str, SpeedConfig] = {
    "eager_fp32": speed_config(),
    "channels_last_bf16": speed_config(channels_last=True, bf16=True),
    "channels_last_bf16_compile": speed_config(channels_last=True, bf16=True, compile=True),
}

#: 제조사 자료의 bfloat16 텐서 코어 밀집 최고치(TFLOP/s). 자료의 표는 희소성(sparsity)을 쓴 값을 함께 싣는데,
#: 그것은 밀집 값의 2배이므로 여기에는 밀집 값을 적습니다. 출처: NVIDIA H200 Tensor Core GPU 자료
#: (H200 SXM 1,979 TFLOPS with sparsity), NVIDIA H100 자료(SXM 1,979 / PCIe 1,513 with sparsity),
#: NVIDIA A100 자료(312 TFLOPS dense). 이름은 ``torch.cuda.get_device_name`` 에 들어 있는 문자열로 찾습니다.
VENDOR_BF16_DENSE_TFLOPS: dict[str, float] = {
    "H200": 989.5,
    "H100 80GB HBM3": 989.5,
    "H100 PCIe": 756.5,
    "A100": 312.0,
}


def vendor_peak_tflops(device_name: str) -> float | None:
    """장치 이름에 맞는 제조사 bfloat16 밀집 최고치(TFLOP/s). 모르는 장치면 ``None``."""
    for key, value in VENDOR_BF16_DENSE_TFLOPS.items():
        if key in device_name:
            return value
    return None


def matmul_ceiling(device: str, *, size: int = 8192, repeats: int = 5) -> dict[str, Any]:
    """``size`` × ``size`` bfloat16 행렬 곱의 초당 FLOP: 이 장치에서 PyTorch 가 실제로 내는 천장."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator).to(device=device, dtype=torch.bfloat16)
    b = torch.randn(size, size, generator=generator).to(device=device, dtype=torch.bfloat16)
    timing = time_call(lambda: torch.mm(a, b), repeats=repeats, warmup=2, device=device)
    flops = 2 * size**3
    return {"size": size, "seconds": timing, "tflops_per_second_median": flops / timing["median"] / 1e12}


def _measure(make: Any, *, repeats: int, warmup: int, device: str) -> dict[str, Any]:
    """``make()`` 가 만든 함수의 첫 호출(컴파일 포함) 시간과, 준비 운동 뒤 반복 시간."""
    fn = make()
    start = time.perf_counter()
    out = fn()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    first = time.perf_counter() - start
    timing = time_call(fn, repeats=repeats, warmup=warmup, device=device)
    return {"first_call_seconds": first, "seconds": timing, "finite": bool(torch.isfinite(out.float()).all())}


def run(
    variants: Sequence[str] = tuple(VARIANTS),
    *,
    device: str = "cuda",
    train_batch_size: int = 256,
    inference_batch_sizes: Sequence[int] = (1, 64),
    image_size: int = 224,
    repeats: int = 10,
    warmup: int = 3,
    matmul_size: int = 8192,
    configs: Sequence[str] = tuple(CONFIGS),
) -> dict[str, Any]:
    """변형과 설정마다 학습 한 스텝과 추론을 재고 결과 사전을 돌려줍니다(저장하지 않음).

    Args:
        variants: ``"single_tower"`` (``AlexNet(groups=1)``)와 ``"two_tower"`` (``AlexNet(groups=2)``) 중 고른 것.
        device: 측정 장치(보통 ``"cuda"``).
        train_batch_size: 학습 배치 크기(논문은 128; GPU 를 채우려고 더 크게 둡니다).
        inference_batch_sizes: 추론 배치 크기들.
        image_size: 입력 한 변.
        repeats: 잴 반복 수.
        warmup: 재기 전에 버리는 실행 수.
        matmul_size: 천장을 잴 행렬 곱의 크기.
        configs: :data:`CONFIGS` 의 이름들.

    Returns:
        장치 이름, 천장, 변형마다 ``train[설정]`` 과 ``inference[배치][설정]`` (초당 이미지 수, 초당 TFLOP,
        천장 대비 비율, 제조사 최고치 대비 비율, 첫 호출 시간).

    Raises:
        ValueError: 모르는 변형이나 설정, 또는 CUDA 장치를 골랐는데 CUDA 가 없을 때.
    """
    unknown = [v for v in variants if v not in VARIANTS] + [c for c in configs if c not in CONFIGS]
    if unknown:
        raise ValueError(f"모르는 변형/설정: {unknown}. 변형: {tuple(VARIANTS)}, 설정: {tuple(CONFIGS)}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} 인데 CUDA 장치가 없습니다. GPU 가 있는 기계에서 실행하세요.")
    name = torch.cuda.get_device_name(torch.device(device)) if device.startswith("cuda") else "cpu"
    ceiling = matmul_ceiling(device, size=matmul_size, repeats=repeats)
    vendor = vendor_peak_tflops(name)
    result: dict[str, Any] = {
        "device_name": name, "train_batch_size": train_batch_size, "image_size": image_size, "repeats": repeats,
        "warmup": warmup, "data": "synthetic N(0,1) images on the device",
        "optimizer": "alexnetbook.train.make_optimizer(TrainConfig(lr=1e-3)): SGD(momentum=0.9, weight_decay=5e-4)",
        "step": "alexnetbook.train.train_step",
        "bf16_matmul_ceiling": ceiling, "vendor_bf16_dense_tflops": vendor, "variants": {},
    }

    def rates(measured: dict[str, Any], images: int, flops_per_image: int) -> dict[str, Any]:
        tflops = flops_per_image * images / measured["seconds"]["median"] / 1e12
        measured.update({
            "images_per_second": images_per_second(measured["seconds"], images),
            "tflops_per_second_median": tflops,
            "fraction_of_matmul_ceiling": tflops / ceiling["tflops_per_second_median"],
            "fraction_of_vendor_peak": tflops / vendor if vendor else None,
        })
        return measured

    for variant in variants:
        kwargs = VARIANTS[variant]
        train_flops = count_flops(AlexNet(**kwargs), image_size=image_size, train=True)
        forward_flops = count_flops(AlexNet(**kwargs), image_size=image_size)
        entry: dict[str, Any] = {"train_flops_per_image": train_flops, "forward_flops_per_image": forward_flops,
                                 "train": {}, "inference": {}}
        for config_name in configs:
            config = CONFIGS[config_name]
            torch.manual_seed(0)
            measured = _measure(lambda: make_train_step(AlexNet(**kwargs), config, train_batch_size,
                                                        image_size=image_size, device=device),
                                repeats=repeats, warmup=warmup, device=device)
            entry["train"][config_name] = rates(measured, train_batch_size, train_flops)
            print(f"  {variant:12s} train {config.label:45s} "
                  f"{measured['images_per_second']['median']:10.1f} img/s "
                  f"({measured['fraction_of_matmul_ceiling']:.1%} of bf16 matmul)", flush=True)
        for batch in inference_batch_sizes:
            entry["inference"][str(batch)] = {}
            for config_name in configs:
                config = CONFIGS[config_name]
                torch.manual_seed(0)
                measured = _measure(lambda: make_inference(AlexNet(**kwargs), config, batch, image_size=image_size,
                                                           device=device),
                                    repeats=repeats, warmup=warmup, device=device)
                entry["inference"][str(batch)][config_name] = rates(measured, batch, forward_flops)
                print(f"  {variant:12s} infer b={batch:<4d} {config.label:38s} "
                      f"{measured['images_per_second']['median']:10.1f} img/s", flush=True)
        result["variants"][variant] = entry
    return result


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true", help="아주 작은 크기로 한 번씩(저장하지 않음)")
    parser.add_argument("--no-save", action="store_true", help="perf/results/gpu.json 에 쓰지 않습니다")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("CUDA 장치가 없어 GPU 측정을 하지 않았습니다. 결과 파일도 쓰지 않았습니다.")
        return None
    settings: dict[str, Any] = {}
    if args.quick:
        settings = {"variants": ("two_tower",), "train_batch_size": 2, "inference_batch_sizes": (1, 2),
                    "image_size": 64, "repeats": 1, "warmup": 1, "matmul_size": 64,
                    "configs": ("eager_fp32", "channels_last_bf16")}
    result = run(device=args.device, **settings)
    if not (args.quick or args.no_save):
        print(f"saved {save_results('gpu', result, device=args.device)}")
    return result


if __name__ == "__main__":
    main()
