"""alexnetbook.checkpoint: 원자적 쓰기와 체크포인트 형식."""

from __future__ import annotations

import pickle

import pytest
import torch

from alexnetbook import checkpoint as ck


class Boom(Exception):
    """쓰는 도중의 고장."""


def test_checkpoint_roundtrip_uses_weights_only(tmp_path):
    path = ck.save_checkpoint({"x": torch.arange(3)}, tmp_path / "a" / "last.pt")
    state = ck.load_checkpoint(path)
    assert torch.equal(state["x"], torch.arange(3)) and state["format"] == ck.CHECKPOINT_FORMAT
    # 임의의 파이썬 객체가 든 파일은 weights_only=True 가 거부합니다.
    evil = tmp_path / "evil.pt"
    torch.save({"format": ck.CHECKPOINT_FORMAT, "obj": Boom("임의의 객체")}, evil)
    with pytest.raises(pickle.UnpicklingError):
        ck.load_checkpoint(evil)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(1)}, other)
    with pytest.raises(ValueError, match="체크포인트"):
        ck.load_checkpoint(other)
    with pytest.raises(TypeError, match="state"):
        ck.save_checkpoint([1, 2], tmp_path / "list.pt")


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "result.json"
    ck.atomic_write(path, lambda f: f.write(b"old"))

    def crash_halfway(f):
        f.write(b"new but incomplete")
        raise Boom

    with pytest.raises(Boom):
        ck.atomic_write(path, crash_halfway)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]  # 임시 파일도 남지 않음
    ck.atomic_write(path, lambda f: f.write(b"new"))
    assert path.read_bytes() == b"new"


def test_interrupted_checkpoint_save_leaves_the_previous_one(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    ck.save_checkpoint({"epoch": 1}, path)
    real_save = torch.save

    def crash_halfway(obj, f, *args, **kwargs):
        real_save({"epoch": 2, "pad": torch.zeros(1000)}, f)
        f.truncate(100)  # 반쯤 쓴 파일
        raise KeyboardInterrupt

    monkeypatch.setattr(ck.torch, "save", crash_halfway)
    with pytest.raises(KeyboardInterrupt):
        ck.save_checkpoint({"epoch": 2}, path)
    monkeypatch.setattr(ck.torch, "save", real_save)
    assert ck.load_checkpoint(path)["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]


def test_atomic_write_follows_the_umask_like_a_plain_open(tmp_path):
    import os

    previous = os.umask(0o022)
    try:
        path = ck.atomic_write(tmp_path / "r.json", lambda f: f.write(b"{}"))
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644
