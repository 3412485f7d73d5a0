"""alexnetbook.perf.throughput: 속도 설정마다의 학습 스텝·추론이 기준과 같은 계산을 하는지, PyTorch LRN 으로 바꾼
기준 모델이 이 책의 모델과 같은 값을 내는지.

시간은 재지 않습니다(벤치마크의 일). 작은 ``AlexNet.for_cifar`` 로 빠르게 확인합니다.
"""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch
from torch import nn

from alexnetbook.lrn import LocalResponseNorm
from alexnetbook.models import AlexNet
from alexnetbook.perf import throughput
from alexnetbook.perf.throughput import (
    BENCH_TRAIN,
    INFERENCE_CONFIGS,
    TRAIN_CONFIGS,
    GroupedTorchLRN,
    SpeedConfig,
    make_inference,
    make_train_step,
    speed_config,
    use_torch_lrn_,
)


def tiny(groups: int = 1, dtype: torch.dtype = torch.float32) -> nn.Module:
    torch.manual_seed(0)
    return AlexNet.for_cifar(num_classes=10, groups=groups, dropout=0.0).to(dtype)


def one_step(config: SpeedConfig, *, groups: int = 1, batch_size: int = 4) -> tuple[nn.Module, torch.Tensor]:
    model = tiny(groups)
    step = make_train_step(model, config, batch_size, image_size=32, num_classes=10, seed=3)
    return model, step()


FAST = dataclasses.replace(BENCH_TRAIN, lr=0.1)  # 한 스텝에 가중치가 눈에 띄게 움직이도록


def test_speed_config_splits_switches_between_train_config_and_its_own():
    config = speed_config(channels_last=True, bf16=True, retain_memory=True, lr=0.5)
    assert config.train == dataclasses.replace(BENCH_TRAIN, channels_last=True, bf16=True, lr=0.5)
    assert config.retain_memory and not config.bf16_weights and not config.torch_lrn
    assert SpeedConfig().label == "eager float32"
    assert TRAIN_CONFIGS["stock_fp32"].label == "eager float32 (nn.LocalResponseNorm)"
    label = speed_config(channels_last=True, bf16=True, compile=True, fused_sgd=True, retain_memory=True).label
    for part in ("torch.compile", "channels_last", "bf16 autocast", "fused SGD", "malloc reuse"):
        assert part in label
    assert not any(c.bf16_weights for c in TRAIN_CONFIGS.values())
    assert not any(c.train.fused_sgd or c.train.compile for c in INFERENCE_CONFIGS.values())
    with pytest.raises(TypeError, match="unknown|unexpected"):
        speed_config(channel_last=True)


def test_eager_step_is_one_sgd_update():
    """기준 스텝은 손으로 쓴 교차 엔트로피 + SGD(모멘텀 0.9, 감쇠 5e-4) 한 번과 같아야 합니다."""
    model = tiny()
    expected = copy.deepcopy(model)
    step = make_train_step(model, SpeedConfig(train=FAST), 4, image_size=32, num_classes=10, seed=3)
    loss = step()
    generator = torch.Generator().manual_seed(3)
    images = torch.randn(4, 3, 32, 32, generator=generator)
    labels = torch.randint(0, 10, (4,), generator=generator)
    expected.train()
    ref_loss = nn.functional.cross_entropy(expected(images), labels)
    ref_loss.backward()
    with torch.no_grad():
        for p in expected.parameters():
            p -= 0.1 * (p.grad + 5e-4 * p)  # 첫 스텝의 모멘텀 버퍼는 기울기 + 감쇠 그 자체
    assert torch.allclose(loss, ref_loss.detach())
    for (name, got), want in zip(model.named_parameters(), expected.parameters()):
        assert torch.allclose(got, want, atol=1e-6), name


@pytest.mark.parametrize("name", ["channels_last", "fused_sgd", "stock_fp32"])
def test_layout_fused_sgd_and_torch_lrn_do_not_change_the_update(name):
    reference, ref_loss = one_step(SpeedConfig())
    model, loss = one_step(TRAIN_CONFIGS[name])
    assert torch.allclose(loss, ref_loss, atol=1e-6)
    for (pname, got), want in zip(model.named_parameters(), reference.parameters()):
        assert torch.allclose(got, want, atol=1e-5), pname


def test_channels_last_model():
    model = tiny()
    make_train_step(model, TRAIN_CONFIGS["channels_last"], 2, image_size=32, num_classes=10)
    assert model.features.conv1.weight.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("groups", [1, 2])
def test_bf16_autocast_step_is_close_to_float32(groups):
    reference, ref_loss = one_step(SpeedConfig(), groups=groups)
    model, loss = one_step(speed_config(channels_last=True, bf16=True, fused_sgd=True), groups=groups)
    assert loss.dtype == torch.float32  # 손실은 autocast 가 float32 로 계산합니다
    assert abs(loss.item() - ref_loss.item()) < 0.05 * abs(ref_loss.item())
    assert all(p.dtype == torch.float32 for p in model.parameters())  # 가중치는 float32 그대로
    moved = sum((a - b).abs().sum() for a, b in zip(model.parameters(), tiny(groups).parameters()))
    assert moved > 0


