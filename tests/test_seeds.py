"""alexnetbook.seeds: 시드마다 스레드 하나, 프로세스 수와 상관없이 같은 결과."""

from __future__ import annotations

import pytest
import torch

from alexnetbook import seeds


def draw(seed: int, shape: tuple[int, ...], *, scale: float = 1.0) -> tuple[int, torch.Tensor, int]:
    """시드로 만든 값과, 이 함수가 돈 스레드 수."""
    generator = torch.Generator().manual_seed(seed)
    return seed, scale * torch.rand(shape, generator=generator), torch.get_num_threads()


def fail_on_two(seed: int) -> int:
    if seed == 2:
        raise ArithmeticError(f"시드 {seed} 에서 실패")
    return seed


def test_in_process_results_in_seed_order_with_one_thread():
    before = torch.get_num_threads()
    results = seeds.run_seeds(draw, [3, 1, 2], (2,), scale=2.0, processes=1)
    assert [r[0] for r in results] == [3, 1, 2]
    assert all(r[2] == 1 for r in results)
    assert torch.equal(results[0][1], 2.0 * torch.rand(2, generator=torch.Generator().manual_seed(3)))
    assert torch.get_num_threads() == before


@pytest.mark.slow
def test_worker_processes_give_the_same_results():
    in_process = seeds.run_seeds(draw, [0, 1, 2], (3,), processes=1)
    pooled = seeds.run_seeds(draw, [0, 1, 2], (3,), processes=2)
    for a, b in zip(in_process, pooled):
        assert a[0] == b[0] and torch.equal(a[1], b[1]) and b[2] == 1
    with pytest.raises(ArithmeticError, match="시드 2"):
        seeds.run_seeds(fail_on_two, [1, 2], processes=2)


def test_bad_arguments():
    with pytest.raises(ValueError, match="seeds"):
        seeds.run_seeds(draw, [], (1,))
    with pytest.raises(ValueError, match="두 번"):
        seeds.run_seeds(draw, [1, 1], (1,))
    with pytest.raises(ValueError, match="seeds"):
        seeds.run_seeds(draw, [-1], (1,))
    with pytest.raises(ValueError, match="processes"):
        seeds.run_seeds(draw, [0], (1,), processes=0)
    with pytest.raises(TypeError, match="fn"):
        seeds.run_seeds(42, [0])
    with pytest.raises(TypeError, match="processes=1"):
        seeds.run_seeds(lambda s: s, [0, 1], processes=2)


def test_default_processes_reads_the_environment(monkeypatch):
    monkeypatch.setenv(seeds.PROCESSES_ENV, "3")
    assert seeds.default_processes() == 3
    monkeypatch.setenv(seeds.PROCESSES_ENV, "0")
    with pytest.raises(ValueError, match=seeds.PROCESSES_ENV):
        seeds.default_processes()
    monkeypatch.delenv(seeds.PROCESSES_ENV)
    assert seeds.default_processes() >= 1
