"""파일을 원자적으로(atomically) 쓰기와 학습 체크포인트.

:func:`atomic_write` 는 같은 폴더의 임시 파일에 모두 쓰고 디스크에 내린(fsync) 다음 ``os.replace`` 로 이름을
바꿉니다. 이름 바꾸기는 원자적이므로, 쓰는 도중에 프로그램이 죽어도 목적지에는 이전 파일이나 새 파일 중
하나가 온전히 남고, 반쯤 쓰인 파일은 남지 않습니다. 학습 루프의 체크포인트, DDP 의 체크포인트, 벤치마크
결과(JSON)가 모두 이 함수 하나로 파일을 씁니다.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch

from .checks import check_type

__all__ = ["CHECKPOINT_FORMAT", "atomic_write", "load_checkpoint", "save_checkpoint"]

#: 체크포인트 형식 번호. 내용이 바뀌면 올립니다.
CHECKPOINT_FORMAT = 1


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any]) -> Path:
    """``write(f)`` 로 내용을 쓴 파일을 ``path`` 에 원자적으로 놓습니다.

    Args:
        path: 목적지. 폴더가 없으면 만듭니다.
        write: 바이너리 파일 객체 하나를 받아 내용을 쓰는 함수(예: ``lambda f: torch.save(state, f)``).

    Returns:
        목적지 경로.

    Raises:
        ``write`` 가 낸 예외. 그때 임시 파일은 지우고, 목적지는 건드리지 않습니다.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_name, 0o666 & ~umask)  # mkstemp 은 0600 으로 만들므로, 보통 파일처럼 umask 를 따르게 합니다
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """``state`` 에 형식 번호를 붙여 ``path`` 에 원자적으로 저장합니다(``torch.save``).

    Returns:
        저장한 경로.
    """
    check_type(state, "state", dict)
    return atomic_write(path, lambda f: torch.save({**state, "format": CHECKPOINT_FORMAT}, f))


def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """:func:`save_checkpoint` 로 저장한 체크포인트를 ``torch.load(weights_only=True)`` 로 읽습니다.

    ``weights_only=True`` 는 텐서, 기본 자료형, 리스트와 딕셔너리만 복원하므로 믿을 수 없는 파일을
    열어도 임의의 코드가 실행되지 않습니다.

    Raises:
        FileNotFoundError: 파일이 없을 때.
        ValueError: 이 모듈이 만든 체크포인트가 아닐 때.
    """
    state = torch.load(Path(path), map_location=map_location, weights_only=True)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: alexnetbook 형식 {CHECKPOINT_FORMAT} 체크포인트가 아닙니다.")
    return state