def test_retain_memory_switch_sets_the_allocator(monkeypatch):
    """설정이 켜져 있을 때만 프로세스의 malloc 설정을 바꿉니다(여기서는 실제로 바꾸지 않도록 가로챔)."""
    calls = []
    monkeypatch.setattr(throughput, "retain_freed_memory", lambda: calls.append(True) or True)
    _, ref_loss = one_step(SpeedConfig())
    assert calls == []
    _, loss = one_step(TRAIN_CONFIGS["retain_memory"])
    assert calls == [True]
    assert torch.equal(loss, ref_loss)


@pytest.mark.slow
def test_compile_config_wraps_the_model(monkeypatch):
    """컴파일 자체는 느리므로 실제 Inductor 대신 eager 백엔드로 같은 경로를 지나게 합니다."""
    seen = []
    real_compile = torch.compile

    def fake_compile(model, **kwargs):
        seen.append(model)
        return real_compile(model, backend="eager", **kwargs)

    monkeypatch.setattr(throughput.torch, "compile", fake_compile)
    _, ref_loss = one_step(SpeedConfig())
    model, loss = one_step(TRAIN_CONFIGS["compile"])
    assert seen == [model]
    assert torch.allclose(loss, ref_loss, atol=1e-6)


def test_step_with_loader_batch_matches_synthetic_batch():
    step_a = make_train_step(tiny(), TRAIN_CONFIGS["channels_last"], 4, image_size=32, num_classes=10, seed=3)
    step_b = make_train_step(tiny(), TRAIN_CONFIGS["channels_last"], 4, image_size=32, num_classes=10, seed=3)
    generator = torch.Generator().manual_seed(3)
    images = torch.randn(4, 3, 32, 32, generator=generator)  # 만들 때의 합성 배치와 같은 값
    labels = torch.randint(0, 10, (4,), generator=generator)
    assert torch.equal(step_a(), step_b(images, labels))
    with pytest.raises(ValueError, match="함께"):
        step_b(images, None)


@pytest.mark.parametrize("name", ["channels_last", "bf16_autocast", "bf16_weights", "channels_last_bf16_weights"])
def test_inference_configs_agree_with_float32(name):
    model = tiny()
    reference = make_inference(copy.deepcopy(model), SpeedConfig(), 3, image_size=32)()
    config = INFERENCE_CONFIGS[name]
    out = make_inference(model, config, 3, image_size=32)()
    assert not model.training
    assert out.shape == (3, 10)
    low = config.train.bf16 or config.bf16_weights
    assert out.dtype == (torch.bfloat16 if low else torch.float32)
    tol = 0.05 * reference.abs().max().item() if low else 1e-5
    assert (out.float() - reference).abs().max().item() < tol


@pytest.mark.parametrize("groups", [1, 2])
def test_torch_lrn_model_matches_the_books_model_in_float64(groups):
    """LRN 을 nn.LocalResponseNorm 으로 바꾼 기준 모델은 출력과 모든 기울기가 이 책의 모델과 같습니다."""
    ours = tiny(groups, torch.float64)
    stock = use_torch_lrn_(copy.deepcopy(ours))
    assert not any(isinstance(m, LocalResponseNorm) for m in stock.modules())
    kind = nn.LocalResponseNorm if groups == 1 else GroupedTorchLRN
    assert sum(isinstance(m, kind) for m in stock.modules()) == 2
    x = torch.randn(3, 3, 32, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 40
    out_ours, out_stock = ours(x), stock(x)
    torch.testing.assert_close(out_stock, out_ours, rtol=1e-12, atol=1e-12)
    out_ours.square().sum().backward()
    out_stock.square().sum().backward()
    for (name, a), b in zip(ours.named_parameters(), stock.parameters()):
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-10, atol=1e-12, msg=name)


def test_grouped_torch_lrn_differs_from_one_lrn_over_all_channels():
    """두 타워의 LRN 은 타워 경계를 넘어 이웃을 세지 않으므로, 채널 전체에 LRN 하나를 쓴 것과 다릅니다."""
    x = torch.randn(2, 8, 3, 3, dtype=torch.float64) * 30
    lrn = nn.LocalResponseNorm(5, alpha=1e-2, beta=0.75, k=2.0)
    grouped = GroupedTorchLRN(lrn, 2)(x)
    torch.testing.assert_close(grouped[:, :4], lrn(x[:, :4]))
    torch.testing.assert_close(grouped[:, 4:], lrn(x[:, 4:]))
    assert not torch.allclose(grouped, lrn(x))


def test_bad_arguments():
    with pytest.raises(TypeError, match="config"):
        make_train_step(tiny(), "eager", 2, image_size=32, num_classes=10)
    with pytest.raises(TypeError, match="retain_memory"):
        SpeedConfig(retain_memory="yes")
    with pytest.raises(ValueError, match="batch_size"):
        make_inference(tiny(), SpeedConfig(), 0, image_size=32)
    with pytest.raises(ValueError, match="image_size"):
        make_inference(tiny(), SpeedConfig(), 1, image_size=-4)
    with pytest.raises(ValueError, match="num_classes"):
        make_train_step(tiny(), SpeedConfig(), 2, image_size=32, num_classes=0)
    with pytest.raises(ValueError, match="추론 전용"):
        make_train_step(tiny(), INFERENCE_CONFIGS["bf16_weights"], 2, image_size=32, num_classes=10)
    paper = AlexNet.for_cifar(num_classes=10, lrn_convention="paper")
    with pytest.raises(ValueError, match="convention"):
        use_torch_lrn_(paper)
