"""논문 §5의 학습 방법을 따르는 작은 학습 루프와 명령줄 도구.

* :class:`TrainConfig`: 학습 설정(``@dataclass``). 기본값이 논문의 방법입니다(preset ``"paper"``):
  모멘텀 0.9, 가중치 감쇠 5e-4, 배치 128, 학습률 0.01 에서 시작해 검증 오류율이 더 나아지지 않으면
  10으로 나누기를 세 번까지. ``TrainConfig.preset("tiny")`` 는 CPU 에서 파이프라인을 빠르게 확인하는 작은
  설정(학습 512장, 검증 256장, 2 에폭)입니다.
* :func:`fit`: 모델과 상관없이(model-agnostic) 쓸 수 있는 학습 루프. top-1/top-5 오류율, tqdm 진행 막대,
  에폭별 기록(``list[dict]``), 에폭마다 원자적(atomic) 체크포인트, ``resume=True`` 로 이어서 학습.
  에폭마다 난수 시드를 ``(seed, epoch)`` 에서 다시 정하므로, 중간에 끊었다가 이어서 학습해도 CPU 에서는
  끊지 않은 학습과 **비트 단위로 같은** 가중치가 나옵니다.
* :func:`evaluate`: top-1/top-5 오류율. ``(N, crops, C, H, W)`` 배치가 오면 잘라 낸 조각들의
  소프트맥스 출력을 평균합니다(논문 §4.1의 10개 패치 테스트).
* ``python -m alexnetbook.train --help``: GPU 가 있는 독자를 위한 명령줄 도구. 오프라인 CIFAR-10 사본,
  torchvision 으로 내려받는 CIFAR-10 전체, ImageFolder 폴더(Imagenette, ImageNet 등)를 학습합니다.

PyTorch 의 ``SGD(momentum=0.9, weight_decay=5e-4)`` 는 논문의 갱신 식과 학습률이 일정할 때 같고,
학습률을 바꾼 직후에만 다릅니다(책의 학습 장 참고).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, Subset

from .augment import ten_crop_predict
from .utils import get_device, set_seed

__all__ = [
    "CHECKPOINT_NAME",
    "PRESETS",
    "TensorImageDataset",
    "TrainConfig",
    "cifar_datasets",
    "cifar_transforms",
    "evaluate",
    "fit",
    "load_checkpoint",
    "main",
    "save_checkpoint",
    "topk_errors",
]

#: ``checkpoint_dir`` 안에서 매 에폭 덮어쓰는 체크포인트 파일 이름.
CHECKPOINT_NAME = "last.pt"

#: 체크포인트 형식 번호. 내용이 바뀌면 올립니다.
_CHECKPOINT_FORMAT = 1

#: 이어서 학습할 때 달라도 되는 설정(결과를 바꾸지 않거나, 바꾸는 것이 목적인 것).
_RESUMABLE_CHANGES = frozenset({"epochs", "resume", "progress", "verbose", "device", "checkpoint_dir", "num_workers"})


@dataclass
class TrainConfig:
    """학습 설정. 기본값은 논문 §5의 방법입니다.

    Attributes:
        epochs: 학습할 총 에폭 수(이어서 학습할 때도 총 에폭 수). 논문은 약 90.
        batch_size: 미니배치 크기. 논문 128.
        lr: 처음 학습률. 논문 0.01(모든 층에 같은 값).
        momentum: 모멘텀. 논문 0.9.
        weight_decay: 가중치 감쇠. 논문 0.0005. PyTorch 처럼 모든 매개변수(편향 포함)에 적용합니다.
        lr_factor: 검증 오류율이 정체되면 학습률에 곱하는 값(0과 1 사이). 논문 0.1(10으로 나눔).
        plateau_patience: 검증 top-1 오류율이 나아지지 않은 에폭이 이 수를 **넘어** 이어지면(``ReduceLROnPlateau``
            의 ``patience``) 학습률을 줄입니다. 곧 ``plateau_patience + 1`` 에폭 연속으로 정체하면 줄입니다
            (1이면 두 에폭 연속, 0이면 한 에폭만 정체해도). 논문은 사람이 보고 정했으므로 이 값은 이 책의
            선택입니다.
        plateau_threshold: 이만큼(절댓값, 0–1 오류율) 넘게 줄어야 "나아졌다"고 봅니다.
        max_lr_drops: 학습률을 줄이는 최대 횟수. 논문은 끝나기 전까지 세 번.
        seed: 모든 난수의 시드. 에폭마다 ``(seed, epoch)`` 에서 시드를 다시 정합니다.
        train_subset: 학습 세트에서 (시드로 고른) 이만큼만 씁니다. ``None`` 이면 전부.
        val_subset: 검증 세트에서 이만큼만 씁니다. ``None`` 이면 전부.
        device: ``"cpu"``, ``"cuda"`` 등. ``None`` 이면 :func:`alexnetbook.utils.get_device` 가 고릅니다.
        num_workers: ``DataLoader`` 의 작업 프로세스 수.
        checkpoint_dir: 체크포인트 폴더. ``None`` 이면 저장하지 않습니다.
        resume: ``True`` 이고 ``checkpoint_dir`` 에 체크포인트가 있으면 거기서 이어서 학습합니다.
        progress: tqdm 진행 막대를 보일지 여부.
        verbose: 에폭마다 한 줄 요약을 출력할지 여부.
    """

    epochs: int = 90
    batch_size: int = 128
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    lr_factor: float = 0.1
    plateau_patience: int = 3
    plateau_threshold: float = 1e-3
    max_lr_drops: int = 3
    seed: int = 0
    train_subset: int | None = None
    val_subset: int | None = None
    device: str | None = None
    num_workers: int = 0
    checkpoint_dir: str | None = None
    resume: bool = False
    progress: bool = True
    verbose: bool = True

    def __post_init__(self) -> None:
        positive = ("epochs", "batch_size")
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}는 1 이상의 정수여야 합니다. 받은 값: {value!r}")
        for name in ("train_subset", "val_subset"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name}는 None 또는 1 이상의 정수여야 합니다. 받은 값: {value!r}")
        for name in ("plateau_patience", "max_lr_drops", "num_workers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}는 0 이상의 정수여야 합니다. 받은 값: {value!r}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr은 양수여야 합니다. 받은 값: {self.lr!r}")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum은 [0, 1) 범위여야 합니다. 받은 값: {self.momentum!r}")
        if not self.weight_decay >= 0.0:
            raise ValueError(f"weight_decay는 0 이상이어야 합니다. 받은 값: {self.weight_decay!r}")
        if not 0.0 < self.lr_factor < 1.0:
            raise ValueError(
                f"lr_factor는 (0, 1) 범위여야 합니다(줄이지 않으려면 max_lr_drops=0). 받은 값: {self.lr_factor!r}"
            )
        if not self.plateau_threshold >= 0.0:
            raise ValueError(f"plateau_threshold는 0 이상이어야 합니다. 받은 값: {self.plateau_threshold!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise ValueError(f"seed는 0 이상 2**32 미만의 정수여야 합니다. 받은 값: {self.seed!r}")
        if self.resume and self.checkpoint_dir is None:
            raise ValueError("resume=True 이면 checkpoint_dir 도 정해야 합니다.")

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> TrainConfig:
        """이름 있는 설정(:data:`PRESETS`)에 ``overrides`` 를 덮어쓴 설정을 만듭니다.

        Args:
            name: ``"paper"`` (논문 §5) 또는 ``"tiny"`` (학습 512장·검증 256장·2 에폭, CPU 에서 빠르게 확인하는 용도).
            **overrides: 바꿀 필드.

        Raises:
            ValueError: 모르는 이름이거나 없는 필드를 덮어쓰려 할 때.
        """
        if name not in PRESETS:
            raise ValueError(f"preset은 {sorted(PRESETS)} 중 하나여야 합니다. 받은 값: {name!r}")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(overrides) - fields
        if unknown:
            raise ValueError(f"TrainConfig 에 없는 필드: {sorted(unknown)}")
        return dataclasses.replace(PRESETS[name], **overrides)


#: 이름 있는 설정. ``"paper"`` 는 논문 §5, ``"tiny"`` 는 학습 세트 512장·검증 256장으로 2 에폭만 돕니다.
PRESETS: dict[str, TrainConfig] = {
    "paper": TrainConfig(),
    "tiny": TrainConfig(epochs=2, batch_size=32, plateau_patience=1, train_subset=512, val_subset=256),
}


# --------------------------------------------------------------------------------------------------
# 평가


def topk_errors(scores: Tensor, targets: Tensor, ks: Sequence[int] = (1, 5)) -> dict[int, int]:
    """top-``k`` 로 틀린 샘플 수를 셉니다.

    Args:
        scores: ``(N, K)`` 로짓이나 확률(클수록 그럴듯함).
        targets: ``(N,)`` 정수 레이블.
        ks: 셀 ``k`` 들. ``k`` 가 클래스 수 ``K`` 보다 크면 ``K`` 로 줄입니다(그때는 틀린 샘플이 없음).

    Returns:
        ``k`` → top-``k`` 안에 정답이 없는 샘플 수.

    Raises:
        ValueError: 모양이 맞지 않을 때.
    """
    if scores.dim() != 2 or targets.dim() != 1 or len(scores) != len(targets):
        raise ValueError(
            f"scores는 (N, K), targets는 (N,) 이어야 합니다. 받은 모양: {tuple(scores.shape)}, {tuple(targets.shape)}"
        )
    kmax = min(max(ks), scores.shape[1])
    top = scores.topk(kmax, dim=1).indices  # (N, kmax), 점수가 큰 순서
    hit = top == targets[:, None]  # (N, kmax)
    return {k: int((~hit[:, : min(k, kmax)].any(dim=1)).sum()) for k in ks}


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: Dataset | DataLoader,
    *,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    num_workers: int = 0,
) -> dict[str, float]:
    """평가 모드에서 평균 교차 엔트로피와 top-1/top-5 오류율을 잽니다.

    입력 배치가 ``(N, crops, C, H, W)`` 이면 조각마다 모델을 돌려 **소프트맥스 출력을 평균**한 뒤
    판정합니다(논문 §4.1: 네 귀퉁이와 가운데 다섯 조각과 그 좌우 반전, 모두 10개). 손실도 평균한
    확률의 음의 로그 가능도입니다. 모델의 train/eval 상태는 되돌려 놓습니다.

    Args:
        model: ``(B, C, H, W)`` 를 ``(B, K)`` 로짓으로 바꾸는 모델.
        data: ``(이미지, 레이블)`` 을 내는 Dataset 또는 DataLoader.
        batch_size: ``data`` 가 Dataset 일 때 쓸 배치 크기.
        device: 계산할 장치. ``None`` 이면 모델의 매개변수가 있는 장치.
        num_workers: ``data`` 가 Dataset 일 때 ``DataLoader`` 작업 프로세스 수.

    Returns:
        ``{"loss", "top1", "top5"}``; 오류율은 0–1.

    Raises:
        ValueError: 배치가 4차원도 5차원도 아니거나 데이터가 비었을 때.
    """
    loader = data if isinstance(data, DataLoader) else DataLoader(data, batch_size=batch_size, num_workers=num_workers)
    device = torch.device(device) if device is not None else _model_device(model)
    was_training = model.training
    model.eval()
    loss_sum, wrong1, wrong5, count = 0.0, 0, 0, 0
    try:
        for images, targets in loader:
            images, targets = images.to(device), targets.to(device)
            if images.dim() == 5:
                probs = ten_crop_predict(model, images).float()  # (N, crops, C, H, W) -> (N, K) 평균 확률
                loss = F.nll_loss(probs.clamp_min(1e-12).log(), targets, reduction="sum")
                scores = probs
            elif images.dim() == 4:
                scores = model(images).float()
                loss = F.cross_entropy(scores, targets, reduction="sum")
            else:
                raise ValueError(
                    f"배치는 (N, C, H, W) 또는 (N, crops, C, H, W) 여야 합니다. 받은 모양: {tuple(images.shape)}"
                )
            wrong = topk_errors(scores, targets, (1, 5))
            loss_sum += float(loss)
            wrong1 += wrong[1]
            wrong5 += wrong[5]
            count += len(targets)
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("평가할 데이터가 비어 있습니다.")
    return {"loss": loss_sum / count, "top1": wrong1 / count, "top5": wrong5 / count}


def _model_device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


# --------------------------------------------------------------------------------------------------
# 체크포인트


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """``state`` 를 ``path`` 에 원자적으로 저장합니다.

    같은 폴더의 임시 파일에 모두 쓰고 디스크에 내린(fsync) 다음 ``os.replace`` 로 이름을 바꿉니다.
    이름 바꾸기는 원자적이므로, 저장 도중에 프로그램이 죽어도 ``path`` 에는 이전 체크포인트나 새
    체크포인트 중 하나가 온전히 남고, 반쯤 쓰인 파일은 남지 않습니다.

    Returns:
        저장한 경로.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """:func:`save_checkpoint` 로 저장한 체크포인트를 ``torch.load(weights_only=True)`` 로 읽습니다.

    ``weights_only=True`` 는 텐서, 기본 자료형, 리스트와 딕셔너리만 복원하므로 믿을 수 없는 파일을
    열어도 임의의 코드가 실행되지 않습니다.

    Raises:
        FileNotFoundError: 파일이 없을 때.
        ValueError: 이 모듈이 만든 체크포인트가 아닐 때.
    """
    state = torch.load(Path(path), map_location=map_location, weights_only=True)
    if not isinstance(state, dict) or state.get("format") != _CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: alexnetbook.train 형식 {_CHECKPOINT_FORMAT} 체크포인트가 아닙니다.")
    return state


