"""alexnetbook.experiments.training (학습 장의 실험 도우미) 의 테스트. 학습 루프 자체는 tests/test_train.py 가 봅니다."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from alexnetbook.batches import TensorImageDataset
from alexnetbook.models import AlexNet
from alexnetbook.small_cnn import SmallCNN
from alexnetbook.train import TrainConfig
from alexnetbook.experiments.training import (
    compare_inits,
    init_history,
    input_dependence,
    lr_drop_epochs,
    make_model,
    momentum_trajectories,
    stop_after_drop,
)

TINY = {"channels": (4, 8, 8, 8, 8), "hidden_features": 16}


# --- 모멘텀 갱신 식: 논문 §5 대 torch.optim.SGD ------------------------------------------------------


def test_update_rules_agree_for_constant_learning_rate_with_weight_decay():
    paper, pytorch = momentum_trajectories([0.05] * 30, weight_decay=0.1, curvature=2.0, w0=-3.0)
    assert len(paper) == len(pytorch) == 30
    assert max(abs(a - b) for a, b in zip(paper, pytorch)) < 1e-12


def test_update_rules_differ_right_after_a_learning_rate_drop():
    lrs = [0.1] * 6 + [0.01] * 4
    paper, pytorch = momentum_trajectories(lrs)
    assert max(abs(a - b) for a, b in zip(paper[:6], pytorch[:6])) < 1e-12
    assert all(abs(a - b) > 1e-3 for a, b in zip(paper[6:], pytorch[6:]))


def test_first_step_after_drop_matches_the_derivation():
    """드롭 직후 첫 스텝의 차이 = (ε_old − ε_new)·μ·b (b 는 PyTorch 의 모멘텀 버퍼)."""
    mu, lam, old, new = 0.9, 5e-4, 0.1, 0.01
    paper, pytorch = momentum_trajectories([old] * 5 + [new], momentum=mu, weight_decay=lam)
    # PyTorch: w5 = w4 − ε_old·b5 이므로 b5 = (w4 − w5)/ε_old. 드롭 직후 두 식의 차이는 v6 − (−ε_new·b6).
    b5 = (pytorch[3] - pytorch[4]) / old
    expected = -(old - new) * mu * b5
    assert paper[5] - pytorch[5] == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_hand_computed_first_steps():
    """v1 = −ε(1 + λ)w0, w1 = w0 + v1; v2 = μ v1 − ε(1 + λ) w1 (곡률 1, λ = 0)."""
    paper, _ = momentum_trajectories([0.1, 0.1], momentum=0.9, weight_decay=0.0, w0=1.0)
    v1 = -0.1
    w1 = 1.0 + v1
    v2 = 0.9 * v1 - 0.1 * w1
    assert paper == pytest.approx([w1, w1 + v2], abs=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"lrs": []}, ValueError, "lrs"),
        ({"lrs": [0.1, -0.1]}, ValueError, "lrs"),
        ({"lrs": [0.1], "momentum": 1.0}, ValueError, "momentum"),
        ({"lrs": [0.1], "weight_decay": -1.0}, ValueError, "weight_decay"),
        ({"lrs": [0.1], "curvature": "1"}, TypeError, "curvature"),
    ],
)
def test_momentum_trajectories_validates(kwargs, error, name):
    lrs = kwargs.pop("lrs")
    with pytest.raises(error, match=name):
        momentum_trajectories(lrs, **kwargs)


# --- 모델과 초기화 ---------------------------------------------------------------------------------------


def test_make_model_size_and_seed():
    model = make_model("pytorch", seed=3, **TINY)
    assert isinstance(model, AlexNet)
    assert model.features.conv1.out_channels == 4 and model.classifier.fc6.in_features == 8 * 2 * 2
    assert model(torch.zeros(2, 3, 28, 28)).shape == (2, 10)
    again = make_model("pytorch", seed=3, **TINY)
    assert torch.equal(model.features.conv1.weight, again.features.conv1.weight)
    other = make_model("pytorch", seed=4, **TINY)
    assert not torch.equal(model.features.conv1.weight, other.features.conv1.weight)


def test_paper_init_biases_and_weight_scale():
    model = make_model("paper", seed=0, **TINY)
    layers = {name.rsplit(".", 1)[-1]: m for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}
    ones = {"conv2", "conv4", "conv5", "fc6", "fc7"}
    assert all(torch.all(layers[n].bias == (1.0 if n in ones else 0.0)) for n in layers)
    weights = torch.cat([m.weight.detach().flatten() for m in layers.values()])
    assert abs(float(weights.std()) - 0.01) < 1e-3


def test_make_model_validates():
    with pytest.raises(ValueError, match="init"):
        make_model("xavier")


def test_paper_init_output_barely_depends_on_input():
    images = torch.randn(16, 3, 28, 28, generator=torch.Generator().manual_seed(0)) * 60
    paper = input_dependence(make_model("paper", seed=0), images)
    default = input_dependence(make_model("pytorch", seed=0), images)
    assert list(paper) == ["relu1", "relu2", "relu3", "relu4", "relu5", "relu6", "relu7", "fc8"]
    assert paper["fc8"] < 1e-2 < default["fc8"]
    assert 0.0 <= paper["relu1"] <= 2.0


def test_input_dependence_is_zero_for_identical_images():
    image = torch.randn(1, 3, 28, 28, generator=torch.Generator().manual_seed(1)) * 60
    stats = input_dependence(make_model("pytorch", seed=0, **TINY), image.expand(4, -1, -1, -1))
    assert all(v == pytest.approx(0.0, abs=1e-12) for v in stats.values())


def test_input_dependence_validates():
    model = make_model("pytorch", seed=0, **TINY)
    with pytest.raises(ValueError, match="images"):
        input_dependence(model, torch.zeros(1, 3, 28, 28))
    with pytest.raises(ValueError, match="images"):
        input_dependence(model, torch.zeros(3, 28, 28))
    with pytest.raises(TypeError, match="model"):
        input_dependence(SmallCNN(image_size=28), torch.zeros(2, 3, 28, 28))


# --- 학습률 기록과 멈추기 -------------------------------------------------------------------------------


def test_lr_drop_epochs_reads_the_record():
    lrs = [0.01, 0.01, 0.001, 0.001, 0.0001]
    history = [{"epoch": e, "lr": lr} for e, lr in enumerate(lrs, start=1)]
    assert lr_drop_epochs(history) == [3, 5]
    assert lr_drop_epochs(history[:2]) == []
    assert lr_drop_epochs([]) == []


def test_stop_after_drop_counts_epochs_at_the_lower_rate():
    stop = stop_after_drop(0.01, 2)
    decisions = [stop({"epoch": e, "lr": lr}) for e, lr in enumerate([0.01, 0.01, 0.001, 0.001, 0.001], start=1)]
    assert decisions == [False, False, False, True, True]
    with pytest.raises(ValueError, match="epochs_after"):
        stop_after_drop(0.01, 0)
    with pytest.raises(ValueError, match="initial_lr"):
        stop_after_drop(0.0, 1)


# --- 시드마다 부르는 학습 한 번 -------------------------------------------------------------------------


def test_init_history_is_reproducible_and_uses_the_seed():
    g = torch.Generator().manual_seed(0)
    data = TensorImageDataset(torch.randn(24, 3, 28, 28, generator=g) * 60, torch.arange(24) % 10)
    config = TrainConfig(epochs=1, batch_size=8, seed=123, progress=False, verbose=True)
    first = init_history(0, "pytorch", data, data, config)
    again = init_history(0, "pytorch", data, data, config)
    other = init_history(1, "pytorch", data, data, config)
    assert len(first) == 1 and set(first[0]) >= {"train_loss", "val_top1"}
    assert first == again
    assert first[0]["train_loss"] != other[0]["train_loss"]
    with pytest.raises(TypeError, match="config"):
        init_history(0, "pytorch", data, data, {"epochs": 1})


def test_compare_inits_pairs_both_inits_on_the_same_seed():
    g = torch.Generator().manual_seed(1)
    data = TensorImageDataset(torch.randn(16, 3, 28, 28, generator=g) * 60, torch.arange(16) % 10)
    config = TrainConfig(epochs=1, batch_size=8, progress=False, verbose=False)
    pair = compare_inits(2, data, data, config)
    assert list(pair) == ["paper", "pytorch"]
    assert pair["paper"] == init_history(2, "paper", data, data, config)
    assert pair["paper"][0]["train_loss"] != pair["pytorch"][0]["train_loss"]
