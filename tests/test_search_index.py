"""The search index of the real site: what readers find, and the boilerplate they must not.

Builds the repository's site once (strict, as `make build` does) and reads
``search/litnotes-index.json``, the index litnotes' search worker answers from
in the browser (``search/search_index.json`` keeps only Material's config).
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
from litnotes.site.search_index import INDEX_PATH, decode_postings, documents

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
def prebuilt(site) -> dict:
    return json.loads((site / INDEX_PATH).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def index(prebuilt) -> dict:
    """The prebuilt index in the shape of Material's search_index.json (config, docs)."""
    return {"config": prebuilt["config"], "docs": documents(prebuilt)}


def test_the_browser_gets_the_config_and_the_prebuilt_index_only(site, prebuilt):
    # Material's page script fetches search_index.json and hands it to the worker: the entries are
    # in the prebuilt index only, or a phone would download them twice.
    material = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert material == {"config": prebuilt["config"], "docs": []}
    assert prebuilt["config"]["lang"] == ["zh"] and "\\u200b" in prebuilt["config"]["separator"]


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


def test_what_readers_search_is_still_there(index, prebuilt):
    pages = {d["location"]: d for d in index["docs"]}
    notes = [d["location"] for d in index["docs"]].index("papers/dist2022/#笔记")
    # jieba still cuts Chinese into words: 皮尔森 is a term, found in DIST's notes.
    assert notes in decode_postings(prebuilt["postings"][prebuilt["terms"].index("皮尔森")])
    assert "教师" in _flat(" ".join(d["text"] for d in index["docs"] if d["location"].startswith("papers/")))
    everything = _flat(pages["papers/"]["text"])
    assert "KnowledgeDistillationfromAStrongerTeacher" in everything  # table rows stay


# --- what the index leaves out at a thousand papers (issue 15), and what readers still find ------

# The pages Material's search listed for these queries before the index was trimmed (recorded by
# running Material's own search worker on the index built from main): none of them may go missing.
FOUND_BEFORE_TRIMMING = {
    "皮尔森": ["code/", "code/dist-pearson/", "math/kl/", "papers/dist2022/", "reports/2024-04-19/"],
    "教师模型": ["", "categories/", "categories/feature/", "categories/teacher-student-gap/", "code/dist-pearson/",
             "math/kl/", "papers/bingo2022/", "papers/dgkd2021/", "papers/dist2022/", "papers/hsakd2021/",
             "papers/ickd2021/", "papers/kcd2022/", "papers/kdrw2021/", "papers/takd2020/", "papers/tat2022/",
             "reports/2024-04-19/"],
}


def _page_text(index: dict) -> dict[str, str]:
    """Everything indexed for each page (all its sections), flattened."""
    pages: dict[str, str] = {}
    for d in index["docs"]:
        page = d["location"].split("#")[0]
        pages[page] = pages.get(page, "") + _flat(d["title"] + d["text"] + "".join(d.get("tags", [])))
    return pages


def test_chinese_queries_find_the_pages_they_found_before_trimming(index):
    import jieba

    pages = _page_text(index)
    for query, found in FOUND_BEFORE_TRIMMING.items():
        # Material's search finds a page for a word of the query as jieba cuts it (教师模型: 教师, 模型);
        # tests/browser/test_site_browser.py checks the list Material itself shows.
        words = [w for w in jieba.cut(query) if w.strip()]
        lost = [p for p in found if p not in pages or not any(w in pages[p] for w in words)]
        assert not lost, f"{query}: no longer in the index of {lost} (words {words})"


def test_the_index_leaves_out_what_repeats_other_pages(site, index):
    kb, _ = load_knowledge_base(ROOT)
    locations = [d["location"] for d in index["docs"]]
    # A paper's BibTeX repeats its title and authors; 被提及 lists pages that are searched themselves.
    dist = (site / "papers" / "dist2022" / "index.html").read_text("utf-8")
    assert 'id="bibtex"' in dist and "被提及" in dist, "the sections are not on the page: the test proves nothing"
    repeated = [d["location"] for d in index["docs"] if d["location"].startswith("papers/")
                and (d["location"].endswith("#bibtex") or _flat(d["title"]) in ("BibTeX", "被提及"))]
    assert not repeated, f"BibTeX or 被提及 sections in the index: {repeated[:5]}"
    everything = " ".join(d["text"] for d in index["docs"])
    assert "@inproceedings" not in everything and "@article" not in everything
    # The tags page lists every tagged page; the tags themselves stay on each paper's entry.
    assert not [loc for loc in locations if loc.startswith("tags/")]
    assert all(index["docs"][locations.index(f"papers/{p.id}/")].get("tags") == list(p.tags)
               for p in kb.papers.values() if p.tags)
    # Category, venue and year pages repeat rows of the table of all papers (searched, see above):
    # their intro stays, their rows do not.
    pages = _page_text(index)
    dist_title = _flat(kb.papers["dist2022"].title)
    assert dist_title in pages["papers/"]
    for group in ("categories/teacher-student-gap/", "venues/neurips/", "years/2022/"):
        assert group in pages, f"{group} is not searched at all"
        assert dist_title not in pages[group], f"{group} still indexes its table rows"
