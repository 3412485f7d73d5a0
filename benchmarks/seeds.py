"""시드 여러 개를 CPU 에서 학습하는 네 방법의 시간: 차례로(스레드 2개, 1개), 프로세스 2개, ``torch.func.vmap``.

책의 비교 실험은 모두 시드 여러 개로 되풀이합니다(:func:`alexnetbook.seeds.run_seeds`). 이 측정은 그 방법을
고른 근거입니다. 장들의 작은 CNN(:class:`alexnetbook.small_cnn.SmallCNN`)을 책의 학습 루프
(:func:`alexnetbook.train.fit`)로 CIFAR-10 5,000장에 배치 128 로 한 에폭씩, 시드 4개를 학습하는 시간을 잽니다.

* ``sequential_2_threads`` (기준): 한 프로세스에서 시드를 차례로, PyTorch 스레드 2개.
* ``sequential_1_thread``: 같은 것을 스레드 1개로.
* ``processes_2``: ``run_seeds(..., processes=2)``: 스레드 1개짜리 작업 프로세스 2개(작업 프로세스를 띄우는
  시간 포함).
* ``vmap_2_threads``: ``torch.func.stack_module_state`` 로 네 모델의 매개변수를 쌓고 ``vmap`` +
  ``functional_call`` + ``grad`` 로 한 번에 학습합니다. 갱신은 손으로 쓴 모멘텀 SGD(``fit`` 과 같은 식)입니다.
  이것은 측정용 재료일 뿐이고 책의 코드에는 없습니다.

네 방법을 반복마다 차례로 한 번씩 재고(:func:`benchmarks._timing.alternate`), 반복마다 기준에 대한 시간
비율을 최소/중앙/최대로 적습니다. 결과는 ``code/alexnetbook/perf/results/seeds.json``.

실행: ``python benchmarks/seeds.py`` (``--images 512 --repeats 1 --no-save`` 처럼 작게 확인할 수 있습니다).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.func import functional_call, grad, stack_module_state, vmap

if __package__ in (None, ""):  # python benchmarks/seeds.py 로 실행할 때
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alexnetbook.augment import subtract_mean  # noqa: E402
from alexnetbook.batches import TensorImageDataset  # noqa: E402
from alexnetbook.data import load_tensors  # noqa: E402
from alexnetbook.seeds import run_seeds  # noqa: E402
from alexnetbook.small_cnn import SmallCNN  # noqa: E402
from alexnetbook.train import TrainConfig, fit  # noqa: E402
from benchmarks._timing import alternate, pin_threads, save_results  # noqa: E402
from benchmarks.machine import load_average  # noqa: E402

__all__ = ["ARMS", "CONFIG", "REFERENCE", "SEEDS", "load_data", "main", "make_arms", "report", "run", "train_one",
           "train_vmapped"]

#: 시드 4개, 학습 한 번의 설정(한 에폭, 배치 128, 논문 §5 의 모멘텀과 가중치 감쇠, 학습률 일정).
SEEDS = (0, 1, 2, 3)
CONFIG = TrainConfig(epochs=1, batch_size=128, max_lr_drops=0, device="cpu", progress=False, verbose=False)
REFERENCE = "sequential_2_threads"
ARMS = ("sequential_2_threads", "sequential_1_thread", "processes_2", "vmap_2_threads")


def load_data(images: int = 5000) -> tuple[Tensor, Tensor]:
    """CIFAR-10 학습 이미지 ``images`` 장(클래스마다 같은 수)을 평균을 빼고 −1 과 1 사이로 둡니다."""
    raw, labels = load_tensors("cifar10", "train", per_class=max(1, images // 10), seed=0)
    centred, _mean = subtract_mean(raw, scale=1 / 255)
    return centred, labels


def _model(seed: int) -> SmallCNN:
    torch.manual_seed(seed)  # 모델 초기화도 시드마다 다르게
    return SmallCNN()


def train_one(seed: int, images: Tensor, labels: Tensor) -> float:
    """시드 하나로 :func:`alexnetbook.train.fit` 한 에폭. 마지막 학습 손실을 돌려줍니다(``run_seeds`` 가 부름)."""
    config = dataclasses.replace(CONFIG, seed=seed)
    history = fit(_model(seed), TensorImageDataset(images, labels), config=config)
    return history[-1]["train_loss"]


def train_vmapped(
    seeds: Sequence[int], images: Tensor, labels: Tensor, config: TrainConfig = CONFIG
) -> dict[str, Tensor]:
    """시드마다의 :class:`SmallCNN` 을 쌓아 ``vmap`` 으로 한 에폭 함께 학습하고, 쌓인 매개변수를 돌려줍니다.

    갱신은 ``torch.optim.SGD(momentum, weight_decay)`` 와 같은 식을 손으로 씁니다:
    ``d = g + λ·w``, ``v ← μ·v + d``, ``w ← w − η·v``. 시드 ``s`` 의 배치 순서는
    ``torch.randperm(N, generator=Generator().manual_seed(s))`` 입니다. 모델은 ``images`` 의 dtype 으로 계산합니다.

    Returns:
        매개변수 이름 → ``(S, ...)`` 텐서(``S`` = 시드 수).
    """
    models = [_model(seed).to(images.dtype) for seed in seeds]
    params, buffers = stack_module_state(models)  # 이름 → (S, ...) 텐서
    base = copy.deepcopy(models[0]).to("meta")

    def loss_fn(p: dict[str, Tensor], b: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
        return F.cross_entropy(functional_call(base, (p, b), (x,)), y)

    batched_grad = vmap(grad(loss_fn))  # 모델마다 자기 매개변수와 자기 배치
    velocity = {name: torch.zeros_like(p) for name, p in params.items()}
    orders = torch.stack([torch.randperm(len(images), generator=torch.Generator().manual_seed(s)) for s in seeds])
    for start in range(0, len(images), config.batch_size):
        index = orders[:, start:start + config.batch_size]  # (S, B)
        grads = batched_grad(params, buffers, images[index], labels[index])  # 입력 (S, B, C, H, W), (S, B)
        with torch.no_grad():
            for name, p in params.items():
                velocity[name].mul_(config.momentum).add_(grads[name] + config.weight_decay * p)
                p.sub_(config.lr * velocity[name])
    return {name: p.detach() for name, p in params.items()}


def make_arms(seeds: Sequence[int], images: Tensor, labels: Tensor, threads: int) -> dict[str, Callable[[], Any]]:
    """네 방법을 인자 없는 함수로 만듭니다(:data:`ARMS` 의 순서)."""

    def sequential(n_threads: int) -> Callable[[], list[float]]:
        def arm() -> list[float]:
            torch.set_num_threads(n_threads)
            try:
                return [train_one(seed, images, labels) for seed in seeds]
            finally:
                torch.set_num_threads(threads)

        return arm

    def vmapped() -> dict[str, Tensor]:
        torch.set_num_threads(threads)
        return train_vmapped(seeds, images, labels)

    return {
        "sequential_2_threads": sequential(threads),
        "sequential_1_thread": sequential(1),
        "processes_2": lambda: run_seeds(train_one, seeds, images, labels, processes=2),
        "vmap_2_threads": vmapped,
    }


def run(
    images: int = 5000,
    *,
    seeds: Sequence[int] = SEEDS,
    repeats: int = 3,
    warmup_images: int = 512,
    threads: int | None = None,
) -> dict[str, Any]:
    """네 방법을 번갈아 ``repeats`` 번 재고 결과 사전을 돌려줍니다(저장하지 않음).

    Args:
        images: 학습 이미지 수(시드마다 한 에폭).
        seeds: 학습할 시드들.
        repeats: 네 방법을 차례로 재는 횟수.
        warmup_images: 재기 전에 네 방법을 한 번씩 돌릴 작은 데이터의 이미지 수(0 이면 건너뜀).
        threads: 기준의 PyTorch 스레드 수. ``None`` 이면 ``OMP_NUM_THREADS`` 나 코어 수.
    """
    threads = pin_threads(threads)
    x, y = load_data(images)
    arms = make_arms(seeds, x, y, threads)
    small = make_arms(seeds, x[:warmup_images], y[:warmup_images], threads) if warmup_images > 0 else {}

    def run_small() -> None:
        for fn in small.values():
            fn()

    warmup = run_small if small else None

    result: dict[str, Any] = {
        "model": "alexnetbook.small_cnn.SmallCNN() (relu, channels 16/16/32, 2x2 max pooling)",
        "data": f"CIFAR-10 train, {len(x)} images, mean subtracted, scale 1/255", "images": len(x),
        "seeds": list(seeds), "epochs_per_seed": CONFIG.epochs, "batch_size": CONFIG.batch_size,
        "threads": threads, "repeats": repeats, "reference": REFERENCE,
        "arms": {
            "sequential_2_threads": f"fit per seed, one process, {threads} threads",
            "sequential_1_thread": "fit per seed, one process, 1 thread",
            "processes_2": "alexnetbook.seeds.run_seeds(train_one, seeds, processes=2), 1 thread per process",
            "vmap_2_threads": f"torch.func stack_module_state + vmap(grad(functional_call)), hand-written momentum "
                              f"SGD, {threads} threads",
        },
        "load_average_before": load_average(),
    }
    timing = alternate(arms, REFERENCE, repeats=repeats, warmup=warmup)
    result.update(seconds=timing["seconds"], time_ratio=timing["time_ratio"], load_average_after=load_average())
    result["seconds_per_seed_epoch_median"] = {name: t["median"] / len(seeds) for name, t in timing["seconds"].items()}
    return result


def report(result: dict[str, Any]) -> None:
    """결과를 사람이 읽는 몇 줄로 출력합니다."""
    print(f"  {len(result['seeds'])} seeds x 1 epoch, {result['data']}, batch {result['batch_size']}")
    for name in result["seconds"]:
        s, r = result["seconds"][name], result["time_ratio"][name]
        print(f"  {name:22s} {s['median']:6.1f} s (median of {s['repeats']}); time / {REFERENCE}: "
              f"median {r['median']:.2f} (min {r['min']:.2f}, max {r['max']:.2f})", flush=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup-images", type=int, default=512)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-save", action="store_true", help="perf/results/seeds.json 에 쓰지 않습니다")
    args = parser.parse_args(argv)
    result = run(args.images, repeats=args.repeats, warmup_images=args.warmup_images, threads=args.threads)
    report(result)
    if not args.no_save:
        print(f"saved {save_results('seeds', result)}")
    return result


if __name__ == "__main__":  # 스크립트로 실행해도 작업 프로세스가 train_one 을 benchmarks.seeds 에서 찾도록
    from benchmarks.seeds import main as _main

    _main()
