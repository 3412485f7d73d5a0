"""성능 장과 ``benchmarks/`` 가 쓰는 측정 재료. 책의 학습과 평가는 이 하위 패키지에 기대지 않습니다.

* :mod:`.throughput`: AlexNet 학습 한 스텝(책의 학습 루프와 같은 :func:`alexnetbook.train.train_step`)과 추론을
  여러 속도 설정(channels_last, bf16, ``torch.compile``, fused SGD, malloc 재사용, PyTorch 그대로의 LRN)으로 만듭니다.
* :mod:`.memory`: glibc ``malloc`` 이 해제한 큰 블록을 다시 쓰게 하는 설정.
* :mod:`.lrn_speed`: LRN 장의 속도 비교(이 책의 LRN 대 ``nn.LocalResponseNorm``, 같은 실행 안의 비율).
* :mod:`.input_pipeline`: 실제 사진 JPEG + AlexNet 증강 ``DataLoader``.
* :mod:`.measurements`: ``make bench`` 가 저장해 패키지와 함께 배포하는 측정 결과(``perf/results/*.json``)를 읽고,
  책이 인용하는 하나의 CPU 학습 속도(:func:`~.measurements.cpu_training_speed`)를 꺼냅니다.
"""

__all__ = ["input_pipeline", "lrn_speed", "measurements", "memory", "throughput"]
