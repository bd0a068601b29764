/*
 * litnotes' search worker, in place of Material for MkDocs' lunr worker.
 *
 * Material's page script starts the worker named in the page's __config
 * (overrides/main.html points it here) and talks to it with four messages:
 * SETUP (0) carries the search config and options, the worker answers READY (1);
 * then each QUERY (2) carries the text typed, answered by a RESULT (3):
 * {items: [[item, ...], ...], suggest?: [word]}, one list per page (the page
 * itself and its sections, best first), each item a document of the index with
 * `score` and `terms` ({query term: found?}), title and text as HTML with the
 * matches in <mark>.
 *
 * Material's own worker builds a lunr index in the browser from every section
 * of the site, which takes seconds at a thousand papers.  This one fetches the
 * inverted index written at build time (litnotes.site.search_index: terms made
 * as Material makes them, jieba's words for Chinese) as soon as it starts, and
 * only looks terms up.
 *
 * Ranking follows lunr's as Material configures it: BM25 with b = 0, the field
 * boosts of the search config (title and tags far above text) and each page's
 * own boost, summed over the query's terms, then Material's post-boost, which
 * puts pages before their sections and documents that match every term first.
 * Every term matches as a prefix (the last one is still being typed); a term
 * found exactly weighs more than one that only starts with what was typed, so
 * that DIST finds the DIST paper before papers about distillation.  As in
 * Material, a document matching any term is a result (its missing terms are
 * shown struck through).
 */
"use strict";

const SETUP = 0, READY = 1, QUERY = 2, RESULT = 3;

/* lunr's BM25 saturation; Material sets b = 0, so section length does not matter. */
const K1 = 1.2;
/* A term the typed text is only a prefix of counts this much of an exact one. */
const PREFIX_WEIGHT = 0.5;
/* At most this many terms of a query are searched (a bit each in a 32-bit mask). */
const MAX_TERMS = 30;
/* Sections of a result whose text is shown as a snippet: the blocks that match, at most this many. */
const SNIPPET_BLOCKS = 2;

const HAN = /\p{Script=Han}/u;
const HAN_RUNS = /(\p{Script=Han}+)/u;

const indexUrl = new URL("../../search/litnotes-index.json", self.location.href);
const loading = fetch(indexUrl)
  .then(response => {
    if (!response.ok)
      throw new Error(`${indexUrl}: HTTP ${response.status}`);
    return response.json();
  })
  .then(prepare);

let options = { suggest: false };

self.addEventListener("message", async event => {
  const message = event.data || {};
  if (message.type === SETUP) {
    options = (message.data && message.data.options) || options;
    try {
      await loading;
    } catch (err) {
      console.warn(`litnotes search: the index could not be loaded (${err}); no results will be found`);
    }
    self.postMessage({ type: READY });
  } else if (message.type === QUERY) {
    /* Material sends a query per key typed: answer only the latest of those that queued up. */
    latest = String(message.data || "");
    if (!scheduled) {
      scheduled = true;
      setTimeout(answer, 0);
    }
  }
});

let latest = "", scheduled = false;

async function answer() {
  const query = latest;
  let data = { items: [] };
  try {
    data = await search(await loading, query, () => latest !== query);
  } catch (err) {
    console.warn(`litnotes search: query ${JSON.stringify(query)} failed: ${err}`);
  }
  scheduled = false;
  if (data)
    self.postMessage({ type: RESULT, data });
  if (latest !== query) {
    scheduled = true;
    setTimeout(answer, 0);
  }
}

/* --- the index ----------------------------------------------------------- */

