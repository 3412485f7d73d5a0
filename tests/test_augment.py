"""alexnetbook.augment 와 alexnetbook.lighting: 결정적 커널은 정확히, 무작위 매개변수는 분포로 테스트합니다."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from alexnetbook.augment import (
    PCALighting,
    RandomCrop,
    RandomHorizontalFlip,
    SubtractMean,
    TenCrop,
    alexnet_test_transform,
    alexnet_train_transform,
)
from alexnetbook.evaluate import ten_crop_predict
from alexnetbook.utils import make_generator
from alexnetbook.lighting import IMAGENET_PCA_EIGVAL, IMAGENET_PCA_EIGVEC, fit_pca_lighting, pca_lighting

EIGVAL = torch.tensor(IMAGENET_PCA_EIGVAL, dtype=torch.float64)
EIGVEC = torch.tensor(IMAGENET_PCA_EIGVEC, dtype=torch.float64)


def photo(h: int = 300, w: int = 400, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


# ---------------------------------------------------------------- 결정적 커널


@pytest.mark.parametrize("top,left", [(0, 0), (32, 32), (5, 17), (32, 0)])
def test_crop_kernel_equals_slicing(top, left):
    img = torch.arange(3 * 256 * 256, dtype=torch.float64).view(3, 256, 256)  # (3·256·256,) -> (3, 256, 256)
    out = F.crop(img, top, left, 224, 224)
    assert torch.equal(out, img[:, top:top + 224, left:left + 224])


def test_random_crop_applies_its_sampled_params_exactly():
    img = torch.rand(3, 40, 50, dtype=torch.float64)
    t = RandomCrop((24, 30), generator=0)
    params = t.make_params([img])
    t2 = RandomCrop((24, 30), generator=0)
    out = t2(img)
    top, left = params["top"], params["left"]
    assert torch.equal(out, img[:, top:top + 24, left:left + 30])


def test_horizontal_flip_kernel_reverses_width():
    img = torch.rand(3, 5, 7, dtype=torch.float64)
    assert torch.equal(RandomHorizontalFlip(1.0)(img), img.flip(-1))
    assert torch.equal(RandomHorizontalFlip(0.0)(img), img)


def test_pca_lighting_equals_closed_form_per_pixel():
    img = torch.rand(3, 4, 5, dtype=torch.float64)
    alpha = torch.tensor([0.3, -1.2, 0.7], dtype=torch.float64)
    out = pca_lighting(img, alpha, EIGVAL, EIGVEC)
    expected = img.clone()
    for c in range(3):  # 논문 §4.1: [p1 p2 p3][α1λ1, α2λ2, α3λ3]^T 의 c 번째 성분
        shift = sum(float(EIGVEC[c, j]) * float(alpha[j]) * float(EIGVAL[j]) for j in range(3))
        expected[c] += shift
    assert torch.allclose(out, expected, rtol=0, atol=1e-15)


def test_pca_lighting_batched_alpha_and_zero_alpha():
    imgs = torch.rand(2, 3, 4, 4, dtype=torch.float64)
    alphas = torch.tensor([[0.1, 0.0, 0.0], [0.0, 0.0, -0.2]], dtype=torch.float64)
    out = pca_lighting(imgs, alphas, EIGVAL, EIGVEC)
    for i in range(2):
        assert torch.allclose(out[i], pca_lighting(imgs[i], alphas[i], EIGVAL, EIGVEC), rtol=0, atol=1e-15)
    assert torch.equal(pca_lighting(imgs, torch.zeros(3), EIGVAL, EIGVEC), imgs)
    # 첫 주성분 방향으로 α1 만 주면 모든 픽셀이 eigvec[:, 0]·α1·λ1 만큼 움직입니다.
    shift = out[0] - imgs[0]
    assert torch.allclose(shift[:, 0, 0], EIGVEC[:, 0] * 0.1 * EIGVAL[0], rtol=0, atol=1e-15)


def test_pca_lighting_bad_inputs():
    with pytest.raises(ValueError, match="img"):
        pca_lighting(torch.rand(4, 5, 5), torch.zeros(3), EIGVAL, EIGVEC)
    with pytest.raises(ValueError, match="alpha"):
        pca_lighting(torch.rand(3, 5, 5), torch.zeros(4), EIGVAL, EIGVEC)
    with pytest.raises(ValueError, match="eigvec"):
        pca_lighting(torch.rand(3, 5, 5), torch.zeros(3), EIGVAL, EIGVEC[:2])
    with pytest.raises(TypeError, match="실수"):
        pca_lighting(torch.zeros(3, 5, 5, dtype=torch.uint8), torch.zeros(3), EIGVAL, EIGVEC)


def test_subtract_mean_has_no_std_division():
    img = torch.rand(3, 6, 6, dtype=torch.float64)
    mean = (0.5, 0.25, 0.125)
    out = SubtractMean(mean, scale=255.0)(img)
    expected = (img - torch.tensor(mean, dtype=torch.float64)[:, None, None]) * 255.0
    assert torch.allclose(out, expected, rtol=0, atol=1e-12)
    mean_image = torch.rand(3, 6, 6, dtype=torch.float64)
    assert torch.allclose(SubtractMean(mean_image)(img), img - mean_image, rtol=0, atol=1e-7)
    with pytest.raises(ValueError, match="mean"):
        SubtractMean(torch.rand(3, 5, 5))(img)
    with pytest.raises(TypeError):
        SubtractMean(mean)(torch.zeros(3, 6, 6, dtype=torch.uint8))


# ---------------------------------------------------------------- PCA 추정


def test_fit_pca_lighting_recovers_a_known_covariance():
    gen = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64, generator=gen))
    lam = torch.tensor([0.09, 0.01, 0.0025], dtype=torch.float64)
    pixels = q @ (torch.randn(3, 200_000, dtype=torch.float64, generator=gen) * lam.sqrt()[:, None])  # (3, P)
    images = pixels.view(3, 400, 500)  # (3, P) -> (3, H, W)
    eigval, eigvec = fit_pca_lighting(images)
    # 표본 공분산 그 자체를 정확히 분해했는지
    cov = torch.cov(pixels)
    assert torch.allclose(eigvec @ torch.diag(eigval) @ eigvec.T, cov, rtol=0, atol=1e-12)
    assert torch.allclose(eigvec.T @ eigvec, torch.eye(3, dtype=torch.float64), rtol=0, atol=1e-12)
    assert bool((eigval[:-1] >= eigval[1:]).all())
    # 모집단 값과도 가까운지(표본 20만 개, 상대 오차 약 0.3%; 허용 5%)
    assert torch.allclose(eigval, lam, rtol=0.05, atol=0)
    assert torch.allclose((eigvec.T @ q).abs(), torch.eye(3, dtype=torch.float64), atol=0.05)
    # 부호 규칙: 각 고유벡터에서 절댓값이 가장 큰 성분이 양수
    assert bool((eigvec.gather(0, eigvec.abs().argmax(0, keepdim=True)) > 0).all())


def test_fit_pca_lighting_accepts_images_of_different_sizes_and_scales_quadratically():
    a = torch.rand(3, 20, 30, dtype=torch.float64)
    b = torch.rand(3, 15, 11, dtype=torch.float64)
    val1, vec1 = fit_pca_lighting([a, b])
    val255, vec255 = fit_pca_lighting([a * 255, b * 255])
    assert torch.allclose(val255, val1 * 255**2, rtol=1e-10, atol=0)
    assert torch.allclose(vec255, vec1, rtol=0, atol=1e-8)
    batch_val, _ = fit_pca_lighting(torch.stack([a[:, :15, :11], b]))
    single_val, _ = fit_pca_lighting([a[:, :15, :11], b])
    assert torch.allclose(batch_val, single_val, rtol=1e-12, atol=0)


def test_fit_pca_lighting_rejects_integer_images_and_bad_shapes():
    with pytest.raises(TypeError, match="실수"):
        fit_pca_lighting(torch.zeros(3, 4, 4, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"\(3, H, W\)"):
        fit_pca_lighting(torch.zeros(4, 4, 4))
    with pytest.raises(ValueError):
        fit_pca_lighting([])


def test_imagenet_constants_are_orthonormal_eigenvectors():
    # fb.resnet.torch 의 고유벡터는 반올림(소수 넷째 자리)된 직교 행렬입니다.
    assert torch.allclose(EIGVEC.T @ EIGVEC, torch.eye(3, dtype=torch.float64), atol=2e-3)
    assert bool((EIGVAL[:-1] > EIGVAL[1:]).all())


# ---------------------------------------------------------------- 무작위 매개변수의 분포


def test_lighting_alpha_is_normal_with_std_point_one():
    t = PCALighting(EIGVAL, EIGVEC, std=0.1, generator=2012)
    alphas = torch.stack([t.make_params([])["alpha"] for _ in range(20_000)])  # (20000, 3)
    # 표본 평균의 표준오차 0.1/sqrt(20000) = 7e-4, 표본 표준편차의 표준오차 약 5e-4. 허용 오차는 그 7배 이상.
    assert alphas.mean(0).abs().max() < 5e-3
    assert (alphas.std(0) - 0.1).abs().max() < 4e-3
    # 세 성분은 서로 독립(상관계수 ≈ 0; 표준오차 0.007)
    corr = torch.corrcoef(alphas.T)
    assert (corr - torch.eye(3, dtype=torch.float64)).abs().max() < 0.05


def test_lighting_draws_once_per_call_and_shifts_all_pixels_equally():
    img = torch.rand(3, 8, 9, dtype=torch.float64)
    t = PCALighting(EIGVAL, EIGVEC, generator=1)
    out = t(img)
    shift = out - img
    assert torch.allclose(shift, shift[:, :1, :1].expand_as(shift), rtol=0, atol=1e-15)
    assert not torch.equal(t(img), out)  # 다음 호출은 새 α
    assert torch.equal(PCALighting(EIGVAL, EIGVEC, std=0.0)(img), img)


def test_random_crop_positions_are_uniform_over_33_offsets():
    img = torch.zeros(1, 256, 256)
    t = RandomCrop(224, generator=0)
    n = 33 * 600
    draws = torch.tensor([[t.make_params([img])["top"], t.make_params([img])["left"]] for _ in range(n)])
    for axis in range(2):
        counts = torch.bincount(draws[:, axis], minlength=33)
        assert len(counts) == 33  # 0 … 32, 양 끝 포함
        # 칸마다 기댓값 600, 표준편차 약 24. ±150 (6σ 이상) 안.
        assert int(counts.min()) > 450 and int(counts.max()) < 750


def test_flip_probability():
    t = RandomHorizontalFlip(0.5, generator=0)
    flips = torch.tensor([t.make_params([])["flip"] for _ in range(10_000)], dtype=torch.float64)
    assert abs(float(flips.mean()) - 0.5) < 0.03  # 표준오차 0.005
    with pytest.raises(ValueError, match="p"):
        RandomHorizontalFlip(1.5)


def test_seed_and_generator_give_reproducible_draws():
    img = torch.rand(3, 64, 64)
    a = alexnet_train_transform(size=32, resize=48, generator=5)(img)
    b = alexnet_train_transform(size=32, resize=48, generator=5)(img)
    c = alexnet_train_transform(size=32, resize=48, generator=torch.Generator().manual_seed(5))(img)
    assert torch.equal(a, b) and torch.equal(a, c)
    assert not torch.equal(a, alexnet_train_transform(size=32, resize=48, generator=6)(img))
    with pytest.raises(TypeError, match="generator"):
        make_generator(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        make_generator(-1)


# ---------------------------------------------------------------- torchvision v2 와의 조합


def test_transforms_compose_with_v2_and_handle_boxes():
    img = tv_tensors.Image(torch.rand(3, 40, 60))
    boxes = tv_tensors.BoundingBoxes(torch.tensor([[10.0, 5.0, 30.0, 25.0]]), format="XYXY", canvas_size=(40, 60))
    pipeline = v2.Compose([RandomCrop(32, generator=0), RandomHorizontalFlip(1.0), PCALighting(EIGVAL, EIGVEC)])
    out_img, out_boxes = pipeline(img, boxes)
    assert isinstance(out_img, tv_tensors.Image) and out_img.shape == (3, 32, 32)
    assert isinstance(out_boxes, tv_tensors.BoundingBoxes) and out_boxes.canvas_size == (32, 32)
    p = RandomCrop(32, generator=0).make_params([img])
    x1, y1, x2, y2 = 10.0 - p["left"], 5.0 - p["top"], 30.0 - p["left"], 25.0 - p["top"]
    expected = torch.tensor([[32 - x2, y1, 32 - x1, y2]]).clamp(0, 32)
    assert torch.allclose(out_boxes.as_subclass(torch.Tensor), expected)


def test_lighting_rejects_pil_and_uint8():
    t = PCALighting(EIGVAL, EIGVEC)
    with pytest.raises(TypeError, match="ToDtype"):
        t(Image.fromarray(photo(10, 10)))
    with pytest.raises(TypeError):
        t(torch.zeros(3, 4, 4, dtype=torch.uint8))


def test_train_transform_pipeline_shape_scale_and_order():
    arr = photo(300, 400)
    out = alexnet_train_transform(generator=0, lighting_std=0.0)(arr)
    assert out.shape == (3, 224, 224) and out.dtype == torch.float32
    # 색 증강을 끄면 출력은 (256 가운데 조각에서 잘라 낸 조각, 뒤집었을 수도 있음) − 평균, 0–255 척도입니다.
    base = v2.Compose([v2.ToImage(), v2.Resize(256, antialias=True), v2.CenterCrop(256),
                       v2.ToDtype(torch.float32, scale=True)])(arr)
    centred = (base - torch.tensor([0.485, 0.456, 0.406])[:, None, None]) * 255
    gen = torch.Generator().manual_seed(0)
    top, left = (int(torch.randint(0, 33, (), generator=gen)) for _ in range(2))
    flip = bool(torch.rand((), generator=gen) < 0.5)
    expected = centred[:, top:top + 224, left:left + 224]
    expected = expected.flip(-1) if flip else expected
    assert torch.allclose(out, expected, rtol=0, atol=1e-4)


def test_train_transform_lighting_is_in_pixel_scale_255():
    arr = photo(256, 256)
    with_light = alexnet_train_transform(generator=3)(arr)
    without = alexnet_train_transform(generator=3, lighting_std=0.0)(arr)
    shift = (with_light - without)[:, 0, 0].double()
    gen = torch.Generator().manual_seed(3)  # 세 변환이 한 생성기를 차례로 씁니다: 위치 두 번, 뒤집기, α
    torch.randint(0, 33, (2,), generator=gen)
    torch.rand((), generator=gen)
    alpha = torch.randn(3, generator=gen, dtype=torch.float64) * 0.1
    assert torch.allclose(shift, EIGVEC @ (alpha * EIGVAL * 255), rtol=0, atol=1e-3)


def test_test_transform_ten_crops_shapes_and_order():
    arr = photo(256, 300)
    crops = alexnet_test_transform(ten_crop=True)(arr)
    assert crops.shape == (10, 3, 224, 224) and type(crops) is torch.Tensor
    full = alexnet_test_transform(ten_crop=False, size=256)(arr)  # (3, 256, 256) 평균을 뺀 이미지
    corners = [(0, 0), (0, 32), (32, 0), (32, 32), (16, 16)]  # 왼쪽 위, 오른쪽 위, 왼쪽 아래, 오른쪽 아래, 가운데
    for i, (top, left) in enumerate(corners):
        assert torch.equal(crops[i], full[:, top:top + 224, left:left + 224])
    # 5–9 는 뒤집은 이미지의 같은 위치: 왼쪽과 오른쪽이 바뀐 조각을 뒤집은 것
    mirror = [1, 0, 3, 2, 4]
    for i, j in enumerate(mirror):
        assert torch.equal(crops[5 + i], crops[j].flip(-1))
    assert alexnet_test_transform(ten_crop=False)(arr).shape == (3, 224, 224)
    with pytest.raises(TypeError, match="TenCrop"):
        TenCrop(4)(Image.fromarray(photo(8, 8)))


# ---------------------------------------------------------------- 10개 조각 예측


class CropIndexModel(nn.Module):
    """조각마다 아주 다른 로짓을 내는 모델: 확률 평균과 로짓 평균이 확실히 다릅니다."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = x.mean(dim=(1, 2, 3))  # (B, C, H, W) -> (B,)
        return torch.stack([v * 10, -v * 3, torch.zeros_like(v)], dim=1)


