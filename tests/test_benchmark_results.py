"""alexnetbook.benchmark_results: 커밋된 측정 결과를 저장소, 편집 가능 설치, GitHub 커밋에서 찾기."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from alexnetbook import benchmark_results
from alexnetbook.benchmark_results import find_results_dir, load_results, raw_results_url

ROOT = Path(__file__).resolve().parents[1]


def write(directory: Path, name: str, payload: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.json").write_text(json.dumps(payload), encoding="utf-8")


def test_finds_results_above_the_working_directory(tmp_path, monkeypatch):
    write(tmp_path / "benchmarks" / "results", "demo", {"results": {"x": 1}})
    nested = tmp_path / "book" / "deeper"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert find_results_dir() == tmp_path / "benchmarks" / "results"
    assert load_results("demo") == {"results": {"x": 1}}


def test_explicit_directory_and_missing_file(tmp_path):
    write(tmp_path, "demo", {"a": 2})
    assert load_results("demo", results_dir=tmp_path) == {"a": 2}
    with pytest.raises(FileNotFoundError, match="make bench"):
        load_results("absent", results_dir=tmp_path)


def test_editable_install_points_at_its_checkout(tmp_path, monkeypatch):
    """저장소 밖에서 실행해도 편집 가능 설치의 출처(file://)에서 찾습니다."""
    checkout = tmp_path / "checkout"
    write(checkout / "benchmarks" / "results", "demo", {"probe": True})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr(benchmark_results, "_installed_direct_url",
                        lambda: {"url": checkout.as_uri(), "dir_info": {"editable": True}})
    assert load_results("demo") == {"probe": True}


def test_this_environment_finds_the_committed_results(tmp_path, monkeypatch):
    """이 저장소의 편집 가능 설치(.venv)에서는 어디서 실행해도 저장소의 결과 폴더를 씁니다."""
    direct = benchmark_results._installed_direct_url()
    if direct is None or not direct.get("url", "").startswith("file:"):
        pytest.skip("편집 가능 설치가 아닙니다")
    monkeypatch.chdir(tmp_path)
    committed = sorted((ROOT / "benchmarks" / "results").glob("*.json"))
    if not committed:
        pytest.skip("커밋된 결과가 없습니다")
    assert load_results(committed[0].stem) == json.loads(committed[0].read_text(encoding="utf-8"))


def test_raw_url_uses_the_installed_commit():
    direct = {"url": "https://github.com/someone/alexnet-book.git",
              "vcs_info": {"vcs": "git", "commit_id": "abc123", "requested_revision": "main"}}
    assert raw_results_url(direct, "training") == (
        "https://raw.githubusercontent.com/someone/alexnet-book/abc123/benchmarks/results/training.json")
    assert raw_results_url({"url": "file:///x", "dir_info": {}}, "training") is None
    assert raw_results_url({"url": "https://gitlab.com/a/b", "vcs_info": {"vcs": "git"}}, "training") is None


def test_downloads_from_github_when_not_in_a_checkout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(benchmark_results, "_installed_direct_url", lambda: {
        "url": "https://github.com/someone/alexnet-book", "vcs_info": {"vcs": "git", "commit_id": "abc123"}})
    requested = []

    def fake_urlopen(url, timeout):
        requested.append(url)
        return io.BytesIO(json.dumps({"from": "github"}).encode())

    monkeypatch.setattr(benchmark_results.urllib.request, "urlopen", fake_urlopen)
    assert load_results("suite") == {"from": "github"}
    assert requested == ["https://raw.githubusercontent.com/someone/alexnet-book/abc123/benchmarks/results/suite.json"]


@pytest.mark.parametrize("bad", ["", "../secrets", "a/b", ".hidden", 3])
def test_bad_names(bad):
    with pytest.raises(ValueError, match="name"):
        load_results(bad)
