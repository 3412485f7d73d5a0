"""alexnetbook.activations 의 테스트: torch 기준 구현과의 일치(float64 순전파·역전파), 수치 안정성, 도함수의 상한."""

from __future__ import annotations

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from alexnetbook.activations import (  # noqa: E402
    ACTIVATIONS,
    ActivationFunction,
    ReLU,
    Sigmoid,
    Tanh,
    get_grads,
    plot_activation,
)

REFERENCE = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
EXTREMES = [-1e4, -100.0, -40.0, -20.0, -1.0, -1e-3, -1e-12, 0.0, 1e-12, 1e-3, 1.0, 20.0, 40.0, 100.0, 1e4]


def inputs(dtype: torch.dtype) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    random = torch.randn(1000, generator=g, dtype=torch.float64) * 8
    return torch.cat([random, torch.tensor(EXTREMES, dtype=torch.float64)]).to(dtype)


def test_registry_names_and_classes():
    assert ACTIVATIONS == {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU}
    for name, cls in ACTIVATIONS.items():
        act = cls()
        assert isinstance(act, ActivationFunction)
        assert act.name == cls.__name__
        assert act.config == {"name": cls.__name__}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_forward_matches_torch_float64(name):
    x = inputs(torch.float64)
    out = ACTIVATIONS[name]()(x)
    assert out.dtype == torch.float64 and out.shape == x.shape
    torch.testing.assert_close(out, REFERENCE[name](x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_gradient_matches_torch_float64(name):
    x = inputs(torch.float64)
    torch.testing.assert_close(get_grads(ACTIVATIONS[name](), x), get_grads(REFERENCE[name], x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_gradcheck_float64(name):
    # 0 을 피한 점에서 수치 미분과 비교합니다(ReLU 는 0 에서 미분 불가능).
    x = torch.tensor([-3.0, -0.7, -0.01, 0.02, 0.5, 2.5], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(ACTIVATIONS[name](), (x,))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_finite_outputs_and_gradients_at_extremes(name, dtype):
    x = torch.tensor([-1e4, -100.0, 100.0, 1e4], dtype=dtype)
    act = ACTIVATIONS[name]()
    out = act(x)
    grad = get_grads(act, x)
    assert out.dtype == dtype and grad.dtype == dtype
    assert torch.isfinite(out).all() and torch.isfinite(grad).all()
    torch.testing.assert_close(out, REFERENCE[name](x))
    torch.testing.assert_close(grad, get_grads(REFERENCE[name], x))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_naive_formulas_fail_where_stable_ones_do_not(dtype):
    # 장에서 보여 주는 교훈: 교과서 공식을 그대로 쓰면 exp 가 넘쳐 NaN 이 나옵니다.
    big = 100.0 if dtype == torch.float32 else 1e4
    x = torch.tensor([-big, big], dtype=dtype)

    def naive_sigmoid(t):
        return 1 / (1 + torch.exp(-t))

    def naive_tanh(t):
        return (torch.exp(t) - torch.exp(-t)) / (torch.exp(t) + torch.exp(-t))

    assert torch.isnan(naive_tanh(x)).all()
    assert torch.isnan(get_grads(naive_sigmoid, x)[0])
    assert torch.isfinite(Tanh()(x)).all()
    assert torch.isfinite(get_grads(Sigmoid(), x)).all()


def test_tanh_is_accurate_near_zero():
    x = torch.tensor([1e-300, 1e-20, 1e-10, -1e-10], dtype=torch.float64)
    torch.testing.assert_close(Tanh()(x), torch.tanh(x), rtol=1e-15, atol=0.0)


def test_sigmoid_derivative_bound_is_one_quarter_at_zero():
    x = torch.arange(-10000, 10001, dtype=torch.float64) / 1000  # -10..10, 0 을 정확히 포함
    grad = get_grads(Sigmoid(), x)
    assert grad.max().item() == pytest.approx(0.25, abs=1e-15)
    assert x[grad.argmax()].item() == 0.0
    assert (grad <= 0.25).all()


def test_tanh_derivative_bound_is_one_at_zero():
    x = torch.arange(-10000, 10001, dtype=torch.float64) / 1000
    grad = get_grads(Tanh(), x)
    assert grad.max().item() == pytest.approx(1.0, abs=1e-15)
    assert x[grad.argmax()].item() == 0.0
    assert (grad <= 1.0).all()
    # tanh(x) = 2σ(2x) − 1 이므로 tanh′(x) = 4σ′(2x): 상한이 1/4 이 아니라 1 입니다.
    torch.testing.assert_close(grad, 4 * get_grads(Sigmoid(), 2 * x))


def test_relu_derivative_is_zero_or_one():
    x = torch.cat([inputs(torch.float64), torch.zeros(3, dtype=torch.float64)])
    grad = get_grads(ReLU(), x)
    assert set(grad.unique().tolist()) == {0.0, 1.0}
    torch.testing.assert_close(grad, (x > 0).to(torch.float64))


def test_relu_propagates_nan():
    out = ReLU()(torch.tensor([float("nan"), -1.0, 2.0]))
    assert torch.isnan(out[0]) and out[1] == 0 and out[2] == 2


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_shape_and_batch_of_one_preserved(name):
    x = torch.randn(1, 3, 5, 7, dtype=torch.float64)
    out = ACTIVATIONS[name]()(x)
    assert out.shape == (1, 3, 5, 7)
    torch.testing.assert_close(out, REFERENCE[name](x))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_rejects_non_float_input(name):
    with pytest.raises(TypeError, match="실수"):
        ACTIVATIONS[name]()(torch.arange(3))
    with pytest.raises(TypeError, match="torch.Tensor"):
        ACTIVATIONS[name]()([1.0, 2.0])


def test_get_grads_does_not_modify_input_and_validates():
    x = torch.linspace(-2, 2, 5)
    before = x.clone()
    get_grads(Tanh(), x)
    assert torch.equal(x, before) and not x.requires_grad
    with pytest.raises(TypeError, match="act_fn"):
        get_grads("relu", x)
    with pytest.raises(ValueError, match="원소별"):
        get_grads(lambda t: t.sum(), x)


def test_plot_activation_draws_function_and_gradient():
    fig, ax = plt.subplots()
    x = torch.linspace(-5, 5, 101)
    plot_activation(Sigmoid(), x, ax)
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) == 101]
    assert len(lines) == 2
    torch.testing.assert_close(torch.as_tensor(lines[0].get_ydata()), torch.sigmoid(x))
    torch.testing.assert_close(torch.as_tensor(lines[1].get_ydata()), torch.sigmoid(x) * (1 - torch.sigmoid(x)))
    assert ax.get_title() == "Sigmoid"
    with pytest.raises(ValueError, match="1차원"):
        plot_activation(Sigmoid(), x.reshape(1, -1), ax)  # (101,) -> (1, 101)
    plt.close(fig)


def test_get_grads_rejects_functions_that_ignore_x():
    x = torch.linspace(-2, 2, 5)
    # 출력이 x 와 연결되어 있지 않으면 torch 의 RuntimeError 대신 원인을 말하는 ValueError 를 냅니다.
    with pytest.raises(ValueError, match="act_fn"):
        get_grads(lambda t: torch.zeros_like(t), x)
    with pytest.raises(ValueError, match="act_fn"):
        get_grads(lambda t: t.detach() * 2, x)
    # 다른 텐서(학습되는 매개변수)에만 연결된 출력: 역전파는 되지만 x 의 기울기가 없습니다.
    w = torch.ones(5, requires_grad=True)
    with pytest.raises(ValueError, match="x"):
        get_grads(lambda t: w * 3, x)
    with pytest.raises(TypeError, match="텐서"):
        get_grads(lambda t: t.tolist(), x)
