"""각 장의 작은 측정 실험. 노트북은 여기의 함수를 불러 쓰기만 합니다.

실험마다 그 장이 가르치는 설정과 논리 하나만 둡니다. 데이터는 :func:`alexnetbook.data.load_tensors`,
학습은 :func:`alexnetbook.train.fit`, 평가는 :mod:`alexnetbook.evaluate`, 여러 시드는
:func:`alexnetbook.seeds.run_seeds`, 요약과 짝지은 검정은 :mod:`alexnetbook.stats` 가 맡습니다.

* :mod:`.relu_vs_tanh`: ReLU 장의 그림 1 재현(작은 CNN 에서 ReLU 와 tanh 가 목표 학습 오류율에 닿는 에폭 수).
* :mod:`.dropout_overfit`: 드롭아웃 장의 과적합 측정(드롭아웃 유무에 따른 학습/검증 오류율 간격).
* :mod:`.pooling_overlap`: 풀링 장의 실험(겹치는 풀링과 겹치지 않는 풀링).
* :mod:`.training`: 학습 장의 실험(AlexNet 축소판의 초기화 진단, 논문과 PyTorch 의 모멘텀 갱신 비교).
* :mod:`.towers`, :mod:`.tower_runs`: 그림 3(두 타워의 conv1 커널이 색에 따라 나뉘는지)의 통계와 학습.
* :mod:`.neighbours`: 그림 4(fc7 특징 공간과 픽셀 공간의 최근접 이웃).
"""

__all__ = ["dropout_overfit", "neighbours", "pooling_overlap", "relu_vs_tanh", "tower_runs", "towers", "training"]
