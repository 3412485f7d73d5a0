"""JAX/Flax NNX 로 쓴 AlexNet: :class:`alexnetbook.models.AlexNet` 과 같은 구조, 같은 가중치, 같은 로짓.

* :class:`AlexNet`: 구조는 PyTorch 모델과 같은 설정 :class:`alexnetbook.models.AlexNetConfig` 하나로 정합니다
  (한 타워 ``groups=1``, 논문의 두 타워 ``groups=2``, LRN 관례, 드롭아웃 방식까지). 층 이름(conv1 … conv5,
  fc6 … fc8)도 같습니다. 입력은 JAX 에서 흔한 **NHWC** ``(N, H, W, 3)`` 이고, PyTorch 의 NCHW 배치는
  경계에서 :func:`nchw_to_nhwc` 로 한 번 바꿔 넘깁니다.
* :func:`load_torch_state_dict`: PyTorch ``state_dict`` 를 옮깁니다. 합성곱 커널은 OIHW → HWIO,
  ``Linear`` 가중치는 전치하고, fc6 은 펼치는 순서(PyTorch 는 C, H, W; 여기서는 H, W, C)까지 맞춥니다.
* :func:`local_response_norm`, :func:`adaptive_avg_pool2d`: 채널이 마지막 축인 배열용 LRN(논문 §3.3)과
  ``torch.nn.AdaptiveAvgPool2d`` 와 같은 구간 규칙의 적응형 평균 풀링.

학습(optax SGD, 키를 받는 증강, ``nnx.jit`` 학습 스텝)과 평가는 :mod:`alexnetbook.flax_train` 에 있습니다.

이 모듈과 :mod:`alexnetbook.flax_train` 만 jax, flax 를 불러옵니다(``pip install "alexnet-book[jax]"``).
``import alexnetbook`` 은 두 모듈을 불러오지 않습니다. ``nnx.view`` 를 쓰므로 Flax 0.12.4 이상이 필요합니다.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import torch
from flax import nnx
from jax import lax

from .adaptive_pooling import adaptive_bins
from .checks import check_int, check_tensor, check_type
from .lrn import _check_args
from .models import AlexNet as TorchAlexNet
from .models import AlexNetConfig

__all__ = [
    "AlexNet",
    "TORCH_LAYER_NAMES",
    "adaptive_avg_pool2d",
    "count_params",
    "load_torch_state_dict",
    "local_response_norm",
    "nchw_to_nhwc",
]

#: PyTorch ``AlexNet`` 의 ``state_dict`` 접두사 → 이 모듈의 층 이름.
TORCH_LAYER_NAMES = {
    "features.conv1": "conv1",
    "features.conv2": "conv2",
    "features.conv3": "conv3",
    "features.conv4": "conv4",
    "features.conv5": "conv5",
    "classifier.fc6": "fc6",
    "classifier.fc7": "fc7",
    "classifier.fc8": "fc8",
}


def nchw_to_nhwc(images: torch.Tensor) -> np.ndarray:
    """PyTorch 의 ``(N, C, H, W)`` 이미지 텐서를 이 모듈이 받는 ``(N, H, W, C)`` NumPy 배열(사본)로 바꿉니다."""
    check_tensor(images, "images", dims=4)
    return images.detach().cpu().permute(0, 2, 3, 1).numpy().copy()  # (N, C, H, W) -> (N, H, W, C)


# ---------------------------------------------------------------------------------------------
# 국소 응답 정규화와 적응형 평균 풀링 (채널이 마지막 축)
# ---------------------------------------------------------------------------------------------


def local_response_norm(
    x: jax.Array,
    size: int = 5,
    alpha: float = 1e-4,
    beta: float = 0.75,
    k: float = 2.0,
    convention: str = "paper",
    groups: int = 1,
) -> jax.Array:
    """채널이 **마지막 축** 인 배열의 국소 응답 정규화. 인자와 관례는 :func:`alexnetbook.lrn.local_response_norm` 과 같습니다.

    이웃 채널의 제곱합은 채널 축을 따라 미끄러지는 합(``lax.reduce_window``)으로 구합니다.
    창이 채널 끝을 넘어가는 부분은 0으로 패딩하므로, 있는 채널만 더한 것과 같습니다.

    Args:
        x: ``(N, H, W, C)`` 또는 ``(N, L, C)`` 배열.
        size: 합하는 이웃 채널 수 ``n``.
        alpha: 배율 ``α``. ``convention="torch"`` 이면 ``α / n`` 으로 씁니다.
        beta: 지수 ``β``.
        k: 더하는 상수 ``k``.
        convention: ``"paper"`` (논문에 인쇄된 식, 창 ``[c - n//2, c + n//2]``) 또는
            ``"torch"`` (``α / n``, 창 ``[c - n//2, c + (n-1)//2]``).
        groups: 채널을 연속한 ``groups`` 묶음으로 나눠 묶음 안에서만 이웃을 셉니다.

    Returns:
        ``x`` 와 같은 모양과 dtype 의 배열. 제곱합은 float32 이상에서 누적합니다.

    Raises:
        TypeError, ValueError: 인자가 잘못되었을 때, ``x`` 가 3, 4차원이 아니거나 ``C`` 가 ``groups`` 로
            나누어떨어지지 않을 때.
    """
    _check_args(size, alpha, beta, k, convention, groups)
    x = jnp.asarray(x)
    if x.ndim not in (3, 4):
        raise ValueError(f"x는 (N, H, W, C) 또는 (N, L, C) 모양이어야 합니다. 받은 모양: {x.shape}")
    c = x.shape[-1]
    if c % groups:
        raise ValueError(f"x의 채널 수(마지막 축) {c}가 groups={groups}로 나누어떨어지지 않습니다.")
    if convention == "paper":
        before, after, scale = size // 2, size // 2, alpha
    else:
        before, after, scale = size // 2, (size - 1) // 2, alpha / size
    acc_dtype = jnp.promote_types(x.dtype, jnp.float32)
    xa = x.astype(acc_dtype)
    sq = (xa * xa).reshape(*x.shape[:-1], groups, c // groups)  # (..., C) -> (..., G, C/G)
    window = lax.reduce_window(
        sq,
        np.zeros((), acc_dtype),  # 상수 0 이어야 JAX 가 미분 가능한 "창 합"으로 알아봅니다
        lax.add,
        window_dimensions=(1,) * (sq.ndim - 1) + (before + after + 1,),
        window_strides=(1,) * sq.ndim,
        padding=((0, 0),) * (sq.ndim - 1) + ((before, after),),
    )
    window = window.reshape(x.shape)  # (..., G, C/G) -> (..., C)
    return (xa / (k + scale * window) ** beta).astype(x.dtype)


def _adaptive_pool_matrix(in_size: int, out_size: int) -> np.ndarray:
    """``(out_size, in_size)`` 평균 행렬. 행 i 는 PyTorch 와 같은 구간 ``[⌊i·in/out⌋, ⌈(i+1)·in/out⌉)`` 의 평균입니다."""
    matrix = np.zeros((out_size, in_size))
    for i, (start, end) in enumerate(adaptive_bins(in_size, out_size)):
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def adaptive_avg_pool2d(x: jax.Array, output_size: int | tuple[int, int]) -> jax.Array:
    """NHWC 배열의 적응형 평균 풀링. ``torch.nn.AdaptiveAvgPool2d`` 와 같은 구간을 평균합니다.

    구간이 입력 크기로 정해지므로, 높이와 너비에 평균 행렬을 하나씩 곱하는 것으로 씁니다.
    입력이 이미 ``output_size`` 이면 두 행렬이 단위 행렬이어서 값이 그대로 나옵니다(224 입력의 AlexNet).

    Args:
        x: ``(N, H, W, C)`` 배열.
        output_size: ``S`` 또는 ``(S_h, S_w)``.

    Returns:
        ``(N, S_h, S_w, C)`` 배열.

    Raises:
        TypeError, ValueError: ``x`` 가 4차원이 아니거나 ``output_size`` 가 양의 정수(쌍)가 아닐 때.
    """
    x = jnp.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"x는 (N, H, W, C) 모양이어야 합니다. 받은 모양: {x.shape}")
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(sizes) != 2:
        raise ValueError(f"output_size는 정수 하나 또는 두 개여야 합니다. 받은 값: {output_size!r}")
    out_h, out_w = (check_int(s, "output_size", minimum=1) for s in sizes)
    rows = jnp.asarray(_adaptive_pool_matrix(x.shape[1], out_h), dtype=x.dtype)
    cols = jnp.asarray(_adaptive_pool_matrix(x.shape[2], out_w), dtype=x.dtype)
    return jnp.einsum("ih,nhwc,jw->nijc", rows, x, cols)  # (N, H, W, C) -> (N, S_h, S_w, C)


# ---------------------------------------------------------------------------------------------
# 모델
# ---------------------------------------------------------------------------------------------


class AlexNet(nnx.Module):
    """Flax NNX 로 쓴 AlexNet. 구조는 :class:`alexnetbook.models.AlexNetConfig` 로 정하고, 층 이름과 순서가
    :class:`alexnetbook.models.AlexNet` 과 같습니다.

    conv1, conv2 뒤에 ReLU → LRN → 최대 풀링(3×3, 보폭 2), conv5 뒤에 ReLU → 최대 풀링, 그다음
    적응형 평균 풀링과 펼치기, FC6·FC7 의 ReLU 뒤에 드롭아웃이 옵니다(논문 §3.3–§3.5, §4.2).
    ``groups=2`` 이면 conv2, conv4, conv5 가 ``feature_group_count=2`` 인 묶음 합성곱입니다.

    드롭아웃은 ``nnx.Dropout`` (역드롭아웃)입니다. ``config.dropout_mode="paper"`` 이면 그 출력에 언제나
    ``1 − p`` 를 곱합니다. 학습 때는 ``1/(1 − p)`` 배율이 상쇄되어 끄기만 하고, 테스트 때는 ``×(1 − p)`` 가
    되므로 논문 §4.2 그대로입니다(:class:`alexnetbook.dropout.Dropout` 의 ``mode="paper"`` 와 같음).

    만든 직후에는 학습 모드(드롭아웃 켜짐)입니다. ``model.eval()`` / ``model.train()`` 으로 모드를 바꾸거나,
    ``nnx.view(model, deterministic=True)`` 로 매개변수를 공유하는 평가용 보기를 만듭니다. 드롭아웃 마스크의
    난수 키는 ``rngs`` 의 ``"dropout"`` 흐름(없으면 ``"default"``)에서 갈라져 모듈 안에 상태로 저장됩니다.

    Args:
        config: 구조 설정. ``None`` 이면 ``AlexNetConfig()`` (224 입력의 한 타워 AlexNet).
        param_dtype: 매개변수의 dtype(기본 float32).
        kernel_init, bias_init: 가중치와 편향의 초기화 함수(Flax 기본: LeCun 정규분포, 0). PyTorch 의
            기본 초기화와는 다릅니다. 곧바로 다른 가중치를 덮어쓸 때는 ``nnx.initializers.zeros_init()`` 이 빠릅니다.
        rngs: 매개변수 초기화(``"params"``)와 드롭아웃(``"dropout"``)에 쓸 ``nnx.Rngs``.

    Attributes:
        config: 이 모델의 :class:`AlexNetConfig`.
        min_input_size: 받을 수 있는 가장 작은 입력 한 변.

    Raises:
        TypeError: ``config`` 가 :class:`AlexNetConfig` 가 아닐 때.
    """

    def __init__(
        self,
        config: AlexNetConfig | None = None,
        *,
        param_dtype: Any = jnp.float32,
        kernel_init: nnx.Initializer = nnx.initializers.lecun_normal(),
        bias_init: nnx.Initializer = nnx.initializers.zeros_init(),
        rngs: nnx.Rngs,
    ) -> None:
        cfg = check_type(AlexNetConfig() if config is None else config, "config", AlexNetConfig)
        self.config = cfg
        self.min_input_size = cfg.min_input_size
        c1, c2, c3, c4, c5 = cfg.channels
        k1, k2, s = cfg.conv1_kernel_size, cfg.conv2_kernel_size, cfg.pool_output_size
        common = dict(param_dtype=param_dtype, kernel_init=kernel_init, bias_init=bias_init, rngs=rngs)

        def conv(cin: int, cout: int, size: int, stride: int = 1, pad: int = 0, g: int = 1) -> nnx.Conv:
            return nnx.Conv(cin, cout, (size, size), strides=(stride, stride), padding=((pad, pad), (pad, pad)),
                            feature_group_count=g, **common)

        self.conv1 = conv(3, c1, k1, cfg.conv1_stride, cfg.conv1_padding)
        self.conv2 = conv(c1, c2, k2, pad=k2 // 2, g=cfg.groups)
        self.conv3 = conv(c2, c3, 3, pad=1)  # 두 묶음(타워)을 모두 봄
        self.conv4 = conv(c3, c4, 3, pad=1, g=cfg.groups)
        self.conv5 = conv(c4, c5, 3, pad=1, g=cfg.groups)
        self.fc6 = nnx.Linear(c5 * s * s, cfg.hidden_features, **common)
        self.drop6 = nnx.Dropout(cfg.dropout, rngs=rngs)
        self.fc7 = nnx.Linear(cfg.hidden_features, cfg.hidden_features, **common)
        self.drop7 = nnx.Dropout(cfg.dropout, rngs=rngs)
        self.fc8 = nnx.Linear(cfg.hidden_features, cfg.num_classes, **common)

    @classmethod
    def for_cifar(cls, *, rngs: nnx.Rngs, **overrides: Any) -> AlexNet:
        """32×32 이미지용 **축소판** (:meth:`AlexNetConfig.cifar`). AlexNet 과 구조는 같지만 AlexNet 은 아닙니다.

        ``param_dtype``, ``kernel_init``, ``bias_init`` 는 생성자로, 나머지 ``overrides`` 는
        :meth:`AlexNetConfig.cifar` 로 넘깁니다.
        """
        flax_kwargs = {k: overrides.pop(k) for k in ("param_dtype", "kernel_init", "bias_init") if k in overrides}
        return cls(AlexNetConfig.cifar(**overrides), **flax_kwargs, rngs=rngs)

    @classmethod
    def from_torch(cls, torch_model: TorchAlexNet, *, rngs: nnx.Rngs) -> AlexNet:
        """PyTorch :class:`alexnetbook.models.AlexNet` 과 설정(``torch_model.config``)과 가중치가 같은 모델을 만듭니다.

        매개변수는 PyTorch 가중치와 같은 dtype 의 0으로 만든 뒤(난수 초기화를 건너뜀)
        :func:`load_torch_state_dict` 로 채웁니다. 학습/평가 모드는 옮기지 않습니다(만든 직후는 학습 모드).

        Raises:
            TypeError: ``torch_model`` 이 :class:`alexnetbook.models.AlexNet` 이 아닐 때.
        """
        check_type(torch_model, "torch_model", TorchAlexNet)
        dtype = torch_model.features.conv1.bias.detach().cpu().numpy().dtype  # float64 모델이면 float64
        model = cls(torch_model.config, param_dtype=dtype, kernel_init=nnx.initializers.zeros_init(), rngs=rngs)
        return load_torch_state_dict(model, torch_model.state_dict())

    def __call__(self, x: jax.Array) -> jax.Array:
        """``(N, H, W, 3)`` NHWC 이미지를 ``(N, num_classes)`` 로짓으로 바꿉니다.

        Raises:
            ValueError: ``x`` 가 4차원이 아니거나, 마지막 축이 3(RGB)이 아니거나(NCHW 를 넘긴 경우 등),
                ``H`` 나 ``W`` 가 ``min_input_size`` 보다 작을 때.
        """
        if x.ndim != 4:
            raise ValueError(f"x는 (N, H, W, 3) NHWC 모양이어야 합니다. 받은 모양: {x.shape}")
        if x.shape[-1] != 3:
            raise ValueError(
                f"x는 채널이 마지막인 (N, H, W, 3)이어야 합니다. 받은 모양: {x.shape}. "
                "PyTorch의 (N, 3, H, W) 배치는 x.transpose(0, 2, 3, 1)로 바꿔 넘기세요."
            )
        if min(x.shape[1], x.shape[2]) < self.min_input_size:
            raise ValueError(
                f"x의 높이와 너비는 {self.min_input_size} 이상이어야 합니다(이 신경망의 최소 입력 크기). "
                f"받은 크기: {x.shape[1]}×{x.shape[2]}"
            )
        cfg = self.config

        def pool(h: jax.Array) -> jax.Array:
            return nnx.max_pool(h, window_shape=(3, 3), strides=(2, 2), padding="VALID")

        def norm(h: jax.Array) -> jax.Array:  # 논문 §3.3의 n=5, α=1e-4, β=0.75, k=2 (PyTorch 모델과 같음)
            return local_response_norm(h, 5, 1e-4, 0.75, 2.0, cfg.lrn_convention, cfg.groups) if cfg.lrn else h

        def drop(layer: nnx.Dropout, h: jax.Array) -> jax.Array:
            return layer(h) * (1.0 - cfg.dropout) if cfg.dropout_mode == "paper" else layer(h)

        x = pool(norm(nnx.relu(self.conv1(x))))
        x = pool(norm(nnx.relu(self.conv2(x))))
        x = nnx.relu(self.conv3(x))
        x = nnx.relu(self.conv4(x))
        x = pool(nnx.relu(self.conv5(x)))
        x = adaptive_avg_pool2d(x, cfg.pool_output_size)
        x = x.reshape(x.shape[0], -1)  # (N, S, S, C) -> (N, S*S*C): H, W, C 순서로 펼침
        x = drop(self.drop6, nnx.relu(self.fc6(x)))
        x = drop(self.drop7, nnx.relu(self.fc7(x)))
        return self.fc8(x)


def count_params(model: nnx.Module) -> int:
    """``nnx.Param`` 의 원소 수 합계. ``nnx.eval_shape`` 로 만든 (값이 없는) 모델에도 쓸 수 있습니다."""
    return sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(nnx.state(model, nnx.Param)))


# ---------------------------------------------------------------------------------------------
# PyTorch 가중치 옮기기
# ---------------------------------------------------------------------------------------------


def _to_numpy(value: Any) -> np.ndarray:
    """배열 **사본**. CPU 의 ``jnp.asarray`` 는 NumPy 메모리를 복사 없이 쓸 수 있어서, 사본이 아니면
    PyTorch 쪽에서 가중치를 제자리에서 바꿀 때(``optimizer.step()``) Flax 모델 값까지 바뀔 수 있습니다."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.array(value, copy=True)


def _check_shape(key: str, array: np.ndarray, shape: tuple[int, ...]) -> None:
    if tuple(array.shape) != tuple(shape):
        raise ValueError(f"{key}의 모양은 {tuple(shape)}이어야 합니다(모델 설정 기준). 받은 모양: {tuple(array.shape)}")


def load_torch_state_dict(model: AlexNet, state_dict: Mapping[str, Any]) -> AlexNet:
    """PyTorch :class:`alexnetbook.models.AlexNet` 의 ``state_dict`` 를 Flax 모델로 옮깁니다(제자리에서).

    * 합성곱 커널: PyTorch ``(out, in/groups, kH, kW)`` (OIHW) → Flax ``(kH, kW, in/groups, out)`` (HWIO).
      묶음 합성곱도 두 라이브러리 모두 출력 채널을 연속한 묶음으로 나누므로 같은 전치면 됩니다.
    * ``Linear``: PyTorch ``(out, in)`` → Flax ``(in, out)``.
    * fc6: PyTorch 는 ``(N, C, S, S)`` 를 C, H, W 순서로 펼치고, 이 모델은 ``(N, S, S, C)`` 를 H, W, C
      순서로 펼칩니다. 그래서 fc6 가중치의 입력 축을 ``(C, S, S)`` → ``(S, S, C)`` 로 재배열합니다.

    값은 모델 매개변수의 dtype 으로 바꿔 넣습니다. ``nnx.eval_shape`` 로 만든 모델에도 쓸 수 있습니다.

    Args:
        model: 같은 설정으로 만든 :class:`AlexNet`.
        state_dict: ``features.conv1.weight`` … ``classifier.fc8.bias`` 열여섯 개를 담은 매핑.
            값은 ``torch.Tensor`` 또는 NumPy 배열.

    Returns:
        같은 ``model``.

    Raises:
        TypeError: ``model`` 이 :class:`AlexNet` 이 아닐 때.
        ValueError: 키가 빠졌거나 남을 때, 모양이 설정과 다를 때(기대한 모양을 알려 줍니다).
    """
    check_type(model, "model", AlexNet)
    expected = {f"{prefix}.{p}" for prefix in TORCH_LAYER_NAMES for p in ("weight", "bias")}
    missing, unexpected = sorted(expected - set(state_dict)), sorted(set(state_dict) - expected)
    if missing or unexpected:
        raise ValueError(f"state_dict의 키가 맞지 않습니다. 빠진 키: {missing}, 남는 키: {unexpected}")
    c, s = model.config.channels[-1], model.config.pool_output_size
    converted: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for prefix, name in TORCH_LAYER_NAMES.items():
        layer = getattr(model, name)
        shape = tuple(layer.kernel.shape)  # 합성곱 (kH, kW, I/G, O), 완전 연결 (in, out)
        weight = _to_numpy(state_dict[f"{prefix}.weight"])
        bias = _to_numpy(state_dict[f"{prefix}.bias"])
        if isinstance(layer, nnx.Conv):
            _check_shape(f"{prefix}.weight", weight, (shape[3], shape[2], shape[0], shape[1]))
            kernel = weight.transpose(2, 3, 1, 0)  # (O, I/G, kH, kW) -> (kH, kW, I/G, O)
        elif name == "fc6":
            _check_shape(f"{prefix}.weight", weight, (shape[1], c * s * s))
            kernel = weight.reshape(-1, c, s, s)  # (out, C*S*S) -> (out, C, S, S)
            kernel = kernel.transpose(2, 3, 1, 0).reshape(s * s * c, -1)  # -> (S, S, C, out) -> (S*S*C, out)
        else:
            _check_shape(f"{prefix}.weight", weight, (shape[1], shape[0]))
            kernel = weight.T  # (out, in) -> (in, out)
        _check_shape(f"{prefix}.bias", bias, tuple(layer.bias.shape))
        converted[name] = (kernel, bias)
    for name, (kernel, bias) in converted.items():  # 모두 검사한 뒤에 씁니다(반쯤 바뀐 모델을 남기지 않음)
        layer = getattr(model, name)
        layer.kernel.set_value(jnp.asarray(kernel, dtype=layer.kernel.dtype))
        layer.bias.set_value(jnp.asarray(bias, dtype=layer.bias.dtype))
    return model
