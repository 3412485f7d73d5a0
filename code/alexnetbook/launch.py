"""``torchrun`` 을 띄우고, 끝나지 않으면 그 프로세스들을 남김없이 끝내는 도구.

데이터 병렬 수업(:mod:`alexnetbook.ddp`)과 그 테스트, 책의 여러 GPU 장이 이 모듈로 ``torchrun`` 을 실행합니다.
수업의 내용(학습 루프를 ``DistributedDataParallel`` 로 돌리기)과 프로세스 관리(시간 제한, 프로세스 트리 끝내기)를
나누어 두었습니다.

* :func:`run_torchrun`: ``python -m torch.distributed.run … -m alexnetbook.ddp …`` 을 새 세션으로 띄우고 끝날 때까지
  기다립니다. 제한 시간을 넘기거나 기다리는 중에 ``KeyboardInterrupt`` 가 오면 torchrun 과 모든 작업 프로세스를
  끝낸 뒤 예외를 냅니다.
* :func:`free_port`: rendezvous 에 쓸 빈 TCP 포트.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from .checks import check_float, check_int

__all__ = ["free_port", "run_torchrun"]


def free_port() -> int:
    """지금 비어 있는 TCP 포트 번호(127.0.0.1)를 운영체제에게 받아 돌려줍니다."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _proc_stat(pid: int) -> tuple[int, int, int, int] | None:
    """``/proc/<pid>/stat`` 에서 ``(ppid, 프로세스 그룹, 세션, 시작 시각)`` 을 읽습니다. 없거나 좀비면 ``None``."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    # 두 번째 필드(실행 파일 이름)는 괄호 안에 공백이 있을 수 있으므로 마지막 ")" 뒤부터 나눕니다.
    fields = raw[raw.rindex(b")") + 2 :].split()  # fields[0] = 3번째 필드(상태)
    if fields[0] in (b"Z", b"X"):  # 이미 끝나 거둬지기만 기다리는 프로세스
        return None
    return int(fields[1]), int(fields[2]), int(fields[3]), int(fields[19])


def _all_processes() -> dict[int, tuple[int, int, int, int]]:
    """살아 있는 모든 프로세스의 ``pid → (ppid, pgid, sid, 시작 시각)``."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _proc_stat(int(entry.name))) is not None:
            table[int(entry.name)] = stat
    return table


def _descendants(root: int) -> dict[int, int]:
    """``root`` 와 그 모든 자손 프로세스의 ``pid → 시작 시각`` (``/proc`` 의 PPid 를 거슬러 따라감)."""
    table = _all_processes()
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_rest) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = {}, [root]
    while stack:
        pid = stack.pop()
        if pid in table and pid not in found:
            found[pid] = table[pid][3]
            stack.extend(children.get(pid, ()))
    return found


def _kill_tree(known: dict[int, int], *, wait: float = 10.0) -> None:
    """``known`` 의 프로세스와, 그들의 프로세스 그룹·세션에 속한 모든 프로세스에 SIGKILL 을 보내고 끝나기를 기다립니다.

    ``known`` 은 ``pid → 시작 시각`` 입니다. 시작 시각이 다르면 그 사이 끝나고 번호만 재사용된 남의
    프로세스이므로 건드리지 않습니다. 이 파이썬 프로세스 자신의 그룹과 세션은 제외합니다.
    """
    own = {os.getpid()}
    own_groups, own_sessions = {os.getpgrp()}, {os.getsid(0)}
    for _ in range(50):
        table = _all_processes()
        alive = {pid for pid, start in known.items() if pid in table and table[pid][3] == start}
        groups = {table[pid][1] for pid in alive} - own_groups
        sessions = {table[pid][2] for pid in alive} - own_sessions
        # torchrun 은 작업 프로세스마다 새 세션을 만들므로(start_new_session) 그룹 하나로는 다 잡히지 않습니다.
        targets = alive | {pid for pid, (_, pgid, sid, _) in table.items() if pgid in groups or sid in sessions}
        targets -= own
        if not targets:
            return
        for pid in targets:
            known.setdefault(pid, table[pid][3])
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(wait / 50)
    raise RuntimeError(f"torchrun의 작업 프로세스를 끝내지 못했습니다: {sorted(targets)}")


