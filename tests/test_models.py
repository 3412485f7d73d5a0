"""alexnetbook.models 의 테스트: 매개변수 개수, 층별 모양, 묶음 합성곱, 묶음 LRN, 초기화, 잘못된 입력."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from alexnetbook.dropout import Dropout
from alexnetbook.lrn import local_response_norm
from alexnetbook.models import (
    PAPER_BIAS_ONE_LAYERS,
    AlexNet,
    AlexNetConfig,
    init_paper_,
    layer_output_shapes,
    layer_outputs,
)
from alexnetbook.shapes import pooling_output_size

FEATURE_NAMES = [
    "conv1", "relu1", "norm1", "pool1", "conv2", "relu2", "norm2", "pool2",
    "conv3", "relu3", "conv4", "relu4", "conv5", "relu5", "pool5",
]
CLASSIFIER_NAMES = ["fc6", "relu6", "drop6", "fc7", "relu7", "drop7", "fc8"]
OWT_CHANNELS = (64, 192, 384, 256, 256)  # torchvision(“One weird trick”)의 채널 수
SMALL = {"channels": (8, 16, 24, 24, 16), "hidden_features": 32}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def meta_model(**kwargs) -> AlexNet:
    """매개변수를 메모리에 만들지 않는 모델(모양과 개수만 볼 때)."""
    with torch.device("meta"):
        return AlexNet(**kwargs)


def layer_shapes(model: nn.Module, size: int) -> dict[str, tuple[int, ...]]:
    return layer_output_shapes(model, (1, 3, size, size))


# ---------------------------------------------------------------------------------------------
# 구조와 매개변수 개수


def test_submodule_layout_is_stable():
    model = meta_model()
    assert [n for n, _ in model.features.named_children()] == FEATURE_NAMES
    assert [n for n, _ in model.classifier.named_children()] == CLASSIFIER_NAMES
    assert isinstance(model.avgpool, nn.AdaptiveAvgPool2d)
    assert model.avgpool.output_size == (6, 6)
    # LRN 은 ReLU 뒤, 최대 풀링 앞(§3.3, §3.5). 드롭아웃은 FC6, FC7 의 ReLU 뒤의 모듈(§4.2).
    assert type(model.features.norm1).__name__ == "LocalResponseNorm"
    assert isinstance(model.classifier.drop6, nn.Dropout) and model.classifier.drop6.p == 0.5
    printed = str(model)
    assert printed.count("LocalResponseNorm") == 2 and printed.count("Dropout") == 2


@pytest.mark.parametrize(("groups", "expected"), [(1, 62_378_344), (2, 60_965_224)])
def test_parameter_counts(groups, expected):
    assert n_params(meta_model(groups=groups)) == expected


def test_grouped_layers_are_exactly_conv2_conv4_conv5():
    model = meta_model(groups=2)
    grouped = {n for n, m in model.features.named_children() if isinstance(m, nn.Conv2d) and m.groups == 2}
    assert grouped == {"conv2", "conv4", "conv5"}
    assert model.features.norm1.groups == 2 and model.features.norm2.groups == 2
    # 논문 §3.5: conv2 커널은 5×5×48, conv4 는 3×3×192, conv5 는 3×3×192, conv3 은 3×3×256
    assert tuple(model.features.conv2.weight.shape) == (256, 48, 5, 5)
    assert tuple(model.features.conv3.weight.shape) == (384, 256, 3, 3)
    assert tuple(model.features.conv4.weight.shape) == (384, 192, 3, 3)
    assert tuple(model.features.conv5.weight.shape) == (256, 192, 3, 3)


def test_torchvision_alexnet_is_the_owt_variant():
    with torch.device("meta"):
        tv = torchvision.models.alexnet(weights=None)
    assert n_params(tv) == 61_100_840
    assert n_params(tv) not in (n_params(meta_model(groups=1)), n_params(meta_model(groups=2)))
    tv_channels = tuple(m.out_channels for m in tv.features if isinstance(m, nn.Conv2d))
    assert tv_channels == OWT_CHANNELS
    assert not any(isinstance(m, nn.LocalResponseNorm) for m in tv.modules())
    # 같은 채널로 LRN 을 빼면 매개변수 개수가 torchvision 과 같습니다.
    assert n_params(meta_model(channels=OWT_CHANNELS, lrn=False)) == n_params(tv)


def test_owt_configuration_reproduces_torchvision_outputs_float64():
    """드롭아웃 위치만 다르므로(평가 모드에서는 항등) 가중치를 옮기면 출력이 같아야 합니다."""
    torch.manual_seed(0)
    tv = torchvision.models.alexnet(weights=None, num_classes=10).double().eval()
    ours = AlexNet(num_classes=10, channels=OWT_CHANNELS, lrn=False).double().eval()
    tv_layers = [m for m in tv.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    our_layers = [m for m in ours.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(tv_layers) == len(our_layers) == 8
    with torch.no_grad():
        for a, b in zip(tv_layers, our_layers):
            b.weight.copy_(a.weight)
            b.bias.copy_(a.bias)
    x = torch.randn(2, 3, 127, 127, dtype=torch.float64) * 50  # 6×6 보다 작은 지도: 적응형 풀링도 함께 비교
    diff = (tv(x) - ours(x)).abs().max().item()
    assert diff < 1e-10


# ---------------------------------------------------------------------------------------------
# 모양


@pytest.fixture(scope="module")
def grouped_model() -> AlexNet:
    torch.manual_seed(0)
    return AlexNet(num_classes=7, groups=2).eval()


@pytest.mark.parametrize("size", [224, 227, 256])
def test_output_shape_for_common_sizes(grouped_model, size):
    model = grouped_model
    with torch.no_grad():
        out = model(torch.randn(1, 3, size, size))
    assert out.shape == (1, 7)
    assert torch.isfinite(out).all()


def test_per_layer_shapes_224():
    shapes = layer_shapes(meta_model(), 224)
    spatial = [shapes[n][-1] for n in ("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5")]
    assert spatial == [55, 27, 27, 13, 13, 13, 13, 6]
    channels = [shapes[n][1] for n in ("conv1", "conv2", "conv3", "conv4", "conv5")]
    assert channels == [96, 256, 384, 384, 256]
    assert shapes["norm1"] == shapes["relu1"] == shapes["conv1"]
    assert shapes["avgpool"] == (1, 256, 6, 6)
    assert list(shapes) == [*FEATURE_NAMES, "avgpool", *CLASSIFIER_NAMES]
    assert shapes["fc6"] == (1, 4096) and shapes["fc8"] == (1, 1000)


def test_227_without_padding_matches_224_with_padding():
    a = layer_shapes(meta_model(), 224)
    b = layer_shapes(meta_model(conv1_padding=0), 227)
    assert a == b


def test_layer_outputs_values_and_inplace_relu():
    torch.manual_seed(0)
    model = AlexNet.for_cifar().train()
    x = torch.randn(2, 3, 32, 32) * 50
    outs = layer_outputs(model, x, ["conv1", "relu1", "pool5", "fc8"])
    assert list(outs) == ["conv1", "relu1", "pool5", "fc8"]
    assert (outs["conv1"] < 0).any()  # ReLU(inplace=True) 가 덮어쓰기 전의 값
    assert torch.equal(outs["relu1"], outs["conv1"].clamp_min(0))
    with torch.no_grad():
        model.eval()
        assert torch.equal(outs["pool5"], model.features(x))
        assert torch.equal(outs["fc8"], model(x))
    model.train()
    assert layer_outputs(model, x, ["fc8"]) and model.training  # train/eval 상태를 되돌림
    with pytest.raises(ValueError, match="conv9"):
        layer_outputs(model, x, ["conv9"])


def test_224_without_padding_gives_6400_features():
    """cuda-convnet 의 올림 산술 없이 224 에 패딩 0 이면 54 → 26 → 12 → 5 가 됩니다(facts §1.2)."""
    shapes = layer_shapes(meta_model(conv1_padding=0), 224)
    assert [shapes[n][-1] for n in ("conv1", "pool1", "pool2", "pool5")] == [54, 26, 12, 5]
    assert shapes["pool5"][1] * shapes["pool5"][2] * shapes["pool5"][3] == 6400


def test_large_input_keeps_batch_size():
    """원본 페이지의 view(-1, 256*6*6) 는 416×416 한 장을 배치 4로 만들었습니다. 여기서는 배치 1 그대로."""
    model = meta_model()
    shapes = layer_shapes(model, 416)
    assert shapes["pool5"] == (1, 256, 12, 12)
    assert shapes["pool5"][1] * 12 * 12 == 4 * 256 * 6 * 6  # view 였다면 배치 4가 되었을 크기
    assert model(torch.zeros(1, 3, 416, 416, device="meta")).shape == (1, 1000)


def test_min_input_size_matches_torchvision_and_arithmetic():
    model = meta_model()
    assert model.min_input_size == 63  # torchvision AlexNet_Weights 의 min_size 와 같음
    assert torchvision.models.AlexNet_Weights.IMAGENET1K_V1.meta["min_size"] == (63, 63)
    model(torch.zeros(1, 3, 63, 63, device="meta"))
    with pytest.raises(ValueError, match="63"):
        model(torch.zeros(1, 3, 62, 62, device="meta"))


@pytest.mark.parametrize("kwargs", [{}, {"conv1_padding": 0}, {"conv1_stride": 2, "conv1_kernel_size": 7}])
def test_min_input_size_is_tight(kwargs):
    model = meta_model(**kwargs)
    m = model.min_input_size
    model(torch.zeros(1, 3, m, m, device="meta"))
    with pytest.raises(Exception):  # noqa: B017 (우리 검사 없이도 PyTorch 가 실패하는 크기)
        nn.Sequential(*model.features)(torch.zeros(1, 3, m - 1, m - 1, device="meta"))


# ---------------------------------------------------------------------------------------------
# 두 GPU 구조: 묶음 합성곱과 묶음 LRN


@pytest.mark.parametrize("layer", ["conv2", "conv4", "conv5"])
def test_grouped_conv_equals_two_half_convs_forward_and_backward(layer):
    torch.manual_seed(0)
    conv = getattr(AlexNet(groups=2, **SMALL).double().features, layer)
    cin, cout = conv.in_channels, conv.out_channels
    x = torch.randn(2, cin, 9, 9, dtype=torch.float64, requires_grad=True)
    grouped = conv(x)
    grouped.pow(2).sum().backward()
    grad_x, grad_w = x.grad.clone(), conv.weight.grad.clone()

    x2 = x.detach().clone().requires_grad_(True)
    w2 = conv.weight.detach().clone().requires_grad_(True)
    b2 = conv.bias.detach().clone()
    halves = [
        F.conv2d(x2[:, g * cin // 2:(g + 1) * cin // 2], w2[g * cout // 2:(g + 1) * cout // 2],
                 b2[g * cout // 2:(g + 1) * cout // 2], padding=conv.padding)
        for g in range(2)
    ]
    split = torch.cat(halves, dim=1)
    split.pow(2).sum().backward()
    assert (grouped - split).abs().max().item() < 1e-12
    assert (grad_x - x2.grad).abs().max().item() < 1e-12
    assert (grad_w - w2.grad).abs().max().item() < 1e-12


@pytest.mark.parametrize("norm", ["norm1", "norm2"])
def test_grouped_lrn_normalises_within_each_tower(norm):
    """채널 47(첫 탑의 마지막)의 큰 값이 채널 48(둘째 탑의 처음)에는 영향을 주지 않아야 합니다."""
    layer = getattr(meta_model(groups=2).features, norm)  # LRN 에는 매개변수가 없음
    c = 96 if norm == "norm1" else 256
    half = c // 2
    base = torch.ones(1, c, 3, 3, dtype=torch.float64)
    spiked = base.clone()
    spiked[:, half - 1] = 100.0
    out_base, out_spiked = layer(base), layer(spiked)
    changed = (out_base - out_spiked).abs().amax(dim=(0, 2, 3)) > 0
    assert changed[half - 3:half].all()  # 같은 탑의 이웃(half-3, half-2)과 자기 자신
    assert not changed[half:].any()  # 다른 탑은 그대로
    # groups=1 이면 탑 경계를 넘어 영향을 줍니다(위 검사가 실제로 무언가를 구분한다는 확인).
    single = getattr(meta_model(groups=1).features, norm)
    assert (single(base) - single(spiked))[:, half].abs().max() > 0
    # 각 탑을 따로 정규화한 것과 같습니다.
    kw = {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0, "convention": "torch"}
    x = torch.rand(2, c, 4, 4, dtype=torch.float64) * 50
    towers = torch.cat([local_response_norm(x[:, :half], **kw), local_response_norm(x[:, half:], **kw)], dim=1)
    assert (layer(x) - towers).abs().max().item() < 1e-12


def test_lrn_convention_torch_matches_nn_local_response_norm():
    layer = AlexNet(**SMALL).features.norm1
    x = torch.rand(2, 8, 5, 5, dtype=torch.float64) * 100
    ref = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)(x)
    assert (layer(x) - ref).abs().max().item() < 1e-12


def test_lrn_false_removes_normalisation():
    model = AlexNet(lrn=False, **SMALL)
    assert isinstance(model.features.norm1, nn.Identity) and isinstance(model.features.norm2, nn.Identity)


# ---------------------------------------------------------------------------------------------
# 드롭아웃 방식(§4.2)


def test_dropout_mode_paper_uses_the_package_dropout_and_keeps_the_state_dict():
    inverted = AlexNet(**SMALL)
    paper = AlexNet(dropout_mode="paper", **SMALL)
    for name in ("drop6", "drop7"):
        layer = getattr(paper.classifier, name)
        assert isinstance(layer, Dropout) and (layer.p, layer.mode) == (0.5, "paper")
        assert type(getattr(inverted.classifier, name)) is nn.Dropout  # 기본은 torch 의 역드롭아웃
    assert isinstance(AlexNet.for_cifar(dropout_mode="paper").classifier.drop6, Dropout)
    # 드롭아웃에는 매개변수가 없으므로 키와 모양이 같고, 서로의 가중치를 그대로 읽습니다(strict).
    assert {k: v.shape for k, v in paper.state_dict().items()} == {k: v.shape for k, v in inverted.state_dict().items()}
    paper.load_state_dict(inverted.state_dict())


def paper_and_halved_inverted(training: bool) -> tuple[AlexNet, AlexNet]:
    """float64 의 논문 방식 모델과, 같은 가중치에서 fc7·fc8 가중치(편향은 그대로)에 0.5를 곱한 역드롭아웃 모델.

    논문 방식의 ×0.5(테스트) 또는 역드롭아웃의 ×2(학습)를 다음 층의 가중치로 옮긴 것이므로 두 모델은 같은
    함수여야 합니다.
    """
    torch.manual_seed(0)
    paper = AlexNet(dropout_mode="paper", **SMALL).double().train(training)
    inverted = AlexNet(**SMALL).double().train(training)
    inverted.load_state_dict(paper.state_dict())
    with torch.no_grad():
        inverted.classifier.fc7.weight.mul_(0.5)
        inverted.classifier.fc8.weight.mul_(0.5)
    return paper, inverted


def test_dropout_mode_paper_scales_by_half_at_test_time_float64():
    """논문 방식의 테스트(×0.5)는 fc7, fc8 의 가중치를 절반으로 줄인 역드롭아웃 신경망과 같은 함수입니다."""
    paper, halved = paper_and_halved_inverted(training=False)
    x = torch.randn(3, 3, 67, 71, dtype=torch.float64) * 100
    assert (paper(x) - halved(x)).abs().max().item() < 1e-9
    same_weights = AlexNet(**SMALL).double().eval()
    same_weights.load_state_dict(paper.state_dict())
    assert (paper(x) - same_weights(x)).abs().max().item() > 1e-3  # 가중치를 줄이지 않은 역드롭아웃과는 다름


def test_dropout_mode_paper_and_inverted_drop_the_same_units_in_training_float64():
    """학습 때 두 방식은 같은 유닛을 끄고, 배율(2배)만 다릅니다. 그 배율을 fc7, fc8 가중치로 옮기면 순전파와
    역전파가 같습니다."""
    paper, inverted = paper_and_halved_inverted(training=True)
    x = torch.randn(4, 3, 63, 63, dtype=torch.float64) * 100
    outputs = []
    for model in (paper, inverted):
        torch.manual_seed(123)  # 두 모델이 같은 마스크를 뽑도록
        out = model(x)
        out.pow(2).sum().backward()
        outputs.append(out)
    assert (outputs[0] - outputs[1]).abs().max().item() < 1e-9
    assert not torch.equal(outputs[0], paper.eval()(x))  # 학습 모드에서는 실제로 유닛을 끕니다
    conv1_grads = [m.features.conv1.weight.grad for m in (paper, inverted)]
    assert torch.allclose(conv1_grads[0], conv1_grads[1], rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# 초기화


def test_init_paper_statistics():
    torch.manual_seed(0)
    model = init_paper_(AlexNet(groups=2, hidden_features=512))  # FC 를 줄여 빠르게(합성곱은 논문 크기)
    layers = {n.rsplit(".", 1)[-1]: m for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}
    assert set(layers) == {"conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"}
    for name, layer in layers.items():
        w = layer.weight.detach().double()
        n = w.numel()
        # 표준편차 0.01(분산이 아님). 표본 표준편차의 표준오차는 약 0.01/sqrt(2n).
        assert abs(w.std().item() - 0.01) < 6 * 0.01 / (2 * n) ** 0.5, name
        assert abs(w.mean().item()) < 6 * 0.01 / n**0.5, name
        expected_bias = 1.0 if name in PAPER_BIAS_ONE_LAYERS else 0.0
        assert torch.all(layer.bias == expected_bias), name
    assert set(PAPER_BIAS_ONE_LAYERS) == {"conv2", "conv4", "conv5", "fc6", "fc7"}


def test_init_paper_rejects_models_without_named_layers():
    with pytest.raises(ValueError, match="bias_one_layers"):
        with torch.device("meta"):
            init_paper_(torchvision.models.alexnet(weights=None, num_classes=10))
    with pytest.raises(ValueError, match="std"):
        init_paper_(AlexNet(**SMALL), std=-1.0)


# ---------------------------------------------------------------------------------------------
# 잘못된 입력과 인자


def test_bad_inputs_raise_clear_errors():
    model = AlexNet(**SMALL)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        model(torch.zeros(3, 224, 224))
    with pytest.raises(ValueError, match="3채널"):
        model(torch.zeros(1, 1, 224, 224))
    with pytest.raises(ValueError, match=r"63 이상.*62×100"):
        model(torch.zeros(1, 3, 62, 100))
    with pytest.raises(TypeError, match="Tensor"):
        model([[0.0]])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"groups": 3},
        {"channels": (96, 256, 384)},
        {"channels": (95, 256, 384, 384, 256), "groups": 2},
        {"dropout": 1.0},
        {"num_classes": 0},
        {"conv2_kernel_size": 4},
        {"conv1_padding": -1},
        {"lrn_convention": "caffe"},
        {"dropout_mode": "scaled"},
    ],
)
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        meta_model(**kwargs)


# ---------------------------------------------------------------------------------------------
# 32×32 축소판


def test_for_cifar_keeps_structure_and_sizes():
    model = AlexNet.for_cifar()
    assert [n for n, _ in model.features.named_children()] == FEATURE_NAMES
    assert [n for n, _ in model.classifier.named_children()] == CLASSIFIER_NAMES
    assert model.features.pool1.kernel_size == 3 and model.features.pool1.stride == 2  # 겹치는 풀링
    assert model.min_input_size == 15
    shapes = layer_shapes(model, 32)
    assert [shapes[n][-1] for n in ("conv1", "pool1", "pool2", "pool5")] == [32, 15, 7, 3]
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert n_params(model) < n_params(meta_model()) / 20


def test_for_cifar_pool_output_size_for_28_crops():
    model = AlexNet.for_cifar(pool_output_size=2)
    shapes = layer_shapes(model, 28)
    assert shapes["pool5"][-1] == 2 and shapes["avgpool"][-1] == 2
    assert model.classifier.fc6.in_features == model.features.conv5.out_channels * 4


def test_for_cifar_grouped():
    model = AlexNet.for_cifar(groups=2)
    assert model.features.conv2.groups == 2 and model.features.norm1.groups == 2
    assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 10)


def test_pooling_output_size_agrees_with_torch_for_the_trace():
    """min_input_size 계산이 쓰는 크기 공식이 PyTorch 와 같은지 확인합니다."""
    for size in (63, 64, 100, 224, 227):
        conv = nn.Conv2d(3, 1, 11, stride=4, padding=2)(torch.zeros(1, 3, size, size))
        assert conv.shape[-1] == pooling_output_size(size, 11, 4, 2)


# ---------------------------------------------------------------------------------------------
# 설정 하나와 FX 추적


def test_config_roundtrip_and_shared_by_every_constructor():
    model = AlexNet(num_classes=7, groups=2, channels=(8, 16, 16, 16, 8), hidden_features=32, dropout_mode="paper")
    assert isinstance(model.config, AlexNetConfig)
    assert model.config.dropout_mode == "paper" and model.config.channels == (8, 16, 16, 16, 8)
    rebuilt = AlexNet.from_config(model.config)
    assert repr(rebuilt) == repr(model) and rebuilt.config == model.config
    cifar = AlexNet.for_cifar(groups=2, pool_output_size=2)
    assert cifar.config == AlexNetConfig.cifar(groups=2, pool_output_size=2)
    assert AlexNetConfig().min_input_size == AlexNet().min_input_size == 63
    assert AlexNetConfig.cifar().spatial_sizes(32) == [32, 15, 7, 3]
    with pytest.raises(TypeError, match="AlexNetConfig"):
        AlexNet.from_config({"groups": 2})
    with pytest.raises(TypeError, match="없는"):
        AlexNet(width=3)
    with pytest.raises(TypeError, match="없는"):
        AlexNetConfig.cifar(width=3)
    with pytest.raises(TypeError, match="num_classes"):
        AlexNetConfig(num_classes=2.0)
    with pytest.raises(TypeError, match="lrn"):
        AlexNetConfig(lrn=1)


@pytest.mark.parametrize("kwargs", [{}, {"groups": 2}, {"dropout_mode": "paper"}, {"lrn": False}],
                         ids=["single", "grouped", "paper-dropout", "no-lrn"])
def test_fx_trace_matches_eager_and_keeps_the_input_check(kwargs):
    model = AlexNet(**SMALL, **kwargs).eval()
    traced = torch.fx.symbolic_trace(model)
    x = torch.randn(2, 3, 100, 100)
    assert torch.equal(traced(x), model(x))
    with pytest.raises(ValueError, match="63 이상"):
        traced(torch.zeros(1, 3, 40, 40))  # 입력 검사도 추적한 그래프에 남습니다


def test_create_feature_extractor_gives_fc6_and_fc7():
    feature_extraction = pytest.importorskip("torchvision.models.feature_extraction")
    model = AlexNet(**SMALL).eval()
    x = torch.randn(3, 3, 100, 100)
    expected = layer_outputs(model, x, ["relu6", "fc7", "relu7"])
    extractor = feature_extraction.create_feature_extractor(
        model, {"classifier.relu6": "fc6", "classifier.relu7": "fc7"}
    )
    features = extractor(x)
    assert features["fc7"].shape == (3, SMALL["hidden_features"])
    torch.testing.assert_close(features["fc6"], expected["relu6"])
    torch.testing.assert_close(features["fc7"], expected["relu7"])
    # "classifier.fc7" 만 달라고 하면 그래프가 fc7 에서 끝나므로 ReLU 앞의 값을 돌려받습니다.
    fc7 = feature_extraction.create_feature_extractor(model, {"classifier.fc7": "fc7"})(x)["fc7"]
    torch.testing.assert_close(fc7, expected["fc7"])
    assert (fc7 < 0).any()
