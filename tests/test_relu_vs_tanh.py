"""alexnetbook.experiments.relu_vs_tanh (논문 그림 1 재현) 의 테스트. 실제 이미지의 아주 작은 조각으로 돌립니다."""

from __future__ import annotations

import math

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from alexnetbook.data import FASHION_MNIST_SYSTEM_DIR, data_root  # noqa: E402
from alexnetbook.experiments import relu_vs_tanh as rvt  # noqa: E402

HAS_CIFAR_SUBSET = (data_root() / "cifar10-subset" / "train").is_dir()
TINY_MODEL = dict(channels=(8, 8, 16), kernel_size=3)
TINY = dict(TINY_MODEL, batch_size=8)


@pytest.fixture(scope="module")
def tiny():
    """CIFAR-10 에서 클래스마다 8장(80장). 오프라인 사본이 없으면 건너뜁니다(내려받지 않음)."""
    if not HAS_CIFAR_SUBSET:
        pytest.skip("CIFAR-10 오프라인 사본(ALEXNETBOOK_DATA/cifar10-subset)이 없습니다.")
    return rvt.load_images("cifar10", per_class=8)


def test_load_images_applies_paper_preprocessing(tiny):
    images, labels = tiny
    assert images.shape == (80, 3, 32, 32) and images.dtype == torch.float32
    assert labels.shape == (80,) and labels.dtype == torch.int64
    assert torch.bincount(labels).tolist() == [8] * 10
    # 평균 이미지만 뺐으므로 픽셀마다 평균이 0이고, 0–255 척도가 그대로 남습니다(표준편차로 나누지 않음).
    assert images.mean(dim=0).abs().max() < 1e-3
    assert images.std() > 20


@pytest.mark.skipif(not FASHION_MNIST_SYSTEM_DIR.is_dir(), reason="Fashion-MNIST 시스템 사본이 없습니다.")
def test_load_images_fashion_mnist():
    images, labels = rvt.load_images("fashion-mnist", per_class=3)
    assert images.shape == (30, 1, 28, 28)
    assert torch.bincount(labels).tolist() == [3] * 10
    model = rvt.paper_init_cnn("tanh", in_channels=1, image_size=28, **TINY_MODEL)
    assert model(images).shape == (30, 10)


def test_load_images_rejects_unknown_dataset():
    with pytest.raises(ValueError, match="dataset"):
        rvt.load_images("imagenet")


@pytest.mark.parametrize("activation, module", [("relu", torch.nn.ReLU), ("tanh", torch.nn.Tanh), ("sigmoid", torch.nn.Sigmoid)])
def test_four_layer_cnn_structure(activation, module):
    model = rvt.FourLayerCNN(activation)
    learned = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert len(learned) == 4
    assert sum(isinstance(m, module) for m in model.modules()) == 3
    assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 10)
    assert model.flat_features == 32 * 4 * 4


def test_four_layer_cnn_odd_size_and_grey():
    model = rvt.FourLayerCNN("relu", in_channels=1, image_size=28, num_classes=7)
    assert model.flat_features == 32 * 3 * 3  # 28 -> 14 -> 7 -> 3
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 7)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(activation="gelu"), "activation"),
        (dict(channels=(8, 8)), "channels"),
        (dict(channels=(8, 0, 8)), "channels"),
        (dict(kernel_size=4), "kernel_size"),
        (dict(image_size=6), "size"),
    ],
)
def test_four_layer_cnn_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rvt.FourLayerCNN(**kwargs)


def test_paper_init_is_normal_001_and_shared_between_activations():
    relu = rvt.paper_init_cnn("relu", seed=3)
    tanh = rvt.paper_init_cnn("tanh", seed=3)
    for (name, p), q in zip(relu.named_parameters(), tanh.parameters()):
        assert torch.equal(p, q), name
        if name.endswith("bias"):
            assert torch.count_nonzero(p) == 0
    weights = torch.cat([p.flatten() for n, p in relu.named_parameters() if n.endswith("weight")])
    assert weights.std().item() == pytest.approx(0.01, rel=0.05)
    other = rvt.paper_init_cnn("relu", seed=4)
    assert not torch.equal(relu.fc4.weight, other.fc4.weight)


def test_initial_layer_stats_shows_tanh_saturation(tiny):
    images, _ = tiny
    stats = rvt.initial_layer_stats(images, **TINY_MODEL)
    relu, tanh = stats["relu"], stats["tanh"]
    assert len(relu) == len(tanh) == 3
    # 같은 초기 가중치이므로 첫 층에 들어가는 값은 같습니다.
    assert relu[0]["input_std"] == pytest.approx(tanh[0]["input_std"])
    assert tanh[0]["saturated"] > 0.05 and relu[0]["saturated"] == 0.0
    assert all(0.0 <= r["mean_grad"] <= 1.0 for r in relu + tanh)
    assert tanh[0]["output_std"] < 1.0 < relu[0]["output_std"]
    with pytest.raises(ValueError, match="정사각형"):
        rvt.initial_layer_stats(images[:, :, :, :30])  # (N, 3, 32, 30): 정사각형이 아님