# --------------------------------------------------------------------------------------------------
# 학습 루프


def _epoch_seed(seed: int, epoch: int) -> int:
    """에폭마다 새로 정하는 시드. 이어서 학습해도 같은 에폭은 같은 난수열을 씁니다."""
    return (seed * 1_000_003 + epoch) % 2**32


def _subset(data: Dataset, size: int | None, seed: int) -> Dataset:
    if size is None or size >= len(data):  # type: ignore[arg-type]
        return data
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))  # type: ignore[arg-type]
    return Subset(data, order[:size].tolist())


def _progress(iterable: Any, enabled: bool, **kwargs: Any) -> Any:
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)


def fit(
    model: nn.Module,
    train_data: Dataset,
    val_data: Dataset | None = None,
    config: TrainConfig | None = None,
    *,
    on_epoch_end: Callable[[dict[str, float]], None] | None = None,
) -> list[dict[str, float]]:
    """``model`` 을 모멘텀 SGD 로 학습하고 에폭별 기록을 돌려줍니다.

    한 에폭은 (1) 시드를 ``(seed, epoch)`` 로 다시 정하고 (2) 학습 세트를 섞어 한 바퀴 돌고
    (3) 검증 세트로 top-1/top-5 오류율을 재고 (4) 검증 top-1 오류율로 학습률 스케줄러
    (``ReduceLROnPlateau``)를 한 걸음 옮기고 (5) 체크포인트를 원자적으로 저장합니다.

    Args:
        model: ``(B, C, H, W)`` → ``(B, K)`` 로짓 모델. 제자리에서 학습되고 ``config.device`` 로 옮겨집니다.
        train_data: ``(이미지 텐서, 레이블)`` 을 내는 map-style Dataset(증강은 그 안의 변환이 합니다).
        val_data: 검증 Dataset. 이미지가 ``(crops, C, H, W)`` 이면 조각 평균으로 평가합니다.
            ``None`` 이면 학습 손실로 정체를 판단합니다.
        config: 학습 설정. ``None`` 이면 ``TrainConfig()`` (논문 방법).
        on_epoch_end: 에폭마다 그 에폭의 기록(체크포인트 저장 뒤)을 받아 부르는 함수.

    Returns:
        에폭마다 ``{"epoch", "lr", "train_loss", "train_top1", "val_loss", "val_top1", "val_top5"}``
        딕셔너리 하나(검증 세트가 없으면 ``val_*`` 없음). 이어서 학습했다면 앞선 에폭의 기록도 들어
        있습니다. ``train_top1`` 은 드롭아웃을 켠 채 에폭 동안 센 오류율입니다.

    Warns:
        UserWarning: 이어서 학습할 때 체크포인트의 설정이 ``config`` 와 다르면(결과를 바꾸는 필드만).

    Raises:
        ValueError: ``resume=True`` 인데 체크포인트가 이 모듈의 형식이 아니거나, 체크포인트의 모델·옵티마이저
            상태가 ``model`` 과 맞지 않을 때(층 이름이나 모양이 다른 모델, 곧 다른 구조로 만든 체크포인트).
        RuntimeError: 손실이 NaN/inf 가 되었을 때(학습률이 너무 큼).
    """
    config = config if config is not None else TrainConfig()
    device = get_device(config.device)
    model.to(device)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer,
        mode="min",
        factor=config.lr_factor,
        patience=config.plateau_patience,
        threshold=config.plateau_threshold,
        threshold_mode="abs",
        min_lr=config.lr * config.lr_factor**config.max_lr_drops,
    )
    train_part = _subset(train_data, config.train_subset, config.seed)
    val_part = _subset(val_data, config.val_subset, config.seed + 1) if val_data is not None else None

    history: list[dict[str, float]] = []
    start_epoch = 1
    ckpt_path = Path(config.checkpoint_dir) / CHECKPOINT_NAME if config.checkpoint_dir is not None else None
    if config.resume and ckpt_path is not None and ckpt_path.exists():
        state = load_checkpoint(ckpt_path, map_location=device)
        _warn_if_config_changed(state["config"], config)
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError) as err:  # 층 이름이나 모양이 다름(RuntimeError), 매개변수 수가 다름(ValueError)
            raise ValueError(
                f"체크포인트 {ckpt_path} 는 이 model 과 구조가 다른 모델의 것이어서 이어서 학습할 수 없습니다. "
                f"같은 구조로 모델을 만들거나 다른 checkpoint_dir 을 쓰세요. 원래 오류: {err}"
            ) from err
        scheduler.load_state_dict(state["scheduler"])
        history = list(state["history"])
        start_epoch = int(state["epoch"]) + 1
        if config.verbose:
            if start_epoch > config.epochs:
                print(f"체크포인트 {ckpt_path} 가 이미 에폭 {start_epoch - 1} 까지 학습했습니다(epochs={config.epochs}).")
            else:
                print(f"체크포인트 {ckpt_path} 의 에폭 {start_epoch - 1} 에서 이어서 학습합니다.")

    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(start_epoch, config.epochs + 1):
        seed = _epoch_seed(config.seed, epoch)
        generator = set_seed(seed)  # 드롭아웃과 증강(전역 난수)도 이 에폭의 시드로 다시 시작합니다
        loader = DataLoader(
            train_part,
            batch_size=config.batch_size,
            shuffle=True,
            generator=generator,
            num_workers=config.num_workers,
            pin_memory=device.type == "cuda",
            persistent_workers=False,
        )
        lr = optimizer.param_groups[0]["lr"]
        model.train()
        loss_sum, wrong, count = 0.0, 0, 0
        bar = _progress(loader, config.progress, desc=f"에폭 {epoch}/{config.epochs}", leave=False)
        for images, targets in bar:
            images = images.to(device, non_blocking=True)
            targets = targets.to(device, non_blocking=True)
            logits = model(images)
            loss = loss_fn(logits, targets)
            if not torch.isfinite(loss):
                raise RuntimeError(f"에폭 {epoch} 에서 손실이 {loss.item()} 가 되었습니다(학습률 {lr} 이 너무 큽니다).")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(targets)
            wrong += topk_errors(logits.detach(), targets, (1,))[1]
            count += len(targets)
            if config.progress:
                bar.set_postfix(loss=f"{loss_sum / count:.3f}")
        record: dict[str, float] = {
            "epoch": epoch,
            "lr": lr,
            "train_loss": loss_sum / count,
            "train_top1": wrong / count,
        }
        if val_part is not None:
            metrics = evaluate(model, val_part, batch_size=config.batch_size, device=device,
                               num_workers=config.num_workers)
            record.update({f"val_{k}": v for k, v in metrics.items()})
            scheduler.step(metrics["top1"])
        else:
            scheduler.step(record["train_loss"])
        history.append(record)
        if ckpt_path is not None:
            save_checkpoint(
                {
                    "format": _CHECKPOINT_FORMAT,
                    "epoch": epoch,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "history": history,
                    "config": dataclasses.asdict(config),
                },
                ckpt_path,
            )
        if config.verbose:
            print(_format_record(record), flush=True)
        if on_epoch_end is not None:
            on_epoch_end(record)
    return history


