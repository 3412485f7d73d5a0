"""alexnetbook.perf.memory: glibc malloc 이 해제한 큰 블록을 프로세스 안에 두는지(새 프로세스에서 확인)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from alexnetbook.perf import memory
from alexnetbook.perf.memory import retain_freed_memory

# 64 MiB 텐서를 만들고 지운 뒤 상주 메모리(VmRSS)가 얼마나 남는지 봅니다. 기본 glibc 는 mmap 으로 잡은
# 블록을 해제 즉시 돌려주므로 거의 남지 않고, retain_freed_memory() 뒤에는 그대로 남아야 합니다.
PROBE = textwrap.dedent(
    """
    import json, sys
    import torch
    from alexnetbook.perf.memory import retain_freed_memory

    def rss_mib():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

    applied = retain_freed_memory() if sys.argv[1] == "1" else None
    before = rss_mib()
    x = torch.ones(16 * 2**20)  # 64 MiB, 모든 페이지를 씀
    del x
    print(json.dumps({"applied": applied, "kept_mib": rss_mib() - before}))
    """
)


def probe(retain: bool) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, "1" if retain else "0"], capture_output=True, text=True,
                          timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.timeout(1200)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt 는 리눅스 전용")
def test_freed_tensor_memory_stays_in_the_process():
    default = probe(retain=False)
    retained = probe(retain=True)
    assert retained["applied"] is True
    assert default["kept_mib"] < 16  # 기본: 64 MiB 를 거의 모두 돌려줌
    assert retained["kept_mib"] > 48  # 설정 뒤: 다음 할당을 위해 남겨 둠


def test_returns_false_without_glibc(monkeypatch):
    def no_libc(name):
        raise OSError(f"{name} 없음")

    monkeypatch.setattr(memory.ctypes, "CDLL", no_libc)
    assert retain_freed_memory() is False
    monkeypatch.setattr(memory.sys, "platform", "darwin")
    assert retain_freed_memory() is False


@pytest.mark.parametrize(("bad", "error"), [(-1, ValueError), (2**31, ValueError), (1.5, TypeError), (True, TypeError)])
def test_bad_threshold(bad, error):
    with pytest.raises(error, match="trim_threshold"):
        retain_freed_memory(bad)
