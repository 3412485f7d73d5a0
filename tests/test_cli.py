"""``python -m alexnetbook.train`` (alexnetbook.cli) 의 테스트."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from alexnetbook import cli
from alexnetbook.checkpoint import load_checkpoint
from alexnetbook.data import CIFAR10_CLASSES
from alexnetbook.train import CHECKPOINT_NAME

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_module_runs_as_a_program_and_prints_help():
    out = subprocess.run([sys.executable, "-m", "alexnetbook.train", "--help"], cwd=ROOT,
                         capture_output=True, text=True, check=True, timeout=250).stdout
    for option in ("--preset", "--dataset", "cifar10-offline", "folder", "--device", "--resume", "--ten-crop"):
        assert option in out


@pytest.fixture
def fake_cifar_root(tmp_path) -> Path:
    """CIFAR-10 오프라인 사본과 같은 모양의 아주 작은 ImageFolder(클래스마다 학습 3장, 테스트 2장)."""
    rng = np.random.default_rng(0)
    for split, count in (("train", 3), ("test", 2)):
        for name in CIFAR10_CLASSES:
            folder = tmp_path / "cifar10-subset" / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return tmp_path


def run_args(root: Path, ckpt: Path, *extra: str) -> list[str]:
    return ["--preset", "tiny", "--dataset", "cifar10-offline", "--data-dir", str(root), "--device", "cpu",
            "--no-progress", "--checkpoint-dir", str(ckpt), *extra]


@pytest.mark.timeout(300)
def test_tiny_run_then_resume_with_ten_crop(fake_cifar_root, tmp_path, capsys):
    args = run_args(fake_cifar_root, tmp_path / "ckpt", "--epochs", "1")
    assert cli.main(args) == 0
    assert load_checkpoint(tmp_path / "ckpt" / CHECKPOINT_NAME)["epoch"] == 1
    assert cli.main([*args[:-1], "2", "--resume", "--ten-crop"]) == 0
    state = load_checkpoint(tmp_path / "ckpt" / CHECKPOINT_NAME)
    assert state["epoch"] == 2 and [h["epoch"] for h in state["history"]] == [1, 2]
    out = capsys.readouterr().out
    # 학습 30장 중 클래스마다 한 장(10%, 적어도 한 장)을 검증 세트로 뗍니다. 테스트 세트는 쓰지 않습니다.
    assert "이어서 학습" in out and "학습 20장" in out and "검증 10장" in out


@pytest.mark.timeout(300)
def test_prints_the_number_of_images_actually_used(fake_cifar_root, tmp_path, capsys):
    args = run_args(fake_cifar_root, tmp_path / "ckpt", "--epochs", "1", "--train-subset", "12", "--val-subset", "7")
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "학습 12장(전체 20장 중)" in out and "검증 7장(전체 10장 중)" in out
    state = load_checkpoint(tmp_path / "ckpt" / CHECKPOINT_NAME)
    assert state["config"]["train_subset"] == 12 and state["config"]["val_subset"] == 7


def test_patience_help_matches_reduce_lr_on_plateau():
    """--patience 의 도움말이 말하는 규칙(patience + 1 에폭 연속 정체 때 ÷10)을 실제 스케줄러로 확인합니다."""
    help_text = " ".join(cli._parser().format_help().split())
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


def test_folder_requires_train_and_val(tmp_path):
    with pytest.raises(SystemExit, match="val"):
        cli.main(["--dataset", "folder", "--data-dir", str(tmp_path), "--device", "cpu"])
    (tmp_path / "train").mkdir()
    with pytest.raises(SystemExit, match="val"):
        cli.main(["--dataset", "folder", "--data-dir", str(tmp_path), "--device", "cpu"])


def test_offline_dataset_missing_is_a_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match="오프라인"):
        cli.main(["--dataset", "cifar10-offline", "--data-dir", str(tmp_path), "--device", "cpu"])
