"""alexnetbook.experiments.neighbours: 그림 4의 최근접 이웃 검색과 fc7 특징."""

from __future__ import annotations

import pytest
import torch

from alexnetbook.experiments.neighbours import distance_rank, fc7_features, nearest_neighbours, neighbour_label_matches
from alexnetbook.models import AlexNet, layer_outputs


def brute_force(queries: torch.Tensor, database: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """질의와 모음의 모든 쌍의 거리를 float64 로 직접 계산한 기준."""
    diff = queries.double().flatten(1)[:, None, :] - database.double().flatten(1)[None, :, :]  # (Q, M, D)
    dist = diff.pow(2).sum(-1).sqrt()  # (Q, M)
    return dist.sort(dim=1, stable=True).values[:, :k], dist.argsort(dim=1, stable=True)[:, :k]


def small_model() -> AlexNet:
    torch.manual_seed(0)
    return AlexNet(num_classes=4, groups=2, channels=(8, 8, 8, 8, 8), hidden_features=6, conv1_kernel_size=5,
                   conv1_stride=2, conv1_padding=2, pool_output_size=1)


@pytest.mark.parametrize("batch_size", [1, 3, 256])
def test_nearest_neighbours_match_brute_force(batch_size):
    g = torch.Generator().manual_seed(0)
    queries, database = torch.randn(7, 3, 4, 4, generator=g), torch.randn(50, 3, 4, 4, generator=g)
    distances, indices = nearest_neighbours(queries, database, k=4, batch_size=batch_size)
    ref_dist, ref_idx = brute_force(queries, database, 4)
    assert indices.shape == (7, 4) and distances.shape == (7, 4)
    assert torch.equal(indices, ref_idx)
    torch.testing.assert_close(distances.double(), ref_dist, rtol=1e-4, atol=1e-4)
    assert (distances[:, 1:] >= distances[:, :-1]).all()  # 가까운 순서


def test_nearest_neighbours_in_float64_are_exact_and_find_the_copy():
    g = torch.Generator().manual_seed(1)
    database = torch.randn(30, 12, generator=g, dtype=torch.float64)
    queries = database[[4, 17]] + 1e-9
    distances, indices = nearest_neighbours(queries, database, k=2)
    assert indices[:, 0].tolist() == [4, 17]
    assert (distances[:, 0] < 1e-6).all()
    ref_dist, ref_idx = brute_force(queries, database, 2)
    assert torch.equal(indices, ref_idx)
    torch.testing.assert_close(distances, ref_dist, rtol=1e-9, atol=1e-7)


def test_pixel_space_uses_all_pixels_not_a_projection():
    """이미지가 한 픽셀만 다를 때도 그 차이로 순서가 정해져야 합니다."""
    database = torch.zeros(3, 3, 8, 8)
    database[1, 2, 7, 7] = 1.0
    database[2, 0, 0, 0] = 5.0
    query = torch.zeros(1, 3, 8, 8)
    query[0, 2, 7, 7] = 0.9
    _, indices = nearest_neighbours(query, database, k=3)
    assert indices.tolist() == [[1, 0, 2]]


def test_nearest_neighbours_argument_errors():
    x = torch.zeros(4, 5)
    with pytest.raises(ValueError, match="k"):
        nearest_neighbours(x, x, k=5)
    with pytest.raises(ValueError, match="k"):
        nearest_neighbours(x, x, k=0)
    with pytest.raises(ValueError, match="queries"):
        nearest_neighbours(torch.zeros(4, 6), x)
    with pytest.raises(ValueError, match="queries"):
        nearest_neighbours(torch.zeros(5), x)
    with pytest.raises(TypeError, match="database"):
        nearest_neighbours(x, [[0.0] * 5])
    with pytest.raises(TypeError, match="batch_size"):
        nearest_neighbours(x, x, batch_size=2.0)


def test_label_matches_use_the_first_neighbour():
    indices = torch.tensor([[2, 0], [1, 2], [0, 1]])
    database_labels = torch.tensor([5, 6, 7])
    matches = neighbour_label_matches(indices, database_labels, torch.tensor([7, 7, 5]))
    assert matches.tolist() == [True, False, True]
    first_only = neighbour_label_matches(indices[:, 0], database_labels, torch.tensor([7, 6, 6]))
    assert first_only.tolist() == [True, True, False]
    with pytest.raises(ValueError, match="query_labels"):
        neighbour_label_matches(indices, database_labels, torch.tensor([1, 2]))


def test_fc7_features_equal_relu7_output_and_leave_the_model_in_training_mode():
    model = small_model().train()
    images = torch.randn(5, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    features = fc7_features(model, images, batch_size=2)
    expected = layer_outputs(model, images, ["relu7"])["relu7"]
    assert features.shape == (5, 6)
    torch.testing.assert_close(features, expected)
    assert (features >= 0).all()
    assert model.training and all(m.training for m in model.modules())  # 드롭아웃 상태를 바꾸지 않음


def test_fc7_features_argument_errors():
    model = small_model()
    with pytest.raises(TypeError, match="images"):
        fc7_features(model, torch.zeros(2, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match="images"):
        fc7_features(model, torch.zeros(3, 32, 32))
    with pytest.raises(ValueError, match="batch_size"):
        fc7_features(model, torch.zeros(2, 3, 32, 32), batch_size=0)
    with pytest.raises(TypeError, match="model"):
        fc7_features("alexnet", torch.zeros(2, 3, 32, 32))


def test_distance_rank_counts_strictly_closer_items():
    g = torch.Generator().manual_seed(3)
    queries, database = torch.randn(9, 6, generator=g, dtype=torch.float64), torch.randn(40, 6, generator=g,
                                                                                           dtype=torch.float64)
    targets = torch.randint(0, 40, (9,), generator=g)
    ranks = distance_rank(queries, database, targets, batch_size=4)
    dist = (queries[:, None] - database[None]).pow(2).sum(-1)  # (Q, M)
    expected = (dist < dist.gather(1, targets[:, None])).sum(1)
    assert torch.equal(ranks, expected)
    _, nearest = nearest_neighbours(queries, database, k=3)
    assert (distance_rank(queries, database, nearest[:, 0]) == 0).all()
    assert distance_rank(queries, database, nearest).tolist() == [[0, 1, 2]] * 9  # 열마다 한 번에
    both = distance_rank(queries, database, torch.stack([targets, nearest[:, 0]], dim=1), batch_size=2)
    assert torch.equal(both[:, 0], expected) and (both[:, 1] == 0).all()


def test_distance_rank_argument_errors():
    x = torch.zeros(3, 4)
    with pytest.raises(ValueError, match="targets"):
        distance_rank(x, x, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="targets"):
        distance_rank(x, x, torch.tensor([0, 1, 3]))
    with pytest.raises(ValueError, match="queries"):
        distance_rank(torch.zeros(3, 5), x, torch.tensor([0, 1, 2]))
