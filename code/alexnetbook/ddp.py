"""데이터 병렬(data parallelism) 학습: ``torchrun`` 이 띄운 프로세스마다 모델 복사본 하나, ``DistributedDataParallel``.

실행 방법(프로세스 2개)::

    torchrun --standalone --nproc-per-node=2 -m alexnetbook.ddp --epochs 2

* GPU 가 있으면 프로세스마다 GPU 하나(``cuda:LOCAL_RANK``)와 ``nccl`` 백엔드를, 없으면(또는 ``--cpu``)
  CPU 와 ``gloo`` 백엔드를 씁니다.
* ``DistributedSampler`` 가 매 에폭 같은 순열을 만들고 프로세스마다 서로 겹치지 않는 몫을 줍니다.
  ``--batch-size`` 는 **전역** 배치이고, 프로세스마다 ``batch_size / WORLD_SIZE`` 장씩 처리합니다.
* 역전파가 끝나면 DDP 가 모든 프로세스의 기울기를 all-reduce 로 **평균** 내므로, 모든 프로세스가 같은
  기울기로 같은 갱신을 합니다. 그래서 손실이 배치 평균이고 배치 정규화가 없는 AlexNet 에서는, 전역 배치
  전체를 한 프로세스에서 처리한 것(:func:`train_single`)과 같은 기울기, 같은 최종 가중치가 나옵니다
  (부동소수점 합 순서만 다름). 드롭아웃 마스크는 프로세스마다 따로 뽑으므로 이 비교는 ``--dropout 0`` 으로 합니다.
* 체크포인트는 rank 0 만 쓰고(``--checkpoint``), 끝나면 ``destroy_process_group`` 으로 정리합니다.
* ``--dump DIR`` 은 각 rank 가 첫 스텝의 (평균된) 기울기, 최종 가중치, 스텝별 손실과 샘플 번호를
  ``DIR/rank<r>.pt`` 로 저장합니다. 테스트와 책의 노트북이 이것으로 결과를 비교합니다.
* rendezvous(프로세스들이 서로를 찾는 단계)와 모든 집합 통신에 ``--timeout`` 초 제한을 둡니다. 프로세스가
  모자라거나 주소가 틀리면 멈춰 있지 않고 원인을 알려 주는 오류로 끝납니다.

데이터는 CIFAR-10 학습 세트에서 클래스마다 같은 수를 결정적으로 고른 작은 조각이고, 모델은
``AlexNet.for_cifar()`` (32×32 용 축소판)입니다. 전처리는 논문 §2 처럼 평균만 뺍니다.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from .data import dataset_to_tensors, load_cifar10
from .experiments.common import subtract_mean
from .models import AlexNet
from .utils import set_seed

__all__ = [
    "DDPConfig",
    "LaunchError",
    "free_port",
    "load_slice",
    "main",
    "run_torchrun",
    "train_single",
]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_ENV_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
_NUM_CLASSES = 10


class LaunchError(RuntimeError):
    """분산 실행 환경(환경 변수, rendezvous, 장치)이 잘못되었을 때의 오류."""


@dataclass(frozen=True)
class DDPConfig:
    """학습 설정. 모든 프로세스와 한 프로세스 기준 실행(:func:`train_single`)이 같은 값을 씁니다.

    Attributes:
        num_samples: CIFAR-10 학습 세트에서 고를 이미지 수(10의 배수, 클래스마다 같은 수).
        batch_size: **전역** 미니배치 크기. 프로세스 수로 나누어떨어져야 합니다.
        epochs: 에폭 수.
        lr: 학습률.
        momentum: 모멘텀(논문 §5: 0.9).
        weight_decay: 가중치 감쇠(논문 §5: 0.0005).
        dropout: FC6, FC7 뒤 드롭아웃 확률. 한 프로세스 실행과 정확히 비교하려면 0.
        seed: 데이터 조각, 모델 초기화, 샘플 순서의 시드.
        dtype: ``"float32"`` 또는 ``"float64"``.
    """

    num_samples: int = 160
    batch_size: int = 32
    epochs: int = 2
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    dropout: float = 0.5
    seed: int = 0
    dtype: str = "float32"

    def check(self, world_size: int = 1) -> None:
        """설정이 ``world_size`` 개 프로세스에서 실행될 수 있는지 확인합니다.

        Raises:
            ValueError: 값이 잘못되었거나, 전역 배치를 프로세스 수로 똑같이 나눌 수 없을 때.
        """
        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype은 {tuple(_DTYPES)} 중 하나여야 합니다. 받은 값: {self.dtype!r}")
        for name in ("num_samples", "batch_size", "epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}은 1 이상이어야 합니다. 받은 값: {getattr(self, name)}")
        if self.lr <= 0 or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"lr은 양수, dropout은 [0, 1) 이어야 합니다. 받은 값: lr={self.lr}, dropout={self.dropout}")
        if self.num_samples % _NUM_CLASSES:
            raise ValueError(f"num_samples는 클래스 수 {_NUM_CLASSES} 의 배수여야 합니다. 받은 값: {self.num_samples}")
        if world_size < 1:
            raise ValueError(f"WORLD_SIZE는 1 이상이어야 합니다. 받은 값: {world_size}")
        if self.batch_size % world_size:
            raise ValueError(
                f"전역 배치 {self.batch_size} 를 WORLD_SIZE={world_size} 개 프로세스에 똑같이 나눌 수 없습니다. "
                f"--batch-size 를 {world_size} 의 배수로 하거나 --nproc-per-node 를 바꾸세요."
            )
        if self.num_samples % self.batch_size:
            raise ValueError(
                f"num_samples={self.num_samples} 가 전역 배치 {self.batch_size} 의 배수가 아닙니다. 마지막 배치가 "
                "작아지면 프로세스 수에 따라 배치 구성이 달라지므로 배수로 맞춥니다."
            )


def load_slice(config: DDPConfig) -> TensorDataset:
    """CIFAR-10 학습 세트의 결정적인 작은 조각을 ``(이미지, 레이블, 번호)`` ``TensorDataset`` 으로 만듭니다.

    이미지는 ``(N, 3, 32, 32)`` 이고, 0–255 값에서 조각의 평균 이미지를 뺐습니다(논문 §2).
    번호는 조각 안에서의 위치(0 … N−1)로, 어느 프로세스가 어느 샘플을 처리했는지 기록하는 데 씁니다.
    """
    config.check()
    images, labels = dataset_to_tensors(
        load_cifar10("train"), per_class=config.num_samples // _NUM_CLASSES, seed=config.seed
    )
    centered, _mean = subtract_mean(images)
    return TensorDataset(centered.to(_DTYPES[config.dtype]), labels, torch.arange(len(labels)))


def _read_env() -> tuple[int, int, int]:
    """torchrun 이 정해 주는 ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` 를 읽고 확인합니다."""
    missing = [v for v in _ENV_VARS if not os.environ.get(v)]
    if missing:
        raise LaunchError(
            f"분산 실행 환경 변수 {', '.join(missing)} 가 없습니다. 이 스크립트는 torchrun 으로 띄웁니다. 예:\n"
            "  torchrun --standalone --nproc-per-node=2 -m alexnetbook.ddp --epochs 2"
        )
    try:
        rank, world_size, local_rank = (int(os.environ[v]) for v in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
    except ValueError as err:
        raise LaunchError(f"RANK, WORLD_SIZE, LOCAL_RANK 는 정수여야 합니다: {err}") from err
    if world_size < 1:
        raise LaunchError(f"WORLD_SIZE는 1 이상이어야 합니다. 받은 값: {world_size}")
    if not 0 <= rank < world_size:
        raise LaunchError(f"RANK={rank} 는 0 이상 WORLD_SIZE={world_size} 미만이어야 합니다.")
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
            raise LaunchError("nccl 백엔드는 CUDA GPU 가 필요합니다. CPU 에서는 --backend gloo 를 쓰세요.")
        count = torch.cuda.device_count()
        if local_rank >= count:
            raise LaunchError(
                f"LOCAL_RANK={local_rank} 인데 이 컴퓨터의 GPU 는 {count}개뿐입니다. "
                f"--nproc-per-node 를 {count} 이하로 하세요."
            )
        return torch.device("cuda", local_rank), backend
    if backend != "gloo":
        raise LaunchError(f"backend는 'auto', 'gloo', 'nccl' 중 하나여야 합니다. 받은 값: {backend!r}")
    return (torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")), backend


def _train(
    config: DDPConfig,
    *,
    rank: int,
    world_size: int,
    device: torch.device,
    distributed: bool,
    checkpoint: Path | None = None,
    verbose: bool = True,
) -> dict:
    """한 프로세스의 학습 루프. ``distributed`` 이면 모델을 DDP 로 감쌉니다. ``verbose`` 이면 rank 0 이
    에폭마다 평균 손실을 출력합니다.

    Returns:
        ``rank``, ``world_size``, ``config``, ``first_grads`` (첫 스텝 뒤 매개변수 이름 → 기울기),
        ``final_state`` (최종 ``state_dict``), ``losses`` (스텝마다 이 프로세스의 배치 평균 손실),
        ``indices`` (스텝마다 이 프로세스가 처리한 샘플 번호), ``wrote_checkpoint`` 를 담은 사전.
        텐서는 모두 CPU 에 있습니다.
    """
    # 데이터: Colab 처럼 내려받아야 할 때 여러 프로세스가 동시에 받지 않도록 rank 0 이 먼저 읽습니다.
    if distributed and rank != 0:
        dist.barrier()
    dataset = load_slice(config)
    if distributed and rank == 0:
        dist.barrier()

    set_seed(config.seed)  # 모든 rank 가 같은 초기 가중치(DDP 도 생성할 때 rank 0 의 값을 방송합니다)
    model: nn.Module = AlexNet.for_cifar(dropout=config.dropout).to(device=device, dtype=_DTYPES[config.dtype])
    module = model
    if distributed:
        model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    torch.manual_seed(config.seed + 1 + rank)  # 드롭아웃 마스크는 rank 마다 다르게

    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=config.seed)
    loader = DataLoader(dataset, batch_size=config.batch_size // world_size, sampler=sampler)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
    )
    loss_fn = nn.CrossEntropyLoss()
    losses: list[float] = []
    indices: list[Tensor] = []
    first_grads: dict[str, Tensor] = {}
    wrote_checkpoint = False
    model.train()
    for epoch in range(config.epochs):
        sampler.set_epoch(epoch)  # 에폭마다 새 순열(모든 rank 가 같은 순열을 씁니다)
        total = torch.zeros(2, dtype=torch.float64, device=device)  # [손실 합, 샘플 수]
        for images, labels, idx in loader:
            images, labels = images.to(device), labels.to(device)
            loss = loss_fn(model(images), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # DDP: 여기서 기울기가 all-reduce 로 평균됩니다
            if not first_grads:
                first_grads = {n: p.grad.detach().cpu().clone() for n, p in module.named_parameters()}
            optimizer.step()
            losses.append(loss.item())
            indices.append(idx.clone())
            total += torch.tensor([loss.item() * len(idx), len(idx)], dtype=torch.float64, device=device)
        if distributed:
            dist.all_reduce(total)  # 모든 rank 의 [손실 합, 샘플 수]를 더합니다
        if rank == 0 and verbose:
            print(f"에폭 {epoch + 1}/{config.epochs}: 평균 학습 손실 {total[0].item() / total[1].item():.4f}", flush=True)
        if rank == 0 and checkpoint is not None:
            _save_checkpoint(checkpoint, module, optimizer, epoch + 1, config, world_size)
            wrote_checkpoint = True
    if distributed:
        dist.barrier()  # rank 0 이 체크포인트를 다 쓸 때까지 모두 기다립니다
    return {
        "rank": rank,
        "world_size": world_size,
        "config": asdict(config),
        "first_grads": first_grads,
        "final_state": {k: v.detach().cpu().clone() for k, v in module.state_dict().items()},
        "losses": losses,
        "indices": indices,
        "wrote_checkpoint": wrote_checkpoint,
    }


def _save_checkpoint(
    path: Path, module: nn.Module, optimizer: torch.optim.Optimizer, epoch: int, config: DDPConfig, world_size: int
) -> None:
    """원자적으로(임시 파일에 쓰고 이름을 바꿔) 체크포인트를 씁니다. rank 0 만 부릅니다."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(
        {
            "model": module.state_dict(),  # DDP 가 아니라 안쪽 모듈의 이름("features.conv1.weight" …)
            "optimizer": optimizer.state_dict(),
            "epoch": epoch,
            "config": asdict(config),
            "world_size": world_size,
        },
        tmp,
    )
    os.replace(tmp, path)


def train_single(config: DDPConfig, device: str | torch.device = "cpu", *, verbose: bool = False) -> dict:
    """분산 없이 한 프로세스가 전역 배치 전체를 처리하는 기준 실행. 반환값은 ``--dump`` 파일과 같은 형식입니다.

    Args:
        config: 분산 실행과 같은 설정.
        device: 계산할 장치.
        verbose: 에폭마다 평균 손실을 출력할지 여부.
    """
    config.check(1)
    return _train(config, rank=0, world_size=1, device=torch.device(device), distributed=False, verbose=verbose)


def _parser() -> argparse.ArgumentParser:
    d = DDPConfig()
    p = argparse.ArgumentParser(
        prog="python -m alexnetbook.ddp",
        description="DistributedDataParallel 로 AlexNet 축소판을 CIFAR-10 조각에서 학습합니다. torchrun 으로 띄우세요.",
    )
    p.add_argument("--num-samples", type=int, default=d.num_samples, help="CIFAR-10 에서 고를 이미지 수(10의 배수)")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="전역 배치(프로세스 수의 배수)")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--momentum", type=float, default=d.momentum)
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--dropout", type=float, default=d.dropout)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--dtype", choices=tuple(_DTYPES), default=d.dtype)
    p.add_argument("--backend", choices=("auto", "gloo", "nccl"), default="auto", help="auto: GPU 면 nccl, 아니면 gloo")
    p.add_argument("--cpu", action="store_true", help="GPU 가 있어도 CPU 와 gloo 를 씁니다")
    p.add_argument("--timeout", type=float, default=120.0, help="rendezvous 와 집합 통신의 제한 시간(초)")
    p.add_argument("--checkpoint", type=Path, default=None, help="rank 0 이 에폭마다 덮어쓰는 체크포인트 경로")
    p.add_argument("--dump", type=Path, default=None, help="각 rank 의 결과를 DIR/rank<r>.pt 로 저장")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """명령행 진입점. 성공하면 0, 설정이나 실행 환경이 잘못되면 오류를 stderr 에 알리고 1 을 돌려줍니다."""
    args = _parser().parse_args(argv)
    config = DDPConfig(
        num_samples=args.num_samples, batch_size=args.batch_size, epochs=args.epochs, lr=args.lr,
        momentum=args.momentum, weight_decay=args.weight_decay, dropout=args.dropout, seed=args.seed,
        dtype=args.dtype,
    )
    try:
        rank, world_size, local_rank = _read_env()
        config.check(world_size)
        if args.timeout <= 0:
            raise ValueError(f"--timeout은 양수여야 합니다. 받은 값: {args.timeout}")
        device, backend = _pick_device(local_rank, args.backend, args.cpu)
    except (LaunchError, ValueError) as err:
        print(f"alexnetbook.ddp: 오류: {err}", file=sys.stderr, flush=True)
        return 1
    timeout = timedelta(seconds=args.timeout)
    if device.type == "cuda":
        torch.cuda.set_device(device)  # 이 프로세스의 기본 GPU 를 LOCAL_RANK 번으로
    try:
        try:
            dist.init_process_group(
                backend, timeout=timeout, device_id=device if device.type == "cuda" else None
            )
        except Exception as err:  # DistStoreError(시간 초과), 연결 거부 등
            raise LaunchError(
                f"rendezvous 실패(rank {rank}): {args.timeout:g}초 안에 WORLD_SIZE={world_size} 개 프로세스가 "
                f"{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']} 에 모이지 못했습니다. 모든 프로세스를 띄웠는지"
                f"(torchrun --nproc-per-node), 주소와 포트가 맞는지 확인하세요. 원인: {type(err).__name__}: {err}"
            ) from err
        if dist.get_world_size() != world_size:
            raise LaunchError(f"프로세스 그룹의 크기 {dist.get_world_size()} 가 WORLD_SIZE={world_size} 와 다릅니다.")
        if rank == 0:
            print(f"backend={backend}, WORLD_SIZE={world_size}, 프로세스당 배치 {config.batch_size // world_size}", flush=True)
        result = _train(
            config, rank=rank, world_size=world_size, device=device, distributed=True, checkpoint=args.checkpoint
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


def free_port() -> int:
    """지금 비어 있는 TCP 포트 번호(127.0.0.1)를 운영체제에게 받아 돌려줍니다."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _proc_stat(pid: int) -> tuple[int, int, int, int] | None:
    """``/proc/<pid>/stat`` 에서 ``(ppid, 프로세스 그룹, 세션, 시작 시각)`` 을 읽습니다. 없거나 좀비면 ``None``."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    # 두 번째 필드(실행 파일 이름)는 괄호 안에 공백이 있을 수 있으므로 마지막 ")" 뒤부터 나눕니다.
    fields = raw[raw.rindex(b")") + 2 :].split()  # fields[0] = 3번째 필드(상태)
    if fields[0] in (b"Z", b"X"):  # 이미 끝나 거둬지기만 기다리는 프로세스
        return None
    return int(fields[1]), int(fields[2]), int(fields[3]), int(fields[19])


def _all_processes() -> dict[int, tuple[int, int, int, int]]:
    """살아 있는 모든 프로세스의 ``pid → (ppid, pgid, sid, 시작 시각)``."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _proc_stat(int(entry.name))) is not None:
            table[int(entry.name)] = stat
    return table


def _descendants(root: int) -> dict[int, int]:
    """``root`` 와 그 모든 자손 프로세스의 ``pid → 시작 시각`` (``/proc`` 의 PPid 를 거슬러 따라감)."""
    table = _all_processes()
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_rest) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = {}, [root]
    while stack:
        pid = stack.pop()
        if pid in table and pid not in found:
            found[pid] = table[pid][3]
            stack.extend(children.get(pid, ()))
    return found


def _kill_tree(known: dict[int, int], *, wait: float = 10.0) -> None:
    """``known`` 의 프로세스와, 그들의 프로세스 그룹·세션에 속한 모든 프로세스에 SIGKILL 을 보내고 끝나기를 기다립니다.

    ``known`` 은 ``pid → 시작 시각`` 입니다. 시작 시각이 다르면 그 사이 끝나고 번호만 재사용된 남의
    프로세스이므로 건드리지 않습니다. 이 파이썬 프로세스 자신의 그룹과 세션은 제외합니다.
    """
    own = {os.getpid()}
    own_groups, own_sessions = {os.getpgrp()}, {os.getsid(0)}
    for _ in range(50):
        table = _all_processes()
        alive = {pid for pid, start in known.items() if pid in table and table[pid][3] == start}
        groups = {table[pid][1] for pid in alive} - own_groups
        sessions = {table[pid][2] for pid in alive} - own_sessions
        # torchrun 은 작업 프로세스마다 새 세션을 만들므로(start_new_session) 그룹 하나로는 다 잡히지 않습니다.
        targets = alive | {pid for pid, (_, pgid, sid, _) in table.items() if pgid in groups or sid in sessions}
        targets -= own
        if not targets:
            return
        for pid in targets:
            known.setdefault(pid, table[pid][3])
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(wait / 50)
    raise RuntimeError(f"torchrun 의 작업 프로세스를 끝내지 못했습니다: {sorted(targets)}")


def _stop_torchrun(proc: subprocess.Popen, *, grace: float = 5.0) -> None:
    """torchrun 과 그 모든 작업 프로세스를 끝냅니다.

    먼저 SIGTERM 을 보내 torchrun 이 스스로 작업 프로세스를 정리하게 하고(``grace`` 초 기다림), 그래도 남은
    것은 SIGKILL 로 끝냅니다. torchrun 은 작업 프로세스를 **새 세션**에 띄우므로 torchrun 의 프로세스 그룹에
    신호를 보내는 것만으로는 부족합니다. 그래서 신호를 보내기 **전에** ``/proc`` 에서 자손을 모두 모아 두고
    (torchrun 이 먼저 죽으면 작업 프로세스의 부모가 바뀌어 더는 찾을 수 없음), 그들의 그룹과 세션까지 끝냅니다.
    """
    if not Path("/proc").is_dir():  # /proc 가 없는 운영체제: torchrun 의 프로세스 그룹만 끝냅니다.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        return
    known = _descendants(proc.pid)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    for pid, start in _descendants(proc.pid).items():  # SIGTERM 처리 중에 새로 생긴 자손
        known.setdefault(pid, start)
    _kill_tree(known)
    proc.wait()


def run_torchrun(
    script_args: Sequence[str],
    nproc_per_node: int = 2,
    *,
    timeout: float = 300.0,
    threads_per_process: int = 1,
) -> subprocess.CompletedProcess:
    """``torchrun`` 으로 이 스크립트를 ``nproc_per_node`` 개 프로세스로 실행하고 끝날 때까지 기다립니다.

    지금 파이썬(``sys.executable -m torch.distributed.run``)을 쓰므로 같은 가상 환경의 torch 가 돌고,
    rendezvous 주소는 ``127.0.0.1`` 의 빈 포트(:func:`free_port`)입니다. 출력은 파이프가 아니라 임시 파일로
    받으므로, 작업 프로세스가 출력을 붙잡고 있어도 기다림이 멈추지 않습니다.

    Args:
        script_args: ``python -m alexnetbook.ddp`` 뒤에 붙일 인자.
        nproc_per_node: 프로세스 수.
        timeout: 전체 실행의 제한 시간(초). 넘으면(또는 기다리는 중에 KeyboardInterrupt 가 오면) torchrun 과
            모든 작업 프로세스를 끝낸 뒤 예외를 냅니다.
        threads_per_process: 프로세스마다의 ``OMP_NUM_THREADS`` (CPU 코어를 나눠 씀).

    Returns:
        ``returncode``, ``stdout``, ``stderr`` 를 담은 ``CompletedProcess`` (텍스트).

    Raises:
        ValueError: ``nproc_per_node`` 가 1보다 작을 때.
        subprocess.TimeoutExpired: ``timeout`` 초 안에 끝나지 않을 때. ``output``/``stderr`` 에 그때까지의 출력.
        RuntimeError: 제한 시간을 넘긴 뒤 SIGKILL 로도 작업 프로세스를 10초 안에 끝내지 못했을 때.
    """
    if nproc_per_node < 1:
        raise ValueError(f"nproc_per_node는 1 이상이어야 합니다. 받은 값: {nproc_per_node}")
    cmd = [
        sys.executable, "-m", "torch.distributed.run",
        "--nnodes=1", f"--nproc-per-node={nproc_per_node}",
        "--master-addr=127.0.0.1", f"--master-port={free_port()}",
        "-m", "alexnetbook.ddp", *script_args,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads_per_process)}

    def read(f) -> str:
        f.seek(0)
        return f.read().decode("utf-8", errors="replace")

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # 새 세션으로 띄워 torchrun 이 이 파이썬(예: 주피터 커널)의 신호를 함께 받지 않게 합니다.
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop_torchrun(proc)
            raise subprocess.TimeoutExpired(cmd, timeout, output=read(out), stderr=read(err)) from None
        except BaseException:  # KeyboardInterrupt 등: 작업 프로세스를 남기지 않습니다.
            _stop_torchrun(proc)
            raise
        return subprocess.CompletedProcess(cmd, proc.returncode, read(out), read(err))


if __name__ == "__main__":
    sys.exit(main())
