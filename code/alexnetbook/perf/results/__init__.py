"""``make bench`` 가 저장한 측정 결과(JSON). :mod:`alexnetbook.perf.measurements` 가 읽습니다."""
