"""책 구성(설정, 목차, 노트북 위생)의 테스트.

노트북의 실행 결과 자체는 nbval 이 확인합니다. 여기서는 커밋된 노트북이 위에서 아래로 실행되어
출력이 저장되어 있는지, Colab 설치 셀이 `_config.yml` 의 저장소 주소와 일치하는지 등을 봅니다.
"""

from __future__ import annotations

import json
import sys
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
    # 설치가 실패하면(비공개 저장소, 바뀐 주소) 다음 셀의 ModuleNotFoundError 대신 이 셀이 주소와 할 일을 말합니다.
    assert 'find_spec("alexnetbook") is None' in src and "raise RuntimeError" in src


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


# ---------------------------------------------------------------------------------------------
# 용어: 번역어는 하나씩(용어집이 기준). 물러난 번역어가 장에 나오면 실패합니다.

#: 물러난 번역어 → 쓸 말. 목록은 짧고 분명하게 둡니다(용어집의 머리말과 각 항목 참고).
RETIRED = {
    r"정규화\s*\(\s*regulari|어떤 종류의 정규화": "regularization 은 규제",
    r"자렛|재럿": "Jarrett(로마자)",
    r"크리젭스키": "Krizhevsky(로마자)",
    r"걸음": "optimizer step 은 스텝",
    r"덧대": "padding 은 패딩",
    r"방송": "broadcast 는 브로드캐스트",
    r"(?<![가-힣])탑(?!재)": "tower 는 타워",
    r"줄기": "tower 는 타워",
    r"모서리": "corner 는 귀퉁이",
    r"%\s?포인트": "percentage point 는 %p",
}


def glossary_terms() -> list[str]:
    """용어집의 표제어(별칭 줄은 빼고 항목의 첫 줄만) 순서대로."""
    text = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    block = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    return [entry.strip("\n").split("\n")[0] for entry in block.strip("\n").split("\n\n")]


def chapter_text(path: Path) -> str:
    """장의 본문, 코드, 저장된 텍스트 출력(독자가 보는 모든 글자)."""
    nb = load(path)
    parts = []
    for cell in nb["cells"]:
        parts.append("".join(cell["source"]))
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            parts.append("".join(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def test_glossary_records_one_rendering_for_each_term():
    """이슈에서 한 가지로 정한 번역어가 모두 용어집에 있고, 용어집 자신도 물러난 번역어를 쓰지 않습니다.
    (가나다순은 tests/test_book_ui.py 가 확인합니다.)"""
    terms = glossary_terms()
    for term in ("규제", "정규화", "스텝", "보폭", "패딩", "묶음 합성곱", "버킷", "타워", "브로드캐스트", "귀퉁이",
                 "퍼센트포인트"):
        assert term in terms, f"용어집에 {term} 항목이 없습니다"
    for pattern, use in RETIRED.items():
        text = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
        assert not re.search(pattern, text), f"용어집이 물러난 번역어를 씁니다: {use}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapters_use_only_the_glossary_renderings(path):
    text = chapter_text(path)
    found = {use: m.group(0) for pattern, use in RETIRED.items() if (m := re.search(pattern, text))}
    assert not found, f"물러난 번역어: {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_checked_cells_use_tags_not_visible_comments(path):
    for cell in load(path)["cells"]:
        source = "".join(cell["source"])
        assert "NBVAL" not in source, "nbval 지시는 셀 태그(nbval-check-output)로 합니다"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_chapter_ends_with_exercises_and_hidden_solutions(path):
    nb = load(path)
    headings = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    start = next((i for i, h in enumerate(headings) if re.search(r"^## 연습 문제", h, re.M)), None)
    assert start is not None, "## 연습 문제 절이 없습니다"
    after = "\n".join(headings[start:])
    # 문제마다 풀이가 하나씩, 열기 전까지 접혀 있습니다(MyST admonition 의 dropdown 클래스 또는 dropdown 지시문).
    solutions = re.findall(r"\{admonition\} 풀이[^\n]*\n:class: dropdown|\{dropdown\} 풀이", after)
    assert 2 <= len(solutions) <= 4, f"연습 문제(접힌 풀이)는 2–4개여야 합니다: {len(solutions)}"
    code_after = [c for c in nb["cells"][[i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"][start]:]
                  if c["cell_type"] == "code"]
    for cell in code_after:  # 풀이 코드도 접혀 있고, nbval 이 실행합니다
        tags = set(cell.get("metadata", {}).get("tags", []))
        assert tags & {"hide-input", "hide-cell"}, "풀이 코드 셀은 hide-input 이나 hide-cell 태그로 접습니다"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_cell_installs_then_fails_loudly_if_the_package_is_missing(path, monkeypatch):
    """Colab 을 흉내 내어 설치 셀을 실행합니다: pip 은 설치할 주소를 받고, 설치 뒤에도 패키지가 없으면 셀이
    주소를 담은 오류를 냅니다(다음 셀의 ModuleNotFoundError 보다 먼저)."""
    import importlib.util
    import types

    from IPython.core.inputtransformer2 import TransformerManager

    source = "".join(next(c for c in load(path)["cells"] if c["cell_type"] == "code")["source"])
    code = TransformerManager().transform_cell(source)  # %pip -> get_ipython().run_line_magic(...)
    calls: list[tuple[str, str]] = []
    namespace: dict = {}

    class FakeShell:
        def run_line_magic(self, name: str, line: str) -> None:
            calls.append((name, line.format(**namespace)))  # IPython 처럼 {변수} 를 펼칩니다

    namespace["get_ipython"] = FakeShell
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "alexnetbook" else real_find_spec(name, *a))
    with pytest.raises(RuntimeError, match=re.escape(colab_setup_source())):
        exec(compile(code, str(path), "exec"), namespace)
    assert len(calls) == 1 and calls[0][0] == "pip" and colab_setup_source() in calls[0][1]
