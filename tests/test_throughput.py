"""alexnetbook.experiments.throughput: 설정별 학습 한 걸음·추론이 기준과 같은 계산을 하는지, FLOP 수가 식과 맞는지.

시간은 재지 않습니다(벤치마크의 일). 작은 ``AlexNet.for_cifar`` 로 빠르게 확인합니다.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from alexnetbook.experiments import throughput
from alexnetbook.experiments.throughput import (
    INFERENCE_CONFIGS,
    TRAIN_CONFIGS,
    SpeedConfig,
    count_flops,
    make_inference,
    make_train_step,
)
from alexnetbook.models import AlexNet, layer_output_shapes


def tiny(groups: int = 1) -> nn.Module:
    torch.manual_seed(0)
    return AlexNet.for_cifar(num_classes=10, groups=groups, dropout=0.0)


def one_step(config: SpeedConfig, *, groups: int = 1, batch_size: int = 4) -> tuple[nn.Module, torch.Tensor]:
    model = tiny(groups)
    step = make_train_step(model, config, batch_size, image_size=32, num_classes=10, lr=0.1, seed=3)
    loss = step()
    return model, loss


def test_label_names_every_switch():
    assert SpeedConfig().label == "eager float32"
    label = SpeedConfig(channels_last=True, bf16=True, compile=True, fused_sgd=True, retain_memory=True).label
    for part in ("torch.compile", "channels_last", "bf16 autocast", "fused SGD", "malloc reuse"):
        assert part in label
    assert TRAIN_CONFIGS["eager_fp32"] == SpeedConfig() == INFERENCE_CONFIGS["eager_fp32"]
    assert not any(c.bf16_weights for c in TRAIN_CONFIGS.values())
    assert not any(c.fused_sgd or c.compile for c in INFERENCE_CONFIGS.values())


def test_eager_step_is_one_sgd_update():
    """기준 걸음은 손으로 쓴 교차 엔트로피 + SGD(모멘텀 0.9, 감쇠 5e-4) 한 번과 같아야 합니다."""
    model = tiny()
    expected = copy.deepcopy(model)
    step = make_train_step(model, SpeedConfig(), 4, image_size=32, num_classes=10, lr=0.1, seed=3)
    loss = step()
    generator = torch.Generator().manual_seed(3)
    images = torch.randn(4, 3, 32, 32, generator=generator)
    labels = torch.randint(0, 10, (4,), generator=generator)
    expected.train()
    ref_loss = nn.functional.cross_entropy(expected(images), labels)
    ref_loss.backward()
    with torch.no_grad():
        for p in expected.parameters():
            # 첫 걸음의 모멘텀 버퍼는 기울기 + 감쇠 그 자체입니다.
            p -= 0.1 * (p.grad + 5e-4 * p)
    assert torch.allclose(loss, ref_loss.detach())
    for (name, got), want in zip(model.named_parameters(), expected.parameters()):
        assert torch.allclose(got, want, atol=1e-6), name


@pytest.mark.parametrize("name", ["channels_last", "fused_sgd"])
def test_layout_and_fused_sgd_do_not_change_the_update(name):
    reference, ref_loss = one_step(SpeedConfig())
    model, loss = one_step(TRAIN_CONFIGS[name])
    assert torch.allclose(loss, ref_loss, atol=1e-6)
    for (pname, got), want in zip(model.named_parameters(), reference.parameters()):
        assert torch.allclose(got, want, atol=1e-5), pname


def test_channels_last_model_and_input():
    model = tiny()
    make_train_step(model, TRAIN_CONFIGS["channels_last"], 2, image_size=32, num_classes=10)
    assert model.features.conv1.weight.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("groups", [1, 2])
def test_bf16_autocast_step_is_close_to_float32(groups):
    reference, ref_loss = one_step(SpeedConfig(), groups=groups)
    model, loss = one_step(SpeedConfig(channels_last=True, bf16=True, fused_sgd=True), groups=groups)
    assert loss.dtype == torch.float32  # 손실은 autocast 가 float32 로 계산합니다
    assert abs(loss.item() - ref_loss.item()) < 0.05 * abs(ref_loss.item())
    for p in model.parameters():
        assert p.dtype == torch.float32  # 가중치는 float32 그대로
    moved = sum((a - b).abs().sum() for a, b in zip(model.parameters(), tiny(groups).parameters()))
    assert moved > 0


def test_retain_memory_switch_sets_the_allocator(monkeypatch):
    """설정이 켜져 있을 때만 프로세스의 malloc 설정을 바꿉니다(여기서는 실제로 바꾸지 않도록 가로챔)."""
    calls = []
    monkeypatch.setattr(throughput, "retain_freed_memory", lambda: calls.append(True) or True)
    one_step(SpeedConfig())
    assert calls == []
    reference, ref_loss = one_step(SpeedConfig())
    model, loss = one_step(SpeedConfig(retain_memory=True))
    assert calls == [True]
    assert torch.equal(loss, ref_loss)


def test_compile_config_wraps_the_model(monkeypatch):
    """컴파일 자체는 느리므로 실제 Inductor 대신 eager 백엔드로 같은 경로를 지나게 합니다."""
    seen = []
    real_compile = torch.compile

    def fake_compile(model, **kwargs):
        seen.append(model)
        return real_compile(model, backend="eager", **kwargs)

    monkeypatch.setattr(throughput.torch, "compile", fake_compile)
    reference, ref_loss = one_step(SpeedConfig())
    model, loss = one_step(SpeedConfig(compile=True))
    assert seen == [model]
    assert torch.allclose(loss, ref_loss, atol=1e-6)


def test_step_with_loader_batch_matches_synthetic_batch():
    model_a, model_b = tiny(), tiny()
    step_a = make_train_step(model_a, SpeedConfig(channels_last=True), 4, image_size=32, num_classes=10, seed=3)
    step_b = make_train_step(model_b, SpeedConfig(channels_last=True), 4, image_size=32, num_classes=10, seed=3)
    generator = torch.Generator().manual_seed(3)
    images = torch.randn(4, 3, 32, 32, generator=generator)  # 만들 때의 합성 배치와 같은 값(기본 배치)
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
    low = config.bf16 or config.bf16_weights
    assert out.dtype == (torch.bfloat16 if low else torch.float32)
    tol = 0.05 * reference.abs().max().item() if low else 1e-5
    assert (out.float() - reference).abs().max().item() < tol


def test_bad_arguments():
    with pytest.raises(TypeError, match="SpeedConfig"):
        make_train_step(tiny(), "eager", 2, image_size=32, num_classes=10)
    with pytest.raises(ValueError, match="batch_size"):
        make_inference(tiny(), SpeedConfig(), 0, image_size=32)
    with pytest.raises(ValueError, match="image_size"):
        make_inference(tiny(), SpeedConfig(), 1, image_size=-4)
    with pytest.raises(ValueError, match="num_classes"):
        make_train_step(tiny(), SpeedConfig(), 2, image_size=32, num_classes=0)
    with pytest.raises(ValueError, match="추론 전용"):
        make_train_step(tiny(), SpeedConfig(bf16_weights=True), 2, image_size=32, num_classes=10)
    with pytest.raises(ValueError, match="image_size"):
        count_flops(tiny(), image_size=0)


def analytic_forward_macs(model: AlexNet, image_size: int) -> tuple[int, int]:
    """층 모양에서 식으로 센 순전파 MAC 합과 첫 층의 MAC (flop_counter 와 독립)."""
    shapes = layer_output_shapes(model, (1, 3, image_size, image_size))
    total, first = 0, None
    for name, module in [*model.features.named_children(), *model.classifier.named_children()]:
        if isinstance(module, nn.Conv2d):
            _, c_out, h, w = shapes[name]
            kh, kw = module.kernel_size
            macs = h * w * c_out * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, nn.Linear):
            macs = module.in_features * module.out_features
        else:
            continue
        first = macs if first is None else first
        total += macs
    return total, first


@pytest.mark.parametrize("groups", [1, 2])
def test_count_flops_matches_layer_formula(groups):
    model = AlexNet(groups=groups)
    total, first = analytic_forward_macs(model, 224)
    assert count_flops(model) == 2 * total
    assert count_flops(model, train=True) == 2 * (3 * total - first)


def test_train_flops_match_flop_counter_without_groups():
    """묶음이 없는 모델에서는 FlopCounterMode 로 역전파까지 직접 센 값과 같아야 합니다."""
    from torch.utils.flop_counter import FlopCounterMode

    model = tiny(groups=1)
    counter = FlopCounterMode(display=False)
    images = torch.randn(1, 3, 32, 32)
    with counter:
        model(images).sum().backward()
    assert count_flops(model, image_size=32, train=True) == counter.get_total_flops()
    assert model.features.conv1.weight.device.type == "cpu"  # 원래 모델은 그대로
