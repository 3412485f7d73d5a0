"""alexnetbook.experiments.dropout_overfit: 아주 작은 조각으로 실험 코드가 도는지와 구성이 맞는지 확인합니다."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from alexnetbook import data
from alexnetbook.dropout import Dropout
from alexnetbook.experiments.dropout_overfit import (
    OverfitData,
    classifier_head,
    epochs_to_reach,
    load_overfit_data,
    run_dropout_overfit,
)

needs_cifar = pytest.mark.skipif(
    not (data.data_root() / "cifar10-subset").is_dir(),
    reason="offline CIFAR-10 subset not found (set ALEXNETBOOK_DATA)",
)


def test_classifier_head_places_dropout_after_fc6_and_fc7_relus():
    head = classifier_head(12, 8, 3, p=0.5, mode="paper")
    names = [name for name, _ in head.named_children()]
    assert names == ["flatten", "fc6", "relu6", "drop6", "fc7", "relu7", "drop7", "fc8"]
    assert isinstance(head.drop6, Dropout) and head.drop6.mode == "paper" and head.drop6.p == 0.5
    assert isinstance(classifier_head(12, 8, 3, p=0.0).drop7, nn.Identity)
    assert head(torch.randn(2, 3, 2, 2)).shape == (2, 3)


def synthetic(n_per_class: int = 4, classes: int = 3) -> OverfitData:
    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(classes).repeat(n_per_class)
    images = torch.randn(len(labels), 3, 4, 4, generator=gen) + labels[:, None, None, None].float()
    return OverfitData(images, labels, images[: classes * 2].clone(), labels[: classes * 2].clone())


def test_run_records_train_and_val_errors_for_each_setting():
    results = run_dropout_overfit(synthetic(), hidden_features=16, epochs=3, lr=0.05, batch_size=4)
    assert set(results) == {"no_dropout", "dropout"}
    for history in results.values():
        assert [r.epoch for r in history] == [1, 2, 3]
        for record in history:
            assert set(record.errors) == {"train", "val"}
            assert all(0.0 <= e <= 1.0 for e in record.errors.values())
    # 같은 시드면 같은 결과(결정적)
    again = run_dropout_overfit(synthetic(), hidden_features=16, epochs=3, lr=0.05, batch_size=4)
    assert [r.train_loss for r in again["dropout"]] == [r.train_loss for r in results["dropout"]]
    # 드롭아웃이 학습 손실을 바꿉니다(같은 초기값, 같은 미니배치 순서에서)
    assert results["dropout"][0].train_loss != results["no_dropout"][0].train_loss


def test_same_initial_weights_across_settings():
    torch.manual_seed(0)
    a = classifier_head(48, 16, 3, p=0.0)
    torch.manual_seed(0)
    b = classifier_head(48, 16, 3, p=0.5)
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb and torch.equal(pa, pb)


def test_epochs_to_reach():
    history = run_dropout_overfit(
        synthetic(), settings={"x": (0.0, "inverted")}, hidden_features=16, epochs=2, lr=0.05, batch_size=4
    )["x"]
    assert epochs_to_reach(history, 1.0) == 1
    assert epochs_to_reach(history, -1.0) is None


@needs_cifar
def test_tiny_slice_of_the_real_data():
    ds = load_overfit_data(train_per_class=2, val_per_class=1)
    assert ds.train_images.shape == (20, 3, 32, 32) and ds.val_images.shape == (10, 3, 32, 32)
    assert ds.train_images.dtype == torch.float32
    # 학습 세트 평균을 뺐으므로 픽셀마다 평균이 0
    assert ds.train_images.mean(0).abs().max() < 1e-5
    results = run_dropout_overfit(ds, hidden_features=8, epochs=1, batch_size=10)
    assert set(results) == {"no_dropout", "dropout"}
