"""alexnetbook.costs: 층별 매개변수·MAC 과 FLOP 수가 층 모양에서 식으로 센 값과 같은지.

``flop_counter`` 와 독립인 기준(순전파 훅으로 얻은 출력 모양 + 합성곱·선형 층의 MAC 식)과 비교합니다. 논문 크기의
AlexNet 은 ``meta`` 장치에 만들어 값 없이 모양만 계산하므로 빠릅니다.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from alexnetbook.costs import LayerCost, count_flops, layer_costs
from alexnetbook.models import AlexNet

NAMES = [
    "features.conv1", "features.conv2", "features.conv3", "features.conv4", "features.conv5",
    "classifier.fc6", "classifier.fc7", "classifier.fc8",
]


def paper_net(groups: int) -> AlexNet:
    with torch.device("meta"):
        return AlexNet(groups=groups)


def tiny(groups: int = 1) -> AlexNet:
    torch.manual_seed(0)
    return AlexNet.for_cifar(num_classes=10, groups=groups, dropout=0.0)


def costs_by_formula(model: nn.Module, size: int) -> list[tuple[int, int]]:
    """층마다 ``(매개변수 수, 순전파 MAC)``: 출력 모양은 순전파 훅으로 얻고 MAC 은 식으로 셉니다."""
    rows: list[tuple[int, int]] = []

    def hook(module, inputs, output):
        params = sum(p.numel() for p in module.parameters())
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            macs = output[0].numel() * (module.in_channels // module.groups) * kh * kw
        else:
            macs = module.in_features * module.out_features
        rows.append((params, macs))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    device = next(model.parameters()).device
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, size, size, device=device))
    for h in handles:
        h.remove()
    return rows


@pytest.mark.parametrize("groups", [1, 2])
def test_layer_costs_match_formula_and_parameter_total(groups):
    model = paper_net(groups)
    costs = layer_costs(model, 224)
    assert [c.name for c in costs] == NAMES
    assert [c.kind for c in costs] == ["conv"] * 5 + ["fc"] * 3
    assert [(c.params, c.macs) for c in costs] == costs_by_formula(model, 224)
    assert sum(c.params for c in costs) == sum(p.numel() for p in model.parameters())
    # 사실 파일(alexnet-facts.md §3, §7)의 값: 묶음 모델 60,965,224개, 0.724 G MAC
    if groups == 2:
        assert sum(c.params for c in costs) == 60_965_224
        assert round(sum(c.macs for c in costs) / 1e9, 3) == 0.724


def test_layer_costs_leave_the_model_unchanged():
    model = tiny()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    costs = layer_costs(model, 32)
    assert all(isinstance(c, LayerCost) for c in costs)
    assert {p.device.type for p in model.parameters()} == {"cpu"}
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize("groups", [1, 2])
def test_count_flops_matches_layer_formula(groups):
    model = paper_net(groups)
    rows = costs_by_formula(model, 224)
    total, first = sum(m for _, m in rows), rows[0][1]
    assert count_flops(model) == 2 * total
    # 역전파: 층마다 입력 기울기와 가중치 기울기(각각 순전파와 같은 MAC), 첫 층은 가중치 기울기만
    assert count_flops(model, train=True) == 2 * (3 * total - first)


def test_train_flops_match_flop_counter_without_groups():
    """묶음이 없는 모델에서는 FlopCounterMode 로 역전파까지 직접 센 값과 같아야 합니다."""
    model = tiny(groups=1)
    counter = FlopCounterMode(display=False)
    with counter:
        model(torch.randn(1, 3, 32, 32)).sum().backward()
    assert count_flops(model, image_size=32, train=True) == counter.get_total_flops()


def test_missing_per_layer_counts_raise_instead_of_returning_zero(monkeypatch):
    # torch 2.2 의 FlopCounterMode 는 전체 합("Global")만 줍니다. 그때 0 MAC 을 돌려주면 장(chapter)이 틀린 수를
    # 출력하므로, 오류로 멈춰야 합니다.
    def global_only(self):
        return {"Global": {torch.ops.aten.convolution: 1}}

    monkeypatch.setattr(FlopCounterMode, "get_flop_counts", global_only)
    with pytest.raises(RuntimeError, match="FlopCounterMode"):
        layer_costs(tiny(), 32)
    with pytest.raises(RuntimeError, match="conv1"):
        count_flops(tiny(), image_size=32)


def test_bad_arguments():
    with pytest.raises(ValueError, match="input_size"):
        layer_costs(tiny(), 0)
    with pytest.raises(TypeError, match="input_size"):
        layer_costs(tiny(), 32.0)
    with pytest.raises(ValueError, match="Conv2d"):
        layer_costs(nn.Sequential(nn.Flatten()), 4)
    with pytest.raises(ValueError, match="image_size"):
        count_flops(tiny(), image_size=0)


@pytest.mark.parametrize("groups", [2, 4])
def test_pinned_flop_counter_counts_the_grouped_weight_gradient_groups_times(groups):
    """성능 장이 말하는 사실: 고정한 torch 의 flop_counter 는 묶음 합성곱의 가중치 기울기를 묶음 수로 나누지 않습니다.

    torch 가 이것을 고치면 이 테스트가 실패합니다. 그때는 성능 장과 ``costs.count_flops`` 의 설명을 고치세요.
    """
    conv = nn.Conv2d(8, 16, 3, padding=1, groups=groups, bias=False)
    x = torch.randn(1, 8, 10, 10, requires_grad=True)
    out = conv(x)
    counter = FlopCounterMode(display=False)
    with counter:
        out.sum().backward()
    forward = 2 * 10 * 10 * 16 * (8 // groups) * 9
    assert counter.get_total_flops() == forward + forward * groups  # 입력 기울기는 맞고, 가중치 기울기가 groups 배
