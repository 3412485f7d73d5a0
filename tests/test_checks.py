"""alexnetbook.checks: 모든 인자 검사가 쓰는 도우미. 오류는 인자 이름과 기대하는 값을 말해야 합니다."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alexnetbook import checks


def test_check_int():
    assert checks.check_int(3, "n", minimum=1) == 3
    assert type(checks.check_int(np.int64(4), "n")) is int
    for bad in (True, 2.0, "3", None):
        with pytest.raises(TypeError, match="n은"):
            checks.check_int(bad, "n")
    with pytest.raises(ValueError, match=r"epochs.*1 이상.*0"):
        checks.check_int(0, "epochs", minimum=1)
    with pytest.raises(ValueError, match=r"\[0, 3\]"):
        checks.check_int(4, "k", minimum=0, maximum=3)


def test_check_float():
    assert checks.check_float(1, "lr", minimum=0, open_min=True) == 1.0
    for bad in (True, "0.1", None, torch.tensor(0.1)):
        with pytest.raises(TypeError, match="lr"):
            checks.check_float(bad, "lr")
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="유한"):
            checks.check_float(bad, "lr")
    with pytest.raises(ValueError, match=r"p.*\[0.0, 1.0\)"):
        checks.check_float(1.0, "p", minimum=0.0, maximum=1.0, open_max=True)
    with pytest.raises(ValueError, match="초과"):
        checks.check_float(0.0, "lr", minimum=0.0, open_min=True)
    assert checks.check_float(0.0, "x", minimum=0.0) == 0.0


def test_check_size():
    assert checks.check_size(224, "size") == (224, 224)
    assert checks.check_size([np.int64(3), 5], "size") == (3, 5)
    for bad in ("224", 2.5, None, True):
        with pytest.raises(TypeError, match="size"):
            checks.check_size(bad, "size")
    with pytest.raises(ValueError, match=r"crop.*\(1, 2, 3\)"):
        checks.check_size((1, 2, 3), "crop")
    with pytest.raises(ValueError, match=r"size\[1\].*1 이상"):
        checks.check_size((4, 0), "size")


def test_check_choice_type_and_tensor():
    assert checks.check_choice("a", "mode", ("a", "b")) == "a"
    with pytest.raises(ValueError, match=r"mode.*\('a', 'b'\).*'c'"):
        checks.check_choice("c", "mode", ("a", "b"))
    with pytest.raises(ValueError, match="mode"):
        checks.check_choice(["a"], "mode", ("a", "b"))  # 해시할 수 없는 값
    with pytest.raises(TypeError, match="model.*Module.*int"):
        checks.check_type(3, "model", torch.nn.Module)
    x = torch.zeros(2, 3)
    assert checks.check_tensor(x, "x", dims=(2, 3), floating=True) is x
    with pytest.raises(TypeError, match="x"):
        checks.check_tensor(np.zeros(2), "x")
    with pytest.raises(ValueError, match="4차원"):
        checks.check_tensor(x, "x", dims=4)
    with pytest.raises(TypeError, match="실수"):
        checks.check_tensor(x.long(), "x", floating=True)
    with pytest.raises(TypeError, match="dtype"):
        checks.check_tensor(x, "x", dtype=torch.float64)
