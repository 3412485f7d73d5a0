"""논문 §3.1 그림 1의 재현: 네 층 CNN 에서 ReLU 와 tanh 가 목표 학습 오류율에 닿기까지의 에폭 수, 시드 여러 개로.

그림 1에서 ReLU 신경망은 CIFAR-10 학습 오류율 25%에 tanh 신경망보다 여섯 배 빨리 닿았습니다. 학습률은 신경망마다
"학습이 가장 빠르도록 따로" 골랐고 규제는 쓰지 않았습니다. 여기서는 (a) 두 신경망에 같은 학습률
(:attr:`Setting.shared_lr`)과 (b) 신경망마다 격자에서 가장 빠른 학습률(논문의 방식, :func:`search_lr`)로 비교합니다.
시드 하나가 두 신경망의 학습률 탐색까지 실험 전체를 한 번 되풀이합니다(:func:`run_seed`, :func:`compare`).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ..activations import get_grads
from ..augment import subtract_mean
from ..checks import check_choice, check_float, check_int, check_tensor
from ..batches import TensorImageDataset
from ..data import DATASETS, load_tensors
from ..evaluate import evaluate
from ..models import init_paper_
from ..seeds import run_seeds
from ..small_cnn import SmallCNN
from ..stats import Summary, summarize
from ..train import DivergedError, StepInfo, TrainConfig, fit

__all__ = ["SETTINGS", "Comparison", "Run", "Setting", "compare", "epochs_to_target", "initial_layer_stats",
           "load_data", "paper_init_cnn", "run_seed", "search_lr", "search_task", "train_to_target"]

ACTIVATIONS = ("relu", "tanh")  # 비는 언제나 tanh ÷ ReLU


@dataclass(frozen=True)
class Setting:
    """데이터셋 하나의 실험 설정. 학습은 모멘텀 SGD, 학습률 일정, 가중치 감쇠 없음입니다.

    Attributes:
        dataset: ``"cifar10"`` 또는 ``"fashion-mnist"``.
        per_class: 클래스마다 쓸 학습 이미지 수(선택 시드 0, 클래스가 번갈아 나오는 순서).
        target: 목표 학습 오류율(0–1). 논문은 0.25.
        shared_lr: 방식 (a)의 공통 학습률(``lrs`` 안의 값이자 탐색의 출발점).
        lrs: 방식 (b)의 학습률 격자.
        max_epochs: 실행마다의 에폭 상한.
        eval_size: 학습 오류율을 잴 학습 이미지 수(앞에서부터).
        batch_size, momentum: 논문 §5의 128, 0.9.
        device: 학습 장치. 결과가 비트 단위로 재현되는 것은 CPU 에서입니다.
    """

    dataset: str
    per_class: int
    target: float
    shared_lr: float
    lrs: tuple[float, ...]
    max_epochs: int
    eval_size: int = 500
    batch_size: int = 128
    momentum: float = 0.9
    device: str = "cpu"

    def __post_init__(self) -> None:
        check_choice(self.dataset, "dataset", tuple(DATASETS))
        for name in ("per_class", "max_epochs", "eval_size", "batch_size"):
            check_int(getattr(self, name), name, minimum=1)
        check_float(self.target, "target", minimum=0.0, maximum=1.0, open_min=True, open_max=True)
        check_float(self.momentum, "momentum", minimum=0.0, maximum=1.0, open_max=True)
        for i, lr in enumerate(self.lrs):
            check_float(lr, f"lrs[{i}]", minimum=0.0, open_min=True)
        check_choice(self.shared_lr, "shared_lr", self.lrs)


#: 책의 설정. 노트북의 시간 예산에 맞춰 이미지 수, 목표, 에폭 상한을 줄였습니다.
SETTINGS: dict[str, Setting] = {
    "cifar10": Setting("cifar10", per_class=150, target=0.7, shared_lr=0.01, lrs=(0.003, 0.01, 0.03, 0.1, 0.3),
                       max_epochs=16, eval_size=300),
    "fashion-mnist": Setting("fashion-mnist", per_class=60, target=0.5, shared_lr=0.01,
                             lrs=(0.003, 0.01, 0.03, 0.1, 0.3), max_epochs=20, eval_size=200),
}


def load_data(setting: Setting, *, scale: float = 1.0) -> tuple[Tensor, Tensor]:
    """학습 이미지를 읽어 논문 §2처럼 평균 이미지만 뺍니다: ``(N, C, H, W)`` float32(0–255 척도 × ``scale``), ``(N,)``."""
    images, labels = load_tensors(setting.dataset, "train", per_class=setting.per_class)
    images, _mean = subtract_mean(images, scale=scale)
    return images, labels


def paper_init_cnn(activation: str, seed: int, *, in_channels: int = 3, image_size: int = 32) -> SmallCNN:
    """:class:`~alexnetbook.small_cnn.SmallCNN` 을 모든 가중치 ~ N(0, 0.01²)(논문 §5), 편향 0 으로 초기화합니다.

    논문의 편향 1 은 "ReLU 에 양의 입력을 주려는" 장치라서 두 신경망을 같은 조건에 두려고 0 으로 둡니다. 매개변수의
    모양이 활성화 함수와 무관하므로 같은 ``seed`` 의 ReLU 신경망과 tanh 신경망은 초기 가중치가 같습니다.
    """
    check_int(seed, "seed", minimum=0)
    torch.manual_seed(seed)
    return init_paper_(SmallCNN(activation, in_channels=in_channels, image_size=image_size), std=0.01,
                       bias_one_layers=())


def initial_layer_stats(images: Tensor, labels: Tensor, seed: int = 0) -> dict[str, list[dict[str, float]]]:
    """초기화 직후 합성곱 층마다 활성화 함수 입력·출력의 표준편차(``input_std``, ``output_std``), 도함수의 평균
    (``mean_grad``, :func:`~alexnetbook.activations.get_grads`), 포화 비율(``saturated``: tanh 에서 ``|f| > 0.99``),
    ``images`` 의 평균 교차 엔트로피에 대한 가중치 기울기의 L2 노름(``weight_grad_norm``; 첫 스텝 = 학습률 × 기울기)."""
    check_tensor(images, "images", dims=4, floating=True)
    check_tensor(labels, "labels", dims=1, dtype=torch.int64)
    stats: dict[str, list[dict[str, float]]] = {}
    for activation in ACTIVATIONS:
        model = paper_init_cnn(activation, seed, in_channels=images.shape[1], image_size=images.shape[-1])
        rows, x = [], images
        for name, layer in model.features.named_children():
            if name.startswith("act"):
                pre, post = x.detach(), layer(x).detach()
                saturated = 0.0 if activation == "relu" else (post.abs() > 0.99).float().mean().item()
                rows.append({"input_std": pre.std().item(), "output_std": post.std().item(),
                             "mean_grad": get_grads(layer, pre).mean().item(), "saturated": saturated})
            x = layer(x)
        F.cross_entropy(model.fc4(torch.flatten(x, 1)), labels).backward()  # (N, C, S, S) -> (N, C*S*S)
        for row, i in zip(rows, (1, 2, 3)):
            row["weight_grad_norm"] = getattr(model.features, f"conv{i}").weight.grad.norm().item()
        stats[activation] = rows
    return stats


def epochs_to_target(epochs: Sequence[float], errors: Sequence[float], target: float) -> float | None:
    """오류율 곡선이 처음으로 ``target`` 이하가 되는 때(에폭). 닿지 못했으면 ``None``.

    처음으로 목표 이하가 된 측정과 그 바로 앞 측정을 직선으로 이어 목표를 지나는 점을 읽습니다(선형 보간).
    """
    if len(epochs) != len(errors):
        raise ValueError(f"epochs와 errors의 길이가 다릅니다: {len(epochs)} != {len(errors)}")
    for i, (epoch, error) in enumerate(zip(epochs, errors)):
        if error <= target:
            if i == 0:
                return float(epoch)
            e0, err0 = epochs[i - 1], errors[i - 1]
            return e0 + (err0 - target) / (err0 - error) * (epoch - e0)  # err0 > target >= error
    return None


@dataclass(frozen=True)
class Run:
    """한 (시드, 활성화 함수, 학습률) 실행: ``epochs`` (0, 0.5, 1, ... 에폭)에 잰 학습 오류율 ``errors`` (평가 모드).
    ``cap`` 은 허용한 에폭 수, ``diverged`` 는 손실이 NaN/inf 가 되어 멈췄는지입니다."""

    activation: str
    lr: float
    target: float
    cap: float
    epochs: tuple[float, ...]
    errors: tuple[float, ...]
    diverged: bool = False

    def epochs_to(self, level: float) -> float | None:
        """오류율이 처음으로 ``level`` 이하가 된 때(:func:`epochs_to_target`). 목표보다 느슨한 기준도 됩니다."""
        return epochs_to_target(self.epochs, self.errors, level)

    @property
    def epochs_to_target(self) -> float | None:
        """목표에 닿은 때(에폭). 닿지 못했으면 ``None``."""
        return self.epochs_to(self.target)

    def text(self) -> str:
        """표에 쓸 값: ``"4.3"``, ``"> 4.5"`` (마지막 측정까지 못 닿음), ``"발산"``."""
        if self.epochs_to_target is not None:
            return f"{self.epochs_to_target:.1f}"
        return "발산" if self.diverged else f"> {self.epochs[-1]:g}"


def train_to_target(
    seed: int, activation: str, images: Tensor, labels: Tensor, *, lr: float, setting: Setting, cap: float
) -> Run:
    """:func:`paper_init_cnn` 신경망 하나를 학습하며 학습 이미지 앞쪽 ``setting.eval_size`` 장의 오류율을 처음과 반
    에폭마다 잽니다. 어느 측정이 목표 이하이거나 ``cap`` 에폭 이후의 측정이면 거기서 멈춥니다."""
    check_tensor(images, "images", dims=4, floating=True)
    check_tensor(labels, "labels", dims=1, dtype=torch.int64)
    check_float(cap, "cap", minimum=0.0, open_min=True)
    model = paper_init_cnn(activation, seed, in_channels=images.shape[1], image_size=images.shape[-1])
    # channels_last 는 이 작은 CNN 의 CPU 학습을 약 4분의 1 빠르게 하고, 평가 배치는 작을수록 캐시에 맞아 빠릅니다.
    config = TrainConfig(epochs=math.ceil(cap), batch_size=setting.batch_size, lr=lr, momentum=setting.momentum,
                         weight_decay=0.0, max_lr_drops=0, seed=seed, device=setting.device, channels_last=True,
                         eval_batch_size=250, progress=False, verbose=False)
    probe = TensorImageDataset(images[:setting.eval_size], labels[:setting.eval_size])
    steps = math.ceil(len(labels) / setting.batch_size)  # 한 에폭의 스텝 수

    def error(net: torch.nn.Module) -> float:
        return evaluate(net, probe, batch_size=250, memory_format=torch.channels_last)["top1"]

    points = [(0.0, error(model.to(memory_format=torch.channels_last)))]

    def done(epoch: float, value: float) -> bool:
        points.append((epoch, value))
        return value <= setting.target or epoch >= cap

    def on_step(info: StepInfo) -> bool:  # True 면 fit 이 에폭 한가운데에서 멈춥니다
        if info.step - (info.epoch - 1) * steps == steps // 2:  # 에폭의 한가운데
            return done(info.epoch - 1 + (steps // 2) / steps, error(info.model))
        return False

    diverged = False
    try:
        fit(model, TensorImageDataset(images, labels), config=config, eval_sets={"train_eval": probe},
            on_step=on_step, stop=lambda record: done(float(record["epoch"]), record["train_eval_top1"]))
    except DivergedError:
        diverged = True
    epochs, errors = zip(*points)
    return Run(activation, lr, setting.target, cap, tuple(epochs), tuple(errors), diverged)


def search_lr(seed: int, activation: str, images: Tensor, labels: Tensor, setting: Setting) -> list[Run]:
    """신경망 하나의 학습률 탐색. 실행한 순서대로의 :class:`Run` 을 돌려줍니다(첫 번째가 공통 학습률).

    1. ``setting.shared_lr`` 를 ``max_epochs`` 까지 돌립니다(방식 (a)의 결과이자 출발점).
    2. 격자에서 한 칸씩 큰 쪽으로 갑니다. 실행마다 지금까지의 최선까지만 허용하고(그 뒤의 첫 측정에서 멈춤),
       최선보다 빠르지 않으면 그 방향은 거기까지입니다.
    3. 큰 쪽에서 한 번도 나아지지 않았으면 같은 방법으로 작은 쪽으로 갑니다.
    """
    grid = sorted(setting.lrs)
    start = grid.index(setting.shared_lr)
    runs = [train_to_target(seed, activation, images, labels, lr=setting.shared_lr, setting=setting,
                            cap=setting.max_epochs)]
    best = runs[0].epochs_to_target
    for direction in (grid[start + 1:], grid[:start][::-1]):
        improved = False
        for lr in direction:
            cap = setting.max_epochs if best is None else min(setting.max_epochs, best)
            runs.append(train_to_target(seed, activation, images, labels, lr=lr, setting=setting, cap=cap))
            value = runs[-1].epochs_to_target
            if value is None or (best is not None and value >= best):
                break
            best, improved = value, True
        if improved:
            break
    return runs


def run_seed(seed: int, images: Tensor, labels: Tensor, setting: Setting) -> dict[str, list[Run]]:
    """시드 하나에서 두 신경망의 학습률 탐색(:func:`search_lr`)을 합니다."""
    return {activation: search_lr(seed, activation, images, labels, setting) for activation in ACTIVATIONS}


@dataclass(frozen=True)
class Comparison:
    """여러 시드의 결과. ``runs[i]`` 가 ``seeds[i]`` 의 :func:`run_seed` 결과입니다."""

    setting: Setting
    seeds: tuple[int, ...]
    runs: tuple[dict[str, list[Run]], ...]

    def pick(self, protocol: str, activation: str) -> list[Run]:
        """시드마다 고른 실행: ``"shared"`` 는 공통 학습률, ``"best"`` 는 그 시드에서 목표에 가장 빨리 닿은 실행."""
        check_choice(protocol, "protocol", ("shared", "best"))
        chosen = []
        for runs in self.runs:
            reached = [r for r in runs[activation] if r.epochs_to_target is not None]
            best = min(reached, key=lambda r: r.epochs_to_target) if reached else runs[activation][0]
            chosen.append(runs[activation][0] if protocol == "shared" else best)
        return chosen

    def summary(self, protocol: str, activation: str | None = None, level: float | None = None) -> Summary:
        """시드마다 목표(또는 ``level``)까지의 에폭 수의 요약. ``activation=None`` 이면 비(tanh ÷ ReLU)의 요약.

        Raises:
            ValueError: 어느 실행이 그 기준에 닿지 못했을 때.
        """
        level = self.setting.target if level is None else level
        values = {a: [r.epochs_to(level) for r in self.pick(protocol, a)] for a in ACTIVATIONS}
        if any(v is None for vs in values.values() for v in vs):
            raise ValueError(f"{protocol}의 어느 실행이 오류율 {level:.0%}에 닿지 못해 요약할 수 없습니다.")
        if activation is not None:
            return summarize(values[check_choice(activation, "activation", ACTIVATIONS)])
        return summarize([t / r for r, t in zip(values["relu"], values["tanh"])])

    def table(self) -> str:
        """시드마다 두 방식의 학습률, 목표까지의 에폭 수, 그 비."""
        widths = (9, 5, 9, 10, 9, 10, 8)
        lines = [_row(("방식", "시드", "ReLU lr", "ReLU 에폭", "tanh lr", "tanh 에폭", "비"), widths)]
        for protocol, name in (("shared", "(a) 공통"), ("best", "(b) 각자")):
            for seed, relu, tanh in zip(self.seeds, self.pick(protocol, "relu"), self.pick(protocol, "tanh")):
                a, b = relu.epochs_to_target, tanh.epochs_to_target
                cells = (name, str(seed), f"{relu.lr:g}", relu.text(), f"{tanh.lr:g}", tanh.text(),
                         f"{b / a:.2f}" if a and b else "-")
                lines.append(_row(cells, widths))
        return "\n".join(lines)

    def grid(self) -> str:
        """탐색한 모든 실행: 학습률마다 시드별 목표까지의 에폭 수(``-`` 는 탐색이 가지 않은 학습률)."""
        widths = (5, 7, *(8 for _ in self.seeds))
        lines = [_row(("", "lr", *(f"시드 {s}" for s in self.seeds)), widths)]
        for activation in ACTIVATIONS:
            for lr in sorted(self.setting.lrs):
                cells = [next((r.text() for r in runs[activation] if r.lr == lr), "-") for runs in self.runs]
                lines.append(_row((activation, f"{lr:g}", *cells), widths))
        return "\n".join(lines)


def search_task(task: int, seeds: Sequence[int], images: Tensor, labels: Tensor, setting: Setting) -> list[Run]:
    """:func:`compare` 의 작업 하나: 시드 ``seeds[task // 2]`` 에서 ``ACTIVATIONS[task % 2]`` 신경망의 :func:`search_lr`."""
    seed, index = divmod(task, len(ACTIVATIONS))
    return search_lr(seeds[seed], ACTIVATIONS[index], images, labels, setting)


def compare(setting: Setting, seeds: Sequence[int], images: Tensor, labels: Tensor) -> Comparison:
    """시드마다 :func:`run_seed` 의 결과를 모읍니다.

    작업 하나는 시드 하나가 아니라 (시드, 신경망) 쌍 하나의 학습률 탐색(:func:`search_task`)이고,
    :func:`~alexnetbook.seeds.run_seeds` 가 작업마다 스레드 하나로 돌립니다. 코어 두 개에서 시드가 셋이면 작업 여섯
    개를 두 프로세스가 나눠 맡으므로, 시드 단위로 나눌 때처럼 마지막 시드 하나를 한 프로세스가 혼자 돌리는 동안 다른
    코어가 오래 놀지 않습니다. 작업마다 스레드가 하나이고 시드가 모든 난수를 정하므로, 결과는 프로세스 수와 상관없이
    :func:`run_seed` 와 비트 단위로 같습니다.

    Raises:
        ValueError: ``seeds`` 가 비었거나 같은 시드가 두 번 있을 때.
    """
    seeds = tuple(check_int(s, "seeds 의 원소", minimum=0) for s in seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds에 서로 다른 시드가 하나 이상 있어야 합니다: {seeds}")
    n = len(ACTIVATIONS)
    results = run_seeds(search_task, range(n * len(seeds)), seeds, images, labels, setting)
    runs = tuple(dict(zip(ACTIVATIONS, results[i:i + n])) for i in range(0, len(results), n))  # 시드마다 {relu, tanh}
    return Comparison(setting, seeds, runs)


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    """오른쪽 맞춤 표의 한 줄. 한글 같은 전각 문자는 두 칸으로 셉니다."""
    return "".join(" " * max(w - sum(1 + (unicodedata.east_asian_width(ch) in "WF") for ch in c), 1) + c
                   for c, w in zip(cells, widths))
