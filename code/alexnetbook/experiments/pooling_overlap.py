"""논문 §3.4의 비교를 작게: 같은 작은 CNN 에서 겹치는 풀링(z=3, s=2)과 겹치지 않는 풀링(z=2, s=2).

논문은 ImageNet 에서 겹치는 풀링이 top-1 / top-5 오류율을 0.4% / 0.3% 낮췄고, 겹치는 풀링을 쓴
모델이 "과적합하기가 조금 더 어렵다"고 보고합니다. 여기서는 CIFAR-10 의 작은 부분집합에서 풀링 층만
바꾼 두 신경망을 같은 초기화 시드, 같은 미니배치 순서로 학습하고, 에폭마다 학습 세트와 테스트 세트의
오류율을 잽니다. 과적합 정도는 "테스트 오류율 − 학습 오류율" 간격으로 봅니다. 두 신경망이 **같은 테스트
이미지**를 보므로, 테스트 오류율의 차이는 이미지마다 짝지어 McNemar 검정으로 잡음과 견줍니다
(:class:`PairedComparison`).

이 저장소가 오프라인에서 읽는 CIFAR-10 은 원본 이미지를 JPEG 로 다시 저장한 사본이라 작은 압축 흔적이
있습니다(``$ALEXNETBOOK_DATA/cifar10-subset``). 두 신경망이 같은 이미지를 보므로 비교 자체는 공정하지만,
오류율은 원본에서 잰 값과 조금 다를 수 있습니다.

입력이 32×32(짝수)라서 z=3, s=2 에는 패딩 1을 더해야 z=2, s=2 와 출력 크기가 같아집니다
(32 → 16 → 8 → 4). AlexNet 의 55, 27, 13 은 홀수라 패딩 없이도 두 방식의 출력 크기가 같습니다.

규제(regularization: 가중치 감쇠, 드롭아웃, 데이터 증강)는 쓰지 않습니다. 과적합이 드러나야 비교가 되기 때문입니다.
시간(초)이 아니라 에폭 수를 셉니다. 같은 시드, 같은 스레드 수라면 CPU 에서 결과가 비트 단위로 같습니다.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from ..data import dataset_to_tensors, load_cifar10
from ..pooling import pooling_output_size
from ..utils import set_seed
from .common import fit_epochs, subtract_mean

__all__ = [
    "POOLINGS",
    "POOLING_LABELS",
    "PairedComparison",
    "PoolingCNN",
    "PoolingOverlapResult",
    "PoolingRun",
    "load_cifar_split",
    "run_pooling_overlap",
]

#: 비교할 풀링: 이름 → (창 크기 z, 보폭 s, 패딩 p). 32 → 16 → 8 → 4 로 두 쪽의 출력 크기가 같습니다.
POOLINGS: dict[str, tuple[int, int, int]] = {
    "overlapping": (3, 2, 1),
    "non_overlapping": (2, 2, 0),
}

#: 표와 그림에 쓸 한국어 이름.
POOLING_LABELS = {
    "overlapping": "겹치는 풀링 (z=3, s=2)",
    "non_overlapping": "겹치지 않는 풀링 (z=2, s=2)",
}


class PoolingCNN(nn.Module):
    """``[3×3 합성곱 → ReLU → 최대 풀링(z, s, p)] × 3 → 완전 연결`` 인 작은 CNN. 풀링만 바꿔 끼웁니다.

    Args:
        kernel_size: 풀링 창 크기 ``z``.
        stride: 풀링 보폭 ``s``.
        padding: 풀링 패딩 ``p`` (``-inf`` 로 덧댐).
        channels: 세 합성곱 층의 출력 채널 수.
        num_classes: 클래스 수.
        image_size: 입력 높이(= 너비).

    Shape:
        입력 ``(N, 3, image_size, image_size)``, 출력 ``(N, num_classes)``.

    Raises:
        ValueError: ``channels`` 가 양의 정수 셋이 아니거나, 풀링 설정이 잘못되었거나,
            ``image_size`` 가 세 번 풀링하기에 너무 작을 때.
    """

    def __init__(
        self,
        kernel_size: int,
        stride: int,
        padding: int = 0,
        *,
        channels: Sequence[int] = (16, 32, 64),
        num_classes: int = 10,
        image_size: int = 32,
    ) -> None:
        super().__init__()
        if len(channels) != 3 or any(isinstance(c, bool) or int(c) != c or c < 1 for c in channels):
            raise ValueError(f"channels는 양의 정수 세 개여야 합니다. 받은 값: {tuple(channels)}")
        if padding > kernel_size // 2:
            raise ValueError(f"padding은 kernel_size // 2 이하여야 합니다. 받은 값: padding={padding}, kernel_size={kernel_size}")
        blocks: OrderedDict[str, nn.Module] = OrderedDict()
        size, c_in = image_size, 3
        for i, c_out in enumerate(channels, start=1):
            blocks[f"conv{i}"] = nn.Conv2d(c_in, int(c_out), 3, padding=1)  # 크기 유지
            blocks[f"relu{i}"] = nn.ReLU(inplace=True)
            blocks[f"pool{i}"] = nn.MaxPool2d(kernel_size, stride, padding)
            size = pooling_output_size(size, kernel_size, stride, padding)  # 너무 작으면 ValueError
            c_in = int(c_out)
        self.features = nn.Sequential(blocks)
        self.feature_size = size
        self.fc = nn.Linear(c_in * size * size, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = torch.flatten(x, 1)  # (N, C, S, S) -> (N, C·S·S)
        return self.fc(x)


def load_cifar_split(
    per_class: int | None = 100,
    test_per_class: int | None = 200,
    *,
    root: str | os.PathLike[str] | None = None,
    seed: int = 0,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """CIFAR-10 학습·테스트 이미지를 읽고 학습 세트 평균 이미지를 뺀 뒤(논문 §2) 255로 나눕니다.

    255로 나누는 것은 모든 픽셀에 같은 상수를 곱하는 것뿐이라 논문의 전처리와 본질은 같습니다. 값의 범위를
    PyTorch 기본 초기화가 가정하는 1 안팎으로 맞추려는 것입니다.

    Args:
        per_class: 클래스마다 쓸 학습 이미지 수(``None`` 이면 전부).
        test_per_class: 클래스마다 쓸 테스트 이미지 수(``None`` 이면 전부).
        root: 데이터 폴더. ``None`` 이면 :func:`alexnetbook.data.data_root`.
        seed: 이미지를 고르는 순서의 시드.

    Returns:
        ``(train_images, train_labels, test_images, test_labels)``. 이미지는 ``(N, 3, 32, 32)`` float32
        (학습 세트 평균을 뺀 픽셀 값 / 255, 곧 -1과 1 사이), 레이블은 ``(N,)`` int64.
    """
    train_raw, train_labels = dataset_to_tensors(load_cifar10("train", root=root), per_class=per_class, seed=seed)
    test_raw, test_labels = dataset_to_tensors(load_cifar10("test", root=root), per_class=test_per_class, seed=seed)
    train_images, test_images, _mean = subtract_mean(train_raw, test_raw)
    return train_images / 255.0, train_labels, test_images / 255.0, test_labels


@dataclass
class PoolingRun:
    """한 (풀링, 시드) 조합의 기록. 오류율은 0–1.

    Attributes:
        pooling: :data:`POOLINGS` 의 이름.
        seed: 초기화와 미니배치 순서의 시드.
        train_errors: 에폭마다 평가 모드로 잰 학습 세트 오류율.
        test_errors: 에폭마다 잰 테스트 세트 오류율.
        test_correct: 마지막 에폭 뒤 테스트 이미지마다 맞혔는지(테스트 세트 순서). 짝지은 비교에 씁니다.
    """

    pooling: str
    seed: int
    train_errors: list[float]
    test_errors: list[float]
    test_correct: list[bool] = field(default_factory=list)

    @property
    def gap(self) -> float:
        """마지막 에폭의 "테스트 오류율 − 학습 오류율"(클수록 과적합)."""
        return self.test_errors[-1] - self.train_errors[-1]


@dataclass
class PairedComparison:
    """같은 시드, 같은 테스트 이미지에서 두 풀링의 마지막 테스트 결과를 이미지마다 짝지은 비교.

    두 신경망이 모두 맞히거나 모두 틀린 이미지는 차이에 기여하지 않습니다. 한쪽만 맞힌 이미지 수 ``b`` (겹치는
    풀링만 맞힘)와 ``c`` (겹치지 않는 풀링만 맞힘)가 전부입니다. 두 오류율은 같은 이미지에서 잰 것이라 서로
    독립이 아니므로, 오류율 하나의 표준오차를 두 번 쓰는 대신 이 짝지은 통계를 씁니다.

    Attributes:
        seed: 시드.
        num_test: 테스트 이미지 수 ``n``.
        only_overlapping_correct: 겹치는 풀링만 맞힌 이미지 수 ``b``.
        only_non_overlapping_correct: 겹치지 않는 풀링만 맞힌 이미지 수 ``c``.
    """

    seed: int
    num_test: int
    only_overlapping_correct: int
    only_non_overlapping_correct: int

    @property
    def error_difference(self) -> float:
        """테스트 오류율 차이 "겹침 − 겹치지 않음" ``(c − b) / n`` (음수면 겹치는 풀링이 나음)."""
        return (self.only_non_overlapping_correct - self.only_overlapping_correct) / self.num_test

    @property
    def standard_error(self) -> float:
        """짝지은 오류율 차이의 표준오차 ``sqrt(b + c − (b − c)² / n) / n``."""
        b, c, n = self.only_overlapping_correct, self.only_non_overlapping_correct, self.num_test
        return math.sqrt(max(b + c - (b - c) ** 2 / n, 0.0)) / n

    @property
    def p_value(self) -> float:
        """정확한(이항) McNemar 검정의 양측 p 값.

        두 풀링이 같은 오류율이라는 귀무가설에서는 한쪽만 맞힌 ``m = b + c`` 장이 반반의 확률로 어느 한쪽에
        속하므로 ``b ~ Binomial(m, 1/2)`` 입니다. ``p = min(1, 2 · P(X ≤ min(b, c)))``.
        """
        b, c = self.only_overlapping_correct, self.only_non_overlapping_correct
        m = b + c
        if m == 0:
            return 1.0
        tail = sum(math.comb(m, i) for i in range(min(b, c) + 1))
        return min(1.0, 2 * tail / 2**m)  # 정수끼리의 나눗셈이라 큰 m 에서도 정확히 반올림됩니다


@dataclass
class PoolingOverlapResult:
    """:func:`run_pooling_overlap` 의 결과.

    Attributes:
        runs: 모든 (풀링, 시드) 실행.
        num_train: 학습 이미지 수.
        num_test: 테스트 이미지 수.
        epochs: 에폭 수.
        lr: 학습률.
    """

    runs: list[PoolingRun]
    num_train: int
    num_test: int
    epochs: int
    lr: float

    def of(self, pooling: str) -> list[PoolingRun]:
        """한 풀링의 실행들(시드 순)."""
        return [r for r in self.runs if r.pooling == pooling]

    def test_error_standard_error(self, error: float) -> float:
        """테스트 세트가 유한해서 생기는 오류율의 표준오차 ``sqrt(p(1-p)/n)`` (이항분포 근사)."""
        return math.sqrt(error * (1 - error) / self.num_test)

    def html_table(self) -> str:
        """풀링마다, 시드마다 마지막 에폭의 학습 오류율, 테스트 오류율, 간격(%)을 HTML 표로 만듭니다(노트북과 책 표시용)."""

        def row(cells: Sequence[str], tag: str = "td") -> str:
            return "<tr>" + "".join(f'<{tag} style="text-align:right">{c}</{tag}>' for c in cells) + "</tr>"

        rows = [row(["풀링", "시드", "학습 오류율 (%)", "테스트 오류율 (%)", "간격 (%p)"], "th")]
        for name in POOLINGS:
            runs = self.of(name)
            for r in runs:
                rows.append(row([POOLING_LABELS[name], str(r.seed), f"{100 * r.train_errors[-1]:.1f}",
                                 f"{100 * r.test_errors[-1]:.1f}", f"{100 * r.gap:.1f}"]))
            train = sum(r.train_errors[-1] for r in runs) / len(runs)
            test = sum(r.test_errors[-1] for r in runs) / len(runs)
            gap = sum(r.gap for r in runs) / len(runs)
            rows.append(row([f"<b>{POOLING_LABELS[name]} 평균</b>", "", f"<b>{100 * train:.1f}</b>",
                             f"<b>{100 * test:.1f}</b>", f"<b>{100 * gap:.1f}</b>"]))
        return "<table>\n" + "\n".join(rows) + "\n</table>"

    def paired_comparisons(self) -> list[PairedComparison]:
        """시드마다 두 풀링의 마지막 테스트 결과를 이미지마다 짝지어 비교합니다(:class:`PairedComparison`).

        Raises:
            ValueError: 실행에 ``test_correct`` 가 없을 때(직접 만든 :class:`PoolingRun`).
        """
        other = {r.seed: r for r in self.of("non_overlapping")}
        comparisons = []
        for run in self.of("overlapping"):
            if run.seed not in other:
                continue
            mate = other[run.seed]
            if len(run.test_correct) != self.num_test or len(mate.test_correct) != self.num_test:
                raise ValueError(f"시드 {run.seed} 의 test_correct 가 테스트 이미지 {self.num_test} 장과 맞지 않습니다.")
            pairs = list(zip(run.test_correct, mate.test_correct))
            comparisons.append(PairedComparison(
                seed=run.seed,
                num_test=self.num_test,
                only_overlapping_correct=sum(a and not b for a, b in pairs),
                only_non_overlapping_correct=sum(b and not a for a, b in pairs),
            ))
        return comparisons

    def differences(self) -> list[tuple[int, float, float]]:
        """시드마다 (시드, 테스트 오류율 차이, 간격 차이). 차이는 겹침 − 겹치지 않음(음수면 겹침이 나음)."""
        other = {r.seed: r for r in self.of("non_overlapping")}
        return [
            (r.seed, r.test_errors[-1] - other[r.seed].test_errors[-1], r.gap - other[r.seed].gap)
            for r in self.of("overlapping") if r.seed in other
        ]


@torch.no_grad()
def _correct(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 1000) -> list[bool]:
    """평가 모드에서 이미지마다 top-1 으로 맞혔는지. :func:`~.common.error_rate` 와 같은 배치로 나눕니다."""
    model.eval()
    hits = [model(images[i:i + batch_size]).topk(1, dim=1).indices[:, 0] == labels[i:i + batch_size]
            for i in range(0, len(images), batch_size)]
    return torch.cat(hits).tolist()


def _train_one(
    name: str,
    seed: int,
    train_x: Tensor,
    train_y: Tensor,
    test_x: Tensor,
    test_y: Tensor,
    *,
    epochs: int,
    lr: float,
    momentum: float,
    batch_size: int,
    channels: Sequence[int],
    device: torch.device,
    verbose: bool,
) -> PoolingRun:
    """풀링 ``name`` 의 신경망 하나를 시드 ``seed`` 로 만들어 학습하고 에폭별 오류율을 기록합니다."""
    z, s, p = POOLINGS[name]
    set_seed(seed)
    model = PoolingCNN(z, s, p, channels=channels, num_classes=int(train_y.max()) + 1, image_size=train_x.shape[-1])
    model.to(device)
    history = fit_epochs(
        model, train_x, train_y, epochs=epochs, lr=lr, momentum=momentum, batch_size=batch_size, seed=seed,
        eval_sets={"train": (train_x, train_y), "test": (test_x, test_y)},
    )
    run = PoolingRun(name, seed, [h.errors["train"] for h in history], [h.errors["test"] for h in history],
                     _correct(model, test_x, test_y))
    if verbose:
        print(f"{POOLING_LABELS[name]}, 시드 {seed}: 학습 {100 * run.train_errors[-1]:.1f}%, "
              f"테스트 {100 * run.test_errors[-1]:.1f}%")
    return run


def run_pooling_overlap(
    *,
    per_class: int | None = 100,
    test_per_class: int | None = 200,
    epochs: int = 14,
    seeds: Sequence[int] = (0, 1),
    lr: float = 0.03,
    batch_size: int = 32,
    momentum: float = 0.9,
    channels: Sequence[int] = (16, 32, 64),
    root: str | os.PathLike[str] | None = None,
    device: str | torch.device = "cpu",
    data: tuple[Tensor, Tensor, Tensor, Tensor] | None = None,
    threads: int | None = 1,
    verbose: bool = False,
) -> PoolingOverlapResult:
    """두 풀링 설정을 시드마다 같은 조건으로 학습하고 에폭별 학습·테스트 오류율을 돌려줍니다.

    초기화는 PyTorch 기본값입니다. 논문 §5의 N(0, 0.01²) 초기화는 이 작은 신경망과 짧은 학습에서 학습이 느리고
    불안정해, 과적합이 드러나기 전에 에폭 예산이 끝납니다. 풀링 층에는 매개변수가 없으므로, 같은 시드의 두
    신경망은 **같은 초기 가중치**와 **같은 미니배치 순서**로 시작합니다. 다른 것은 풀링 창 크기(와 그에 맞춘
    패딩)뿐입니다.

    Args:
        per_class: 클래스마다 쓸 학습 이미지 수(``None`` 이면 전부, Colab 에서는 5만 장).
        test_per_class: 클래스마다 쓸 테스트 이미지 수.
        epochs: 에폭 수.
        seeds: 반복할 시드들. 시드 사이의 차이가 곧 잡음의 크기입니다.
        lr: 학습률(모멘텀 SGD).
        batch_size: 미니배치 크기(논문 §5는 128. 학습 이미지가 적어 에폭당 갱신 횟수를 늘리려고 32).
        momentum: 모멘텀(논문 §5는 0.9).
        channels: :class:`PoolingCNN` 의 합성곱 채널 수.
        root: 데이터 폴더.
        device: 학습 장치. 결과가 비트 단위로 재현되는 것은 CPU 에서입니다.
        data: 이미 전처리한 ``(train_x, train_y, test_x, test_y)``. 주면 CIFAR-10 을 읽지 않습니다(테스트용).
        threads: 학습하는 동안 쓸 PyTorch CPU 스레드 수(끝나면 원래대로 돌려놓음). 기본 1: 이 작은 신경망은
            스레드를 늘려도 별로 빨라지지 않고, 다른 작업과 CPU 를 나눠 쓸 때는 오히려 크게 느려지며,
            스레드 수가 같아야 결과가 비트 단위로 같기 때문입니다. ``None`` 이면 지금 설정을 그대로 씁니다.
        verbose: 실행마다 한 줄씩 출력할지 여부.

    Returns:
        :class:`PoolingOverlapResult`.

    Raises:
        ValueError: ``epochs`` 가 1보다 작거나 ``seeds`` 가 비었거나 ``threads`` 가 1보다 작을 때.
    """
    if epochs < 1:
        raise ValueError(f"epochs는 1 이상이어야 합니다. 받은 값: {epochs}")
    if not seeds:
        raise ValueError("seeds에 시드가 하나 이상 있어야 합니다.")
    if threads is not None and threads < 1:
        raise ValueError(f"threads는 1 이상이거나 None 이어야 합니다. 받은 값: {threads}")
    if data is None:
        data = load_cifar_split(per_class, test_per_class, root=root)
    device = torch.device(device)
    train_x, train_y, test_x, test_y = (t.to(device) for t in data)
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        runs = [_train_one(name, seed, train_x, train_y, test_x, test_y, epochs=epochs, lr=lr, momentum=momentum,
                           batch_size=batch_size, channels=channels, device=device, verbose=verbose)
                for seed in seeds for name in POOLINGS]
    finally:
        torch.set_num_threads(previous_threads)
    return PoolingOverlapResult(runs, len(train_x), len(test_x), epochs, lr)
