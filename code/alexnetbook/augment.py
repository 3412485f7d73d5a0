"""AlexNet 의 데이터 증강(논문 §4.1)을 torchvision v2 변환으로 구현합니다.

torchvision v2 의 방식대로, 무작위로 정하는 **매개변수**(잘라 낼 위치, 뒤집을지 여부, PCA 계수 α)는
``make_params`` 에서 뽑고, 그 매개변수로 이미지를 바꾸는 **결정적 연산**(커널)은 ``transform`` 에서
부릅니다. 그래서 커널은 따로 정확히 테스트할 수 있고, 무작위 부분은 분포로 테스트할 수 있습니다.
무작위 변환은 모두 ``generator`` 인자로 ``torch.Generator`` 나 정수 시드를 받습니다.

학습과 테스트는 **서로 다른** 절차입니다.

* 학습(:func:`alexnet_train_transform`): 256×256 이미지에서 **무작위** 224×224 조각 하나 + 확률 1/2의
  좌우 뒤집기 + PCA 색 증강(:class:`PCALighting`, 통계와 커널은 :mod:`alexnetbook.lighting`).
* 테스트(:func:`alexnet_test_transform`): **정해진** 224×224 조각 10개(네 귀퉁이와 가운데, 그리고
  그 좌우 반전)를 만들고, :func:`alexnetbook.evaluate.ten_crop_predict` 가 10개의 소프트맥스 출력을 평균합니다.
* 평균 빼기(논문 §2의 유일한 전처리)도 여기 한곳에 있습니다. 이미지 하나씩 처리하는 파이프라인에서는
  :class:`SubtractMean` 변환을, 메모리에 올린 텐서 전체에는 같은 변환을 쓰는 :func:`subtract_mean` 을 씁니다.
* CIFAR-10 크기(32×32)로 줄인 같은 절차는 :func:`cifar_transforms` 입니다.

픽셀 척도: 논문은 학습 세트 평균을 뺀 "날것의(raw) RGB 값" 으로 학습했고 표준편차로 나누지
않았습니다(§2). 여기의 변환도 0–255 척도에서 평균만 뺍니다. PCA 상수는 0–1 척도로 적혀 있으므로
0–255 척도의 파이프라인에서는 고윳값에 255를 곱해 씁니다(:func:`alexnet_train_transform`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import PIL.Image
import torch
from torch import Tensor
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from .checks import check_float, check_size, check_tensor
from .lighting import IMAGENET_PCA_EIGVAL, IMAGENET_PCA_EIGVEC, pca_lighting
from .utils import GeneratorLike, make_generator

__all__ = [
    "IMAGENET_MEAN",
    "PCALighting",
    "RandomCrop",
    "RandomHorizontalFlip",
    "SubtractMean",
    "TenCrop",
    "alexnet_test_transform",
    "alexnet_train_transform",
    "cifar_transforms",
    "subtract_mean",
]

#: ImageNet 학습 이미지의 채널별 RGB 평균, **0–1 픽셀 척도**. 출처: facebookarchive/fb.resnet.torch 의
#: ``datasets/imagenet.lua`` ("Computed from random subset of ImageNet training images").
#: torchvision 의 사전 학습 모델도 같은 값을 씁니다.
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)

# 색이나 값을 바꾸는 변환이 그대로 통과시킬 tv_tensor 종류(KeyPoints 는 최근 torchvision 에만 있음).
_GEOMETRY_ONLY = tuple(getattr(tv_tensors, n) for n in ("BoundingBoxes", "Mask", "KeyPoints") if hasattr(tv_tensors, n))


class _Transform(v2.Transform):
    """``make_params``/``transform`` 을 구현하는 v2 변환의 공통 부모.

    torchvision 0.21 이전(pytorch/vision PR #8787 전)에는 두 메서드의 이름이 ``_get_params``/``_transform``
    이었으므로, 옛 이름으로도 불리도록 연결해 둡니다(새 버전에서는 쓰이지 않음). 무작위 매개변수가 없는
    변환(:class:`SubtractMean`, :class:`TenCrop`)도 옛 버전이 ``_get_params`` 를 부르므로, ``make_params`` 의
    기본값(빈 사전)을 여기 둡니다.
    """

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        return {}

    def _get_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        return self.make_params(flat_inputs)

    def _transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self.transform(inpt, params)


def _query_size(flat_inputs: list[Any]) -> tuple[int, int]:
    """변환할 입력들의 공통 ``(높이, 너비)``. 크기가 서로 다르면 ValueError."""
    sizes = {tuple(F.get_size(inpt)) for inpt in flat_inputs}
    if len(sizes) != 1:
        raise ValueError(f"함께 변환할 입력의 (높이, 너비)가 모두 같아야 합니다. 받은 크기: {sorted(sizes)}")
    height, width = sizes.pop()
    return height, width


def _check_float_image(inpt: Any, who: str) -> None:
    if isinstance(inpt, PIL.Image.Image) or not isinstance(inpt, Tensor) or not inpt.is_floating_point():
        raise TypeError(
            f"{who}는 실수 텐서 이미지 (..., 3, H, W) 만 받습니다(먼저 v2.ToDtype(torch.float32, scale=True) 로 "
            f"바꾸세요). 받은 값: {type(inpt).__name__}{'' if not isinstance(inpt, Tensor) else ' ' + str(inpt.dtype)}"
        )


class RandomCrop(_Transform):
    """무작위 위치에서 ``size`` 크기의 조각을 잘라 냅니다(패딩 없음).

    ``top`` 은 ``0 … H − h``, ``left`` 는 ``0 … W − w`` 의 정수에서 균등하게 뽑습니다(양 끝 포함).
    256에서 224를 자르면 한 축에 33가지 위치입니다. 논문의 2048 = 32² × 2 는 한 축을 32로 센
    값입니다(§4.1). 결정적 커널은 ``torchvision.transforms.v2.functional.crop`` 입니다.

    Args:
        size: 조각의 크기. 정수 하나면 정사각형.
        generator: ``torch.Generator``, 정수 시드, 또는 ``None`` (전역 난수).

    Raises:
        ValueError: 입력이 ``size`` 보다 작을 때.
    """

    def __init__(self, size: int | Sequence[int], *, generator: GeneratorLike = None) -> None:
        super().__init__()
        self.size = check_size(size, "size")
        self.generator = make_generator(generator)

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        height, width = _query_size(flat_inputs)
        crop_h, crop_w = self.size
        if height < crop_h or width < crop_w:
            raise ValueError(f"입력 크기 {(height, width)} 가 자를 크기 {self.size} 보다 작습니다.")
        top = int(torch.randint(0, height - crop_h + 1, (), generator=self.generator))
        left = int(torch.randint(0, width - crop_w + 1, (), generator=self.generator))
        return {"top": top, "left": left, "height": crop_h, "width": crop_w}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._call_kernel(F.crop, inpt, **params)


class RandomHorizontalFlip(_Transform):
    """확률 ``p`` 로 좌우를 뒤집습니다. 결정적 커널은 ``torchvision.transforms.v2.functional.horizontal_flip``.

    Args:
        p: 뒤집을 확률, ``[0, 1]``.
        generator: ``torch.Generator``, 정수 시드, 또는 ``None`` (전역 난수).

    Raises:
        ValueError: ``p`` 가 ``[0, 1]`` 밖일 때.
    """

    def __init__(self, p: float = 0.5, *, generator: GeneratorLike = None) -> None:
        super().__init__()
        self.p = check_float(p, "p", minimum=0.0, maximum=1.0)
        self.generator = make_generator(generator)

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        return {"flip": bool(torch.rand((), generator=self.generator) < self.p)}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._call_kernel(F.horizontal_flip, inpt) if params["flip"] else inpt


class PCALighting(_Transform):
    """AlexNet 의 PCA 색 증강(논문 §4.1, "fancy PCA" 또는 lighting 이라고도 부름).

    이미지마다 한 번 ``alpha ~ N(0, std)`` (세 성분 독립, ``std`` 는 **표준편차**)를 뽑고,
    :func:`alexnetbook.lighting.pca_lighting` 으로 모든 픽셀에 ``eigvec @ (alpha * eigval)`` 을 더합니다. 논문의 std 는 0.1.
    같은 이미지라도 쓸 때마다 새 α 를 뽑습니다.

    한 번의 호출에 들어온 텐서는 이미지 하나로 봅니다. ``(N, 3, H, W)`` 배치를 넣으면 배치 전체에
    같은 α 가 쓰이므로, Dataset 에서 이미지마다 부르세요.

    Args:
        eigval: ``(3,)`` RGB 공분산의 고윳값(이미지와 같은 픽셀 척도).
        eigvec: ``(3, 3)`` 고유벡터(열이 고유벡터).
        std: α 의 표준편차. 0 이면 아무것도 하지 않습니다.
        generator: ``torch.Generator``, 정수 시드, 또는 ``None`` (전역 난수).

    Raises:
        ValueError: 모양이 맞지 않거나 ``std`` 가 음수일 때.
        TypeError: 실수 텐서가 아닌 이미지(PIL, ``uint8``)를 받았을 때.
    """

    def __init__(
        self,
        eigval: Tensor | Sequence[float],
        eigvec: Tensor | Sequence[Sequence[float]],
        std: float = 0.1,
        *,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__()
        eigval_t = torch.as_tensor(eigval, dtype=torch.float64)
        eigvec_t = torch.as_tensor(eigvec, dtype=torch.float64)
        if eigval_t.shape != (3,) or eigvec_t.shape != (3, 3):
            raise ValueError(
                f"eigval은 (3,), eigvec은 (3, 3) 이어야 합니다. 받은 모양: {tuple(eigval_t.shape)}, {tuple(eigvec_t.shape)}"
            )
        self.std = check_float(std, "std", minimum=0.0)
        self.register_buffer("eigval", eigval_t)
        self.register_buffer("eigvec", eigvec_t)
        self.generator = make_generator(generator)

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        alpha = torch.randn(3, generator=self.generator, dtype=torch.float64) * self.std
        return {"alpha": alpha}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if isinstance(inpt, _GEOMETRY_ONLY):
            return inpt  # 색을 바꾸는 변환이므로 상자와 마스크는 그대로 둡니다.
        _check_float_image(inpt, "PCALighting")
        return pca_lighting(inpt, params["alpha"], self.eigval, self.eigvec)


class SubtractMean(_Transform):
    """평균을 빼고 ``scale`` 을 곱합니다: ``(img − mean) · scale``. 표준편차로 나누지 **않습니다**.

    논문 §2의 유일한 전처리("학습 세트의 평균 활성값을 각 픽셀에서 뺌")입니다. ``v2.ToDtype(…,
    scale=True)`` 로 0–1 이 된 이미지에 ``scale=255`` 를 주면, 논문처럼 0–255 척도의 "평균을 뺀
    날것의 RGB 값" 이 됩니다.

    Args:
        mean: 채널별 평균 ``(C,)`` 또는 평균 이미지 ``(C, H, W)`` (Caffe 처럼). 입력과 같은 척도(보통 0–1).
        scale: 평균을 뺀 뒤 곱할 값.

    Raises:
        ValueError: ``mean`` 의 모양이 ``(C,)`` 나 ``(C, H, W)`` 가 아니거나 입력과 맞지 않을 때.
        TypeError: 실수 텐서가 아닌 이미지를 받았을 때.
    """

    def __init__(self, mean: Tensor | Sequence[float], scale: float = 1.0) -> None:
        super().__init__()
        mean_t = torch.as_tensor(mean, dtype=torch.float64)
        if mean_t.dim() not in (1, 3):
            raise ValueError(f"mean은 (C,) 또는 (C, H, W) 여야 합니다. 받은 모양: {tuple(mean_t.shape)}")
        self.register_buffer("mean", mean_t)
        self.scale = float(scale)

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if isinstance(inpt, _GEOMETRY_ONLY):
            return inpt
        _check_float_image(inpt, "SubtractMean")
        mean = self.mean.to(dtype=inpt.dtype, device=inpt.device)
        if mean.dim() == 1:
            mean = mean[:, None, None]  # (C,) -> (C, 1, 1): 모든 픽셀에 같은 평균
        if inpt.dim() < 3 or mean.shape[0] != inpt.shape[-3] or any(
            m not in (1, s) for m, s in zip(mean.shape[1:], inpt.shape[-2:])
        ):
            raise ValueError(f"mean 모양 {tuple(self.mean.shape)} 이 이미지 모양 {tuple(inpt.shape)} 과 맞지 않습니다.")
        out = (inpt - mean) * self.scale
        return tv_tensors.wrap(out, like=inpt) if isinstance(inpt, tv_tensors.TVTensor) else out


class TenCrop(_Transform):
    """테스트용 10개 조각을 ``(10, C, h, w)`` 텐서 하나로 쌓습니다(논문 §4.1).

    순서는 ``torchvision.transforms.v2.functional.ten_crop`` 그대로입니다. 0–4는 원본의 왼쪽 위, 오른쪽 위,
    왼쪽 아래, 오른쪽 아래, 가운데이고, 5–9는 **좌우로 뒤집은 이미지**에서 같은 순서로 자른 조각입니다.
    그래서 5번(뒤집은 이미지의 왼쪽 위)은 1번(원본의 오른쪽 위)을 뒤집은 것과 같습니다. 10개의 집합은
    "다섯 조각과 그 좌우 반전" 과 정확히 같습니다.

    Args:
        size: 조각의 크기.

    Raises:
        TypeError: 텐서가 아닌 입력(PIL 등)을 받았을 때. 먼저 ``v2.ToImage()`` 를 쓰세요.
    """

    def __init__(self, size: int | Sequence[int]) -> None:
        super().__init__()
        self.size = check_size(size, "size")

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if not isinstance(inpt, Tensor) or isinstance(inpt, (tv_tensors.BoundingBoxes, tv_tensors.Mask)):
            raise TypeError(f"TenCrop 은 (C, H, W) 이미지 텐서만 받습니다. 받은 값: {type(inpt).__name__}")
        crops = F.ten_crop(inpt, list(self.size))
        return torch.stack([c.as_subclass(Tensor) for c in crops])  # 10 × (C, h, w) -> (10, C, h, w)


def _centred_square(resize: int, mean: Tensor | Sequence[float], pixel_scale: float) -> list[v2.Transform]:
    """학습과 테스트가 함께 쓰는 앞부분(논문 §2): 짧은 변 ``resize`` → 가운데 정사각형 → 0–1 실수 → 평균 빼기."""
    return [
        v2.ToImage(),
        v2.Resize(resize, antialias=True),
        v2.CenterCrop(resize),
        v2.ToDtype(torch.float32, scale=True),
        SubtractMean(mean, scale=pixel_scale),
    ]


def alexnet_train_transform(
    *,
    size: int = 224,
    resize: int = 256,
    mean: Tensor | Sequence[float] = IMAGENET_MEAN,
    eigval: Tensor | Sequence[float] = IMAGENET_PCA_EIGVAL,
    eigvec: Tensor | Sequence[Sequence[float]] = IMAGENET_PCA_EIGVEC,
    lighting_std: float = 0.1,
    pixel_scale: float = 255.0,
    generator: GeneratorLike = None,
) -> v2.Compose:
    """AlexNet 의 학습용 변환(논문 §2, §4.1). PIL 이미지, ``(H, W, 3)`` 배열, ``uint8`` 텐서를 받습니다.

    1. 짧은 변을 ``resize`` (256)로 맞추고 가운데 ``resize``×``resize`` 를 자릅니다(§2).
    2. 0–1 실수로 바꾸고, ``mean`` (0–1 척도)을 뺀 뒤 ``pixel_scale`` (255)을 곱합니다. 논문처럼 평균만
       빼고 **표준편차로 나누지 않습니다**. 결과는 0–255 척도의 "평균을 뺀 RGB 값" 입니다.
    3. 무작위 ``size``×``size`` (224) 조각 하나와 확률 1/2 의 좌우 뒤집기(§4.1).
    4. PCA 색 증강(§4.1). 고윳값 ``eigval`` 은 0–1 척도로 받아 ``pixel_scale`` 을 곱해 씁니다. 더해지는
       값이 고윳값에 비례하므로, 이렇게 하면 0–1 이미지에 원래 상수를 쓴 것과 같은 변화가 됩니다.

    Args:
        size: 잘라 낼 조각의 크기(224).
        resize: 짧은 변과 가운데 정사각형의 크기(256).
        mean: 빼는 평균, 0–1 척도의 ``(3,)`` 또는 ``(3, resize, resize)`` 평균 이미지.
        eigval: 0–1 척도의 PCA 고윳값.
        eigvec: 열이 고유벡터인 ``(3, 3)`` 행렬.
        lighting_std: α 의 표준편차(0.1). 0 이면 색 증강을 끕니다.
        pixel_scale: 출력 픽셀 척도(255: 논문의 날것의 RGB, 1: 0–1 척도).
        generator: 세 무작위 변환이 함께 쓸 ``torch.Generator`` 또는 정수 시드. ``None`` 이면 전역 난수.
            ``DataLoader(num_workers>0)`` 에서는 모든 작업자가 같은 생성기 사본을 받아 같은 난수열을
            되풀이하므로, 그때는 ``None`` (작업자마다 다른 시드를 주는 전역 난수)을 쓰세요.

    Returns:
        ``(3, size, size)`` float32 텐서를 내는 ``v2.Compose``.
    """
    gen = make_generator(generator)
    return v2.Compose(
        [
            *_centred_square(resize, mean, pixel_scale),
            RandomCrop(size, generator=gen),
            RandomHorizontalFlip(0.5, generator=gen),
            PCALighting(torch.as_tensor(eigval, dtype=torch.float64) * pixel_scale, eigvec, lighting_std, generator=gen),
        ]
    )


def alexnet_test_transform(
    ten_crop: bool = True,
    *,
    size: int = 224,
    resize: int = 256,
    mean: Tensor | Sequence[float] = IMAGENET_MEAN,
    pixel_scale: float = 255.0,
) -> v2.Compose:
    """AlexNet 의 테스트용 변환(논문 §4.1). 무작위 요소가 없습니다.

    :func:`alexnet_train_transform` 과 같은 크기 조정과 평균 빼기 뒤에, ``ten_crop=True`` 면 네 귀퉁이와
    가운데의 224×224 조각 다섯 개와 그 좌우 반전, 모두 10개를 ``(10, 3, size, size)`` 로 쌓습니다
    (:class:`TenCrop`). ``ten_crop=False`` 면 가운데 조각 하나 ``(3, size, size)`` 입니다.

    Args:
        ten_crop: 10개 조각을 만들지 여부.
        size: 조각의 크기(224).
        resize: 짧은 변과 가운데 정사각형의 크기(256).
        mean: 빼는 평균(0–1 척도).
        pixel_scale: 출력 픽셀 척도(255).

    Returns:
        ``v2.Compose``.
    """
    last: v2.Transform = TenCrop(size) if ten_crop else v2.CenterCrop(size)
    return v2.Compose([*_centred_square(resize, mean, pixel_scale), last])


def subtract_mean(train: Tensor, *others: Tensor, scale: float = 1.0) -> tuple[Tensor, ...]:
    """논문 §2의 전처리를 메모리에 올린 텐서 전체에: 학습 세트의 평균 이미지를 모든 세트에서 뺍니다.

    평균은 **학습 세트에서만** 계산합니다. 빼는 일은 :class:`SubtractMean` 이 하므로, 이미지 하나씩 처리하는
    파이프라인과 결과가 같습니다. 표준편차로 나누지 않습니다.

    Args:
        train: ``(N, C, H, W)`` 학습 이미지(``uint8`` 0–255 또는 실수).
        *others: 같은 평균을 뺄 다른 이미지(검증, 테스트 세트).
        scale: 평균을 뺀 뒤 곱할 값. 1(기본)이면 논문처럼 0–255 척도, ``1 / 255`` 면 −1 과 1 사이입니다.

    Returns:
        ``(train_centered, *others_centered, mean)``. 이미지는 float32, ``mean`` 은 ``(C, H, W)`` 평균 이미지
        (0–255 척도)입니다.

    Raises:
        ValueError: ``train`` 이 4차원이 아니거나 다른 텐서의 ``(C, H, W)`` 가 다를 때.
    """
    check_tensor(train, "train", dims=4)
    check_float(scale, "scale", minimum=0.0, open_min=True)
    for i, t in enumerate(others):
        check_tensor(t, f"others[{i}]", dims=4)
        if t.shape[1:] != train.shape[1:]:
            raise ValueError(f"others[{i}] 의 모양 {tuple(t.shape)} 이 train 의 (C, H, W) {tuple(train.shape[1:])} 와 다릅니다.")
    mean = train.float().mean(dim=0)  # (N, C, H, W) -> (C, H, W)
    center = SubtractMean(mean, scale=scale)
    return (*(center(t.float()) for t in (train, *others)), mean)


def cifar_transforms(mean: Tensor, crop: int = 28) -> dict[str, Callable[[Tensor], Tensor]]:
    """32×32 ``uint8`` 이미지용 변환: 논문 §2, §4.1을 축소한 것(256 → 224 자르기를 32 → 28 로).

    논문은 256×256 이미지에서 224×224 조각을 잘랐습니다. 224/256 = 28/32 = 0.875 로 비율이 같습니다.
    픽셀은 0–255 척도에서 학습 세트의 평균 이미지만 빼고, 표준편차로 나누지 않습니다(§2).
    PCA 색 증강은 하지 않습니다.

    Args:
        mean: 학습 세트의 평균 이미지 ``(C, 32, 32)`` (0–255 척도). 자르기 전에 뺍니다.
        crop: 잘라 낼 조각의 크기.

    Returns:
        ``"train"`` (무작위 조각 + 확률 1/2 좌우 반전), ``"center"`` (가운데 조각 ``(C, crop, crop)``),
        ``"ten_crop"`` (네 귀퉁이·가운데와 그 반전 10개, ``(10, C, crop, crop)``) 변환.
    """
    base = [v2.ToDtype(torch.float32, scale=False), SubtractMean(mean)]  # uint8 0–255 -> 평균을 뺀 float32
    return {
        "train": v2.Compose([*base, RandomCrop(crop), RandomHorizontalFlip(0.5)]),
        "center": v2.Compose([*base, v2.CenterCrop(crop)]),
        "ten_crop": v2.Compose([*base, TenCrop(crop)]),
    }
