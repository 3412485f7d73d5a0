"""alexnetbook.experiments.dropout_overfit: 신경망의 배치, 시드 하나의 비교, 여러 시드의 재현성을 작은 데이터로 확인합니다."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from alexnetbook import data
from alexnetbook.dropout import Dropout
from alexnetbook.experiments.dropout_overfit import (
    SETTINGS,
    DropoutRun,
    classifier_head,
    epochs_to_reach,
    load_data,
    run_seed,
)
from alexnetbook.seeds import run_seeds

needs_cifar = pytest.mark.skipif(
    not (data.data_root() / "cifar10-subset").is_dir(),
    reason="offline CIFAR-10 subset not found (set ALEXNETBOOK_DATA)",
)


def tiny_data(classes: int = 3, per_class: int = 6) -> tuple[torch.Tensor, ...]:
    """클래스마다 평균이 다른 작은 무작위 이미지: 학습 ``classes·per_class`` 장, 검증 ``classes·2`` 장."""
    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(classes).repeat(per_class)
    images = torch.randn(len(labels), 3, 4, 4, generator=gen) + labels[:, None, None, None].float()
    val_labels = torch.arange(classes).repeat(2)
    val_images = torch.randn(len(val_labels), 3, 4, 4, generator=gen) + val_labels[:, None, None, None].float()
    return images, labels, val_images, val_labels


TINY = dict(hidden_features=8, epochs=3, lr=0.05, batch_size=4)


def test_dropout_sits_after_the_fc6_and_fc7_relus_only():
    head = classifier_head(12, 8, 3, p=0.5, mode="paper")
    assert [name for name, _ in head.named_children()] == [
        "flatten", "fc6", "relu6", "drop6", "fc7", "relu7", "drop7", "fc8"]
    assert isinstance(head.drop6, Dropout) and head.drop6.mode == "paper" and head.drop6.p == 0.5
    assert isinstance(head.drop7, Dropout)
    assert sum(isinstance(m, Dropout) for m in head.modules()) == 2  # fc8 의 출력에는 없음
    assert isinstance(classifier_head(12, 8, 3, p=0.0).drop7, nn.Identity)
    assert head(torch.randn(2, 3, 2, 2)).shape == (2, 3)


def test_both_settings_start_from_the_same_weights():
    states = []
    for p in SETTINGS.values():
        torch.manual_seed(4)
        states.append(classifier_head(48, 16, 3, p=p).state_dict())
    assert states[0].keys() == states[1].keys()
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_run_seed_trains_both_settings_and_records_what_the_chapter_reads():
    runs = run_seed(0, *tiny_data(), **TINY)
    assert set(runs) == set(SETTINGS)
    for run in runs.values():
        assert [int(r["epoch"]) for r in run.history] == [1, 2, 3]
        assert run.val_correct.dtype == torch.bool and run.val_correct.shape == (6,)
        # 마지막 에폭의 검증 오류율과 이미지마다의 정답 여부가 같은 모델에서 나왔는지
        assert run.val_error == pytest.approx(1 - run.val_correct.float().mean().item())
        assert 0.0 <= run.train_error <= 1.0
    # 드롭아웃만 다르므로 첫 에폭의 학습 손실이 달라야 합니다(같다면 드롭아웃이 꺼져 있음).
    assert runs["dropout"].history[0]["train_loss"] != runs["no_dropout"].history[0]["train_loss"]


def test_run_seed_is_deterministic_and_depends_on_the_seed():
    first = run_seed(0, *tiny_data(), **TINY)
    again = run_seed(0, *tiny_data(), **TINY)
    other = run_seed(1, *tiny_data(), **TINY)
    losses = lambda runs: [r["train_loss"] for r in runs["dropout"].history]  # noqa: E731
    assert losses(first) == losses(again)
    assert losses(first) != losses(other)


@pytest.mark.slow
def test_run_seeds_gives_the_same_numbers_with_one_or_two_processes():
    tensors = tiny_data()
    sequential = run_seeds(run_seed, [0, 1], *tensors, processes=1, **TINY)
    parallel = run_seeds(run_seed, [0, 1], *tensors, processes=2, **TINY)
    for a, b in zip(sequential, parallel):
        for name in SETTINGS:
            assert a[name].history == b[name].history
            assert torch.equal(a[name].val_correct, b[name].val_correct)


def test_dropout_run_summaries():
    history = [
        {"epoch": 1, "train_eval_top1": 0.5, "val_top1": 0.6},
        {"epoch": 2, "train_eval_top1": 0.2, "val_top1": 0.55},
        {"epoch": 3, "train_eval_top1": 0.1, "val_top1": 0.58},
    ]
    run = DropoutRun(history, torch.tensor([True, False]))
    assert run.train_error == 0.1 and run.val_error == 0.58
    assert run.best_val_error == 0.55
    assert run.gap == pytest.approx(0.48)
    assert epochs_to_reach(history, 0.2) == 2
    assert epochs_to_reach(history, 0.05) is None
    assert epochs_to_reach(history, 0.6, key="val_top1") == 1


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="p"):
        classifier_head(12, p=1.0)
    with pytest.raises(ValueError, match="mode"):
        classifier_head(12, mode="scaled")
    with pytest.raises(TypeError, match="hidden_features"):
        classifier_head(12, hidden_features=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed"):
        run_seed(-1, *tiny_data(), **TINY)
    images, labels, val_images, val_labels = tiny_data()
    with pytest.raises(TypeError, match="train_images"):
        run_seed(0, images.to(torch.uint8), labels, val_images, val_labels, **TINY)
    with pytest.raises(TypeError, match="epochs"):
        run_seed(0, *tiny_data(), hidden_features=8, epochs=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="target"):
        epochs_to_reach([], "0.2")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="val_per_class"):
        load_data(2, 0)


@needs_cifar
def test_load_data_carves_validation_from_the_training_split():
    train_x, train_y, val_x, val_y = load_data(train_per_class=3, val_per_class=2)
    assert train_x.shape == (30, 3, 32, 32) and val_x.shape == (20, 3, 32, 32)
    assert train_x.dtype == torch.float32
    assert torch.bincount(val_y).tolist() == [2] * 10
    assert train_x.mean(0).abs().max() < 1e-5  # 학습 세트 평균 이미지를 뺌
    assert train_x.abs().max() <= 1.0  # 255로 나눔
    # 검증 이미지는 학습 이미지와 겹치지 않습니다.
    distances = torch.cdist(val_x.flatten(1), train_x.flatten(1))  # (20, 3072), (30, 3072) -> (20, 30)
    assert distances.min() > 0
