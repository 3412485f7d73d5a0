"""alexnetbook.train 의 테스트: 설정, top-k, 10개 조각 평가, 작은 학습, 원자적 체크포인트,
끊었다가 이어서 한 학습과 끊지 않은 학습의 비트 단위 일치, 명령줄 도구."""

from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from alexnetbook import train as tr
from alexnetbook.data import CIFAR10_CLASSES
from alexnetbook.models import AlexNet, init_paper_

TINY_MODEL = {"channels": (4, 8, 8, 8, 8), "hidden_features": 16}


def tiny_model(seed: int = 0) -> AlexNet:
    torch.manual_seed(seed)
    return AlexNet.for_cifar(pool_output_size=2, **TINY_MODEL)


def random_images(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    labels = torch.arange(n) % 10
    return images, labels


def datasets(n_train: int = 96, n_val: int = 40, *, ten_crop: bool = False):
    xtr, ytr = random_images(n_train, 0)
    xva, yva = random_images(n_val, 1)
    tf = tr.cifar_transforms(xtr.float().mean(dim=0))
    return (tr.TensorImageDataset(xtr, ytr, tf["train"]),
            tr.TensorImageDataset(xva, yva, tf["ten_crop" if ten_crop else "center"]))


def quiet(**kwargs) -> tr.TrainConfig:
    base = {"epochs": 3, "batch_size": 16, "progress": False, "verbose": False, "device": "cpu"}
    return tr.TrainConfig(**{**base, **kwargs})


# ---------------------------------------------------------------------------------------------
# 설정


def test_default_config_is_the_paper_recipe():
    cfg = tr.TrainConfig()
    assert (cfg.batch_size, cfg.lr, cfg.momentum, cfg.weight_decay, cfg.lr_factor, cfg.max_lr_drops) == (
        128, 0.01, 0.9, 5e-4, 0.1, 3,
    )
    assert cfg.epochs == 90
    assert tr.TrainConfig.preset("paper") == cfg


def test_tiny_preset_and_overrides():
    tiny = tr.TrainConfig.preset("tiny")
    assert tiny.epochs < 5 and tiny.train_subset is not None and tiny.val_subset is not None
    assert (tiny.lr, tiny.momentum, tiny.weight_decay) == (0.01, 0.9, 5e-4)
    assert tr.TrainConfig.preset("tiny", epochs=5).epochs == 5
    with pytest.raises(ValueError, match="preset"):
        tr.TrainConfig.preset("huge")
    with pytest.raises(ValueError, match="없는 필드"):
        tr.TrainConfig.preset("tiny", learning_rate=0.1)


@pytest.mark.parametrize(
    "kwargs",
    [{"epochs": 0}, {"lr": 0.0}, {"lr": float("nan")}, {"momentum": 1.0}, {"lr_factor": 1.0},
     {"batch_size": 2.5}, {"train_subset": 0}, {"seed": -1}, {"resume": True}],
)
def test_bad_config_raises(kwargs):
    with pytest.raises(ValueError):
        tr.TrainConfig(**kwargs)


# ---------------------------------------------------------------------------------------------
# top-k 와 평가


def test_topk_errors_matches_sorting():
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(200, 12, generator=g)
    targets = torch.randint(0, 12, (200,), generator=g)
    rank = (scores > scores.gather(1, targets[:, None])).sum(dim=1)  # 정답보다 점수가 큰 클래스 수
    wrong = tr.topk_errors(scores, targets, (1, 5, 12, 20))
    assert wrong[1] == int((rank >= 1).sum())
    assert wrong[5] == int((rank >= 5).sum())
    assert wrong[12] == wrong[20] == 0
    assert wrong[1] >= wrong[5] > 0
    with pytest.raises(ValueError, match="scores"):
        tr.topk_errors(scores[0], targets)


def test_evaluate_ten_crop_averages_softmax():
    model = tiny_model().eval()
    _, val = datasets(n_val=20, ten_crop=True)
    crops = torch.stack([val[i][0] for i in range(len(val))])  # (N, 10, C, H, W)
    labels = torch.stack([val[i][1] for i in range(len(val))])
    assert crops.shape == (20, 10, 3, 28, 28)
    with torch.no_grad():
        probs = model(crops.flatten(0, 1)).softmax(1).view(20, 10, -1).mean(1)  # (N*10, K) -> (N, K)
    result = tr.evaluate(model, val, batch_size=7)
    assert result["top1"] == pytest.approx(float((probs.argmax(1) != labels).float().mean()))
    expected_loss = nn.functional.nll_loss(probs.log(), labels).item()
    assert result["loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert 0.0 <= result["top5"] <= result["top1"] <= 1.0


def test_ten_crop_transform_matches_flipped_corners():
    xtr, _ = random_images(4, 0)
    mean = xtr.float().mean(dim=0)
    tf = tr.cifar_transforms(mean)
    crops = tf["ten_crop"](xtr[0])
    centre = tf["center"](xtr[0])
    full = xtr[0].float() - mean
    assert crops.shape == (10, 3, 28, 28)
    assert torch.equal(crops[4], centre)  # TenCrop 순서: 네 귀퉁이, 가운데, 그리고 반전한 다섯
    assert torch.equal(crops[0], full[:, :28, :28])
    assert torch.equal(crops[9], centre.flip(-1))


def test_evaluate_restores_training_mode_and_rejects_bad_batches():
    model = tiny_model().train()
    _, val = datasets(n_val=10)
    tr.evaluate(model, val)
    assert model.training
    bad = torch.utils.data.TensorDataset(torch.zeros(4, 3, 28), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="배치"):
        tr.evaluate(model, bad)


# ---------------------------------------------------------------------------------------------
# 학습


def test_tiny_preset_runs_and_learns_a_separable_task():
    """색으로 구분되는 두 클래스는 작은 설정으로도 배워야 합니다(학습 루프가 실제로 학습하는지)."""
    n = 600
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(n) % 2
    images = torch.randint(0, 100, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    images[labels == 1, 0] += 120  # 클래스 1은 빨간 채널이 밝음
    tf = tr.cifar_transforms(images.float().mean(dim=0))
    train = tr.TensorImageDataset(images[:400], labels[:400], tf["train"])
    val = tr.TensorImageDataset(images[400:], labels[400:], tf["center"])
    torch.manual_seed(0)
    model = AlexNet.for_cifar(num_classes=2, pool_output_size=2, **TINY_MODEL)
    cfg = tr.TrainConfig.preset("tiny", epochs=3, progress=False, verbose=False, device="cpu")
    history = tr.fit(model, train, val, cfg)
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert set(history[0]) == {"epoch", "lr", "train_loss", "train_top1", "val_loss", "val_top1", "val_top5"}
    assert all(np.isfinite(list(h.values())).all() for h in history)
    assert history[-1]["val_top1"] < 0.2
    assert history[-1]["val_top5"] == 0.0  # 클래스가 2개뿐이면 top-5 는 항상 맞음


def test_lr_is_divided_on_plateau_at_most_max_drops():
    train, val = datasets(n_train=32, n_val=16)
    cfg = quiet(epochs=6, plateau_patience=0, plateau_threshold=1.0, max_lr_drops=2, lr=1e-3)
    history = tr.fit(tiny_model(), train, val, cfg)  # threshold 1.0 이면 둘째 에폭부터 매번 "정체"
    lrs = [h["lr"] for h in history]
    assert lrs == pytest.approx([1e-3, 1e-3, 1e-4, 1e-5, 1e-5, 1e-5])


def test_non_finite_loss_raises():
    train, val = datasets(n_train=32, n_val=16)
    model = tiny_model()
    with torch.no_grad():
        model.classifier.fc8.bias.fill_(float("nan"))
    with pytest.raises(RuntimeError, match="손실"):
        tr.fit(model, train, val, quiet(epochs=1))


# ---------------------------------------------------------------------------------------------
# 체크포인트와 이어서 학습


def test_checkpoint_roundtrip_uses_weights_only(tmp_path):
    path = tr.save_checkpoint({"format": 1, "x": torch.arange(3)}, tmp_path / "a" / "last.pt")
    assert torch.equal(tr.load_checkpoint(path)["x"], torch.arange(3))
    # 임의의 파이썬 객체가 든 파일은 weights_only=True 가 거부합니다.
    evil = tmp_path / "evil.pt"
    torch.save({"format": 1, "obj": Interrupt("임의의 객체")}, evil)
    with pytest.raises(pickle.UnpicklingError):
        tr.load_checkpoint(evil)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(1)}, other)
    with pytest.raises(ValueError, match="체크포인트"):
        tr.load_checkpoint(other)


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    tr.save_checkpoint({"format": 1, "epoch": 1}, path)
    real_save = torch.save

    def crash_halfway(obj, f, *args, **kwargs):
        real_save({"format": 1, "epoch": 2, "pad": torch.zeros(1000)}, f)
        f.truncate(100)  # 반쯤 쓴 파일
        raise KeyboardInterrupt

    monkeypatch.setattr(tr.torch, "save", crash_halfway)
    with pytest.raises(KeyboardInterrupt):
        tr.save_checkpoint({"format": 1, "epoch": 2}, path)
    monkeypatch.setattr(tr.torch, "save", real_save)
    assert tr.load_checkpoint(path)["epoch"] == 1  # 이전 체크포인트가 온전히 남음
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]  # 임시 파일도 남지 않음


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
    assert tr.load_checkpoint(Path(ckpt) / tr.CHECKPOINT_NAME)["epoch"] == 1

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
    saved = tr.load_checkpoint(Path(ckpt) / tr.CHECKPOINT_NAME)
    saved_ref = tr.load_checkpoint(tmp_path / "ref" / tr.CHECKPOINT_NAME)
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
        {"channels": (4, 8, 8, 8, 8), "hidden_features": 16, "lrn": True, "groups": 2},  # 묶음 합성곱: 다른 모양
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


