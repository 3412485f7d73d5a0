"""alexnet-book 성능 측정 모음. ``python -m benchmarks`` 또는 ``make bench`` 로 실행합니다(테스트와 별개)."""
