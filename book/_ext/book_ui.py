"""한국어 독자를 위한 화면 조정을 모은 Sphinx 확장.

* 테마의 어색하거나 번역되지 않은 화면 문구를 ``locale/ko/LC_MESSAGES/*.po`` 의 번역으로 바꿉니다.
  ``.po`` 는 빌드할 때 메모리에서 읽으므로 ``.mo`` 파일을 만들거나 커밋하지 않습니다.
* 검색창 안내 문구, "Launch on Colab" 처럼 이어 붙여 만든 툴팁을 한국어 어순으로 고칩니다.
* 테마 묶음의 두 가지 콘솔 오류를 없앱니다. sphinx-thebe 의 설정 스크립트가 Sphinx 7.4 에서 두 번
  들어가 ``const THEBE_JS_URL`` 을 다시 선언하는 SyntaxError 가 나고, 화면 모드의 기본값이 비어 있어
  pydata-sphinx-theme 가 "Got invalid theme mode" 오류를 냅니다(처음 방문할 때).
* ``static/`` 을 ``_static`` 에 복사합니다: 한글 글꼴과 줄바꿈, 어두운 모드의 그림 배경을 맞추는
  ``book_ui.css`` 와 오프라인 MathJax 3(``mathjax/``, ``update_mathjax.py`` 참고). MathJax 는
  ``_config.yml`` 의 ``mathjax_path`` 로 씁니다.
"""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.locale import translators

__all__ = ["load_catalog", "localize_buttons", "setup", "unique_scripts"]

HERE = Path(__file__).resolve().parent
LOCALE_DIR = HERE / "locale"
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
CATALOGS = ("sphinx", "booktheme")  # Sphinx·pydata-sphinx-theme, sphinx-book-theme
SEARCH_BAR_TEXT = "이 책에서 검색…"
_LAUNCH_ON = re.compile(r"^Launch on (?P<service>.+)$")


def load_catalog(language: str, catalog: str) -> gettext.GNUTranslations | None:
    """``locale/<language>/LC_MESSAGES/<catalog>.po`` 를 읽어 번역 객체로 만듭니다.

    Args:
        language: 언어 코드(예: ``"ko"``).
        catalog: 메시지 카탈로그 이름(``"sphinx"`` 또는 ``"booktheme"``).

    Returns:
        번역 객체. 그 언어의 ``.po`` 가 없으면 ``None``.

    Raises:
        ValueError: ``catalog`` 가 ``CATALOGS`` 에 없을 때.
    """
    if catalog not in CATALOGS:
        raise ValueError(f"catalog 는 {CATALOGS} 중 하나여야 합니다: {catalog!r}")
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / f"{catalog}.po"
    if not po_path.is_file():
        return None
    with po_path.open("rb") as po_file:
        messages = read_po(po_file, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, messages)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _prefer_own_translations(language: str) -> None:
    """우리 번역을 Sphinx·테마의 번역보다 앞에 둡니다(없는 문구는 원래 번역으로 넘어갑니다)."""
    for catalog in CATALOGS:
        own = load_catalog(language, catalog)
        if own is None:
            continue
        existing = translators.get(("general", catalog))
        if existing is not None:
            own.add_fallback(existing)
        translators["general", catalog] = own


def localize_buttons(buttons: list[dict[str, Any]]) -> None:
    """머리글 버튼 툴팁 "Launch on <서비스>" 를 "<서비스>에서 열기" 로 바꿉니다(하위 버튼 포함).

    Args:
        buttons: sphinx-book-theme 의 ``header_buttons`` 목록. 제자리에서 고칩니다.
    """
    for button in buttons:
        match = _LAUNCH_ON.match(str(button.get("tooltip", "")))
        if match:
            button["tooltip"] = f"{match['service']}에서 열기"
        localize_buttons(button.get("buttons", []))


def unique_scripts(scripts: list[Any]) -> list[Any]:
    """같은 스크립트(파일 이름과 속성이 같은 것)가 두 번 이상 있으면 처음 것만 남깁니다.

    Sphinx 7.4 는 빌더가 만들어진 뒤 ``app.add_js_file(None, body=...)`` 로 더한 인라인 스크립트를
    ``None`` 과 ``''`` 이름으로 두 번 넣습니다(sphinx-thebe 의 ``const THEBE_JS_URL``).

    Args:
        scripts: 템플릿 문맥의 ``script_files`` (``sphinx.builders.html._assets._JavaScript`` 목록).

    Returns:
        순서를 지킨, 중복 없는 목록.
    """
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    unique: list[Any] = []
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    return unique


def _on_config_inited(app: Sphinx, config: Config) -> None:
    config.html_static_path.append(str(STATIC_DIR))
    config.templates_path.insert(0, str(TEMPLATES_DIR))
    # 비어 있으면 pydata-sphinx-theme 가 첫 방문에 콘솔 오류를 냅니다. "auto" 는 운영 체제 설정을 따릅니다.
    config.html_context.setdefault("default_mode", "auto")
    language = (config.language or "en").split("_")[0]
    if language != "ko":
        return
    _prefer_own_translations(language)
    app.translator = translators["general", "sphinx"]  # 템플릿의 _() 가 쓰는 번역
    if config.html_theme_options.get("search_bar_text", "").startswith("Search"):
        config.html_theme_options["search_bar_text"] = SEARCH_BAR_TEXT


def _on_page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    context["script_files"] = unique_scripts(context.get("script_files", []))
    if (app.config.language or "").startswith("ko"):
        localize_buttons(context.get("header_buttons", []))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _on_config_inited)
    # sphinx-book-theme 가 버튼을 만드는 처리기(priority 501) 다음에 실행합니다.
    app.connect("html-page-context", _on_page_context, priority=900)
    app.add_css_file("book_ui.css")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
