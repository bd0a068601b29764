"""The prebuilt search index (litnotes.site.search_index): every token of every field is posted, nothing else.

The worker (tools/litnotes/assets/search-worker.js) reads the same layout; the
browser tests (tests/browser/test_search_worker.py) check it end to end.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litnotes.site.search_index import (
    MAX_COUNT,
    SearchIndexError,
    build_index,
    cached_index_json,
    decode_postings,
    documents,
    stub,
    tokenize,
)

# Material's separator with lang: zh (search plugin, partials/languages/zh.html).
SEPARATOR = r"[\s\u200b\u3000\-、。，．？！；]+"
CONFIG = {"lang": ["zh"], "separator": SEPARATOR, "pipeline": ["stemmer"],
          "fields": {"tags": {"boost": 1000}, "title": {"boost": 1000.0}, "text": {"boost": 1.0}}}

_words = st.sampled_from(["DIST", "dist", "Distillation", "KD", "教师", "模型", "皮尔森", "蒸馏", "a", "&amp;",
                          "x1", "Condensation", "İ", "ß"])
_breaks = st.sampled_from([" ", "\u200b", "-", "、", "。", "\n", "  "])
_tags = st.sampled_from(["<p>", "</p>", "<code>", "</code>", "<li>", "</li>", "<ul>", "</ul>"])


@st.composite
def _html(draw) -> str:
    parts = draw(st.lists(st.one_of(_words, _breaks, _tags), max_size=30))
    return "".join(parts)


_entry = st.fixed_dictionaries(
    {"location": st.sampled_from(["", "papers/x/", "papers/x/#笔记", "math/kl/#a"]), "title": _html(),
     "text": _html()},
    optional={"tags": st.lists(st.sampled_from(["logits", "pearson-correlation", "教师-模型"]), max_size=3),
              "boost": st.sampled_from([1, 2, 0.5])})


def _expected(entry: dict) -> dict[str, tuple[int, int, int]]:
    counts: dict[str, list[int]] = {}
    for bit, values in enumerate(((entry["text"],), (entry["title"],), entry.get("tags", ()))):
        for value in values:
            for term, n in Counter(tokenize(value, SEPARATOR)).items():
                counts.setdefault(term, [0, 0, 0])[bit] += n
    return {t: tuple(min(n, MAX_COUNT) for n in c) for t, c in counts.items()}


@settings(max_examples=200, deadline=None)
@given(st.lists(_entry, max_size=8))
def test_every_token_of_every_field_is_posted_and_nothing_else(entries):
    index = build_index(entries, CONFIG)
    posted: dict[int, dict[str, tuple[int, int, int]]] = {}
    for term, postings in zip(index["terms"], index["postings"], strict=True):
        assert postings, f"{term!r} has no postings"
        for doc, counts in decode_postings(postings).items():
            posted.setdefault(doc, {})[term] = counts
    assert posted == {n: _expected(e) for n, e in enumerate(entries) if _expected(e)}


@settings(max_examples=200, deadline=None)
@given(st.lists(_entry, max_size=8))
def test_terms_are_unique_and_sorted_as_javascript_compares_strings(entries):
    terms = build_index(entries, CONFIG)["terms"]
    assert len(set(terms)) == len(terms)
    assert terms == sorted(terms, key=lambda t: t.encode("utf-16-be"))


@settings(max_examples=200, deadline=None)
@given(st.lists(_entry, max_size=8))
def test_the_documents_come_back_as_material_made_them(entries):
    docs = documents(build_index(entries, CONFIG))
    assert [d["location"] for d in docs] == [e["location"] for e in entries]
    assert [d["title"] for d in docs] == [e["title"] for e in entries]  # titles keep jieba's word breaks
    assert [d["text"] for d in docs] == [e["text"].replace("\u200b", "") for e in entries]
    assert [d.get("tags") or [] for d in docs] == [e.get("tags") or [] for e in entries]
    assert [d.get("boost", 1) for d in docs] == [e.get("boost", 1) for e in entries]


@given(_html())
def test_tokens_are_lowercase_words_without_markup_or_separators(value):
    for token in tokenize(value, SEPARATOR):
        assert token and token == token.lower()
        assert not re.search(SEPARATOR, token) and "<" not in token and ">" not in token


def test_chinese_words_are_the_words_jieba_cut():
    assert tokenize("<p>\u200b引入\u200b皮尔森\u200b系数\u200b</p> DIST-KD", SEPARATOR) == [
        "引入", "皮尔森", "系数", "dist", "kd"]


def test_counts_above_the_cap_are_the_cap():
    index = build_index([{"location": "", "title": "", "text": "kd " * 40}], CONFIG)
    assert decode_postings(index["postings"][index["terms"].index("kd")]) == {0: (MAX_COUNT, 0, 0)}


def test_the_stub_keeps_the_config_only():
    assert stub(CONFIG) == {"config": CONFIG, "docs": []}


@pytest.mark.parametrize("config, entries, message", [
    ({**CONFIG, "separator": "[\\s"}, [], "the search separator '[\\\\s' is not a regular expression"),
    ({**CONFIG, "separator": ""}, [], "the search config has no separator (received '')"),
    ({**CONFIG, "fields": {"title": {"boost": 1}, "authors": {"boost": 5}}}, [],
     "search fields ['authors'] are not indexed by litnotes' search worker; expected only ['text', 'title', 'tags']"),
    (CONFIG, [{"location": "a/", "title": "", "text": "", "boost": "high"}],
     "'a/': search boost 'high' is not a number"),
])
def test_what_cannot_be_indexed_is_said(config, entries, message):
    with pytest.raises(SearchIndexError) as info:
        build_index(entries, config)
    assert str(info.value).startswith(message), str(info.value)


def test_the_cache_gives_the_index_it_was_made_from(tmp_path):
    entries = [{"location": "papers/x/", "title": "DIST", "text": "<p>\u200b皮尔森\u200b系数</p>"}]
    made = cached_index_json(entries, CONFIG, tmp_path / "search")
    assert made == cached_index_json(entries, CONFIG, None)
    assert [p.read_text("utf-8") for p in (tmp_path / "search").iterdir()] == [made]
    assert cached_index_json(entries, CONFIG, tmp_path / "search") == made
    # Other entries: another index, and only the latest is kept.
    changed = cached_index_json([{**entries[0], "title": "KD"}], CONFIG, tmp_path / "search")
    assert "kd" in json.loads(changed)["terms"] and "dist" not in json.loads(changed)["terms"]
    assert len(list((tmp_path / "search").iterdir())) == 1
