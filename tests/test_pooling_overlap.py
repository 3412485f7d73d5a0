"""alexnetbook.experiments.pooling_overlap: 두 풀링의 공정한 비교(같은 크기, 같은 초기 가중치)와 시드 하나의 실행을 작은 데이터로 확인합니다."""

from __future__ import annotations

import pytest
import torch

from alexnetbook import data
from alexnetbook.experiments.pooling_overlap import POOLINGS, PoolingRun, load_data, run_seed
from alexnetbook.seeds import run_seeds
from alexnetbook.small_cnn import SmallCNN
from alexnetbook.stats import mcnemar

needs_cifar = pytest.mark.skipif(
    not (data.data_root() / "cifar10-subset").is_dir(),
    reason="offline CIFAR-10 subset not found (set ALEXNETBOOK_DATA)",
)


def tiny_data(n: int = 24, n_test: int = 12, size: int = 8) -> tuple[torch.Tensor, ...]:
    """``size×size`` 무작위 이미지(세 번 풀링하면 1×1), 클래스 3개."""
    g = torch.Generator().manual_seed(0)
    train_y, test_y = torch.arange(n) % 3, torch.arange(n_test) % 3
    return (
        torch.randn(n, 3, size, size, generator=g) + train_y[:, None, None, None], train_y,
        torch.randn(n_test, 3, size, size, generator=g) + test_y[:, None, None, None], test_y,
    )


TINY = dict(epochs=2, lr=0.05, batch_size=8, channels=(2, 3, 4))


@pytest.mark.parametrize("size", [32, 8])
def test_both_poolings_give_the_same_feature_size(size):
    sizes = {name: SmallCNN(pool=pool, image_size=size).flat_features for name, pool in POOLINGS.items()}
    assert len(set(sizes.values())) == 1, sizes
    z, s, _ = POOLINGS["overlapping"]
    assert z > s  # 겹치는 풀링
    z, s, _ = POOLINGS["non_overlapping"]
    assert z == s


def test_same_seed_gives_identical_initial_weights():
    """풀링에는 매개변수가 없으므로, 같은 시드의 두 신경망은 가중치가 같아야 공정한 비교입니다."""
    states = []
    for pool in POOLINGS.values():
        torch.manual_seed(3)
        states.append(SmallCNN(pool=pool).state_dict())
    assert states[0].keys() == states[1].keys()
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_run_seed_returns_a_paired_result_for_each_pooling():
    runs = run_seed(0, *tiny_data(), **TINY)
    assert set(runs) == set(POOLINGS)
    for run in runs.values():
        assert [int(r["epoch"]) for r in run.history] == [1, 2]
        assert run.test_correct.dtype == torch.bool and run.test_correct.shape == (12,)
        assert 0.0 <= run.train_error <= 1.0
    # 풀링만 다르므로 첫 에폭의 학습 손실이 달라야 합니다.
    assert runs["overlapping"].history[0]["train_loss"] != runs["non_overlapping"].history[0]["train_loss"]
    result = mcnemar(runs["overlapping"].test_correct, runs["non_overlapping"].test_correct)
    assert result.error_difference == pytest.approx(runs["overlapping"].test_error - runs["non_overlapping"].test_error)


def test_run_seed_is_deterministic_and_depends_on_the_seed():
    first = run_seed(0, *tiny_data(), **TINY)
    again = run_seed(0, *tiny_data(), **TINY)
    other = run_seed(1, *tiny_data(), **TINY)
    assert first["overlapping"].history == again["overlapping"].history
    assert torch.equal(first["overlapping"].test_correct, again["overlapping"].test_correct)
    assert first["overlapping"].history != other["overlapping"].history


@pytest.mark.slow
def test_run_seeds_gives_the_same_numbers_with_one_or_two_processes():
    tensors = tiny_data()
    sequential = run_seeds(run_seed, [0, 1], *tensors, processes=1, **TINY)
    parallel = run_seeds(run_seed, [0, 1], *tensors, processes=2, **TINY)
    for a, b in zip(sequential, parallel):
        for name in POOLINGS:
            assert a[name].history == b[name].history
            assert torch.equal(a[name].test_correct, b[name].test_correct)


def test_pooling_run_summaries():
    run = PoolingRun([{"epoch": 1, "train_eval_top1": 0.5}, {"epoch": 2, "train_eval_top1": 0.25}],
                     torch.tensor([True, False, False, True]))
    assert run.train_error == 0.25
    assert run.test_error == 0.5
    assert run.gap == 0.25


def test_bad_arguments_name_the_argument():
    images, labels, test_images, test_labels = tiny_data()
    with pytest.raises(ValueError, match="seed"):
        run_seed(-1, images, labels, test_images, test_labels, **TINY)
    with pytest.raises(TypeError, match="test_images"):
        run_seed(0, images, labels, test_images.to(torch.uint8), test_labels, **TINY)
    with pytest.raises(ValueError, match="train_images"):
        run_seed(0, images[0], labels, test_images, test_labels, **TINY)
    with pytest.raises(ValueError, match="channels"):
        run_seed(0, images, labels, test_images, test_labels, epochs=1, channels=(2, 3))
    with pytest.raises(TypeError, match="train_per_class"):
        load_data(1.5)  # type: ignore[arg-type]


@needs_cifar
def test_load_data_reads_both_splits_and_centres_on_the_training_mean():
    train_x, train_y, test_x, test_y = load_data(train_per_class=2, test_per_class=1)
    assert train_x.shape == (20, 3, 32, 32) and test_x.shape == (10, 3, 32, 32)
    assert torch.bincount(train_y).tolist() == [2] * 10 and torch.bincount(test_y).tolist() == [1] * 10
    assert train_x.mean(0).abs().max() < 1e-5
    assert test_x.mean(0).abs().max() > 1e-3  # 테스트 세트는 학습 세트의 평균을 뺐을 뿐
