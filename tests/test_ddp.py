"""alexnetbook.ddp: torchrun 으로 띄운 2-프로세스 gloo 학습이 한 프로세스 전역 배치 학습과 같은지, 그리고
잘못된 실행 환경이 멈추지 않고 분명한 오류로 끝나는지.

모든 분산 실행은 ``sys.executable -m torch.distributed.run`` (가상 환경의 torch)과 빈 포트로 합니다.
"""

from __future__ import annotations

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

from alexnetbook.ddp import DDPConfig, _stop_torchrun, free_port, main, run_torchrun, train_single
from alexnetbook.models import AlexNet
from alexnetbook.utils import set_seed

# 비교용 작은 설정: float64, 드롭아웃 없음(마스크가 프로세스마다 다르므로), 2 에폭 × 5 스텝.
CONFIG = DDPConfig(num_samples=80, batch_size=16, epochs=2, lr=0.01, dropout=0.0, seed=3, dtype="float64")
CLI = [
    "--num-samples", str(CONFIG.num_samples), "--batch-size", str(CONFIG.batch_size),
    "--epochs", str(CONFIG.epochs), "--lr", str(CONFIG.lr), "--dropout", "0", "--seed", str(CONFIG.seed),
    "--dtype", CONFIG.dtype, "--cpu", "--timeout", "60",
]
STEPS = CONFIG.epochs * CONFIG.num_samples // CONFIG.batch_size


def clean_env(**extra: str) -> dict[str, str]:
    """분산 환경 변수를 지운 현재 환경(+ ``extra``)."""
    env = {k: v for k, v in os.environ.items() if k not in {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR",
                                                              "MASTER_PORT", "LOCAL_WORLD_SIZE", "GROUP_RANK"}}
    env["OMP_NUM_THREADS"] = "1"
    env.update(extra)
    return env


def run_script(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "alexnetbook.ddp", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    proc = run_torchrun([*CLI, "--dump", str(out / "dump"), "--checkpoint", str(out / "ckpt.pt")], 2, timeout=240)
    assert proc.returncode == 0, proc.stderr[-4000:]
    ranks = [torch.load(out / "dump" / f"rank{r}.pt") for r in range(2)]
    return out, proc, ranks


@pytest.fixture(scope="module")
def reference():
    return train_single(CONFIG)


@pytest.mark.timeout(300)
def test_two_gloo_processes_equal_one_process_on_the_full_batch(ddp_run, reference):
    _, proc, ranks = ddp_run
    assert "backend=gloo, WORLD_SIZE=2" in proc.stdout
    assert [r["rank"] for r in ranks] == [0, 1] and all(r["world_size"] == 2 for r in ranks)
    assert all(r["backend"] == "gloo" and r["device"] == "cpu" for r in ranks)

    # 각 스텝에서 두 rank 는 서로 겹치지 않는 절반을 받고, 합치면 한 프로세스의 전역 배치와 같습니다.
    for step in range(STEPS):
        a, b = (set(r["indices"][step].tolist()) for r in ranks)
        assert len(a) == len(b) == CONFIG.batch_size // 2 and not a & b
        assert a | b == set(reference["indices"][step].tolist())

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


@pytest.mark.timeout(300)
def test_checkpoint_is_written_by_rank_zero_only(ddp_run):
    out, _, ranks = ddp_run
    assert [r["wrote_checkpoint"] for r in ranks] == [True, False]
    assert sorted(p.name for p in out.iterdir()) == ["ckpt.pt", "dump"]  # 임시 파일이 남지 않음
    ckpt = torch.load(out / "ckpt.pt")
    assert ckpt["epoch"] == CONFIG.epochs and ckpt["world_size"] == 2
    assert ckpt["config"]["batch_size"] == CONFIG.batch_size
    assert set(ckpt["model"]) == set(ranks[0]["final_state"])  # "module." 접두사가 없는 안쪽 모델 이름
    for name, w in ckpt["model"].items():
        assert torch.equal(w, ranks[0]["final_state"][name]), name


@pytest.mark.timeout(60)
def test_without_torchrun_the_error_names_torchrun():
    proc = run_script([], clean_env())
    assert proc.returncode == 1
    assert "torchrun" in proc.stderr and "RANK" in proc.stderr


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        ({"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0"}, ["--batch-size", "15"], "WORLD_SIZE=2"),
        ({"RANK": "2", "WORLD_SIZE": "2", "LOCAL_RANK": "0"}, [], "RANK=2"),
        ({"RANK": "0", "WORLD_SIZE": "0", "LOCAL_RANK": "0"}, [], "WORLD_SIZE"),
        ({"RANK": "0", "WORLD_SIZE": "two", "LOCAL_RANK": "0"}, [], "정수"),
        ({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"}, ["--timeout", "0"], "--timeout"),
        ({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"}, ["--backend", "nccl", "--cpu"], "nccl"),
    ],
    ids=["batch-not-divisible", "rank-out-of-range", "world-size-zero", "not-an-integer", "timeout", "nccl-on-cpu"],
)
def test_bad_world_size_or_settings_fail_before_rendezvous(monkeypatch, capsys, env, args, message):
    # 확인은 init_process_group 전에 끝나므로 이 프로세스 안에서 main() 을 불러도 안전합니다.
    for key, value in clean_env(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()), **env).items():
        monkeypatch.setenv(key, value)
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "rendezvous" not in err  # 통신을 시작하기 전에 멈춤
    assert not torch.distributed.is_initialized()


@pytest.mark.timeout(120)
def test_torchrun_with_three_processes_and_batch_32_fails_cleanly():
    proc = run_torchrun(["--batch-size", "32", "--cpu"], 3, timeout=100)
    assert proc.returncode != 0
    assert "WORLD_SIZE=3" in proc.stderr


@pytest.mark.timeout(90)
@pytest.mark.parametrize("rank", [0, 1], ids=["master-waits-for-a-missing-peer", "worker-finds-no-master"])
def test_missing_rendezvous_times_out_with_a_clear_error(rank):
    env = clean_env(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank),
                    MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()))
    proc = run_script(["--cpu", "--timeout", "3"], env, timeout=80)
    assert proc.returncode == 1
    assert f"rendezvous 실패(rank {rank})" in proc.stderr
    assert "WORLD_SIZE=2" in proc.stderr


