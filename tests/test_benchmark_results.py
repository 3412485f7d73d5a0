"""alexnetbook.perf.measurements: 패키지와 함께 배포한 측정 결과를 인터넷 없이 읽고, 책이 인용하는 하나의 CPU
학습 속도를 올바르게 꺼내는지."""

from __future__ import annotations

import copy

import pytest

from alexnetbook.perf import measurements
from alexnetbook.perf.measurements import available, cpu_training_speed, load_results

#: 장들이 읽는 결과 파일(``make bench`` 가 만듦).
CHAPTER_RESULTS = {"suite", "pooling", "lrn", "training", "inference", "pipeline", "seeds"}


def test_shipped_results_are_all_there_and_name_their_benchmark():
    assert CHAPTER_RESULTS <= set(available())
    for name in available():
        data = load_results(name)
        assert data["benchmark"] == name
        assert {"cpu_model", "torch", "torch_threads"} <= set(data["machine"])


def test_shipped_training_results_have_both_baselines_for_every_variant():
    """성능 장은 비교마다 기준이 무엇인지 읽습니다: 두 기준과, 기준마다 견준 후보가 있어야 합니다."""
    results = load_results("training")["results"]
    assert set(results["variants"]) == {"single_tower", "two_tower"}
    assert set(results["baselines"]) == {"eager_fp32", "stock_fp32"}
    for entry in results["variants"].values():
        configs = entry["configs"]
        assert set(configs["eager_fp32"]["against"]) == {"stock_fp32"}
        assert set(configs["all_eager"]["against"]) == {"eager_fp32", "stock_fp32"}
        assert all(c["finite"] for c in configs.values())


def fake_training() -> dict:
    """기준 eager 100 img/s 근처, 속도 비율이 가장 큰 후보 all_eager(2.5배)인 가짜 결과."""

    def compared(ips: float, baseline: float, speedup: float) -> dict:
        return {"images_per_second": {"median": ips}, "baseline_images_per_second": {"median": baseline},
                "speedup": {"median": speedup}}

    configs = {
        "eager_fp32": {"label": "eager float32", "against": {"stock_fp32": compared(100.0, 40.0, 2.6)}},
        "fused_sgd": {"label": "fused SGD", "against": {"eager_fp32": compared(300.0, 98.0, 1.1)}},  # 부하가 낮을 때 잼
        "channels_last": {"label": "channels_last", "against": {"eager_fp32": compared(120.0, 104.0, 1.2)}},
        "all_eager": {"label": "four", "against": {"eager_fp32": compared(200.0, 100.0, 2.5),
                                                  "stock_fp32": compared(400.0, 41.0, 9.0)}},
    }
    return {"machine": {"cpu_model": "Test CPU"},
            "results": {"batch_size": 32, "threads": 2,
                        "baselines": {"eager_fp32": "eager float32", "stock_fp32": "stock"},
                        "variants": {"single_tower": {"model": "AlexNet({'groups': 1})", "configs": configs}}}}


def test_cpu_training_speed_reads_only_comparisons_against_the_books_baseline(monkeypatch):
    data = fake_training()
    monkeypatch.setattr(measurements, "load_results", lambda name: copy.deepcopy(data))
    speed = cpu_training_speed()
    assert speed.baseline_images_per_second == 100.0  # 98, 100, 104 의 중앙값(기준 stock 의 40 은 아님)
    # 가장 빠른 설정은 절대 속도(fused SGD 의 300)가 아니라 이 책의 기준에 대한 비율로 고르고(stock 에 대한 9.0 은 아님),
    # 그 속도는 기준 속도 × 비율입니다.
    assert (speed.best_label, speed.best_images_per_second) == ("four", 250.0)
    assert speed.batch_size == 32 and "Test CPU" in speed.cpu and speed.model.startswith("한 타워")
    assert speed.epoch_hours(images=250 * 3600) == pytest.approx(1.0)
    assert speed.epoch_hours(images=250 * 3600, best=False) == pytest.approx(2.5)
    with pytest.raises(KeyError, match="two_tower"):
        cpu_training_speed("two_tower")
    with pytest.raises(ValueError, match="variant"):
        cpu_training_speed("seed")


def test_shipped_cpu_training_speed_is_a_speed_up():
    speed = cpu_training_speed()
    assert speed.best_images_per_second > speed.baseline_images_per_second > 0
    assert speed.epoch_hours() < speed.epoch_hours(best=False)


def test_missing_file_says_how_to_make_it():
    with pytest.raises(FileNotFoundError, match="make bench"):
        load_results("absent")


@pytest.mark.parametrize(("bad", "error"), [("", ValueError), ("../secrets", ValueError), ("a/b", ValueError),
                                            (".hidden", ValueError), (3, TypeError)])
def test_bad_names(bad, error):
    with pytest.raises(error, match="name"):
        load_results(bad)
