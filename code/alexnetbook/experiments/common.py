"""메모리에 올린 작은 이미지 데이터셋으로 하는 짧은 실험의 공용 도구.

실험은 시간(초)이 아니라 에폭 수를 셉니다. 공유 CPU 에서는 다른 작업 때문에 같은 실행이 몇 배씩
느려질 수 있기 때문입니다. 같은 시드와 같은 스레드 수라면 CPU 에서 결과가 비트 단위로 같습니다.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = ["EpochRecord", "error_rate", "fit_epochs", "subtract_mean"]


def subtract_mean(train: Tensor, *others: Tensor) -> tuple[Tensor, ...]:
    """논문 §2의 전처리: 0–255 픽셀 값에서 학습 세트의 평균을 픽셀마다 뺍니다(표준편차로 나누지 않음).

    Args:
        train: ``(N, C, H, W)`` ``uint8`` 또는 실수 텐서(0–255 범위).
        *others: 같은 평균을 뺄 다른 텐서(검증, 테스트 세트).

    Returns:
        ``(train_centered, *others_centered, mean)``. ``mean`` 은 ``(C, H, W)`` 평균 이미지입니다.

    Raises:
        ValueError: ``train`` 이 4차원이 아니거나 다른 텐서의 ``(C, H, W)`` 가 다를 때.
    """
    if train.dim() != 4:
        raise ValueError(f"train은 (N, C, H, W) 여야 합니다. 받은 모양: {tuple(train.shape)}")
    mean = train.float().mean(dim=0)  # (N, C, H, W) -> (C, H, W)
    out = [train.float() - mean]
    for i, t in enumerate(others):
        if t.shape[1:] != train.shape[1:]:
            raise ValueError(f"others[{i}] 의 모양 {tuple(t.shape)} 이 train 의 (C, H, W) 와 다릅니다.")
        out.append(t.float() - mean)
    return (*out, mean)


@torch.no_grad()
def error_rate(model: nn.Module, images: Tensor, labels: Tensor, *, batch_size: int = 1000, topk: int = 1) -> float:
    """평가 모드에서 top-``k`` 오류율(0–1)을 계산합니다. 모델의 train/eval 상태는 되돌려 놓습니다."""
    was_training = model.training
    model.eval()
    wrong = 0
    for start in range(0, len(images), batch_size):
        logits = model(images[start:start + batch_size])
        top = logits.topk(topk, dim=1).indices
        wrong += int((top != labels[start:start + batch_size, None]).all(dim=1).sum())
    model.train(was_training)
    return wrong / len(images)


@dataclass
class EpochRecord:
    """한 에폭이 끝난 뒤의 기록."""

    epoch: int
    train_loss: float
    errors: dict[str, float]


def fit_epochs(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    *,
    epochs: int,
    lr: float,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    batch_size: int = 128,
    seed: int = 0,
    eval_sets: Mapping[str, tuple[Tensor, Tensor]] | None = None,
    stop: Callable[[EpochRecord], bool] | None = None,
    augment: Callable[[Tensor, torch.Generator], Tensor] | None = None,
) -> list[EpochRecord]:
    """모멘텀 SGD 로 에폭 단위 학습을 하고, 에폭마다 ``eval_sets`` 의 오류율을 기록합니다.

    Args:
        model: 학습할 모델(제자리에서 바뀜).
        images: ``(N, C, H, W)`` 실수 텐서(전처리 완료).
        labels: ``(N,)`` 정수 레이블.
        epochs: 최대 에폭 수.
        lr: 학습률.
        momentum: 모멘텀.
        weight_decay: 가중치 감쇠(L2). 기본 0(정규화 없음).
        batch_size: 미니배치 크기.
        seed: 미니배치 순서와 드롭아웃 난수의 시드.
        eval_sets: 이름 → ``(images, labels)``. 에폭이 끝날 때마다 평가 모드로 오류율을 잽니다.
            ``"train"`` 을 넣으면 (드롭아웃을 끈) 학습 세트 오류율을 잽니다.
        stop: 기록을 받아 ``True`` 를 돌려주면 학습을 멈춥니다(예: 목표 오류율 도달).
        augment: ``(batch, generator) -> batch`` 미니배치 증강 함수.

    Returns:
        에폭별 :class:`EpochRecord` 목록.

    Raises:
        ValueError: 모양이나 인자가 잘못되었을 때. 손실이 NaN/inf 가 되면 RuntimeError.
    """
    if images.dim() != 4 or labels.dim() != 1 or len(images) != len(labels):
        raise ValueError(
            f"images는 (N, C, H, W), labels는 (N,) 이어야 합니다. 받은 모양: {tuple(images.shape)}, {tuple(labels.shape)}"
        )
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ValueError(f"epochs, batch_size 는 1 이상, lr 은 양수여야 합니다: {epochs}, {batch_size}, {lr}")
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # 드롭아웃 등 모델 안의 난수
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    history: list[EpochRecord] = []
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(images), generator=generator)
        total, count = 0.0, 0
        for start in range(0, len(images), batch_size):
            idx = order[start:start + batch_size]
            batch = images[idx]
            if augment is not None:
                batch = augment(batch, generator)
            loss = loss_fn(model(batch), labels[idx])
            if not torch.isfinite(loss):
                raise RuntimeError(f"에폭 {epoch} 에서 손실이 {loss.item()} 가 되었습니다(학습률 {lr} 이 너무 큽니다).")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
            count += len(idx)
        errors = {name: error_rate(model, x, y) for name, (x, y) in (eval_sets or {}).items()}
        record = EpochRecord(epoch=epoch, train_loss=total / count, errors=errors)
        history.append(record)
        if stop is not None and stop(record):
            break
    return history
