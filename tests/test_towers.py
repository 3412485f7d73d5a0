"""alexnetbook.experiments.towers 와 tower_runs: 그림 3의 색 통계, 타워 나누기, 무작위 분할 귀무 분포, 작은 학습, 긴 학습 기록."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from alexnetbook.experiments.tower_runs import (
    LONG_RUN_FILE,
    TOWER_ARCHITECTURE,
    TOWER_TRAINING,
    RunRecord,
    load_long_run,
    record_difference,
    run_arms,
    save_long_run,
    train_towers,
)
from alexnetbook.seeds import run_seeds
from alexnetbook.experiments.towers import (
    colour_fraction,
    kernel_mosaic,
    random_split_gaps,
    split_p_value,
    tower_gap,
    tower_kernels,
)
from alexnetbook.models import AlexNet

TINY_ARCHITECTURE = dataclasses.replace(TOWER_ARCHITECTURE, channels=(8, 8, 8, 8, 8), hidden_features=8,
                                        num_classes=3)
TINY_TRAINING = dataclasses.replace(TOWER_TRAINING, epochs=1, batch_size=8, bf16=False)


def kernel(r: float, g: float, b: float, k: int = 5) -> torch.Tensor:
    """세 채널이 같은 공간 무늬에 ``(r, g, b)`` 를 곱한 커널."""
    pattern = torch.linspace(-1, 1, k * k, dtype=torch.float64).reshape(k, k)
    return torch.stack([r * pattern, g * pattern, b * pattern])


def test_colour_fraction_of_hand_made_kernels():
    kernels = torch.stack([kernel(1, 1, 1), kernel(1, 0, 0), kernel(0, 0, -2), kernel(1, -1, 0), kernel(1, 1, -2)])
    expected = torch.tensor([0.0, 2 / 3, 2 / 3, 1.0, 1.0], dtype=torch.float64)
    torch.testing.assert_close(colour_fraction(kernels), expected)
    assert colour_fraction(kernel(3, 3, 3)).dim() == 0  # 커널 하나


def test_colour_fraction_is_scale_invariant_and_adds_up_with_the_grey_part():
    w = torch.randn(10, 3, 7, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    torch.testing.assert_close(colour_fraction(5 * w), colour_fraction(w))
    grey = w.mean(1, keepdim=True).expand_as(w)
    grey_fraction = grey.pow(2).flatten(1).sum(1) / w.pow(2).flatten(1).sum(1)
    torch.testing.assert_close(colour_fraction(w) + grey_fraction, torch.ones(10, dtype=torch.float64))


def test_colour_fraction_of_random_kernels_is_about_two_thirds():
    """독립인 가우스 잡음 커널은 회색 방향(3차원 중 1차원) 밖에 에너지의 2/3 가 있습니다."""
    w = torch.randn(4000, 3, 7, 7, generator=torch.Generator().manual_seed(1))
    assert abs(float(colour_fraction(w).mean()) - 2 / 3) < 0.005


def test_colour_fraction_argument_errors():
    with pytest.raises(ValueError, match="kernels"):
        colour_fraction(torch.zeros(2, 4, 3, 3) + 1)
    with pytest.raises(ValueError, match="kernels"):
        colour_fraction(torch.zeros(1, 3, 3, 3))
    with pytest.raises(TypeError, match="kernels"):
        colour_fraction(torch.ones(2, 3, 3, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="kernels"):
        colour_fraction(torch.ones(3, 3))


def test_tower_kernels_are_what_each_conv2_group_sees():
    """conv1 앞 절반의 채널 하나를 바꾸면 conv2 의 앞 묶음 출력만 바뀌어야 합니다(뒤 절반은 그 반대)."""
    torch.manual_seed(0)
    model = AlexNet.from_config(dataclasses.replace(TINY_ARCHITECTURE, lrn=False)).eval()
    a, b = tower_kernels(model)
    assert a.shape == b.shape == (4, 3, 7, 7)
    assert torch.equal(torch.cat([a, b]), model.features.conv1.weight.detach())
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    conv2_out = lambda: model.features[:5](x)  # noqa: E731  conv1 ... conv2 까지

    for channel, changed_half in ((1, 0), (6, 1)):
        before = conv2_out()
        with torch.no_grad():
            model.features.conv1.weight[channel] += 1.0
        after = conv2_out()
        changed = (after - before).abs().flatten(2).amax(2).amax(0) > 0  # (conv2 채널,)
        assert changed[4 * changed_half: 4 * changed_half + 4].all()
        assert not changed[4 * (1 - changed_half): 4 * (1 - changed_half) + 4].any()


def test_tower_kernels_argument_errors():
    with pytest.raises(TypeError, match="model"):
        tower_kernels(torch.nn.Conv2d(3, 4, 3))
    odd = AlexNet(num_classes=3, channels=(5, 8, 8, 8, 8), hidden_features=8, conv1_kernel_size=7, conv1_stride=2,
                  conv1_padding=3, pool_output_size=1)
    with pytest.raises(ValueError, match="conv1"):
        tower_kernels(odd)


def test_gap_and_p_value_for_a_perfect_split_and_for_no_difference():
    split = torch.tensor([0.1] * 10 + [0.9] * 10)
    assert float(tower_gap(split)) == pytest.approx(0.8)
    assert split_p_value(split, 500) == pytest.approx(1 / 501)  # 어떤 무작위 분할도 이만큼 크게 나뉘지 않음
    assert split_p_value(torch.full((20,), 0.5), 500) == 1.0
    assert float(tower_gap(torch.tensor([[0.0, 1.0], [0.5, 0.5]])).sum()) == pytest.approx(1.0)


def test_random_splits_are_permutations_of_the_same_kernels():
    fractions = torch.rand(12, generator=torch.Generator().manual_seed(2))
    null = random_split_gaps(fractions, 300, seed=3)
    assert null.shape == (300,)
    # 한 분할의 두 평균의 합은 언제나 전체 평균의 두 배이므로, 차이는 한쪽 평균만으로 정해집니다.
    assert float(null.max()) <= float(fractions.sort().values[6:].mean() - fractions.sort().values[:6].mean()) + 1e-6
    assert torch.equal(null, random_split_gaps(fractions, 300, seed=3))
    assert not torch.equal(null, random_split_gaps(fractions, 300, seed=4))


def test_p_values_are_roughly_uniform_when_halves_are_exchangeable():
    g = torch.Generator().manual_seed(5)
    p = torch.tensor([split_p_value(torch.rand(16, generator=g), 199, seed=i) for i in range(200)])
    assert 0.02 <= float((p <= 0.05).float().mean()) <= 0.10
    assert 0.4 <= float(p.mean()) <= 0.6


def test_null_argument_errors():
    with pytest.raises(ValueError, match="fractions"):
        tower_gap(torch.rand(5))
    with pytest.raises(ValueError, match="num_splits"):
        random_split_gaps(torch.rand(4), 0)
    with pytest.raises(ValueError, match="fractions"):
        random_split_gaps(torch.rand(2, 4))


def tiny_data(n: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(n) % 3
    return torch.randn(n, 3, 32, 32, generator=g) * 20 + 10 * labels[:, None, None, None], labels


def test_train_towers_returns_kernels_before_and_after_training():
    images, labels = tiny_data()
    run = train_towers(0, 2, images, labels, architecture=TINY_ARCHITECTURE, training=TINY_TRAINING)
    assert run.groups == 2 and run.kernels.shape == run.initial_kernels.shape == (8, 3, 7, 7)
    assert not torch.equal(run.kernels, run.initial_kernels)
    assert len(run.history) == 1 and 0.0 <= run.p_value <= 1.0 and run.gap >= 0.0
    torch.manual_seed(0)
    again = train_towers(0, 2, images, labels, architecture=TINY_ARCHITECTURE, training=TINY_TRAINING)
    assert torch.equal(again.kernels, run.kernels)  # 시드가 전역 난수 상태와 상관없이 결과를 정합니다
    control = train_towers(0, 1, images, labels, architecture=TINY_ARCHITECTURE, training=TINY_TRAINING)
    assert control.model().features.conv2.groups == 1 and run.model().features.conv2.groups == 2


def test_run_arms_matches_single_runs():
    images, labels = tiny_data()
    kwargs = dict(architecture=TINY_ARCHITECTURE, training=TINY_TRAINING)
    runs = run_arms([3, 1], images, labels, processes=1, **kwargs)
    assert sorted(runs) == [1, 2]
    assert [r.seed for r in runs[2]] == [3, 1] and all(r.groups == 1 for r in runs[1])
    # run_arms 는 작업마다 스레드 하나로 돌리므로, 비교할 단독 실행도 스레드 하나로(run_seeds) 돌립니다.
    single = run_seeds(train_towers, [1], 1, images, labels, processes=1, **kwargs)[0]
    assert torch.equal(runs[1][1].kernels, single.kernels)


def test_train_towers_argument_errors():
    images, labels = tiny_data(4)
    with pytest.raises(ValueError, match="groups"):
        train_towers(0, 3, images, labels)
    with pytest.raises(TypeError, match="images"):
        train_towers(0, 2, images.to(torch.uint8), labels)
    with pytest.raises(TypeError, match="training"):
        train_towers(0, 2, images, labels, training={"epochs": 1})
    with pytest.raises(ValueError, match="arms"):
        run_arms([0], images, labels, arms=(2, 4))


def test_init_conv1_gives_both_arms_the_same_start():
    runs = [train_towers(4, groups, *tiny_data(), architecture=TINY_ARCHITECTURE, training=TINY_TRAINING)
            for groups in (2, 1)]
    assert torch.equal(runs[0].initial_kernels, runs[1].initial_kernels)
    assert abs(float(runs[0].initial_kernels.std()) - 0.01) < 0.002
    assert len(runs[0].epoch_kernels) == 2  # 학습 전 + 에폭 1
    with pytest.raises(ValueError, match="std"):
        train_towers(4, 2, *tiny_data(), architecture=TINY_ARCHITECTURE, training=TINY_TRAINING, conv1_std=0.0)


def test_kernel_mosaic_layout_and_scaling():
    kernels = torch.zeros(5, 3, 2, 2)
    kernels[0, 0] = 2.0  # 빨강만 양수
    kernels[1, 1] = -3.0  # 초록만 음수
    kernels[2:] = 1.0
    mosaic = kernel_mosaic(kernels, columns=3, pad=1)
    assert mosaic.shape == (2 * 3 - 1, 3 * 3 - 1, 3)
    torch.testing.assert_close(mosaic[0, 0], torch.tensor([1.0, 0.5, 0.5]))
    torch.testing.assert_close(mosaic[0, 3], torch.tensor([0.5, 0.0, 0.5]))
    assert (mosaic[2] == 1).all() and (mosaic[:, 2] == 1).all()  # 칸 사이 흰 띠
    assert (mosaic[3:, 6:] == 1).all()  # 빈 칸도 흰색


def test_long_run_records_round_trip(tmp_path):
    images, labels = tiny_data()
    runs = run_arms([0], images, labels, processes=1, architecture=TINY_ARCHITECTURE, training=TINY_TRAINING)
    save_long_run(runs, tmp_path / "long.pt")
    loaded = load_long_run(tmp_path / "long.pt")
    assert sorted(loaded) == [1, 2]
    record, run = loaded[2][0], runs[2][0]
    assert record.seed == 0 and record.groups == 2 and len(record.tower_means) == len(record.p_values) == 2
    assert record.p_values[-1] == pytest.approx(run.p_value)
    assert record.gaps[-1] == pytest.approx(run.gap, abs=1e-6)
    torch.testing.assert_close(record.kernels, run.kernels, rtol=1e-3, atol=1e-5)  # float16 로 저장
    assert record.tower_means == RunRecord.from_run(run).tower_means
    torch.save({"format": 2}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="other.pt"):
        load_long_run(tmp_path / "other.pt")


def test_record_difference_compares_the_retrained_epochs(tmp_path):
    images, labels = tiny_data()
    runs = run_arms([0, 1], images, labels, arms=[2], processes=1, architecture=TINY_ARCHITECTURE,
                    training=dataclasses.replace(TINY_TRAINING, epochs=2))
    save_long_run(runs, tmp_path / "long.pt")
    records = load_long_run(tmp_path / "long.pt")[2]
    # 같은 시드·설정의 1 에폭 학습은 2 에폭 기록의 처음 에폭과 같은 계산입니다(스레드 수는 run_arms 와 같게).
    short = run_seeds(train_towers, [0], 2, images, labels, processes=1, architecture=TINY_ARCHITECTURE,
                      training=TINY_TRAINING)[0]
    assert record_difference(short, records[0]) == 0.0
    assert record_difference(runs[2][1], records[1]) == 0.0
    other = RunRecord(**{**vars(records[0]), "tower_means": [(0.0, 0.0)] + records[0].tower_means[1:]})
    assert record_difference(short, other) > 0.1  # 학습 전 평균(2/3 안팎)이 다르면 그만큼 차이
    with pytest.raises(ValueError, match="다른 실행"):
        record_difference(short, records[1])
    longer = run_seeds(train_towers, [0], 2, images, labels, processes=1, architecture=TINY_ARCHITECTURE,
                       training=dataclasses.replace(TINY_TRAINING, epochs=3))[0]
    with pytest.raises(ValueError, match="에폭"):
        record_difference(longer, records[0])


def test_shipped_long_run_is_consistent_with_its_kernels():
    records = load_long_run()
    assert LONG_RUN_FILE.endswith(".pt")
    assert TOWER_TRAINING.epochs < len(records[2][0].train_top1)  # 노트북이 다시 학습하는 에폭은 기록 안에 있습니다
    assert sorted(records) == [1, 2] and [r.seed for r in records[2]] == [0, 1, 2, 3, 4]
    for group in records.values():
        for record in group:
            assert len(record.tower_means) == len(record.p_values) == len(record.train_top1) + 1
            fractions = colour_fraction(record.kernels)
            half = len(fractions) // 2
            assert record.tower_means[-1][0] == pytest.approx(float(fractions[:half].mean()), abs=2e-3)
            assert record.tower_means[-1][1] == pytest.approx(float(fractions[half:].mean()), abs=2e-3)
            assert abs(float(sum(record.tower_means[0])) / 2 - 2 / 3) < 0.03  # 학습 전은 무작위 커널