def _format_record(record: dict[str, float]) -> str:
    text = (
        f"에폭 {int(record['epoch']):3d}  학습률 {record['lr']:.0e}  학습 손실 {record['train_loss']:.3f}"
        f"  학습 top-1 {100 * record['train_top1']:5.1f}%"
    )
    if "val_top1" in record:
        text += f"  검증 top-1 {100 * record['val_top1']:5.1f}%  top-5 {100 * record['val_top5']:5.1f}%"
    return text


def _warn_if_config_changed(saved: dict[str, Any], config: TrainConfig) -> None:
    current = dataclasses.asdict(config)
    changed = sorted(k for k in current if k not in _RESUMABLE_CHANGES and saved.get(k) != current[k])
    if changed:
        warnings.warn(
            f"체크포인트와 설정이 다릅니다({', '.join(changed)}). 이어서 학습하지만, 끊지 않은 학습과 결과가 같지 않습니다.",
            stacklevel=3,
        )


# --------------------------------------------------------------------------------------------------
# 데이터: 메모리에 올린 작은 이미지 세트와 변환


class TensorImageDataset(Dataset):
    """메모리에 올린 ``uint8`` 이미지 텐서 데이터셋(JPEG 를 에폭마다 다시 풀지 않도록).

    Args:
        images: ``(N, C, H, W)`` ``uint8`` 텐서.
        labels: ``(N,)`` 정수 텐서.
        transform: ``(C, H, W)`` ``uint8`` 텐서 하나를 받아 모델 입력을 돌려주는 함수.

    Raises:
        ValueError: 모양이나 dtype 이 맞지 않을 때.
    """

    def __init__(self, images: Tensor, labels: Tensor, transform: Callable[[Tensor], Tensor] | None = None) -> None:
        if images.dim() != 4 or labels.dim() != 1 or len(images) != len(labels):
            raise ValueError(
                f"images는 (N, C, H, W), labels는 (N,) 이어야 합니다. 받은 모양: {tuple(images.shape)}, {tuple(labels.shape)}"
            )
        if images.dtype != torch.uint8:
            raise ValueError(f"images는 uint8 텐서여야 합니다. 받은 dtype: {images.dtype}")
        self.images = images
        self.labels = labels.long()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, self.labels[index]


