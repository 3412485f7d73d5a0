"""한국어 전문 검색(full-text search)을 위한 Sphinx 확장.

Sphinx 에는 한국어 검색 언어가 없어서 ``language: ko`` 이면 영어처럼 공백으로만 단어를 자릅니다.
그러면 "정규화는" 이 한 단어로 색인되어 "정규화" 로 찾을 수 없습니다(jupyter-book#1606, #1607).

이 확장은 ``ko`` 검색 언어를 등록합니다.

* 색인할 때(Python): 형태소 분석기 kiwipiepy 로 조사와 어미를 떼고 명사, 어근, 용언의 기본형을
  색인합니다. 띄어 쓰지 않은 복합 명사("최대풀링")는 형태소의 이어 붙임과 앞뒤 부분 문자열로도
  색인해서 "풀링" 이나 "최대" 로도 찾게 합니다. 라틴 문자 단어(ReLU, dropout)는 Sphinx 의 영어
  검색과 똑같이 자르고 어간을 추출합니다.
* 검색할 때(JavaScript, ``korean_search.js``): 브라우저에는 형태소 분석기가 없으므로, 검색어의 각
  한글 단어를 **색인에 실제로 있는 단어**에 맞춥니다. 그대로 있으면 그대로 쓰고, 없으면 뒤에 붙은
  조사나 어미를 떼어 보고, 그래도 없으면 색인 단어들로 나누어 봅니다. 색인이 곧 사전이므로 두 쪽이
  어긋나지 않습니다.
"""

from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path
from typing import Any

import snowballstemmer
from sphinx.application import Sphinx
from sphinx.search import SearchLanguage
from sphinx.search.en import english_stopwords, js_porter_stemmer

__all__ = ["SearchKorean", "korean_terms", "setup"]

# 한글 음절, 자모, 호환 자모.
_HANGUL = "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f"
_HANGUL_RE = re.compile(f"[{_HANGUL}]")
# 한글을 뺀 단어 문자(라틴 문자, 숫자, 밑줄 등): 영어 검색의 ``\w+`` 와 같은 규칙입니다.
_NON_HANGUL_WORD_RE = re.compile(f"[^\\W{_HANGUL}]+")

# 명사 덩어리를 이루는 품사: 일반/고유 명사, 수사, 어근, 한자, 명사 접두사/접미사.
_NOUN_TAGS = frozenset({"NNG", "NNP", "NR", "XR", "SH", "XPN", "XSN"})
# 혼자서는 색인하지 않는 품사(접사는 앞뒤 명사와 붙였을 때만 색인합니다).
_AFFIX_TAGS = frozenset({"XPN", "XSN"})
# 동사와 형용사는 기본형의 어간(예: "겹치")을 색인합니다.
_PREDICATE_TAGS = frozenset({"VV", "VA"})
# 뜻이 거의 없는 용언 어간(하다, 되다, 있다, 없다, 않다 …)은 색인하지 않습니다.
_PREDICATE_STOPWORDS = frozenset({"하", "되", "있", "없", "않", "같", "이", "그렇", "이렇", "어떻"})
# 분석기가 한 덩어리로 둔 이 길이(음절) 이상의 명사는 앞뒤 부분 문자열(2음절 이상)도 색인합니다.
_COMPOUND_MIN_LEN = 4

_JS_PATH = Path(__file__).with_name("korean_search.js")


@functools.cache
def _kiwi() -> Any:
    """kiwipiepy 분석기를 한 번만 불러옵니다(모델을 읽는 데 몇 초 걸립니다)."""
    from kiwipiepy import Kiwi

    # num_workers=0: 스레드를 따로 만들지 않습니다(2코어 CI). 0 의 뜻이 0.21 에서 바뀌었다는 안내
    # 경고는 이 값을 일부러 고른 것이므로 숨깁니다.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*num_workers=0.*", category=DeprecationWarning)
        return Kiwi(num_workers=0)


