"""책의 모든 장이 쓰는 데이터 로더. 오프라인 사본을 먼저 찾고, 없으면 내려받습니다.

* CIFAR-10: ``$ALEXNETBOOK_DATA/cifar10-subset/{train,test}/<class>/*.jpg`` 가 있으면
  ``ImageFolder`` 로 읽고(클래스마다 train 1,000장, test 500장의 JPEG 사본), 없으면
  ``torchvision.datasets.CIFAR10`` 으로 전체 데이터(50,000 + 10,000장)를 내려받습니다.
* Fashion-MNIST: Debian 패키지 ``dataset-fashion-mnist`` 가 설치한
  ``/usr/share/datasets/fashion-mnist`` 의 IDX 파일을 직접 읽고, 없으면
  ``torchvision.datasets.FashionMNIST`` 로 내려받습니다.
* ``sample_photos()``: scikit-image 에 들어 있는 컬러 사진(인터넷 불필요).
* :func:`load_tensors`: 위 데이터셋을 ``uint8`` 텐서 한 덩어리로 읽습니다. 책의 모든 실험이 쓰는 **하나의**
  데이터 입구이고, :func:`split_train_val` 은 학습 이미지에서 검증 세트를 떼어 냅니다(테스트 세트는
  모델을 고르는 데 쓰지 않습니다). 읽은 텐서를 미니배치로 나누는 일은 :mod:`alexnetbook.batches` 가 합니다.

평균 빼기 같은 전처리와 증강은 다음 단계인 :mod:`alexnetbook.augment` 가 맡습니다
(데이터 → 증강 → 모델 → 학습/평가).

두 경로 모두 실패하면 데이터를 얻는 방법을 알려 주는 ``RuntimeError`` 를 냅니다.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from .checks import check_choice, check_int, check_tensor

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_CLASSES_KO",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_CLASSES_KO",
    "FASHION_MNIST_SYSTEM_DIR",
    "DATASETS",
    "IDXDataset",
    "data_root",
    "dataset_to_tensors",
    "load_cifar10",
    "load_fashion_mnist",
    "load_tensors",
    "sample_photos",
    "split_train_val",
]

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
CIFAR10_CLASSES_KO = ("비행기", "자동차", "새", "고양이", "사슴", "개", "개구리", "말", "배", "트럭")

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
FASHION_MNIST_CLASSES_KO = ("티셔츠", "바지", "풀오버", "드레스", "코트", "샌들", "셔츠", "운동화", "가방", "앵클부츠")

#: Debian ``dataset-fashion-mnist`` 패키지가 IDX 파일을 두는 곳.
FASHION_MNIST_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")

_SPLITS = ("train", "test")


def data_root() -> Path:
    """데이터를 찾고 내려받을 폴더.

    환경 변수 ``ALEXNETBOOK_DATA`` 가 있으면 그 경로, 없으면 ``~/.cache/alexnetbook`` 입니다.
    """
    env = os.environ.get("ALEXNETBOOK_DATA")
    if env:
        return Path(env).expanduser().resolve()
    return Path.home() / ".cache" / "alexnetbook"


def _check_split(split: str) -> bool:
    return check_choice(split, "split", _SPLITS) == "train"


def load_cifar10(
    split: str = "train",
    transform: Callable[[Image.Image], Any] | None = None,
    target_transform: Callable[[int], Any] | None = None,
    *,
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> Dataset:
    """CIFAR-10 을 읽습니다(오프라인 사본 우선).

    Args:
        split: ``"train"`` 또는 ``"test"``.
        transform: PIL 이미지에 적용할 변환(torchvision 변환 등).
        target_transform: 레이블에 적용할 변환.
        root: 찾을 폴더. ``None`` 이면 :func:`data_root`.
            ``root/cifar10-subset/<split>`` 이 있으면 그 ImageFolder 를 읽습니다.
        download: 오프라인 사본이 없을 때 torchvision 으로 내려받을지 여부.

    Returns:
        ``(PIL 이미지 또는 변환 결과, 레이블)`` 을 돌려주는 Dataset. ``classes`` 속성은
        두 경우 모두 :data:`CIFAR10_CLASSES` 와 같은 순서입니다.

    Raises:
        ValueError: ``split`` 이 잘못되었을 때.
        RuntimeError: 오프라인 사본도 없고 내려받기도 실패했을 때(방법을 안내합니다).
    """
    from torchvision import datasets

    train = _check_split(split)
    base = Path(root).expanduser() if root is not None else data_root()
    subset = base / "cifar10-subset" / split
    if subset.is_dir():
        ds = datasets.ImageFolder(str(subset), transform=transform, target_transform=target_transform)
        if tuple(ds.classes) != CIFAR10_CLASSES:
            raise RuntimeError(f"{subset} 의 클래스 폴더가 CIFAR-10 과 다릅니다: {ds.classes}")
        return ds
    try:
        return datasets.CIFAR10(
            str(base / "cifar10"), train=train, transform=transform,
            target_transform=target_transform, download=download,
        )
    except Exception as err:  # 네트워크 오류, 권한 오류 등
        raise RuntimeError(
            "CIFAR-10 을 찾지 못했습니다. 다음 중 하나를 하세요:\n"
            "  1) 인터넷이 되는 곳(Colab 등)에서 download=True 로 다시 실행하거나,\n"
            f"  2) ImageFolder 형식 사본(<root>/cifar10-subset/{split}/<class>/*.jpg)을 두고\n"
            "     환경 변수 ALEXNETBOOK_DATA=<root> 를 설정하세요.\n"
            f"찾아본 곳: {subset}, {base / 'cifar10'} (원인: {err})"
        ) from err


def _read_idx(path: Path) -> np.ndarray:
    """IDX 형식(``.gz`` 포함) 파일을 NumPy 배열로 읽습니다."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = raw[0] * 256 + raw[1], raw[2], raw[3]
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: 부호 없는 8비트 IDX 파일이 아닙니다.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(shape)  # (N,) 레이블 또는 (N, 28, 28) 이미지


