"""alexnetbook.experiments.pooling_overlap: 작은 조각으로 실험 코드가 제대로 도는지 확인합니다."""

from __future__ import annotations

import math
import os

import pytest
import torch
from scipy import stats

from alexnetbook import data
from alexnetbook.experiments.pooling_overlap import (
    POOLINGS,
    PairedComparison,
    PoolingCNN,
    PoolingOverlapResult,
    PoolingRun,
    load_cifar_split,
    run_pooling_overlap,
)
from alexnetbook.utils import set_seed


def tiny_data(n: int = 40, n_test: int = 20) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    return (
        torch.randn(n, 3, 32, 32, generator=g) * 0.2, torch.arange(n) % 10,
        torch.randn(n_test, 3, 32, 32, generator=g) * 0.2, torch.arange(n_test) % 10,
    )


@pytest.mark.parametrize("name", list(POOLINGS))
def test_both_poolings_give_the_same_feature_size(name):
    model = PoolingCNN(*POOLINGS[name], channels=(2, 3, 4))
    assert model.feature_size == 4  # 32 -> 16 -> 8 -> 4
    assert model(torch.zeros(5, 3, 32, 32)).shape == (5, 10)


def test_same_seed_gives_identical_initial_weights():
    """풀링에는 매개변수가 없으므로, 같은 시드의 두 신경망은 가중치가 같아야 공정한 비교입니다."""
    states = []
    for z, s, p in POOLINGS.values():
        set_seed(3)
        states.append(PoolingCNN(z, s, p).state_dict())
    assert states[0].keys() == states[1].keys()
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_bad_arguments():
    with pytest.raises(ValueError, match="channels"):
        PoolingCNN(3, 2, 1, channels=(4, 4))
    with pytest.raises(ValueError, match="padding"):
        PoolingCNN(3, 2, 2)
    with pytest.raises(ValueError, match="epochs"):
        run_pooling_overlap(epochs=0, data=tiny_data())
    with pytest.raises(ValueError, match="seeds"):
        run_pooling_overlap(seeds=(), data=tiny_data())
    with pytest.raises(ValueError, match="threads"):
        run_pooling_overlap(threads=0, data=tiny_data())


def test_run_on_tiny_slice_is_deterministic():
    kwargs = dict(epochs=2, seeds=(0, 1), channels=(2, 2, 2), lr=1e-3, batch_size=16, data=tiny_data())
    threads_before = torch.get_num_threads()
    result = run_pooling_overlap(**kwargs)
    assert torch.get_num_threads() == threads_before  # 실험이 바꾼 스레드 수를 되돌려 놓음
    assert [(r.pooling, r.seed) for r in result.runs] == [
        ("overlapping", 0), ("non_overlapping", 0), ("overlapping", 1), ("non_overlapping", 1)]
    assert (result.num_train, result.num_test, result.epochs) == (40, 20, 2)
    for run in result.runs:
        assert len(run.train_errors) == len(run.test_errors) == 2
        assert all(0 <= e <= 1 for e in run.train_errors + run.test_errors)
        assert run.gap == run.test_errors[-1] - run.train_errors[-1]
    assert [seed for seed, _, _ in result.differences()] == [0, 1]
    table = result.html_table()
    assert table.startswith("<table>") and table.count("<tr>") == 1 + 2 * (2 + 1)  # 머리 + 풀링마다 (시드 2 + 평균)
    assert "겹치는 풀링 (z=3, s=2)" in table and "겹치지 않는 풀링 (z=2, s=2)" in table
    assert 0 < result.test_error_standard_error(0.5) <= 0.5 / 20**0.5 + 1e-12
    for run in result.runs:  # 이미지마다의 정답 여부가 마지막 에폭의 테스트 오류율과 맞아야 합니다
        assert len(run.test_correct) == 20 and run.test_errors[-1] == 1 - sum(run.test_correct) / 20
    comparisons = result.paired_comparisons()
    assert [c.seed for c in comparisons] == [0, 1]
    for comparison, (_, d_test, _) in zip(comparisons, result.differences()):
        assert comparison.error_difference == pytest.approx(d_test, abs=1e-12)
    again = run_pooling_overlap(**kwargs)
    assert [r.test_errors for r in again.runs] == [r.test_errors for r in result.runs]
    assert [r.test_correct for r in again.runs] == [r.test_correct for r in result.runs]


@pytest.mark.parametrize(("b", "c", "n"), [(10, 2, 100), (2, 10, 100), (7, 7, 50), (0, 0, 30), (0, 5, 2000), (140, 180, 2000)])
def test_paired_comparison_matches_exact_mcnemar(b, c, n):
    comparison = PairedComparison(seed=0, num_test=n, only_overlapping_correct=b, only_non_overlapping_correct=c)
    assert comparison.error_difference == pytest.approx((c - b) / n)
    assert comparison.standard_error == pytest.approx(math.sqrt(b + c - (b - c) ** 2 / n) / n)
    expected = 1.0 if b + c == 0 else stats.binomtest(b, b + c, 0.5).pvalue  # 정확한 McNemar = 이항 검정
    assert comparison.p_value == pytest.approx(expected, rel=1e-9)


def test_paired_comparisons_need_per_image_results():
    runs = [PoolingRun(name, 0, [0.1], [0.2]) for name in POOLINGS]  # test_correct 없음
    with pytest.raises(ValueError, match="test_correct"):
        PoolingOverlapResult(runs, num_train=10, num_test=5, epochs=1, lr=0.1).paired_comparisons()


@pytest.mark.skipif(
    not (data.data_root() / "cifar10-subset").is_dir() and not os.environ.get("CI"),
    reason="offline CIFAR-10 subset not found (set ALEXNETBOOK_DATA)",
)
def test_load_cifar_split_subtracts_the_train_mean_and_scales():
    train_x, train_y, test_x, test_y = load_cifar_split(per_class=2, test_per_class=1)
    assert train_x.shape == (20, 3, 32, 32) and test_x.shape == (10, 3, 32, 32)
    assert train_x.dtype == torch.float32
    assert torch.allclose(train_x.mean(dim=0), torch.zeros(3, 32, 32), atol=1e-6)
    assert train_x.abs().max() <= 1 and test_x.abs().max() <= 1  # (0–255 − 평균) / 255
    assert torch.equal(torch.bincount(train_y), torch.full((10,), 2))
    assert torch.equal(torch.bincount(test_y), torch.full((10,), 1))