def cifar_transforms(mean: Tensor, crop: int = 28) -> dict[str, Callable[[Tensor], Tensor]]:
    """32×32 ``uint8`` 이미지용 변환: 논문 §2, §4.1을 축소한 것(256 → 224 자르기를 32 → 28 로).

    논문은 256×256 이미지에서 224×224 조각을 잘랐습니다. 224/256 = 28/32 = 0.875 로 비율이 같습니다.
    픽셀은 0–255 척도에서 학습 세트의 평균 이미지만 빼고, 표준편차로 나누지 않습니다(§2).
    조각과 반전은 :mod:`alexnetbook.augment` 의 변환을 씁니다. PCA 색 증강은 하지 않습니다.

    Args:
        mean: 학습 세트의 평균 이미지 ``(C, 32, 32)`` (0–255 척도). 자르기 전에 뺍니다.
        crop: 잘라 낼 조각의 크기.

    Returns:
        ``"train"`` (무작위 조각 + 확률 1/2 좌우 반전), ``"center"`` (가운데 조각 ``(C, crop, crop)``),
        ``"ten_crop"`` (네 귀퉁이·가운데와 그 반전 10개, ``(10, C, crop, crop)``) 변환.
    """
    from torchvision.transforms import v2

    from .augment import RandomCrop, RandomHorizontalFlip, SubtractMean, TenCrop

    base = [v2.ToDtype(torch.float32, scale=False), SubtractMean(mean)]  # uint8 0–255 -> 평균을 뺀 float32
    return {
        "train": v2.Compose([*base, RandomCrop(crop), RandomHorizontalFlip(0.5)]),
        "center": v2.Compose([*base, v2.CenterCrop(crop)]),
        "ten_crop": v2.Compose([*base, TenCrop(crop)]),
    }


