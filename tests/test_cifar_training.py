"""alexnetbook.experiments.cifar_training 의 테스트(아주 작은 입력으로)."""

from __future__ import annotations

import pytest
import torch

from alexnetbook.data import data_root
from alexnetbook.experiments.cifar_training import (
    input_dependence,
    load_cifar_tensors,
    make_model,
    momentum_trajectories,
)


def test_update_rules_agree_until_the_learning_rate_changes():
    lrs = [0.1] * 6 + [0.01] * 4
    paper, pytorch = momentum_trajectories(lrs)
    assert len(paper) == len(pytorch) == len(lrs)
    assert max(abs(a - b) for a, b in zip(paper[:6], pytorch[:6])) < 1e-12
    assert all(abs(a - b) > 1e-3 for a, b in zip(paper[6:], pytorch[6:]))


def test_update_rules_agree_for_constant_learning_rate_with_weight_decay():
    paper, pytorch = momentum_trajectories([0.05] * 30, weight_decay=0.1, curvature=2.0, w0=-3.0)
    assert max(abs(a - b) for a, b in zip(paper, pytorch)) < 1e-12


def test_hand_computed_first_steps():
    """v1 = -ε(1 + λ)w0, w1 = w0 + v1; v2 = μ v1 - ε(1 + λ) w1 (곡률 1)."""
    paper, _ = momentum_trajectories([0.1, 0.1], momentum=0.9, weight_decay=0.0, w0=1.0)
    v1 = -0.1
    w1 = 1.0 + v1
    v2 = 0.9 * v1 - 0.1 * w1
    assert paper == pytest.approx([w1, w1 + v2], abs=1e-15)


def test_paper_init_output_barely_depends_on_input():
    images = torch.randn(16, 3, 28, 28, generator=torch.Generator().manual_seed(0)) * 60
    paper = input_dependence(make_model("paper", seed=0), images)
    default = input_dependence(make_model("pytorch", seed=0), images)
    assert list(paper) == ["relu1", "relu2", "relu3", "relu4", "relu5", "relu6", "relu7", "fc8"]
    assert paper["fc8"] < 1e-2 < default["fc8"]
    assert 0.0 <= paper["relu1"] <= 2.0


def test_make_model_and_input_dependence_validate():
    with pytest.raises(ValueError, match="init"):
        make_model("xavier")
    with pytest.raises(ValueError, match="두 장 이상"):
        input_dependence(make_model(), torch.zeros(1, 3, 28, 28))
    model = make_model("pytorch", seed=3, channels=(4, 8, 8, 8, 8), hidden_features=8)
    assert model.features.conv1.out_channels == 4 and model.classifier.fc6.in_features == 8 * 2 * 2
    again = make_model("pytorch", seed=3, channels=(4, 8, 8, 8, 8), hidden_features=8)
    assert torch.equal(model.features.conv1.weight, again.features.conv1.weight)


@pytest.mark.skipif(not (data_root() / "cifar10-subset").is_dir(), reason="오프라인 CIFAR-10 사본이 없음")
def test_load_cifar_tensors_small_slice():
    xtr, ytr, xva, yva = load_cifar_tensors(per_class_train=2, per_class_val=1)
    assert xtr.shape == (20, 3, 32, 32) and xtr.dtype == torch.uint8
    assert xva.shape == (10, 3, 32, 32)
    assert sorted(ytr.tolist()) == sorted(list(range(10)) * 2)
    assert sorted(yva.tolist()) == list(range(10))
