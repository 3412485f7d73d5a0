"""alexnetbook.ddp 와 alexnetbook.launch: torchrun 으로 띄운 2-프로세스 gloo 학습이 한 프로세스 전역 배치 학습과
같은지, 잘못된 실행 환경이 멈추지 않고 분명한 오류로 끝나는지, 끝나지 않는 torchrun 을 남김없이 끝내는지.

분산 실행은 ``sys.executable -m torch.distributed.run`` (가상 환경의 torch)과 빈 포트로 합니다. torchrun 실행은
시나리오마다 한 번이고(모듈 범위 fixture), 모두 ``slow`` 로 표시합니다.
"""

from __future__ import annotations

import _thread
import dataclasses
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from alexnetbook import ddp
from alexnetbook.checkpoint import load_checkpoint
from alexnetbook.launch import _stop_torchrun, free_port, run_torchrun
from alexnetbook.models import AlexNet
from alexnetbook.train import CHECKPOINT_NAME
from alexnetbook.utils import set_seed

# 비교용 가장 작은 설정: 이미지 20장, 전역 배치 10(프로세스당 5), 2 에폭 = 4 스텝. 두 번째 에폭이 있어야
# 에폭마다 바뀌는 샘플러 순서(set_epoch)까지 비교됩니다. float64, 드롭아웃 없음(마스크가 프로세스마다 다름).
NUM_SAMPLES = 20
CONFIG = dataclasses.replace(ddp.DEFAULT_CONFIG, batch_size=10, epochs=2, seed=3)
STEPS = CONFIG.epochs * NUM_SAMPLES // CONFIG.batch_size
CLI = [
    "--num-samples", str(NUM_SAMPLES), "--batch-size", str(CONFIG.batch_size), "--epochs", str(CONFIG.epochs),
    "--lr", str(CONFIG.lr), "--dropout", "0", "--seed", str(CONFIG.seed), "--dtype", "float64", "--cpu",
    "--timeout", "120",
]
DIST_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "LOCAL_WORLD_SIZE", "GROUP_RANK")
needs_proc = pytest.mark.skipif(not Path("/proc").is_dir(), reason="/proc 가 있는 리눅스에서만 프로세스를 셀 수 있습니다")


def clean_env(**extra: str) -> dict[str, str]:
    """분산 환경 변수를 지운 현재 환경(+ ``extra``)."""
    env = {k: v for k, v in os.environ.items() if k not in DIST_VARS}
    env["OMP_NUM_THREADS"] = "1"
    env.update(extra)
    return env


def new_marker() -> str:
    """이 실행의 프로세스만 알아볼 수 있는 시드 값(명령행에 그대로 들어감)."""
    return str(secrets.randbelow(2**31) + 2**31)


def processes_with(marker: str) -> dict[int, tuple[int, str]]:
    """명령행에 ``marker`` 가 들어 있는 살아 있는 프로세스의 ``pid → (부모 pid, 명령행)`` (좀비는 명령행이 비어 빠짐)."""
    found = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if marker.encode() in argv:
                stat = (proc / "stat").read_bytes()
                ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
                found[int(proc.name)] = (ppid, b" ".join(argv).decode(errors="replace"))
        except (OSError, ValueError):  # 그사이 끝난 프로세스
            continue
    return found


