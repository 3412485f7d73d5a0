"""alexnetbook.train 의 테스트: 하나의 학습 스텝, 작은 학습, 학습률 스케줄, 발산, 멈춤 조건,
에폭별 평가 세트, 스텝 콜백과 샘플러, 끊었다가 이어서 한 학습과 끊지 않은 학습의 비트 단위 일치."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DistributedSampler

from alexnetbook import train as tr
from alexnetbook.augment import cifar_transforms, subtract_mean
from alexnetbook.checkpoint import load_checkpoint
from alexnetbook.batches import TensorImageDataset
from alexnetbook.models import AlexNet, init_paper_

TINY_MODEL = {"channels": (4, 8, 8, 8, 8), "hidden_features": 16}


def tiny_model(seed: int = 0, **kwargs) -> AlexNet:
    torch.manual_seed(seed)
    return AlexNet.for_cifar(pool_output_size=2, **{**TINY_MODEL, **kwargs})


def random_images(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    labels = torch.arange(n) % 10
    return images, labels


def datasets(n_train: int = 96, n_val: int = 40, *, ten_crop: bool = False):
    xtr, ytr = random_images(n_train, 0)
    xva, yva = random_images(n_val, 1)
    tf = cifar_transforms(xtr.float().mean(dim=0))
    return (TensorImageDataset(xtr, ytr, tf["train"]),
            TensorImageDataset(xva, yva, tf["ten_crop" if ten_crop else "center"]))


def quiet(**kwargs) -> tr.TrainConfig:
    base = {"epochs": 3, "batch_size": 16, "progress": False, "verbose": False, "device": "cpu"}
    return tr.TrainConfig(**{**base, **kwargs})


# ---------------------------------------------------------------------------------------------
# 하나의 학습 스텝


def test_train_step_is_plain_sgd_with_momentum_and_weight_decay_float64():
    """train_step + make_optimizer 가 손으로 쓴 PyTorch 의 갱신 식과 같은 값을 내는지(float64, 두 스텝)."""
    torch.manual_seed(0)
    model = nn.Linear(5, 3).double()
    reference = [p.detach().clone() for p in model.parameters()]
    cfg = tr.TrainConfig(lr=0.1, momentum=0.9, weight_decay=0.01)
    optimizer = tr.make_optimizer(model, cfg)
    x = torch.randn(8, 5, dtype=torch.float64)
    y = torch.arange(8) % 3
    buffers = [torch.zeros_like(p) for p in reference]
    for _ in range(2):
        logits, loss = tr.train_step(model, optimizer, x, y)
        w, b = (t.clone().requires_grad_(True) for t in reference)
        expected_loss = nn.functional.cross_entropy(x @ w.T + b, y)
        grads = torch.autograd.grad(expected_loss, (w, b))
        for i, (param, grad) in enumerate(zip(reference, grads)):
            buffers[i] = 0.9 * buffers[i] + grad + 0.01 * param
            reference[i] = param - 0.1 * buffers[i]
        assert loss.item() == pytest.approx(expected_loss.item(), rel=1e-12)
        assert not logits.requires_grad and logits.shape == (8, 3)
    for param, expected in zip(model.parameters(), reference):
        torch.testing.assert_close(param.detach(), expected, rtol=1e-12, atol=1e-14)


def test_train_step_bf16_autocast_keeps_float32_weights():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 4))  # (N, 3, 2, 2) -> (N, 12) -> (N, 4)
    optimizer = tr.make_optimizer(model, tr.TrainConfig(lr=0.1, fused_sgd=True))
    logits, loss = tr.train_step(model, optimizer, torch.randn(6, 3, 2, 2), torch.arange(6) % 4, bf16=True)
    assert logits.dtype == torch.bfloat16 and loss.dtype == torch.float32
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert optimizer.defaults["fused"] is True


# ---------------------------------------------------------------------------------------------
# 학습 루프


@pytest.mark.slow
def test_fit_learns_a_separable_task_and_records_each_epoch():
    """색으로 구분되는 두 클래스는 작은 설정으로도 배워야 합니다(학습 루프가 실제로 학습하는지)."""
    n = 600
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(n) % 2
    images = torch.randint(0, 100, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    images[labels == 1, 0] += 120  # 클래스 1은 빨간 채널이 밝음
    tf = cifar_transforms(images.float().mean(dim=0))
    train = TensorImageDataset(images[:400], labels[:400], tf["train"])
    val = TensorImageDataset(images[400:], labels[400:], tf["center"])
    model = tiny_model(num_classes=2)
    cfg = tr.TrainConfig.preset("tiny", epochs=3, progress=False, verbose=False, device="cpu")
    history = tr.fit(model, train, val, cfg)
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert set(history[0]) == {"epoch", "lr", "steps", "train_loss", "train_top1", "val_loss", "val_top1", "val_top5"}
    assert all(np.isfinite(list(h.values())).all() for h in history)
    assert all(h["steps"] == 13 for h in history)  # tiny 의 상한 512장보다 적은 400장을 배치 32로: 12.5 -> 13 스텝
    assert history[-1]["val_top1"] < 0.2
    assert history[-1]["val_top5"] == 0.0  # 클래스가 2개뿐이면 top-5 는 항상 맞음


def test_fit_on_in_memory_tensors_matches_a_hand_written_loop():
    """변환 없는 TensorImageDataset 의 빠른 길이, 같은 순서·같은 갱신의 손으로 쓴 루프와 비트 단위로 같은지."""
    x, y = random_images(50, 3)
    x, _mean = subtract_mean(x, scale=1 / 255)
    cfg = quiet(epochs=2, batch_size=16, lr=0.05, weight_decay=0.0, max_lr_drops=0, seed=7)
    model = tiny_model(seed=1, dropout=0.0)
    history = tr.fit(model, TensorImageDataset(x, y), None, cfg)

    manual = tiny_model(seed=1, dropout=0.0)
    optimizer = tr.make_optimizer(manual, cfg)
    losses = []
    for epoch in (1, 2):
        generator = torch.Generator().manual_seed(tr._epoch_seed(cfg.seed, epoch))
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), cfg.batch_size):
            idx = order[start:start + cfg.batch_size]
            _, loss = tr.train_step(manual, optimizer, x[idx], y[idx])
            total += loss.item() * len(idx)
        losses.append(total / len(x))
    assert [h["train_loss"] for h in history] == pytest.approx(losses, rel=0, abs=0)
    for a, b in zip(model.parameters(), manual.parameters()):
        assert torch.equal(a, b)


def test_lr_is_divided_on_plateau_at_most_max_drops():
    train, val = datasets(n_train=32, n_val=16)
    cfg = quiet(epochs=6, plateau_patience=0, plateau_threshold=1.0, max_lr_drops=2, lr=1e-3)
    history = tr.fit(tiny_model(), train, val, cfg)  # threshold 1.0 이면 둘째 에폭부터 매번 "정체"
    assert [h["lr"] for h in history] == pytest.approx([1e-3, 1e-3, 1e-4, 1e-5, 1e-5, 1e-5])


def test_max_lr_drops_zero_keeps_the_lr_constant():
    train, val = datasets(n_train=32, n_val=16)
    history = tr.fit(tiny_model(), train, val, quiet(epochs=3, plateau_patience=0, plateau_threshold=1.0,
                                                     max_lr_drops=0))
    assert {h["lr"] for h in history} == {0.01}


def test_non_finite_loss_raises_diverged_error():
    train, val = datasets(n_train=32, n_val=16)
    model = tiny_model()
    with torch.no_grad():
        model.classifier.fc8.bias.fill_(float("nan"))
    with pytest.raises(tr.DivergedError, match="손실"):
        tr.fit(model, train, val, quiet(epochs=1))
    assert issubclass(tr.DivergedError, RuntimeError)


def test_stop_eval_sets_and_callbacks():
    train, val = datasets(n_train=48, n_val=16)
    plain = TensorImageDataset(*random_images(20, 5))
    seen_steps, seen_epochs = [], []
    history = tr.fit(
        tiny_model(), train, val, quiet(epochs=5, batch_size=16),
        eval_sets={"extra": TensorImageDataset(subtract_mean(plain.images, scale=1 / 255)[0][:, :, :28, :28],
                                               plain.labels)},
        stop=lambda record: record["epoch"] == 2,
        on_step=lambda info: seen_steps.append((info.epoch, info.step, len(info.indices), info.loss)),
        on_epoch_end=lambda record: seen_epochs.append(record["epoch"]),
    )
    assert [h["epoch"] for h in history] == [1, 2] == seen_epochs  # stop 이 둘째 에폭에서 멈춤
    assert [s[:3] for s in seen_steps] == [(1, 1, 16), (1, 2, 16), (1, 3, 16), (2, 4, 16), (2, 5, 16), (2, 6, 16)]
    assert all(np.isfinite(s[3]) for s in seen_steps)
    assert {"extra_loss", "extra_top1", "extra_top5"} <= set(history[0])
    with pytest.raises(ValueError, match="train_eval"):
        tr.fit(tiny_model(), train, val, quiet(epochs=1), eval_sets={"train": val})
    with pytest.raises(ValueError, match="val"):
        tr.fit(tiny_model(), train, val, quiet(epochs=1), eval_sets={"val": val})
    with pytest.raises(TypeError, match="config"):
        tr.fit(tiny_model(), train, val, {"epochs": 1})


def test_sampler_sets_the_order_and_each_epoch_gets_a_new_permutation():
    x, y = random_images(40, 2)
    data = TensorImageDataset(subtract_mean(x, scale=1 / 255)[0], y)
    sampler = DistributedSampler(data, num_replicas=2, rank=1, shuffle=True, seed=4)
    seen = []
    tr.fit(tiny_model(), data, None, quiet(epochs=2, batch_size=10), sampler=sampler,
           on_step=lambda info: seen.append((info.epoch, info.indices.tolist())))
    expected = []
    for epoch in (1, 2):
        sampler.set_epoch(epoch)
        order = list(sampler)
        expected += [(epoch, order[i:i + 10]) for i in range(0, len(order), 10)]
    assert seen == expected
    assert seen[0][1] != seen[2][1]


def test_channels_last_and_bf16_train_and_keep_the_layout():
    train, val = datasets(n_train=32, n_val=16)
    model = tiny_model()
    history = tr.fit(model, train, val, quiet(epochs=1, channels_last=True, bf16=True))
    assert np.isfinite(history[0]["train_loss"]) and np.isfinite(history[0]["val_loss"])
    assert model.features.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert model.features.conv1.weight.dtype == torch.float32


def test_train_and_val_subsets():
    train, val = datasets(n_train=64, n_val=40)
    history = tr.fit(tiny_model(), train, val, quiet(epochs=1, batch_size=16, train_subset=32, val_subset=8))
    assert history[0]["steps"] == 2
    assert history[0]["val_top1"] * 8 == pytest.approx(round(history[0]["val_top1"] * 8))


# ---------------------------------------------------------------------------------------------
# 이어서 학습


class Interrupt(Exception):
    """학습 도중 전원이 꺼진 것을 흉내 냅니다."""


class InterruptingDataset(torch.utils.data.Dataset):
    """``fail_at`` 번째 항목을 읽으려 할 때 예외를 내는 Dataset."""

    def __init__(self, inner, fail_at: int) -> None:
        self.inner, self.fail_at, self.reads = inner, fail_at, 0

    def __len__(self) -> int:
        return len(self.inner)

    def __getitem__(self, index):
        self.reads += 1
        if self.reads == self.fail_at:
            raise Interrupt
        return self.inner[index]


@pytest.mark.slow
def test_interrupted_and_resumed_run_is_bitwise_identical(tmp_path):
    train, val = datasets()
    cfg = quiet(epochs=3, plateau_patience=0, plateau_threshold=1.0, seed=3)  # 셋째 에폭의 학습률은 0.001

    reference = init_paper_(tiny_model(seed=1))
    ref_history = tr.fit(reference, train, val, dataclasses.replace(cfg, checkpoint_dir=str(tmp_path / "ref")))

    ckpt = str(tmp_path / "run")
    first = init_paper_(tiny_model(seed=1))
    with pytest.raises(Interrupt):  # 둘째 에폭 한가운데에서 끊김
        tr.fit(first, InterruptingDataset(train, fail_at=len(train) + 40), val,
               dataclasses.replace(cfg, checkpoint_dir=ckpt))
    assert load_checkpoint(Path(ckpt) / tr.CHECKPOINT_NAME)["epoch"] == 1

    torch.manual_seed(12345)  # 전역 난수 상태가 달라도 결과는 같아야 함
    resumed = tiny_model(seed=99)  # 다른 초기 가중치: 체크포인트가 덮어씀
    history = tr.fit(resumed, train, val, dataclasses.replace(cfg, checkpoint_dir=ckpt, resume=True))

    assert history == ref_history
    assert any(h["lr"] != cfg.lr for h in history)  # 학습률을 줄인 스케줄러 상태도 이어졌음
    ref_state, state = reference.state_dict(), resumed.state_dict()
    assert ref_state.keys() == state.keys()
    for key in ref_state:
        assert torch.equal(ref_state[key], state[key]), key
    assert not torch.equal(ref_state["features.conv1.weight"], init_paper_(tiny_model(seed=1)).features.conv1.weight)
    saved = load_checkpoint(Path(ckpt) / tr.CHECKPOINT_NAME)
    saved_ref = load_checkpoint(tmp_path / "ref" / tr.CHECKPOINT_NAME)
    for a, b in zip(saved["optimizer"]["state"].values(), saved_ref["optimizer"]["state"].values()):
        assert torch.equal(a["momentum_buffer"], b["momentum_buffer"])


def test_resume_with_different_config_warns(tmp_path):
    train, val = datasets(n_train=32, n_val=16)
    cfg = quiet(epochs=1, checkpoint_dir=str(tmp_path))
    tr.fit(tiny_model(), train, val, cfg)
    with pytest.warns(UserWarning, match="lr"):
        history = tr.fit(tiny_model(), train, val, dataclasses.replace(cfg, epochs=2, lr=0.5, resume=True))
    assert [h["epoch"] for h in history] == [1, 2]


@pytest.mark.parametrize(
    "other",
    [
        {"channels": (4, 8, 8, 8, 4), "hidden_features": 16},  # 같은 층 이름, 다른 모양
        {"channels": (4, 8, 8, 8, 8), "hidden_features": 16, "groups": 2},  # 묶음 합성곱: 다른 모양
    ],
)
def test_resume_with_different_architecture_raises_clear_value_error(tmp_path, other):
    train, val = datasets(n_train=32, n_val=16)
    cfg = quiet(epochs=1, checkpoint_dir=str(tmp_path))
    tr.fit(tiny_model(), train, val, cfg)
    different = AlexNet.for_cifar(pool_output_size=2, **other)
    with pytest.raises(ValueError, match="구조가 다른") as info:
        tr.fit(different, train, val, dataclasses.replace(cfg, epochs=2, resume=True))
    assert isinstance(info.value.__cause__, RuntimeError)  # load_state_dict 의 원래 오류를 이어 둠
    assert str(tmp_path) in str(info.value)


def test_resume_with_fewer_parameter_tensors_raises_value_error(tmp_path):
    train, val = datasets(n_train=32, n_val=16)
    cfg = quiet(epochs=1, checkpoint_dir=str(tmp_path))
    tr.fit(tiny_model(), train, val, cfg)
    flat = nn.Sequential(nn.Flatten(), nn.Linear(3 * 28 * 28, 10))  # (N, 3, 28, 28) -> (N, 2352)
    with pytest.raises(ValueError, match="구조가 다른"):
        tr.fit(flat, train, val, dataclasses.replace(cfg, epochs=2, resume=True))


def test_resume_without_checkpoint_starts_fresh(tmp_path):
    train, val = datasets(n_train=32, n_val=16)
    history = tr.fit(tiny_model(), train, val, quiet(epochs=1, checkpoint_dir=str(tmp_path / "new"), resume=True))
    assert [h["epoch"] for h in history] == [1]
    assert (tmp_path / "new" / tr.CHECKPOINT_NAME).exists()


def test_on_step_returning_true_stops_in_the_middle_of_an_epoch():
    train, val = datasets(n_train=64, n_val=16)
    steps = []
    history = tr.fit(tiny_model(), train, val, quiet(epochs=3, batch_size=16),
                     on_step=lambda info: steps.append(info.step) or info.step == 6)
    assert steps == [1, 2, 3, 4, 5, 6]  # 에폭 1(4 스텝) 다음 에폭 2의 둘째 스텝에서 멈춤
    assert [h["epoch"] for h in history] == [1]  # 끝까지 돈 에폭만 기록
