"""benchmarks/: 번갈아 재기, 결과 저장, 학습 측정의 비교 구조, 시드 측정의 vmap 재료가 옳은지(시간은 재지 않음)."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from alexnetbook.perf.measurements import cpu_training_speed
from alexnetbook.train import TrainConfig
from benchmarks import _timing, seeds, training
from benchmarks._workers import StepWorker

#: 측정의 구조만 보는 테스트가 쓰는 좁은 AlexNet(층 구성은 같고 채널과 FC 뉴런만 적음).
TINY_ALEXNET = {"channels": (8, 16, 16, 16, 16), "hidden_features": 32}


def test_alternate_reports_time_ratios_against_the_reference(monkeypatch):
    # 벽시계 대신 팔(arm)이 부를 때만 가는 가짜 시계: 부하와 상관없이 비율이 정확히 정해집니다.
    clock = [0.0]
    monkeypatch.setattr(_timing.time, "perf_counter", lambda: clock[0])
    calls = []

    def arm(name: str, seconds: float):
        def fn() -> None:
            calls.append(name)
            clock[0] += seconds

        return fn

    result = _timing.alternate({"fast": arm("fast", 1.0), "slow": arm("slow", 5.0)}, "fast", repeats=3,
                               warmup=lambda: calls.append("warmup"))
    assert calls == ["warmup"] + ["fast", "slow"] * 3  # 반복마다 차례로 한 번씩
    assert result["time_ratio"]["fast"]["median"] == 1.0
    assert result["time_ratio"]["slow"]["min"] == result["time_ratio"]["slow"]["max"] == 5.0
    assert result["seconds"]["slow"]["repeats"] == 3
    with pytest.raises(ValueError, match="reference"):
        _timing.alternate({"a": lambda: None}, "b")


def test_save_results_writes_one_complete_json_file(tmp_path, monkeypatch):
    monkeypatch.setattr(_timing, "RESULTS_DIR", tmp_path / "results")
    path = _timing.save_results("demo", {"x": [1, 2]})
    assert path == tmp_path / "results" / "demo.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["benchmark"] == "demo" and data["results"] == {"x": [1, 2]} and "cpu_model" in data["machine"]
    assert [p.name for p in path.parent.iterdir()] == ["demo.json"]  # 임시 파일이 남지 않음


def test_results_go_to_the_package_data_folder():
    assert _timing.RESULTS_DIR.parts[-4:] == ("code", "alexnetbook", "perf", "results")
    assert (_timing.RESULTS_DIR / "__init__.py").is_file()


def test_every_comparison_names_a_baseline_and_every_technique_meets_the_books_baseline():
    assert all(baseline in training.BASELINES for _, baseline in training.COMPARISONS)
    against = training._candidates(training.COMPARISONS)
    assert against["eager_fp32"] == ["stock_fp32"]
    assert against["all_eager"] == ["eager_fp32", "stock_fp32"]
    singles = [c for c, b in against.items() if b == ["eager_fp32"]]
    assert set(singles) == {"channels_last", "bf16_autocast", "fused_sgd", "retain_memory", "compile"}


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_tiny_training_run_has_the_structure_the_book_reads(monkeypatch):
    # 구조만 보므로 두 타워 AlexNet 을 좁혀(채널과 FC 뉴런을 줄여) 작업자 셋의 준비와 스텝을 가볍게 합니다.
    monkeypatch.setitem(training.VARIANTS, "two_tower", {**training.VARIANTS["two_tower"], **TINY_ALEXNET})
    result = training.run(["two_tower"], ["eager_fp32", "all_eager"], batch_size=1, repeats=1, warmup=0,
                          image_size=64, threads=1)
    entry = result["variants"]["two_tower"]
    assert set(entry["configs"]) == {"eager_fp32", "all_eager"}
    assert set(entry["configs"]["all_eager"]["against"]) == {"eager_fp32", "stock_fp32"}
    assert entry["best"]["config"] == "all_eager" and entry["repeats"] == 1
    assert all(c["finite"] for c in entry["configs"].values())
    data = {"machine": {"cpu_model": "here"}, "results": result}
    monkeypatch.setattr("alexnetbook.perf.measurements.load_results", lambda name: data)
    speed = cpu_training_speed("two_tower")
    assert speed.best_label == entry["configs"]["all_eager"]["label"] and speed.batch_size == 1


def test_vmapped_training_matches_torch_sgd_per_seed_in_float64():
    """시드 측정의 vmap 재료(손으로 쓴 모멘텀 SGD)는 시드마다 torch.optim.SGD 로 따로 학습한 것과 같습니다."""
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(40, 3, 32, 32, generator=generator, dtype=torch.float64)
    labels = torch.randint(0, 10, (40,), generator=generator)
    config = TrainConfig(epochs=1, batch_size=16, lr=0.05, progress=False, verbose=False)
    stacked = seeds.train_vmapped((0, 1), images, labels, config)
    for i, seed in enumerate((0, 1)):
        model = seeds._model(seed).double()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
        order = torch.randperm(40, generator=torch.Generator().manual_seed(seed))
        for start in range(0, 40, 16):  # 16, 16, 8
            index = order[start:start + 16]
            optimizer.zero_grad()
            F.cross_entropy(model(images[index]), labels[index]).backward()
            optimizer.step()
        for name, p in model.named_parameters():
            torch.testing.assert_close(stacked[name][i], p.detach(), rtol=1e-10, atol=1e-12, msg=name)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_worker_trains_on_real_pipeline_batches_and_on_synthetic_ones():
    """끝까지 재는 작업자는 자기 안의 JPEG 파이프라인 배치와 같은 수의 합성 배치로 각각 학습합니다."""
    with StepWorker("eager_fp32", {"groups": 1, **TINY_ALEXNET}, 1, threads=1, loader_batches=2) as worker:
        real, synthetic = worker.real_pass(), worker.synthetic_pass()
        assert torch.isfinite(torch.tensor([real, synthetic])).all()
        assert worker.last_minor_faults >= 0


def test_worker_without_a_pipeline_refuses_a_real_pass_before_sending_a_command():
    # 확인은 주 프로세스 쪽에서 명령을 보내기 전에 하므로, 작업 프로세스를 띄우지 않은 객체로 확인합니다.
    worker = StepWorker.__new__(StepWorker)
    worker.loader_batches = 0
    with pytest.raises(RuntimeError, match="loader_batches"):
        worker.real_pass()
