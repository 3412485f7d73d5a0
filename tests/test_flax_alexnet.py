"""alexnetbook.flax_alexnet 의 테스트: PyTorch 기준 구현과 같은 값을 내는지 확인합니다.

* LRN, 적응형 평균 풀링, 최대 풀링(동점 포함): float64 에서 순전파와 역전파가 PyTorch 와 같음.
* 224 입력의 전체 AlexNet(groups=1, 2): 같은 가중치, 평가 모드, float32 에서 로짓 차이 < 1e-4.
* 축소판: float64 에서 로짓, 입력 기울기, 매개변수 기울기가 PyTorch 와 같음(224 가 아닌 크기 포함).
* 매개변수 개수, 가중치 변환의 오류 처리, optax SGD 와 torch.optim.SGD 의 동치, jit 학습 단계.
"""

from __future__ import annotations

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
from alexnetbook import models
from alexnetbook.lrn import local_response_norm as torch_lrn

# 빠른 CPU 테스트용 아주 작은 축소판 설정(구조는 for_cifar 와 같음)
TINY = dict(channels=(8, 16, 16, 16, 8), hidden_features=32)


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def nchw_to_nhwc(x: torch.Tensor) -> jnp.ndarray:
    return jnp.asarray(x.detach().numpy().transpose(0, 2, 3, 1))  # (N, C, H, W) -> (N, H, W, C)


def nhwc_to_nchw(x: jax.Array) -> np.ndarray:
    return np.asarray(x).transpose(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)