def test_config_check_rejects_bad_values():
    with pytest.raises(ValueError, match="WORLD_SIZE=4"):
        DDPConfig(batch_size=30).check(4)
    with pytest.raises(ValueError, match="클래스"):
        DDPConfig(num_samples=25).check()
    with pytest.raises(ValueError, match="배수"):
        DDPConfig(num_samples=100, batch_size=32).check()
    with pytest.raises(ValueError, match="dtype"):
        DDPConfig(dtype="float16").check()
    with pytest.raises(ValueError, match="dropout"):
        DDPConfig(dropout=1.0).check()
    DDPConfig().check(2)  # 기본값은 2 프로세스에서 유효


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


@pytest.mark.timeout(120)
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="/proc 가 있는 리눅스에서만 프로세스를 셀 수 있습니다")
def test_run_torchrun_timeout_kills_every_worker():
    # 이 실행만 알아볼 수 있는 시드 값: 앞선 실행이나 다른 테스트의 프로세스와 섞이지 않습니다.
    marker = str(secrets.randbelow(2**31) + 2**31)
    seen: dict[int, tuple[int, str]] = {}
    stop = threading.Event()

    def watch() -> None:  # 제한 시간 전에 작업 프로세스가 정말 떠 있었는지 기록합니다.
        while not stop.is_set():
            for pid, (ppid, argv) in processes_with(marker).items():
                # 부모는 처음 본 것(torchrun 이 죽으면 바뀜), 명령행은 마지막 것(fork 직후엔 부모의 명령행)
                seen[pid] = (seen.get(pid, (ppid, argv))[0], argv)
            stop.wait(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        # 기본 설정으로 10000 에폭은 제한 시간 20초 안에 끝나지 않으므로, 학습 중인 작업 프로세스를 끝내게 됩니다.
        with pytest.raises(subprocess.TimeoutExpired):
            run_torchrun(["--cpu", "--seed", marker, "--epochs", "10000"], 2, timeout=20)
    finally:
        stop.set()
        watcher.join()
    launcher = [pid for pid, (ppid, _) in seen.items() if ppid == os.getpid()]  # 이 프로세스가 띄운 torchrun
    # torchrun 이 띄운 작업 프로세스. fork 한 자식은 exec 전까지 부모와 같은 명령행을 가지므로, 명령행만으로
    # 세면 잠깐 있다 사라지는 자식까지 셀 수 있습니다. 그런 자식도 아래에서 남아 있으면 안 됩니다.
    workers = [pid for pid, (ppid, argv) in seen.items()
               if ppid in launcher and "-m alexnetbook.ddp" in argv and "torch.distributed.run" not in argv]
    assert len(launcher) == 1 and len(workers) == 2, f"제한 시간 전에 작업 프로세스 2개가 보여야 합니다: {seen}"
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


@pytest.mark.timeout(60)
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="/proc 가 있는 리눅스에서만 프로세스를 셀 수 있습니다")
def test_stop_torchrun_kills_processes_that_ignore_sigterm_in_other_sessions():
    marker = str(secrets.randbelow(2**31) + 2**31)
    proc = subprocess.Popen([sys.executable, "-c", _STUBBORN, marker], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        for _ in range(400):  # 손자 둘이 뜰 때까지(런처 1 + 자식 2 + 손자 2)
            if len(processes_with(marker)) == 5:
                break
            time.sleep(0.05)
        assert len(processes_with(marker)) == 5, processes_with(marker)
        _stop_torchrun(proc, grace=1.0)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert not processes_with(marker), f"남아 있는 프로세스: {processes_with(marker)}"