def test_train_until_reaches_target_and_is_deterministic(tiny):
    images, labels = tiny
    # 10개 클래스에서 오류율 99% 이하는 거의 확실히 첫 에폭에 닿습니다: 멈추는 규칙을 확인합니다.
    a = rvt.train_until("relu", images, labels, lr=0.003, target=0.99, max_epochs=6, **TINY)
    b = rvt.train_until("relu", images, labels, lr=0.003, target=0.99, max_epochs=6, **TINY)
    assert a == b
    assert a.status == "reached"
    assert a.epochs_to_target == len(a.train_errors) == 1
    assert a.train_errors[-1] <= 0.99
    assert a.epochs_text() == str(a.epochs_to_target)


def test_train_until_stops_at_max_epochs(tiny):
    images, labels = tiny
    r = rvt.train_until("tanh", images, labels, lr=1e-4, target=0.01, max_epochs=2, **TINY)
    assert r.status == "max_epochs" and r.epochs_to_target is None
    assert len(r.train_errors) == 2 and r.epochs_text() == "> 2"
    assert all(0.0 <= e <= 1.0 for e in r.train_errors)


def test_train_until_reports_divergence(tiny):
    images, labels = tiny
    # 이만큼 큰 학습률이면 첫 걸음에서 가중치가 넘쳐 손실이 inf/NaN 이 됩니다.
    r = rvt.train_until("relu", images, labels, lr=1e30, target=0.5, max_epochs=3, **TINY)
    assert r.status == "diverged" and r.epochs_to_target is None and r.epochs_text() == "발산"


def test_train_until_eval_size_only_changes_the_measurement(tiny):
    images, labels = tiny
    full = rvt.train_until("tanh", images, labels, lr=0.01, target=0.01, max_epochs=2, eval_size=None, **TINY)
    same = rvt.train_until("tanh", images, labels, lr=0.01, target=0.01, max_epochs=2, eval_size=1000, **TINY)
    part = rvt.train_until("tanh", images, labels, lr=0.01, target=0.01, max_epochs=2, eval_size=20, **TINY)
    assert full.train_errors == same.train_errors  # 1,000 > 80장이면 전부를 잽니다
    assert all(abs(e * 20 - round(e * 20)) < 1e-9 for e in part.train_errors)  # 20장에서 잰 비율
    with pytest.raises(ValueError, match="eval_size"):
        rvt.train_until("tanh", images, labels, lr=0.01, target=0.5, max_epochs=1, eval_size=0)


def test_train_until_zero_epochs_and_bad_arguments(tiny):
    images, labels = tiny
    assert rvt.train_until("relu", images, labels, lr=0.01, target=0.5, max_epochs=0).status == "pruned"
    with pytest.raises(ValueError, match="target"):
        rvt.train_until("relu", images, labels, lr=0.01, target=1.5, max_epochs=1)
    with pytest.raises(ValueError, match="정사각형"):
        rvt.train_until("relu", images[:, :, :, :30], labels, lr=0.01, target=0.5, max_epochs=1)
    with pytest.raises(ValueError, match="max_epochs"):
        rvt.train_until("relu", images, labels, lr=0.01, target=0.5, max_epochs=-1)


def fake_trainer(needed: dict[str, dict[float, int | None]], calls: list):
    """``train_until`` 대신 쓰는 가짜: (활성화, 학습률)마다 목표까지 필요한 에폭 수가 정해져 있습니다."""

    def train(activation, images, labels, *, lr, max_epochs, target, **kwargs):
        calls.append((activation, lr, max_epochs))
        n = needed[activation][lr]
        if max_epochs == 0:
            return rvt.RunResult(activation, lr, [], None, "pruned", 0)
        if n is not None and n <= max_epochs:
            return rvt.RunResult(activation, lr, [0.9] * (n - 1) + [target], n, "reached", max_epochs)
        return rvt.RunResult(activation, lr, [0.9] * max_epochs, None, "max_epochs", max_epochs)

    return train