# ---------------------------------------------------------------------------------------------
# 데이터 도우미와 명령줄 도구


def test_tensor_image_dataset_validates():
    with pytest.raises(ValueError, match="uint8"):
        tr.TensorImageDataset(torch.zeros(2, 3, 4, 4), torch.zeros(2))
    with pytest.raises(ValueError, match="모양"):
        tr.TensorImageDataset(torch.zeros(2, 4, 4, dtype=torch.uint8), torch.zeros(2))


@pytest.mark.timeout(120)
def test_cli_help():
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-m", "alexnetbook.train", "--help"], cwd=root,
                         capture_output=True, text=True, check=True, timeout=100).stdout
    for option in ("--preset", "--dataset", "cifar10-offline", "folder", "--device", "--resume", "--ten-crop"):
        assert option in out


@pytest.fixture
def fake_cifar_root(tmp_path) -> Path:
    """CIFAR-10 오프라인 사본과 같은 모양의 아주 작은 ImageFolder(클래스마다 학습 3장, 검증 2장)."""
    rng = np.random.default_rng(0)
    for split, count in (("train", 3), ("test", 2)):
        for name in CIFAR10_CLASSES:
            folder = tmp_path / "cifar10-subset" / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return tmp_path


@pytest.mark.timeout(120)
def test_cli_tiny_then_resume(fake_cifar_root, tmp_path, capsys):
    args = ["--preset", "tiny", "--dataset", "cifar10-offline", "--data-dir", str(fake_cifar_root),
            "--device", "cpu", "--no-progress", "--checkpoint-dir", str(tmp_path / "ckpt"), "--epochs", "1"]
    assert tr.main(args) == 0
    assert tr.load_checkpoint(tmp_path / "ckpt" / tr.CHECKPOINT_NAME)["epoch"] == 1
    assert tr.main([*args[:-1], "2", "--resume", "--ten-crop"]) == 0
    state = tr.load_checkpoint(tmp_path / "ckpt" / tr.CHECKPOINT_NAME)
    assert state["epoch"] == 2 and [h["epoch"] for h in state["history"]] == [1, 2]
    out = capsys.readouterr().out
    assert "이어서 학습" in out and "학습 30장" in out


