"""학습 한 번의 설정 :class:`TrainConfig` 와 이름 있는 설정 :data:`PRESETS`.

기본값이 논문 §5의 방법입니다(preset ``"paper"``): 모멘텀 0.9, 가중치 감쇠 5e-4, 배치 128, 학습률 0.01 에서
시작해 검증 오류율이 더 나아지지 않으면 10으로 나누기를 세 번까지. 성능 장에서 잰 기법(``channels_last``,
``bf16`` autocast, ``fused_sgd``, ``compile``)도 여기서 켭니다. 이 설정을 읽어 학습하는 루프는
:func:`alexnetbook.train.fit` 하나입니다.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .checks import check_float, check_int, check_type

__all__ = ["PRESETS", "TrainConfig"]


@dataclass(frozen=True)
class TrainConfig:
    """학습 한 번의 설정. 기본값은 논문 §5의 방법입니다.

    Attributes:
        epochs: 학습할 총 에폭 수(이어서 학습할 때도 총 에폭 수). 논문은 약 90.
        batch_size: 미니배치 크기. 논문 128. 분산 학습에서는 **프로세스 하나의** 배치입니다.
        lr: 처음 학습률. 논문 0.01(모든 층에 같은 값).
        momentum: 모멘텀. 논문 0.9.
        weight_decay: 가중치 감쇠. 논문 0.0005. PyTorch 처럼 모든 매개변수(편향 포함)에 적용합니다.
        lr_factor: 검증 오류율이 정체되면 학습률에 곱하는 값(0과 1 사이). 논문 0.1(10으로 나눔).
        plateau_patience: 검증 top-1 오류율이 나아지지 않은 에폭이 이 수를 **넘어** 이어지면(``ReduceLROnPlateau``
            의 ``patience``) 학습률을 줄입니다. 곧 ``plateau_patience + 1`` 에폭 연속으로 정체하면 줄입니다.
            논문은 사람이 보고 정했으므로 이 값은 이 책의 선택입니다.
        plateau_threshold: 이만큼(절댓값, 0–1 오류율) 넘게 줄어야 "나아졌다"고 봅니다.
        max_lr_drops: 학습률을 줄이는 최대 횟수. 논문은 끝나기 전까지 세 번. 0 이면 학습률이 일정합니다.
        seed: 미니배치 순서, 드롭아웃, 증강의 시드. 에폭마다 ``(seed, epoch)`` 에서 시드를 다시 정합니다.
            모델 초기화는 모델을 만들 때 정해지므로 이 시드와 따로입니다.
        train_subset: 학습 세트에서 (``seed`` 로 고른) 이만큼만 씁니다. ``None`` 이면 전부.
        val_subset: 검증 세트에서 이만큼만 씁니다. ``None`` 이면 전부.
        eval_batch_size: 평가할 때의 배치 크기(결과에는 영향이 없고 속도만 바뀝니다).
        channels_last: 모델과 입력을 ``torch.channels_last`` 메모리 배치로 둡니다(값은 같음).
        bf16: 순전파와 손실을 ``torch.autocast(dtype=torch.bfloat16)`` 안에서 계산합니다. 가중치와 갱신은 float32.
        fused_sgd: ``torch.optim.SGD(fused=True)``: 같은 갱신 식을 매개변수마다 한 번의 반복문으로.
        compile: ``torch.compile(model)`` 로 순전파를 컴파일합니다(처음 몇 스텝이 느림).
        device: ``"cpu"``, ``"cuda"`` 등. ``None`` 이면 :func:`alexnetbook.utils.get_device` 가 고릅니다.
        num_workers: ``DataLoader`` 의 작업 프로세스 수(메모리에 올린 텐서 데이터셋에서는 0 이 빠름).
        checkpoint_dir: 체크포인트 폴더. ``None`` 이면 저장하지 않습니다.
        resume: ``True`` 이고 ``checkpoint_dir`` 에 체크포인트가 있으면 거기서 이어서 학습합니다.
        progress: tqdm 진행 막대를 보일지 여부.
        verbose: 에폭마다 한 줄 요약을 출력할지 여부.

    Raises:
        TypeError: 필드의 타입이 틀렸을 때.
        ValueError: 값이 범위를 벗어났을 때.
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
    eval_batch_size: int = 500
    channels_last: bool = False
    bf16: bool = False
    fused_sgd: bool = False
    compile: bool = False
    device: str | None = None
    num_workers: int = 0
    checkpoint_dir: str | None = None
    resume: bool = False
    progress: bool = True
    verbose: bool = True

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_batch_size"):
            check_int(getattr(self, name), name, minimum=1)
        for name in ("train_subset", "val_subset"):
            if getattr(self, name) is not None:
                check_int(getattr(self, name), name, minimum=1)
        for name in ("plateau_patience", "max_lr_drops", "num_workers"):
            check_int(getattr(self, name), name, minimum=0)
        check_int(self.seed, "seed", minimum=0, maximum=2**32 - 1)
        check_float(self.lr, "lr", minimum=0.0, open_min=True)
        check_float(self.momentum, "momentum", minimum=0.0, maximum=1.0, open_max=True)
        check_float(self.weight_decay, "weight_decay", minimum=0.0)
        check_float(self.lr_factor, "lr_factor", minimum=0.0, maximum=1.0, open_min=True, open_max=True)
        check_float(self.plateau_threshold, "plateau_threshold", minimum=0.0)
        for name in ("channels_last", "bf16", "fused_sgd", "compile", "resume", "progress", "verbose"):
            check_type(getattr(self, name), name, bool)
        if self.device is not None:
            check_type(self.device, "device", str)
        if self.checkpoint_dir is not None:
            check_type(self.checkpoint_dir, "checkpoint_dir", (str, Path))
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
        unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"TrainConfig 에 없는 필드: {sorted(unknown)}")
        return dataclasses.replace(PRESETS[name], **overrides)

    @property
    def memory_format(self) -> torch.memory_format:
        """모델과 입력의 메모리 배치."""
        return torch.channels_last if self.channels_last else torch.contiguous_format


#: 이름 있는 설정. ``"paper"`` 는 논문 §5, ``"tiny"`` 는 학습 세트 512장·검증 256장으로 2 에폭만 돕니다.
PRESETS: dict[str, TrainConfig] = {
    "paper": TrainConfig(),
    "tiny": TrainConfig(epochs=2, batch_size=32, plateau_patience=1, train_subset=512, val_subset=256),
}