def test_lr_search_walks_outward_and_prunes(monkeypatch):
    needed = {
        # ReLU: 공통 학습률이 가장 좋음 -> 큰 쪽 한 칸, 작은 쪽 한 칸만 보고 멈춥니다.
        "relu": {0.001: 12, 0.003: 8, 0.01: 9, 0.03: None, 0.1: None},
        # tanh: 공통 학습률로는 상한 안에 못 닿고, 큰 쪽으로 갈수록 빨라지다 0.1 에서 나빠집니다.
        "tanh": {0.001: None, 0.003: None, 0.01: 12, 0.03: 8, 0.1: 9},
    }
    calls: list = []
    monkeypatch.setattr(rvt, "train_until", fake_trainer(needed, calls))
    images, labels = torch.zeros(4, 3, 32, 32), torch.arange(4)
    result = rvt.run_relu_vs_tanh(images=images, labels=labels, max_epochs=30)
    assert calls == [
        ("relu", 0.003, 30), ("relu", 0.01, 7), ("relu", 0.001, 7),
        ("tanh", 0.003, 30), ("tanh", 0.01, 30), ("tanh", 0.03, 11), ("tanh", 0.1, 7),
    ]
    assert result.best("relu").lr == 0.003 and result.best("relu").epochs_to_target == 8
    assert result.best("tanh").lr == 0.03 and result.best("tanh").epochs_to_target == 8
    assert [r.status for r in result.runs] == ["reached", "pruned", "pruned", "max_epochs", "reached", "reached", "pruned"]
    assert result.grid == (0.003, 0.001, 0.01, 0.03, 0.1)
    lines = result.grid_table().splitlines()
    assert len(lines) == 1 + 5
    assert lines[1].split() == ["0.001", ">", "7", "-"]
    table = result.table()
    assert "(a) 같은 학습률" in table and "> 3.8" in table  # tanh 가 30 에폭 안에 못 닿음: 비는 30/8 초과
    assert "(b) 각자 최선의 학습률" in table and table.rstrip().endswith("1.0")
    # 최선이 1 에폭이면 다음 실행은 0 에폭 상한이라 학습하지 않고 곧바로 멈춥니다.
    calls.clear()
    needed["relu"] = {0.001: 1, 0.003: 1, 0.01: 1, 0.03: 1, 0.1: 1}
    result = rvt.run_relu_vs_tanh(
        images=images, labels=labels, lrs=(0.003, 0.01), max_epochs=30, activations=("relu", "relu"),
    )
    assert calls[:2] == [("relu", 0.003, 30), ("relu", 0.01, 0)]
    assert result.best("relu").lr == 0.003


def test_lr_search_on_real_images_prunes_consistently(tiny):
    images, labels = tiny
    lrs = (0.003, 0.01, 0.03)
    result = rvt.run_relu_vs_tanh(
        images=images, labels=labels, shared_lr=0.003, lrs=lrs, target=0.85, max_epochs=6, **TINY,
    )
    assert result.num_images == 80 and result.shared_lr == 0.003
    for activation in ("relu", "tanh"):
        mine = [r for r in result.runs if r.activation == activation]
        assert mine[0].lr == 0.003 and mine[0].epoch_cap == 6
        reached = [r.epochs_to_target for r in mine if r.epochs_to_target is not None]
        best = result.best(activation)
        assert best.epochs_to_target == (min(reached) if reached else None)
        for r in mine:
            # 같은 시드라면 중단된 실행은 끝까지 돌린 실행의 앞부분과 똑같습니다.
            full = rvt.train_until(activation, images, labels, lr=r.lr, target=0.85, max_epochs=6, **TINY)
            assert r.train_errors == full.train_errors[: len(r.train_errors)]
            if r.status == "pruned" and best.epochs_to_target is not None:
                assert full.epochs_to_target is None or full.epochs_to_target >= best.epochs_to_target
    protocols = result.protocols()
    assert [r.lr for r in protocols["(a) 같은 학습률"]] == [0.003, 0.003]
    assert protocols["(b) 각자 최선의 학습률"] == (result.best("relu"), result.best("tanh"))
    with pytest.raises(KeyError):
        result.run("relu", 0.5)


def test_ratio_text():
    def run(epochs, cap=30):
        return rvt.RunResult("x", 0.1, [], epochs, "reached" if epochs else "max_epochs", cap)

    ratio = rvt.ReluVsTanhResult.ratio_text
    assert ratio(run(5), run(26)) == "5.2"
    assert ratio(run(5), run(None, cap=30)) == "> 6.0"
    assert ratio(run(None, cap=30), run(15)) == "< 0.5"
    assert ratio(run(None), run(None)) == "알 수 없음"
    assert math.isclose(26 / 5, float(ratio(run(5), run(26))), rel_tol=0.01)


def test_run_relu_vs_tanh_rejects_bad_arguments(tiny):
    images, labels = tiny
    with pytest.raises(ValueError, match="학습률"):
        rvt.run_relu_vs_tanh(images=images, labels=labels, lrs=(0.01, -1.0))
    with pytest.raises(ValueError, match="max_epochs"):
        rvt.run_relu_vs_tanh(images=images, labels=labels, max_epochs=0)
    with pytest.raises(ValueError, match="함께"):
        rvt.run_relu_vs_tanh(images=images)


def test_plot_curves(tiny):
    images, labels = tiny
    result = rvt.run_relu_vs_tanh(
        images=images, labels=labels, shared_lr=0.003, lrs=(0.003,), target=0.8, max_epochs=3, **TINY,
    )
    fig, axes = plt.subplots(1, 2)
    rvt.plot_curves(result, axes)
    for ax in axes:
        curves = [line for line in ax.get_lines() if line.get_marker() == "."]
        assert len(curves) == 2
        assert ax.get_xlabel() == "에폭"
    assert axes[0].get_ylabel() == "학습 세트 오류율 (%)"
    relu_line = [line for line in axes[0].get_lines() if line.get_marker() == "."][0]
    assert list(relu_line.get_ydata()) == [100 * e for e in result.run("relu", 0.003).train_errors]
    with pytest.raises(ValueError, match="축 두 개"):
        rvt.plot_curves(result, axes[:1])
    plt.close(fig)
