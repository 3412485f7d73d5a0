"""LRN 장의 측정: :func:`alexnetbook.lrn.local_response_norm` 과 ``torch.nn.LocalResponseNorm`` 의
순전파 + 역전파 속도를 같은 실행 안에서 번갈아 재어 비율로 비교합니다.

``benchmarks/lrn.py`` (전체 크기, JSON 저장)와 ``book/lrn.ipynb`` (작은 크기, 짧게)가 같은 :func:`make_cases` 를
씁니다. 공유 기계에서는 절대 시간이 몇 배씩 흔들리므로 비율만 봅니다. :func:`saved_for_backward_bytes` 는
시간 대신 autograd 가 역전파를 위해 붙잡아 두는 메모리를 잽니다(기계와 상관없이 같은 값).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..checks import check_choice, check_int
from ..lrn import local_response_norm

__all__ = ["DTYPES", "LRNCases", "make_cases", "measure_speedup", "saved_for_backward_bytes"]

#: 지원하는 입력 dtype 이름.
DTYPES = {"float32": torch.float32, "float64": torch.float64, "bfloat16": torch.bfloat16, "float16": torch.float16}

# 원본 페이지와 models.AlexNet 의 기본값: nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2)
_SIZE, _ALPHA, _BETA, _K = 5, 1e-4, 0.75, 2.0


@dataclass
class LRNCases:
    """같은 입력에 대한 두 구현의 순전파 + 역전파, 그리고 순전파만.

    Attributes:
        candidate: ``alexnetbook.lrn.local_response_norm(..., convention="torch")`` 의 순전파 + 역전파.
        reference: ``torch.nn.LocalResponseNorm`` 의 순전파 + 역전파. 입력이 bfloat16/float16 이면 torch 의
            CPU 구현이 4차원 입력을 받지 않으므로 float32 로 바꿔 계산한 뒤 되돌립니다.
        candidate_forward: ``candidate`` 의 순전파만(``torch.no_grad()`` 안에서, 출력을 돌려줌).
        reference_forward: ``reference`` 의 순전파만.
        reference_name: 기준이 무엇인지 적은 문자열(결과 JSON 에 남깁니다).
        max_abs_diff_output: 두 출력의 최대 절대 차이(입력 dtype 에서).
        max_abs_diff_grad: 두 입력 기울기의 최대 절대 차이(입력 dtype 에서).
    """

    candidate: Callable[[], tuple[torch.Tensor, torch.Tensor]]
    reference: Callable[[], tuple[torch.Tensor, torch.Tensor]]
    candidate_forward: Callable[[], torch.Tensor]
    reference_forward: Callable[[], torch.Tensor]
    reference_name: str
    max_abs_diff_output: float
    max_abs_diff_grad: float


def make_cases(
    shape: tuple[int, ...] = (32, 96, 55, 55),
    dtype: str = "float32",
    *,
    seed: int = 0,
    device: str = "cpu",
) -> LRNCases:
    """표준정규분포 입력과 출력 기울기를 만들고, 두 구현의 순전파 + 역전파 함수를 돌려줍니다.

    Args:
        shape: 입력 모양 ``(N, C, H, W)`` 또는 ``(N, C, L)``. 기본값은 AlexNet conv1 출력(배치 32).
        dtype: :data:`DTYPES` 의 이름.
        seed: 입력을 만드는 난수 시드.
        device: 장치 이름.

    Returns:
        :class:`LRNCases`. 두 함수는 호출할 때마다 ``(출력, 입력 기울기)`` 를 새로 계산합니다.

    Raises:
        ValueError: ``dtype`` 을 모를 때, ``shape`` 가 3차원이나 4차원이 아닐 때.
    """
    check_choice(dtype, "dtype", tuple(DTYPES))
    if len(shape) not in (3, 4):
        raise ValueError(f"shape는 (N, C, H, W) 또는 (N, C, L) 이어야 합니다. 받은 값: {shape!r}")
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=generator).to(device=device, dtype=DTYPES[dtype]).requires_grad_()
    grad_out = torch.randn(shape, generator=generator).to(device=device, dtype=DTYPES[dtype])
    torch_lrn = nn.LocalResponseNorm(_SIZE, alpha=_ALPHA, beta=_BETA, k=_K)
    low_precision = DTYPES[dtype] in (torch.bfloat16, torch.float16)

    def ours() -> torch.Tensor:
        return local_response_norm(x, _SIZE, _ALPHA, _BETA, _K, convention="torch")

    def theirs() -> torch.Tensor:
        if low_precision:  # torch 의 CPU LRN 은 4차원 bfloat16/float16 에서 NotImplementedError
            return torch_lrn(x.float()).to(x.dtype)
        return torch_lrn(x)

    def with_backward(forward: Callable[[], torch.Tensor]) -> Callable[[], tuple[torch.Tensor, torch.Tensor]]:
        def step() -> tuple[torch.Tensor, torch.Tensor]:
            out = forward()
            (grad,) = torch.autograd.grad(out, x, grad_out)
            return out, grad

        return step

    def forward_only(forward: Callable[[], torch.Tensor]) -> Callable[[], torch.Tensor]:
        def step() -> torch.Tensor:
            with torch.no_grad():
                return forward()

        return step

    candidate, reference = with_backward(ours), with_backward(theirs)

    name = f"torch.nn.LocalResponseNorm({_SIZE}, alpha={_ALPHA}, beta={_BETA}, k={_K})"
    if low_precision:
        name += " on a float32 copy"
    out_c, grad_c = candidate()
    out_r, grad_r = reference()
    return LRNCases(
        candidate=candidate,
        reference=reference,
        candidate_forward=forward_only(ours),
        reference_forward=forward_only(theirs),
        reference_name=name,
        max_abs_diff_output=(out_c.float() - out_r.float()).abs().max().item(),
        max_abs_diff_grad=(grad_c.float() - grad_r.float()).abs().max().item(),
    )


def measure_speedup(
    shape: tuple[int, ...] = (32, 96, 55, 55),
    dtype: str = "float32",
    *,
    repeats: int = 5,
    threads: int | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """:func:`make_cases` 의 두 함수를 번갈아 ``repeats`` 번 재고, 반복마다의 속도 비율을 요약합니다.

    한 반복 안에서 기준과 후보를 바로 이어서 재므로, 기계의 부하가 두 쪽에 비슷하게 걸립니다.
    처음 한 번씩은 재지 않고 버립니다(준비 운동).

    Args:
        shape: 입력 모양. 기본값은 AlexNet conv1 출력(배치 32).
        dtype: :data:`DTYPES` 의 이름.
        repeats: 번갈아 재는 횟수(1 이상).
        threads: 재는 동안 쓸 PyTorch 스레드 수. ``None`` 이면 지금 설정 그대로. 재고 나면 원래대로 돌려놓습니다.
        seed: 입력 시드.

    Returns:
        ``speedup_min``, ``speedup_median``, ``speedup_max`` (기준 시간 / 후보 시간; 1보다 크면 후보가 빠름),
        ``max_abs_diff_output``, ``max_abs_diff_grad``, ``repeats``, ``threads``.

    Raises:
        TypeError: ``repeats`` 나 ``threads`` 가 정수가 아닐 때.
        ValueError: ``repeats`` 나 ``threads`` 가 1보다 작을 때(나머지는 :func:`make_cases` 와 같음).
    """
    check_int(repeats, "repeats", minimum=1)
    if threads is not None:
        check_int(threads, "threads", minimum=1)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads or previous_threads)
    try:
        cases = make_cases(shape, dtype, seed=seed)  # 만드는 동안 두 함수를 한 번씩 실행합니다(준비 운동)
        ratios = []
        for _ in range(repeats):
            start = time.perf_counter()
            cases.candidate()
            middle = time.perf_counter()
            cases.reference()
            ratios.append((time.perf_counter() - middle) / (middle - start))
    finally:
        torch.set_num_threads(previous_threads)
    return {
        "speedup_min": min(ratios),
        "speedup_median": statistics.median(ratios),
        "speedup_max": max(ratios),
        "max_abs_diff_output": cases.max_abs_diff_output,
        "max_abs_diff_grad": cases.max_abs_diff_grad,
        "repeats": repeats,
        "threads": threads or previous_threads,
    }


def saved_for_backward_bytes(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> int:
    """``fn(x)`` 의 계산 그래프가 역전파를 위해 저장한 텐서들의 바이트 수를 잽니다.

    :func:`torch.autograd.graph.saved_tensors_hooks` 로 저장되는 텐서를 하나하나 받아, 같은 저장소(storage)는
    한 번만 셉니다(입력 ``x`` 처럼 여러 연산이 함께 저장한 텐서). 저장된 텐서는 출력이 살아 있는 동안 그래프가
    붙잡고 있으므로, 잰 값은 "순전파가 끝나고 역전파를 시작하기 전까지 남아 있어야 하는 메모리" 입니다.

    Args:
        fn: 텐서 하나를 받아 텐서 하나를 돌려주는 함수(예: ``nn.LocalResponseNorm(5)``).
        x: ``requires_grad=True`` 인 입력.

    Returns:
        저장된 텐서들의 서로 다른 저장소의 바이트 수 합계(``x`` 자신도 저장되면 포함).

    Raises:
        ValueError: ``x`` 가 기울기를 요구하지 않을 때(그러면 아무것도 저장되지 않습니다).
    """
    if not x.requires_grad:
        raise ValueError("x는 requires_grad=True 여야 합니다(그래야 역전파용 텐서가 저장됩니다).")
    storages: dict[int, int] = {}

    def pack(saved: torch.Tensor) -> torch.Tensor:
        storage = saved.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return saved

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda saved: saved):
        out = fn(x)  # out 이 살아 있는 동안 저장된 텐서의 주소가 다른 텐서에 재사용되지 않습니다
    total = sum(storages.values())
    del out
    return total
