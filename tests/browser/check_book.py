"""빌드한 HTML 책을 실제 브라우저(헤드리스 Debian chromium)로 열어 독자가 보는 그대로 확인합니다.

``.ci/run`` 이 ``make book`` 다음에 실행합니다::

    .venv/bin/python tests/browser/check_book.py                 # _build/html
    .venv/bin/python tests/browser/check_book.py /tmp/x/_build/html --book-root .

``_toc.yml`` 의 모든 장을 localhost 에서 열어 다음을 확인하고, 하나라도 틀리면 0 이 아닌 값으로 끝납니다.

* 페이지가 콘솔 오류, 실패한 요청, 바깥(인터넷) 요청 없이 열린다(바깥 요청은 막고 실패로 셉니다).
* 본문의 한글이 한글 글꼴(나눔고딕 등)로 그려진다(Chrome DevTools 프로토콜로 실제 쓰인 글꼴을 봅니다).
* MathJax 가 모든 수식을 조판했고(``mjx-container``, 오류 없음) 본문에 날 TeX(``$...$``, ``\\(``)가 없다.
* 모든 그림이 불러와졌고(naturalWidth > 0), 어두운 모드에서도 필터 없이 흰 배경이다.
* 노트북 장에는 그 노트북으로 가는 Colab 실행 링크가 있다.
* 화면 문구가 영어나 기계 번역으로 남아 있지 않다.
* 책 안의 링크(앵커 포함)가 모두 살아 있다.
* 검색: "정규화" 와 "정규화는" 이 LRN 장을, "활성화" 와 "활성화를" 이 ReLU 장을 찾는다(그 장이 목차에
  있을 때). 용어집은 언제나 "정규화" 로 찾아져야 합니다.

확인에 실패한 페이지(와 검색어)는 스크린숏을 ``<html 폴더>/../browser-check/`` 에 저장합니다(커밋하지 않는 빌드
산출물). ``--screenshots 폴더`` 를 주면 모든 페이지를 찍어 그 폴더에 둡니다. 긴 페이지 전체를 PNG 로 찍는 일이
확인 시간의 절반쯤(조용한 2코어 기계에서 75 초 가운데 34 초)이라, CI 는 실패한 페이지만 찍습니다.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

__all__ = ["PageReport", "check_book", "main", "toc_docnames"]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
#: 페이지 열기, 수식 조판, 검색, 네트워크가 잠잠해지기를 기다리는 상한(밀리초). 조용한 기계에서 몇 초 걸리는
#: 일이므로 멈춘 것만 잡는 값입니다(10배 느린 기계에서도 통과).
TIMEOUT_MS = 120_000
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
]
# 본문 한글을 그려도 되는 글꼴(운영 체제별 대표 한글 글꼴).
KOREAN_FONT = re.compile(
    r"Nanum|나눔|Noto Sans (CJK|KR)|Noto Serif (CJK|KR)|Source Han|Malgun|맑은|Apple SD Gothic|"
    r"Un(Dotum|Batang)|Baekmuk|D2Coding",
    re.I,
)
# 검색어 -> 찾아야 하는 장(목차에 있을 때만 확인합니다).
SEARCH_EXPECTATIONS: dict[str, tuple[str, ...]] = {
    "정규화": ("book/lrn", "book/glossary"),
    "정규화는": ("book/lrn",),
    "활성화": ("book/relu",),
    "활성화를": ("book/relu",),
}
# 번역되지 않았거나 sphinx-book-theme 의 기계 번역 그대로인 화면 문구(book_ui.py 가 고친 것들).
BAD_UI_LABELS = (
    "Search this book",
    "Toggle primary sidebar",
    "Toggle secondary sidebar",
    "Launch interactive content",
    "Launch on",
    "Color mode",
    "System Settings",
    "Skip to main content",
    "Back to top",
    "On this page",
    "Fullscreen mode",
    "Download source file",
    "Download notebook file",
    "Print to PDF",
    "Source repository",
    "Link to this",
    "으로 ",
    "에 의해",
    "시작하다",
    "전체 화면으로보기",
    "테마별",
    "탐색 전환",
    "스핑크스 도서 테마",
)

# --- 브라우저 안에서 실행하는 코드 ------------------------------------------------------------------

JS_MATH = """() => {
  const article = document.querySelector('.bd-article') || document.body;
  const math = [...article.querySelectorAll('.math')];
  const untypeset = math.filter((el) => !el.querySelector('mjx-container')).length;
  const errors = [...article.querySelectorAll('mjx-merror')].map((el) => el.textContent.slice(0, 80));
  const clone = article.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, .highlight, textarea').forEach((el) => el.remove());
  const text = clone.textContent;
  const raw = (text.match(/\\\\\\(|\\\\\\[|\\$\\$|\\$[^$\\n]*[\\\\^_{}][^$\\n]*\\$/g) || []).slice(0, 5);
  return {count: math.length, containers: article.querySelectorAll('mjx-container').length, untypeset, errors, raw};
}"""

JS_MARK_KOREAN_PARAGRAPH = """() => {
  const hangul = /[\\uac00-\\ud7a3]/;
  for (const el of document.querySelectorAll('.bd-article p, .bd-article li, .bd-article h1')) {
    const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('');
    if (hangul.test(own)) {
      el.setAttribute('data-font-check', '1');
      return {text: own.trim().slice(0, 40), family: getComputedStyle(el).fontFamily};
    }
  }
  return null;
}"""

JS_IMAGES = """() => [...document.images].map((img) => ({
  src: img.currentSrc || img.src, ok: img.complete && img.naturalWidth > 0,
  inArticle: !!img.closest('.bd-article'),
  themed: img.classList.contains('only-dark') || img.classList.contains('dark-light'),
}))"""

JS_DARK_IMAGES = """() => {
  document.documentElement.dataset.theme = 'dark';
  return [...document.querySelectorAll('.bd-article img')]
    .filter((img) => !img.classList.contains('only-dark') && !img.classList.contains('dark-light'))
    .map((img) => {
      const style = getComputedStyle(img);
      return {src: img.currentSrc || img.src, filter: style.filter, background: style.backgroundColor};
    });
}"""

JS_UI_TEXTS = """() => {
  const texts = [];
  const outside = (el) => !el.closest('.bd-article');
  for (const el of document.querySelectorAll('[title], [aria-label], [placeholder], [data-bs-title], img[alt]')) {
    if (!outside(el)) continue;
    for (const attr of ['title', 'aria-label', 'placeholder', 'data-bs-title', 'alt']) {
      const value = el.getAttribute(attr);
      if (value) texts.push(value.trim());
    }
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const parent = node.parentElement;
    if (!parent || !outside(parent) || parent.closest('script, style, noscript')) continue;
    // 목차와 이전/다음 링크는 저자가 쓴 제목을 옮긴 것입니다. 제목 속 코드(`torchrun`) 뒤의 조사("으로 ...")가
    // 따로 된 글 조각으로 보이므로 화면 문구 검사에서 뺍니다.
    if (parent.closest('.toc-entry, .section-nav, .bd-toc-nav, .bd-sidenav, .bd-links, .prev-next-area')) continue;
    const value = node.textContent.trim();
    if (value) texts.push(value);
  }
  return texts;
}"""

JS_LINKS = """() => [...document.querySelectorAll('a[href]')].map((a) => a.href)"""

JS_SEARCH_RESULTS = """() => [...document.querySelectorAll('#search-results ul.search li > a')]
  .map((a) => a.getAttribute('href'))"""


# --- 목차와 정적 파일 -----------------------------------------------------------------------------


def toc_docnames(book_root: Path) -> list[str]:
    """``_toc.yml`` 에 나오는 모든 문서 이름을 차례대로 돌려줍니다(root, parts, chapters, sections)."""
    toc = yaml.safe_load((book_root / "_toc.yml").read_text(encoding="utf-8"))
    names: list[str] = []

    def walk(entry: dict) -> None:
        if "file" in entry:
            names.append(str(entry["file"]).removesuffix(".md").removesuffix(".ipynb"))
        for key in ("parts", "chapters", "sections"):
            for child in entry.get(key) or []:
                walk(child)

    names.append(str(toc["root"]).removesuffix(".md").removesuffix(".ipynb"))
    for key in ("parts", "chapters"):
        for entry in toc.get(key) or []:
            walk(entry)
    return names


class _IdCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)


@functools.cache
def _ids_in(path: Path) -> frozenset[str]:
    parser = _IdCollector()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def broken_link(url: str, origin: str, html_dir: Path) -> str | None:
    """같은 사이트 안의 링크가 가리키는 파일(과 앵커)이 없으면 그 이유를, 있으면 None 을 돌려줍니다."""
    if not url.startswith(origin):
        return None
    parts = urlsplit(url)
    rel = unquote(parts.path).lstrip("/")
    target = html_dir / rel
    if rel == "" or rel.endswith("/"):
        target = target / "index.html"
    if not target.is_file():
        return f"없는 파일: {rel or '/'}"
    fragment = unquote(parts.fragment)
    if fragment and target.suffix == ".html" and fragment not in _ids_in(target):
        return f"없는 앵커: {rel}#{fragment}"
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@dataclass
class PageReport:
    """한 페이지를 확인한 결과."""

    docname: str
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --- 확인 ----------------------------------------------------------------------------------------


def _korean_fonts(page, selector: str = "[data-font-check]") -> list[tuple[str, int]]:
    """CDP 로 그 요소의 글자를 실제로 그린 플랫폼 글꼴과 글리프 수를 얻습니다."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        return [(f["familyName"], int(f["glyphCount"])) for f in fonts]
    finally:
        cdp.detach()


def _check_page(page, base: str, docname: str, html_dir: Path, book_root: Path, shots: Path, every_shot: bool,
                events: list[str]) -> PageReport:
    report = PageReport(docname)
    start = time.perf_counter()
    events.clear()
    response = page.goto(f"{base}/{docname}.html", wait_until="load")
    if response is None or response.status != 200:
        report.failures.append(f"페이지를 열지 못함: HTTP {response.status if response else '응답 없음'}")
        return report

    # MathJax: 수식이 있으면 조판이 끝날 때까지 기다립니다.
    if page.locator(".bd-article .math").count():
        try:
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                   timeout=TIMEOUT_MS)
            page.evaluate("() => MathJax.startup.promise")
        except Exception as exc:  # noqa: BLE001 - 어떤 이유든 실패로 보고합니다
            report.failures.append(f"MathJax 가 시작되지 않음: {str(exc).splitlines()[0]}")
    math = page.evaluate(JS_MATH)
    if math["untypeset"]:
        report.failures.append(f"조판되지 않은 수식 {math['untypeset']}/{math['count']}개")
    if math["errors"]:
        report.failures.append(f"MathJax 오류: {math['errors']}")
    if math["raw"]:
        report.failures.append(f"본문에 날 TeX 가 남음: {math['raw']}")
    report.notes.append(f"수식 {math['containers']}개")

    # 한글 글꼴
    marked = page.evaluate(JS_MARK_KOREAN_PARAGRAPH)
    if marked is None:
        report.failures.append("본문에 한글 문단이 없음")
    else:
        fonts = _korean_fonts(page)
        korean = [(name, n) for name, n in fonts if KOREAN_FONT.search(name) and n > 0]
        if not korean:
            report.failures.append(f"한글이 한글 글꼴로 그려지지 않음: {fonts} ({marked['text']!r})")
        else:
            report.notes.append(f"글꼴 {korean[0][0]}")

    # 그림
    images = page.evaluate(JS_IMAGES)
    for img in images:
        if not img["ok"]:
            report.failures.append(f"그림을 불러오지 못함: {img['src']}")
    figures = [img for img in images if img["inArticle"] and not img["themed"]]
    report.notes.append(f"그림 {len(figures)}개")

    # Colab 실행 링크(노트북 장)
    if (book_root / f"{docname}.ipynb").is_file():
        colab = page.eval_on_selector_all(
            'a[href^="https://colab.research.google.com/"]', "els => els.map((a) => a.href)")
        if not any(href.endswith(f"/{docname}.ipynb") for href in colab):
            report.failures.append(f"Colab 실행 링크가 없음(찾은 링크: {colab})")

    # 화면 문구
    for text in page.evaluate(JS_UI_TEXTS):
        bad = next((label for label in BAD_UI_LABELS if text.startswith(label)), None)
        if bad:
            report.failures.append(f"번역되지 않았거나 어색한 화면 문구: {text!r}")

    # 링크
    origin = base + "/"
    for url in sorted(set(page.evaluate(JS_LINKS))):
        reason = broken_link(url, origin, html_dir)
        if reason:
            report.failures.append(f"깨진 링크 {url.removeprefix(base)}: {reason}")

    if every_shot or report.failures or events:
        shots.mkdir(parents=True, exist_ok=True)
        height = page.evaluate("() => document.documentElement.scrollHeight")
        page.screenshot(path=str(shots / f"{docname}.png"), full_page=True,
                        clip={"x": 0, "y": 0, "width": page.viewport_size["width"], "height": min(height, 12_000)})

    # 어두운 모드: 그림은 필터 없이 흰 배경이어야 합니다.
    if figures:
        dark_failures = []
        for img in page.evaluate(JS_DARK_IMAGES):
            if "invert" in img["filter"] or img["filter"] not in ("none", ""):
                dark_failures.append(f"어두운 모드에서 그림에 필터가 걸림({img['filter']}): {img['src']}")
            if img["background"] != "rgb(255, 255, 255)":
                dark_failures.append(f"어두운 모드에서 그림 배경이 흰색이 아님({img['background']}): {img['src']}")
        report.failures.extend(dark_failures)
        if every_shot or dark_failures:
            shots.mkdir(parents=True, exist_ok=True)
            page.evaluate("() => document.querySelector('.bd-article img').scrollIntoView({block: 'center'})")
            page.screenshot(path=str(shots / f"{docname}-dark.png"))

    page.wait_for_load_state("networkidle")  # 늦게 시작한 요청이 다음 페이지로 갈 때 취소되지 않도록
    report.failures.extend(events)
    report.seconds = time.perf_counter() - start
    return report


def _check_search(page, base: str, docnames: list[str], shots: Path, every_shot: bool,
                  events: list[str]) -> PageReport:
    report = PageReport("search")
    start = time.perf_counter()
    for number, (query, expected) in enumerate(SEARCH_EXPECTATIONS.items(), start=1):
        events.clear()
        page.goto(f"{base}/search.html?q={query}", wait_until="load")
        page.wait_for_function(
            "() => { const s = document.querySelector('#search-results .search-summary');"
            " return s && s.textContent.trim().length > 0; }", timeout=TIMEOUT_MS)
        found = sorted({href.split("#")[0].split("?")[0].removesuffix(".html")
                        for href in page.evaluate(JS_SEARCH_RESULTS)})
        # 검색은 결과마다 요약을 따로 받아 옵니다. 그 요청이 끝나기 전에 다음 주소로 가면 요청이 취소되어
        # "요청 실패" 로 잡히므로, 네트워크가 잠잠해질 때까지 기다립니다.
        page.wait_for_load_state("networkidle")
        split = page.evaluate("(q) => splitQuery(q)", query)
        report.notes.append(f"{query} -> {split} -> {found}")
        failures = [f"'{query}' 검색 결과에 {docname} 이 없음(결과: {found})"
                    for docname in expected if docname in docnames and docname not in found]
        failures += [f"'{query}' 검색 중: {event}" for event in events]
        if every_shot or failures:
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / f"search-{number}.png"))
        report.failures.extend(failures)
    report.seconds = time.perf_counter() - start
    return report


