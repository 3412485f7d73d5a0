"""한국어 화면 조정 확장(book/_ext/book_ui.py)과 오프라인 MathJax 의 테스트."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
EXT_DIR = ROOT / "book" / "_ext"
sys.path.insert(0, str(EXT_DIR))

import book_ui  # noqa: E402
from update_mathjax import MATHJAX_VERSION, TARGET  # noqa: E402

HANGUL = re.compile(r"[가-힣]")


@pytest.mark.parametrize("catalog", book_ui.CATALOGS)
def test_every_message_is_translated_into_korean(catalog):
    with (book_ui.LOCALE_DIR / "ko" / "LC_MESSAGES" / f"{catalog}.po").open("rb") as po_file:
        messages = [m for m in read_po(po_file) if m.id]
    assert messages
    for message in messages:
        assert message.string, f"번역이 비었습니다: {message.id!r}"
        if message.id not in {"Sphinx Book Theme", "© Copyright %(copyright)s.", "Copyright %(copyright)s"}:
            assert HANGUL.search(message.string), f"한국어가 아닙니다: {message.id!r} -> {message.string!r}"


def test_catalog_fixes_machine_translations():
    booktheme = book_ui.load_catalog("ko", "booktheme")
    sphinx = book_ui.load_catalog("ko", "sphinx")
    assert booktheme is not None and sphinx is not None
    assert booktheme.gettext("By") == "지은이:"  # 테마의 번역은 "으로"
    assert booktheme.gettext("Fullscreen mode") == "전체 화면으로 보기"  # 테마: "전체 화면으로보기"
    assert booktheme.gettext("Contents") == "목차"  # 테마: "내용"
    assert booktheme.gettext("Launch on") == "Launch on"  # 어순 때문에 localize_buttons 가 고칩니다
    assert sphinx.gettext("Toggle primary sidebar") == "책 목차 보이기/숨기기"
    assert sphinx.gettext("© Copyright %(copyright)s.") % {"copyright": "2026"} == "© 2026"
    assert book_ui.load_catalog("xx", "sphinx") is None


def test_load_catalog_rejects_unknown_catalog():
    with pytest.raises(ValueError, match="catalog"):
        book_ui.load_catalog("ko", "nonexistent")


def test_launch_tooltips_follow_korean_word_order():
    buttons = [
        {"tooltip": "노트북을 온라인에서 실행하기", "buttons": [
            {"tooltip": "Launch on Colab"}, {"tooltip": "Launch on Binder"}, {"text": "x"}]},
        {"tooltip": "이 페이지 내려받기"},
    ]
    book_ui.localize_buttons(buttons)
    assert [b.get("tooltip") for b in buttons[0]["buttons"]] == ["Colab에서 열기", "Binder에서 열기", None]
    assert buttons[1]["tooltip"] == "이 페이지 내려받기"


def test_unique_scripts_drops_the_duplicated_inline_script():
    from sphinx.builders.html._assets import _JavaScript

    body = 'const THEBE_JS_URL = "x"'
    scripts = [_JavaScript("a.js"), _JavaScript(None, body=body), _JavaScript("b.js", **{"async": "async"}),
               _JavaScript("", body=body), _JavaScript("a.js")]
    assert [(s.filename, s.attributes) for s in book_ui.unique_scripts(scripts)] == [
        ("a.js", {}), (None, {"body": body}), ("b.js", {"async": "async"})]


def test_offline_mathjax_is_vendored_and_configured():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    mathjax_path = config["sphinx"]["config"]["mathjax_path"]
    assert not mathjax_path.startswith(("http:", "https:", "//"))
    assert (book_ui.STATIC_DIR / mathjax_path) == TARGET / "tex-chtml-full.js"
    script = (TARGET / "tex-chtml-full.js").read_text(encoding="utf-8")
    assert f'"{MATHJAX_VERSION}"' in script[:2000] or MATHJAX_VERSION in script  # 판 번호가 맞는지
    fonts = sorted(p.name for p in (TARGET / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert "MathJax_Main-Regular.woff" in fonts and "MathJax_Math-Italic.woff" in fonts
    assert (TARGET / "LICENSE").is_file()
    assert "book/_ext" in config["exclude_patterns"]
    assert set(config["sphinx"]["local_extensions"]) == {"korean_search", "book_ui", "notebook_errors"}
    assert all(path == "book/_ext" for path in config["sphinx"]["local_extensions"].values())


@pytest.mark.timeout(180)
def test_theme_renders_korean_labels(tmp_path):
    """sphinx-book-theme 로 한 페이지를 빌드해 번역, 템플릿, 정적 파일이 실제로 쓰이는지 봅니다."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    (tmp_path / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(EXT_DIR)!r})\n"
        "extensions = ['book_ui']\nlanguage = 'ko'\nhtml_theme = 'sphinx_book_theme'\n"
        "author = 'alexnet-book 기여자'\nmathjax_path = 'mathjax/tex-chtml-full.js'\n"
        "html_theme_options = {'search_bar_text': 'Search this book...'}\n",
        encoding="utf-8",
    )
    (tmp_path / "index.rst").write_text(
        "제목\n====\n\n본문입니다. :math:`a^2`\n\n절\n--\n\n내용입니다.\n", encoding="utf-8")
    warnings = io.StringIO()
    out = tmp_path / "_build"
    with patch_docutils(tmp_path), docutils_namespace():  # 한 프로세스에서 여러 번 빌드해도 되도록
        Sphinx(tmp_path, tmp_path, out, out / ".doctrees", "html", status=None, warning=warnings,
               freshenv=True).build()
    assert warnings.getvalue() == ""
    page = (out / "index.html").read_text(encoding="utf-8")
    for label in ("책 목차 보이기/숨기기", "지은이:", "이 책에서 검색…", "전체 화면으로 보기", "화면 모드",
                  "맨 위로", "본문으로 건너뛰기", "이 제목으로 가는 링크"):
        assert label in page, label
    for english in ("Toggle primary sidebar", "Search this book", "Color mode", "Back to top", "으로 alexnet"):
        assert english not in page, english
    assert 'src="_static/mathjax/tex-chtml-full.js' in page
    assert "book_ui.css" in page and (out / "_static" / "book_ui.css").is_file()
    assert (out / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    assert 'dataset.mode = localStorage.getItem("mode") || "auto"' in page


def _glossary_blocks() -> list[str]:
    """용어집 ``{glossary}`` 블록의 항목(빈 줄로 나뉜 덩어리)들."""
    text = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    block = re.search(r"```\{glossary\}\n(.*?)\n```", text, re.S)
    assert block, "용어집에 {glossary} 블록이 없습니다"
    return re.split(r"\n\s*\n", block.group(1).strip())


def test_glossary_entries_start_with_the_english_term():
    """용어집의 모든 항목은 한국어 용어(와 약어) 다음에 "(영어 용어) 정의" 꼴의 정의를 둡니다."""
    entries = _glossary_blocks()
    assert entries
    for entry in entries:
        lines = entry.splitlines()
        terms = [line for line in lines if not line.startswith((" ", "\t"))]
        definition = [line.strip() for line in lines if line.startswith((" ", "\t"))]
        assert terms and definition, f"용어나 정의가 없습니다: {entry!r}"
        assert HANGUL.search(" ".join(terms)), f"한국어 용어가 없습니다: {terms}"
        assert re.match(r"\([^)]*[A-Za-z][^)]*\) \S", definition[0]), f"정의가 (영어 용어)로 시작하지 않습니다: {terms}"


def _glossary_entries() -> list[list[str]]:
    """항목마다 용어 줄(들여쓰지 않은 줄)만."""
    return [[line for line in entry.splitlines() if not line.startswith((" ", "\t"))] for entry in _glossary_blocks()]


def test_glossary_is_in_korean_alphabetical_order():
    """표제어(항목의 첫 줄)가 유니코드 순서입니다: 숫자, 로마자로 시작하는 용어가 먼저이고 한글은 가나다순입니다
    (한글 음절의 유니코드 순서가 곧 가나다순). 머리말이 이 규칙을 적어 둡니다."""
    keys = [terms[0] for terms in _glossary_entries()]
    assert keys == sorted(keys), "용어집 항목이 가나다순이 아닙니다"
    assert len(keys) == len(set(keys)), "같은 용어가 두 번 있습니다"


def test_every_glossary_term_is_linked_from_a_chapter():
    """용어집의 모든 항목은 적어도 한 장에서 ``{term}`` 으로 연결됩니다(본문에서 오지 않는 항목은 없어야 함)."""
    linked = set()
    for notebook in sorted((ROOT / "book").glob("*.ipynb")):
        for match in re.finditer(r"\{term\}`([^`]+)`", notebook.read_text(encoding="utf-8")):
            target = re.search(r"<([^>]+)>$", match.group(1))
            linked.add(target.group(1) if target else match.group(1))
    unlinked = [terms[0] for terms in _glossary_entries() if not linked & set(terms)]
    assert not unlinked, f"어느 장에서도 연결하지 않은 용어: {unlinked}"
