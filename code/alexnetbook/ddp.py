"""데이터 병렬(data parallelism) 학습: ``torchrun`` 이 띄운 프로세스마다 모델 복사본 하나, ``DistributedDataParallel``.

실행 방법(프로세스 2개)::

    torchrun --standalone --nproc-per-node=2 -m alexnetbook.ddp --epochs 2

* GPU 가 있으면 프로세스마다 GPU 하나(``cuda:LOCAL_RANK``)와 ``nccl`` 백엔드를, 없으면(또는 ``--cpu``)
  CPU 와 ``gloo`` 백엔드를 씁니다.
* 학습 루프는 책의 다른 모든 학습과 같은 :func:`alexnetbook.train.fit` 입니다. 다른 것은 둘뿐입니다. 모델을
  ``DistributedDataParallel`` 로 감싸고, 학습 세트의 순서를 ``DistributedSampler`` 가 정합니다. 샘플러는 매 에폭
  모든 프로세스에 같은 순열을 만들고 프로세스마다 서로 겹치지 않는 몫을 줍니다.
* ``--batch-size`` 는 **전역** 배치이고, 프로세스마다 ``batch_size / WORLD_SIZE`` 장씩 처리합니다.
* 역전파가 끝나면 DDP 가 모든 프로세스의 기울기를 all-reduce 로 **평균** 내므로, 모든 프로세스가 같은
  기울기로 같은 갱신을 합니다. 그래서 손실이 배치 평균이고 배치 정규화가 없는 AlexNet 에서는, 전역 배치
  전체를 한 프로세스에서 처리한 것(:func:`train_single`)과 같은 기울기, 같은 최종 가중치가 나옵니다
  (부동소수점 합 순서만 다름). 드롭아웃 마스크는 프로세스마다 따로 뽑으므로 이 비교는 ``--dropout 0`` 으로 합니다.
* 체크포인트는 rank 0 만 쓰고(``--checkpoint-dir``), 끝나면 ``destroy_process_group`` 으로 정리합니다.
* ``--dump DIR`` 은 각 rank 가 첫 스텝의 (평균된) 기울기, 최종 가중치, 스텝별 손실과 샘플 번호를
  ``DIR/rank<r>.pt`` 로 저장합니다. 테스트와 책의 노트북이 이것으로 결과를 비교합니다.
* rendezvous(프로세스들이 서로를 찾는 단계)와 모든 집합 통신에 ``--timeout`` 초 제한을 둡니다. 프로세스가
  모자라거나 주소가 틀리면 멈춰 있지 않고 원인을 알려 주는 오류로 끝납니다.

``torchrun`` 을 띄우고 시간 제한을 지키는 일은 :mod:`alexnetbook.launch` 가 합니다.

데이터는 CIFAR-10 학습 세트에서 클래스마다 같은 수를 결정적으로 고른 작은 조각이고, 모델은
``AlexNet.for_cifar()`` (32×32 용 축소판)입니다. 전처리는 논문 §2 처럼 평균만 뺍니다.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

from .augment import subtract_mean
from .checks import check_choice, check_float, check_int
from .batches import TensorImageDataset
from .data import load_tensors
from .models import AlexNet
from .train import StepInfo, TrainConfig, fit
from .utils import set_seed

__all__ = ["DEFAULT_CONFIG", "DTYPES", "LaunchError", "check_setup", "load_slice", "main", "train_single"]

#: ``--dtype`` 이름 → dtype.
DTYPES = {"float32": torch.float32, "float64": torch.float64}
_ENV_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
_NUM_CLASSES = 10
#: 이 수업의 기본 학습 설정: 논문 §5 의 모멘텀과 가중치 감쇠, 일정한 학습률(``max_lr_drops=0``), 출력 없음.
#: ``batch_size`` 는 **전역** 배치입니다.
DEFAULT_CONFIG = TrainConfig(epochs=2, batch_size=32, lr=0.01, max_lr_drops=0, progress=False, verbose=False)


class LaunchError(RuntimeError):
    """분산 실행 환경(환경 변수, rendezvous, 장치)이 잘못되었을 때의 오류."""


def check_setup(config: TrainConfig, num_samples: int, world_size: int = 1) -> None:
    """설정이 ``world_size`` 개 프로세스에서 실행될 수 있는지 확인합니다. ``config.batch_size`` 는 **전역** 배치입니다.

    Raises:
        ValueError: 전역 배치를 프로세스 수로 똑같이 나눌 수 없거나, ``num_samples`` 가 클래스 수나 전역 배치의
            배수가 아닐 때.
    """
    check_int(num_samples, "num_samples", minimum=1)
    check_int(world_size, "WORLD_SIZE", minimum=1)
    if num_samples % _NUM_CLASSES:
        raise ValueError(f"num_samples는 클래스 수({_NUM_CLASSES})의 배수여야 합니다. 받은 값: {num_samples}")
    if config.batch_size % world_size:
        raise ValueError(
            f"전역 배치 {config.batch_size}장을 프로세스 {world_size}개(WORLD_SIZE={world_size})에 똑같이 나눌 수 "
            f"없습니다. --batch-size를 {world_size}의 배수로 하거나 --nproc-per-node를 바꾸세요."
        )
    if num_samples % config.batch_size:
        raise ValueError(
            f"num_samples는 전역 배치({config.batch_size}장)의 배수여야 합니다. 받은 값: {num_samples}. 마지막 "
            "배치가 작아지면 프로세스 수에 따라 배치 구성이 달라지므로 배수로 맞춥니다."
        )


def load_slice(num_samples: int, *, seed: int = 0, dtype: str = "float32") -> TensorImageDataset:
    """CIFAR-10 학습 세트의 결정적인 작은 조각(클래스마다 같은 수).

    이미지는 ``(N, 3, 32, 32)`` 이고, 0–255 값에서 조각의 평균 이미지를 뺐습니다(논문 §2).
    """
    check_int(num_samples, "num_samples", minimum=_NUM_CLASSES)
    check_choice(dtype, "dtype", tuple(DTYPES))
    images, labels = load_tensors("cifar10", "train", per_class=num_samples // _NUM_CLASSES, seed=seed)
    centered, _mean = subtract_mean(images)
    return TensorImageDataset(centered.to(DTYPES[dtype]), labels)


def _read_env() -> tuple[int, int, int]:
    """torchrun 이 정해 주는 ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` 를 읽고 확인합니다."""
    missing = [v for v in _ENV_VARS if not os.environ.get(v)]
    if missing:
        raise LaunchError(
            f"분산 실행 환경 변수가 없습니다: {', '.join(missing)}. 이 스크립트는 torchrun으로 띄웁니다. 예:\n"
            "  torchrun --standalone --nproc-per-node=2 -m alexnetbook.ddp --epochs 2"
        )
    try:
        rank, world_size, local_rank = (int(os.environ[v]) for v in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
    except ValueError as err:
        raise LaunchError(f"RANK, WORLD_SIZE, LOCAL_RANK는 정수여야 합니다: {err}") from err
    if world_size < 1:
        raise LaunchError(f"WORLD_SIZE는 1 이상이어야 합니다. 받은 값: {world_size}")
    if not 0 <= rank < world_size:
        raise LaunchError(f"RANK는 0 이상 WORLD_SIZE({world_size}) 미만이어야 합니다. 받은 값: {rank}")
    if local_rank < 0:
        raise LaunchError(f"LOCAL_RANK는 0 이상이어야 합니다. 받은 값: {local_rank}")
    return rank, world_size, local_rank


def _pick_device(local_rank: int, backend: str, force_cpu: bool) -> tuple[torch.device, str]:
    """장치와 백엔드를 고릅니다: GPU 면 ``cuda:LOCAL_RANK`` + nccl, 아니면 CPU + gloo."""
    use_cuda = torch.cuda.is_available() and not force_cpu
    if backend == "auto":
        backend = "nccl" if use_cuda else "gloo"
    if backend == "nccl":
        if not use_cuda:
            raise LaunchError("nccl 백엔드는 CUDA GPU가 필요합니다. CPU에서는 --backend gloo를 쓰세요.")
        count = torch.cuda.device_count()
        if local_rank >= count:
            raise LaunchError(
                f"이 컴퓨터의 GPU는 {count}개뿐인데 LOCAL_RANK가 {local_rank}입니다. "
                f"--nproc-per-node를 {count} 이하로 하세요."
            )
        return torch.device("cuda", local_rank), backend
    if backend != "gloo":
        raise LaunchError(f"backend는 'auto', 'gloo', 'nccl' 중 하나여야 합니다. 받은 값: {backend!r}")
    return (torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")), backend


def _train(
    config: TrainConfig,
    *,
    num_samples: int,
    dropout: float,
    dtype: str,
    rank: int,
    world_size: int,
    device: torch.device,
    distributed: bool,
    checkpoint_dir: Path | None = None,
    verbose: bool = True,
) -> dict[str, Any]:
    """한 프로세스의 학습: 모델을 만들고(분산이면 DDP 로 감싸고) :func:`~alexnetbook.train.fit` 으로 학습합니다.

    ``verbose`` 이면 rank 0 이 에폭마다 모든 프로세스의 평균 학습 손실을 출력합니다.

    Returns:
        ``rank``, ``world_size``, ``first_grads`` (첫 스텝 뒤 매개변수 이름 → 기울기), ``final_state``
        (최종 ``state_dict``), ``losses`` (스텝마다 이 프로세스의 배치 평균 손실), ``indices`` (스텝마다 이
        프로세스가 처리한 샘플 번호), ``wrote_checkpoint`` 를 담은 사전. 텐서는 모두 CPU 에 있습니다.
    """
    # 데이터: Colab 처럼 내려받아야 할 때 여러 프로세스가 동시에 받지 않도록 rank 0 이 먼저 읽습니다.
    if distributed and rank != 0:
        dist.barrier()
    dataset = load_slice(num_samples, seed=config.seed, dtype=dtype)
    if distributed and rank == 0:
        dist.barrier()

    set_seed(config.seed)  # 모든 rank 가 같은 초기 가중치(DDP 도 생성할 때 rank 0 의 값을 브로드캐스트합니다)
    module = AlexNet.for_cifar(dropout=dropout).to(device=device, dtype=DTYPES[dtype])
    model: nn.Module = module
    if distributed:  # 역전파 중에 모든 프로세스의 기울기를 평균(all-reduce)하도록 감쌉니다
        model = DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=config.seed)
    # fit 의 batch_size 는 프로세스 하나의 배치입니다. 체크포인트는 fit 이 rank 0 에서만 씁니다.
    local = dataclasses.replace(config, batch_size=config.batch_size // world_size, device=str(device),
                                checkpoint_dir=None if checkpoint_dir is None else str(checkpoint_dir))

    losses: list[float] = []
    indices: list[Tensor] = []
    first_grads: dict[str, Tensor] = {}

    def record_step(info: StepInfo) -> None:
        if not first_grads:  # 첫 갱신 뒤에도 p.grad 에는 (DDP 가 평균낸) 첫 기울기가 남아 있습니다
            first_grads.update({n: p.grad.detach().cpu().clone() for n, p in info.model.named_parameters()})
        losses.append(info.loss)
        indices.append(info.indices.clone())

    def report(record: dict[str, float]) -> None:
        total = torch.tensor([record["train_loss"] * len(dataset) / world_size, len(dataset) / world_size],
                             dtype=torch.float64, device=device)  # [손실 합, 샘플 수]
        if distributed:
            dist.all_reduce(total)  # 모든 rank 의 [손실 합, 샘플 수]를 더합니다
        if rank == 0 and verbose:
            print(f"에폭 {int(record['epoch'])}/{config.epochs}: 평균 학습 손실 {total[0].item() / total[1].item():.4f}",
                  flush=True)

    fit(model, dataset, None, local, sampler=sampler, on_step=record_step, on_epoch_end=report)
    if distributed:
        dist.barrier()  # rank 0 이 체크포인트를 다 쓸 때까지 모두 기다립니다
    return {
        "rank": rank,
        "world_size": world_size,
        "first_grads": first_grads,
        "final_state": {k: v.detach().cpu().clone() for k, v in module.state_dict().items()},
        "losses": losses,
        "indices": indices,
        "wrote_checkpoint": checkpoint_dir is not None and rank == 0,
    }


def train_single(
    config: TrainConfig = DEFAULT_CONFIG,
    *,
    num_samples: int = 160,
    dropout: float = 0.5,
    dtype: str = "float32",
    device: str | torch.device = "cpu",
    verbose: bool = False,
) -> dict[str, Any]:
    """분산 없이 한 프로세스가 전역 배치 전체를 처리하는 기준 실행. 반환값은 ``--dump`` 파일과 같은 형식입니다.

    샘플 순서도 분산 실행과 같은 ``DistributedSampler`` (프로세스 1개)가 정하므로, 스텝마다 이 실행의 배치는
    분산 실행에서 모든 프로세스의 배치를 합친 것과 같습니다.

    Args:
        config: 분산 실행과 같은 학습 설정(``batch_size`` 는 전역 배치).
        num_samples: CIFAR-10 학습 세트에서 고를 이미지 수(10의 배수).
        dropout: FC6, FC7 뒤 드롭아웃 확률.
        dtype: ``"float32"`` 또는 ``"float64"``.
        device: 계산할 장치.
        verbose: 에폭마다 평균 손실을 출력할지 여부.
    """
    check_setup(config, num_samples, 1)
    check_float(dropout, "dropout", minimum=0.0, maximum=1.0, open_max=True)
    check_choice(dtype, "dtype", tuple(DTYPES))
    return _train(config, num_samples=num_samples, dropout=dropout, dtype=dtype, rank=0, world_size=1,
                  device=torch.device(device), distributed=False, verbose=verbose)


def _parser() -> argparse.ArgumentParser:
    d = DEFAULT_CONFIG
    p = argparse.ArgumentParser(
        prog="python -m alexnetbook.ddp",
        description="DistributedDataParallel 로 AlexNet 축소판을 CIFAR-10 조각에서 학습합니다. torchrun 으로 띄우세요.",
    )
    p.add_argument("--num-samples", type=int, default=160, help="CIFAR-10 에서 고를 이미지 수(10의 배수)")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="전역 배치(프로세스 수의 배수)")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--momentum", type=float, default=d.momentum)
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--dtype", choices=tuple(DTYPES), default="float32")
    p.add_argument("--backend", choices=("auto", "gloo", "nccl"), default="auto", help="auto: GPU 면 nccl, 아니면 gloo")
    p.add_argument("--cpu", action="store_true", help="GPU 가 있어도 CPU 와 gloo 를 씁니다")
    p.add_argument("--timeout", type=float, default=120.0, help="rendezvous 와 집합 통신의 제한 시간(초)")
    p.add_argument("--checkpoint-dir", type=Path, default=None,
                   help="rank 0 이 에폭마다 <DIR>/last.pt 를 덮어쓰는 체크포인트 폴더")
    p.add_argument("--dump", type=Path, default=None, help="각 rank 의 결과를 DIR/rank<r>.pt 로 저장")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """명령행 진입점. 성공하면 0, 설정이나 실행 환경이 잘못되면 오류를 stderr 에 알리고 1 을 돌려줍니다."""
    args = _parser().parse_args(argv)
    try:
        config = dataclasses.replace(
            DEFAULT_CONFIG, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, momentum=args.momentum,
            weight_decay=args.weight_decay, seed=args.seed,
        )
        check_float(args.dropout, "--dropout", minimum=0.0, maximum=1.0, open_max=True)
        rank, world_size, local_rank = _read_env()
        check_setup(config, args.num_samples, world_size)
        check_float(args.timeout, "--timeout", minimum=0.0, open_min=True)
        device, backend = _pick_device(local_rank, args.backend, args.cpu)
    except (LaunchError, ValueError, TypeError) as err:
        print(f"alexnetbook.ddp: 오류: {err}", file=sys.stderr, flush=True)
        return 1
    timeout = timedelta(seconds=args.timeout)
    if device.type == "cuda":
        torch.cuda.set_device(device)  # 이 프로세스의 기본 GPU 를 LOCAL_RANK 번으로
    try:
        # device_id 는 GPU 에서만 넘깁니다(이 프로세스의 GPU 를 미리 정해 둠). torch 2.2 에는 이 인자가 없으므로,
        # CPU 실행은 어느 버전에서나 되고 GPU 실행은 이 줄에서 TypeError 로 분명히 멈춥니다.
        device_arg = {"device_id": device} if device.type == "cuda" else {}
        try:
            dist.init_process_group(backend, timeout=timeout, **device_arg)
        except (RuntimeError, TimeoutError, OSError) as err:  # DistStoreError(시간 초과), DistNetworkError(연결 거부) 등
            raise LaunchError(
                f"rendezvous 실패(rank {rank}): {args.timeout:g}초 안에 WORLD_SIZE={world_size}개 프로세스가 "
                f"{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}에 모이지 못했습니다. 모든 프로세스를 띄웠는지"
                f"(torchrun --nproc-per-node), 주소와 포트가 맞는지 확인하세요. 원인: {type(err).__name__}: {err}"
            ) from err
        if dist.get_world_size() != world_size:
            raise LaunchError(f"프로세스 그룹의 크기({dist.get_world_size()})가 WORLD_SIZE({world_size})와 다릅니다.")
        if rank == 0:
            print(f"backend={backend}, WORLD_SIZE={world_size}, 프로세스당 배치 {config.batch_size // world_size}",
                  flush=True)
        result = _train(
            config, num_samples=args.num_samples, dropout=args.dropout, dtype=args.dtype, rank=rank,
            world_size=world_size, device=device, distributed=True, checkpoint_dir=args.checkpoint_dir,
        )
        if args.dump is not None:
            args.dump.mkdir(parents=True, exist_ok=True)
            result.update(backend=backend, device=str(device))
            torch.save(result, args.dump / f"rank{rank}.pt")
    except LaunchError as err:
        print(f"alexnetbook.ddp: 오류: {err}", file=sys.stderr, flush=True)
        return 1
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