def check_book(html_dir: Path, book_root: Path = ROOT, shots: Path | None = None) -> list[PageReport]:
    """``html_dir`` 를 localhost 로 띄우고 ``_toc.yml`` 의 모든 페이지와 검색을 확인합니다.

    Args:
        html_dir: ``jupyter-book build`` 가 만든 HTML 폴더.
        book_root: ``_toc.yml`` 과 노트북이 있는 책 저장소 폴더.
        shots: 주면 모든 페이지의 스크린숏을 이 폴더에 둡니다. ``None`` 이면 실패한 페이지만 ``html_dir`` 옆의
            ``browser-check`` 에 찍습니다.

    Returns:
        페이지별 결과(마지막은 검색).

    Raises:
        FileNotFoundError: HTML 폴더나 chromium 이 없을 때.
    """
    from playwright.sync_api import sync_playwright

    html_dir = html_dir.resolve()
    if not (html_dir / "search.html").is_file():
        raise FileNotFoundError(f"빌드한 책이 없습니다(먼저 make book): {html_dir}")
    if not Path(CHROMIUM).is_file():
        raise FileNotFoundError(f"{CHROMIUM} 이 없습니다: apt-get install chromium fonts-nanum")
    every_shot = shots is not None
    shots = shots or html_dir.parent / "browser-check"
    docnames = toc_docnames(book_root)

    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    events: list[str] = []
    reports: list[PageReport] = []

    def on_route(route) -> None:
        url = route.request.url
        if url.startswith(base) or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            events.append(f"바깥 요청(막음): {url}")
            route.abort()

    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
            context = p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 900}, locale="ko-KR", color_scheme="light",
                service_workers="block")
            context.set_default_timeout(TIMEOUT_MS)
            context.route("**/*", on_route)
            page = context.pages[0] if context.pages else context.new_page()
            page.on("console", lambda m: events.append(f"콘솔 오류: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: events.append(f"스크립트 오류: {e}"))
            page.on("requestfailed", lambda r: events.append(f"요청 실패: {r.url} ({r.failure})")
                    if r.url.startswith(base) else None)
            page.on("response", lambda r: events.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
            for docname in docnames:
                reports.append(_check_page(page, base, docname, html_dir, book_root, shots, every_shot, events))
            reports.append(_check_search(page, base, docnames, shots, every_shot, events))
            context.close()
    finally:
        server.shutdown()
        server.server_close()
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", nargs="?", type=Path, default=ROOT / "_build" / "html",
                        help="빌드한 HTML 폴더(기본값: _build/html)")
    parser.add_argument("--book-root", type=Path, default=ROOT, help="_toc.yml 이 있는 폴더")
    parser.add_argument("--screenshots", type=Path, default=None,
                        help="모든 페이지의 스크린숏을 둘 폴더(주지 않으면 실패한 페이지만 _build/browser-check 에)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    reports = check_book(args.html_dir, args.book_root, args.screenshots)
    failed = 0
    for report in reports:
        status = "ok  " if not report.failures else "FAIL"
        print(f"{status} {report.docname} ({report.seconds:.1f} s): {'; '.join(report.notes)}")
        for failure in report.failures:
            print(f"     - {failure}")
        failed += bool(report.failures)
    print(f"브라우저 확인 시간: {time.perf_counter() - start:.1f} s")
    print(f"browser-check: {len(reports) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