# ------------------------------------------------------------------------------------------------
# LRN
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("convention", ["paper", "torch"])
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("size", [5, 4, 1])
def test_lrn_matches_torch_forward_and_backward_float64(x64, convention, groups, size):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 12, 5, 3, generator=gen, dtype=torch.float64) * 30
    x[0, :, 0, 0] = 100.0  # 큰 값: 분모가 2^β 에서 멀어지는 영역
    x[1, :, 0, 0] = -100.0
    x.requires_grad_(True)
    w = torch.randn(x.shape, generator=gen, dtype=torch.float64)
    kwargs = dict(size=size, alpha=1e-3, beta=0.75, k=2.0, convention=convention, groups=groups)
    (torch_lrn(x, **kwargs) * w).sum().backward()

    xj, wj = nchw_to_nhwc(x), nchw_to_nhwc(w)
    out = fa.local_response_norm(xj, **kwargs)
    grad = jax.grad(lambda a: (fa.local_response_norm(a, **kwargs) * wj).sum())(xj)
    assert out.dtype == jnp.float64
    expected = torch_lrn(x.detach(), **kwargs).numpy()
    np.testing.assert_allclose(nhwc_to_nchw(out), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(nhwc_to_nchw(grad), x.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_lrn_3d_input(x64):
    x = torch.rand(3, 7, 10, dtype=torch.float64) * 50  # (N, C, L)
    out = fa.local_response_norm(jnp.asarray(x.numpy().transpose(0, 2, 1)), 5, 1e-4, 0.75, 2.0, convention="torch")  # (N, C, L) -> (N, L, C)
    expected = F.local_response_norm(x, 5, alpha=1e-4, beta=0.75, k=2.0)
    np.testing.assert_allclose(np.asarray(out).transpose(0, 2, 1), expected.numpy(), rtol=1e-12)


def test_lrn_float32_keeps_dtype_and_batch_of_one():
    x = jnp.ones((1, 2, 2, 6), jnp.float32)
    out = fa.local_response_norm(x, convention="torch")
    assert out.dtype == jnp.float32 and out.shape == x.shape
    # 모든 채널이 1이면: 가운데 채널은 5개, 끝 채널은 3개(토치 관례 창 [c-2, c+2])를 더합니다.
    np.testing.assert_allclose(out[0, 0, 0, 2], (2 + 1e-4 / 5 * 5) ** -0.75, rtol=1e-6)
    np.testing.assert_allclose(out[0, 0, 0, 0], (2 + 1e-4 / 5 * 3) ** -0.75, rtol=1e-6)


@pytest.mark.parametrize(
    ("shape", "kwargs", "match"),
    [
        ((2, 4, 4), dict(groups=3), "groups=3"),
        ((4, 4), {}, "모양"),
        ((2, 3, 3, 4), dict(convention="tf"), "convention"),
        ((2, 3, 3, 4), dict(size=0), "size"),
    ],
)
def test_lrn_rejects_bad_input(shape, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fa.local_response_norm(jnp.ones(shape), **kwargs)


# ------------------------------------------------------------------------------------------------
# 풀링
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("in_hw", "out"),
    [((6, 6), 6), ((13, 13), 6), ((7, 7), 6), ((5, 5), 6), ((1, 1), 3), ((8, 11), (3, 5))],
)
def test_adaptive_avg_pool_matches_torch_float64(x64, in_hw, out):
    x = torch.randn(2, 4, *in_hw, dtype=torch.float64, requires_grad=True)
    y = F.adaptive_avg_pool2d(x, out)
    w = torch.randn(y.shape, dtype=torch.float64)
    (y * w).sum().backward()
    xj, wj = nchw_to_nhwc(x), nchw_to_nhwc(w)
    yj = fa.adaptive_avg_pool2d(xj, out)
    grad = jax.grad(lambda a: (fa.adaptive_avg_pool2d(a, out) * wj).sum())(xj)
    np.testing.assert_allclose(nhwc_to_nchw(yj), y.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(nhwc_to_nchw(grad), x.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_adaptive_avg_pool_is_exact_identity_at_same_size():
    x = jax.random.normal(jax.random.key(0), (1, 6, 6, 5)) * 1e3
    assert jnp.array_equal(fa.adaptive_avg_pool2d(x, 6), x)


@pytest.mark.parametrize("bad", [0, (3, 0), True])
def test_adaptive_avg_pool_rejects_bad_size(bad):
    with pytest.raises(ValueError, match="output_size"):
        fa.adaptive_avg_pool2d(jnp.ones((1, 4, 4, 2)), bad)


def test_max_pool_ties_route_gradient_like_torch(x64):
    x = np.zeros((1, 1, 7, 7))
    x[0, 0, 1:3, 1:3] = 1.0  # 겹치는 창 안의 동점
    xt = torch.tensor(x, requires_grad=True)
    w = torch.arange(1.0, 10.0, dtype=torch.float64).reshape(1, 1, 3, 3)
    (F.max_pool2d(xt, 3, 2) * w).sum().backward()
    xj, wj = nchw_to_nhwc(xt), nchw_to_nhwc(w)
    grad = jax.grad(lambda a: (nnx.max_pool(a, (3, 3), (2, 2), "VALID") * wj).sum())(xj)
    np.testing.assert_array_equal(nhwc_to_nchw(grad), xt.grad.numpy())


# ------------------------------------------------------------------------------------------------
# 전체 모델: 가중치 변환과 로짓 동치
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("groups", [1, 2])
def test_full_alexnet_logits_match_torch_float32(groups):
    torch.manual_seed(groups)
    torch_model = models.AlexNet(groups=groups).eval()
    flax_model = fa.AlexNet.from_torch(torch_model, rngs=nnx.Rngs(0))
    flax_model.eval()
    x = torch.rand(1, 3, 224, 224) * 255 - 120  # 논문처럼 평균을 뺀 0–255 척도
    with torch.no_grad():
        expected = torch_model(x).numpy()
    got = np.asarray(flax_model(nchw_to_nhwc(x)))
    assert got.shape == (1, 1000) and got.dtype == np.float32
    assert np.abs(expected).max() > 1e-2  # 비교할 만한 크기의 로짓인지
    assert np.abs(got - expected).max() < 1e-4


@pytest.mark.parametrize(("groups", "count"), [(1, 62_378_344), (2, 60_965_224)])
def test_param_counts_equal_torch(groups, count):
    with torch.device("meta"):  # 값 없이 모양만 만듭니다
        torch_count = sum(p.numel() for p in models.AlexNet(groups=groups).parameters())
    flax_model = nnx.eval_shape(lambda: fa.AlexNet(groups=groups, rngs=nnx.Rngs(0)))
    assert fa.count_params(flax_model) == torch_count == count


def _flax_grads_in_torch_layout(grads: nnx.State, model: fa.AlexNet) -> dict[str, np.ndarray]:
    out = {}
    for prefix, name in fa.TORCH_LAYER_NAMES.items():
        kernel = np.asarray(grads[name]["kernel"][...])
        if name.startswith("conv"):
            kernel = kernel.transpose(3, 2, 0, 1)  # (kH, kW, I/G, O) -> (O, I/G, kH, kW)
        elif name == "fc6":
            c, s = model.channels[-1], model.pool_output_size
            kernel = kernel.reshape(s, s, c, -1).transpose(3, 2, 0, 1).reshape(-1, c * s * s)  # (S*S*C, out) -> (out, C*S*S)
        else:
            kernel = kernel.T  # (in, out) -> (out, in)
        out[f"{prefix}.weight"] = kernel
        out[f"{prefix}.bias"] = np.asarray(grads[name]["bias"][...])
    return out


@nnx.jit
def _logits_loss_and_grads(model, x, labels):
    loss, grads = nnx.value_and_grad(fa.cross_entropy, argnums=(0, 1))(model, x, labels)
    return model(x), loss, grads


@pytest.mark.parametrize(
    ("groups", "lrn", "convention", "hw"),
    [(1, True, "torch", (32, 32)), (2, True, "paper", (32, 32)), (2, False, "torch", (48, 40)), (1, True, "torch", (19, 19))],
)
def test_small_alexnet_forward_and_gradients_match_torch_float64(x64, groups, lrn, convention, hw):
    torch.manual_seed(0)
    torch_model = models.AlexNet(
        num_classes=5, groups=groups, lrn=lrn, lrn_convention=convention, conv1_kernel_size=5, conv1_stride=1,
        conv1_padding=2, pool_output_size=3, **TINY,
    ).double().eval()
    flax_model = fa.AlexNet.from_torch(torch_model, rngs=nnx.Rngs(0))
    flax_model.eval()
    assert flax_model.min_input_size == torch_model.min_input_size
    x = (torch.rand(2, 3, *hw, dtype=torch.float64) * 255 - 120).requires_grad_(True)
    labels = torch.tensor([1, 4])
    loss = F.cross_entropy(torch_model(x), labels)
    loss.backward()

    xj = nchw_to_nhwc(x)
    logits, loss_j, (grads, x_grad) = _logits_loss_and_grads(flax_model, xj, jnp.asarray(labels))
    np.testing.assert_allclose(np.asarray(logits), torch_model(x).detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(float(loss_j), loss.item(), rtol=1e-12)
    np.testing.assert_allclose(nhwc_to_nchw(x_grad), x.grad.numpy(), rtol=1e-8, atol=1e-12)
    flax_grads = _flax_grads_in_torch_layout(grads, flax_model)
    for key, param in torch_model.state_dict(keep_vars=True).items():
        np.testing.assert_allclose(flax_grads[key], param.grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=key)


def test_load_torch_state_dict_accepts_numpy_and_fills_every_param():
    torch_model = models.AlexNet.for_cifar(**TINY)
    state = {k: v.numpy() for k, v in torch_model.state_dict().items()}
    flax_model = nnx.eval_shape(lambda: fa.AlexNet.for_cifar(**TINY, rngs=nnx.Rngs(0)))  # 모양만 있는 모델
    assert fa.load_torch_state_dict(flax_model, state) is flax_model
    np.testing.assert_array_equal(flax_model.conv1.kernel[...], state["features.conv1.weight"].transpose(2, 3, 1, 0))
    np.testing.assert_array_equal(flax_model.fc8.kernel[...], state["classifier.fc8.weight"].T)
    np.testing.assert_array_equal(flax_model.conv4.bias[...], state["features.conv4.bias"])


def test_loaded_weights_do_not_share_memory_with_torch():
    torch_model = models.AlexNet.for_cifar(**TINY)
    flax_model = fa.AlexNet.from_torch(torch_model, rngs=nnx.Rngs(0))
    before = np.asarray(flax_model.conv1.bias[...]).copy()
    with torch.no_grad():
        torch_model.features.conv1.bias.add_(1.0)  # optimizer.step() 처럼 제자리에서 바꿈
    np.testing.assert_array_equal(flax_model.conv1.bias[...], before)


def test_load_torch_state_dict_errors():
    flax_model = fa.AlexNet.from_torch(models.AlexNet.for_cifar(**TINY), rngs=nnx.Rngs(0))
    before = np.asarray(flax_model.conv1.kernel[...]).copy()
    state = models.AlexNet.for_cifar(**TINY, groups=2).state_dict()
    with pytest.raises(ValueError, match=r"features\.conv2\.weight .*\(16, 8, 5, 5\)"):
        fa.load_torch_state_dict(flax_model, state)  # groups=2 가중치를 groups=1 모델에
    np.testing.assert_array_equal(flax_model.conv1.kernel[...], before)  # 실패하면 아무것도 바꾸지 않음
    good = models.AlexNet.for_cifar(**TINY).state_dict()
    missing = {k: v for k, v in good.items() if k != "classifier.fc7.bias"}
    with pytest.raises(ValueError, match="classifier.fc7.bias"):
        fa.load_torch_state_dict(flax_model, missing)
    with pytest.raises(ValueError, match="extra"):
        fa.load_torch_state_dict(flax_model, {**good, "extra": torch.zeros(1)})
    with pytest.raises(TypeError, match="AlexNet"):
        fa.load_torch_state_dict(nnx.Linear(2, 2, rngs=nnx.Rngs(0)), good)
    with pytest.raises(TypeError, match="AlexNet"):
        fa.AlexNet.from_torch(torch.nn.Linear(2, 2), rngs=nnx.Rngs(0))


def test_for_cifar_matches_torch_config():
    torch_model = models.AlexNet.for_cifar(**TINY, groups=2, pool_output_size=2)
    flax_model = nnx.eval_shape(
        lambda: fa.AlexNet.for_cifar(**TINY, groups=2, pool_output_size=2, param_dtype=jnp.float16, rngs=nnx.Rngs(0))
    )
    assert fa.count_params(flax_model) == sum(p.numel() for p in torch_model.parameters())
    assert flax_model.min_input_size == torch_model.min_input_size
    assert flax_model.conv4.kernel.dtype == jnp.float16


def test_model_rejects_bad_input_and_arguments():
    model = nnx.eval_shape(lambda: fa.AlexNet.for_cifar(**TINY, rngs=nnx.Rngs(0)))  # 검사는 계산 전에 일어남
    with pytest.raises(ValueError, match="transpose"):
        model(jnp.ones((1, 3, 32, 32)))  # NCHW 를 넘긴 경우
    with pytest.raises(ValueError, match="NHWC"):
        model(jnp.ones((32, 32, 3)))
    with pytest.raises(ValueError, match=f"{model.min_input_size} 이상"):
        model(jnp.ones((1, model.min_input_size - 1, 32, 3)))
    with pytest.raises(ValueError, match="groups"):
        fa.AlexNet(groups=3, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="dropout"):
        fa.AlexNet.for_cifar(dropout=1.0, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="conv2_kernel_size"):
        fa.AlexNet(conv2_kernel_size=4, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="lrn_convention"):
        fa.AlexNet(lrn_convention="tf", rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="pool_output_size"):
        fa.AlexNet.for_cifar(pool_output_size=0, rngs=nnx.Rngs(0))


# ------------------------------------------------------------------------------------------------
# 난수: 드롭아웃과 증강
# ------------------------------------------------------------------------------------------------


def test_dropout_uses_module_rng_stream_and_eval_is_deterministic():
    x = jnp.ones((2, 32, 32, 3))
    forward = nnx.jit(lambda model, images: model(images))
    a = fa.AlexNet.for_cifar(**TINY, rngs=nnx.Rngs(params=0, dropout=1))
    b = fa.AlexNet.for_cifar(**TINY, rngs=nnx.Rngs(params=0, dropout=1))
    first, second = forward(a, x), forward(a, x)
    assert int(a.drop6.rngs.count[...]) == 2  # jit 안에서 늘어난 카운터가 모델에 다시 써짐
    assert not jnp.array_equal(first, second)  # 흐름의 카운터가 늘어 다른 마스크
    assert jnp.array_equal(first, forward(b, x))  # 같은 시드면 같은 마스크
    a.eval()
    assert jnp.array_equal(forward(a, x), forward(a, x))


def test_augment_is_a_pure_function_of_its_key():
    images = jax.random.normal(jax.random.key(0), (16, 8, 8, 3))
    k1, k2 = jax.random.split(jax.random.key(1))
    out = fa.augment(k1, images)
    assert out.shape == images.shape
    assert jnp.array_equal(out, fa.augment(k1, images))
    assert not jnp.array_equal(out, fa.augment(k2, images))
    flipped_only = fa.augment(k1, images, padding=0)
    for original, result in zip(images, flipped_only):
        assert jnp.array_equal(result, original) or jnp.array_equal(result, original[:, ::-1])
    with pytest.raises(ValueError, match="padding"):
        fa.augment(k1, images, padding=-1)


# ------------------------------------------------------------------------------------------------
# 최적화: optax SGD == torch.optim.SGD, jit 학습 단계
# ------------------------------------------------------------------------------------------------


def test_optax_sgd_matches_torch_sgd_with_coupled_weight_decay(x64):
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(4, 3))
    grads = [rng.normal(size=(4, 3)) for _ in range(5)]
    lr, momentum, wd = 0.1, 0.9, 5e-4

    w_torch = torch.tensor(w0, requires_grad=True)
    opt = torch.optim.SGD([w_torch], lr=lr, momentum=momentum, weight_decay=wd)
    tx, wrong_order = fa.sgd(lr, momentum, wd), optax.chain(optax.sgd(lr, momentum=momentum), optax.add_decayed_weights(wd))
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
        fa.sgd(0.1, momentum=1.0)


@pytest.fixture(scope="module")
def cifar_slice():
    from alexnetbook import data
    from alexnetbook.experiments.common import subtract_mean

    images, labels = data.dataset_to_tensors(data.load_cifar10("train"), per_class=4, seed=0)
    (centered, _mean) = subtract_mean(images.float() / 255)
    return np.asarray(centered.permute(0, 2, 3, 1)), labels.numpy()  # (N, C, H, W) -> (N, H, W, C)


def test_jit_train_step_lowers_the_loss(cifar_slice):
    images, labels = cifar_slice
    model = fa.AlexNet.for_cifar(**TINY, dropout=0.0, kernel_init=nnx.initializers.he_normal(), rngs=nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, fa.sgd(0.02), wrt=nnx.Param)
    x, y = jnp.asarray(images), jnp.asarray(labels)
    model.eval()
    before = float(fa.cross_entropy(model, x, y))
    model.train()
    losses = [float(fa.train_step(model, optimizer, x, y)) for _ in range(8)]
    model.eval()
    after = float(fa.cross_entropy(model, x, y))
    assert losses[0] == pytest.approx(before, rel=1e-5)  # 돌려받는 손실은 갱신 전 값
    assert after < before - 0.05
    assert int(optimizer.step[...]) == 8


def test_jit_train_step_equals_torch_sgd_steps_float64(x64, cifar_slice):
    images, labels = cifar_slice
    torch.manual_seed(0)
    torch_model = models.AlexNet.for_cifar(**TINY, groups=2, dropout=0.0).double()
    flax_model = fa.AlexNet.from_torch(torch_model, rngs=nnx.Rngs(0))
    optimizer = nnx.Optimizer(flax_model, fa.sgd(0.05), wrt=nnx.Param)
    torch_opt = torch.optim.SGD(torch_model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    x = torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float64) * 10)  # (N, H, W, C) -> (N, C, H, W)
    y = torch.from_numpy(labels)
    for _ in range(3):
        loss = F.cross_entropy(torch_model(x), y)
        torch_opt.zero_grad()
        loss.backward()
        torch_opt.step()
        loss_j = fa.train_step(flax_model, optimizer, nchw_to_nhwc(x), jnp.asarray(labels))
        np.testing.assert_allclose(float(loss_j), loss.item(), rtol=1e-10)
    np.testing.assert_allclose(
        np.asarray(flax_model.conv2.kernel[...]).transpose(3, 2, 0, 1),  # (kH, kW, I/G, O) -> (O, I/G, kH, kW)
        torch_model.features.conv2.weight.detach().numpy(), rtol=1e-8, atol=1e-12,
    )


def test_fit_and_error_rate_on_real_slice(cifar_slice):
    images, labels = cifar_slice
    model = fa.AlexNet.for_cifar(**TINY, rngs=nnx.Rngs(0))
    history = fa.fit(model, images, labels, epochs=2, lr=0.01, batch_size=16, seed=0)
    assert len(history.step_losses) == 2 * (len(images) // 16)
    assert len(history.epoch_losses) == 2 and all(np.isfinite(history.step_losses))
    model.train()
    err = fa.error_rate(model, images, labels)
    assert 0.0 <= err <= 1.0
    assert model.drop6.deterministic is False  # 원래(학습) 모드로 되돌림
    with pytest.raises(ValueError, match="batch_size"):
        fa.fit(model, images, labels, epochs=1, lr=0.01, batch_size=len(images) + 1)
