"""논문 그림 3을 재는 도구: 두 타워의 conv1 커널이 색에 무관한 쪽과 색에 특화된 쪽으로 나뉘는가.

논문 §6.1은 두 GPU(타워)의 conv1 커널이 한쪽은 대부분 색에 무관하고 다른 쪽은 색에 특화되며, 이 분업이
"매 실행마다" 나타난다고 보고합니다. 이 모듈은 그 주장을 숫자로 재는 데 필요한 것만 둡니다. 학습과 실험 규모는
:mod:`alexnetbook.experiments.tower_runs` 에 있습니다.

* :func:`colour_fraction`: 커널 하나의 **색 통계**. 커널 ``W`` (3, k, k)의 회색 성분(세 색 채널의 평균을 세
  채널에 똑같이 둔 것)을 뺀 나머지의 에너지 비율 ``‖W − 회색‖² / ‖W‖²``. 흑백 커널은 0, 한 채널에만 있는
  커널은 2/3, 세 채널의 합이 0 인 색 대립 커널은 1 입니다.
* :func:`tower_kernels`: conv1 커널을 두 타워로 나눕니다. ``AlexNet(groups=2)`` 에서 conv2 의 묶음 ``i`` 는
  conv1 출력 채널의 ``i`` 번째 절반만 보므로, conv1 의 앞 절반과 뒤 절반이 곧 두 타워의 커널입니다.
* :func:`tower_gap`, :func:`random_split_gaps`, :func:`split_p_value`: 두 타워의 평균 색 통계 차이
  ``|평균_A − 평균_B|`` 와, 같은 커널들을 무작위로 반씩 나눈 귀무 분포(순열 검정).
* :func:`kernel_mosaic`: 논문 그림 3처럼 커널들을 격자 이미지 하나로 늘어놓습니다.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..checks import check_int, check_tensor, check_type
from ..models import AlexNet

__all__ = [
    "NULL_SPLITS",
    "colour_fraction",
    "kernel_mosaic",
    "random_split_gaps",
    "split_p_value",
    "tower_gap",
    "tower_kernels",
]

#: 귀무 분포를 만들 무작위 분할 수.
NULL_SPLITS = 2000


def colour_fraction(kernels: Tensor) -> Tensor:
    """커널마다 회색 성분 밖에 있는 에너지의 비율 ``‖W − 회색‖² / ‖W‖²`` (0 이상 1 이하).

    회색 성분은 세 색 채널의 평균을 세 채널에 똑같이 둔 것입니다. ``W − 회색`` 은 회색 성분과 직교하므로
    ``‖W‖² = ‖회색‖² + ‖W − 회색‖²`` 이고, 비율은 0(흑백 커널)과 1(색 채널의 합이 0 인 커널) 사이입니다.

    Args:
        kernels: ``(K, 3, k, k)`` conv1 가중치(또는 ``(3, k, k)`` 커널 하나).

    Returns:
        ``(K,)`` 비율(커널 하나를 주면 0차원 텐서).

    Raises:
        TypeError: 실수 텐서가 아닐 때.
        ValueError: 모양이 ``(K, 3, k, k)`` / ``(3, k, k)`` 가 아니거나 모든 값이 0 인 커널이 있을 때.
    """
    check_tensor(kernels, "kernels", dims=(3, 4), floating=True)
    single = kernels.dim() == 3
    w = kernels.unsqueeze(0) if single else kernels  # (3, k, k) -> (1, 3, k, k)
    if w.shape[1] != 3:
        raise ValueError(f"kernels는 RGB 커널 (K, 3, k, k) 이어야 합니다. 받은 모양: {tuple(kernels.shape)}")
    grey = w.mean(dim=1, keepdim=True)  # (K, 1, k, k): 세 채널의 평균, 아래에서 세 채널로 브로드캐스트
    outside = (w - grey).pow(2).flatten(1).sum(1)  # (K, 3, k, k) -> (K, 3·k·k) -> (K,)
    total = w.pow(2).flatten(1).sum(1)
    if (total == 0).any():
        raise ValueError("kernels에 모든 값이 0 인 커널이 있어 색 통계를 정할 수 없습니다.")
    fraction = outside / total
    return fraction[0] if single else fraction


def tower_kernels(model: AlexNet) -> tuple[Tensor, Tensor]:
    """conv1 커널을 앞 절반과 뒤 절반으로 나눕니다(떼어 낸 float32 복사본).

    ``groups=2`` 이면 conv2 의 묶음 ``i`` 가 conv1 출력 채널의 ``i`` 번째 절반만 보므로, 두 절반이 두 타워의
    커널입니다(논문 그림 3의 위 48개와 아래 48개). ``groups=1`` 이면 나누는 자리에 아무 뜻이 없으므로 대조군의
    임의 분할입니다.

    Returns:
        ``(tower_a, tower_b)``: 각각 ``(C/2, 3, k, k)``.

    Raises:
        TypeError: ``model`` 이 :class:`~alexnetbook.models.AlexNet` 이 아닐 때.
        ValueError: conv1 채널 수가 홀수일 때.
    """
    check_type(model, "model", AlexNet)
    weight = model.features.conv1.weight.detach().float().contiguous().clone()  # (C, 3, k, k)
    if weight.shape[0] % 2:
        raise ValueError(f"model의 conv1 채널 수가 홀수({weight.shape[0]})라 두 타워로 나눌 수 없습니다.")
    half = weight.shape[0] // 2
    return weight[:half], weight[half:]


def tower_gap(fractions: Tensor) -> Tensor:
    """앞 절반과 뒤 절반의 평균 차이의 절댓값 ``|평균_A − 평균_B|`` (마지막 축을 반으로 나눔).

    Args:
        fractions: ``(..., 2m)`` 커널마다의 색 통계. 앞의 축은 여러 분할을 한꺼번에 계산할 때 씁니다.

    Returns:
        ``(...)`` 차이.

    Raises:
        ValueError: 마지막 축의 길이가 0 이거나 홀수일 때.
    """
    check_tensor(fractions, "fractions", floating=True)
    n = fractions.shape[-1] if fractions.dim() else 0
    if n == 0 or n % 2:
        raise ValueError(f"fractions의 마지막 축은 0 이 아닌 짝수 길이여야 합니다. 받은 모양: {tuple(fractions.shape)}")
    return (fractions[..., : n // 2].mean(-1) - fractions[..., n // 2:].mean(-1)).abs()


def random_split_gaps(fractions: Tensor, num_splits: int = NULL_SPLITS, *, seed: int = 0) -> Tensor:
    """같은 커널들을 무작위로 반씩 ``num_splits`` 번 나눴을 때의 :func:`tower_gap` (귀무 분포).

    타워가 색 통계와 아무 관계가 없다면(귀무가설), 실제 두 타워로 나눈 것은 이 무작위 분할 중 하나와 다를 바가
    없습니다.

    Args:
        fractions: ``(2m,)`` 커널마다의 색 통계.
        num_splits: 무작위 분할 수.
        seed: 분할을 뽑는 시드.

    Returns:
        ``(num_splits,)`` 차이.
    """
    check_tensor(fractions, "fractions", dims=1, floating=True)
    check_int(num_splits, "num_splits", minimum=1)
    generator = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    order = torch.rand(num_splits, len(fractions), generator=generator).argsort(dim=1)  # (S, 2m) 무작위 순열 S개
    return tower_gap(fractions[order])


def split_p_value(fractions: Tensor, num_splits: int = NULL_SPLITS, *, seed: int = 0) -> float:
    """실제 분할(앞 절반 / 뒤 절반)의 차이가 무작위 분할보다 큰지에 대한 순열 검정의 p 값.

    ``p = (1 + #{무작위 분할의 차이 ≥ 실제 차이}) / (1 + num_splits)``. 가장 작은 값은 ``1 / (1 + num_splits)`` 입니다.
    """
    observed = tower_gap(fractions)
    null = random_split_gaps(fractions, num_splits, seed=seed)
    return float((1 + (null >= observed).sum()) / (1 + num_splits))


def kernel_mosaic(kernels: Tensor, columns: int = 16, pad: int = 1) -> Tensor:
    """커널들을 논문 그림 3처럼 격자 하나의 RGB 이미지로 늘어놓습니다(칸 사이는 흰색).

    커널마다 ``0.5 + 0.5 · W / max|W|`` 로 바꿔 보여 줍니다. 0 은 회색(0.5)이고, 세 채널에 같은 배율을 쓰므로
    커널의 색 균형이 그대로 보입니다.

    Args:
        kernels: ``(K, 3, k, k)`` 커널.
        columns: 한 줄의 커널 수.
        pad: 칸 사이 흰 띠의 두께(픽셀).

    Returns:
        ``(H, W, 3)`` 0–1 float 이미지(``matplotlib`` 의 ``imshow`` 에 바로 넣을 수 있음).
    """
    check_tensor(kernels, "kernels", dims=4, floating=True)
    check_int(columns, "columns", minimum=1)
    check_int(pad, "pad", minimum=0)
    count, channels, k, _ = kernels.shape
    peak = kernels.detach().flatten(1).abs().amax(1).clamp_min(1e-12)  # (K,) 커널마다 가장 큰 |w|
    scaled = 0.5 + 0.5 * kernels.detach().float() / peak[:, None, None, None].float()
    rows = -(-count // columns)
    step = k + pad
    grid = torch.ones(channels, rows * step - pad, columns * step - pad)
    for i in range(count):
        r, c = divmod(i, columns)
        grid[:, r * step: r * step + k, c * step: c * step + k] = scaled[i]
    return grid.permute(1, 2, 0)  # (3, H, W) -> (H, W, 3)
