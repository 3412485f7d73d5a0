"""alexnetbook.flax_alexnet 과 flax_train 의 테스트: PyTorch 기준 구현과 같은 값을 내는지 확인합니다.

* 조각: LRN(두 관례, 묶음/비묶음, 홀수/짝수 n), 적응형 평균 풀링, 동점이 있는 최대 풀링. float64 에서 순전파와
  역전파가 PyTorch 와 같음.
* 작은 :class:`AlexNetConfig` 의 모델 전체: float64 로짓이 PyTorch 와 같음(묶음/비묶음, 두 LRN 관례, LRN 없음,
  논문식 드롭아웃). ``jit`` 학습 스텝 몇 번이 ``torch.optim.SGD`` 스텝과 같은 손실과 가중치를 냄(float64).
* 가중치 변환과 오류 처리, 드롭아웃 난수 흐름, 증강, optax SGD 와 ``torch.optim.SGD`` 의 동치, ``fit``/``error_rate``.
* 224 입력의 전체 AlexNet 로짓 비교(float32, 차이 < 1e-4)는 ``slow`` 입니다.

대부분의 시간은 XLA 컴파일입니다. 그래서 모든 모델을 아주 작은 설정으로 만들고, 이 모듈 동안에는 JAX 의
``jax_disable_most_optimizations`` 를 켭니다(작은 프로그램에서는 최적화에 드는 시간이 실행 시간보다 큽니다).
계산의 의미는 같으므로 float64 비교는 그대로 유효하고, 최적화를 켠 경로는 slow 테스트와 책의 장이 실행합니다.
"""

from __future__ import annotations

import copy
import dataclasses
import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")  # GPU/TPU 를 찾는 경고 없이 CPU 에서 float32 그대로 계산

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
import torch.nn.functional as F
from flax import nnx

from alexnetbook import flax_alexnet as fa
from alexnetbook import flax_train as ft
from alexnetbook import models
from alexnetbook.lrn import local_response_norm as torch_lrn
from alexnetbook.models import AlexNetConfig

#: 빠른 CPU 테스트용 아주 작은 축소판 설정(구조는 for_cifar 와 같음). 최소 입력 크기는 15입니다.
TINY = AlexNetConfig.cifar(num_classes=5, channels=(8, 16, 16, 16, 8), hidden_features=32)


@pytest.fixture(scope="module", autouse=True)
def _fast_compile():
    previous = jax.config.values["jax_disable_most_optimizations"]
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", previous)


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def nhwc_to_nchw(x: jax.Array) -> np.ndarray:
    return np.asarray(x).transpose(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)


