"""alexnetbook.dropout: 논문 방식(테스트 때 ×(1−p))과 역드롭아웃이 같은 기댓값을 내는지, torch 와 같은 마스크를 쓰는지."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from alexnetbook.dropout import DROPOUT_MODES, Dropout, dropout, dropout_mask


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9])
@pytest.mark.parametrize("shape", [(1,), (7,), (3, 5), (2, 4, 3, 3)])
def test_inverted_matches_torch_forward_and_backward_float64(p, shape):
    x = (torch.randn(shape, dtype=torch.float64) * 100).requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    torch.manual_seed(123)
    out = Dropout(p, mode="inverted").train()(x)
    torch.manual_seed(123)
    ref = F.dropout(x_ref, p, training=True)
    assert torch.equal(out, ref)
    grad = torch.randn(shape, dtype=torch.float64)
    out.backward(grad)
    ref.backward(grad)
    assert torch.equal(x.grad, x_ref.grad)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_paper_mode_uses_the_same_mask_as_torch_without_scaling(p):
    x = torch.rand(4000, dtype=torch.float64) + 0.5  # 0 이 없는 입력: 꺼진 유닛만 0
    torch.manual_seed(7)
    paper = Dropout(p, mode="paper").train()(x)
    torch.manual_seed(7)
    ref = F.dropout(x, p, training=True)
    assert torch.equal(paper != 0, ref != 0)
    kept = paper != 0
    assert torch.equal(paper[kept], x[kept])  # 남은 유닛은 크기 그대로
    assert 0 < int(kept.sum()) < len(x)


def test_generator_gives_the_same_mask_as_the_same_global_seed():
    x = torch.randn(1000, dtype=torch.float64)
    gen = torch.Generator().manual_seed(3)
    with_gen = dropout(x, 0.5, mode="inverted", generator=gen)
    torch.manual_seed(3)
    assert torch.equal(with_gen, F.dropout(x, 0.5))
    # 생성기를 쓰면 전역 난수 상태는 건드리지 않습니다.
    torch.manual_seed(11)
    before = torch.get_rng_state()
    dropout(x, 0.5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(before, torch.get_rng_state())


def test_mask_is_zero_one_with_the_right_dtype():
    x = torch.randn(5, 6, dtype=torch.float64)
    mask = dropout_mask(x, 0.3, torch.Generator().manual_seed(0))
    assert mask.shape == x.shape and mask.dtype == torch.float64
    assert set(mask.unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 0.8])
def test_eval_mode_behaviour(p):
    x = torch.randn(6, 10, dtype=torch.float64)
    inverted = Dropout(p, mode="inverted").eval()
    paper = Dropout(p, mode="paper").eval()
    assert torch.equal(inverted(x), x)
    assert torch.equal(nn.Dropout(p).eval()(x), x)
    assert torch.equal(paper(x), x * (1 - p))
    # 평가 모드에서는 난수를 쓰지 않습니다(결정적).
    assert torch.equal(paper(x), paper(x))


@pytest.mark.parametrize("p", [0.25, 0.5, 0.75])
def test_expected_training_output_equals_test_output_in_both_modes(p):
    # 입력 하나를 n 번 복제해 마스크를 n 개 뽑습니다. 원소마다 표본 평균의 표준오차는
    # x·sqrt(p/(1−p))/sqrt(n) (역드롭아웃) 이하이고, 허용 오차는 그 8배 이상이라 실패할 수 없습니다.
    n = 200_000
    x = torch.linspace(-3.0, 3.0, 8, dtype=torch.float64)
    batch = x.expand(n, -1).clone()
    gen = torch.Generator().manual_seed(2012)
    for mode in DROPOUT_MODES:
        layer = Dropout(p, mode=mode, generator=gen)
        train_mean = layer.train()(batch).mean(dim=0)
        test_out = layer.eval()(x)
        scale = 1.0 if mode == "inverted" else (1 - p)
        tol = 8 * x.abs().max() * scale * (p / (1 - p)) ** 0.5 / n**0.5
        assert torch.allclose(train_mean, test_out, atol=float(tol), rtol=0)
    # 두 방식의 테스트 출력은 정확히 1−p 배만큼 다릅니다(다음 층 가중치가 그만큼 커서 상쇄됨).
    assert torch.equal(Dropout(p, mode="paper").eval()(x), Dropout(p, mode="inverted").eval()(x) * (1 - p))


def test_paper_equals_inverted_times_one_minus_p_for_the_same_mask():
    x = torch.randn(50, dtype=torch.float64)
    a = dropout(x, 0.5, mode="paper", generator=torch.Generator().manual_seed(5))
    b = dropout(x, 0.5, mode="inverted", generator=torch.Generator().manual_seed(5))
    assert torch.allclose(a, b * 0.5, rtol=0, atol=1e-15)


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, float("nan")])
def test_bad_p_raises_value_error_naming_p(bad):
    with pytest.raises(ValueError, match=r"^p은\(는\)"):
        Dropout(bad)
    with pytest.raises(ValueError, match=r"^p은\(는\)"):
        dropout(torch.ones(3), bad)


def test_bad_arguments_name_the_argument():
    with pytest.raises(TypeError, match=r"^p은\(는\)"):
        Dropout("0.5")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^p은\(는\)"):
        Dropout(True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^mode은\(는\)"):
        Dropout(0.5, mode="scaled")
    with pytest.raises(ValueError, match=r"^mode은\(는\)"):
        dropout(torch.ones(3), 0.5, mode="scaled")
    with pytest.raises(TypeError, match=r"^input은\(는\)"):
        dropout(torch.ones(3, dtype=torch.int64), 0.5)
    with pytest.raises(TypeError, match=r"^input은\(는\)"):
        dropout([1.0, 2.0], 0.5)  # type: ignore[arg-type]


def test_repr_and_module_behaviour():
    layer = Dropout(0.5, mode="paper")
    assert "p=0.5" in repr(layer) and "paper" in repr(layer)
    assert layer.training  # nn.Module 기본값
    assert list(layer.parameters()) == []
