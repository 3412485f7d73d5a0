"""alexnetbook.config 의 테스트: 논문 기본값, 이름 있는 설정, 잘못된 값, 바꿀 수 없음."""

from __future__ import annotations

import dataclasses

import pytest

from alexnetbook import train
from alexnetbook.config import TrainConfig


def test_the_loop_uses_the_one_config_class():
    assert train.TrainConfig is TrainConfig


def test_default_config_is_the_paper_recipe():
    cfg = TrainConfig()
    assert (cfg.batch_size, cfg.lr, cfg.momentum, cfg.weight_decay, cfg.lr_factor, cfg.max_lr_drops) == (
        128, 0.01, 0.9, 5e-4, 0.1, 3,
    )
    assert cfg.epochs == 90
    assert TrainConfig.preset("paper") == cfg
    assert not (cfg.channels_last or cfg.bf16 or cfg.fused_sgd or cfg.compile)


def test_tiny_preset_and_overrides():
    tiny = TrainConfig.preset("tiny")
    assert tiny.epochs < 5 and tiny.train_subset is not None and tiny.val_subset is not None
    assert (tiny.lr, tiny.momentum, tiny.weight_decay) == (0.01, 0.9, 5e-4)
    assert TrainConfig.preset("tiny", epochs=5).epochs == 5
    with pytest.raises(ValueError, match="preset"):
        TrainConfig.preset("huge")
    with pytest.raises(ValueError, match="없는 필드"):
        TrainConfig.preset("tiny", learning_rate=0.1)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"epochs": 0}, ValueError, "epochs"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"lr": float("nan")}, ValueError, "lr"),
        ({"momentum": 1.0}, ValueError, "momentum"),
        ({"lr_factor": 1.0}, ValueError, "lr_factor"),
        ({"batch_size": 2.5}, TypeError, "batch_size"),
        ({"epochs": True}, TypeError, "epochs"),
        ({"train_subset": 0}, ValueError, "train_subset"),
        ({"seed": -1}, ValueError, "seed"),
        ({"resume": True}, ValueError, "checkpoint_dir"),
        ({"bf16": 1}, TypeError, "bf16"),
        ({"eval_batch_size": 0}, ValueError, "eval_batch_size"),
    ],
)
def test_bad_config_raises_naming_the_field(kwargs, error, name):
    with pytest.raises(error, match=name):
        TrainConfig(**kwargs)


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainConfig().lr = 0.1  # type: ignore[misc]