# ------------------------------------------------------------------------------------------------
# 조각: LRN, 적응형 평균 풀링, 최대 풀링
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("convention", "groups", "size"), [("paper", 1, 5), ("torch", 2, 5), ("torch", 1, 4)])
def test_lrn_matches_torch_forward_and_backward_float64(x64, convention, groups, size):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 12, 5, 3, generator=gen, dtype=torch.float64) * 30
    x[0, :, 0, 0] = 100.0  # 큰 값: 분모가 2^β 에서 멀어지는 영역
    x[1, :, 0, 0] = -100.0
    x.requires_grad_(True)
    w = torch.randn(x.shape, generator=gen, dtype=torch.float64)
    kwargs = dict(size=size, alpha=1e-3, beta=0.75, k=2.0, convention=convention, groups=groups)
    (torch_lrn(x, **kwargs) * w).sum().backward()

    xj, wj = fa.nchw_to_nhwc(x), fa.nchw_to_nhwc(w)
    out = fa.local_response_norm(xj, **kwargs)
    grad = jax.grad(lambda a: (fa.local_response_norm(a, **kwargs) * wj).sum())(xj)
    assert out.dtype == jnp.float64
    np.testing.assert_allclose(nhwc_to_nchw(out), torch_lrn(x.detach(), **kwargs).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(nhwc_to_nchw(grad), x.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_lrn_3d_input_and_float32(x64):
    x = torch.rand(3, 7, 10, dtype=torch.float64) * 50  # (N, C, L)
    out = fa.local_response_norm(jnp.asarray(x.numpy().transpose(0, 2, 1)), convention="torch")  # (N, C, L) -> (N, L, C)
    expected = F.local_response_norm(x, 5, alpha=1e-4, beta=0.75, k=2.0)
    np.testing.assert_allclose(np.asarray(out).transpose(0, 2, 1), expected.numpy(), rtol=1e-12)  # (N, L, C) -> (N, C, L)
    ones = jnp.ones((1, 2, 2, 6), jnp.float32)
    out32 = fa.local_response_norm(ones, convention="torch")
    assert out32.dtype == jnp.float32 and out32.shape == ones.shape
    # 모든 채널이 1이면 가운데 채널은 5개, 끝 채널은 3개를 더합니다(torch 관례 창 [c-2, c+2]).
    np.testing.assert_allclose(out32[0, 0, 0, 2], (2 + 1e-4 / 5 * 5) ** -0.75, rtol=1e-6)
    np.testing.assert_allclose(out32[0, 0, 0, 0], (2 + 1e-4 / 5 * 3) ** -0.75, rtol=1e-6)


@pytest.mark.parametrize(
    ("shape", "kwargs", "error", "match"),
    [
        ((2, 4, 4), dict(groups=3), ValueError, "groups=3"),
        ((4, 4), {}, ValueError, "모양"),
        ((2, 3, 3, 4), dict(convention="tf"), ValueError, "convention"),
        ((2, 3, 3, 4), dict(size=0), ValueError, "size"),
        ((2, 3, 3, 4), dict(size=2.0), TypeError, "size"),
    ],
)
def test_lrn_rejects_bad_input(shape, kwargs, error, match):
    with pytest.raises(error, match=match):
        fa.local_response_norm(jnp.ones(shape), **kwargs)


@pytest.mark.parametrize(("in_hw", "out"), [((13, 13), 6), ((5, 5), 6), ((8, 11), (3, 5))])
def test_adaptive_avg_pool_matches_torch_float64(x64, in_hw, out):
    x = torch.randn(2, 4, *in_hw, dtype=torch.float64, requires_grad=True)
    y = F.adaptive_avg_pool2d(x, out)
    w = torch.randn(y.shape, dtype=torch.float64)
    (y * w).sum().backward()
    xj, wj = fa.nchw_to_nhwc(x), fa.nchw_to_nhwc(w)
    yj = fa.adaptive_avg_pool2d(xj, out)
    grad = jax.grad(lambda a: (fa.adaptive_avg_pool2d(a, out) * wj).sum())(xj)
    np.testing.assert_allclose(nhwc_to_nchw(yj), y.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(nhwc_to_nchw(grad), x.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_adaptive_avg_pool_identity_and_bad_size():
    x = jax.random.normal(jax.random.key(0), (1, 6, 6, 5)) * 1e3
    assert jnp.array_equal(fa.adaptive_avg_pool2d(x, 6), x)  # 같은 크기면 비트 단위로 그대로
    for bad, error in ((0, ValueError), ((3, 0), ValueError), ((1, 2, 3), ValueError), (True, TypeError)):
        with pytest.raises(error, match="output_size"):
            fa.adaptive_avg_pool2d(x, bad)


def test_max_pool_ties_route_gradient_like_torch(x64):
    x = np.zeros((1, 1, 7, 7))
    x[0, 0, 1:3, 1:3] = 1.0  # 겹치는 창 안의 동점
    xt = torch.tensor(x, requires_grad=True)
    w = torch.arange(1.0, 10.0, dtype=torch.float64).reshape(1, 1, 3, 3)
    (F.max_pool2d(xt, 3, 2) * w).sum().backward()
    xj, wj = fa.nchw_to_nhwc(xt), fa.nchw_to_nhwc(w)
    grad = jax.grad(lambda a: (nnx.max_pool(a, (3, 3), (2, 2), "VALID") * wj).sum())(xj)
    np.testing.assert_array_equal(nhwc_to_nchw(grad), xt.grad.numpy())


# ------------------------------------------------------------------------------------------------
# 작은 모델 전체: 같은 가중치, 같은 로짓(float64)
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "hw"),
    [
        (dict(groups=1, lrn_convention="torch"), (15, 21)),  # 최소 크기, 정사각형이 아님, 적응형 풀링이 1×2 → 3×3
        (dict(groups=2, lrn_convention="paper", dropout_mode="paper"), (32, 32)),  # 논문: 두 타워, 테스트 때 ×(1−p)
        (dict(groups=2, lrn=False), (40, 40)),  # LRN 없음, 적응형 풀링이 4×4 → 3×3
    ],
)
def test_tiny_alexnet_logits_match_torch_float64(x64, overrides, hw):
    torch.manual_seed(0)
    torch_model = models.AlexNet.from_config(dataclasses.replace(TINY, **overrides)).double().eval()
    flax_model = fa.AlexNet.from_torch(torch_model, rngs=nnx.Rngs(0))
    assert flax_model.config == torch_model.config and flax_model.min_input_size == torch_model.min_input_size
    x = torch.rand(2, 3, *hw, dtype=torch.float64) * 255 - 120
    with torch.no_grad():
        expected = torch_model(x).numpy()
    got = nnx.jit(lambda m, images: m(images))(nnx.view(flax_model, deterministic=True), fa.nchw_to_nhwc(x))
    assert np.abs(expected).max() > 1e-2  # 비교할 만한 크기의 로짓인지
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-10, atol=1e-10)


@pytest.fixture(scope="module")
def torch_tiny():
    torch.manual_seed(0)
    return models.AlexNet.from_config(TINY)


def test_param_counts_equal_torch():
    for groups, count in ((1, 62_378_344), (2, 60_965_224)):
        with torch.device("meta"):  # 값 없이 모양만 만듭니다
            torch_count = sum(p.numel() for p in models.AlexNet(groups=groups).parameters())
        flax_model = nnx.eval_shape(lambda g=groups: fa.AlexNet(AlexNetConfig(groups=g), rngs=nnx.Rngs(0)))
        assert fa.count_params(flax_model) == torch_count == count


def test_for_cifar_builds_the_shared_config():
    flax_model = nnx.eval_shape(
        lambda: fa.AlexNet.for_cifar(groups=2, pool_output_size=2, param_dtype=jnp.float16, rngs=nnx.Rngs(0))
    )
    assert flax_model.config == AlexNetConfig.cifar(groups=2, pool_output_size=2)
    assert fa.count_params(flax_model) == sum(p.numel() for p in models.AlexNet.for_cifar(groups=2, pool_output_size=2).parameters())
    assert flax_model.conv4.kernel.dtype == jnp.float16


def test_load_torch_state_dict_accepts_numpy_and_fills_every_param(torch_tiny):
    state = {k: v.numpy() for k, v in torch_tiny.state_dict().items()}
    flax_model = nnx.eval_shape(lambda: fa.AlexNet(TINY, rngs=nnx.Rngs(0)))  # 모양만 있는 모델
    assert fa.load_torch_state_dict(flax_model, state) is flax_model
    np.testing.assert_array_equal(flax_model.conv1.kernel[...], state["features.conv1.weight"].transpose(2, 3, 1, 0))
    np.testing.assert_array_equal(flax_model.fc8.kernel[...], state["classifier.fc8.weight"].T)
    np.testing.assert_array_equal(flax_model.conv4.bias[...], state["features.conv4.bias"])


def test_loaded_weights_do_not_share_memory_with_torch():
    torch_model = models.AlexNet.from_config(TINY)  # 제자리에서 바꾸므로 공용 모델을 쓰지 않음
    flax_model = fa.AlexNet.from_torch(torch_model, rngs=nnx.Rngs(0))
    before = np.asarray(flax_model.conv1.bias[...]).copy()
    with torch.no_grad():
        torch_model.features.conv1.bias.add_(1.0)  # optimizer.step() 처럼 제자리에서 바꿈
    np.testing.assert_array_equal(flax_model.conv1.bias[...], before)


def test_load_torch_state_dict_errors(torch_tiny):
    flax_model = fa.AlexNet.from_torch(torch_tiny, rngs=nnx.Rngs(0))
    before = np.asarray(flax_model.conv1.kernel[...]).copy()
    grouped = models.AlexNet.from_config(dataclasses.replace(TINY, groups=2)).state_dict()
    with pytest.raises(ValueError, match=r"features\.conv2\.weight의 모양은 \(16, 8, 5, 5\)"):
        fa.load_torch_state_dict(flax_model, grouped)  # groups=2 가중치를 groups=1 모델에
    np.testing.assert_array_equal(flax_model.conv1.kernel[...], before)  # 실패하면 아무것도 바꾸지 않음
    good = torch_tiny.state_dict()
    with pytest.raises(ValueError, match="classifier.fc7.bias"):
        fa.load_torch_state_dict(flax_model, {k: v for k, v in good.items() if k != "classifier.fc7.bias"})
    with pytest.raises(ValueError, match="extra"):
        fa.load_torch_state_dict(flax_model, {**good, "extra": torch.zeros(1)})
    with pytest.raises(TypeError, match="AlexNet"):
        fa.load_torch_state_dict(nnx.Linear(2, 2, rngs=nnx.Rngs(0)), good)
    with pytest.raises(TypeError, match="torch_model"):
        fa.AlexNet.from_torch(torch.nn.Linear(2, 2), rngs=nnx.Rngs(0))


def test_model_rejects_bad_input_and_arguments():
    model = nnx.eval_shape(lambda: fa.AlexNet(TINY, rngs=nnx.Rngs(0)))  # 검사는 계산 전에 일어남
    with pytest.raises(ValueError, match="transpose"):
        model(jnp.ones((1, 3, 32, 32)))  # NCHW 를 넘긴 경우
    with pytest.raises(ValueError, match="NHWC"):
        model(jnp.ones((32, 32, 3)))
    with pytest.raises(ValueError, match="15 이상"):
        model(jnp.ones((1, 14, 32, 3)))
    with pytest.raises(TypeError, match="config"):
        fa.AlexNet({"groups": 2}, rngs=nnx.Rngs(0))  # 사전이 아니라 AlexNetConfig
    with pytest.raises(ValueError, match="dropout"):
        fa.AlexNet.for_cifar(dropout=1.0, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="dropout_mode"):
        fa.AlexNet.for_cifar(dropout_mode="gaussian", rngs=nnx.Rngs(0))


# ------------------------------------------------------------------------------------------------
# 난수: 드롭아웃과 증강
# ------------------------------------------------------------------------------------------------


def test_dropout_uses_module_rng_stream_and_view_is_deterministic(torch_tiny):
    x = jnp.ones((2, 15, 15, 3))
    forward = nnx.jit(lambda model, images: model(images))
    a = fa.AlexNet.from_torch(torch_tiny, rngs=nnx.Rngs(params=0, dropout=1))
    b = fa.AlexNet.from_torch(torch_tiny, rngs=nnx.Rngs(params=0, dropout=1))
    first, second = forward(a, x), forward(a, x)
    assert int(a.drop6.rngs.count[...]) == 2  # jit 안에서 늘어난 카운터가 모델에 다시 써짐
    assert not jnp.array_equal(first, second)  # 흐름의 카운터가 늘어 다른 마스크
    assert jnp.array_equal(first, forward(b, x))  # 같은 시드면 같은 마스크
    eval_view = nnx.view(a, deterministic=True)
    assert jnp.array_equal(forward(eval_view, x), forward(eval_view, x))
    assert a.drop6.deterministic is False  # 보기를 만들어도 원래 모델의 모드는 그대로


def test_augment_is_a_pure_function_of_its_key():
    images = jax.random.normal(jax.random.key(0), (16, 6, 6, 3))
    k1, k2 = jax.random.split(jax.random.key(1))
    out = ft.augment(k1, images)
    assert out.shape == images.shape
    assert jnp.array_equal(out, ft.augment(k1, images))
    assert not jnp.array_equal(out, ft.augment(k2, images))
    flipped_only = ft.augment(k1, images, padding=0)
    for original, result in zip(images, flipped_only):
        assert jnp.array_equal(result, original) or jnp.array_equal(result, original[:, ::-1])
    with pytest.raises(ValueError, match="padding"):
        ft.augment(k1, images, padding=-1)


# ------------------------------------------------------------------------------------------------
# 최적화: optax SGD == torch.optim.SGD, jit 학습 스텝 == PyTorch 학습 스텝, fit 과 error_rate
# ------------------------------------------------------------------------------------------------


def test_optax_sgd_matches_torch_sgd_with_coupled_weight_decay(x64):
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(4, 3))
    grads = [rng.normal(size=(4, 3)) for _ in range(5)]
    lr, momentum, wd = 0.1, 0.9, 5e-4

    w_torch = torch.tensor(w0, requires_grad=True)
    opt = torch.optim.SGD([w_torch], lr=lr, momentum=momentum, weight_decay=wd)
    tx, wrong_order = ft.sgd(lr, momentum, wd), optax.chain(optax.sgd(lr, momentum=momentum), optax.add_decayed_weights(wd))
    w_jax, state = jnp.asarray(w0), tx.init(jnp.asarray(w0))
    w_wrong, state_wrong = jnp.asarray(w0), wrong_order.init(jnp.asarray(w0))
    for g in grads:
        w_torch.grad = torch.tensor(g)
        opt.step()
        updates, state = tx.update(jnp.asarray(g), state, w_jax)
        w_jax = optax.apply_updates(w_jax, updates)
        updates, state_wrong = wrong_order.update(jnp.asarray(g), state_wrong, w_wrong)
        w_wrong = optax.apply_updates(w_wrong, updates)
    np.testing.assert_allclose(np.asarray(w_jax), w_torch.detach().numpy(), rtol=1e-13, atol=1e-15)
    assert np.abs(np.asarray(w_wrong) - w_torch.detach().numpy()).max() > 1e-4  # 순서를 바꾸면 다름
    with pytest.raises(ValueError, match="momentum"):
        ft.sgd(0.1, momentum=1.0)
    with pytest.raises(ValueError, match="learning_rate"):
        ft.sgd(0.0)


