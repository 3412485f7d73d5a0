"""alexnetbook.experiments.relu_vs_tanh (논문 그림 1 재현)의 테스트.

학습률 탐색의 논리는 가짜 학습 함수로, 곡선 읽기는 손으로 만든 곡선으로 확인하고, 실제 학습은 합성 이미지
몇십 장으로만 돌립니다.
"""

from __future__ import annotations

import pytest
import torch

from alexnetbook.data import data_root
from alexnetbook.experiments import relu_vs_tanh as rvt
from alexnetbook.seeds import run_seeds

HAS_CIFAR_SUBSET = (data_root() / "cifar10-subset" / "train").is_dir()

#: 합성 이미지용 작은 설정: 64장, 배치 16 → 한 에폭 4스텝, 반 에폭마다 오류율 측정.
TINY = rvt.Setting("cifar10", per_class=1, target=0.3, shared_lr=0.003, lrs=(0.001, 0.003, 0.01, 0.03),
                   max_epochs=3, eval_size=32, batch_size=16)


@pytest.fixture(scope="module")
def blobs():
    """클래스마다 평균 패턴이 다른 8×8 합성 이미지 64장(0–255 척도 흉내). 몇 스텝이면 배울 수 있습니다."""
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(64) % 4
    patterns = torch.randn(4, 3, 8, 8, generator=g) * 80
    images = patterns[labels] + torch.randn(64, 3, 8, 8, generator=g) * 20
    return images, labels


def fake_run(activation: str, lr: float, cap: float, value: float | None, setting: rvt.Setting = TINY) -> rvt.Run:
    """목표에 ``value`` 에폭에 닿는(``None`` 이면 ``cap`` 까지 닿지 못하는) 곡선."""
    if value is None:
        return rvt.Run(activation, lr, setting.target, cap, (0.0, float(cap)), (0.9, 0.8))
    return rvt.Run(activation, lr, setting.target, cap, (0.0, value), (0.9, setting.target))


# --- 곡선 읽기 ----------------------------------------------------------------------------------------------


def test_epochs_to_target_interpolates_between_the_two_measurements_around_the_crossing():
    epochs, errors = (0.0, 0.5, 1.0, 1.5), (0.9, 0.7, 0.5, 0.4)
    assert rvt.epochs_to_target(epochs, errors, 0.6) == pytest.approx(0.75)
    assert rvt.epochs_to_target(epochs, errors, 0.45) == pytest.approx(1.25)
    assert rvt.epochs_to_target(epochs, errors, 0.5) == 1.0  # 측정값이 목표와 같으면 그 측정의 때
    assert rvt.epochs_to_target(epochs, errors, 0.95) == 0.0  # 처음부터 목표 이하
    assert rvt.epochs_to_target(epochs, errors, 0.3) is None


def test_epochs_to_target_uses_the_first_crossing_even_if_the_curve_rises_again():
    assert rvt.epochs_to_target((0, 1, 2, 3), (0.9, 0.5, 0.7, 0.2), 0.6) == pytest.approx(0.75)


def test_epochs_to_target_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="epochs"):
        rvt.epochs_to_target((0.0, 0.5), (0.9,), 0.5)


def test_run_text_and_looser_levels():
    run = rvt.Run("tanh", 0.01, 0.5, 4, (0.0, 1.0, 2.0), (0.9, 0.6, 0.5))
    assert run.epochs_to_target == 2.0 and run.text() == "2.0"
    assert run.epochs_to(0.6) == 1.0 and run.epochs_to(0.75) == pytest.approx(0.5)
    assert rvt.Run("tanh", 0.01, 0.5, 4.2, (0.0, 4.0, 4.5), (0.9, 0.8, 0.7)).text() == "> 4.5"
    assert rvt.Run("relu", 0.1, 0.5, 4, (0.0,), (0.9,), diverged=True).text() == "발산"


# --- 설정과 인자 검사 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, error, name",
    [
        (dict(dataset="imagenet"), ValueError, "dataset"),
        (dict(per_class=0), ValueError, "per_class"),
        (dict(per_class=True), TypeError, "per_class"),
        (dict(target=1.0), ValueError, "target"),
        (dict(target=0.0), ValueError, "target"),
        (dict(lrs=(0.003, -0.01)), ValueError, r"lrs\[1\]"),
        (dict(shared_lr=0.02), ValueError, "shared_lr"),
        (dict(max_epochs=2.5), TypeError, "max_epochs"),
        (dict(momentum=1.0), ValueError, "momentum"),
    ],
)
def test_setting_rejects_bad_arguments_by_name(change, error, name):
    fields = dict(dataset="cifar10", per_class=10, target=0.5, shared_lr=0.003, lrs=(0.003, 0.01), max_epochs=4)
    with pytest.raises(error, match=name):
        rvt.Setting(**{**fields, **change})


