"""benchmarks.gpu: GPU 측정 스크립트가 CPU 에서 작은 크기로 끝까지 돌고, 결과의 모양이 맞는지."""

from __future__ import annotations

import pytest
import torch

from benchmarks import gpu


def test_vendor_peak_lookup():
    assert gpu.vendor_peak_tflops("NVIDIA H200") == 989.5
    assert gpu.vendor_peak_tflops("NVIDIA H100 PCIe") == 756.5
    assert gpu.vendor_peak_tflops("NVIDIA A100-SXM4-80GB") == 312.0
    assert gpu.vendor_peak_tflops("cpu") is None


@pytest.mark.slow
def test_quick_run_on_cpu_measures_every_config():
    result = gpu.main(["--device", "cpu", "--quick"])
    assert result is not None and result["device_name"] == "cpu"
    assert result["vendor_bf16_dense_tflops"] is None
    entry = result["variants"]["two_tower"]
    assert set(entry["train"]) == {"eager_fp32", "channels_last_bf16"}
    assert set(entry["inference"]) == {"1", "2"}
    for name, measured in entry["train"].items():
        assert measured["finite"], name
        ips = measured["images_per_second"]
        assert 0 < ips["min"] <= ips["median"] <= ips["max"]
        assert measured["fraction_of_vendor_peak"] is None
    assert entry["train_flops_per_image"] > 2 * entry["forward_flops_per_image"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="변형"):
        gpu.run(["resnet"], device="cpu")
    with pytest.raises(ValueError, match="설정"):
        gpu.run(device="cpu", configs=("fp8",))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            gpu.run(device="cuda")
        assert gpu.main(["--device", "cuda"]) is None
