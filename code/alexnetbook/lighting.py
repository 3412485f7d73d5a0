"""PCA 색 증강(논문 §4.1)의 통계와 결정적 커널: RGB 공분산의 고윳값 분해와, 모든 픽셀에 더할 색 벡터.

논문은 ImageNet 학습 세트의 RGB 픽셀 값에 PCA 를 하고, 이미지마다 주성분 방향으로 색을 조금 옮겼습니다.
여기에는 그 계산의 두 결정적 조각이 있습니다.

* :func:`fit_pca_lighting`: 이미지들의 픽셀로 3×3 공분산의 고윳값과 고유벡터를 구합니다.
* :func:`pca_lighting`: 주어진 계수 α 로 ``eigvec @ (alpha * eigval)`` 를 모든 픽셀에 더합니다.

α 를 이미지마다 뽑아 이 커널을 부르는 torchvision 변환은 :class:`alexnetbook.augment.PCALighting` 입니다.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torchvision import tv_tensors

from .checks import check_tensor

__all__ = ["IMAGENET_PCA_EIGVAL", "IMAGENET_PCA_EIGVEC", "fit_pca_lighting", "pca_lighting"]

#: 널리 쓰이는 ImageNet RGB 공분산의 고윳값 추정치(내림차순), **0–1 픽셀 척도**.
#: 출처: facebookarchive/fb.resnet.torch 의 ``datasets/imagenet.lua`` (``pca.eigval``, "Computed from random
#: subset of ImageNet training images"). 0–255 척도로 쓰려면 255를 곱합니다(55.46, 4.794, 1.148).
#: 출처는 계산 방법을 밝히지 않았습니다. 합(0.2408)이 정규화 표준편차 (0.229, 0.224, 0.225)의 제곱합보다 큰
#: 것은 그 표준편차가 이미지마다 잰 표준편차의 평균이기 때문으로 보입니다(pytorch/vision issue #1439, PR #1965).
IMAGENET_PCA_EIGVAL: tuple[float, float, float] = (0.2175, 0.0188, 0.0045)

#: 위 고윳값에 대응하는 고유벡터. **열**(column) ``j`` 가 고윳값 ``j`` 의 고유벡터이고 행은 R, G, B 입니다.
#: 출처는 :data:`IMAGENET_PCA_EIGVAL` 과 같습니다(``pca.eigvec``, 행을 그대로 옮김).
IMAGENET_PCA_EIGVEC: tuple[tuple[float, float, float], ...] = (
    (-0.5675, 0.7192, 0.4009),
    (-0.5808, -0.0045, -0.8140),
    (-0.5836, -0.6948, 0.4203),
)


def pca_lighting(img: Tensor, alpha: Tensor, eigval: Tensor, eigvec: Tensor) -> Tensor:
    """PCA 색 증강의 결정적 커널: 모든 픽셀에 같은 RGB 벡터 ``eigvec @ (alpha * eigval)`` 를 더합니다.

    논문 §4.1의 식 ``[p1 p2 p3][α1 λ1, α2 λ2, α3 λ3]^T`` 그대로입니다. 값을 잘라 내지(clamp) 않습니다.
    ``eigval`` 의 척도가 곧 더해지는 값의 척도이므로, 이미지와 같은 픽셀 척도의 고윳값을 넘기세요.

    Args:
        img: ``(..., 3, H, W)`` 실수 이미지.
        alpha: ``(3,)`` 계수, 또는 이미지마다 다른 계수 ``(..., 3)`` (``img`` 의 앞쪽 축과 같은 모양).
        eigval: ``(3,)`` 고윳값 λ.
        eigvec: ``(3, 3)`` 고유벡터. **열** ``j`` 가 λ_j 의 고유벡터입니다.

    Returns:
        ``img`` 와 같은 모양과 dtype 의 텐서.

    Raises:
        TypeError: ``img`` 가 실수 텐서가 아닐 때.
        ValueError: 모양이 맞지 않을 때.
    """
    check_tensor(img, "img", floating=True)
    if img.dim() < 3 or img.shape[-3] != 3:
        raise ValueError(f"img는 (..., 3, H, W) 모양이어야 합니다. 받은 모양: {tuple(img.shape)}")
    alpha = torch.as_tensor(alpha, dtype=img.dtype, device=img.device)
    eigval = torch.as_tensor(eigval, dtype=img.dtype, device=img.device)
    eigvec = torch.as_tensor(eigvec, dtype=img.dtype, device=img.device)
    if eigval.shape != (3,) or eigvec.shape != (3, 3):
        raise ValueError(f"eigval은 (3,), eigvec은 (3, 3) 이어야 합니다. 받은 모양: {tuple(eigval.shape)}, {tuple(eigvec.shape)}")
    if alpha.shape != (3,) and alpha.shape != (*img.shape[:-3], 3):
        raise ValueError(f"alpha는 (3,) 또는 {(*img.shape[:-3], 3)} 이어야 합니다. 받은 모양: {tuple(alpha.shape)}")
    # 행벡터로 쓰면 (alpha * eigval) @ eigvec^T 가 eigvec @ (alpha * eigval) 과 같습니다: (..., 3)
    offset = (alpha * eigval) @ eigvec.T
    out = img + offset[..., :, None, None]  # (..., 3) -> (..., 3, 1, 1): 모든 픽셀에 같은 값을 더함
    return tv_tensors.wrap(out, like=img) if isinstance(img, tv_tensors.TVTensor) else out


def fit_pca_lighting(images: Tensor | Sequence[Tensor]) -> tuple[Tensor, Tensor]:
    """이미지들의 RGB 픽셀로 PCA 색 증강의 고윳값과 고유벡터를 추정합니다.

    모든 이미지의 모든 픽셀을 RGB 3차원 점 하나씩으로 보고 3×3 공분산 행렬을 float64 로 구한 뒤
    고윳값 분해합니다(논문 §4.1은 ImageNet 학습 세트 전체로 했습니다). 결과의 척도는 입력의
    척도를 따릅니다. 0–1 이미지를 넣으면 0–1 척도의 고윳값이 나옵니다(척도를 k 배 하면 고윳값은
    k² 배가 됩니다).

    고유벡터의 부호는 정해져 있지 않으므로(α 가 0을 중심으로 대칭이라 증강에는 상관없음), 각
    고유벡터에서 절댓값이 가장 큰 성분이 양수가 되도록 맞춥니다.

    Args:
        images: ``(N, 3, H, W)`` 또는 ``(3, H, W)`` 실수 텐서, 또는 크기가 제각각인 ``(3, H, W)``
            실수 텐서들의 시퀀스.

    Returns:
        ``eigval``: ``(3,)`` 내림차순 고윳값, ``eigvec``: ``(3, 3)`` 열이 고유벡터인 행렬(float64).

    Raises:
        TypeError: 정수 dtype 의 이미지(척도가 모호함)를 받았을 때.
        ValueError: 모양이 맞지 않거나 픽셀이 두 개보다 적을 때.
    """
    tensors = [images] if isinstance(images, Tensor) else list(images)
    if not tensors:
        raise ValueError("images가 비어 있습니다.")
    columns = []
    for i, img in enumerate(tensors):
        if not isinstance(img, Tensor) or not img.is_floating_point():
            raise TypeError(
                f"images[{i}] 는 실수 텐서여야 합니다(정수 이미지는 척도가 모호하니 먼저 "
                f"v2.functional.to_dtype(img, torch.float32, scale=True) 로 0–1 척도로 바꾸세요)."
            )
        if img.dim() not in (3, 4) or img.shape[-3] != 3:
            raise ValueError(f"images[{i}] 는 (3, H, W) 또는 (N, 3, H, W) 여야 합니다. 받은 모양: {tuple(img.shape)}")
        columns.append(img.to(torch.float64).movedim(-3, 0).reshape(3, -1))  # (..., 3, H, W) -> (3, 픽셀 수)
    pixels = torch.cat(columns, dim=1)  # (3, 전체 픽셀 수)
    if pixels.shape[1] < 2:
        raise ValueError("공분산을 구하려면 픽셀이 두 개 이상 있어야 합니다.")
    cov = torch.cov(pixels)  # (3, 3), 표본 공분산
    eigval, eigvec = torch.linalg.eigh(cov)  # 오름차순
    eigval, eigvec = eigval.flip(0), eigvec.flip(1)  # 내림차순으로
    signs = torch.sign(eigvec.gather(0, eigvec.abs().argmax(dim=0, keepdim=True)))  # (1, 3)
    return eigval, eigvec * signs