@pytest.mark.timeout(120)
def test_cli_prints_the_number_of_images_actually_used(fake_cifar_root, tmp_path, capsys):
    args = ["--preset", "tiny", "--dataset", "cifar10-offline", "--data-dir", str(fake_cifar_root),
            "--device", "cpu", "--no-progress", "--checkpoint-dir", str(tmp_path / "ckpt"), "--epochs", "1",
            "--train-subset", "12", "--val-subset", "7"]
    assert tr.main(args) == 0
    out = capsys.readouterr().out
    assert "학습 12장(전체 30장 중)" in out and "검증 7장(전체 20장 중)" in out
    state = tr.load_checkpoint(tmp_path / "ckpt" / tr.CHECKPOINT_NAME)
    assert state["config"]["train_subset"] == 12 and state["config"]["val_subset"] == 7


def test_patience_help_matches_reduce_lr_on_plateau():
    """--patience 의 도움말이 말하는 규칙(patience + 1 에폭 연속 정체 때 ÷10)을 실제 스케줄러로 확인합니다."""
    help_text = " ".join(tr._parser().format_help().split())
    assert "patience + 1 에폭 연속 정체" in help_text
    param = torch.zeros(1, requires_grad=True)
    for patience in (0, 1, 2):
        optimizer = torch.optim.SGD([param], lr=1.0)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=patience, threshold=1e-3,
                                                               threshold_mode="abs")
        scheduler.step(0.5)  # 첫 에폭: 최고 기록
        stalled = 0
        while optimizer.param_groups[0]["lr"] == 1.0:
            scheduler.step(0.5)  # 정체한 에폭
            stalled += 1
        assert stalled == patience + 1


@pytest.mark.timeout(120)
def test_cli_folder_requires_train_and_val(tmp_path):
    with pytest.raises(SystemExit, match="val"):
        tr.main(["--dataset", "folder", "--data-dir", str(tmp_path), "--device", "cpu"])
    (tmp_path / "train").mkdir()
    with pytest.raises(SystemExit, match="val"):
        tr.main(["--dataset", "folder", "--data-dir", str(tmp_path), "--device", "cpu"])


def test_module_is_runnable_and_exports():
    assert os.path.exists(tr.__file__)
    for name in tr.__all__:
        assert hasattr(tr, name), name
