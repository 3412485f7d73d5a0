"""pytest 공용 설정: 노트북별 실행 시간 요약을 출력합니다.

nbval 은 노트북의 셀 하나를 테스트 하나로 셉니다. ``--durations=0`` 은 셀마다 시간을 보여 주므로,
여기서는 노트북 파일별로 합친 시간을 마지막에 따로 출력해 책 전체의 실행 시간이 늘어나는 것을
한눈에 보게 합니다.
"""

from __future__ import annotations

from collections import defaultdict

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    per_notebook: dict[str, float] = defaultdict(float)
    for reports in terminalreporter.stats.values():
        for report in reports:
            nodeid = getattr(report, "nodeid", "")
            duration = getattr(report, "duration", None)
            if duration is None or ".ipynb::" not in nodeid:
                continue
            per_notebook[nodeid.split("::", 1)[0]] += duration
    if not per_notebook:
        return
    terminalreporter.section("notebook durations (nbval)")
    for path, seconds in sorted(per_notebook.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{seconds:8.1f} s  {path}")
    terminalreporter.write_line(f"{sum(per_notebook.values()):8.1f} s  total")
