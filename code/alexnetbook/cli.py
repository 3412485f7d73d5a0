"""``python -m alexnetbook.train``: GPU 가 있는 독자를 위한 학습 명령줄 도구.

오프라인 CIFAR-10 사본, torchvision 으로 내려받는 CIFAR-10 전체, ImageFolder 폴더(Imagenette, ImageNet 등)를
:func:`alexnetbook.train.fit` (논문 §5의 방법)으로 학습합니다. 에폭마다 체크포인트를 저장하고 ``--resume`` 으로
이어서 학습합니다. CIFAR-10 은 학습 이미지의 10%를 검증 세트로 떼어 학습률 스케줄에 쓰고, 테스트 세트는
건드리지 않습니다.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from torch import Tensor, nn
from torch.utils.data import Dataset
from torchvision import datasets

from .augment import alexnet_test_transform, alexnet_train_transform, cifar_transforms
from .batches import TensorImageDataset
from .data import data_root, load_tensors, split_train_val
from .models import AlexNet, init_paper_
from .train import CHECKPOINT_NAME, PRESETS, TrainConfig, fit
from .utils import get_device, set_seed

__all__ = ["main"]


def _cifar_tensors(dataset_name: str, data_dir: str | None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(학습 이미지, 학습 레이블, 검증 이미지, 검증 레이블). CIFAR-10 에는 따로 된 검증 세트가 없으므로, 학습
    이미지에서 클래스마다 10%를 떼어 검증 세트로 씁니다(테스트 세트는 학습률 스케줄에 쓰지 않습니다)."""
    root = Path(data_dir).expanduser() if data_dir is not None else data_root()
    offline = (root / "cifar10-subset" / "train").is_dir()
    if dataset_name == "cifar10-offline" and not offline:
        raise RuntimeError(f"오프라인 CIFAR-10 사본({root / 'cifar10-subset'})을 찾지 못했습니다.")
    if dataset_name == "cifar10" and offline:
        raise RuntimeError(f"{root} 에 오프라인 사본이 있어 전체 CIFAR-10 을 읽지 않습니다. --data-dir 로 다른 폴더를 주세요.")
    images, labels = load_tensors("cifar10", "train", root=root)
    per_class = max(1, len(labels) // 10 // 10)  # 클래스마다 10%(적어도 한 장)
    return split_train_val(images, labels, per_class, seed=0)


def _build_data(args: argparse.Namespace) -> tuple[Dataset, Dataset, int, str]:
    """명령줄 인자로 (학습 Dataset, 검증 Dataset, 클래스 수, 데이터 종류)를 만듭니다."""
    kind = args.dataset
    if kind == "auto":
        root = Path(args.data_dir).expanduser() if args.data_dir else data_root()
        kind = "cifar10-offline" if (root / "cifar10-subset" / "train").is_dir() else "cifar10"
    if kind in ("cifar10-offline", "cifar10"):
        train_x, train_y, val_x, val_y = _cifar_tensors(kind, args.data_dir)
        tf = cifar_transforms(train_x.float().mean(dim=0))  # (N, 3, 32, 32) -> (3, 32, 32) 학습 세트 평균 이미지
        val_tf = tf["ten_crop" if args.ten_crop else "center"]
        return TensorImageDataset(train_x, train_y, tf["train"]), TensorImageDataset(val_x, val_y, val_tf), 10, kind
    if not args.data_dir:
        raise SystemExit("--dataset folder 에는 --data-dir 이 필요합니다(train/ 과 val/ 하위 폴더가 있는 폴더).")
    root = Path(args.data_dir).expanduser()
    for split in ("train", "val"):
        if not (root / split).is_dir():
            raise SystemExit(f"{root / split} 폴더가 없습니다. --data-dir 아래에 train/<클래스>/ 와 val/<클래스>/ 가 필요합니다.")
    train = datasets.ImageFolder(str(root / "train"), transform=alexnet_train_transform())
    val = datasets.ImageFolder(str(root / "val"), transform=alexnet_test_transform(ten_crop=args.ten_crop))
    return train, val, len(train.classes), kind


def _build_model(args: argparse.Namespace, num_classes: int, kind: str) -> nn.Module:
    if kind == "folder":
        model = AlexNet(num_classes=num_classes, groups=args.groups)
    else:
        model = AlexNet.for_cifar(num_classes=num_classes, groups=args.groups, pool_output_size=2)
    if args.init == "paper":
        init_paper_(model)
    return model


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m alexnetbook.train",
        description=(
            "AlexNet 을 논문 §5의 방법(모멘텀 0.9, 가중치 감쇠 5e-4, 배치 128, 학습률 0.01 을 정체 때마다 "
            "10으로 나누기)으로 학습합니다. 에폭마다 <checkpoint-dir>/last.pt 에 체크포인트를 저장하고, "
            "--resume 으로 이어서 학습합니다."
        ),
        epilog=(
            "예: python -m alexnetbook.train --preset tiny  (CPU 에서 빠르게 확인: 512장, 2 에폭)\n"
            "    python -m alexnetbook.train --dataset cifar10 --device cuda --epochs 30 --workers 4\n"
            "    python -m alexnetbook.train --dataset folder --data-dir ~/data/imagenette2 --device cuda "
            "--workers 8 --groups 2"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--preset", choices=sorted(PRESETS), default="paper",
                   help="기본 설정: paper(논문 §5, 90 에폭) 또는 tiny(512장, 2 에폭). 아래 옵션이 덮어씁니다.")
    p.add_argument("--dataset", choices=("auto", "cifar10-offline", "cifar10", "folder"), default="auto",
                   help="auto: 오프라인 사본이 있으면 그것, 없으면 cifar10. cifar10-offline: $ALEXNETBOOK_DATA/"
                        "cifar10-subset 의 JPEG 사본(10,000 + 5,000장). cifar10: torchvision 으로 전체 CIFAR-10 "
                        "(50,000 + 10,000장)을 내려받음. folder: --data-dir 의 train/, val/ ImageFolder "
                        "(Imagenette, ImageNet 등; 224 입력의 AlexNet).")
    p.add_argument("--data-dir", default=None,
                   help="데이터 폴더. folder 이면 train/ 과 val/ 이 있는 폴더(ImageNet 검증 세트는 클래스별 하위 "
                        "폴더로 정리해야 함). CIFAR-10 이면 찾거나 내려받을 곳(기본 $ALEXNETBOOK_DATA 또는 "
                        "~/.cache/alexnetbook).")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps 등. 기본: 쓸 수 있는 가장 빠른 장치.")
    p.add_argument("--epochs", type=int, default=None, help="총 에폭 수(이어서 학습할 때도 총 에폭 수).")
    p.add_argument("--batch-size", type=int, default=None, help="미니배치 크기(논문 128).")
    p.add_argument("--lr", type=float, default=None, help="처음 학습률(논문 0.01).")
    p.add_argument("--weight-decay", type=float, default=None, help="가중치 감쇠(논문 5e-4).")
    p.add_argument("--patience", type=int, default=None,
                   help="검증 top-1 오류율이 정체된 에폭이 이 수를 넘어 이어지면(patience + 1 에폭 연속 정체) "
                        "학습률 ÷10. 예: 1이면 두 에폭 연속 정체 때. 기본: paper 3, tiny 1.")
    p.add_argument("--train-subset", type=int, default=None, help="학습 세트에서 이만큼만 씀.")
    p.add_argument("--val-subset", type=int, default=None, help="검증 세트에서 이만큼만 씀.")
    p.add_argument("--groups", type=int, choices=(1, 2), default=1,
                   help="1: 한 타워, 2: 논문의 두 GPU 구조(conv2, conv4, conv5 를 묶음 합성곱으로).")
    p.add_argument("--init", choices=("paper", "pytorch"), default="pytorch",
                   help="pytorch(기본): PyTorch 기본 초기화. paper: 논문 §5의 N(0, 0.01²) 가중치와 1/0 편향 "
                        "(CIFAR 축소판에서는 출력이 입력과 거의 무관해져 학습이 시작되지 않습니다; 책의 학습 장).")
    p.add_argument("--ten-crop", action="store_true", help="검증을 10개 조각의 소프트맥스 평균으로(논문 §4.1).")
    p.add_argument("--workers", type=int, default=None, help="DataLoader 작업 프로세스 수(GPU 에서는 4–8 권장).")
    p.add_argument("--seed", type=int, default=None, help="난수 시드.")
    p.add_argument("--checkpoint-dir", default="checkpoints/alexnet", help="체크포인트 폴더(기본 %(default)s).")
    p.add_argument("--resume", action="store_true", help="<checkpoint-dir>/last.pt 에서 이어서 학습.")
    p.add_argument("--no-progress", action="store_true", help="tqdm 진행 막대를 끔.")
    return p


def _used_size(data: Dataset, subset: int | None) -> str:
    """:func:`fit` 이 실제로 쓰는 장 수(``subset`` 이 있으면 그만큼, :func:`alexnetbook.train.fit` 과 같은 규칙)."""
    total = len(data)  # type: ignore[arg-type]
    used = total if subset is None else min(subset, total)
    return f"{used:,}장" if used == total else f"{used:,}장(전체 {total:,}장 중)"


def main(argv: Sequence[str] | None = None) -> int:
    """명령줄 진입점. ``python -m alexnetbook.train --help`` 를 보세요."""
    args = _parser().parse_args(argv)
    overrides = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "weight_decay": args.weight_decay,
        "plateau_patience": args.patience,
        "train_subset": args.train_subset,
        "val_subset": args.val_subset,
        "num_workers": args.workers,
        "seed": args.seed,
    }
    config = TrainConfig.preset(
        args.preset,
        **{k: v for k, v in overrides.items() if v is not None},
        device=args.device,
        checkpoint_dir=args.checkpoint_dir,
        resume=args.resume,
        progress=not args.no_progress,
    )
    set_seed(config.seed)  # 모델 초기화도 재현되게
    train_data, val_data, num_classes, kind = _build_data(args)
    model = _build_model(args, num_classes, kind)
    print(f"데이터 {kind}: 학습 {_used_size(train_data, config.train_subset)}, "
          f"검증 {_used_size(val_data, config.val_subset)}, {num_classes}개 클래스; "
          f"장치 {get_device(config.device)}; 설정 {config}", flush=True)
    history = fit(model, train_data, val_data, config)
    if history:
        last = history[-1]
        print(f"마지막 에폭 {int(last['epoch'])}: 검증 top-1 오류율 {100 * last['val_top1']:.1f}%, "
              f"top-5 {100 * last['val_top5']:.1f}%. 체크포인트: {Path(config.checkpoint_dir) / CHECKPOINT_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
