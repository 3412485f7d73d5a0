"""``make bench`` 가 저장한 성능 측정 결과(``alexnetbook/perf/results/*.json``)를 읽습니다.

결과 파일은 패키지 데이터로 함께 배포됩니다(``pyproject.toml`` 의 ``package-data``). 그래서 저장소에서든,
Colab 처럼 git 주소로 설치한 곳에서든, 휠(wheel)로 설치한 곳에서든 인터넷 없이 같은 파일을 읽습니다.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ..checks import check_choice, check_type

__all__ = ["BASELINE", "RESULTS_PACKAGE", "VARIANT_NAMES", "TrainingSpeed", "available", "cpu_training_speed",
           "load_results"]

#: 결과 파일이 들어 있는 패키지 폴더.
RESULTS_PACKAGE = "alexnetbook.perf.results"


def _check_name(name: str) -> None:
    check_type(name, "name", str)
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"name은(는) 결과 파일 이름(확장자 없이, 예: 'training')이어야 합니다. 받은 값: {name!r}")


def available() -> list[str]:
    """배포된 결과 파일의 이름들(확장자 없이, 가나다순)."""
    folder = resources.files(RESULTS_PACKAGE)
    return sorted(entry.name[: -len(".json")] for entry in folder.iterdir() if entry.name.endswith(".json"))


def load_results(name: str) -> dict[str, Any]:
    """결과 파일 ``<name>.json`` 을 읽습니다.

    Args:
        name: 결과 이름(예: ``"training"``, ``"lrn"``).

    Returns:
        ``{"benchmark", "machine", "results"}`` 사전.

    Raises:
        TypeError: ``name`` 이 문자열이 아닐 때.
        ValueError: 이름이 잘못되었을 때(빈 문자열, 경로 구분자, 점으로 시작).
        FileNotFoundError: 그런 결과 파일이 없을 때(있는 이름을 함께 알려 줍니다).
    """
    _check_name(name)
    entry = resources.files(RESULTS_PACKAGE) / f"{name}.json"
    if not entry.is_file():
        raise FileNotFoundError(f"성능 측정 결과 {name!r}이(가) 없습니다. 있는 것: {available()}. `make bench` 로 만드세요.")
    return json.loads(entry.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class TrainingSpeed:
    """책이 인용하는 **하나의** CPU 학습 속도: ``benchmarks/training.py`` 가 잰 224×224 AlexNet 학습 스텝.

    학습 장(ImageNet 한 에폭의 시간 어림)과 성능 장이 모두 이 값을 씁니다.

    Attributes:
        model: 잰 모델의 설명(예: ``"한 타워 AlexNet (groups=1)"``).
        batch_size: 배치 크기.
        baseline_label: 기준 설정의 이름(이 책의 AlexNet, eager float32).
        baseline_images_per_second: 기준 설정의 초당 이미지 수(기준과 견준 모든 비교에서 잰 중앙값들의 중앙값).
        best_label: 기준에 대한 속도 비율의 중앙값이 가장 컸던 설정의 이름.
        best_images_per_second: 그 설정의 초당 이미지 수: ``baseline_images_per_second`` × 그 속도 비율(중앙값).
            같은 실행 안에서 번갈아 잰 비율은 기계의 부하가 바뀌어도 흔들리지 않지만, 비교마다 잰 절대 속도는
            그 순간의 부하를 따르므로 이렇게 어림합니다.
        cpu: 잰 CPU 의 설명과 스레드 수.
    """

    model: str
    batch_size: int
    baseline_label: str
    baseline_images_per_second: float
    best_label: str
    best_images_per_second: float
    cpu: str

    def epoch_hours(self, images: int = 1_281_167, *, best: bool = True) -> float:
        """``images`` 장(기본: ILSVRC-2012 학습 세트)을 한 번 도는 데 걸릴 시간(시간 단위)."""
        rate = self.best_images_per_second if best else self.baseline_images_per_second
        return images / rate / 3600


#: 학습 측정의 모델 변형 이름 → 책에서 부르는 이름.
VARIANT_NAMES = {"single_tower": "한 타워", "two_tower": "두 타워"}
#: 기준: 이 책의 AlexNet 그대로의 eager float32.
BASELINE = "eager_fp32"


def cpu_training_speed(variant: str = "single_tower") -> TrainingSpeed:
    """``training`` 결과에서 ``variant`` 모델의 기준(eager float32) 속도와 가장 빠른 설정의 속도를 꺼냅니다.

    가장 빠른 설정은 기준과 번갈아 잰 비교들 가운데 속도 비율의 중앙값이 가장 큰 것이고, 그 속도는 기준 속도에
    그 비율을 곱한 값입니다(:class:`TrainingSpeed`).

    Args:
        variant: ``"single_tower"`` (한 타워, ``groups=1``) 또는 ``"two_tower"`` (두 타워, ``groups=2``).

    Raises:
        ValueError: ``variant`` 가 두 이름이 아닐 때.
        KeyError: 결과 파일에 그 변형이 없을 때.
    """
    check_choice(variant, "variant", tuple(VARIANT_NAMES))
    data = load_results("training")
    results = data["results"]
    if variant not in results["variants"]:
        raise KeyError(f"training 결과에 변형 {variant!r}가 없습니다. 있는 것: {sorted(results['variants'])}")
    entry = results["variants"][variant]
    against = {name: c["against"][BASELINE] for name, c in entry["configs"].items() if BASELINE in c["against"]}
    best_name = max(against, key=lambda name: against[name]["speedup"]["median"])
    baseline = statistics.median(c["baseline_images_per_second"]["median"] for c in against.values())
    return TrainingSpeed(
        model=f"{VARIANT_NAMES[variant]} AlexNet" + (f" ({results['image_size']}×{results['image_size']} 입력)"
                                                       if "image_size" in results else ""),
        batch_size=int(results["batch_size"]),
        baseline_label=results["baselines"][BASELINE],
        baseline_images_per_second=float(baseline),
        best_label=entry["configs"][best_name]["label"],
        best_images_per_second=float(baseline * against[best_name]["speedup"]["median"]),
        cpu=f"{data['machine']['cpu_model']}, 스레드 {results['threads']}개",
    )
