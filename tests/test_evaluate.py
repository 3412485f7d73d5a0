"""alexnetbook.evaluate: top-k, 10개 조각 평가, 이미지마다의 정오, 모드 복원."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from alexnetbook import evaluate as ev
from alexnetbook.augment import cifar_transforms
from alexnetbook.batches import TensorImageDataset
from alexnetbook.models import AlexNet


def tiny_model() -> AlexNet:
    torch.manual_seed(0)
    return AlexNet.for_cifar(pool_output_size=2, channels=(4, 8, 8, 8, 8), hidden_features=16)


def test_topk_errors_matches_sorting():
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(200, 12, generator=g)
    targets = torch.randint(0, 12, (200,), generator=g)
    rank = (scores > scores.gather(1, targets[:, None])).sum(dim=1)  # 정답보다 점수가 큰 클래스 수
    wrong = ev.topk_errors(scores, targets, (1, 5, 12, 20))
    assert wrong[1] == int((rank >= 1).sum())
    assert wrong[5] == int((rank >= 5).sum())
    assert wrong[12] == wrong[20] == 0
    assert wrong[1] >= wrong[5] > 0
    with pytest.raises(ValueError, match="scores"):
        ev.topk_errors(scores[0], targets)
    with pytest.raises(ValueError, match="ks"):
        ev.topk_errors(scores, targets, (0,))


def ten_crop_data(n: int = 20):
    g = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    labels = torch.arange(n) % 10
    tf = cifar_transforms(images.float().mean(dim=0))
    return TensorImageDataset(images, labels, tf["ten_crop"]), TensorImageDataset(images, labels, tf["center"])


def test_evaluate_ten_crop_averages_softmax():
    model = tiny_model().eval()
    val, _ = ten_crop_data()
    crops, labels = val.batch(torch.arange(len(val)))
    assert crops.shape == (20, 10, 3, 28, 28)
    with torch.no_grad():
        probs = model(crops.flatten(0, 1)).softmax(1).view(20, 10, -1).mean(1)  # (N*10, K) -> (N, K)
    result = ev.evaluate(model, val, batch_size=7)
    assert result["top1"] == pytest.approx(float((probs.argmax(1) != labels).float().mean()))
    assert result["loss"] == pytest.approx(nn.functional.nll_loss(probs.log(), labels).item(), rel=1e-5)
    assert 0.0 <= result["top5"] <= result["top1"] <= 1.0


def test_evaluate_one_crop_is_cross_entropy_of_the_logits():
    model = tiny_model().eval()
    _, centre = ten_crop_data()
    images, labels = centre.batch(torch.arange(len(centre)))
    with torch.no_grad():
        logits = model(images)
    result = ev.evaluate(model, centre, batch_size=6)
    assert result["loss"] == pytest.approx(nn.functional.cross_entropy(logits, labels).item(), rel=1e-5)
    assert result["top1"] == pytest.approx(float((logits.argmax(1) != labels).float().mean()))


def test_predictions_correct_pairs_with_the_targets():
    model = tiny_model()
    val, centre = ten_crop_data()
    one = ev.predict(model, centre)
    ten = ev.predict(model, val)
    assert torch.equal(one.targets, ten.targets)
    assert one.correct().dtype == torch.bool and one.correct().shape == (20,)
    assert one.metrics()["top1"] == pytest.approx(1 - one.correct().float().mean().item())
    assert torch.allclose(ten.log_probs.exp().sum(1), torch.ones(20), atol=1e-5)


def test_ten_crop_predict_keeps_float64_and_averages_probabilities():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3)).double()  # (N, 3, 2, 2) -> (N, 12) -> (N, 3)
    images = torch.randn(4, 10, 3, 2, 2, dtype=torch.float64)
    probs = ev.ten_crop_predict(model, images)
    with torch.no_grad():
        expected = model(images.flatten(0, 1)).softmax(-1).view(4, 10, 3).mean(1)  # (40, 3) -> (4, 10, 3)
    assert probs.dtype == torch.float64
    torch.testing.assert_close(probs, expected, rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="images"):
        ev.ten_crop_predict(model, images[0])


def test_evaluate_restores_training_mode_and_rejects_bad_batches():
    model = tiny_model().train()
    _, centre = ten_crop_data(10)
    ev.evaluate(model, centre)
    assert model.training
    bad = TensorDataset(torch.zeros(4, 3, 28), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="배치"):
        ev.evaluate(model, bad)
    assert model.training
    with pytest.raises(ValueError, match="비어"):
        ev.evaluate(model, TensorDataset(torch.zeros(0, 3, 28, 28), torch.zeros(0, dtype=torch.long)))
