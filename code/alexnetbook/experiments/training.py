"""학습 장의 실험: 논문 §5의 방법을 줄여 AlexNet 축소판을 CIFAR-10 으로 학습합니다.

* :data:`TRAIN_PER_CLASS`, :data:`VAL_PER_CLASS`, :data:`TEST_PER_CLASS`, :data:`CROP`: 장의 데이터 크기.
  오프라인 사본에서도 Colab(전체 CIFAR-10 을 내려받음)에서도 클래스마다 같은 수를 골라 같은 크기의 실험이 됩니다.
* :func:`make_model`: 28×28 조각용 축소판(``AlexNet.for_cifar``)을 논문 초기화 또는 PyTorch 기본 초기화로 만듭니다.
* :func:`init_history`, :func:`compare_inits`: :func:`alexnetbook.seeds.run_seeds` 로 시드마다 부르는 초기화 비교
  (한 초기화의 학습 한 번, 같은 시드로 두 초기화).
* :func:`input_dependence`: 층마다 출력이 **이미지에 따라 얼마나 달라지는지**(초기화 진단).
* :func:`lr_drop_epochs`: 학습 기록에서 학습률이 줄어든 에폭. :func:`stop_after_drop`: 학습률을 줄인 뒤
  몇 에폭 더 학습하고 멈추기.
* :func:`momentum_trajectories`: 논문의 모멘텀 갱신 식과 ``torch.optim.SGD`` 를 같은 기울기로 비교.

데이터는 :func:`alexnetbook.data.load_tensors`, 학습 자체는 :func:`alexnetbook.train.fit` 이 합니다.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..checks import check_choice, check_float, check_int, check_tensor, check_type
from ..models import AlexNet, init_paper_, layer_outputs
from ..train import TrainConfig, fit
from ..utils import set_seed

__all__ = [
    "CROP",
    "INITS",
    "TEST_PER_CLASS",
    "TRAIN_PER_CLASS",
    "VAL_PER_CLASS",
    "compare_inits",
    "init_history",
    "input_dependence",
    "lr_drop_epochs",
    "make_model",
    "momentum_trajectories",
    "stop_after_drop",
]

#: 학습 이미지에서 클래스마다 읽는 수. 이 가운데 :data:`VAL_PER_CLASS` 장을 검증 세트로 떼어 냅니다.
TRAIN_PER_CLASS = 500
#: 학습 이미지에서 클래스마다 떼어 낼 검증 이미지 수(학습률 스케줄이 이 세트를 봅니다).
VAL_PER_CLASS = 100
#: 테스트 이미지에서 클래스마다 읽는 수(마지막 보고에만 씁니다).
TEST_PER_CLASS = 300
#: 32×32 이미지에서 잘라 낼 조각의 크기(논문의 256 → 224 와 같은 비율 0.875).
CROP = 28

#: :func:`make_model` 이 아는 초기화.
INITS = ("paper", "pytorch")


def make_model(init: str = "pytorch", *, seed: int = 0, **kwargs: object) -> AlexNet:
    """28×28 조각용 ``AlexNet.for_cifar(pool_output_size=2)`` 를 만듭니다(28 → 13 → 6 → 2).

    Args:
        init: ``"paper"`` (§5: 가중치 N(0, 0.01²), conv2·conv4·conv5·fc6·fc7 편향 1, 나머지 편향 0) 또는
            ``"pytorch"`` (PyTorch 기본 초기화).
        seed: 초기화 시드.
        **kwargs: ``AlexNet.for_cifar`` 에 넘길 인자(``channels``, ``hidden_features`` 등).

    Raises:
        ValueError: 모르는 ``init``.
    """
    check_choice(init, "init", INITS)
    set_seed(seed)
    model = AlexNet.for_cifar(pool_output_size=2, **kwargs)  # type: ignore[arg-type]
    if init == "paper":
        init_paper_(model)
    return model


def init_history(
    seed: int,
    init: str,
    train_data: Dataset,
    val_data: Dataset,
    config: TrainConfig,
) -> list[dict[str, float]]:
    """초기화 비교 한 번: ``make_model(init, seed=seed)`` 을 ``config`` 로 학습합니다.

    :func:`alexnetbook.seeds.run_seeds` 가 시드마다 부르도록 모듈 수준에 둔 함수입니다. 초기화와 미니배치
    순서·드롭아웃·증강이 모두 ``seed`` 를 따릅니다(``config.seed`` 는 ``seed`` 로 바꿉니다). 그래서 시드가
    같으면 두 초기화가 같은 이미지를 같은 순서로 봅니다.

    Args:
        seed: 초기화와 학습의 시드.
        init: :data:`INITS` 중 하나.
        train_data: 학습 Dataset.
        val_data: 검증 Dataset.
        config: 학습 설정.

    Returns:
        :func:`alexnetbook.train.fit` 의 에폭별 기록.
    """
    check_type(config, "config", TrainConfig)
    model = make_model(init, seed=seed)
    run = dataclasses.replace(config, seed=seed, progress=False, verbose=False, checkpoint_dir=None, resume=False)
    return fit(model, train_data, val_data, run)


def compare_inits(
    seed: int,
    train_data: Dataset,
    val_data: Dataset,
    config: TrainConfig,
) -> dict[str, list[dict[str, float]]]:
    """시드 하나로 두 초기화(:data:`INITS`)를 차례로 학습합니다(:func:`init_history` 두 번).

    :func:`alexnetbook.seeds.run_seeds` 로 시드마다 부르면 작업 프로세스 하나가 한 시드의 짝(같은 이미지, 같은
    순서)을 맡습니다.

    Returns:
        초기화 이름 → :func:`alexnetbook.train.fit` 의 에폭별 기록.
    """
    return {init: init_history(seed, init, train_data, val_data, config) for init in INITS}


def input_dependence(model: AlexNet, images: Tensor) -> dict[str, float]:
    """층마다 출력이 이미지에 따라 얼마나 달라지는지 잽니다(평가 모드).

    한 층의 출력 ``a`` (배치 ``N``)에 대해 ``(배치 방향 표준편차의 평균) / (제곱 평균의 제곱근)`` 을 계산합니다.
    0 이면 모든 이미지에 똑같은 값을 내는 층(입력을 잊은 층), 1 안팎이면 이미지마다 크게 다른 값을 내는
    층입니다. 마지막 층(fc8)의 값이 0 에 가까우면 신경망의 출력이 입력과 거의 상관없으므로, 손실의 기울기도
    이미지를 구별하는 방향을 거의 가리키지 못합니다.

    Args:
        model: :class:`AlexNet`.
        images: ``(N, 3, H, W)`` 입력 배치(N ≥ 2).

    Returns:
        층 이름(``relu1`` … ``relu7``, ``fc8``) → 비율.

    Raises:
        TypeError: ``model`` 이 :class:`AlexNet` 이 아니거나 ``images`` 가 텐서가 아닐 때.
        ValueError: 배치가 2장보다 적을 때.
    """
    check_type(model, "model", AlexNet)
    check_tensor(images, "images", dims=4)
    if len(images) < 2:
        raise ValueError(f"images는 두 장 이상의 (N, 3, H, W) 배치여야 합니다. 받은 모양: {tuple(images.shape)}")
    names = ["relu1", "relu2", "relu3", "relu4", "relu5", "relu6", "relu7", "fc8"]
    stats: dict[str, float] = {}
    for name, output in layer_outputs(model, images, names).items():
        flat = output.double().flatten(1)  # (N, ...) -> (N, D)
        rms = flat.pow(2).mean().sqrt()
        stats[name] = float(flat.std(dim=0).mean() / rms) if rms > 0 else 0.0
    return stats


def lr_drop_epochs(history: Sequence[Mapping[str, float]]) -> list[int]:
    """학습률이 앞 에폭보다 작아진 에폭들(줄인 학습률로 처음 학습한 에폭, 1부터).

    :func:`alexnetbook.train.fit` 은 에폭 ``e`` 의 검증 오류율을 보고 줄일지 정하므로, 여기 나오는 에폭
    ``e + 1`` 의 학습률은 에폭 ``e`` 가 끝난 직후에 줄어든 것입니다.

    Args:
        history: ``fit`` 의 기록(에폭마다 ``"epoch"``, ``"lr"`` 이 든 딕셔너리).

    Raises:
        KeyError: 기록에 ``"epoch"`` 나 ``"lr"`` 이 없을 때.
    """
    return [int(cur["epoch"]) for prev, cur in zip(history, history[1:]) if cur["lr"] < prev["lr"]]


def stop_after_drop(initial_lr: float, epochs_after: int) -> Callable[[Mapping[str, float]], bool]:
    """:func:`alexnetbook.train.fit` 의 ``stop`` 으로 넘길 함수: 줄인 학습률로 ``epochs_after`` 에폭을 학습하면 멈춥니다.

    학습률을 처음 줄인 뒤의 곡선을 몇 에폭 보여 주되, 그 뒤로는 예산을 쓰지 않으려는 장치입니다.

    Args:
        initial_lr: 처음 학습률(``TrainConfig.lr``). 에폭 기록의 ``"lr"`` 이 이보다 작으면 줄인 뒤의 에폭입니다.
        epochs_after: 줄인 학습률로 학습할 에폭 수(1 이상).

    Returns:
        에폭 기록을 받아 멈출지를 돌려주는 함수(호출마다 줄인 뒤의 에폭 수를 셉니다).

    Raises:
        ValueError: 값이 범위를 벗어날 때.
        TypeError: 숫자 자리에 다른 타입이 올 때.
    """
    initial_lr = check_float(initial_lr, "initial_lr", minimum=0.0, open_min=True)
    epochs_after = check_int(epochs_after, "epochs_after", minimum=1)
    seen = [0]  # 줄인 학습률로 학습한 에폭 수

    def stop(record: Mapping[str, float]) -> bool:
        if record["lr"] < initial_lr:
            seen[0] += 1
        return seen[0] >= epochs_after

    return stop


def momentum_trajectories(
    lrs: Sequence[float],
    *,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    w0: float = 1.0,
    curvature: float = 1.0,
) -> tuple[list[float], list[float]]:
    """손실 ``curvature · w² / 2`` 에서 두 갱신 식이 만드는 가중치의 궤적을 float64 로 비교합니다.

    * 논문 §5: ``v ← μ·v − λ·ε·w − ε·∂L/∂w``, ``w ← w + v``.
    * PyTorch: ``torch.optim.SGD(momentum=μ, weight_decay=λ)`` 그대로(``b ← μ·b + (g + λ·w)``, ``w ← w − ε·b``).

    Args:
        lrs: 스텝마다의 학습률 ``ε`` (중간에 줄이면 학습률 감소를 흉내 냄). 비어 있지 않아야 합니다.
        momentum: ``μ`` (0 이상 1 미만).
        weight_decay: ``λ`` (0 이상).
        w0: 처음 가중치.
        curvature: 손실의 곡률(0 이상).

    Returns:
        ``(논문 식의 w 목록, PyTorch 의 w 목록)``; 각 목록은 매 스텝 뒤의 가중치.

    Raises:
        ValueError: ``lrs`` 가 비었거나 값이 범위를 벗어날 때.
        TypeError: 숫자 자리에 다른 타입이 올 때.
    """
    lrs = [check_float(lr, "lrs 의 원소", minimum=0.0) for lr in lrs]
    if not lrs:
        raise ValueError("lrs에 학습률이 하나 이상 있어야 합니다.")
    momentum = check_float(momentum, "momentum", minimum=0.0, maximum=1.0, open_max=True)
    weight_decay = check_float(weight_decay, "weight_decay", minimum=0.0)
    w0 = check_float(w0, "w0")
    curvature = check_float(curvature, "curvature", minimum=0.0)
    # 논문의 식: 학습률이 속도 v 안에 들어갑니다.
    w, v = w0, 0.0
    paper: list[float] = []
    for lr in lrs:
        v = momentum * v - weight_decay * lr * w - lr * curvature * w
        w = w + v
        paper.append(w)
    # PyTorch: 모멘텀 버퍼에는 학습률이 들어가지 않습니다.
    param = torch.tensor([w0], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lrs[0], momentum=momentum, weight_decay=weight_decay)
    pytorch: list[float] = []
    for lr in lrs:
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad()
        (0.5 * curvature * param.pow(2).sum()).backward()
        optimizer.step()
        pytorch.append(float(param.detach()))
    return paper, pytorch
