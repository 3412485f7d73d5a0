"""장들의 작은 비교 실험이 함께 쓰는 작은 CNN 하나.

구조는 ``[합성곱(k×k, 같은 크기 패딩) → 활성화 함수 → 최대 풀링(z, s, p)] × 3 → 완전 연결`` 입니다.
학습되는 층이 넷(합성곱 3 + 완전 연결 1)이므로 ReLU 장의 "네 층 CNN"(논문 그림 1; 논문은 세부 구조를
밝히지 않았으므로 층 수만 맞춘 신경망)이고, 풀링 장은 같은 신경망에서 풀링만 바꿔 끼웁니다.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .checks import check_choice, check_int
from .shapes import pooling_output_size

__all__ = ["ACTIVATION_MODULES", "SmallCNN"]

#: 활성화 함수 이름 → PyTorch 내장 모듈(빠름). :mod:`alexnetbook.activations` 의 직접 구현과 float64 에서
#: 같은 값을 낸다는 것은 ``tests/test_activations.py`` 가 확인합니다.
ACTIVATION_MODULES: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


class SmallCNN(nn.Module):
    """``[conv → 활성화 → 최대 풀링] × 3 → fc4`` 인 작은 CNN. 활성화 함수와 풀링을 바꿔 끼웁니다.

    층 이름은 ``features.conv1``, ``features.act1``, ``features.pool1``, …, ``fc4`` 입니다.

    Args:
        activation: ``"relu"``, ``"tanh"``, ``"sigmoid"`` 중 하나.
        pool: 최대 풀링의 ``(창 크기 z, 보폭 s, 패딩 p)``. 기본 ``(2, 2, 0)`` 은 겹치지 않는 2×2 풀링.
        channels: 세 합성곱 층의 출력 채널 수.
        kernel_size: 합성곱 커널 크기(홀수; 패딩 ``k // 2`` 로 크기를 유지).
        in_channels: 입력 채널 수(CIFAR-10 은 3, Fashion-MNIST 는 1).
        image_size: 입력 높이(= 너비).
        num_classes: 클래스 수.

    Shape:
        입력 ``(N, in_channels, image_size, image_size)``, 출력 ``(N, num_classes)``.

    Raises:
        TypeError: 정수 인자에 다른 타입이 올 때.
        ValueError: 이름이 알 수 없거나, 값이 범위를 벗어나거나, ``image_size`` 가 세 번 풀링하기에 너무 작을 때.
    """

    def __init__(
        self,
        activation: str = "relu",
        *,
        pool: Sequence[int] = (2, 2, 0),
        channels: Sequence[int] = (16, 16, 32),
        kernel_size: int = 3,
        in_channels: int = 3,
        image_size: int = 32,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        check_choice(activation, "activation", tuple(ACTIVATION_MODULES))
        channels = tuple(channels)
        if len(channels) != 3:
            raise ValueError(f"channels는 양의 정수 세 개여야 합니다. 받은 값: {channels}")
        channels = tuple(check_int(c, f"channels[{i}]", minimum=1) for i, c in enumerate(channels))
        check_int(kernel_size, "kernel_size", minimum=1)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size는 양의 홀수여야 합니다(같은 크기 패딩). 받은 값: {kernel_size}")
        check_int(in_channels, "in_channels", minimum=1)
        check_int(image_size, "image_size", minimum=1)
        check_int(num_classes, "num_classes", minimum=2)
        pool = tuple(pool)
        if len(pool) != 3:
            raise ValueError(f"pool은 (창 크기, 보폭, 패딩) 세 정수여야 합니다. 받은 값: {pool}")
        z, s, p = (check_int(pool[0], "pool[0]", minimum=1), check_int(pool[1], "pool[1]", minimum=1),
                   check_int(pool[2], "pool[2]", minimum=0))
        if p > z // 2:
            raise ValueError(f"pool 의 패딩은 창 크기의 절반 이하여야 합니다. 받은 값: pool={pool}")
        self.activation = activation
        self.pool = (z, s, p)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        size, c_in = image_size, in_channels
        for i, c_out in enumerate(channels, start=1):
            layers[f"conv{i}"] = nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2)
            layers[f"act{i}"] = ACTIVATION_MODULES[activation]()
            layers[f"pool{i}"] = nn.MaxPool2d(z, s, p)
            size = pooling_output_size(size, z, s, p)  # 너무 작으면 ValueError
            c_in = c_out
        self.features = nn.Sequential(layers)
        self.flat_features = c_in * size * size
        self.fc4 = nn.Linear(self.flat_features, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = torch.flatten(x, 1)  # (N, C, S, S) -> (N, C*S*S)
        return self.fc4(x)
