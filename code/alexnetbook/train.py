"""책의 **하나뿐인** 학습 루프: 논문 §5의 학습 방법(모멘텀 SGD, 가중치 감쇠, 정체 때 학습률 ÷10).

* :class:`TrainConfig` (:mod:`alexnetbook.config` 에 정의, 여기서도 불러올 수 있음): 학습 한 번의 설정.
  기본값이 논문의 방법입니다.
* :func:`train_step`: 미니배치 하나로 갱신 한 번. :func:`fit` 과 성능 장의 벤치마크가 같은 함수를 씁니다.
* :func:`fit`: 모델과 상관없이(model-agnostic) 쓰는 에폭 루프. 책의 학습 장, 모든 장의 실험,
  데이터 병렬(:mod:`alexnetbook.ddp`: ``DistributedDataParallel`` 모델과 ``DistributedSampler``)이 이 함수로 학습합니다.
  에폭마다 난수 시드를 ``(seed, epoch)`` 에서 다시 정하므로, 중간에 끊었다가 체크포인트에서 이어서 학습해도
  CPU 에서는 끊지 않은 학습과 **비트 단위로 같은** 가중치가 나옵니다.

평가는 :mod:`alexnetbook.evaluate`, 체크포인트 파일은 :mod:`alexnetbook.checkpoint`, 명령줄 도구는
:mod:`alexnetbook.cli` (``python -m alexnetbook.train``)에 있습니다.

PyTorch 의 ``SGD(momentum=0.9, weight_decay=5e-4)`` 는 논문의 갱신 식과 학습률이 일정할 때 같고,
학습률을 바꾼 직후에만 다릅니다(책의 학습 장 참고).
"""

from __future__ import annotations

import dataclasses
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset, DistributedSampler, Subset

from .checkpoint import load_checkpoint, save_checkpoint
from .checks import check_type
from .config import PRESETS, TrainConfig
from .batches import iterate_batches
from .evaluate import evaluate, topk_errors
from .utils import get_device, set_seed

__all__ = [
    "CHECKPOINT_NAME",
    "PRESETS",
    "DivergedError",
    "StepInfo",
    "TrainConfig",
    "fit",
    "make_optimizer",
    "train_step",
]

#: ``checkpoint_dir`` 안에서 매 에폭 덮어쓰는 체크포인트 파일 이름.
CHECKPOINT_NAME = "last.pt"

#: 이어서 학습할 때 달라도 되는 설정(결과를 바꾸지 않거나, 바꾸는 것이 목적인 것).
_RESUMABLE_CHANGES = frozenset({"epochs", "resume", "progress", "verbose", "device", "checkpoint_dir", "num_workers",
                                "eval_batch_size"})


class DivergedError(RuntimeError):
    """손실이 NaN 이나 무한대가 되었을 때(보통 학습률이 너무 큼)."""


@dataclass(frozen=True)
class StepInfo:
    """:func:`fit` 의 ``on_step`` 에 넘기는, 갱신 한 번의 기록.

    Attributes:
        epoch: 에폭(1부터).
        step: 이 학습에서 몇 번째 갱신인지(1부터).
        loss: 이 미니배치의 평균 손실.
        indices: 이 미니배치에 든 샘플의 Dataset 안 번호.
        model: 학습 중인 모델(갱신 직후; ``p.grad`` 에 이번 기울기가 남아 있음).
    """

    epoch: int
    step: int
    loss: float
    indices: Tensor | None
    model: nn.Module


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.SGD:
    """``config`` 의 모멘텀 SGD(논문 §5): ``SGD(lr, momentum, weight_decay[, fused])``."""
    extra = {"fused": True} if config.fused_sgd else {}
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                           weight_decay=config.weight_decay, **extra)


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    images: Tensor,
    labels: Tensor,
    *,
    bf16: bool = False,
) -> tuple[Tensor, Tensor]:
    """미니배치 하나로 교차 엔트로피를 줄이는 갱신 한 번: 기울기 지우기 → 순전파 → 역전파 → ``optimizer.step()``.

    Args:
        model: 학습 모드의 모델.
        optimizer: ``model`` 의 매개변수를 가진 옵티마이저.
        images: 모델이 받는 장치·메모리 배치의 입력 배치.
        labels: ``(B,)`` 정수 레이블.
        bf16: 순전파와 손실을 bfloat16 autocast 안에서 계산할지 여부.

    Returns:
        ``(logits, loss)``: 떼어 낸(detached) ``(B, K)`` 로짓과 스칼라 손실.
    """
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(images.device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = model(images)
        loss = F.cross_entropy(logits, labels)
    loss.backward()
    optimizer.step()
    return logits.detach(), loss.detach()


def _epoch_seed(seed: int, epoch: int, rank: int = 0) -> int:
    """에폭마다 새로 정하는 시드. 이어서 학습해도 같은 에폭은 같은 난수열을 씁니다. 분산 학습에서는 프로세스마다
    드롭아웃 마스크가 다르도록 ``rank`` 도 섞습니다."""
    return (seed * 1_000_003 + epoch + 7919 * rank) % 2**32


def _subset(data: Dataset, size: int | None, seed: int) -> Dataset:
    if size is None or size >= len(data):  # type: ignore[arg-type]
        return data
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))  # type: ignore[arg-type]
    return Subset(data, order[:size].tolist())