def test_ten_crop_predict_averages_probabilities_not_logits():
    gen = torch.Generator().manual_seed(0)
    images = torch.randn(4, 10, 3, 5, 5, dtype=torch.float64, generator=gen) + torch.linspace(-2, 2, 10)[
        None, :, None, None, None
    ]
    model = CropIndexModel()
    probs = ten_crop_predict(model, images)
    logits = model(images.flatten(0, 1)).view(4, 10, 3)  # (40, 3) -> (4, 10, 3)
    expected = logits.softmax(-1).mean(1)
    assert probs.shape == (4, 3)
    assert torch.allclose(probs, expected, rtol=0, atol=1e-15)
    assert torch.allclose(probs.sum(1), torch.ones(4, dtype=torch.float64), rtol=0, atol=1e-15)
    wrong = logits.mean(1).softmax(-1)
    assert (probs - wrong).abs().max() > 0.05


def test_ten_crop_predict_uses_eval_mode_and_restores_it():
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(12, 3)).double().train()
    images = torch.randn(2, 10, 3, 2, 2, dtype=torch.float64)
    a = ten_crop_predict(model, images)
    b = ten_crop_predict(model, images)
    assert torch.equal(a, b)  # 드롭아웃이 꺼져 있어 결정적
    assert model.training
    with pytest.raises(ValueError, match="5차원"):
        ten_crop_predict(model, images[0])