@pytest.mark.slow
def test_fit_equals_torch_sgd_steps_float64(x64):
    """``fit`` 의 jit 학습 스텝 = ``torch.optim.SGD`` 스텝: 두 타워(묶음 합성곱)와 논문식 LRN 의 작은 모델.

    배치가 학습 세트 전체이고 증강과 드롭아웃이 없으면, 한 에폭이 PyTorch 의 한 스텝과 같은 계산입니다.
    손실은 스텝마다, 가중치는 모든 층에서 같아야 합니다.
    """
    torch.manual_seed(0)
    config = dataclasses.replace(TINY, groups=2, lrn_convention="paper", dropout=0.0)
    torch_model = models.AlexNet.from_config(config).double()
    flax_model = fa.AlexNet.from_torch(torch_model, rngs=nnx.Rngs(0))
    x = torch.rand(6, 3, 15, 15, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 4 - 2
    y = torch.tensor([0, 1, 2, 3, 4, 0])
    torch_opt = torch.optim.SGD(torch_model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    torch_losses = []
    for _ in range(3):
        loss = F.cross_entropy(torch_model(x), y)
        torch_opt.zero_grad()
        loss.backward()
        torch_opt.step()
        torch_losses.append(loss.item())

    history = ft.fit(flax_model, fa.nchw_to_nhwc(x), y.numpy(), epochs=3, lr=0.05, batch_size=6, use_augment=False)
    np.testing.assert_allclose(history.step_losses, torch_losses, rtol=1e-10)  # 손실은 갱신 전 값
    assert flax_model.drop6.deterministic is False  # 드롭아웃을 켠 "보기"로 학습해도 모델의 모드는 그대로
    moved = fa.AlexNet.from_torch(torch_model, rngs=nnx.Rngs(0))  # 세 스텝 뒤의 PyTorch 가중치
    for name in fa.TORCH_LAYER_NAMES.values():
        for param in ("kernel", "bias"):
            np.testing.assert_allclose(
                getattr(getattr(flax_model, name), param)[...], getattr(getattr(moved, name), param)[...],
                rtol=1e-8, atol=1e-12, err_msg=f"{name}.{param}",
            )
    with pytest.raises(ValueError, match="batch_size"):
        ft.fit(flax_model, fa.nchw_to_nhwc(x), y.numpy(), epochs=1, lr=0.01, batch_size=7)
    with pytest.raises(TypeError, match="epochs"):
        ft.fit(flax_model, fa.nchw_to_nhwc(x), y.numpy(), epochs=1.5, lr=0.01)


def test_error_rate_counts_with_topk_errors_and_keeps_the_mode(x64, torch_tiny):
    torch_model = copy.deepcopy(torch_tiny).double().eval()
    model = fa.AlexNet.from_torch(torch_model, rngs=nnx.Rngs(0))
    x = torch.randn(30, 3, 15, 15, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 50
    with torch.no_grad():
        logits = torch_model(x)  # 기준: PyTorch 평가 모드의 예측
    labels = logits.argmax(dim=1).numpy()
    labels[::3] = (labels[::3] + 1) % 5  # 30장 중 10장을 일부러 틀리게
    images = fa.nchw_to_nhwc(x)
    assert ft.error_rate(model, images, labels, batch_size=16) == pytest.approx(10 / 30)  # 16 + 14: 모자란 배치도 셈
    assert model.drop6.deterministic is False  # 평가용 보기로 셌으므로 모드는 그대로
    with pytest.raises(ValueError, match="길이"):
        ft.error_rate(model, images, labels[:-1])


# ------------------------------------------------------------------------------------------------
# 224 입력의 전체 AlexNet (느림: 큰 모델 컴파일)
# ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_full_alexnet_logits_match_torch_float32():
    jax.config.update("jax_disable_most_optimizations", False)  # 책의 장과 같은 최적화된 컴파일
    try:
        torch.manual_seed(2)
        torch_model = models.AlexNet(groups=2).eval()
        flax_model = fa.AlexNet.from_torch(torch_model, rngs=nnx.Rngs(0))
        x = torch.rand(1, 3, 224, 224) * 255 - 120  # 논문처럼 평균을 뺀 0–255 척도
        with torch.no_grad():
            expected = torch_model(x).numpy()
        got = np.asarray(nnx.view(flax_model, deterministic=True)(fa.nchw_to_nhwc(x)))
    finally:
        jax.config.update("jax_disable_most_optimizations", True)
    assert got.shape == (1, 1000) and got.dtype == np.float32
    assert np.abs(expected).max() > 1e-2
    assert np.abs(got - expected).max() < 1e-4