def cifar_datasets(
    train_images: Tensor, train_labels: Tensor, val_images: Tensor, val_labels: Tensor, crop: int = 28
) -> dict[str, TensorImageDataset]:
    """메모리에 올린 32×32 ``uint8`` 이미지로 학습·검증 Dataset 을 만듭니다(:func:`cifar_transforms`).

    평균 이미지는 **학습 세트에서만** 계산해 두 세트 모두에서 뺍니다(논문 §2).

    Returns:
        ``"train"`` (무작위 조각 + 반전), ``"val"`` (가운데 조각), ``"val_ten_crop"`` (10개 조각) Dataset.
    """
    mean = train_images.float().mean(dim=0)  # (N, C, H, W) -> (C, H, W) 평균 이미지
    tf = cifar_transforms(mean, crop)
    return {
        "train": TensorImageDataset(train_images, train_labels, tf["train"]),
        "val": TensorImageDataset(val_images, val_labels, tf["center"]),
        "val_ten_crop": TensorImageDataset(val_images, val_labels, tf["ten_crop"]),
    }


# --------------------------------------------------------------------------------------------------
# 명령줄 도구


def _cifar_tensors(dataset_name: str, data_dir: str | None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    from .data import data_root, dataset_to_tensors, load_cifar10

    if dataset_name == "cifar10-offline":
        train = load_cifar10("train", root=data_dir, download=False)
        test = load_cifar10("test", root=data_dir, download=False)
        if not hasattr(train, "imgs"):  # ImageFolder 가 아니면 오프라인 사본이 아님
            raise RuntimeError("오프라인 CIFAR-10 사본(<root>/cifar10-subset)을 찾지 못했습니다.")
        return (*dataset_to_tensors(train), *dataset_to_tensors(test))
    from torchvision import datasets

    root = Path(data_dir).expanduser() if data_dir is not None else data_root()
    tensors = []
    for train in (True, False):
        ds = datasets.CIFAR10(str(root / "cifar10"), train=train, download=True)
        images = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()  # (N, H, W, C) -> (N, C, H, W)
        tensors += [images, torch.tensor(ds.targets, dtype=torch.int64)]
    return tensors[0], tensors[1], tensors[2], tensors[3]


def _build_data(args: argparse.Namespace) -> tuple[Dataset, Dataset, int, str]:
    """명령줄 인자로 (학습 Dataset, 검증 Dataset, 클래스 수, 데이터 종류)를 만듭니다."""
    kind = args.dataset
    if kind == "auto":
        from .data import data_root

        root = Path(args.data_dir).expanduser() if args.data_dir else data_root()
        kind = "cifar10-offline" if (root / "cifar10-subset" / "train").is_dir() else "cifar10"
    if kind in ("cifar10-offline", "cifar10"):
        parts = cifar_datasets(*_cifar_tensors(kind, args.data_dir))
        return parts["train"], parts["val_ten_crop" if args.ten_crop else "val"], 10, kind
    from torchvision import datasets

    if not args.data_dir:
        raise SystemExit("--dataset folder 에는 --data-dir 이 필요합니다(train/ 과 val/ 하위 폴더가 있는 폴더).")
    root = Path(args.data_dir).expanduser()
    for split in ("train", "val"):
        if not (root / split).is_dir():
            raise SystemExit(f"{root / split} 폴더가 없습니다. --data-dir 아래에 train/<클래스>/ 와 val/<클래스>/ 가 필요합니다.")
    from .augment import alexnet_test_transform, alexnet_train_transform

    train = datasets.ImageFolder(str(root / "train"), transform=alexnet_train_transform())
    val = datasets.ImageFolder(str(root / "val"), transform=alexnet_test_transform(ten_crop=args.ten_crop))
    return train, val, len(train.classes), kind


def _build_model(args: argparse.Namespace, num_classes: int, kind: str) -> nn.Module:
    from .models import AlexNet, init_paper_

    if kind == "folder":
        model = AlexNet(num_classes=num_classes, groups=args.groups)
    else:
        model = AlexNet.for_cifar(num_classes=num_classes, groups=args.groups, pool_output_size=2)
    if args.init == "paper":
        init_paper_(model)
    return model


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m alexnetbook.train",
        description=(
            "AlexNet 을 논문 §5의 방법(모멘텀 0.9, 가중치 감쇠 5e-4, 배치 128, 학습률 0.01 을 정체 때마다 "
            "10으로 나누기)으로 학습합니다. 에폭마다 <checkpoint-dir>/last.pt 에 체크포인트를 저장하고, "
            "--resume 으로 이어서 학습합니다."
        ),
        epilog=(
            "예: python -m alexnetbook.train --preset tiny  (CPU 에서 빠르게 확인: 512장, 2 에폭)\n"
            "    python -m alexnetbook.train --dataset cifar10 --device cuda --epochs 30 --workers 4\n"
            "    python -m alexnetbook.train --dataset folder --data-dir ~/data/imagenette2 --device cuda "
            "--workers 8 --groups 2"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--preset", choices=sorted(PRESETS), default="paper",
                   help="기본 설정: paper(논문 §5, 90 에폭) 또는 tiny(512장, 2 에폭). 아래 옵션이 덮어씁니다.")
    p.add_argument("--dataset", choices=("auto", "cifar10-offline", "cifar10", "folder"), default="auto",
                   help="auto: 오프라인 사본이 있으면 그것, 없으면 cifar10. cifar10-offline: $ALEXNETBOOK_DATA/"
                        "cifar10-subset 의 JPEG 사본(10,000 + 5,000장). cifar10: torchvision 으로 전체 CIFAR-10 "
                        "(50,000 + 10,000장)을 내려받음. folder: --data-dir 의 train/, val/ ImageFolder "
                        "(Imagenette, ImageNet 등; 224 입력의 AlexNet).")
    p.add_argument("--data-dir", default=None,
                   help="데이터 폴더. folder 이면 train/ 과 val/ 이 있는 폴더(ImageNet 검증 세트는 클래스별 하위 "
                        "폴더로 정리해야 함). CIFAR-10 이면 찾거나 내려받을 곳(기본 $ALEXNETBOOK_DATA 또는 "
                        "~/.cache/alexnetbook).")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps 등. 기본: 쓸 수 있는 가장 빠른 장치.")
    p.add_argument("--epochs", type=int, default=None, help="총 에폭 수(이어서 학습할 때도 총 에폭 수).")
    p.add_argument("--batch-size", type=int, default=None, help="미니배치 크기(논문 128).")
    p.add_argument("--lr", type=float, default=None, help="처음 학습률(논문 0.01).")
    p.add_argument("--weight-decay", type=float, default=None, help="가중치 감쇠(논문 5e-4).")
    p.add_argument("--patience", type=int, default=None,
                   help="검증 top-1 오류율이 정체된 에폭이 이 수를 넘어 이어지면(patience + 1 에폭 연속 정체) "
                        "학습률 ÷10. 예: 1이면 두 에폭 연속 정체 때. 기본: paper 3, tiny 1.")
    p.add_argument("--train-subset", type=int, default=None, help="학습 세트에서 이만큼만 씀.")
    p.add_argument("--val-subset", type=int, default=None, help="검증 세트에서 이만큼만 씀.")
    p.add_argument("--groups", type=int, choices=(1, 2), default=1,
                   help="1: 한 줄기, 2: 논문의 두 GPU 구조(conv2, conv4, conv5 를 묶음 합성곱으로).")
    p.add_argument("--init", choices=("paper", "pytorch"), default="pytorch",
                   help="pytorch(기본): PyTorch 기본 초기화. paper: 논문 §5의 N(0, 0.01²) 가중치와 1/0 편향 "
                        "(CIFAR 축소판에서는 출력이 입력과 거의 무관해져 학습이 시작되지 않습니다; 책의 학습 장).")
    p.add_argument("--ten-crop", action="store_true", help="검증을 10개 조각의 소프트맥스 평균으로(논문 §4.1).")
    p.add_argument("--workers", type=int, default=None, help="DataLoader 작업 프로세스 수(GPU 에서는 4–8 권장).")
    p.add_argument("--seed", type=int, default=None, help="난수 시드.")
    p.add_argument("--checkpoint-dir", default="checkpoints/alexnet", help="체크포인트 폴더(기본 %(default)s).")
    p.add_argument("--resume", action="store_true", help="<checkpoint-dir>/last.pt 에서 이어서 학습.")
    p.add_argument("--no-progress", action="store_true", help="tqdm 진행 막대를 끔.")
    return p


def _used_size(data: Dataset, subset: int | None) -> str:
    """:func:`fit` 이 실제로 쓰는 장 수(``subset`` 이 있으면 그만큼, :func:`_subset` 과 같은 규칙)."""
    total = len(data)  # type: ignore[arg-type]
    used = total if subset is None else min(subset, total)
    return f"{used:,}장" if used == total else f"{used:,}장(전체 {total:,}장 중)"


def main(argv: Sequence[str] | None = None) -> int:
    """명령줄 진입점. ``python -m alexnetbook.train --help`` 를 보세요."""
    args = _parser().parse_args(argv)
    overrides = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "weight_decay": args.weight_decay,
        "plateau_patience": args.patience,
        "train_subset": args.train_subset,
        "val_subset": args.val_subset,
        "num_workers": args.workers,
        "seed": args.seed,
    }
    config = TrainConfig.preset(
        args.preset,
        **{k: v for k, v in overrides.items() if v is not None},
        device=args.device,
        checkpoint_dir=args.checkpoint_dir,
        resume=args.resume,
        progress=not args.no_progress,
    )
    set_seed(config.seed)  # 모델 초기화도 재현되게
    train_data, val_data, num_classes, kind = _build_data(args)
    model = _build_model(args, num_classes, kind)
    print(f"데이터 {kind}: 학습 {_used_size(train_data, config.train_subset)}, "
          f"검증 {_used_size(val_data, config.val_subset)}, {num_classes}개 클래스; "
          f"장치 {get_device(config.device)}; 설정 {config}", flush=True)
    history = fit(model, train_data, val_data, config)
    if history:
        last = history[-1]
        print(f"마지막 에폭 {int(last['epoch'])}: 검증 top-1 오류율 {100 * last['val_top1']:.1f}%, "
              f"top-5 {100 * last['val_top5']:.1f}%. 체크포인트: {Path(config.checkpoint_dir) / CHECKPOINT_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
