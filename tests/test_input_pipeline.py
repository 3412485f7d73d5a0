"""alexnetbook.perf.input_pipeline: JPEG 사진 데이터셋과 DataLoader."""

from __future__ import annotations

import io

import numpy as np
import PIL.Image
import pytest
import torch

from alexnetbook.data import sample_photos
from alexnetbook.perf.input_pipeline import JpegPhotoDataset, encode_jpegs, make_photo_loader


@pytest.fixture(scope="module")
def jpegs() -> list[bytes]:
    return encode_jpegs()


def test_jpegs_decode_close_to_the_photos(jpegs):
    photos = list(sample_photos().values())
    assert len(jpegs) == len(photos) == 4
    for data, photo in zip(jpegs, photos):
        assert data[:2] == b"\xff\xd8"  # JPEG 시작 표지(SOI)
        decoded = np.asarray(PIL.Image.open(io.BytesIO(data)).convert("RGB"))
        assert decoded.shape == photo.shape
        # 손실 압축이므로 같지는 않지만, 품질 90 이면 평균 몇 단계(0–255) 안입니다.
        assert np.abs(decoded.astype(np.int16) - photo).mean() < 4.0


def test_dataset_decodes_the_right_photo(jpegs):
    seen = []
    dataset = JpegPhotoDataset(jpegs, 6, transform=lambda image: (seen.append(image.size), torch.zeros(1))[1])
    assert len(dataset) == 6
    labels = [dataset[i][1] for i in range(6)]
    assert labels == [0, 1, 2, 3, 0, 1]
    sizes = [(p.shape[1], p.shape[0]) for p in sample_photos().values()]  # PIL 크기는 (너비, 높이)
    assert seen == sizes + sizes[:2]
    assert dataset[-1][1] == 1
    with pytest.raises(IndexError):
        dataset[6]


def test_default_transform_gives_alexnet_crops(jpegs):
    torch.manual_seed(0)
    image, label = JpegPhotoDataset(jpegs, 4)[2]
    assert image.shape == (3, 224, 224) and image.dtype == torch.float32
    assert label == 2
    # 평균을 뺀 0–255 척도: 음수도 있고 크기는 수십~백 단위
    assert image.min() < 0 < image.max() and image.abs().max() > 20


def test_loader_batches():
    loader = make_photo_loader(2, 0, batches=2)
    batches = list(loader)
    assert len(batches) == 2
    assert batches[0][0].shape == (2, 3, 224, 224)
    assert batches[1][1].tolist() == [2, 3]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_loader_with_a_worker_process():
    # 같은 pytest 프로세스에서 JAX 를 먼저 불러왔을 수 있으므로 fork 대신 spawn 으로 작업 프로세스를 띄웁니다
    # (JAX 의 스레드가 있는 프로세스를 fork 하면 교착될 수 있습니다).
    loader = make_photo_loader(2, 1, batches=2, multiprocessing_context="spawn")
    assert loader.persistent_workers
    for _ in range(2):  # 두 에폭: 같은 작업 프로세스를 다시 씁니다
        assert [labels.tolist() for _, labels in loader] == [[0, 1], [2, 3]]


def test_bad_arguments(jpegs):
    with pytest.raises(ValueError, match="quality"):
        encode_jpegs(quality=0)
    with pytest.raises(TypeError, match="quality"):
        encode_jpegs(quality=90.0)
    with pytest.raises(ValueError, match="uint8"):
        encode_jpegs({"gray": np.zeros((4, 4), dtype=np.uint8)})
    with pytest.raises(ValueError, match="비어"):
        JpegPhotoDataset([], 4)
    with pytest.raises(ValueError, match="length"):
        JpegPhotoDataset(jpegs, 0)
    with pytest.raises(ValueError, match="num_workers"):
        make_photo_loader(2, -1)
    with pytest.raises(ValueError, match="batch_size"):
        make_photo_loader(0, 0)
    with pytest.raises(TypeError, match="batches"):
        make_photo_loader(2, 0, batches=True)