function prepare(raw) {
  if (!raw || raw.version !== 1)
    throw new Error(`${indexUrl}: not a litnotes search index of version 1`);
  const fields = raw.config.fields || {};
  const boost = name => (fields[name] && typeof fields[name].boost === "number") ? fields[name].boost : 1;
  const termNumber = new Map();
  raw.terms.forEach((term, i) => termNumber.set(term, i));
  /* The page of each document: the first document of its path (Material's invariant). */
  const firstOfPath = new Map();
  const page = raw.docs.map((doc, i) => {
    const path = doc[0].split("#")[0];
    if (!firstOfPath.has(path))
      firstOfPath.set(path, i);
    return firstOfPath.get(path);
  });
  return {
    docs: raw.docs,
    tagsets: raw.tagsets,
    terms: raw.terms,
    postings: raw.postings,
    termNumber,
    page,
    separator: new RegExp(raw.config.separator),
    boosts: [boost("text"), boost("title"), boost("tags")],
  };
}

/* The first term at or after `prefix` in the sorted term list. */
function lowerBound(terms, prefix) {
  let lo = 0, hi = terms.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (terms[mid] < prefix)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

function isPrefixOfATerm(index, text) {
  const i = lowerBound(index.terms, text);
  return i < index.terms.length && index.terms[i].startsWith(text);
}

/* --- the query ------------------------------------------------------------ */

/*
 * Chinese arrives unsegmented.  A run of Han characters is cut into the fewest
 * words of the index (jieba's words, as the pages were cut), the last piece
 * possibly only the start of a word (still being typed).  The whole run is
 * one term only when it cannot be cut into two or more words: 教师模型 is
 * 教师 + 模型 even if some page has the word 教师模型, as jieba cuts most pages.
 */
function segment(index, run) {
  const cut = allowWhole => {
    const n = run.length;
    const best = new Array(n + 1).fill(null);
    best[0] = [];
    for (let i = 0; i < n; i++) {
      if (best[i] === null)
        continue;
      for (let j = i + 1; j <= n; j++) {
        if (!allowWhole && i === 0 && j === n)
          continue;
        const piece = run.slice(i, j);
        const ok = index.termNumber.has(piece) || (j === n && isPrefixOfATerm(index, piece));
        if (ok && (best[j] === null || best[j].length > best[i].length + 1))
          best[j] = [...best[i], piece];
      }
    }
    return best[n];
  };
  return cut(false) || cut(true) || [run];
}

/* The query's terms, lowercased, as the index cut the pages' text. */
function queryTerms(index, query) {
  const terms = [];
  const cleaned = query.toLowerCase().replace(/[*+~^:"]/g, " ");
  for (const part of cleaned.split(index.separator)) {
    if (!part)
      continue;
    for (const piece of part.split(HAN_RUNS)) {
      if (!piece)
        continue;
      const words = HAN.test(piece) ? segment(index, piece) : [piece];
      for (const word of words)
        if (!terms.includes(word))
          terms.push(word);
    }
  }
  return terms.slice(0, MAX_TERMS);
}

/* --- scoring -------------------------------------------------------------- */

function idf(documentCount, documentsWithTerm) {
  const x = (documentCount - documentsWithTerm + 0.5) / (documentsWithTerm + 0.5);
  return Math.log(1 + Math.abs(x));
}

function saturate(count) {
  return count ? (K1 + 1) * count / (K1 + count) : 0;
}

/* Walks a term's postings: fn(document, textCount, titleCount, tagsCount). */
function eachPosting(postings, fn) {
  let doc = -1;
  for (let i = 0; i < postings.length; i++) {
    doc += postings[i];
    let code = 1;
    if (i + 1 < postings.length && postings[i + 1] < 0)
      code = -postings[++i];
    fn(doc, code & 15, code >> 4 & 15, code >> 8 & 15);
  }
}

function countDocuments(postings) {
  let n = 0;
  for (const value of postings)
    if (value >= 0)
      n++;
  return n;
}

/* Lets queued messages (a newer query) in: a task of its own, without setTimeout's clamping. */
const tickChannel = new MessageChannel();
const tickWaiting = [];
tickChannel.port1.onmessage = () => tickWaiting.shift()();
function tick() {
  return new Promise(resolve => {
    tickWaiting.push(resolve);
    tickChannel.port2.postMessage(null);
  });
}

/* Items are made in batches of this many, between which a newer query may take over. */
const BATCH = 150;
/* Postings read between two such chances. */
const BATCH_POSTINGS = 20000;

/* The result for `query`, or null when `stale()` said a newer query came meanwhile. */
async function search(index, query, stale = () => false) {
  const terms = queryTerms(index, query.trim());
  if (!terms.length)
    return { items: [] };
  const documentCount = index.docs.length;
  const scores = new Float64Array(documentCount);
  const masks = new Uint32Array(documentCount);       /* bit per query term found */
  const titleMasks = new Uint32Array(documentCount);  /* bit per query term found in the title */
  /* The index terms found in each document, as linked lists (no array per document). */
  const foundHead = new Int32Array(documentCount).fill(-1);
  const foundNext = [], foundTerm = [];
  const matched = [];
  const [textBoost, titleBoost, tagsBoost] = index.boosts;

  let sinceTick = 0;
  for (let t = 0; t < terms.length; t++) {
    const term = terms[t], bit = 1 << t;
    for (let i = lowerBound(index.terms, term); i < index.terms.length && index.terms[i].startsWith(term); i++) {
      const postings = index.postings[i];
      /* A short prefix (the first letter typed) expands to many words: let a newer query in. */
      if ((sinceTick += postings.length) > BATCH_POSTINGS) {
        sinceTick = 0;
        await tick();
        if (stale())
          return null;
      }
      const weight = idf(documentCount, countDocuments(postings)) * (index.terms[i] === term ? 1 : PREFIX_WEIGHT);
      eachPosting(postings, (doc, text, title, tags) => {
        if (!masks[doc])
          matched.push(doc);
        scores[doc] += index.docs[doc][3] * weight * (textBoost * saturate(text) + titleBoost * saturate(title)
                                                      + tagsBoost * saturate(tags));
        masks[doc] |= bit;
        if (title)
          titleMasks[doc] |= bit;
        foundNext.push(foundHead[doc]);
        foundTerm.push(i);
        foundHead[doc] = foundNext.length - 1;
      });
    }
  }
  const wordsOf = doc => {
    const words = [];
    for (let f = foundHead[doc]; f !== -1; f = foundNext[f])
      words.push(index.terms[foundTerm[f]]);
    return words;
  };

  /* Material's post-boost: pages before sections, then the share of the query's terms found. */
  const ranked = matched.map(doc => {
    const boost = (index.page[doc] === doc ? 1 : 0) + popcount(masks[doc]) / terms.length;
    return { doc, score: scores[doc] * (1 + boost * boost) };
  });
  ranked.sort((a, b) => b.score - a.score || a.doc - b.doc);

  /* One list per page, in the order of its best document; the page itself always in it. */
  const groups = new Map();
  for (let r = 0; r < ranked.length; r++) {
    if (r % BATCH === BATCH - 1) {
      await tick();
      if (stale())
        return null;
    }
    const { doc, score } = ranked[r];
    const page = index.page[doc];
    let group = groups.get(page);
    if (!group)
      groups.set(page, group = []);
    /* Material shows a page's own text only when the page leads its list: else it is left out. */
    const shown = doc !== page || !group.length;
    group.push(item(index, doc, score, termsFound(terms, masks[doc]), wordsOf(doc), shown));
  }
  for (const [page, group] of groups)
    if (!group.some(entry => entry.location === index.docs[page][0]))
      group.push(item(index, page, 0, {}, [], false));

  const result = { items: [...groups.values()] };
  if (options.suggest)
    result.suggest = suggest(index, terms, ranked, titleMasks);
  return result;
}

function popcount(mask) {
  let n = 0;
  for (; mask; mask &= mask - 1)
    n++;
  return n;
}

function termsFound(terms, mask) {
  const out = {};
  terms.forEach((term, t) => { out[term] = Boolean(mask & 1 << t); });
  return out;
}

/*
 * The word the last term is completing, from the title of the best document
 * whose title has every term: Material shows it after the text typed.
 */
function suggest(index, terms, ranked, titleMasks) {
  const all = (1 << terms.length) - 1;
  const last = terms[terms.length - 1];
  for (const { doc } of ranked) {
    if (titleMasks[doc] !== all)
      continue;
    /* Titles keep jieba's word breaks (U+200B), which the separator splits at. */
    const words = index.docs[doc][1].toLowerCase().split(index.separator);
    const word = words.includes(last) ? last : words.find(w => w.startsWith(last));
    if (word)
      return [word];
  }
  return [];
}

/* --- the items Material renders -------------------------------------------- */

function escapeHtml(value) {
  return value.replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function item(index, doc, score, terms, words, withText) {
  const [location, title, text, boost, tagset] = index.docs[doc];
  const entry = {
    location,
    title: highlight(title, words).html,
    text: withText ? snippet(text, words) : "",
    score,
    terms,
  };
  if (tagset >= 0)
    entry.tags = index.tagsets[tagset].map(escapeHtml);
  if (boost !== 1)
    entry.boost = boost;
  return entry;
}

const WORD_CHAR = /[\p{L}\p{N}_]/u;

function isWordChar(c) {
  return c !== undefined && c !== "" && !HAN.test(c) && WORD_CHAR.test(c);
}

/*
 * Wraps the words found in <mark>, in text outside tags (the index's titles and
 * texts are HTML with their text escaped).  A word found inside a longer word
 * of Latin letters or digits is not marked: "kd" is not marked in "kdrw".
 */
function highlight(html, words) {
  if (!words || !words.length)
    return { html, marks: 0 };
  let marks = 0;
  const out = html.split(/(<[^>]*>)/).map(part => {
    if (!part || part.startsWith("<"))
      return part;
    const lower = part.toLowerCase();
    const ranges = [];
    for (const word of words) {
      for (let at = lower.indexOf(word); at !== -1; at = lower.indexOf(word, at + 1)) {
        const end = at + word.length;
        if ((isWordChar(word[0]) && isWordChar(lower[at - 1])) ||
            (isWordChar(word[word.length - 1]) && isWordChar(lower[end])))
          continue;
        ranges.push([at, end]);
      }
    }
    if (!ranges.length)
      return part;
    ranges.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    let result = "", cursor = 0;
    for (const [start, end] of ranges) {
      if (start < cursor)
        continue;
      result += part.slice(cursor, start) + "<mark>" + part.slice(start, end) + "</mark>";
      cursor = end;
      marks++;
    }
    return result + part.slice(cursor);
  });
  return { html: out.join(""), marks };
}

/* The text's top-level blocks (<p>…</p>, <ul>…</ul>, text between them). */
function blocks(html) {
  const out = [];
  let depth = 0, start = 0;
  const tag = /<(\/?)[a-zA-Z][^>]*?(\/?)>/g;
  for (let m = tag.exec(html); m; m = tag.exec(html)) {
    if (m[2])
      continue;
    if (!m[1]) {
      if (depth++ === 0 && m.index > start) {
        out.push(html.slice(start, m.index));
        start = m.index;
      }
    } else if (depth > 0 && --depth === 0) {
      out.push(html.slice(start, tag.lastIndex));
      start = tag.lastIndex;
    }
  }
  if (start < html.length)
    out.push(html.slice(start));
  return out.filter(block => block.trim());
}

/*
 * The blocks of a section's text with matches, marked; when none matches (the
 * section was found by its title), its first blocks.  Material would send the
 * whole text, which only makes the message longer: CSS shows a few lines.
 */
function snippet(text, words) {
  const all = blocks(text);
  const shown = [];
  if (words && words.length)
    for (const block of all) {
      const marked = highlight(block, words);
      if (marked.marks && shown.push(marked.html) === SNIPPET_BLOCKS)
        break;
    }
  return (shown.length ? shown : all.slice(0, SNIPPET_BLOCKS)).join("");
}
