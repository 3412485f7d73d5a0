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


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """아주 작은 신경망은 스레드 하나가 더 빠르고, 다른 작업과 CPU 를 나눌 때도 덜 느려집니다."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
TINY_MODEL = dict(channels=(8, 8, 16), kernel_size=3)
TINY = dict(TINY_MODEL, batch_size=8)


@pytest.fixture(scope="module")
def tiny():
    """CIFAR-10 에서 클래스마다 4장(40장). 오프라인 사본이 없으면 건너뜁니다(내려받지 않음).

    배치 8 이면 한 에폭이 5걸음이라 학습하는 테스트도 몇 초 안에 끝납니다.
    """
    if not HAS_CIFAR_SUBSET:
        pytest.skip("CIFAR-10 오프라인 사본(ALEXNETBOOK_DATA/cifar10-subset)이 없습니다.")
    return rvt.load_images("cifar10", per_class=4)


def test_load_images_applies_paper_preprocessing(tiny):
    images, labels = tiny
    assert images.shape == (40, 3, 32, 32) and images.dtype == torch.float32
    assert labels.shape == (40,) and labels.dtype == torch.int64
    assert torch.bincount(labels).tolist() == [4] * 10
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
        (dict(channels=(8, 8, 8, 8)), "channels"),
        (dict(kernel_size=4), "kernel_size"),
        (dict(kernel_size=0), "kernel_size"),
        (dict(image_size=6), "image_size"),
        (dict(in_channels=0), "in_channels"),
        (dict(num_classes=1), "num_classes"),
    ],
)
def test_four_layer_cnn_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rvt.FourLayerCNN(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(in_channels=3.0), "in_channels"),
        (dict(num_classes="10"), "num_classes"),
        (dict(image_size=32.0), "image_size"),
        (dict(kernel_size=3.0), "kernel_size"),
        (dict(kernel_size=True), "kernel_size"),
        (dict(channels=(8, 8.0, 8)), r"channels\[1\]"),
    ],
)
def test_four_layer_cnn_rejects_wrong_types(kwargs, match):
    with pytest.raises(TypeError, match=match):
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
    images, labels = tiny
    stats = rvt.initial_layer_stats(images, labels, **TINY_MODEL)
    relu, tanh = stats["relu"], stats["tanh"]
    assert len(relu) == len(tanh) == 3
    # 같은 초기 가중치이므로 첫 층에 들어가는 값은 같습니다.
    assert relu[0]["input_std"] == pytest.approx(tanh[0]["input_std"])
    assert tanh[0]["saturated"] > 0.05 and relu[0]["saturated"] == 0.0
    assert all(0.0 <= r["mean_grad"] <= 1.0 for r in relu + tanh)
    assert tanh[0]["output_std"] < 1.0 < relu[0]["output_std"]
    # 위 층의 입력은 tanh 신경망 쪽이 작습니다(첫 층 출력이 ±1 안으로 눌림).
    assert all(t["input_std"] < r["input_std"] for r, t in zip(relu[1:], tanh[1:]))
    # 가중치 기울기의 노름은 같은 시드의 신경망에서 직접 역전파한 값과 같아야 합니다.
    for name in ("relu", "tanh"):
        model = rvt.paper_init_cnn(name, **TINY_MODEL)
        torch.nn.functional.cross_entropy(model(images), labels).backward()
        for i, row in enumerate(stats[name], start=1):
            expected = getattr(model.features, f"conv{i}").weight.grad.norm().item()
            assert row["weight_grad_norm"] == pytest.approx(expected, rel=1e-5)
            assert row["weight_grad_norm"] > 0
    with pytest.raises(ValueError, match="정사각형"):
        rvt.initial_layer_stats(images[:, :, :, :30], labels)  # (N, 3, 32, 30): 정사각형이 아님
    with pytest.raises(ValueError, match="labels"):
        rvt.initial_layer_stats(images, labels[:-1])
    with pytest.raises(ValueError, match="activations"):
        rvt.initial_layer_stats(images, labels, activations=("relu", "gelu"))


def test_train_until_uses_num_classes_not_labels(tiny, monkeypatch):
    images, labels = tiny
    built = []
    real = rvt.paper_init_cnn

    def spy(*args, **kwargs):
        built.append(real(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(rvt, "paper_init_cnn", spy)
    # 레이블은 0..9 뿐이지만, num_classes=12 면 출력이 12개인 신경망을 학습합니다.
    r = rvt.train_until("relu", images, labels, lr=0.003, target=0.99, max_epochs=1, num_classes=12, **TINY)
    assert r.status == "reached"
    assert [m.fc4.out_features for m in built] == [12]


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
    assert full.train_errors == same.train_errors  # 1,000 > 40장이면 전부를 잽니다
    assert all(abs(e * 20 - round(e * 20)) < 1e-9 for e in part.train_errors)  # 20장에서 잰 비율
    with pytest.raises(ValueError, match="eval_size"):
        rvt.train_until("tanh", images, labels, lr=0.01, target=0.5, max_epochs=1, eval_size=0)


def test_train_until_zero_epochs_and_bad_arguments(tiny):
    images, labels = tiny
    assert rvt.train_until("relu", images, labels, lr=0.01, target=0.5, max_epochs=0).status == "pruned"
    # 클래스 수는 레이블에서 짐작하지 않습니다: 레이블이 범위를 벗어나면 학습 전에 알립니다.
    with pytest.raises(ValueError, match="num_classes"):
        rvt.train_until("relu", images, labels, lr=0.01, target=0.5, max_epochs=1, num_classes=5)
    with pytest.raises(ValueError, match="labels"):
        rvt.train_until("relu", images, labels - 1, lr=0.01, target=0.5, max_epochs=1)
    with pytest.raises(ValueError, match="labels"):
        rvt.train_until("relu", images, labels[:10], lr=0.01, target=0.5, max_epochs=1)
    with pytest.raises(TypeError, match="labels"):
        rvt.train_until("relu", images, labels.float(), lr=0.01, target=0.5, max_epochs=1)
    with pytest.raises(ValueError, match="activation"):
        rvt.train_until("gelu", images, labels, lr=0.01, target=0.5, max_epochs=0)
    with pytest.raises(ValueError, match="lr"):
        rvt.train_until("relu", images, labels, lr=0.0, target=0.5, max_epochs=1)
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
        images=images, labels=labels, shared_lr=0.003, lrs=lrs, target=0.8, max_epochs=4, **TINY,
    )
    assert result.num_images == 40 and result.shared_lr == 0.003
    for activation in ("relu", "tanh"):
        mine = [r for r in result.runs if r.activation == activation]
        assert mine[0].lr == 0.003 and mine[0].epoch_cap == 4
        reached = [r.epochs_to_target for r in mine if r.epochs_to_target is not None]
        best = result.best(activation)
        assert best.epochs_to_target == (min(reached) if reached else None)
        for r in mine:
            # 같은 시드라면 중단된 실행은 끝까지 돌린 실행의 앞부분과 똑같습니다.
            full = rvt.train_until(activation, images, labels, lr=r.lr, target=0.8, max_epochs=4, **TINY)
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


def test_run_relu_vs_tanh_rejects_bad_arguments(tiny, monkeypatch):
    images, labels = tiny
    calls: list = []
    monkeypatch.setattr(rvt, "train_until", lambda *args, **kwargs: calls.append(args))
    with pytest.raises(ValueError, match="학습률"):
        rvt.run_relu_vs_tanh(images=images, labels=labels, lrs=(0.01, -1.0))
    with pytest.raises(ValueError, match="max_epochs"):
        rvt.run_relu_vs_tanh(images=images, labels=labels, max_epochs=0)
    with pytest.raises(ValueError, match="함께"):
        rvt.run_relu_vs_tanh(images=images)
    # 활성화 함수 이름은 학습을 시작하기 전에 모두 확인합니다(첫 신경망을 학습한 뒤에 실패하지 않음).
    with pytest.raises(ValueError, match=r"activations\[1\]"):
        rvt.run_relu_vs_tanh(images=images, labels=labels, activations=("relu", "gelu"))
    with pytest.raises(ValueError, match="두 개"):
        rvt.run_relu_vs_tanh(images=images, labels=labels, activations=("relu", "tanh", "sigmoid"))
    with pytest.raises(ValueError, match="num_classes"):
        rvt.run_relu_vs_tanh(images=images, labels=labels, num_classes=4)
    with pytest.raises(ValueError, match="target"):
        rvt.run_relu_vs_tanh(images=images, labels=labels, target=0.0)
    with pytest.raises(ValueError, match="kernel_size"):
        rvt.run_relu_vs_tanh(images=images, labels=labels, kernel_size=2)
    # 데이터를 읽기도 전에(dataset 을 열지 않고) 이름을 확인합니다.
    with pytest.raises(ValueError, match=r"activations\[0\]"):
        rvt.run_relu_vs_tanh(dataset="no-such-dataset", activations=("gelu", "tanh"))
    assert calls == []


def test_plot_curves():
    # 그림은 학습 없이 정해 둔 기록으로 확인합니다.
    relu_a = rvt.RunResult("relu", 0.003, [0.9, 0.6, 0.45], 3, "reached", 10)
    tanh_a = rvt.RunResult("tanh", 0.003, [0.95, 0.8, 0.7, 0.6], None, "max_epochs", 4)
    tanh_b = rvt.RunResult("tanh", 0.03, [0.85, 0.4], 2, "reached", 10)
    result = rvt.ReluVsTanhResult(
        runs=[relu_a, tanh_a, tanh_b], shared_lr=0.003, target=0.5, max_epochs=10, dataset="cifar10",
        num_images=40, grid=(0.003, 0.03),
    )
    fig, axes = plt.subplots(1, 2)
    rvt.plot_curves(result, axes)
    for ax in axes:
        curves = [line for line in ax.get_lines() if line.get_marker() == "."]
        assert len(curves) == 2
        assert ax.get_xlabel() == "에폭"
    assert axes[0].get_ylabel() == "학습 세트 오류율 (%)"
    a_lines = [line for line in axes[0].get_lines() if line.get_marker() == "."]
    b_lines = [line for line in axes[1].get_lines() if line.get_marker() == "."]
    assert list(a_lines[0].get_ydata()) == [100 * e for e in relu_a.train_errors]
    assert list(a_lines[1].get_ydata()) == [100 * e for e in tanh_a.train_errors]
    assert list(b_lines[1].get_ydata()) == [100 * e for e in tanh_b.train_errors]  # (b) 는 tanh 의 최선
    assert a_lines[1].get_linestyle() == "--" and a_lines[0].get_linestyle() == "-"
    assert "> 4 에폭" in a_lines[1].get_label()
    with pytest.raises(ValueError, match="축 두 개"):
        rvt.plot_curves(result, axes[:1])
    plt.close(fig)


def test_epochs_to_finds_first_epoch_at_or_below():
    run = rvt.RunResult("tanh", 0.003, [0.9, 0.56, 0.57, 0.54, 0.5], 5, "reached", 10)
    assert run.epochs_to(0.6) == 2
    assert run.epochs_to(0.55) == 4  # 0.57 로 다시 올라가도 처음 닿은 에폭
    assert run.epochs_to(0.5) == 5 == run.epochs_to_target
    assert run.epochs_to(0.4) is None


def test_threshold_table_shows_how_the_ratio_depends_on_the_target():
    relu = rvt.RunResult("relu", 0.003, [0.8, 0.58, 0.52, 0.49], 4, "reached", 40)
    # tanh 는 55% 근처에서 오래 머뭅니다(평평한 꼬리).
    tanh = rvt.RunResult("tanh", 0.003, [0.9, 0.7, 0.6, 0.55] + [0.53] * 10 + [0.5], 15, "reached", 40)
    result = rvt.ReluVsTanhResult(
        runs=[relu, tanh], shared_lr=0.003, target=0.5, max_epochs=40, dataset="cifar10", num_images=40,
    )
    lines = result.threshold_table().splitlines()
    assert lines[1].split() == ["오류율", "≤", "60%", "2", "3", "1.5"]
    assert lines[2].split() == ["오류율", "≤", "55%", "3", "4", "1.3"]
    assert lines[3].split() == ["오류율", "≤", "50%", "4", "15", "3.8"]
    # tanh 가 목표에 못 닿았으면 목표 기준은 "> 상한" 이고, 느슨한 기준은 닿은 에폭을 셉니다.
    tanh_short = rvt.RunResult("tanh", 0.003, [0.9, 0.7, 0.6, 0.55], None, "max_epochs", 4)
    result.runs = [relu, tanh_short]
    lines = result.threshold_table((0.05, 0.0)).splitlines()
    assert lines[1].split() == ["오류율", "≤", "55%", "3", "4", "1.3"]
    assert lines[2].split() == ["오류율", "≤", "50%", "4", ">", "4", ">", "1.0"]
    with pytest.raises(ValueError, match="offsets"):
        result.threshold_table((-0.1,))
