"""그림 3 실험의 학습: 두 타워 모델(``groups=2``)과 대조군(``groups=1``)을 여러 시드로 학습하고 conv1 을 모읍니다.

* 실험 규모: :data:`TOWER_ARCHITECTURE`, :data:`TOWER_TRAINING`, :data:`CONV1_STD` (책의 장이 고른 값과 그 이유는
  장에 있습니다). 입력은 CIFAR-10 의 32×32 이미지에서 학습 세트 평균 이미지를 뺀 것입니다
  (:func:`alexnetbook.augment.subtract_mean`, 0–255 척도).
* :func:`train_towers`: (구조, 시드) 하나를 :func:`alexnetbook.train.fit` 으로 학습하고 에폭마다 conv1 커널을
  모읍니다. :func:`run_arms` 가 :func:`alexnetbook.seeds.run_seeds` 로 여러 시드와 두 구조를 한꺼번에 돌립니다.
* :func:`save_long_run`, :func:`load_long_run`: 노트북 예산을 넘는 긴 학습의 기록(에폭마다의 타워 평균 색 통계와
  p 값, 마지막 conv1 커널)을 파일 하나로 저장하고 읽습니다. 책과 함께 배포하는 기록은 :data:`LONG_RUN_FILE` 입니다.
  :func:`record_difference` 는 다시 학습한 실행이 기록의 처음 에폭들과 같은지 잽니다.

색 통계와 검정은 :mod:`alexnetbook.experiments.towers` 에 있습니다.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import torch
from torch import Tensor

from ..checkpoint import atomic_write
from ..checks import check_choice, check_float, check_int, check_tensor, check_type
from ..batches import TensorImageDataset
from ..models import AlexNet, AlexNetConfig
from ..seeds import run_seeds
from ..train import TrainConfig, fit
from ..utils import set_seed
from .towers import colour_fraction, split_p_value, tower_gap, tower_kernels

__all__ = [
    "CONV1_STD",
    "LONG_RUN_FILE",
    "RunRecord",
    "TOWER_ARCHITECTURE",
    "TOWER_TRAINING",
    "TowerRun",
    "init_conv1_",
    "load_long_run",
    "record_difference",
    "run_arms",
    "save_long_run",
    "train_towers",
]

#: 그림 3 실험의 구조: 논문의 두 타워 연결(``groups=2``), conv1 은 7×7 커널 64개(타워마다 32개), 보폭 2.
TOWER_ARCHITECTURE = AlexNetConfig(
    num_classes=10, groups=2, channels=(64, 96, 96, 96, 64), hidden_features=256,
    conv1_kernel_size=7, conv1_stride=2, conv1_padding=3, pool_output_size=1,
)

#: 그림 3 실험의 학습 설정: 모멘텀·가중치 감쇠는 논문 §5 그대로, 학습률은 일정. 에폭 2 는 노트북에서 다시 학습하는
#: 길이(기록의 처음 2 에폭과 같은지 확인하고 그림 4에 쓸 모델을 얻음)이고, 패키지에 든 긴 학습(:data:`LONG_RUN_FILE`)은
#: 같은 설정에서 ``epochs=20`` 입니다.
TOWER_TRAINING = TrainConfig(
    epochs=2, batch_size=64, lr=0.01, max_lr_drops=0, channels_last=True, device="cpu", progress=False,
    verbose=False,
)

#: conv1 가중치 초기화의 표준편차(논문 §5의 N(0, 0.01²)). 나머지 층은 PyTorch 기본 초기화입니다.
CONV1_STD = 0.01

#: 책과 함께 배포하는 긴 학습의 기록(이 모듈 옆의 파일). 만든 방법은 :func:`save_long_run` 을 보세요.
LONG_RUN_FILE = "tower_runs_long.pt"


@dataclass(frozen=True)
class TowerRun:
    """한 (구조, 시드) 실행의 결과.

    Attributes:
        seed: 초기화와 학습의 시드.
        architecture: 학습한 구조(``groups`` 2 는 두 타워, 1 은 대조군).
        epoch_kernels: conv1 가중치 ``(C, 3, k, k)`` 의 목록. ``[0]`` 은 학습 전, ``[e]`` 는 에폭 ``e`` 뒤.
        history: :func:`alexnetbook.train.fit` 의 에폭별 기록.
        state_dict: 학습한 모델의 가중치(그림 4에서 특징을 꺼낼 때 다시 씁니다).
    """

    seed: int
    architecture: AlexNetConfig
    epoch_kernels: list[Tensor]
    history: list[dict[str, float]]
    state_dict: dict[str, Tensor]

    @property
    def groups(self) -> int:
        """2(두 타워) 또는 1(대조군)."""
        return self.architecture.groups

    @property
    def initial_kernels(self) -> Tensor:
        """학습 전 conv1 가중치."""
        return self.epoch_kernels[0]

    @property
    def kernels(self) -> Tensor:
        """학습 뒤 conv1 가중치."""
        return self.epoch_kernels[-1]

    @property
    def fractions(self) -> Tensor:
        """학습 뒤 커널마다의 색 통계 ``(C,)``."""
        return colour_fraction(self.kernels)

    @property
    def tower_means(self) -> tuple[float, float]:
        """앞 절반(타워 A)과 뒤 절반(타워 B)의 평균 색 통계."""
        half = len(self.fractions) // 2
        return float(self.fractions[:half].mean()), float(self.fractions[half:].mean())

    @property
    def gap(self) -> float:
        """``|평균_A − 평균_B|``."""
        return float(tower_gap(self.fractions))

    @property
    def p_value(self) -> float:
        """무작위 분할에 대한 순열 검정의 p 값(:func:`~alexnetbook.experiments.towers.split_p_value`, 분할 시드 = 실행 시드)."""
        return split_p_value(self.fractions, seed=self.seed)

    def model(self) -> AlexNet:
        """학습한 모델을 다시 만듭니다(평가 모드)."""
        model = AlexNet.from_config(self.architecture)
        model.load_state_dict(self.state_dict)
        return model.eval()


def init_conv1_(model: AlexNet, seed: int, std: float = CONV1_STD) -> AlexNet:
    """conv1 가중치를 N(0, std²), 편향을 0 으로 다시 정합니다(논문 §5). 시드 ``seed`` 의 생성기를 따로 쓰므로,
    같은 시드라면 ``groups`` 가 달라도 두 모델의 conv1 은 똑같이 시작합니다.

    Raises:
        ValueError: ``std`` 가 양수가 아닐 때.
    """
    check_float(std, "std", minimum=0.0, open_min=True)
    generator = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    conv1 = model.features.conv1
    with torch.no_grad():
        conv1.weight.copy_(torch.randn(conv1.weight.shape, generator=generator) * std)
        conv1.bias.zero_()
    return model


def train_towers(
    seed: int,
    groups: int,
    images: Tensor,
    labels: Tensor,
    *,
    architecture: AlexNetConfig = TOWER_ARCHITECTURE,
    training: TrainConfig = TOWER_TRAINING,
    conv1_std: float = CONV1_STD,
) -> TowerRun:
    """시드 ``seed`` 로 초기화한 ``groups`` 구조를 학습하고, 에폭마다 conv1 커널을 모아 돌려줍니다.

    conv1 은 :func:`init_conv1_` (논문 §5의 N(0, 0.01²)), 나머지 층은 PyTorch 기본 초기화입니다.

    Args:
        seed: 초기 가중치와 미니배치 순서의 시드.
        groups: 2(논문의 두 타워 연결) 또는 1(대조군: 모든 층이 두 절반을 모두 봄).
        images: ``(N, 3, H, W)`` 평균을 뺀 학습 이미지(:func:`alexnetbook.augment.subtract_mean`).
        labels: ``(N,)`` 레이블.
        architecture: 구조(``groups`` 는 이 함수의 인자로 바꿉니다).
        training: 학습 설정(``seed`` 는 이 함수의 인자로 바꿉니다).
        conv1_std: conv1 초기 가중치의 표준편차.

    Returns:
        :class:`TowerRun`.

    Raises:
        TypeError, ValueError: 인자가 잘못되었을 때.
    """
    check_int(seed, "seed", minimum=0)
    check_choice(groups, "groups", (1, 2))
    check_tensor(images, "images", dims=4, floating=True)
    check_type(architecture, "architecture", AlexNetConfig)
    check_type(training, "training", TrainConfig)
    architecture = dataclasses.replace(architecture, groups=groups)
    set_seed(seed)
    model = init_conv1_(AlexNet.from_config(architecture), seed, conv1_std)
    snapshots = [torch.cat(tower_kernels(model))]
    history = fit(model, TensorImageDataset(images, labels), config=dataclasses.replace(training, seed=seed),
                  on_epoch_end=lambda _record: snapshots.append(torch.cat(tower_kernels(model))))
    model.to(memory_format=torch.contiguous_format)
    return TowerRun(seed=seed, architecture=architecture, epoch_kernels=snapshots, history=history,
                    state_dict={k: v.detach().clone() for k, v in model.state_dict().items()})


def _train_job(
    job: int, jobs: Sequence[tuple[int, int]], images: Tensor, labels: Tensor, **kwargs: object
) -> TowerRun:
    """``jobs[job] = (groups, seed)`` 하나를 학습합니다(:func:`run_arms` 의 작업 프로세스가 부름)."""
    groups, seed = jobs[job]
    return train_towers(seed, groups, images, labels, **kwargs)  # type: ignore[arg-type]


def run_arms(
    seeds: Sequence[int],
    images: Tensor,
    labels: Tensor,
    *,
    arms: Sequence[int] = (2, 1),
    processes: int | None = None,
    **kwargs: object,
) -> dict[int, list[TowerRun]]:
    """여러 시드에서 두 구조(기본: ``groups=2`` 와 대조군 ``groups=1``)를 학습합니다.

    (구조, 시드) 쌍마다 작업 하나를 만들어 :func:`alexnetbook.seeds.run_seeds` 로 한꺼번에 나눠 돌립니다.
    시드마다 두 구조를 차례로 돌리는 것보다 작업 프로세스가 노는 시간이 적습니다. 작업마다 스레드 하나로
    돌므로 결과는 프로세스 수와 상관없이 같습니다.

    Args:
        seeds: 시드들.
        images, labels: :func:`train_towers` 와 같습니다.
        arms: 학습할 ``groups`` 값들.
        processes: 작업 프로세스 수(:func:`~alexnetbook.seeds.run_seeds`).
        **kwargs: :func:`train_towers` 의 ``architecture``, ``training``, ``conv1_std``.

    Returns:
        ``groups`` → 시드 순서의 :class:`TowerRun` 목록.
    """
    seeds = [check_int(s, "seeds 의 원소", minimum=0) for s in seeds]
    arms = [check_choice(g, "arms 의 원소", (1, 2)) for g in arms]
    jobs = [(groups, seed) for groups in arms for seed in seeds]
    runs = run_seeds(_train_job, list(range(len(jobs))), jobs, images, labels, processes=processes, **kwargs)
    return {groups: [r for r in runs if r.groups == groups] for groups in arms}


@dataclass(frozen=True)
class RunRecord:
    """긴 학습 한 번(구조 하나, 시드 하나)의 기록. 목록의 ``[0]`` 은 학습 전, ``[e]`` 는 에폭 ``e`` 뒤입니다.

    Attributes:
        seed: 시드.
        groups: 2(두 타워) 또는 1(대조군).
        tower_means: 에폭마다 (타워 A, 타워 B)의 평균 색 통계.
        p_values: 에폭마다 :func:`~alexnetbook.experiments.towers.split_p_value` (분할 시드 = ``seed``).
        train_top1: 에폭 1, 2, … 의 학습 오류율(:func:`~alexnetbook.train.fit` 의 ``train_top1``).
        kernels: 마지막 에폭 뒤 conv1 가중치 ``(C, 3, k, k)`` (파일에는 float16 으로 저장).
    """

    seed: int
    groups: int
    tower_means: list[tuple[float, float]]
    p_values: list[float]
    train_top1: list[float]
    kernels: Tensor

    @property
    def gaps(self) -> list[float]:
        """에폭마다 ``|평균_A − 평균_B|``."""
        return [abs(a - b) for a, b in self.tower_means]

    @classmethod
    def from_run(cls, run: TowerRun) -> RunRecord:
        """:class:`TowerRun` 의 에폭별 conv1 커널에서 기록을 만듭니다."""
        fractions = [colour_fraction(k) for k in run.epoch_kernels]
        half = len(fractions[0]) // 2
        return cls(
            seed=run.seed, groups=run.groups,
            tower_means=[(float(f[:half].mean()), float(f[half:].mean())) for f in fractions],
            p_values=[split_p_value(f, seed=run.seed) for f in fractions],
            train_top1=[float(r["train_top1"]) for r in run.history], kernels=run.kernels.clone(),
        )


def record_difference(run: TowerRun, record: RunRecord) -> float:
    """``run`` 이 학습한 에폭들(학습 전 0 부터 마지막 에폭까지)에서 ``run`` 과 긴 학습 기록 ``record`` 의 가장 큰 차이.

    타워 평균 색 통계, p 값, 학습 오류율을 모두 견줍니다. 같은 코드·시드·설정으로 다시 학습했다면 기록의 처음
    에폭들과 같은 계산이므로 같은 CPU 에서는 0 입니다(CPU 가 다르면 반올림이 달라 조금 다를 수 있음).

    Raises:
        ValueError: 구조나 시드가 다르거나, ``run`` 이 기록보다 오래 학습했을 때.
    """
    check_type(run, "run", TowerRun)
    check_type(record, "record", RunRecord)
    if (run.seed, run.groups) != (record.seed, record.groups):
        raise ValueError(
            f"run(시드 {run.seed}, groups={run.groups})과 record(시드 {record.seed}, groups={record.groups})는 "
            "다른 실행입니다."
        )
    epochs = len(run.history)
    if epochs > len(record.train_top1):
        raise ValueError(f"run 은 {epochs} 에폭을 학습했는데 record 에는 {len(record.train_top1)} 에폭만 있습니다.")
    new = RunRecord.from_run(run)
    pairs = [
        *((a, b) for e in range(epochs + 1) for a, b in zip(new.tower_means[e], record.tower_means[e])),
        *zip(new.p_values, record.p_values[: epochs + 1]),
        *zip(new.train_top1, record.train_top1[:epochs]),
    ]
    return max(abs(a - b) for a, b in pairs)


def save_long_run(runs: dict[int, Sequence[TowerRun]], path: str | os.PathLike[str]) -> None:
    """:func:`run_arms` 의 결과를 :class:`RunRecord` 로 줄여 ``path`` 에 저장합니다(모델 가중치는 빼고).

    책과 함께 배포하는 :data:`LONG_RUN_FILE` 은 이 장과 같은 데이터·구조로 20 에폭을 학습해 만들었습니다::

        images, labels = load_tensors("cifar10", "train", per_class=1000)
        x, _mean = subtract_mean(images)
        runs = run_arms(range(5), x, labels, training=dataclasses.replace(TOWER_TRAINING, epochs=20))
        save_long_run(runs, "tower_runs_long.pt")

    Args:
        runs: ``groups`` → :class:`TowerRun` 목록.
        path: 저장할 파일.
    """
    records = [RunRecord.from_run(run) for group in runs.values() for run in group]
    payload = {"format": 1, "records": [
        {**dataclasses.asdict(dataclasses.replace(r, kernels=torch.empty(0))), "kernels": r.kernels.half()}
        for r in records
    ]}
    atomic_write(path, lambda f: torch.save(payload, f))


def load_long_run(path: str | os.PathLike[str] | None = None) -> dict[int, list[RunRecord]]:
    """:func:`save_long_run` 이 저장한 기록을 읽습니다.

    Args:
        path: 읽을 파일. ``None`` 이면 패키지에 든 :data:`LONG_RUN_FILE`.

    Returns:
        ``groups`` → 시드 순서의 :class:`RunRecord` 목록(두 타워가 먼저).

    Raises:
        ValueError: 이 형식의 파일이 아닐 때.
    """
    if path is None:
        with resources.as_file(resources.files(__package__).joinpath(LONG_RUN_FILE)) as packaged:
            payload = torch.load(packaged, weights_only=True)
    else:
        payload = torch.load(path, weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != 1:
        raise ValueError(f"{path or LONG_RUN_FILE} 은(는) save_long_run 이 저장한 긴 학습 기록이 아닙니다.")
    records: dict[int, list[RunRecord]] = {}
    for item in payload["records"]:
        record = RunRecord(
            seed=int(item["seed"]), groups=int(item["groups"]),
            tower_means=[(float(a), float(b)) for a, b in item["tower_means"]],
            p_values=[float(p) for p in item["p_values"]], train_top1=[float(e) for e in item["train_top1"]],
            kernels=item["kernels"].float(),
        )
        records.setdefault(record.groups, []).append(record)
    return {groups: sorted(rs, key=lambda r: r.seed) for groups, rs in sorted(records.items(), reverse=True)}
