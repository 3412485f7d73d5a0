"""JAX/Flax 로 :class:`alexnetbook.flax_alexnet.AlexNet` 을 학습하고 평가하는 조각.

* :func:`sgd`: ``torch.optim.SGD(lr, momentum, weight_decay)`` 와 같은 갱신을 하는 optax 변환(가중치 감쇠는
  PyTorch 처럼 기울기에 더함, 논문 §5).
* :func:`augment`: 키를 인자로 받는 순수 함수 증강(무작위 자르기와 좌우 반전, 논문 §4.1을 32×32 에 맞춤).
* :func:`train_step`, :func:`fit`: ``nnx.jit`` 으로 컴파일한 학습 스텝과 그것을 도는 짧은 에폭 루프.
* :func:`error_rate`: 책의 다른 장과 같은 :func:`alexnetbook.evaluate.topk_errors` 로 틀린 수를 셉니다.

:mod:`alexnetbook.flax_alexnet` 처럼 jax, flax, optax 가 필요합니다(``pip install "alexnet-book[jax]"``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import torch
from flax import nnx
from jax import lax

from .checks import check_float, check_int, check_type
from .evaluate import topk_errors
from .flax_alexnet import AlexNet

__all__ = ["FitHistory", "augment", "cross_entropy", "error_rate", "fit", "sgd", "train_step"]


def sgd(learning_rate: float, momentum: float = 0.9, weight_decay: float = 5e-4) -> optax.GradientTransformation:
    """``torch.optim.SGD(lr, momentum, weight_decay)`` 와 같은 갱신을 하는 optax 변환(논문 §5의 값이 기본).

    ``add_decayed_weights`` 를 **모멘텀보다 먼저** 두어 ``g + λw`` 를 모멘텀 버퍼에 넣습니다(PyTorch 의
    결합된 가중치 감쇠). 순서를 바꿔 ``sgd`` 뒤에 두면 학습률이 곱해지지 않은 ``λw`` 가 갱신량에 더해져
    가중치가 오히려 커지는 쪽으로 움직입니다. 편향도 감쇠합니다(PyTorch 기본과 같음).
    """
    check_float(learning_rate, "learning_rate", minimum=0.0, open_min=True)
    check_float(momentum, "momentum", minimum=0.0, maximum=1.0, open_max=True)
    check_float(weight_decay, "weight_decay", minimum=0.0)
    return optax.chain(
        optax.add_decayed_weights(weight_decay),  # g <- g + λw
        optax.sgd(learning_rate, momentum=momentum),  # b <- μb + g;  갱신량 -lr·b
    )


@functools.partial(jax.jit, static_argnames="padding")
def augment(key: jax.Array, images: jax.Array, padding: int = 4) -> jax.Array:
    """무작위 좌우 반전과 무작위 자르기(가장자리를 0으로 ``padding`` 만큼 늘린 뒤 원래 크기로 자름).

    논문 §4.1의 무작위 자르기와 좌우 반전을 32×32 에 맞춰 줄인 것입니다. 난수는 전역 상태가 아니라
    인자로 받은 ``key`` 하나에서 나오므로, 같은 키를 넣으면 언제나 같은 결과가 나옵니다.

    Args:
        key: ``jax.random.key`` 로 만든 키.
        images: ``(N, H, W, C)`` 배열(평균을 뺀 뒤라면 0 이 평균 픽셀입니다).
        padding: 각 변의 패딩 픽셀 수(정적 인자). 0 이면 반전만 합니다.

    Returns:
        ``images`` 와 같은 모양의 배열.

    Raises:
        TypeError, ValueError: ``images`` 가 4차원이 아니거나 ``padding`` 이 0 이상의 정수가 아닐 때.
    """
    if images.ndim != 4:
        raise ValueError(f"images는 (N, H, W, C) 모양이어야 합니다. 받은 모양: {images.shape}")
    check_int(padding, "padding", minimum=0)
    n, h, w, c = images.shape
    flip_key, crop_key = jax.random.split(key)
    flip = jax.random.bernoulli(flip_key, 0.5, (n,))
    images = jnp.where(flip[:, None, None, None], images[:, :, ::-1, :], images)  # 너비 축을 뒤집음
    padded = jnp.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    offsets = jax.random.randint(crop_key, (n, 2), 0, 2 * padding + 1)

    def crop(image: jax.Array, offset: jax.Array) -> jax.Array:
        return lax.dynamic_slice(image, (offset[0], offset[1], 0), (h, w, c))

    return jax.vmap(crop)(padded, offsets)


def cross_entropy(model: nnx.Module, images: jax.Array, labels: jax.Array) -> jax.Array:
    """평균 교차 엔트로피 손실(``nn.CrossEntropyLoss`` 와 같음)."""
    logits = model(images)
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


@nnx.jit
def train_step(
    model: nnx.Module,
    optimizer: nnx.Optimizer,
    images: jax.Array,
    labels: jax.Array,
    key: jax.Array | None = None,
) -> jax.Array:
    """학습 한 스텝(``nnx.jit`` 으로 컴파일). ``model`` 과 ``optimizer`` 를 제자리에서 갱신합니다.

    ``key`` 가 있으면 그 키로 :func:`augment` 를 먼저 적용합니다. 드롭아웃 마스크의 키는 인자로 받지 않고
    모델 안의 ``nnx.Rngs`` 흐름에서 꺼내며, 흐름의 카운터가 늘어난 것도 ``nnx.jit`` 이 모델에 돌려 씁니다.

    Returns:
        이 배치의 (갱신 전) 평균 손실.
    """
    if key is not None:
        images = augment(key, images)
    loss, grads = nnx.value_and_grad(cross_entropy)(model, images, labels)
    optimizer.update(model, grads)
    return loss


@nnx.jit
def _logits(model: nnx.Module, images: jax.Array) -> jax.Array:
    return model(images)


def error_rate(model: AlexNet, images: np.ndarray | jax.Array, labels: Any, *, batch_size: int = 500) -> float:
    """드롭아웃을 끈 top-1 오류율(0–1). 틀린 수는 책의 다른 장과 같은 :func:`alexnetbook.evaluate.topk_errors` 로 셉니다.

    ``nnx.view(model, deterministic=True)`` 로 매개변수를 공유하는 평가용 보기를 만들어 쓰므로 ``model`` 의
    학습/평가 모드는 바뀌지 않습니다.

    Args:
        model: :class:`AlexNet`.
        images: ``(N, H, W, 3)`` 배열.
        labels: ``(N,)`` 정수 레이블(NumPy, JAX 배열 또는 ``torch.Tensor``).
        batch_size: 한 번에 계산할 이미지 수(결과에는 영향이 없음).
    """
    check_type(model, "model", AlexNet)
    check_int(batch_size, "batch_size", minimum=1)
    targets = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
    if len(images) != len(targets) or len(targets) == 0:
        raise ValueError(f"images와 labels는 길이가 같고 비어 있지 않아야 합니다: {len(images)}, {len(targets)}")
    eval_model = nnx.view(model, deterministic=True)
    wrong = 0
    for start in range(0, len(targets), batch_size):
        logits = _logits(eval_model, jnp.asarray(images[start:start + batch_size]))  # (B, K)
        scores = torch.from_numpy(np.array(logits))  # JAX → torch (쓰기 가능한 사본)
        wrong += topk_errors(scores, targets[start:start + batch_size], (1,))[1]
    return wrong / len(targets)


@dataclass
class FitHistory:
    """:func:`fit` 의 기록: 스텝별 손실과 에폭별 평균 손실."""

    step_losses: list[float] = field(default_factory=list)
    epoch_losses: list[float] = field(default_factory=list)


def fit(
    model: AlexNet,
    images: np.ndarray | jax.Array,
    labels: np.ndarray | jax.Array,
    *,
    epochs: int,
    lr: float,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    batch_size: int = 128,
    seed: int = 0,
    use_augment: bool = True,
) -> FitHistory:
    """:func:`sgd` 와 :func:`train_step` 으로 에폭 단위 학습을 합니다(매개변수는 제자리에서 바뀜).

    드롭아웃을 켠 보기 ``nnx.view(model, deterministic=False)`` 로 학습하므로 ``model`` 의 모드는 그대로입니다.
    배치 순서와 증강의 난수는 모두 ``jax.random.key(seed)`` 에서 ``split`` 으로 갈라져 나옵니다.
    ``jit`` 은 배열 모양마다 따로 컴파일하므로, 마지막의 모자란 배치는 버려 모양을 하나로 둡니다.

    Args:
        model: 학습할 :class:`AlexNet`.
        images: ``(N, H, W, 3)`` 실수 배열(전처리 완료).
        labels: ``(N,)`` 정수 레이블.
        epochs: 에폭 수.
        lr, momentum, weight_decay: :func:`sgd` 인자.
        batch_size: 미니배치 크기(``N`` 이하).
        seed: 배치 순서와 증강의 시드.
        use_augment: ``True`` 이면 배치마다 :func:`augment` 를 적용합니다.

    Raises:
        TypeError, ValueError: 모양이나 인자가 잘못되었을 때. RuntimeError: 손실이 NaN/inf 가 되었을 때.
    """
    check_type(model, "model", AlexNet)
    if images.ndim != 4 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"images는 (N, H, W, 3), labels는 (N,)이어야 합니다. 받은 모양: {images.shape}, {labels.shape}")
    check_int(epochs, "epochs", minimum=1)
    check_int(batch_size, "batch_size", minimum=1, maximum=len(images))
    check_int(seed, "seed", minimum=0)
    train_model = nnx.view(model, deterministic=False)
    optimizer = nnx.Optimizer(train_model, sgd(lr, momentum, weight_decay), wrt=nnx.Param)
    images, labels = jnp.asarray(images), jnp.asarray(labels)
    key = jax.random.key(seed)
    history = FitHistory()
    steps = len(images) // batch_size
    for epoch in range(1, epochs + 1):
        key, order_key = jax.random.split(key)
        order = jax.random.permutation(order_key, len(images))
        for step in range(steps):
            idx = order[step * batch_size:(step + 1) * batch_size]
            key, aug_key = jax.random.split(key)
            loss = float(train_step(train_model, optimizer, images[idx], labels[idx], aug_key if use_augment else None))
            if not math.isfinite(loss):
                raise RuntimeError(f"에폭 {epoch}에서 손실이 {loss}가 되었습니다(학습률 {lr}이 너무 큽니다).")
            history.step_losses.append(loss)
        history.epoch_losses.append(sum(history.step_losses[-steps:]) / steps)
    return history
