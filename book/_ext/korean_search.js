/*
 * 한국어 검색어 처리 (korean_search.py 가 language_data.js 에 넣습니다).
 *
 * 색인은 형태소 분석기로 조사와 어미를 뗀 단어를 담고 있습니다. 브라우저에는 분석기가 없으므로
 * 검색어의 한글 단어를 색인에 실제로 있는 단어에 맞춥니다.
 *   1. 색인에 그대로 있으면 그대로 씁니다("정규화").
 *   2. 없으면 뒤에서부터 조사나 어미를 떼어, 남은 앞부분이 색인에 있으면 그것을 씁니다("정규화는").
 *   3. 그래도 없으면 색인 단어 몇 개로 나눕니다("최대풀링" -> "최대", "풀링"). 모두 들어 있는 쪽을 찾습니다.
 *   4. 그래도 없으면 색인에 있는 가장 긴 앞부분(2음절 이상)을 씁니다.
 * 라틴 문자 단어는 Sphinx 의 영어 검색과 같은 Porter 어간 추출기를 씁니다.
 */
var KOREAN_HANGUL = /[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]/;
var KOREAN_RUNS = /[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]+|[^\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]+/g;

/* 체언 뒤에 붙는 조사와 서술격 조사, 복수 접미사 "들", 명사 뒤의 "하다/되다/시키다" 활용,
 * 그리고 용언 어간 뒤에 붙는 흔한 어미. */
var KOREAN_ENDINGS = new Set((
  "이 가 은 는 을 를 의 에 에서 에게 께 께서 한테 로 으로 와 과 도 만 까지 부터 보다 처럼 만큼 " +
  "마다 이나 나 이며 며 이고 고 이랑 랑 이든 든 이든지 든지 조차 마저 밖에 뿐 으로서 로서 으로써 " +
  "로써 에서는 에서도 에서의 에는 에도 에의 에게는 으로는 로는 으로도 로도 으로의 로의 와는 과는 " +
  "와의 과의 와도 과도 까지는 까지도 부터는 부터도 만은 만을 만의 만으로 보다는 처럼은 이란 란 " +
  "이라 라 이라는 라는 이라고 라고 이라면 라면 이라서 라서 이다 다 입니다 이었다 였다 이었습니다 " +
  "였습니다 이죠 죠 이에요 예요 이야 야 인 인데 이면 면 이지만 지만 이므로 므로 " +
  "들 들이 들은 들는 들을 들의 들에 들에서 들로 들과 들도 들만 들까지 " +
  "하다 한다 합니다 했다 했습니다 하는 한 할 함 함을 하여 해 해서 하고 하면 하며 하지 하기 " +
  "하기는 하게 하였다 하였습니다 해야 해도 하면서 하므로 하니 하는데 할까 합시다 해요 하죠 " +
  "되다 된다 됩니다 되는 된 될 되어 돼 되었다 됐다 되었습니다 됐습니다 되고 되면 되며 되지 되기 " +
  "되게 되므로 되는데 시키다 시킨다 시킵니다 시킨 시키는 시켜 시켰다 시켰습니다 " +
  "는다 습니다 었다 았다 었습니다 았습니다 어 아 어서 아서 어도 아도 으면 으며 으니 으므로 " +
  "게 기 지 지만 고 면서 는데 을 을까 습니까"
).split(/\s+/));

var Stemmer = function() {
  const porter = new PorterStemmer();
  this.stemWord = (word) => (KOREAN_HANGUL.test(word) ? word : porter.stemWord(word));
};

/* 색인에 있는 단어인지 알려 주는 함수. 색인을 아직 읽지 않았으면 null.
 * 증분 빌드는 더는 어느 문서에도 없는 단어를 빈 목록([])으로 남기므로 그런 단어는 없는 것으로 봅니다. */
var koreanKnownWords = () => {
  const index = typeof Search !== "undefined" ? Search._index : null;
  if (!index) return null;
  const has = (mapping, word) => {
    if (!mapping || !Object.prototype.hasOwnProperty.call(mapping, word)) return false;
    const docs = mapping[word];
    return typeof docs === "number" || docs.length > 0;
  };
  return (word) => has(index.terms, word) || has(index.titleterms, word);
};

/* 단어를 색인 단어들로 나눕니다(조각 수가 가장 적게). 마지막 조각 뒤에는 조사나 어미가 올 수 있습니다. */
var koreanSegment = (word, known) => {
  const n = word.length;
  const best = new Array(n + 1).fill(null);
  best[0] = [];
  for (let end = 1; end <= n; end++) {
    for (let start = 0; start < end; start++) {
      const piece = word.slice(start, end);
      if (best[start] === null || !known(piece)) continue;
      if (best[end] === null || best[start].length + 1 < best[end].length) {
        best[end] = best[start].concat([piece]);
      }
    }
  }
  let result = null;
  for (let end = n; end >= 1; end--) {
    const tail = word.slice(end);
    if (best[end] === null || (tail && !KOREAN_ENDINGS.has(tail))) continue;
    if (result === null || best[end].length < result.length) result = best[end];
  }
  return result !== null && result.length >= 2 ? result : null;
};

/* 한글 단어 하나를 색인 단어(들)로 바꿉니다. */
var koreanResolve = (word, known) => {
  if (known === null || known(word)) return [word];
  for (let cut = word.length - 1; cut >= 1; cut--) {
    if (known(word.slice(0, cut)) && KOREAN_ENDINGS.has(word.slice(cut))) return [word.slice(0, cut)];
  }
  const pieces = koreanSegment(word, known);
  if (pieces !== null) return pieces;
  for (let cut = word.length - 1; cut >= 2; cut--) {
    if (known(word.slice(0, cut))) return [word.slice(0, cut)];
  }
  return [word];
};

/* searchtools.js 의 기본 splitQuery 와 같이 자른 뒤, 한글 부분을 koreanResolve 로 맞춥니다.
 * "ReLU를" 처럼 라틴 문자 뒤에 붙은 조사는 버립니다. */
var splitQuery = (query) => {
  const known = koreanKnownWords();
  const terms = [];
  query
    .split(/[^\p{Letter}\p{Number}_\p{Emoji_Presentation}]+/gu)
    .filter((token) => token)
    .forEach((token) => {
      (token.match(KOREAN_RUNS) || []).forEach((run, i) => {
        if (!KOREAN_HANGUL.test(run)) terms.push(run);
        else if (!(i > 0 && KOREAN_ENDINGS.has(run))) terms.push(...koreanResolve(run, known));
      });
    });
  return [...new Set(terms)];
};
