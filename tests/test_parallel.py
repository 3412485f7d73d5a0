"""alexnetbook.parallel: 두 타워(두 장치) AlexNet 이 묶음(groups=2) AlexNet 과 같은 계산인지.

층별 매개변수·연산량 세기(``alexnetbook.costs``)의 테스트는 ``test_costs.py`` 에 있습니다.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from alexnetbook.dropout import Dropout
from alexnetbook.lrn import LocalResponseNorm
from alexnetbook.models import AlexNet, AlexNetConfig
from alexnetbook.parallel import CROSS_DEVICE_INPUTS, STAGES, TwoTowerAlexNet

CPU2 = ("cpu", "cpu")
LRN_LINEAR_GAIN = 2.0 ** -0.75  # k=2 일 때 작은 입력에서 LRN 은 거의 이 상수배입니다
LEARNED = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")

#: 비교할 묶음 모델과 입력 크기. "narrow224" 는 논문의 기하(conv1 11×11 보폭 4, 224 입력, 6×6 풀링)를 좁은
#: 채널로 빠르게 확인하고, "paper224" 는 논문 크기 그대로입니다(느림).
CASES = {
    "cifar": (AlexNetConfig.cifar(num_classes=7, groups=2), 3, 32),  # 홀수 클래스: fc8 이 4 + 3 으로 나뉨
    "narrow224": (AlexNetConfig(num_classes=10, groups=2, channels=(16, 32, 48, 48, 32), hidden_features=64), 1, 224),
    "paper224": (AlexNetConfig(groups=2), 1, 224),
}


def grouped_param_names(model: AlexNet) -> list[tuple[str, str, str]]:
    """(grouped state_dict 키, 층 이름, 매개변수 이름)."""
    return [(key, key.split(".")[1], key.split(".")[2]) for key, _ in model.named_parameters()]


def tower_grad(two: TwoTowerAlexNet, layer: str, pname: str) -> torch.Tensor:
    return torch.cat([getattr(t[layer], pname).grad.to("cpu") for t in two.towers], dim=0)


def lrn_gains(model: AlexNet, x: torch.Tensor) -> dict[str, float]:
    """LRN 출력/입력 비의 평균(입력이 1보다 큰 곳). 선형 영역이면 약 0.5946 입니다."""
    gains: dict[str, float] = {}

    def hook(name):
        def record(module, inputs, output):
            a = inputs[0]
            mask = a > 1
            gains[name] = float((output[mask] / a[mask]).mean())
        return record

    handles = [getattr(model.features, n).register_forward_hook(hook(n)) for n in ("norm1", "norm2")]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return gains


def make_pair(kind: str, seed: int = 0) -> tuple[AlexNet, torch.Tensor]:
    """float64 묶음 모델과 0–255 픽셀 척도의 입력. conv1, conv2 가중치를 키워 LRN 이 확실히 비선형이게 합니다."""
    config, batch, size = CASES[kind]
    torch.manual_seed(seed)
    model = AlexNet.from_config(config).double().eval()
    x = torch.rand(batch, 3, size, size, dtype=torch.float64) * 255
    with torch.no_grad():
        model.features.conv1.weight.mul_(4.0)
        model.features.conv2.weight.mul_(4.0)
    return model, x


@pytest.mark.parametrize(
    "kind", ["cifar", "narrow224", pytest.param("paper224", marks=[pytest.mark.slow, pytest.mark.timeout(600)])]
)
def test_two_tower_equals_grouped_forward_and_backward(kind):
    grouped, x = make_pair(kind)
    gains = lrn_gains(grouped, x)
    # 이 입력에서 LRN 은 상수배(선형)와 거리가 멀어야 의미 있는 시험입니다(묶음을 잘못 나누면 값이 달라짐).
    assert gains["norm1"] < 0.8 * LRN_LINEAR_GAIN and gains["norm2"] < 0.9 * LRN_LINEAR_GAIN, gains

    two = TwoTowerAlexNet.from_grouped(grouped, devices=CPU2)
    xg = x.clone().requires_grad_(True)
    xt = x.clone().requires_grad_(True)
    yg, yt = grouped(xg), two(xt)
    assert yt.shape == yg.shape
    scale = float(yg.detach().abs().max())
    assert scale > 0
    torch.testing.assert_close(yt, yg, rtol=1e-12, atol=1e-12 * scale)

    weights = torch.randn_like(yg)  # 임의의 상류 기울기
    (yg * weights).sum().backward()
    (yt * weights).sum().backward()
    torch.testing.assert_close(xt.grad, xg.grad, rtol=1e-10, atol=1e-12 * float(xg.grad.abs().max()))
    for key, layer, pname in grouped_param_names(grouped):
        g = dict(grouped.named_parameters())[key].grad
        torch.testing.assert_close(tower_grad(two, layer, pname), g, rtol=1e-10, atol=1e-12 * float(g.abs().max()),
                                   msg=key)


def test_train_mode_without_dropout_matches_and_mode_is_copied():
    torch.manual_seed(1)
    grouped = AlexNet.for_cifar(groups=2, dropout=0.0).double().train()
    two = TwoTowerAlexNet.from_grouped(grouped, devices=CPU2)
    assert two.training and all(m.training for m in two.modules())
    x = torch.rand(2, 3, 32, 32, dtype=torch.float64) * 255
    torch.testing.assert_close(two(x), grouped(x), rtol=1e-12, atol=1e-12)
    assert not TwoTowerAlexNet.from_grouped(grouped.eval(), devices=CPU2).training


def test_paper_dropout_mode_is_carried_to_the_towers_and_back():
    torch.manual_seed(4)
    grouped = AlexNet.for_cifar(groups=2, dropout_mode="paper").double().eval()
    two = TwoTowerAlexNet.from_grouped(grouped, devices=CPU2)
    assert two.config.dropout_mode == "paper"
    drops = [t[name] for t in two.towers for name in ("drop6", "drop7")]
    assert all(isinstance(d, Dropout) and d.mode == "paper" for d in drops)
    # 평가 모드의 논문식 드롭아웃은 (1 − p) 배를 하므로, 역드롭아웃 모델과는 값이 다르고 묶음 모델과는 같아야 합니다.
    x = torch.rand(2, 3, 32, 32, dtype=torch.float64) * 255
    torch.testing.assert_close(two(x), grouped(x), rtol=1e-12, atol=1e-12)
    inverted = AlexNet.for_cifar(groups=2).double().eval()
    inverted.load_state_dict(grouped.state_dict())
    assert not torch.allclose(inverted(x), grouped(x))
    back = two.to_grouped()
    assert back.config == grouped.config and isinstance(back.classifier.drop6, Dropout)


def test_round_trip_both_ways_is_exact():
    torch.manual_seed(2)
    grouped = AlexNet.for_cifar(groups=2, num_classes=7)
    back = TwoTowerAlexNet.from_grouped(grouped, devices=CPU2).to_grouped()
    assert isinstance(back, AlexNet) and back.groups == 2 and repr(back) == repr(grouped)
    original = grouped.state_dict()
    assert back.state_dict().keys() == original.keys()
    for key, value in back.state_dict().items():
        assert torch.equal(value, original[key]), key

    two = TwoTowerAlexNet(CPU2, num_classes=7, channels=(32, 64, 96, 96, 64), hidden_features=64,
                          conv1_kernel_size=5, conv1_stride=1, pool_output_size=3)
    again = TwoTowerAlexNet.from_grouped(two.to_grouped(), devices=CPU2)
    for (name_a, a), (name_b, b) in zip(two.named_parameters(), again.named_parameters(), strict=True):
        assert name_a == name_b and torch.equal(a, b), name_a


def test_from_grouped_copies_instead_of_sharing():
    grouped = AlexNet.for_cifar(groups=2)
    before = grouped.features.conv1.weight.detach().clone()
    two = TwoTowerAlexNet.from_grouped(grouped, devices=CPU2)
    with torch.no_grad():
        two.towers[0]["conv1"].weight.zero_()
    assert torch.equal(grouped.features.conv1.weight, before)


def test_each_tower_holds_half_of_every_layer():
    with torch.device("meta"):  # 논문 크기의 구조만(값 없이) 만들어 셉니다
        grouped = AlexNet(groups=2)
    two = TwoTowerAlexNet.from_grouped(grouped, devices=("meta", "meta"))
    total = sum(p.numel() for p in grouped.parameters())
    per_tower = [sum(p.numel() for p in t.parameters()) for t in two.towers]
    assert total == 60_965_224 and per_tower == [total // 2, total // 2]
    layers = dict(grouped.features.named_children()) | dict(grouped.classifier.named_children())
    for name in LEARNED:
        full = layers[name]
        half = two.towers[0][name]
        out_full = full.out_channels if isinstance(full, nn.Conv2d) else full.out_features
        out_half = half.out_channels if isinstance(half, nn.Conv2d) else half.out_features
        assert out_half == out_full // 2, name
        # 입력 폭: conv3 과 FC 층은 두 타워 전부, conv2/4/5 는 자기 타워의 절반만(논문 §3.5)
        in_full = full.in_channels if isinstance(full, nn.Conv2d) else full.in_features
        in_half = half.in_channels if isinstance(half, nn.Conv2d) else half.in_features
        crosses = name in CROSS_DEVICE_INPUTS or name == "conv1"
        assert in_half == (in_full if crosses else in_full // full.groups), name
    for name in ("norm1", "norm2"):  # 타워마다 자기 절반(48, 128채널) 안에서만 이웃을 셉니다
        assert isinstance(two.towers[1][name], LocalResponseNorm) and two.towers[1][name].groups == 1


def test_cross_device_points_are_conv3_and_fc_layers():
    assert CROSS_DEVICE_INPUTS == ("conv3", "fc6", "fc7", "fc8")
    assert [name for stage in STAGES for name in stage if name.startswith(("conv", "fc"))] == list(LEARNED)
    torch.manual_seed(3)
    two = TwoTowerAlexNet(CPU2, num_classes=10, channels=(8, 16, 24, 24, 16), hidden_features=32,
                          conv1_kernel_size=5, conv1_stride=1, pool_output_size=3)
    n = 2
    two.eval()(torch.rand(n, 3, 32, 32) * 255)
    # 32 → 15 → 7 → 3: pool2 출력 7×7, pool5(avgpool) 출력 3×3
    expected = {
        "conv3": n * 16 * 7 * 7,  # 두 타워가 각자 8채널씩 상대에게 보냄
        "fc6": n * 16 * 3 * 3,
        "fc7": n * 32,
        "fc8": n * 32,
        "output": n * 5,  # 1번 타워의 로짓 5개를 devices[0] 으로
    }
    assert two.last_transfers == expected


def test_bad_arguments_raise_clear_errors():
    grouped = AlexNet.for_cifar(groups=2)
    with pytest.raises(ValueError, match="devices"):
        TwoTowerAlexNet.from_grouped(grouped, devices=("cpu",))
    with pytest.raises(ValueError, match="devices"):
        TwoTowerAlexNet.from_grouped(grouped, devices="cpu")
    with pytest.raises(ValueError, match="groups=2"):
        TwoTowerAlexNet.from_grouped(AlexNet.for_cifar(groups=1), devices=CPU2)
    with pytest.raises(TypeError, match="grouped.*AlexNet"):
        TwoTowerAlexNet.from_grouped(nn.Linear(2, 2), devices=CPU2)
    with pytest.raises(TypeError, match="grouped"):
        TwoTowerAlexNet(CPU2, grouped=grouped, num_classes=3)
    with pytest.raises(ValueError, match="groups=2"):
        TwoTowerAlexNet(CPU2, groups=1)
    with pytest.raises(ValueError, match="num_classes"):
        TwoTowerAlexNet.from_grouped(AlexNet.for_cifar(groups=2, num_classes=1), devices=CPU2)
    swapped = AlexNet.for_cifar(groups=2)
    swapped.features.relu1 = nn.Tanh()
    with pytest.raises(ValueError, match="구조"):
        TwoTowerAlexNet.from_grouped(swapped, devices=CPU2)
    two = TwoTowerAlexNet.from_grouped(grouped, devices=CPU2)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        two(torch.zeros(3, 32, 32))
    with pytest.raises(ValueError, match="3채널"):
        two(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match="이상"):
        two(torch.zeros(1, 3, 8, 8))
    with pytest.raises(TypeError, match="Tensor"):
        two([[0.0]])


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA 가 있으면 'cuda:0' 이 유효합니다")
def test_cuda_devices_without_gpu_point_to_cpu_fallback():
    with pytest.raises(ValueError, match=r"\('cpu', 'cpu'\)"):
        TwoTowerAlexNet(num_classes=10)


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="GPU 두 개가 필요합니다")
def test_two_gpus_place_towers_and_match_cpu():
    grouped, x = make_pair("paper224")
    two = TwoTowerAlexNet.from_grouped(grouped, devices=("cuda:0", "cuda:1"))
    for i, tower in enumerate(two.towers):
        assert {p.device for p in tower.parameters()} == {torch.device("cuda", i)}
    y = two(x)
    assert y.device == torch.device("cuda", 0)
    expected = grouped(x)
    torch.testing.assert_close(y.cpu(), expected, rtol=1e-9, atol=1e-9 * float(expected.abs().max()))
