"""풀링 장의 실험: 논문 §3.4의 비교를 작게, 같은 작은 CNN 에서 겹치는 풀링(z=3, s=2)과 겹치지 않는 풀링(z=2, s=2).

논문은 ImageNet 에서 겹치는 풀링이 top-1 / top-5 오류율을 0.4 / 0.3%p 낮췄고, 겹치는 풀링을 쓴 모델이
"과적합하기가 조금 더 어렵다"고 보고합니다. 여기서는 CIFAR-10 의 작은 부분집합에서 풀링 층만 바꾼 두
:class:`alexnetbook.small_cnn.SmallCNN` 을 같은 초기 가중치, 같은 미니배치 순서로 학습하고(:func:`run_seed`),
에폭별 학습 오류율과 마지막 테스트 결과(**테스트 이미지마다 맞혔는지**)를 돌려줍니다. 두 신경망이 같은 테스트
이미지를 보므로 테스트 오류율의 차이는 :func:`alexnetbook.stats.mcnemar` 로 짝지어 검정합니다.

입력이 32×32(짝수)라서 z=3, s=2 에는 패딩 1을 더해야 z=2, s=2 와 출력 크기가 같아집니다(32 → 16 → 8 → 4).
AlexNet 의 55, 27, 13 은 홀수라 패딩 없이도 두 방식의 출력 크기가 같습니다.

규제(가중치 감쇠, 드롭아웃, 데이터 증강)는 쓰지 않습니다. 과적합이 드러나야 비교가 되기 때문입니다. 에폭 수는
미리 정해 두고, 테스트 세트로 아무것도 고르지 않습니다.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ..augment import subtract_mean
from ..checks import check_int, check_tensor
from ..batches import TensorImageDataset
from ..data import load_tensors
from ..evaluate import predict
from ..small_cnn import SmallCNN
from ..train import TrainConfig, fit

__all__ = ["POOLINGS", "POOLING_LABELS", "PoolingRun", "load_data", "run_seed"]

#: 비교할 풀링: 이름 → (창 크기 z, 보폭 s, 패딩 p). 32 → 16 → 8 → 4 로 두 쪽의 출력 크기가 같습니다.
POOLINGS: dict[str, tuple[int, int, int]] = {
    "overlapping": (3, 2, 1),
    "non_overlapping": (2, 2, 0),
}

#: 표와 그림에 쓸 한국어 이름.
POOLING_LABELS: dict[str, str] = {
    "overlapping": "겹치는 풀링 (z=3, s=2)",
    "non_overlapping": "겹치지 않는 풀링 (z=2, s=2)",
}


@dataclass(frozen=True)
class PoolingRun:
    """한 (풀링, 시드) 실행의 결과. 오류율은 0–1.

    Attributes:
        history: :func:`alexnetbook.train.fit` 의 에폭별 기록. ``train_eval_top1`` 은 에폭마다 평가 모드로 잰
            학습 세트 오류율입니다.
        test_correct: ``(n,)`` bool, 마지막 에폭 뒤 테스트 이미지마다 top-1 으로 맞혔는지(테스트 세트 순서).
    """

    history: list[dict[str, float]]
    test_correct: Tensor

    @property
    def train_error(self) -> float:
        """마지막 에폭의 학습 세트 오류율(평가 모드)."""
        return self.history[-1]["train_eval_top1"]

    @property
    def test_error(self) -> float:
        """마지막 에폭 뒤의 테스트 세트 오류율."""
        return 1.0 - self.test_correct.float().mean().item()

    @property
    def gap(self) -> float:
        """마지막 에폭의 "테스트 오류율 − 학습 오류율"(클수록 과적합)."""
        return self.test_error - self.train_error


def load_data(
    train_per_class: int = 100, test_per_class: int = 200, *, seed: int = 0
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """CIFAR-10 학습·테스트 이미지를 읽고 학습 세트의 평균 이미지를 뺀 뒤(논문 §2) 255로 나눕니다.

    255로 나누는 것은 모든 픽셀에 같은 상수를 곱하는 것뿐이라 논문의 전처리와 본질은 같습니다. 값의 범위를
    PyTorch 기본 초기화가 가정하는 1 안팎으로 맞추려는 것입니다.

    Args:
        train_per_class: 클래스마다 학습 이미지 수.
        test_per_class: 클래스마다 테스트 이미지 수.
        seed: 이미지를 고르는 시드.

    Returns:
        ``(train_images, train_labels, test_images, test_labels)``. 이미지는 ``(N, 3, 32, 32)`` float32.
    """
    check_int(train_per_class, "train_per_class", minimum=1)
    check_int(test_per_class, "test_per_class", minimum=1)
    train_x, train_y = load_tensors("cifar10", "train", per_class=train_per_class, seed=seed)
    test_x, test_y = load_tensors("cifar10", "test", per_class=test_per_class, seed=seed)
    train_x, test_x, _mean = subtract_mean(train_x, test_x, scale=1 / 255)
    return train_x, train_y, test_x, test_y


def run_seed(
    seed: int,
    train_images: Tensor,
    train_labels: Tensor,
    test_images: Tensor,
    test_labels: Tensor,
    *,
    epochs: int = 9,
    lr: float = 0.03,
    batch_size: int = 32,
    channels: Sequence[int] = (16, 16, 32),
) -> dict[str, PoolingRun]:
    """시드 하나에서 :data:`POOLINGS` 의 두 신경망을 같은 초기 가중치, 같은 미니배치 순서로 학습합니다.

    풀링 층에는 매개변수가 없으므로, 같은 시드로 만든 두 :class:`~alexnetbook.small_cnn.SmallCNN` 은 가중치가
    같고 다른 것은 풀링 창(과 그에 맞춘 패딩)뿐입니다. 학습 세트 오류율은 에폭마다, 테스트 세트는 학습이 끝난
    뒤 한 번만 잽니다(테스트 세트로는 아무것도 고르지 않으므로 에폭마다 잴 까닭이 없습니다). 학습은 모멘텀
    0.9 의 SGD, 학습률 일정, 가중치 감쇠 없음입니다. 초기화는 PyTorch 기본값입니다. 논문 §5의 N(0, 0.01²) 초기화로는 이 작은 신경망이 짧은 예산
    안에 과적합에 이를 만큼 학습되지 않습니다. :func:`alexnetbook.seeds.run_seeds` 로 여러 시드를 돌립니다.

    Args:
        seed: 초기 가중치, 미니배치 순서의 시드(0 이상).
        train_images: ``(N, 3, H, W)`` 실수 학습 이미지(:func:`load_data`).
        train_labels: ``(N,)`` 학습 레이블.
        test_images: ``(M, 3, H, W)`` 테스트 이미지.
        test_labels: ``(M,)`` 테스트 레이블.
        epochs: 에폭 수.
        lr: 학습률.
        batch_size: 미니배치 크기.
        channels: 세 합성곱 층의 출력 채널 수.

    Returns:
        풀링 이름 → :class:`PoolingRun`.
    """
    check_int(seed, "seed", minimum=0)
    check_tensor(train_images, "train_images", dims=4, floating=True)
    check_tensor(test_images, "test_images", dims=4, floating=True)
    config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, momentum=0.9, weight_decay=0.0,
                         max_lr_drops=0, seed=seed, device="cpu", eval_batch_size=100, progress=False,
                         verbose=False)  # 이 작은 신경망은 평가 배치가 작을수록 CPU 캐시에 맞아 빠릅니다
    train = TensorImageDataset(train_images, train_labels)
    test = TensorImageDataset(test_images, test_labels)
    num_classes = int(torch.cat([train_labels, test_labels]).max()) + 1
    runs: dict[str, PoolingRun] = {}
    for name, pool in POOLINGS.items():
        torch.manual_seed(seed)  # 두 신경망이 같은 초기 가중치에서 시작합니다
        model = SmallCNN(pool=pool, channels=channels, in_channels=train_images.shape[1],
                         image_size=train_images.shape[-1], num_classes=num_classes)
        history = fit(model, train, config=config, eval_sets={"train_eval": train})
        runs[name] = PoolingRun(history, predict(model, test, batch_size=100).correct())
    return runs
