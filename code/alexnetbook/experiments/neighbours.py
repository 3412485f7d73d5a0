"""논문 그림 4의 재현: 마지막 은닉층(fc7) 특징 공간의 최근접 이웃과 픽셀 공간의 최근접 이웃.

논문 §6.1은 테스트 이미지 하나의 마지막 은닉층 특징 벡터(4096차원)와 유클리드 거리가 가장 가까운 학습
이미지들을 보여 주고, 그 이미지들이 **픽셀 수준에서는** 질의 이미지와 가깝지 않다는 점을 짚습니다. 이 모듈은
그 비교에 필요한 세 가지를 둡니다.

* :func:`fc7_features`: 평가 모드의 :class:`~alexnetbook.models.AlexNet` 에서 fc7 의 ReLU 출력을 꺼냅니다
  (``torchvision.models.feature_extraction.create_feature_extractor``).
* :func:`nearest_neighbours`: 유클리드 거리로 가장 가까운 ``k`` 개(질의를 나눠 행렬 곱으로 계산).
* :func:`neighbour_label_matches`: 가장 가까운 이웃의 레이블이 질의의 레이블과 같은지(질의마다 하나).
* :func:`distance_rank`: 한 공간에서 찾은 이웃이 다른 공간(예: 픽셀)에서는 몇 번째로 가까운지.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torchvision.models.feature_extraction import create_feature_extractor

from ..checks import check_int, check_tensor, check_type

__all__ = ["FC7_NODE", "distance_rank", "fc7_features", "nearest_neighbours", "neighbour_label_matches"]

#: fc7 의 ReLU 출력(논문의 "마지막 은닉층")을 가리키는 FX 노드 이름.
FC7_NODE = "classifier.relu7"


@torch.no_grad()
def fc7_features(model: nn.Module, images: Tensor, *, batch_size: int = 500, node: str = FC7_NODE) -> Tensor:
    """``images`` 의 fc7 특징 벡터(ReLU 뒤, 드롭아웃 앞)를 평가 모드로 계산합니다.

    Args:
        model: :class:`~alexnetbook.models.AlexNet` (FX 로 추적할 수 있는 모델).
        images: 모델이 받는 ``(N, 3, H, W)`` 실수 입력(전처리를 마친 것).
        batch_size: 한 번에 흘려 보낼 이미지 수(결과에는 영향이 없습니다).
        node: 꺼낼 FX 노드 이름. 기본은 :data:`FC7_NODE`.

    Returns:
        ``(N, D)`` float32 특징 행렬(``D`` 는 fc7 의 뉴런 수).

    Raises:
        TypeError: ``model`` 이 ``nn.Module`` 이 아니거나 ``images`` 가 실수 텐서가 아닐 때.
        ValueError: ``images`` 가 4차원이 아니거나 ``batch_size`` 가 1보다 작을 때.
    """
    check_type(model, "model", nn.Module)
    check_tensor(images, "images", dims=4, floating=True)
    check_int(batch_size, "batch_size", minimum=1)
    was_training = model.training
    # 추출기는 모델의 층을 그대로 공유하므로, eval() 은 모델의 드롭아웃도 끕니다. 끝나면 되돌립니다.
    extractor = create_feature_extractor(model, {node: "fc7"}).eval()
    param = next(model.parameters())
    try:
        chunks = [
            extractor(images[start:start + batch_size].to(param.device, param.dtype))["fc7"].float().cpu()
            for start in range(0, len(images), batch_size)
        ]
    finally:
        model.train(was_training)
    return torch.cat(chunks).flatten(1)  # (N, D, ...) -> (N, D·...); fc7 은 이미 (N, D)


@torch.no_grad()
def nearest_neighbours(
    queries: Tensor, database: Tensor, k: int = 1, *, batch_size: int = 256
) -> tuple[Tensor, Tensor]:
    """질의마다 ``database`` 에서 유클리드 거리가 가장 가까운 ``k`` 개를 찾습니다.

    ``‖q − d‖² = ‖q‖² − 2 q·d + ‖d‖²`` 로 거리 행렬을 행렬 곱 하나로 계산합니다. 질의를 ``batch_size`` 개씩
    나눠 ``(batch_size, M)`` 행렬만 메모리에 둡니다. 이미지 텐서는 펼쳐서(픽셀 공간) 씁니다.

    Args:
        queries: ``(Q, ...)`` 질의(특징 벡터 또는 이미지).
        database: ``(M, ...)`` 찾아볼 모음. ``queries`` 와 한 개의 모양이 같아야 합니다.
        k: 찾을 이웃 수(``1 ≤ k ≤ M``).
        batch_size: 한 번에 처리할 질의 수(결과에는 영향이 없습니다).

    Returns:
        ``(distances, indices)``: 둘 다 ``(Q, k)``. 가까운 순서이고, 거리는 제곱하지 않은 유클리드 거리입니다.

    Raises:
        TypeError: 텐서가 아닐 때.
        ValueError: 모양이 맞지 않거나 ``k`` 가 범위를 벗어날 때.
    """
    check_tensor(queries, "queries")
    check_tensor(database, "database")
    if queries.dim() < 2 or queries.shape[1:] != database.shape[1:]:
        raise ValueError(
            "queries 는 (Q, ...), database 는 (M, ...) 이고 한 개의 모양이 같아야 합니다. "
            f"받은 모양: {tuple(queries.shape)}, {tuple(database.shape)}"
        )
    check_int(k, "k", minimum=1, maximum=len(database))
    check_int(batch_size, "batch_size", minimum=1)
    distances, indices = [], []
    for start in range(0, len(queries), batch_size):
        d2, idx = _squared_distances(queries[start:start + batch_size], database).topk(k, dim=1, largest=False)
        distances.append(d2.sqrt())
        indices.append(idx)
    return torch.cat(distances), torch.cat(indices)


@torch.no_grad()
def distance_rank(queries: Tensor, database: Tensor, targets: Tensor, *, batch_size: int = 256) -> Tensor:
    """질의마다 ``database[targets[i]]`` 보다 질의에 **더 가까운** 항목이 ``database`` 에 몇 개 있는지(0 이면 가장 가까움).

    특징 공간에서 찾은 이웃이 픽셀 공간에서는 몇 번째로 가까운지를 잴 때 씁니다. ``targets`` 에 열을 여러 개 주면
    (예: 모델마다 찾은 이웃) 거리 행렬을 한 번만 계산해 열마다 순위를 냅니다.

    Args:
        queries: ``(Q, ...)`` 질의.
        database: ``(M, ...)`` 모음.
        targets: ``(Q,)`` 또는 ``(Q, T)`` 질의마다 순위를 잴 ``database`` 의 번호.
        batch_size: 한 번에 처리할 질의 수.

    Returns:
        ``targets`` 와 같은 모양의 int64 순위.

    Raises:
        ValueError: 모양이 맞지 않거나 번호가 범위를 벗어날 때.
    """
    check_tensor(targets, "targets", dims=(1, 2))
    check_tensor(queries, "queries")
    check_tensor(database, "database")
    if len(targets) != len(queries):
        raise ValueError(f"targets 는 질의마다 번호가 있어야 합니다. 받은 길이: {len(targets)}, 질의 {len(queries)}개")
    if targets.numel() and (int(targets.min()) < 0 or int(targets.max()) >= len(database)):
        raise ValueError(f"targets 의 번호는 0 이상 {len(database)} 미만이어야 합니다.")
    check_int(batch_size, "batch_size", minimum=1)
    columns = targets.reshape(len(targets), -1).long()  # (Q,) -> (Q, 1), (Q, T) 는 그대로
    ranks = []
    for start in range(0, len(queries), batch_size):
        sq = _squared_distances(queries[start:start + batch_size], database)  # (B, M)
        own = sq.gather(1, columns[start:start + batch_size])  # (B, T)
        ranks.append((sq[:, None, :] < own[:, :, None]).sum(2))  # (B, T, M) 비교 -> (B, T)
    return torch.cat(ranks).reshape(targets.shape)


def _squared_distances(queries: Tensor, database: Tensor) -> Tensor:
    """``(B, ...)`` 질의와 ``(M, ...)`` 모음의 제곱 유클리드 거리 ``(B, M)`` (행렬 곱 하나로)."""
    if queries.dim() < 2 or queries.shape[1:] != database.shape[1:]:
        raise ValueError(
            "queries 는 (Q, ...), database 는 (M, ...) 이고 한 개의 모양이 같아야 합니다. "
            f"받은 모양: {tuple(queries.shape)}, {tuple(database.shape)}"
        )
    dtype = torch.float64 if torch.float64 in (queries.dtype, database.dtype) else torch.float32
    q = queries.flatten(1).to(dtype)  # (B, ...) -> (B, D)
    db = database.flatten(1).to(dtype)  # (M, ...) -> (M, D)
    sq = q.pow(2).sum(1, keepdim=True) - 2 * q @ db.T + db.pow(2).sum(1)  # (B, M)
    return sq.clamp_min(0)  # 반올림으로 생긴 작은 음수는 0 으로


def neighbour_label_matches(neighbour_indices: Tensor, database_labels: Tensor, query_labels: Tensor) -> Tensor:
    """가장 가까운 이웃(``neighbour_indices[:, 0]``)의 레이블이 질의의 레이블과 같은지, 질의마다.

    Args:
        neighbour_indices: ``(Q, k)`` 또는 ``(Q,)`` :func:`nearest_neighbours` 의 번호.
        database_labels: ``(M,)`` 모음의 정수 레이블.
        query_labels: ``(Q,)`` 질의의 정수 레이블.

    Returns:
        ``(Q,)`` bool 텐서. 두 공간의 결과를 :func:`alexnetbook.stats.mcnemar` 로 짝지어 비교할 수 있습니다.

    Raises:
        ValueError: 모양이 맞지 않을 때.
    """
    check_tensor(neighbour_indices, "neighbour_indices", dims=(1, 2))
    check_tensor(database_labels, "database_labels", dims=1)
    check_tensor(query_labels, "query_labels", dims=1)
    first = neighbour_indices if neighbour_indices.dim() == 1 else neighbour_indices[:, 0]
    if len(first) != len(query_labels):
        raise ValueError(
            f"neighbour_indices 와 query_labels 의 질의 수가 다릅니다: {len(first)} != {len(query_labels)}"
        )
    return database_labels[first] == query_labels