def _has_hangul(text: str) -> bool:
    return _HANGUL_RE.search(text) is not None


def _noun_run_terms(pieces: list[tuple[str, str]]) -> list[str]:
    """이어 붙은 명사 조각들에서 색인할 단어를 만듭니다.

    Args:
        pieces: 원문에서 빈칸 없이 이어진 ``(표면형, 품사)`` 목록.

    Returns:
        조각 하나하나(접사 제외)와 이어진 조각들의 모든 연속 결합. 분석기가 나누지 못한 긴 명사
        하나("최대풀링")는 앞뒤 부분 문자열("최대", "풀링" …)도 넣습니다.
    """
    terms: list[str] = []
    n = len(pieces)
    for i in range(n):
        for j in range(i + 1, n + 1):
            if j - i == 1 and pieces[i][1] in _AFFIX_TAGS:
                continue
            terms.append("".join(form for form, _ in pieces[i:j]))
    whole = pieces[0][0]
    if n == 1 and len(whole) >= _COMPOUND_MIN_LEN and all(_has_hangul(ch) for ch in whole):
        terms.extend(whole[:k] for k in range(2, len(whole)))
        terms.extend(whole[k:] for k in range(1, len(whole) - 1))
    return terms


@functools.lru_cache(maxsize=65536)
def korean_terms(text: str) -> tuple[str, ...]:
    """한국어 문장에서 색인할 한글 단어를 뽑습니다.

    조사, 어미, 의존 명사, 대명사, 부사는 버리고 명사 덩어리와 용언 어간을 남깁니다.

    Args:
        text: 원문(문단 하나 정도).

    Returns:
        한글이 들어 있는 색인 단어들(중복 포함, 나온 순서). 라틴 문자 단어는 넣지 않습니다.

    Raises:
        TypeError: ``text`` 가 ``str`` 가 아닐 때.
    """
    if not isinstance(text, str):
        raise TypeError(f"text 는 str 이어야 합니다: {type(text).__name__}")
    if not _has_hangul(text):
        return ()
    terms: list[str] = []
    run: list[tuple[str, str]] = []
    run_end = -1

    def flush() -> None:
        if run:
            terms.extend(_noun_run_terms(run))
            run.clear()

    for token in _kiwi().tokenize(text):
        tag = token.tag.split("-")[0]  # "VA-I" 같은 불규칙 표시를 뗍니다
        surface = text[token.start : token.start + token.len]
        if tag in _NOUN_TAGS and _has_hangul(surface):
            if token.start != run_end:
                flush()
            # 사전에 띄어쓰기가 든 고유 명사("합성곱 신경망")는 단어마다 조각으로 나눕니다.
            parts = token.form.split() if " " in token.form else [surface]
            run.extend((part, tag) for part in parts)
            run_end = token.start + token.len
            continue
        flush()
        if tag in _PREDICATE_TAGS and _has_hangul(token.form) and token.form not in _PREDICATE_STOPWORDS:
            terms.append(token.form)
    flush()
    return tuple(terms)


class SearchKorean(SearchLanguage):
    """한국어 검색 언어. 한글은 형태소 단위로, 라틴 문자는 영어처럼 색인합니다."""

    lang = "ko"
    language_name = "Korean"
    stopwords = english_stopwords
    js_stemmer_code = (
        js_porter_stemmer
        + "\nvar PorterStemmer = Stemmer;\n"
        + _JS_PATH.read_text(encoding="utf-8")
    )

    def init(self, options: dict[str, str]) -> None:
        self.stemmer = snowballstemmer.stemmer("english")

    def split(self, input: str) -> list[str]:
        return list(korean_terms(input)) + _NON_HANGUL_WORD_RE.findall(input)

    def stem(self, word: str) -> str:
        if _has_hangul(word):
            return word
        return self.stemmer.stemWord(word.lower())

    def word_filter(self, word: str) -> bool:
        if _has_hangul(word):
            return True
        return super().word_filter(word)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_search_language(SearchKorean)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
