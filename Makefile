# alexnet-book: `make book` 과 `make test` 가 README 의 첫 두 명령입니다.
# 모든 대상은 여러 번 실행해도 안전하며, 바뀐 것이 없으면 설치를 건너뜁니다.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NOTEBOOK_TIMEOUT ?= 900
# 단위 테스트와 노트북을 나눠 돌릴 pytest-xdist 작업 프로세스 수(파일, 곧 노트북 하나가 한 작업 프로세스에).
# 둘 다 한 코어만 쓰는 때가 많아서(프로세스 띄우기, 커널 시작과 import, JAX 컴파일, 작은 텐서, 시드마다 스레드
# 하나인 실험) 2코어에서 둘로 나누면 빨라집니다. 조용한 2코어 기계에서 노트북 전체: 차례로 628 초, 둘로 444 초.
TEST_WORKERS ?= 2

# 오프라인 CIFAR-10 사본: 이미 정해져 있지 않고 ../shared/data 가 있으면 그것을 씁니다.
ifeq ($(origin ALEXNETBOOK_DATA), undefined)
  ifneq ($(wildcard ../shared/data/cifar10-subset),)
    export ALEXNETBOOK_DATA := $(abspath ../shared/data)
  endif
endif
# 2코어 CI 에서 스레드를 과하게 만들지 않도록 합니다(이미 정해져 있으면 그대로). OpenMP 스레드가 다른 스레드를
# 기다리며 코어를 돌지(spin) 않게 하면, 다른 작업이 코어를 나눠 쓰는 기계에서도 느려지는 정도가 부하만큼에
# 머뭅니다(같은 작은 CNN 한 에폭: 조용할 때 1.9 초, 부하 약 3배에서 기본 설정 11.4 초, PASSIVE 6.6 초).
export OMP_NUM_THREADS ?= 2
export OMP_WAIT_POLICY ?= PASSIVE
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# 설치할 때 pip 이 모든 .py 를 바이트코드로 미리 컴파일하지 않게 하고(--no-compile: 조용한 2코어 기계에서 설치
# 179 초 -> 89 초), 처음 import 할 때 쓰는 모듈만 컴파일해 __pycache__ 에 남깁니다. 그러려면 파이썬이 .pyc 를
# 써야 하므로 PYTHONDONTWRITEBYTECODE 는 넘기지 않습니다(켜 두면 프로세스마다 torch 를 다시 컴파일: import 6 초 -> 17 초).
unexport PYTHONDONTWRITEBYTECODE

NOTEBOOKS := $(sort $(shell find book -name "*.ipynb" -not -path "*/.*" -not -path "*_build*"))
# nbval 은 무거운 노트북부터 작업 프로세스에 나눠 줍니다(가벼운 것이 뒤에 남아야 한쪽만 오래 돌지 않습니다).
# 순서는 조용한 2코어 기계에서 잰 실행 시간의 내림차순입니다.
HEAVY_NOTEBOOKS := $(addprefix book/,training.ipynb qualitative.ipynb relu.ipynb pooling.ipynb flax.ipynb dropout.ipynb)
NBVAL_ORDER := $(foreach nb,$(HEAVY_NOTEBOOKS),$(filter $(nb),$(NOTEBOOKS))) $(filter-out $(HEAVY_NOTEBOOKS),$(NOTEBOOKS))

.PHONY: help venv book test test-fast notebooks bench clean

help:
	@echo "make book       .venv 를 만들고(필요하면) HTML 책을 _build/html 에 빌드합니다"
	@echo "make test       .venv 를 만들고(필요하면) 단위 테스트와 모든 노트북의 nbval 을 실행합니다"
	@echo "make test-fast  느린 테스트(slow 표시)와 노트북을 빼고 단위 테스트만 돌립니다(약 1분)"
	@echo "make notebooks  모든 노트북을 차례로 다시 실행해 출력을 저장합니다(커밋 전에)"
	@echo "make bench      benchmarks/ 의 성능 측정을 실행합니다(테스트와 별개)"
	@echo "make clean      _build 를 지웁니다"

# 파이썬 3.11 이상인지 먼저 확인합니다(requirements.txt 의 고정 버전들이 3.11 이상을 요구합니다).
$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "오류: '$(PYTHON)' 을 찾을 수 없습니다. Python 3.11 이상이 필요합니다. 예: make PYTHON=python3.11" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || { echo "오류: $$($(PYTHON) --version 2>&1) 로는 안 됩니다. Python 3.11 이상이 필요합니다. 예: make PYTHON=python3.11" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -r requirements.txt
	@touch $(STAMP)

venv: $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --all -W -n --keep-going

test: $(STAMP)
	@start=$$(date +%s); $(BIN)/python -m pytest tests -n $(TEST_WORKERS) --dist loadfile; echo "단위 테스트: $$(( $$(date +%s) - start )) s"
	@start=$$(date +%s); $(BIN)/python -m pytest $(NBVAL_ORDER) -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder; echo "노트북(nbval): $$(( $$(date +%s) - start )) s"

test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -m "not slow" -n $(TEST_WORKERS) --dist loadfile

notebooks: $(STAMP)
	@for nb in $(NOTEBOOKS); do \
	  echo "== $$nb"; start=$$(date +%s); \
	  $(BIN)/jupyter execute --inplace --timeout=$(NOTEBOOK_TIMEOUT) --kernel_name=python3 "$$nb"; \
	  echo "   $$(( $$(date +%s) - start )) s"; \
	done

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf _build