# ---------------------------------------------------------------------------------------------------------------
# 2 프로세스 == 1 프로세스(전역 배치)
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    proc = run_torchrun([*CLI, "--dump", str(out / "dump"), "--checkpoint-dir", str(out / "ckpt")], 2, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    ranks = [torch.load(out / "dump" / f"rank{r}.pt") for r in range(2)]
    return out, proc, ranks


@pytest.fixture(scope="module")
def reference():
    return ddp.train_single(CONFIG, num_samples=NUM_SAMPLES, dropout=0.0, dtype="float64")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_two_gloo_processes_equal_one_process_on_the_full_batch(ddp_run, reference):
    _, proc, ranks = ddp_run
    assert "backend=gloo, WORLD_SIZE=2, 프로세스당 배치 5" in proc.stdout
    assert [r["rank"] for r in ranks] == [0, 1] and all(r["world_size"] == 2 for r in ranks)
    assert all(r["backend"] == "gloo" and r["device"] == "cpu" for r in ranks)
    assert len(reference["indices"]) == STEPS and all(len(r["indices"]) == STEPS for r in ranks)

    # 각 스텝에서 두 rank 는 서로 겹치지 않는 절반을 받고, 합치면 한 프로세스의 전역 배치와 같습니다.
    for step in range(STEPS):
        a, b = (set(r["indices"][step].tolist()) for r in ranks)
        assert len(a) == len(b) == CONFIG.batch_size // 2 and not a & b, step
        assert a | b == set(reference["indices"][step].tolist()), step

    # 첫 스텝 뒤의 기울기: DDP 가 평균낸 값 = 전역 배치 전체의 기울기.
    ref_grads = reference["first_grads"]
    assert ranks[0]["first_grads"].keys() == ref_grads.keys()
    for name, g in ref_grads.items():
        assert torch.equal(ranks[0]["first_grads"][name], ranks[1]["first_grads"][name]), name
        torch.testing.assert_close(ranks[0]["first_grads"][name], g, rtol=1e-9, atol=1e-13, msg=name)

    # 스텝별 손실: 두 rank 의 배치 평균 손실의 평균 = 전역 배치의 평균 손실.
    f64 = torch.float64
    mean_losses = torch.tensor(ranks[0]["losses"], dtype=f64) / 2 + torch.tensor(ranks[1]["losses"], dtype=f64) / 2
    torch.testing.assert_close(mean_losses, torch.tensor(reference["losses"], dtype=f64), rtol=1e-10, atol=0)

    # 최종 가중치: 두 rank 는 비트 단위로 같고, 한 프로세스 결과와도 (합 순서 차이 말고는) 같습니다.
    final = reference["final_state"]
    for name, w in final.items():
        assert torch.equal(ranks[0]["final_state"][name], ranks[1]["final_state"][name]), name
        torch.testing.assert_close(ranks[0]["final_state"][name], w, rtol=1e-9, atol=1e-12, msg=name)
    # 학습이 가중치를 실제로 바꿨는지: 같은 시드의 초기 가중치와 멀어야 위의 비교가 의미 있습니다.
    set_seed(CONFIG.seed)
    initial = AlexNet.for_cifar(dropout=0.0).double().state_dict()
    assert max(float((final[n] - initial[n]).abs().max()) for n in final) > 1e-4


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_checkpoint_is_written_by_rank_zero_only(ddp_run):
    out, _, ranks = ddp_run
    assert [r["wrote_checkpoint"] for r in ranks] == [True, False]
    assert sorted(p.name for p in (out / "ckpt").iterdir()) == [CHECKPOINT_NAME]  # 임시 파일이 남지 않음
    ckpt = load_checkpoint(out / "ckpt" / CHECKPOINT_NAME)  # alexnetbook.checkpoint 형식(format 번호 확인)
    assert set(ckpt) == {"epoch", "model", "optimizer", "scheduler", "history", "config", "world_size", "format"}
    assert ckpt["epoch"] == CONFIG.epochs and len(ckpt["history"]) == CONFIG.epochs
    assert ckpt["world_size"] == 2  # 프로세스 수도 적어 두어, 다른 수로 이어서 학습하면 경고할 수 있습니다
    assert ckpt["config"]["batch_size"] == CONFIG.batch_size // 2  # fit 의 설정은 프로세스 하나의 배치
    assert set(ckpt["model"]) == set(ranks[0]["final_state"])  # "module." 접두사가 없는 안쪽 모델 이름
    for name, w in ckpt["model"].items():
        assert torch.equal(w, ranks[0]["final_state"][name]), name


# ---------------------------------------------------------------------------------------------------------------
# 잘못된 설정과 실행 환경
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        (None, [], "torchrun"),
        ({"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0"}, ["--batch-size", "15"], "WORLD_SIZE=2"),
        ({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"}, ["--num-samples", "100"], "받은 값: 100"),
        ({"RANK": "2", "WORLD_SIZE": "2", "LOCAL_RANK": "0"}, [], "RANK는 0 이상"),
        ({"RANK": "0", "WORLD_SIZE": "0", "LOCAL_RANK": "0"}, [], "WORLD_SIZE"),
        ({"RANK": "0", "WORLD_SIZE": "two", "LOCAL_RANK": "0"}, [], "정수"),
        ({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"}, ["--timeout", "0"], "--timeout"),
        ({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"}, ["--dropout", "1"], "--dropout"),
        ({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"}, ["--backend", "nccl", "--cpu"], "nccl"),
    ],
    ids=["no-torchrun", "batch-not-divisible", "samples-not-a-multiple", "rank-out-of-range", "world-size-zero",
         "not-an-integer", "timeout", "dropout", "nccl-on-cpu"],
)
def test_bad_world_size_or_settings_fail_before_rendezvous(monkeypatch, capsys, env, args, message):
    # 확인은 init_process_group 전에 끝나므로 이 프로세스 안에서 main() 을 불러도 안전합니다.
    for key in DIST_VARS:
        monkeypatch.delenv(key, raising=False)
    if env is not None:
        for key, value in {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port()), **env}.items():
            monkeypatch.setenv(key, value)
    assert ddp.main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("alexnetbook.ddp: 오류:") and message in err
    assert "rendezvous" not in err  # 통신을 시작하기 전에 멈춤
    assert not torch.distributed.is_initialized()


def test_check_setup_and_train_single_reject_bad_values():
    with pytest.raises(ValueError, match="WORLD_SIZE=4"):
        ddp.check_setup(dataclasses.replace(CONFIG, batch_size=30), 60, 4)
    with pytest.raises(ValueError, match="클래스"):
        ddp.check_setup(CONFIG, 25)
    with pytest.raises(ValueError, match="배수"):
        ddp.check_setup(dataclasses.replace(CONFIG, batch_size=32), 100)
    with pytest.raises(TypeError, match="num_samples"):
        ddp.check_setup(CONFIG, "20")
    # train_single 은 데이터를 읽거나 모델을 만들기 전에 멈춥니다.
    with pytest.raises(ValueError, match="dtype"):
        ddp.train_single(CONFIG, num_samples=NUM_SAMPLES, dtype="float16")
    with pytest.raises(ValueError, match="dropout"):
        ddp.train_single(CONFIG, num_samples=NUM_SAMPLES, dropout=1.0)
    ddp.check_setup(ddp.DEFAULT_CONFIG, 160, 2)  # 기본값은 2 프로세스에서 유효


def test_run_torchrun_rejects_bad_arguments():
    with pytest.raises(ValueError, match="nproc_per_node"):
        run_torchrun([], 0)
    with pytest.raises(ValueError, match="timeout"):
        run_torchrun([], 2, timeout=0)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_torchrun_with_a_batch_that_does_not_split_fails_cleanly():
    # 프로세스 둘에 전역 배치 15: 작업 프로세스가 통신을 시작하기 전에 멈추고, 그 오류가 torchrun 을 지나 보입니다.
    proc = run_torchrun(["--batch-size", "15", "--cpu"], 2, timeout=500)
    assert proc.returncode != 0
    assert "alexnetbook.ddp: 오류:" in proc.stderr and "WORLD_SIZE=2" in proc.stderr


@pytest.fixture(scope="module")
def lonely_ranks():
    """WORLD_SIZE=2 인데 rank 하나만 띄운 실행 두 개(rank 0 만, rank 1 만)를 동시에 돌린 결과."""
    procs = {}
    for rank in (0, 1):
        env = clean_env(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank),
                        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()))
        procs[rank] = subprocess.Popen([sys.executable, "-m", "alexnetbook.ddp", "--cpu", "--timeout", "2"], env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = {}
    for rank, proc in procs.items():
        try:
            _, err = proc.communicate(timeout=300)
        finally:
            proc.kill()
        results[rank] = (proc.returncode, err)
    return results


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("rank", [0, 1], ids=["master-waits-for-a-missing-peer", "worker-finds-no-master"])
def test_missing_rendezvous_times_out_with_a_clear_error(lonely_ranks, rank):
    returncode, err = lonely_ranks[rank]
    assert returncode == 1, err[-2000:]
    assert f"rendezvous 실패(rank {rank})" in err
    assert "WORLD_SIZE=2" in err


# ---------------------------------------------------------------------------------------------------------------
# 끝나지 않는 torchrun 끝내기
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(600)
@needs_proc
def test_interrupting_run_torchrun_kills_every_worker():
    marker = new_marker()
    seen: dict[int, tuple[int, str]] = {}
    stop, interrupted = threading.Event(), threading.Event()

    def workers() -> list[int]:
        launcher = [pid for pid, (ppid, _) in seen.items() if ppid == os.getpid()]  # 이 프로세스가 띄운 torchrun
        # fork 한 자식은 exec 전까지 부모(torchrun)와 같은 명령행을 가지므로 torchrun 의 명령행은 빼고 셉니다.
        return [pid for pid, (ppid, argv) in seen.items()
                if ppid in launcher and "-m alexnetbook.ddp" in argv and "torch.distributed.run" not in argv]

    def watch() -> None:
        while not stop.is_set():
            for pid, (ppid, argv) in processes_with(marker).items():
                # 부모는 처음 본 것(torchrun 이 죽으면 바뀜), 명령행은 마지막 것(fork 직후엔 부모의 명령행)
                seen[pid] = (seen.get(pid, (ppid, argv))[0], argv)
            if not interrupted.is_set() and len(workers()) == 2:
                interrupted.set()
                _thread.interrupt_main()  # 주피터에서 "중지" 를 누른 것과 같은 KeyboardInterrupt
            stop.wait(0.05)

    # 셸이 배경 작업으로 띄운 프로세스는 SIGINT 를 무시한 채 물려받고, 그러면 interrupt_main 이 아무 일도 하지
    # 않습니다. 주피터 커널처럼 SIGINT 를 KeyboardInterrupt 로 바꾸는 처리기를 이 테스트 동안만 답니다.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        # 기본 설정으로 10000 에폭은 끝나지 않으므로, 학습 중인 작업 프로세스를 끝내게 됩니다.
        with pytest.raises(KeyboardInterrupt):
            run_torchrun(["--cpu", "--seed", marker, "--epochs", "10000"], 2, timeout=500)
    finally:
        stop.set()
        watcher.join()
        signal.signal(signal.SIGINT, previous)
    assert len(workers()) == 2, f"중단 전에 작업 프로세스 2개가 보여야 합니다: {seen}"
    assert not processes_with(marker), f"남아 있는 프로세스: {processes_with(marker)}"


@pytest.mark.slow
@pytest.mark.timeout(300)
@needs_proc
def test_run_torchrun_timeout_stops_the_launch():
    marker = new_marker()
    with pytest.raises(subprocess.TimeoutExpired):
        run_torchrun(["--cpu", "--seed", marker, "--epochs", "10000"], 2, timeout=1)
    assert not processes_with(marker), f"남아 있는 프로세스: {processes_with(marker)}"


# SIGTERM 을 무시하는 "런처"가, 역시 SIGTERM 을 무시하는 자식 둘을 torchrun 처럼 각자 새 세션에 띄우고,
# 각 자식은 다시 손자를 하나씩 띄웁니다. 그래도 모두 SIGKILL 로 끝나야 합니다.
_STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
marker = sys.argv[1]
ignore = "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
grandchild = ignore + "time.sleep(600)"
child = ignore + "import subprocess; subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2]]); time.sleep(600)"
kids = [subprocess.Popen([sys.executable, "-c", child, grandchild, marker], start_new_session=True) for _ in range(2)]
print("ready", flush=True)
time.sleep(600)
"""


@pytest.mark.timeout(120)
@needs_proc
def test_stop_torchrun_kills_processes_that_ignore_sigterm_in_other_sessions():
    marker = new_marker()
    proc = subprocess.Popen([sys.executable, "-c", _STUBBORN, marker], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 60
        while len(processes_with(marker)) < 5 and time.monotonic() < deadline:  # 런처 1 + 자식 2 + 손자 2
            time.sleep(0.05)
        assert len(processes_with(marker)) == 5, processes_with(marker)
        _stop_torchrun(proc, grace=0.5)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert not processes_with(marker), f"남아 있는 프로세스: {processes_with(marker)}"
