"""설정 하나를 자기 프로세스에서 돌리는 측정 작업자.

``malloc`` 설정(:func:`alexnetbook.perf.memory.retain_freed_memory`)처럼 프로세스 전체에 적용되고 되돌릴 수
없는 설정은, 기준과 같은 프로세스에서 번갈아 잴 수 없습니다. 그래서 학습 설정마다 작업 프로세스를 하나씩
띄우고(``spawn``), 주 프로세스가 기준 작업자와 후보 작업자에게 번갈아 "한 스텝" 을 시켜
:func:`benchmarks._timing.compare` 로 잽니다. 명령을 기다리는 작업자는 파이프에서 잠들어 있으므로 CPU 를
쓰지 않습니다. 시간에는 파이프로 명령을 주고받는 몇십 마이크로초가 더해질 뿐입니다.

설정마다 새 프로세스이므로 모델, 옵티마이저 상태, 할당자 상태, ``torch.compile`` 의 결과가 설정 사이에
섞이지 않습니다. ``loader_batches`` 를 주면 작업자가 자기 안에 실제 사진 JPEG 파이프라인
(:func:`alexnetbook.perf.input_pipeline.make_photo_loader`)도 만들어, 그 배치로 학습하는 한 바퀴와 같은 수의
합성 배치로 학습하는 한 바퀴를 같은 프로세스 안에서 비교할 수 있습니다.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["StepWorker"]


def _worker_main(conn: Connection, spec: dict[str, Any]) -> None:
    """작업 프로세스의 본문: 준비를 마치면 ``("ready", 첫 호출 초)``, 명령마다 ``("ok", (손실, 페이지 폴트))``."""
    try:
        import resource

        import torch

        from alexnetbook.models import AlexNet
        from alexnetbook.perf.throughput import TRAIN_CONFIGS, make_train_step

        torch.set_num_threads(spec["threads"])
        config = TRAIN_CONFIGS[spec["config"]]
        torch.manual_seed(spec["seed"])
        model = AlexNet(**spec["model_kwargs"])
        step = make_train_step(model, config, spec["batch_size"], image_size=spec["image_size"], seed=spec["seed"])
        loader = None
        if spec["loader_batches"]:  # 파이프라인이 필요한 작업자만 torchvision 을 불러옵니다(몇 초 걸림)
            from alexnetbook.perf.input_pipeline import make_photo_loader

            loader = make_photo_loader(spec["batch_size"], spec["loader_workers"], batches=spec["loader_batches"])
        start = time.perf_counter()
        step()  # 첫 호출: torch.compile 이면 여기서 컴파일합니다
        conn.send(("ready", time.perf_counter() - start))
        while True:
            command = conn.recv()
            if command == "stop":
                break
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            if command == "real":  # 파이프라인의 배치로 한 바퀴
                for images, labels in loader:
                    loss = step(images, labels)
            else:  # ("steps", n): 합성 배치로 n 스텝
                for _ in range(command[1]):
                    loss = step()
            conn.send(("ok", (float(loss), resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults)))
    except Exception:  # noqa: BLE001 - 작업자의 오류를 주 프로세스로 그대로 넘깁니다
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


class StepWorker:
    """학습 설정 하나(``TRAIN_CONFIGS`` 의 이름)를 자기 프로세스에서 준비하고, 부를 때마다 한 스텝 시킵니다.

    Args:
        config: ``alexnetbook.perf.throughput.TRAIN_CONFIGS`` 의 이름.
        model_kwargs: ``AlexNet(**model_kwargs)``.
        batch_size: 배치 크기.
        threads: 작업자의 PyTorch 스레드 수.
        image_size: 입력 한 변.
        seed: 초기 가중치와 합성 데이터의 시드(모든 작업자가 같은 값을 쓰면 같은 모델에서 시작).
        env: 작업자에만 더할 환경 변수.
        loader_batches: 0 보다 크면 작업자 안에 실제 사진 파이프라인(한 바퀴에 이 수의 배치)을 만듭니다.
        loader_workers: 그 파이프라인의 ``DataLoader`` 작업 프로세스 수.

    Attributes:
        first_call_seconds: 준비 운동 전 첫 스텝의 시간(컴파일 포함).
        last_loss: 마지막 스텝의 손실.
        last_minor_faults: 마지막 명령 동안 작업자 프로세스에 일어난 작은 페이지 폴트(minor page fault) 수.
            새로 받은 메모리 페이지를 처음 쓸 때마다 하나씩 일어나므로, 시간과 달리 기계의 부하에 흔들리지 않는
            할당 비용의 지표입니다.
    """

    def __init__(self, config: str, model_kwargs: dict[str, Any], batch_size: int, *, threads: int,
                 image_size: int = 224, seed: int = 0, env: dict[str, str] | None = None,
                 loader_batches: int = 0, loader_workers: int = 0) -> None:
        spec = {"config": config, "model_kwargs": model_kwargs, "batch_size": batch_size, "threads": threads,
                "image_size": image_size, "seed": seed, "loader_batches": loader_batches,
                "loader_workers": loader_workers}
        self.loader_batches = loader_batches
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        saved = {key: os.environ.get(key) for key in (env or {})}
        os.environ.update(env or {})  # spawn 한 프로세스는 이 순간의 환경을 물려받습니다
        try:
            # 데몬 프로세스는 자식을 둘 수 없으므로, DataLoader 작업 프로세스를 띄울 작업자만 데몬이 아닙니다
            # (주 프로세스가 연결을 닫으면 recv 가 EOFError 로 끝나므로 남지 않습니다).
            self._process = context.Process(target=_worker_main, args=(child, spec), daemon=loader_workers == 0)
            self._process.start()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        child.close()
        self.first_call_seconds = self._receive("ready")
        self.last_loss = float("nan")
        self.last_minor_faults = -1

    def _receive(self, expected: str) -> Any:
        status, value = self._conn.recv()
        if status == "error":
            self.close()
            raise RuntimeError(f"측정 작업자가 실패했습니다:\n{value}")
        if status != expected:
            raise RuntimeError(f"작업자에게서 {expected!r}를 기대했는데 {status!r}를 받았습니다.")
        return value

    def _run(self, command: Any) -> float:
        self._conn.send(command)
        self.last_loss, self.last_minor_faults = self._receive("ok")
        return self.last_loss

    def __call__(self) -> float:
        """작업자에게 합성 배치로 학습 한 스텝을 시키고 끝날 때까지 기다립니다. 손실을 돌려줍니다."""
        return self._run(("steps", 1))

    def synthetic_pass(self) -> float:
        """파이프라인 한 바퀴와 같은 수(``loader_batches``)의 합성 배치로 학습합니다."""
        return self._run(("steps", self.loader_batches))

    def real_pass(self) -> float:
        """실제 사진 파이프라인의 배치로 한 바퀴 학습합니다(``loader_batches`` 가 0 보다 커야 함)."""
        if not self.loader_batches:
            raise RuntimeError("loader_batches=0 인 작업자에는 파이프라인이 없습니다.")
        return self._run("real")

    def close(self) -> None:
        """작업자를 끝냅니다(여러 번 불러도 됨)."""
        if self._process.is_alive():
            try:
                self._conn.send("stop")
            except (BrokenPipeError, OSError):
                pass
            self._process.join(timeout=30)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        self._conn.close()

    def __enter__(self) -> StepWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