def test_book_settings_put_the_shared_lr_inside_the_grid():
    for name, setting in rvt.SETTINGS.items():
        assert setting.dataset == name and setting.shared_lr in setting.lrs


def test_train_to_target_rejects_bad_arguments(blobs):
    images, labels = blobs
    with pytest.raises(ValueError, match="cap"):
        rvt.train_to_target(0, "relu", images, labels, lr=0.01, setting=TINY, cap=0.0)
    with pytest.raises(TypeError, match="labels"):
        rvt.train_to_target(0, "relu", images, labels.float(), lr=0.01, setting=TINY, cap=1)
    with pytest.raises(TypeError, match="images"):
        rvt.train_to_target(0, "relu", images.to(torch.uint8), labels, lr=0.01, setting=TINY, cap=1)
    with pytest.raises(ValueError, match="activation"):
        rvt.train_to_target(0, "gelu", images, labels, lr=0.01, setting=TINY, cap=1)
    with pytest.raises(ValueError, match="seed"):
        rvt.paper_init_cnn("relu", -1)


# --- 학습률 탐색(가짜 학습 함수) ----------------------------------------------------------------------------


def patch_trainer(monkeypatch, table: dict[float, float | None]) -> list[tuple[float, float]]:
    """``train_to_target`` 을 학습률 → 목표까지의 에폭 표로 바꿉니다. 불린 (학습률, cap) 을 기록합니다."""
    calls: list[tuple[float, float]] = []

    def fake(seed, activation, images, labels, *, lr, setting, cap):
        calls.append((lr, cap))
        value = table[lr]
        return fake_run(activation, lr, cap, value if value is not None and value <= cap else None, setting)

    monkeypatch.setattr(rvt, "train_to_target", fake)
    return calls


def test_search_walks_up_while_it_improves(monkeypatch):
    setting = rvt.Setting("cifar10", per_class=1, target=0.3, shared_lr=0.003, lrs=(0.001, 0.003, 0.01, 0.03),
                          max_epochs=20)
    calls = patch_trainer(monkeypatch, {0.001: 9.0, 0.003: None, 0.01: 4.6, 0.03: 3.1})
    runs = rvt.search_lr(0, "tanh", None, None, setting)
    # 공통 학습률이 상한 안에 못 닿았으므로 다음 실행의 상한도 max_epochs, 그다음은 지금까지의 최선 4.6
    assert calls == [(0.003, 20), (0.01, 20), (0.03, 4.6)]
    assert [r.lr for r in runs] == [0.003, 0.01, 0.03] and runs[-1].epochs_to_target == 3.1


def test_search_caps_each_run_at_the_rounded_up_best(monkeypatch):
    setting = rvt.Setting("cifar10", per_class=1, target=0.3, shared_lr=0.003, lrs=(0.001, 0.003, 0.01, 0.03, 0.1),
                          max_epochs=20)
    calls = patch_trainer(monkeypatch, {0.001: 15.0, 0.003: 8.2, 0.01: 4.6, 0.03: 5.5, 0.1: 2.0})
    runs = rvt.search_lr(0, "tanh", None, None, setting)
    # 0.01 이 나아졌으므로 0.03 (상한 4.6 까지 못 닿음)에서 멈추고, 작은 쪽과 0.1 은 보지 않습니다.
    assert calls == [(0.003, 20), (0.01, 8.2), (0.03, 4.6)]
    assert min((r for r in runs if r.epochs_to_target), key=lambda r: r.epochs_to_target).lr == 0.01


def test_search_goes_down_only_when_going_up_did_not_help(monkeypatch):
    setting = rvt.Setting("cifar10", per_class=1, target=0.3, shared_lr=0.01, lrs=(0.001, 0.003, 0.01, 0.03),
                          max_epochs=20)
    calls = patch_trainer(monkeypatch, {0.001: 7.0, 0.003: 3.5, 0.01: 4.2, 0.03: 6.0})
    rvt.search_lr(0, "relu", None, None, setting)
    assert calls == [(0.01, 20), (0.03, 4.2), (0.003, 4.2), (0.001, 3.5)]