def _rank() -> int:
    """분산 학습이면 이 프로세스의 rank, 아니면 0."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def _world_size() -> int:
    """분산 학습이면 프로세스 수, 아니면 1."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def _agreed(value: float, device: torch.device) -> float:
    """학습률 스케줄이 볼 값. 분산 학습에서는 모든 프로세스의 평균이라, 모든 복사본이 같은 에폭에 학습률을 줄입니다."""
    if _world_size() == 1:
        return value
    total = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(total)
    return float(total) / _world_size()


def _progress(iterable: Any, enabled: bool, **kwargs: Any) -> Any:
    if not enabled:
        return iterable
    from tqdm.auto import tqdm  # 진행 막대를 켤 때만 필요합니다

    return tqdm(iterable, **kwargs)


def _unwrap(model: nn.Module) -> nn.Module:
    """``DistributedDataParallel`` 이나 ``torch.compile`` 로 감싼 모델의 안쪽 모듈."""
    while True:
        if isinstance(model, nn.parallel.DistributedDataParallel):
            model = model.module
        elif hasattr(model, "_orig_mod"):
            model = model._orig_mod
        else:
            return model


def fit(
    model: nn.Module,
    train_data: Dataset,
    val_data: Dataset | None = None,
    config: TrainConfig | None = None,
    *,
    eval_sets: Mapping[str, Dataset] | None = None,
    sampler: DistributedSampler | None = None,
    stop: Callable[[dict[str, float]], bool] | None = None,
    on_step: Callable[[StepInfo], bool | None] | None = None,
    on_epoch_end: Callable[[dict[str, float]], None] | None = None,
) -> list[dict[str, float]]:
    """``model`` 을 모멘텀 SGD 로 학습하고 에폭별 기록을 돌려줍니다.

    한 에폭은 (1) 시드를 ``(seed, epoch)`` 로 다시 정하고 (2) 학습 세트를 섞어 한 바퀴 돌고(:func:`train_step`)
    (3) 검증 세트와 ``eval_sets`` 로 오류율을 재고(:func:`alexnetbook.evaluate.evaluate`) (4) 검증 top-1
    오류율로 학습률 스케줄러(``ReduceLROnPlateau``)를 한 번 갱신하고 (5) 체크포인트를 원자적으로 저장합니다.

    분산 학습(``torch.distributed`` 가 초기화되어 있음)에서는 ``sampler`` 로 ``DistributedSampler`` 를 넘깁니다.
    체크포인트와 출력은 rank 0 만 하고, 학습률 스케줄은 모든 프로세스가 평균한 값을 봅니다(그래서 모든 복사본이
    같은 에폭에 학습률을 줄입니다). 체크포인트에는 프로세스 수(``world_size``)도 적습니다.

    Args:
        model: ``(B, C, H, W)`` → ``(B, K)`` 로짓 모델(``DistributedDataParallel`` 로 감싼 것도 됨).
            제자리에서 학습되고 ``config.device`` 로 옮겨집니다.
        train_data: ``(이미지 텐서, 레이블)`` 을 내는 map-style Dataset. 메모리에 올린 텐서는
            :class:`alexnetbook.batches.TensorImageDataset` 이 빠릅니다.
        val_data: 검증 Dataset. 이미지가 ``(crops, C, H, W)`` 이면 조각 평균으로 평가합니다. 학습률 스케줄이
            이 세트의 top-1 오류율을 봅니다. ``None`` 이면 학습 손실을 봅니다.
        config: 학습 설정. ``None`` 이면 ``TrainConfig()`` (논문 방법).
        eval_sets: 에폭마다 함께 잴 다른 세트. 이름 → Dataset. 기록에 ``{이름}_top1`` 등으로 들어갑니다
            (예: ``{"train_eval": 학습 이미지(증강 없이)}`` 는 드롭아웃을 끈 학습 세트 오류율,
            ``train_eval_top1``). ``"train"`` 은 학습하는 동안 센 값의 이름이라 쓸 수 없습니다.
        sampler: 학습 세트의 순서를 정할 ``DistributedSampler``. 주면 에폭마다 ``set_epoch`` 를 부릅니다.
        stop: 에폭 기록을 받아 ``True`` 를 돌려주면 그 에폭에서 학습을 멈춥니다(예: 목표 오류율 도달).
        on_step: 갱신마다 :class:`StepInfo` 를 받아 부르는 함수. ``True`` 를 돌려주면 그 스텝에서 곧바로 학습을
            멈추고, 끝까지 돈 에폭들의 기록만 돌려줍니다(에폭 중간에 재는 실험용).
        on_epoch_end: 에폭마다 그 에폭의 기록(체크포인트 저장 뒤)을 받아 부르는 함수.

    Returns:
        에폭마다 ``{"epoch", "lr", "train_loss", "train_top1", "val_loss", "val_top1", "val_top5", ...}``
        딕셔너리 하나(검증 세트가 없으면 ``val_*`` 없음). ``train_top1`` 은 드롭아웃을 켠 채 에폭 동안 센
        오류율입니다. 이어서 학습했다면 앞선 에폭의 기록도 들어 있습니다.

    Warns:
        UserWarning: 이어서 학습할 때 체크포인트의 설정이 ``config`` 와 다르면(결과를 바꾸는 필드만).

    Raises:
        ValueError: ``resume=True`` 인데 체크포인트가 이 형식이 아니거나 ``model`` 과 맞지 않을 때.
        DivergedError: 손실이 NaN/inf 가 되었을 때(학습률이 너무 큼).
    """
    config = config if config is not None else TrainConfig()
    check_type(config, "config", TrainConfig)
    check_type(model, "model", nn.Module)
    eval_sets = dict(eval_sets or {})
    if "train" in eval_sets:
        raise ValueError(
            "eval_sets 의 이름 'train' 은 쓸 수 없습니다(기록의 train_loss, train_top1 은 학습하는 동안 센 값). "
            "학습 이미지를 평가 모드로 재려면 'train_eval' 처럼 다른 이름을 쓰세요."
        )
    if val_data is not None:
        if "val" in eval_sets:
            raise ValueError("val_data 와 eval_sets['val'] 을 함께 줄 수 없습니다.")
        eval_sets = {"val": val_data, **eval_sets}
    device = get_device(config.device)
    module = _unwrap(model)
    module.to(device=device, memory_format=config.memory_format)
    net = torch.compile(model) if config.compile else model
    optimizer = make_optimizer(model, config)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=config.lr_factor, patience=config.plateau_patience,
        threshold=config.plateau_threshold, threshold_mode="abs",
        min_lr=config.lr * config.lr_factor**config.max_lr_drops,
    )
    train_part = _subset(train_data, config.train_subset, config.seed)
    if "val" in eval_sets:
        eval_sets["val"] = _subset(eval_sets["val"], config.val_subset, config.seed + 1)
    rank = _rank()
    main_process = rank == 0

    history: list[dict[str, float]] = []
    start_epoch = 1
    ckpt_path = Path(config.checkpoint_dir) / CHECKPOINT_NAME if config.checkpoint_dir is not None else None
    if config.resume and ckpt_path is not None and ckpt_path.exists():
        state = load_checkpoint(ckpt_path, map_location=device)
        _warn_if_config_changed(state["config"], config)
        if int(state.get("world_size", 1)) != _world_size():
            warnings.warn(
                f"체크포인트는 프로세스 {state.get('world_size', 1)}개로 학습했는데 지금은 {_world_size()}개입니다. "
                "전역 배치가 달라지므로 끊지 않은 학습과 결과가 같지 않습니다.",
                stacklevel=2,
            )
        try:
            module.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as err:
            raise ValueError(
                f"{ckpt_path} 의 체크포인트는 구조가 다른 모델의 것입니다(층 이름이나 모양이 다름). 원인: {err}"
            ) from err
        scheduler.load_state_dict(state["scheduler"])
        history = list(state["history"])
        start_epoch = int(state["epoch"]) + 1
        if config.verbose and main_process:
            print(f"{ckpt_path} 의 에폭 {start_epoch - 1} 에서 이어서 학습합니다.", flush=True)

    step = sum(int(r.get("steps", 0)) for r in history)
    for epoch in range(start_epoch, config.epochs + 1):
        generator = set_seed(_epoch_seed(config.seed, epoch, rank))  # 드롭아웃과 증강도 이 에폭의 시드로
        if sampler is not None:
            sampler.set_epoch(epoch)
            order = torch.tensor(list(sampler), dtype=torch.int64)
        else:
            order = torch.randperm(len(train_part), generator=generator)  # type: ignore[arg-type]
        lr = optimizer.param_groups[0]["lr"]
        model.train()
        loss_sum, wrong, count, steps = 0.0, 0, 0, 0
        batches = iterate_batches(train_part, config.batch_size, order=order, num_workers=config.num_workers,
                                  pin_memory=device.type == "cuda", generator=generator)
        total = -(-len(order) // config.batch_size)
        bar = _progress(batches, config.progress and main_process, total=total,
                        desc=f"에폭 {epoch}/{config.epochs}", leave=False)
        for images, labels, indices in bar:
            images = images.to(device, non_blocking=True).contiguous(memory_format=config.memory_format)
            labels = labels.to(device, non_blocking=True)
            logits, loss = train_step(net, optimizer, images, labels, bf16=config.bf16)
            loss_value = float(loss)
            if not torch.isfinite(loss):
                raise DivergedError(
                    f"에폭 {epoch} 에서 손실이 {loss_value} 가 되었습니다(학습률 {lr:g} 이 너무 클 수 있습니다)."
                )
            step += 1
            steps += 1
            loss_sum += loss_value * len(labels)
            wrong += topk_errors(logits.float(), labels, (1,))[1]
            count += len(labels)
            if on_step is not None and on_step(
                StepInfo(epoch=epoch, step=step, loss=loss_value, indices=indices, model=module)
            ):
                return history
            if config.progress and main_process:
                bar.set_postfix(loss=f"{loss_sum / count:.3f}")
        record: dict[str, float] = {
            "epoch": epoch,
            "lr": lr,
            "steps": steps,
            "train_loss": loss_sum / max(count, 1),
            "train_top1": wrong / max(count, 1),
        }
        for name, data in eval_sets.items():
            metrics = evaluate(net, data, batch_size=config.eval_batch_size, device=device,
                               num_workers=config.num_workers, memory_format=config.memory_format)
            record.update({f"{name}_{k}": v for k, v in metrics.items()})
        scheduler.step(_agreed(record["val_top1"] if "val" in eval_sets else record["train_loss"], device))
        history.append(record)
        if ckpt_path is not None and main_process:
            save_checkpoint(
                {
                    "epoch": epoch,
                    "model": module.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "history": history,
                    "config": dataclasses.asdict(config),
                    "world_size": _world_size(),
                },
                ckpt_path,
            )
        if config.verbose and main_process:
            print(_format_record(record), flush=True)
        if on_epoch_end is not None:
            on_epoch_end(record)
        if stop is not None and stop(record):
            break
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


if __name__ == "__main__":  # python -m alexnetbook.train: 명령줄 도구는 alexnetbook.cli 에 있습니다
    from .cli import main

    sys.exit(main())