class IDXDataset(Dataset):
    """IDX 파일에서 읽은 흑백 이미지 데이터셋. torchvision 의 MNIST 계열과 같은 모양을 냅니다.

    Attributes:
        data: ``(N, H, W)`` ``uint8`` 텐서.
        targets: ``(N,)`` ``int64`` 텐서.
        classes: 클래스 이름.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        classes: tuple[str, ...],
        transform: Callable[[Image.Image], Any] | None = None,
        target_transform: Callable[[int], Any] | None = None,
    ) -> None:
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"images는 (N, H, W), labels는 (N,) 이어야 합니다. 받은 모양: {images.shape}, {labels.shape}"
            )
        self.data = torch.from_numpy(images.copy())
        self.targets = torch.from_numpy(labels.astype(np.int64))
        self.classes = list(classes)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img = Image.fromarray(self.data[index].numpy())  # (H, W) uint8 -> 흑백("L") 이미지
        target: Any = int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


def load_fashion_mnist(
    split: str = "train",
    transform: Callable[[Image.Image], Any] | None = None,
    target_transform: Callable[[int], Any] | None = None,
    *,
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> Dataset:
    """Fashion-MNIST 를 읽습니다(Debian 패키지의 IDX 파일 우선).

    Args:
        split: ``"train"`` (60,000장) 또는 ``"test"`` (10,000장).
        transform: PIL 흑백 이미지에 적용할 변환.
        target_transform: 레이블에 적용할 변환.
        root: 내려받을 폴더. ``None`` 이면 :func:`data_root`.
        download: 시스템 사본이 없을 때 torchvision 으로 내려받을지 여부.

    Returns:
        ``data``, ``targets``, ``classes`` 속성을 가진 Dataset.

    Raises:
        ValueError: ``split`` 이 잘못되었을 때.
        RuntimeError: 시스템 사본도 없고 내려받기도 실패했을 때.
    """
    train = _check_split(split)
    prefix = "train" if train else "t10k"
    images_path = FASHION_MNIST_SYSTEM_DIR / f"{prefix}-images-idx3-ubyte.gz"
    labels_path = FASHION_MNIST_SYSTEM_DIR / f"{prefix}-labels-idx1-ubyte.gz"
    if images_path.is_file() and labels_path.is_file():
        return IDXDataset(
            _read_idx(images_path), _read_idx(labels_path), FASHION_MNIST_CLASSES,
            transform=transform, target_transform=target_transform,
        )
    from torchvision import datasets

    base = Path(root).expanduser() if root is not None else data_root()
    try:
        return datasets.FashionMNIST(
            str(base), train=train, transform=transform,
            target_transform=target_transform, download=download,
        )
    except Exception as err:
        raise RuntimeError(
            "Fashion-MNIST 를 찾지 못했습니다. Debian/Ubuntu 에서는 "
            "`sudo apt-get install dataset-fashion-mnist` 로 설치하거나, 인터넷이 되는 곳에서 "
            f"download=True 로 다시 실행하세요. 찾아본 곳: {FASHION_MNIST_SYSTEM_DIR}, {base} (원인: {err})"
        ) from err


def dataset_to_tensors(
    dataset: Dataset,
    *,
    per_class: int | None = None,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """이미지 Dataset 을 ``uint8`` 텐서 한 덩어리로 읽어 들입니다(작은 실험용).

    Args:
        dataset: ``(PIL 이미지, 레이블)`` 을 돌려주는 Dataset(변환 없이).
        per_class: 클래스마다 앞에서부터 고를 개수. ``None`` 이면 전부. 고르는 순서는
            ``seed`` 로 섞은 뒤의 순서라 결정적입니다.
        seed: 골라낼 순서를 섞는 시드.

    Returns:
        ``images``: ``(N, C, H, W)`` ``uint8`` 텐서, ``labels``: ``(N,)`` ``int64`` 텐서.

    Raises:
        ValueError: ``per_class`` 가 1보다 작거나, 어떤 클래스의 이미지가 부족할 때.
    """
    if per_class is not None:
        check_int(per_class, "per_class", minimum=1)
    targets = _targets_of(dataset)
    order = torch.randperm(len(targets), generator=torch.Generator().manual_seed(seed))
    if per_class is None:
        chosen = order
    else:
        picks: list[torch.Tensor] = []
        for c in torch.unique(targets):
            idx = order[targets[order] == c][:per_class]
            if len(idx) < per_class:
                raise ValueError(f"클래스 {int(c)} 의 이미지가 {len(idx)}장뿐입니다(per_class={per_class}).")
            picks.append(idx)
        chosen = torch.stack(picks, dim=1).flatten()  # (per_class, 클래스 수) -> 클래스가 번갈아 나오는 순서
    raw = getattr(dataset, "data", None)
    if isinstance(raw, (np.ndarray, torch.Tensor)) and raw.ndim in (3, 4) and len(raw) == len(targets):
        # torchvision 의 CIFAR10/FashionMNIST 와 IDXDataset 은 모든 이미지를 배열 하나로 들고 있으므로 바로 자릅니다.
        picked = torch.as_tensor(np.asarray(raw[chosen.numpy()]))
        if picked.dim() == 3:
            picked = picked.unsqueeze(-1)  # (N, H, W) -> (N, H, W, 1)
        return picked.permute(0, 3, 1, 2).contiguous(), targets[chosen].clone()  # (N, H, W, C) -> (N, C, H, W)
    arrays = []
    for i in chosen.tolist():
        img = np.asarray(dataset[i][0])
        if img.ndim == 2:
            img = img[:, :, None]  # (H, W) -> (H, W, 1)
        arrays.append(img)
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()  # (N, H, W, C) -> (N, C, H, W)
    return images, targets[chosen].clone()


def _targets_of(dataset: Dataset) -> torch.Tensor:
    for attr in ("targets", "labels"):
        values = getattr(dataset, attr, None)
        if values is not None:
            return torch.as_tensor(values, dtype=torch.int64)
    return torch.tensor([int(dataset[i][1]) for i in range(len(dataset))], dtype=torch.int64)


#: :func:`load_tensors` 의 ``dataset`` 이름 → 로더.
DATASETS: dict[str, Callable[..., Dataset]] = {"cifar10": load_cifar10, "fashion-mnist": load_fashion_mnist}


def load_tensors(
    dataset: str = "cifar10",
    split: str = "train",
    *,
    per_class: int | None = None,
    seed: int = 0,
    root: str | os.PathLike[str] | None = None,
) -> tuple[Tensor, Tensor]:
    """데이터셋 하나의 한 부분(split)을 ``uint8`` 텐서로 읽습니다. 책의 모든 실험이 이 함수로 데이터를 얻습니다.

    Args:
        dataset: ``"cifar10"`` 또는 ``"fashion-mnist"``.
        split: ``"train"`` 또는 ``"test"``.
        per_class: 클래스마다 고를 이미지 수(:func:`dataset_to_tensors`). ``None`` 이면 전부: 오프라인 사본이
            있는 곳에서는 그 사본(CIFAR-10 학습 1만 장, 테스트 5천 장), Colab 에서는 전체 데이터입니다.
        seed: 이미지를 고르는 순서의 시드.
        root: 데이터 폴더. ``None`` 이면 :func:`data_root`.

    Returns:
        ``images``: ``(N, C, H, W)`` ``uint8`` (0–255), ``labels``: ``(N,)`` ``int64``. ``per_class`` 를 주면
        클래스가 번갈아 나오는 순서입니다.

    Raises:
        ValueError: 이름이나 ``per_class`` 가 잘못되었을 때.
        RuntimeError: 데이터를 찾지도 내려받지도 못했을 때(방법을 안내합니다).
    """
    loader = DATASETS[check_choice(dataset, "dataset", tuple(DATASETS))]
    return dataset_to_tensors(loader(split, root=root), per_class=per_class, seed=seed)


def split_train_val(
    images: Tensor, labels: Tensor, val_per_class: int, *, seed: int = 0
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """학습 이미지에서 클래스마다 ``val_per_class`` 장을 검증 세트로 떼어 냅니다(겹치지 않음).

    학습률 스케줄이나 모델 선택은 이 검증 세트로 하고, 테스트 세트는 마지막 보고에만 씁니다.

    Args:
        images: ``(N, ...)`` 이미지.
        labels: ``(N,)`` 정수 레이블.
        val_per_class: 클래스마다 검증 세트로 보낼 수.
        seed: 어느 이미지를 보낼지 고르는 시드.

    Returns:
        ``(train_images, train_labels, val_images, val_labels)``. 두 부분은 원래 순서를 지킵니다.

    Raises:
        ValueError: 모양이 맞지 않거나 어떤 클래스의 이미지가 ``val_per_class`` 장 이하일 때.
    """
    check_tensor(images, "images")
    check_tensor(labels, "labels", dims=1)
    if len(images) != len(labels):
        raise ValueError(f"images 와 labels 의 개수가 다릅니다: {len(images)} != {len(labels)}")
    check_int(val_per_class, "val_per_class", minimum=1)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    is_val = torch.zeros(len(labels), dtype=torch.bool)
    for c in torch.unique(labels):
        members = order[labels[order] == c]
        if len(members) <= val_per_class:
            raise ValueError(
                f"클래스 {int(c)} 의 이미지가 {len(members)}장뿐이라 val_per_class={val_per_class} 장을 떼면 "
                "학습 세트에 남지 않습니다."
            )
        is_val[members[:val_per_class]] = True
    return images[~is_val], labels[~is_val], images[is_val], labels[is_val]


def sample_photos() -> dict[str, np.ndarray]:
    """scikit-image 에 들어 있는 실제 컬러 사진 네 장을 돌려줍니다(인터넷 불필요).

    * ``astronaut``: 우주비행사 에일린 콜린스(NASA, 퍼블릭 도메인), 512×512.
    * ``chelsea``: 고양이 첼시(CC0), 300×451.
    * ``coffee``: 커피 한 잔(CC0), 400×600.
    * ``rocket``: 팰컨 9 로켓(SpaceX, 퍼블릭 도메인), 427×640.

    Returns:
        이름 → ``(H, W, 3)`` ``uint8`` 배열.
    """
    from skimage import data as skdata

    return {name: np.ascontiguousarray(getattr(skdata, name)()) for name in ("astronaut", "chelsea", "coffee", "rocket")}
