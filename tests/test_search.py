"""한국어 검색 확장(book/_ext/korean_search.py, korean_search.js)의 테스트.

색인 쪽(Python)은 형태소 분석 결과와 실제 Sphinx 빌드의 searchindex.js 로, 검색어 쪽(JavaScript)은
그 빌드가 만든 language_data.js 를 node 로 실행해 확인합니다(node 가 없으면 그 테스트만 건너뜁니다).
브라우저 전체 흐름은 tests/browser/check_book.py 가 확인합니다.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXT_DIR = ROOT / "book" / "_ext"
sys.path.insert(0, str(EXT_DIR))

from korean_search import SearchKorean, korean_terms  # noqa: E402

# 합성 문서: "정규화" 와 "활성화" 가 조사가 붙은 꼴로만 나옵니다.
LRN_TEXT = (
    "국소 응답 정규화(local response normalization, LRN)는 이웃한 채널의 활성값으로 나눕니다. "
    "이 정규화는 ReLU 뒤에 하며, 정규화를 빼면 오류율이 오릅니다. 최대풀링과는 다릅니다."
)
RELU_TEXT = "ReLU를 쓰면 활성화를 계산하기 쉽고, 포화되지 않는 비선형 함수라서 학습이 빠릅니다."


@pytest.mark.slow
def test_particles_and_endings_are_stripped():
    terms = korean_terms(LRN_TEXT)
    assert "정규화" in terms
    assert not {"정규화는", "정규화를", "정규화(local"} & set(terms)
    assert {"국소", "응답", "채널", "오류율"} <= set(terms)
    assert "활성화" in korean_terms(RELU_TEXT)
    assert "활성화를" not in korean_terms(RELU_TEXT)


def test_function_words_are_not_indexed():
    terms = set(korean_terms("이것은 할 수 있는 것입니다. 그리고 매우 잘 됩니다."))
    assert not terms & {"것", "수", "하", "있", "되", "이것", "매우", "잘", "그리고"}


def test_unspaced_compound_is_indexed_with_its_parts():
    terms = set(korean_terms("최대풀링으로 줄입니다. 배치정규화를 씁니다."))
    assert {"최대풀링", "최대", "풀링", "배치정규화", "배치", "정규화"} <= terms


def test_predicate_stem_is_indexed():
    assert "겹치" in korean_terms("겹치는 풀링을 씁니다.")


def test_latin_words_follow_english_search():
    lang = SearchKorean({})
    words = lang.split(LRN_TEXT)
    assert {"local", "response", "normalization", "LRN", "ReLU"} <= set(words)
    assert lang.stem("normalization") == "normal"
    assert lang.stem("ReLU") == "relu"
    assert lang.stem("정규화") == "정규화"
    assert lang.word_filter("층")  # 한 음절 명사도 색인합니다
    assert not lang.word_filter("the")  # 영어 불용어


def test_no_hangul_no_analysis():
    assert korean_terms("conv2d(x) + 3") == ()
    assert SearchKorean({}).split("top-5 error") == ["top", "5", "error"]


def test_bad_input_type():
    with pytest.raises(TypeError, match="text"):
        korean_terms(b"\xec\xa0\x95")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def built_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """두 장짜리 책을 korean_search 확장으로 빌드해 검색 색인과 출력 폴더를 돌려줍니다."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    src = tmp_path_factory.mktemp("korean-search")
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(EXT_DIR)!r})\n"
        "extensions = ['korean_search']\nlanguage = 'ko'\nhtml_theme = 'basic'\n",
        encoding="utf-8",
    )
    (src / "index.rst").write_text("차례\n====\n\n.. toctree::\n\n   lrn\n   relu\n", encoding="utf-8")
    # lrn 은 제목에 검색어가 없어 본문 색인(terms)으로, relu 는 제목 색인(titleterms)으로 찾습니다.
    (src / "lrn.rst").write_text(f"LRN\n===\n\n{LRN_TEXT}\n", encoding="utf-8")
    (src / "relu.rst").write_text(f"ReLU와 활성화\n=============\n\n{RELU_TEXT}\n", encoding="utf-8")
    warnings = io.StringIO()
    out = src / "_build"
    with patch_docutils(src), docutils_namespace():  # 한 프로세스에서 여러 번 빌드해도 되도록
        Sphinx(src, src, out, out / ".doctrees", "html", status=None, warning=warnings, freshenv=True).build()
    assert warnings.getvalue() == ""
    text = (out / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1 : text.rindex(")")]), out


def _docs(index: dict, term: str, mapping: str = "terms") -> set[str]:
    found = index[mapping].get(term, [])
    return {index["docnames"][i] for i in ([found] if isinstance(found, int) else found)}


@pytest.mark.timeout(180)
def test_built_index_finds_stems(built_index):
    index, _ = built_index
    assert _docs(index, "정규화") == {"lrn"}
    assert _docs(index, "활성화", "titleterms") == {"relu"}
    assert "lrn" in _docs(index, "relu") and _docs(index, "relu", "titleterms") == {"relu"}
    for word in ("정규화는", "정규화를", "활성화를", "ReLU와", "relu와"):
        assert word not in index["terms"] and word not in index["titleterms"]


@pytest.mark.timeout(180)
def test_language_data_carries_korean_splitter(built_index):
    _, out = built_index
    js = (out / "_static" / "language_data.js").read_text(encoding="utf-8")
    assert "var splitQuery" in js and "KOREAN_ENDINGS" in js and "PorterStemmer" in js
    assert "&#" not in js and "&lt;" not in js  # 템플릿이 코드를 HTML 로 이스케이프하지 않았는지


@pytest.mark.timeout(180)
@pytest.mark.skipif(shutil.which("node") is None, reason="node 가 없습니다")
def test_query_splitter_matches_index(built_index):
    index, out = built_index
    # 증분 빌드는 더는 어느 문서에도 없는 단어를 빈 목록으로 남깁니다: 없는 단어로 봐야 합니다.
    index = dict(index, terms=dict(index["terms"], 정규화는=[]))
    queries = ["정규화", "정규화는", "정규화를", "활성화를", "ReLU를", "LRN은", "국소응답정규화는",
               "최대풀링과", "top-5", "normalization"]
    script = (
        (out / "_static" / "language_data.js").read_text(encoding="utf-8")
        + f"\nvar Search = {{_index: {json.dumps(index, ensure_ascii=False)}}};\n"
        + "const stemmer = new Stemmer();\n"
        + f"console.log(JSON.stringify({json.dumps(queries, ensure_ascii=False)}.map((q) => "
        + "splitQuery(q).map((w) => stemmer.stemWord(w.toLowerCase())))));\n"
    )
    result = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=60, check=True)
    got = dict(zip(queries, json.loads(result.stdout), strict=True))
    assert got["정규화"] == ["정규화"]
    assert got["정규화는"] == ["정규화"]
    assert got["정규화를"] == ["정규화"]
    assert got["활성화를"] == ["활성화"]
    assert got["ReLU를"] == ["relu"]
    assert got["LRN은"] == ["lrn"]
    assert got["국소응답정규화는"] == ["국소", "응답", "정규화"]
    assert got["최대풀링과"] == ["최대풀링"]
    assert got["top-5"] == ["top", "5"]
    assert got["normalization"] == ["normal"]
