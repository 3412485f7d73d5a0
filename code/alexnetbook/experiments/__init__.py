"""각 장의 작은 측정 실험. 노트북은 여기의 함수를 불러 쓰기만 합니다.

* :mod:`.common`: 메모리에 올린 작은 데이터셋으로 에폭 단위 학습과 오류율 측정.
* :mod:`.relu_vs_tanh`: ReLU 장의 그림 1 재현(네 층 CNN 에서 ReLU 와 tanh 가 목표 학습 오류율에 닿는 에폭 수).
* :mod:`.lrn_speed`: LRN 장의 속도 비교(이 책의 LRN 대 ``nn.LocalResponseNorm``, 같은 실행 안의 비율).
* :mod:`.dropout_overfit`: 드롭아웃 장의 과적합 측정(드롭아웃 유무에 따른 학습/검증 오류율 간격).
* :mod:`.cifar_training`: 학습 장의 실험(AlexNet 축소판의 초기화 진단, 논문과 PyTorch 의 모멘텀 갱신 비교).
* :mod:`.pooling_overlap`: 풀링 장의 실험(같은 작은 CNN 에서 겹치는 풀링과 겹치지 않는 풀링의 학습/테스트 오류율).
* :mod:`.throughput`: 성능 장의 학습 한 걸음·추론 설정(channels_last, bf16, torch.compile, fused SGD)과 FLOP 수.
* :mod:`.input_pipeline`: 성능 장의 입력 파이프라인(실제 사진 JPEG + AlexNet 증강 ``DataLoader``).
"""

__all__ = ["common", "relu_vs_tanh", "lrn_speed", "dropout_overfit", "cifar_training", "pooling_overlap", "throughput", "input_pipeline"]
