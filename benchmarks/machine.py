"""측정한 기계의 설명과 그 기계가 낼 수 있는 행렬 곱 속도(GEMM 천장).

결과 JSON 의 ``machine`` (``benchmarks._timing.machine_info``)에 더해, 성능 장이 "이 CPU 의 한계" 를
말하는 데 필요한 것을 모읍니다.

* :func:`describe`: CPU 계열·모델 번호, 벡터/행렬 명령 플래그(``avx512f``, ``avx512_bf16``, ``amx_bf16`` 등),
  커널이 보고하는 클럭, 메모리, PyTorch 가 고른 CPU 커널 수준, 그리고 **측정 순간의 부하(load average)**.
  가상 기계에서는 하이퍼바이저가 모델 이름과 실제 클럭을 숨기는 일이 많으므로, 보이는 그대로 적습니다.
* :func:`gemm_ceiling`, :func:`conv_ceiling`: 큰 행렬 곱과 큰 합성곱을 float32 와 bfloat16 으로 번갈아 재어
  초당 FLOP 을 봅니다. 이론 최고치(클럭 × 코어 × 사이클당 FLOP)를 알 수 없는 기계에서, 둘 중 빠른 쪽이
  "이 기계에서 PyTorch 가 실제로 내는 연산 속도의 천장" 입니다.

실행: ``python benchmarks/machine.py`` (결과를 출력만 함).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

if __package__ in (None, ""):  # python benchmarks/machine.py 로 실행할 때
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._timing import compare, pin_threads  # noqa: E402

__all__ = ["INTERESTING_FLAGS", "conv_ceiling", "describe", "gemm_ceiling", "load_average"]

#: 결과에 적을 CPU 플래그: 벡터 폭(AVX2/AVX-512), bfloat16 내적(AVX512_BF16), 행렬 타일(AMX).
INTERESTING_FLAGS = (
    "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni", "avx512_bf16", "avx512_fp16",
    "amx_tile", "amx_bf16", "amx_int8",
)


def _cpuinfo() -> dict[str, str]:
    """``/proc/cpuinfo`` 의 첫 프로세서 항목(리눅스가 아니면 빈 사전)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    info: dict[str, str] = {}
    for line in text.split("\n\n")[0].splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            info[key.strip()] = value.strip()
    return info


def load_average() -> list[float]:
    """1분, 5분, 15분 평균 부하(실행 중이거나 기다리는 프로세스 수). 코어 수보다 크면 다른 작업과 나눠 씁니다."""
    return [round(x, 2) for x in os.getloadavg()]


def describe() -> dict[str, Any]:
    """CPU 와 PyTorch 설정, 측정 순간의 부하."""
    cpu = _cpuinfo()
    flags = set(cpu.get("flags", "").split())
    try:
        mem_total_kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                                 if line.startswith("MemTotal:")))
    except (OSError, StopIteration):
        mem_total_kib = None
    return {
        "cpu_vendor": cpu.get("vendor_id"),
        "cpu_family": cpu.get("cpu family"),
        "cpu_model_number": cpu.get("model"),
        "cpu_model_name": cpu.get("model name"),
        "cpu_mhz_reported": float(cpu["cpu MHz"]) if "cpu MHz" in cpu else None,
        "hypervisor": "hypervisor" in flags,
        "flags": {flag: flag in flags for flag in INTERESTING_FLAGS},
        "memory_gib": round(mem_total_kib / 2**20, 1) if mem_total_kib else None,
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkldnn_bf16_supported": bool(getattr(torch.backends.mkldnn, "is_available", lambda: False)())
        and bool(getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)()),
        "torch_threads": torch.get_num_threads(),
        "omp_num_threads_env": os.environ.get("OMP_NUM_THREADS"),
        "load_average": load_average(),
    }


def _gflops(flops: int, timing: dict[str, float]) -> dict[str, float]:
    """초 단위 시간 요약을 GFLOP/s 요약으로 바꿉니다(시간이 짧을수록 큼)."""
    return {"min": flops / timing["max"] / 1e9, "median": flops / timing["median"] / 1e9,
            "max": flops / timing["min"] / 1e9}


def gemm_ceiling(size: int = 2048, *, repeats: int = 5, warmup: int = 1, threads: int | None = None) -> dict[str, Any]:
    """``size``×``size`` 행렬 곱의 초당 FLOP 을 float32 와 bfloat16 으로 번갈아 잽니다.

    Returns:
        ``float32``/``bfloat16`` 의 GFLOP/s (최소/중앙/최대)와, 같은 실행 안의 비율 ``bf16_speedup``
        (float32 시간 / bfloat16 시간)의 요약.
    """
    threads = pin_threads(threads)
    generator = torch.Generator().manual_seed(0)
    a32 = torch.randn(size, size, generator=generator)
    b32 = torch.randn(size, size, generator=generator)
    a16, b16 = a32.bfloat16(), b32.bfloat16()
    timing = compare(lambda: a16 @ b16, lambda: a32 @ b32, repeats=repeats, warmup=warmup)
    flops = 2 * size**3
    return {"size": size, "threads": threads, "flops_per_call": flops,
            "float32_gflops": _gflops(flops, timing["reference"]), "bfloat16_gflops": _gflops(flops, timing["candidate"]),
            "bf16_speedup": timing["speedup"], "timing": timing}


def conv_ceiling(batch_size: int = 64, *, repeats: int = 5, warmup: int = 1, threads: int | None = None) -> dict[str, Any]:
    """AlexNet conv3 모양의 합성곱(3×3, 256 → 384 채널, 13×13, channels_last)의 초당 FLOP 을 잽니다.

    PyTorch 는 CPU 합성곱을 oneDNN 으로, float32 행렬 곱을 MKL 로 계산하므로 두 라이브러리의 속도가 다를 수
    있습니다. 그래서 행렬 곱(:func:`gemm_ceiling`)과 함께 이것도 재어, 둘 중 빠른 쪽을 천장으로 씁니다.
    """
    threads = pin_threads(threads)
    generator = torch.Generator().manual_seed(0)
    x32 = torch.randn(batch_size, 256, 13, 13, generator=generator).contiguous(memory_format=torch.channels_last)
    w32 = torch.randn(384, 256, 3, 3, generator=generator).contiguous(memory_format=torch.channels_last)
    x16, w16 = x32.bfloat16(), w32.bfloat16()
    timing = compare(lambda: F.conv2d(x16, w16, padding=1), lambda: F.conv2d(x32, w32, padding=1),
                     repeats=repeats, warmup=warmup)
    flops = 2 * batch_size * 13 * 13 * 384 * 256 * 3 * 3
    return {"shape": f"input ({batch_size}, 256, 13, 13), weight (384, 256, 3, 3), padding 1, channels_last",
            "threads": threads, "flops_per_call": flops,
            "float32_gflops": _gflops(flops, timing["reference"]), "bfloat16_gflops": _gflops(flops, timing["candidate"]),
            "bf16_speedup": timing["speedup"], "timing": timing}


if __name__ == "__main__":
    import json

    print(json.dumps({"machine": describe(), "gemm": gemm_ceiling(), "conv": conv_ceiling()}, indent=2,
                     ensure_ascii=False))