def _stop_torchrun(proc: subprocess.Popen, *, grace: float = 5.0) -> None:
    """torchrun 과 그 모든 작업 프로세스를 끝냅니다.

    먼저 SIGTERM 을 보내 torchrun 이 스스로 작업 프로세스를 정리하게 하고(``grace`` 초 기다림), 그래도 남은
    것은 SIGKILL 로 끝냅니다. torchrun 은 작업 프로세스를 **새 세션**에 띄우므로 torchrun 의 프로세스 그룹에
    신호를 보내는 것만으로는 부족합니다. 그래서 신호를 보내기 **전에** ``/proc`` 에서 자손을 모두 모아 두고
    (torchrun 이 먼저 죽으면 작업 프로세스의 부모가 바뀌어 더는 찾을 수 없음), 그들의 그룹과 세션까지 끝냅니다.
    """
    if not Path("/proc").is_dir():  # /proc 가 없는 운영체제: torchrun 의 프로세스 그룹만 끝냅니다.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        return
    known = _descendants(proc.pid)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    for pid, start in _descendants(proc.pid).items():  # SIGTERM 처리 중에 새로 생긴 자손
        known.setdefault(pid, start)
    _kill_tree(known)
    proc.wait()


def run_torchrun(
    script_args: Sequence[str],
    nproc_per_node: int = 2,
    *,
    timeout: float = 300.0,
    threads_per_process: int = 1,
) -> subprocess.CompletedProcess:
    """``torchrun`` 으로 이 스크립트를 ``nproc_per_node`` 개 프로세스로 실행하고 끝날 때까지 기다립니다.

    지금 파이썬(``sys.executable -m torch.distributed.run``)을 쓰므로 같은 가상 환경의 torch 가 돌고,
    rendezvous 주소는 ``127.0.0.1`` 의 빈 포트(:func:`free_port`)입니다. 출력은 파이프가 아니라 임시 파일로
    받으므로, 작업 프로세스가 출력을 붙잡고 있어도 기다림이 멈추지 않습니다.

    Args:
        script_args: ``python -m alexnetbook.ddp`` 뒤에 붙일 인자.
        nproc_per_node: 프로세스 수.
        timeout: 전체 실행의 제한 시간(초). 넘으면(또는 기다리는 중에 KeyboardInterrupt 가 오면) torchrun 과
            모든 작업 프로세스를 끝낸 뒤 예외를 냅니다.
        threads_per_process: 프로세스마다의 ``OMP_NUM_THREADS`` (CPU 코어를 나눠 씀).

    Returns:
        ``returncode``, ``stdout``, ``stderr`` 를 담은 ``CompletedProcess`` (텍스트).

    Raises:
        ValueError: ``nproc_per_node`` 가 1보다 작을 때.
        subprocess.TimeoutExpired: ``timeout`` 초 안에 끝나지 않을 때. ``output``/``stderr`` 에 그때까지의 출력.
        RuntimeError: 제한 시간을 넘긴 뒤 SIGKILL 로도 작업 프로세스를 10초 안에 끝내지 못했을 때.
    """
    check_int(nproc_per_node, "nproc_per_node", minimum=1)
    check_int(threads_per_process, "threads_per_process", minimum=1)
    check_float(timeout, "timeout", minimum=0.0, open_min=True)
    cmd = [
        sys.executable, "-m", "torch.distributed.run",
        "--nnodes=1", f"--nproc-per-node={nproc_per_node}",
        "--master-addr=127.0.0.1", f"--master-port={free_port()}",
        "-m", "alexnetbook.ddp", *script_args,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads_per_process)}

    def read(f: IO[bytes]) -> str:
        f.seek(0)
        return f.read().decode("utf-8", errors="replace")

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # 새 세션으로 띄워 torchrun 이 이 파이썬(예: 주피터 커널)의 신호를 함께 받지 않게 합니다.
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop_torchrun(proc)
            raise subprocess.TimeoutExpired(cmd, timeout, output=read(out), stderr=read(err)) from None
        except BaseException:  # KeyboardInterrupt 등: 작업 프로세스를 남기지 않습니다.
            _stop_torchrun(proc)
            raise
        return subprocess.CompletedProcess(cmd, proc.returncode, read(out), read(err))
