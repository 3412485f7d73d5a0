"""평가: top-1/top-5 오류율, 10개 조각 예측(논문 §4.1), 이미지마다 맞았는지.

책의 모든 장이 이 모듈 하나로 오류율을 잽니다. 학습 루프(:func:`alexnetbook.train.fit`)도 에폭마다
:func:`evaluate` 를 부릅니다.

* :func:`predict`: 평가 모드로 데이터를 한 바퀴 돌아 이미지마다 클래스별 로그 확률을 모읍니다. 배치가
  ``(N, crops, C, H, W)`` 이면 조각마다 소프트맥스를 구해 **확률을 평균**합니다(:func:`ten_crop_predict`).
* :func:`evaluate`: 평균 교차 엔트로피와 top-1/top-5 오류율.
* :class:`Predictions`: 예측 결과. :meth:`Predictions.correct` 는 이미지마다 top-1 로 맞혔는지를 주므로,
  두 모델(또는 1조각과 10조각)을 **같은 이미지**에서 짝지어 비교할 수 있습니다
  (:func:`alexnetbook.stats.mcnemar`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from .checks import check_int, check_tensor
from .batches import iterate_batches

__all__ = ["Predictions", "evaluate", "predict", "ten_crop_predict", "topk_errors"]


def topk_errors(scores: Tensor, targets: Tensor, ks: Sequence[int] = (1, 5)) -> dict[int, int]:
    """top-``k`` 로 틀린 샘플 수를 셉니다.

    Args:
        scores: ``(N, K)`` 로짓, 확률 또는 로그 확률(클수록 그럴듯함).
        targets: ``(N,)`` 정수 레이블.
        ks: 셀 ``k`` 들. ``k`` 가 클래스 수 ``K`` 보다 크면 ``K`` 로 줄입니다(그때는 틀린 샘플이 없음).

    Returns:
        ``k`` → top-``k`` 안에 정답이 없는 샘플 수.

    Raises:
        ValueError: 모양이 맞지 않거나 ``k`` 가 1보다 작을 때.
    """
    check_tensor(scores, "scores", dims=2)
    check_tensor(targets, "targets", dims=1)
    if len(scores) != len(targets):
        raise ValueError(
            f"scores는 (N, K), targets는 (N,) 이어야 합니다. 받은 모양: {tuple(scores.shape)}, {tuple(targets.shape)}"
        )
    for k in ks:
        check_int(k, "ks 의 원소", minimum=1)
    kmax = min(max(ks), scores.shape[1])
    top = scores.topk(kmax, dim=1).indices  # (N, kmax), 점수가 큰 순서
    hit = top == targets[:, None]  # (N, kmax)
    return {k: int((~hit[:, : min(k, kmax)].any(dim=1)).sum()) for k in ks}


@torch.no_grad()
def ten_crop_predict(
    model: nn.Module, images: Tensor, *, memory_format: torch.memory_format = torch.contiguous_format
) -> Tensor:
    """조각마다 소프트맥스를 구해 **확률**을 평균합니다(논문 §4.1: "averaging the predictions made by the
    network's softmax layer on the ten patches"). 로짓을 평균한 뒤 소프트맥스를 하는 것과는 다릅니다.

    모델은 평가 모드로 실행하고, 끝나면 원래의 train/eval 상태로 되돌립니다.

    Args:
        model: ``(B, C, H, W)`` 를 받아 ``(B, K)`` 로짓을 내는 모델.
        images: ``(N, n_crops, C, H, W)`` 텐서(:func:`alexnetbook.augment.alexnet_test_transform` 의 출력을 쌓은 것).
        memory_format: 조각들을 모델에 넣을 때의 메모리 배치(``torch.channels_last`` 로 학습한 모델이면 그것).

    Returns:
        ``(N, K)`` 평균 확률(각 행의 합은 1).

    Raises:
        TypeError: ``images`` 가 텐서가 아닐 때.
        ValueError: ``images`` 가 5차원이 아니거나 모델 출력이 ``(B, K)`` 가 아닐 때.
    """
    check_tensor(images, "images", dims=5)
    n, crops = images.shape[:2]
    was_training = model.training
    model.eval()
    try:
        flat = images.flatten(0, 1).contiguous(memory_format=memory_format)  # (N, 조각 수, C, H, W) -> (N·조각 수, C, H, W)
        logits = model(flat)
    finally:
        model.train(was_training)
    if logits.dim() != 2 or logits.shape[0] != n * crops:
        raise ValueError(f"모델 출력은 ({n * crops}, K) 여야 합니다. 받은 모양: {tuple(logits.shape)}")
    dtype = torch.promote_types(logits.dtype, torch.float32)  # bf16 로짓은 float32 에서 소프트맥스를 구합니다
    probs = logits.softmax(dim=1, dtype=dtype).view(n, crops, -1)  # (N·조각 수, K) -> (N, 조각 수, K)
    return probs.mean(dim=1)


@dataclass
class Predictions:
    """:func:`predict` 의 결과.

    Attributes:
        log_probs: ``(N, K)`` 클래스별 로그 확률(float32, CPU).
        targets: ``(N,)`` 정답 레이블(CPU).
    """

    log_probs: Tensor
    targets: Tensor

    def correct(self) -> Tensor:
        """``(N,)`` bool: 이미지마다 top-1 예측이 맞았는지."""
        return self.log_probs.argmax(dim=1) == self.targets

    def metrics(self) -> dict[str, float]:
        """``{"loss", "top1", "top5"}``: 평균 음의 로그 가능도(교차 엔트로피)와 top-1/top-5 오류율(0–1)."""
        count = len(self.targets)
        if count == 0:
            raise ValueError("평가할 데이터가 비어 있습니다.")
        wrong = topk_errors(self.log_probs, self.targets, (1, 5))
        loss = F.nll_loss(self.log_probs, self.targets, reduction="sum")
        return {"loss": float(loss) / count, "top1": wrong[1] / count, "top5": wrong[5] / count}


def _model_device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


@torch.no_grad()
def predict(
    model: nn.Module,
    data: Dataset | DataLoader,
    *,
    batch_size: int = 500,
    device: str | torch.device | None = None,
    num_workers: int = 0,
    memory_format: torch.memory_format = torch.contiguous_format,
) -> Predictions:
    """평가 모드로 ``data`` 를 한 바퀴 돌아 이미지마다 클래스별 로그 확률을 모읍니다.

    입력 배치가 ``(N, crops, C, H, W)`` 이면 :func:`ten_crop_predict` 로 조각들의 소프트맥스 출력을 평균한
    뒤 로그를 취합니다. 모델의 train/eval 상태는 되돌려 놓습니다.

    Args:
        model: ``(B, C, H, W)`` 를 ``(B, K)`` 로짓으로 바꾸는 모델.
        data: ``(이미지, 레이블)`` 을 내는 Dataset 또는 DataLoader.
        batch_size: ``data`` 가 Dataset 일 때 쓸 배치 크기(결과에는 영향이 없고 속도만 바뀝니다).
        device: 계산할 장치. ``None`` 이면 모델의 매개변수가 있는 장치.
        num_workers: ``data`` 가 Dataset 일 때 ``DataLoader`` 작업 프로세스 수.
        memory_format: 입력 배치를 놓을 메모리 배치(``torch.channels_last`` 로 학습한 모델이면 그것).

    Returns:
        :class:`Predictions`.

    Raises:
        ValueError: 배치가 4차원도 5차원도 아닐 때.
    """
    device = torch.device(device) if device is not None else _model_device(model)
    was_training = model.training
    model.eval()
    log_probs: list[Tensor] = []
    targets: list[Tensor] = []
    try:
        for images, labels, _ in iterate_batches(data, batch_size, num_workers=num_workers):
            images = images.to(device)
            if images.dim() == 5:
                # (N, crops, C, H, W) -> (N, K) 평균 확률 -> 로그
                probs = ten_crop_predict(model, images, memory_format=memory_format)
                log_probs.append(probs.float().clamp_min(1e-12).log().cpu())
            elif images.dim() == 4:
                logits = model(images.contiguous(memory_format=memory_format))
                log_probs.append(logits.float().log_softmax(dim=1).cpu())
            else:
                raise ValueError(
                    f"배치는 (N, C, H, W) 또는 (N, crops, C, H, W) 여야 합니다. 받은 모양: {tuple(images.shape)}"
                )
            targets.append(torch.as_tensor(labels).cpu())
    finally:
        model.train(was_training)
    if not log_probs:
        return Predictions(torch.empty(0, 0), torch.empty(0, dtype=torch.int64))
    return Predictions(torch.cat(log_probs), torch.cat(targets))


def evaluate(
    model: nn.Module,
    data: Dataset | DataLoader,
    *,
    batch_size: int = 500,
    device: str | torch.device | None = None,
    num_workers: int = 0,
    memory_format: torch.memory_format = torch.contiguous_format,
) -> dict[str, float]:
    """평가 모드에서 평균 교차 엔트로피와 top-1/top-5 오류율을 잽니다(:func:`predict` 의 요약).

    입력 배치가 ``(N, crops, C, H, W)`` 이면 조각마다 모델을 돌려 **소프트맥스 출력을 평균**한 뒤
    판정합니다(논문 §4.1: 네 귀퉁이와 가운데 다섯 조각과 그 좌우 반전, 모두 10개). 손실도 평균한
    확률의 음의 로그 가능도입니다.

    Args:
        model, data, batch_size, device, num_workers, memory_format: :func:`predict` 와 같습니다.

    Returns:
        ``{"loss", "top1", "top5"}``; 오류율은 0–1.

    Raises:
        ValueError: 배치가 4차원도 5차원도 아니거나 데이터가 비었을 때.
    """
    return predict(model, data, batch_size=batch_size, device=device, num_workers=num_workers,
                   memory_format=memory_format).metrics()
