"""The search index of the real site: what readers find, and the boilerplate they must not.

Builds the repository's site once (strict, as `make build` does) and reads
``search/search_index.json``, the file Material's search runs on in the browser.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from litnotes.records.validate import load_knowledge_base
from litnotes.site.pages import PAPER_SEARCH_BOOST

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
                            cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def index(site) -> dict:
    return json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))


def _flat(text: str) -> str:
    """Index text without markup, jieba's U+200B word breaks and spaces, to compare words."""
    return re.sub(r"<[^>]+>|[\s\u200b]", "", text)


def test_no_chart_text_in_the_index(site, index):
    labels = set()
    for html in site.rglob("*.html"):
        for svg in re.findall(r'<svg class="litnotes-chart".*?</svg>', html.read_text("utf-8"), re.S):
            labels.update(t for t in re.findall(r">([^<>]+)</(?:text|title)>", svg) if not t.isdigit())
    assert {"每年论文数", "各分类论文数"} <= labels, "the charts are not where they were: the test proves nothing"
    everything = " ".join(_flat(d["title"] + d["text"]) for d in index["docs"])
    # Category titles are also real text (their index pages); the chart titles are only in the charts.
    assert "每年论文数" not in everything and "各分类论文数" not in everything


def test_no_table_header_in_the_index(site, index):
    headers = set()
    for html in site.rglob("*.html"):
        for head in re.findall(r"<thead\b.*?</thead>", html.read_text("utf-8"), re.S):
            headers.add(_flat(re.sub(r"<[^>]+>", "", head)))
    assert "项目内容" in headers and len(headers) >= 3, headers
    leaks = [(d["location"], h) for d in index["docs"] for h in headers if h in _flat(d["text"])]
    assert not leaks, f"table headers in the index: {leaks[:5]}"


def test_paper_pages_are_found_by_short_name_and_weigh_more(index):
    kb, _ = load_knowledge_base(ROOT)
    pages = {d["location"]: d for d in index["docs"]}
    for p in kb.papers.values():
        doc = pages[f"papers/{p.id}/"]
        assert doc.get("boost") == PAPER_SEARCH_BOOST
        if p.abbr:
            assert p.abbr in doc["title"], f"{p.id}: the index title {doc['title']!r} lacks {p.abbr}"
    # Tags weigh like titles: Material's default (a million times the text) let a tag such as
    # distillation-efficiency outrank the paper whose short name was searched.
    assert index["config"]["fields"]["tags"]["boost"] <= index["config"]["fields"]["title"]["boost"]


def test_what_readers_search_is_still_there(index):
    pages = {d["location"]: d for d in index["docs"]}
    notes = pages["papers/dist2022/#笔记"]["text"]
    assert "\u200b皮尔森\u200b" in notes  # jieba still cuts Chinese into words
    assert "教师" in _flat(" ".join(d["text"] for d in index["docs"] if d["location"].startswith("papers/")))
    everything = _flat(pages["papers/"]["text"])
    assert "KnowledgeDistillationfromAStrongerTeacher" in everything  # table rows stay
