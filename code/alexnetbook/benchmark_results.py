"""저장소에 커밋된 성능 측정 결과(``benchmarks/results/*.json``)를 읽습니다.

성능 장은 측정을 다시 하지 않고 ``make bench`` 가 저장한 JSON 을 읽어 표와 그림을 만듭니다. 결과 파일은
패키지가 아니라 저장소에 있으므로 다음 순서로 찾습니다.

1. 현재 폴더와 그 위 폴더들의 ``benchmarks/results/`` (저장소 안에서 노트북을 실행할 때).
2. 설치된 ``alexnet-book`` 배포의 출처(PEP 610 ``direct_url.json``). 편집 가능 설치(``pip install -e .``)면
   그 폴더를, GitHub 저장소에서 설치했으면(Colab 설치 셀의 ``git+https://github.com/...``) **설치한 바로 그
   커밋**의 파일을 ``raw.githubusercontent.com`` 에서 내려받습니다. 저장소 주소를 코드에 따로 적지 않으므로
   주소를 바꿔도 이 모듈은 고칠 필요가 없습니다.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["DISTRIBUTION", "RESULTS_SUBDIR", "find_results_dir", "load_results", "raw_results_url"]

#: 이 패키지의 배포 이름(pyproject.toml 의 ``project.name``).
DISTRIBUTION = "alexnet-book"
#: 저장소 안에서 결과 파일이 있는 폴더.
RESULTS_SUBDIR = Path("benchmarks") / "results"


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"name은 결과 파일 이름(확장자 없이, 예: 'training')이어야 합니다. 받은 값: {name!r}")


def find_results_dir(start: str | Path | None = None) -> Path | None:
    """``start`` (기본: 현재 폴더)와 그 위 폴더들에서 ``benchmarks/results`` 폴더를 찾습니다.

    Returns:
        찾은 폴더, 없으면 ``None``.
    """
    here = Path.cwd() if start is None else Path(start)
    for base in (here, *here.parents):
        candidate = base / RESULTS_SUBDIR
        if candidate.is_dir():
            return candidate
    return None


def raw_results_url(direct_url: dict[str, Any], name: str) -> str | None:
    """PEP 610 ``direct_url.json`` 이 GitHub 저장소의 한 커밋을 가리키면, 그 커밋의 결과 파일 주소를 만듭니다.

    Args:
        direct_url: ``direct_url.json`` 의 내용.
        name: 결과 파일 이름(확장자 없이).

    Returns:
        ``https://raw.githubusercontent.com/<소유자>/<저장소>/<커밋>/benchmarks/results/<name>.json``, GitHub 의
        git 설치가 아니면 ``None``.
    """
    _check_name(name)
    vcs = direct_url.get("vcs_info") or {}
    parsed = urllib.parse.urlparse(direct_url.get("url", ""))
    if vcs.get("vcs") != "git" or parsed.hostname != "github.com":
        return None
    parts = [p for p in parsed.path.split("/") if p]
    if len(parts) < 2:
        return None
    owner, repo = parts[0], parts[1].removesuffix(".git")
    revision = vcs.get("commit_id") or vcs.get("requested_revision") or "HEAD"
    return f"https://raw.githubusercontent.com/{owner}/{repo}/{revision}/{RESULTS_SUBDIR.as_posix()}/{name}.json"


def _installed_direct_url() -> dict[str, Any] | None:
    try:
        text = metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    return json.loads(text) if text else None


def load_results(name: str, *, results_dir: str | Path | None = None, timeout: float = 30.0) -> dict[str, Any]:
    """결과 JSON ``<name>.json`` 을 읽어 사전으로 돌려줍니다.

    Args:
        name: 결과 파일 이름(확장자 없이), 예: ``"training"``, ``"lrn"``, ``"suite"``.
        results_dir: 이 폴더에서만 찾습니다. ``None`` 이면 모듈 설명의 순서대로 찾습니다.
        timeout: 내려받을 때 기다리는 최대 시간(초).

    Returns:
        JSON 의 내용(``benchmark``, ``machine``, ``results``).

    Raises:
        ValueError: ``name`` 이 파일 이름이 아닐 때.
        FileNotFoundError: 어디에서도 찾지 못했을 때(``make bench`` 로 만드는 법을 알려 줍니다).
    """
    _check_name(name)
    filename = f"{name}.json"
    if results_dir is not None:
        dirs = [Path(results_dir)]
    else:
        dirs = [d for d in (find_results_dir(),) if d is not None]
        direct_url = _installed_direct_url()
        if direct_url is not None:
            parsed = urllib.parse.urlparse(direct_url.get("url", ""))
            if parsed.scheme == "file":
                dirs.append(Path(urllib.request.url2pathname(parsed.path)) / RESULTS_SUBDIR)
            else:
                url = raw_results_url(direct_url, name)
                if url is not None and not any((d / filename).is_file() for d in dirs):
                    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (https 만 만듦)
                        return json.loads(response.read().decode("utf-8"))
    for directory in dirs:
        path = directory / filename
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    raise FileNotFoundError(
        f"{RESULTS_SUBDIR.as_posix()}/{filename} 을 찾지 못했습니다(찾아본 곳: {[str(d) for d in dirs]}). "
        "저장소를 받은 뒤 `make bench` 또는 `python -m benchmarks` 로 만들 수 있습니다."
    )