def test_a_run_that_ties_the_best_does_not_count_as_an_improvement(monkeypatch):
    setting = rvt.Setting("cifar10", per_class=1, target=0.3, shared_lr=0.003, lrs=(0.001, 0.003, 0.01), max_epochs=9)
    calls = patch_trainer(monkeypatch, {0.001: 5.0, 0.003: 5.0, 0.01: 5.0})
    rvt.search_lr(0, "relu", None, None, setting)
    assert calls == [(0.003, 9), (0.01, 5.0), (0.001, 5.0)]


# --- 시드 여러 개의 요약 ------------------------------------------------------------------------------------


def comparison(values: dict[str, list[list[tuple[float, float | None]]]]) -> rvt.Comparison:
    """시드마다, 활성화 함수마다 (학습률, 에폭) 실행 목록으로 :class:`Comparison` 을 만듭니다(첫 실행이 공통 학습률)."""
    seeds = range(len(values["relu"]))
    runs = tuple({a: [fake_run(a, lr, 20, v) for lr, v in values[a][s]] for a in rvt.ACTIVATIONS} for s in seeds)
    return rvt.Comparison(TINY, tuple(seeds), runs)


def test_comparison_picks_shared_and_best_runs_per_seed_and_summarises_ratios():
    result = comparison({
        "relu": [[(0.003, 2.0), (0.01, None)], [(0.003, 3.0), (0.01, 2.5)]],
        "tanh": [[(0.003, 8.0), (0.01, 4.0)], [(0.003, 6.0), (0.01, 3.0), (0.03, 3.5)]],
    })
    assert [r.lr for r in result.pick("shared", "tanh")] == [0.003, 0.003]
    assert [r.lr for r in result.pick("best", "relu")] == [0.003, 0.01]
    assert [r.lr for r in result.pick("best", "tanh")] == [0.01, 0.01]
    shared = result.summary("shared")
    assert shared.values == (4.0, 2.0) and shared.all_positive()
    assert result.summary("best").values == pytest.approx((2.0, 3.0 / 2.5))
    assert result.summary("best", "tanh").values == (4.0, 3.0)
    assert result.summary("shared", "relu", level=0.6).values == (1.0, 1.5)  # 곡선의 중간: 에폭도 절반
    assert "(b)" in result.table() and "2.00" in result.table()
    with pytest.raises(ValueError, match="protocol"):
        result.pick("median", "relu")


def test_summary_refuses_runs_that_never_reached_the_level():
    result = comparison({"relu": [[(0.003, 2.0)]], "tanh": [[(0.003, None)]]})
    assert "> 20" in result.table() and "발산" not in result.table()
    with pytest.raises(ValueError, match="닿지 못해"):
        result.summary("shared")


def test_compare_splits_the_work_into_one_search_per_seed_and_activation(monkeypatch):
    calls = []

    def fake(seed, activation, images, labels, setting):
        calls.append((seed, activation))
        return [fake_run(activation, setting.shared_lr, 20, float(seed), setting)]

    monkeypatch.setattr(rvt, "search_lr", fake)
    monkeypatch.setenv("ALEXNETBOOK_SEED_PROCESSES", "1")  # 가짜 함수는 이 프로세스 안에서만 보입니다
    result = rvt.compare(TINY, (5, 2, 7), None, None)
    assert calls == [(5, "relu"), (5, "tanh"), (2, "relu"), (2, "tanh"), (7, "relu"), (7, "tanh")]
    assert result.seeds == (5, 2, 7)
    assert [[runs[a][0].epochs_to_target for a in ("relu", "tanh")] for runs in result.runs] == [[5, 5], [2, 2], [7, 7]]
    assert all(runs[a][0].activation == a for runs in result.runs for a in rvt.ACTIVATIONS)
    for seeds in ((), (1, 1)):
        with pytest.raises(ValueError, match="seeds"):
            rvt.compare(TINY, seeds, None, None)


# --- 실제 학습(합성 이미지) ---------------------------------------------------------------------------------


def test_paper_init_shares_weights_between_activations_and_differs_between_seeds():
    relu, tanh, other = rvt.paper_init_cnn("relu", 3), rvt.paper_init_cnn("tanh", 3), rvt.paper_init_cnn("relu", 4)
    for (name, p), q, r in zip(relu.named_parameters(), tanh.parameters(), other.parameters()):
        assert torch.equal(p, q)
        if name.endswith("bias"):
            assert not p.any()
        else:
            assert not torch.equal(p, r)
    weights = torch.cat([p.flatten() for n, p in relu.named_parameters() if n.endswith("weight")])
    assert weights.std().item() == pytest.approx(0.01, rel=0.05)


