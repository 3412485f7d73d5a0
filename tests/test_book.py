"""책 구성(설정, 목차, 노트북 위생)의 테스트.

노트북의 실행 결과 자체는 nbval 이 확인합니다. 여기서는 커밋된 노트북이 위에서 아래로 실행되어
출력이 저장되어 있는지, Colab 설치 셀이 `_config.yml` 의 저장소 주소와 일치하는지 등을 봅니다.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
NOTEBOOKS = sorted(
    p for p in (ROOT / "book").rglob("*.ipynb")
    if not any(part.startswith(".") or part == "_build" for part in p.relative_to(ROOT).parts)
)
# 원본 페이지에서 옮겨 오기 쉬운 오타와 사실 오류(개발 지침과 alexnet-facts.md §6)
FORBIDDEN = {
    r"Khrizevsky|Krizhevksy": "첫 저자는 Alex Krizhevsky",
    r"later inhibition": "lateral inhibition(측면 억제)",
    r"\btahn\b|erroe|rectfied|saturatung|weight dacay|generalizaion|compoenet|Herrman": "원본 페이지의 오타",
    r"이미지르 |값ㅇ르|강겅한": "원본 페이지의 한국어 오타",
}


def toc_files() -> list[str]:
    files = [TOC["root"]]
    chapters = [c for part in TOC.get("parts", []) for c in part["chapters"]] + TOC.get("chapters", [])
    for chapter in chapters:
        files.append(chapter["file"])
        files.extend(s["file"] for s in chapter.get("sections", []))
    return files


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def colab_setup_source() -> str:
    url = CONFIG["repository"]["url"]
    branch = CONFIG["repository"]["branch"]
    return f"git+{url}@{branch}"


def test_config_essentials():
    assert CONFIG["sphinx"]["config"]["language"] == "ko"
    assert CONFIG["execute"]["execute_notebooks"] == "off"
    assert CONFIG["only_build_toc_files"] is True
    for pattern in (".*", "**/.*", "_build", ".venv", "code", "tests", "benchmarks"):
        assert pattern in CONFIG["exclude_patterns"]
    assert CONFIG["bibtex_bibfiles"] == ["book/references.bib"]
    assert CONFIG["launch_buttons"]["colab_url"].startswith("https://colab.research.google.com")
    assert CONFIG["html"]["use_repository_button"] is True
    assert re.search(r"[가-힣]", CONFIG["title"])


def test_requirements_pin_jupyter_book_1():
    req = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^jupyter-book==1\.", req, re.M)
    assert re.search(r"^torch==2\.14\.1$", req, re.M)
    assert re.search(r"^-e \.$", req, re.M)


def test_toc_lists_every_chapter_and_nothing_missing():
    listed = toc_files()
    for name in listed:
        assert any((ROOT / f"{name}{ext}").exists() for ext in (".ipynb", ".md")), f"{name} 이 없습니다"
    on_disk = {f"book/{p.stem}" for p in NOTEBOOKS} | {f"book/{p.stem}" for p in (ROOT / "book").glob("*.md")}
    assert on_disk <= set(listed), f"목차에 없는 장: {on_disk - set(listed)}"
    assert listed[-2:] == ["book/glossary", "book/bibliography"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executed_top_to_bottom(path):
    nb = load(path)
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c.get("execution_count") for c in code]
    assert None not in counts, "실행되지 않은 셀이 있습니다: make notebooks"
    assert counts == list(range(1, len(counts) + 1)), f"위에서 아래로 한 번에 실행되지 않았습니다: {counts}"
    for cell in code:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"저장된 출력에 오류가 있습니다: {out.get('ename')}"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_colab_setup_cell(path):
    nb = load(path)
    first_code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    src = "".join(first_code["source"])
    assert 'if "google.colab" in sys.modules:' in src
    assert colab_setup_source() in src, "Colab 설치 셀의 주소가 _config.yml 의 repository 와 다릅니다"
    assert not re.search(r"pip install[^\n]*\btorch\b", src), "Colab 의 torch 를 다시 설치하면 안 됩니다"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_uses_package_and_korean(path):
    nb = load(path)
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    md = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert re.search(r"^\s*(import alexnetbook|from alexnetbook)", code, re.M)
    assert len(re.findall(r"[가-힣]", md)) > 300, "본문이 한국어로 충분히 쓰여 있지 않습니다"
    assert "allow_errors" not in json.dumps(nb["metadata"])
    for pattern, why in FORBIDDEN.items():
        match = re.search(pattern, md)
        assert match is None, f"{match.group(0)!r}: {why}"


def test_every_citation_key_exists():
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    cited: set[str] = set()
    for path in [*NOTEBOOKS, *(ROOT / "book").glob("*.md")]:
        text = path.read_text(encoding="utf-8")
        for group in re.findall(r"\{cite:[pt]\}`([^`]+)`", text):
            cited.update(k.strip() for k in group.split(","))
    assert cited, "인용이 하나도 없습니다"
    assert cited <= keys, f"references.bib 에 없는 키: {cited - keys}"