def test_train_to_target_measures_every_half_epoch_and_stops_at_the_target(blobs):
    images, labels = blobs
    run = rvt.train_to_target(0, "relu", images, labels, lr=0.01, setting=TINY, cap=3)
    assert run.epochs == tuple(0.5 * i for i in range(len(run.epochs))) and len(run.epochs) >= 3
    assert run.errors[0] > 0.5 and not run.diverged
    assert run.errors[-1] <= TINY.target < min(run.errors[:-1])  # 처음 닿은 측정에서 멈춥니다
    assert run.epochs_to_target == pytest.approx(rvt.epochs_to_target(run.epochs, run.errors, TINY.target))


def test_train_to_target_stops_at_the_first_measurement_after_the_cap(blobs):
    images, labels = blobs
    run = rvt.train_to_target(0, "relu", images, labels, lr=1e-4, setting=TINY, cap=1.2)
    assert run.epochs == (0.0, 0.5, 1.0, 1.5) and run.epochs_to_target is None and run.text() == "> 1.5"


def test_train_to_target_reports_divergence(blobs):
    images, labels = blobs
    run = rvt.train_to_target(0, "relu", images * 1e4, labels, lr=10.0, setting=TINY, cap=2)
    assert run.diverged and run.epochs_to_target is None and run.text() == "발산"


def test_initial_layer_stats_show_tanh_saturating_on_the_0_255_scale(blobs):
    images, labels = blobs
    stats = rvt.initial_layer_stats(images, labels)
    relu, tanh = stats["relu"], stats["tanh"]
    assert len(relu) == len(tanh) == 3
    assert relu[0]["input_std"] == pytest.approx(tanh[0]["input_std"])  # 같은 초기 가중치, 같은 첫 층 입력
    assert tanh[0]["saturated"] > 0.05 and all(row["saturated"] == 0.0 for row in relu)
    assert tanh[0]["output_std"] < 1.0 < tanh[0]["input_std"]
    assert all(row["weight_grad_norm"] > 0 for row in relu + tanh)
    quiet = rvt.initial_layer_stats(images / 255, labels)  # [-1, 1] 척도에서는 포화하지 않습니다
    assert all(row["saturated"] == 0.0 for row in quiet["tanh"])
    # 편향이 0인 ReLU 신경망은 양의 동차 함수라서 입력을 1/255배 하면 신호도 1/255배입니다.
    for raw, small in zip(relu, quiet["relu"]):
        assert small["input_std"] == pytest.approx(raw["input_std"] / 255, rel=1e-4)
        assert small["mean_grad"] == pytest.approx(raw["mean_grad"])


@pytest.mark.slow
def test_compare_gives_bit_identical_results_with_one_or_two_processes(blobs, monkeypatch):
    images, labels = blobs
    setting = rvt.Setting("cifar10", per_class=1, target=0.3, shared_lr=0.01, lrs=(0.01, 0.03), max_epochs=2,
                          eval_size=32, batch_size=16)
    monkeypatch.setenv("ALEXNETBOOK_SEED_PROCESSES", "2")
    parallel = rvt.compare(setting, [0, 1], images, labels)
    serial = run_seeds(rvt.run_seed, [0, 1], images, labels, setting, processes=1)
    assert parallel.runs == tuple(serial) and parallel.seeds == (0, 1)
    assert serial[0] != serial[1]  # 시드가 다르면 곡선도 다릅니다
    assert [r.lr for r in parallel.pick("shared", "tanh")] == [0.01, 0.01]


@pytest.mark.skipif(not HAS_CIFAR_SUBSET, reason="CIFAR-10 오프라인 사본(ALEXNETBOOK_DATA/cifar10-subset)이 없습니다.")
def test_load_data_keeps_the_paper_scale():
    setting = rvt.Setting("cifar10", per_class=3, target=0.5, shared_lr=0.01, lrs=(0.01,), max_epochs=1)
    images, labels = rvt.load_data(setting)
    assert images.shape == (30, 3, 32, 32) and images.dtype == torch.float32
    assert torch.bincount(labels).tolist() == [3] * 10 and labels[:10].tolist() == list(range(10))
    assert images.mean(dim=0).abs().max() < 1e-3 and images.std() > 20  # 평균만 뺐고 0–255 척도 그대로
    scaled, _ = rvt.load_data(setting, scale=1 / 255)
    torch.testing.assert_close(scaled, images / 255)
