"""Threads between pages: every page that mentions a paper is listed on the paper's page."""

from __future__ import annotations

from pathlib import Path

import pytest
from litnotes.records.validate import load_knowledge_base
from litnotes.site.mentions import Mention, collect_mentions, mentions_section, read_pages
from litnotes.site.pages import render_site
from litnotes.site.reports import read_reports

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "site"


@pytest.fixture(scope="module")
def kb():
    kb, problems = load_knowledge_base(FIXTURE)
    assert problems == []
    return kb


def _pages(mentions):
    return [(m.page, m.how) for m in mentions]


def test_blocks_links_and_builds_on_are_mentions(kb):
    pages = {
        "reports/2024-01-05.md": "---\ntitle: 周报 2024-01-05\n---\n\n# 周报\n\n::: paper base2020\n",
        "code/base.md": "# BASE 的实现\n\n见 [BASE](../papers/base2020.md#bibtex) 与 [FOLLOW][f]。\n\n[f]: ../papers/follow2021.md\n",
        "math/index.md": "# 数学\n\n[另一篇](../papers/feat2022.md \"标题\")\n",
    }
    found = collect_mentions(pages, kb)
    assert _pages(found["base2020"]) == [("reports/2024-01-05.md", "block"), ("code/base.md", "link"),
                                         ("papers/follow2021.md", "builds_on")]
    assert found["base2020"][0].title == "周报 2024-01-05"  # the front-matter title
    assert found["base2020"][1].title == "BASE 的实现"       # else the first heading
    assert _pages(found["follow2021"]) == [("code/base.md", "link")]
    assert _pages(found["feat2022"]) == [("math/index.md", "link")]


def test_code_unknown_ids_indexes_and_outside_links_are_not_mentions(kb):
    pages = {
        "code/a.md": "# A\n\n```md\n::: paper base2020\n[x](../papers/base2020.md)\n```\n\n`[y](../papers/base2020.md)`\n",
        "code/b.md": "# B\n\n::: paper nosuch2020\n\n[gone](../papers/nosuch2020.md)\n",
        "code/c.md": "# C\n\n::: papers feature\n\n[web](https://example.org/papers/base2020.md)\n",
        "code/d.md": "# D\n\n[not a paper](../papers/index.md) [elsewhere](papers/base2020.md)\n",
    }
    found = collect_mentions(pages, kb)
    # Only follow2021's builds_on mentions base2020; nothing above does.
    assert _pages(found["base2020"]) == [("papers/follow2021.md", "builds_on")]
    assert "nosuch2020" not in found and "feat2022" not in found


def test_a_page_is_listed_once_per_paper(kb):
    pages = {"reports/2024-01-05.md": "# R\n\n::: paper base2020\n\n又见 [BASE](../papers/base2020.md)。\n"}
    assert _pages(collect_mentions(pages, kb)["base2020"])[:1] == [("reports/2024-01-05.md", "block")]
    assert len(collect_mentions(pages, kb)["base2020"]) == 2  # the report and follow2021


def test_section_links_relative_to_the_paper_page_and_escapes_titles():
    lines = mentions_section([Mention("code/x.md", "*x* [y]", "link")], "papers/base2020.md")
    assert lines == ["## 被提及", "", r"- 代码实践：[\*x\* \[y\]](../code/x.md)（链接）", ""]
    assert mentions_section([], "papers/base2020.md") == []


def test_paper_page_lists_mentions_once_rendered(kb):
    handwritten = read_pages(FIXTURE / "docs")
    pages = render_site(kb, read_reports(FIXTURE / "docs"), handwritten=handwritten)
    assert "## 被提及" in pages["papers/base2020.md"]
    assert "[FOLLOW](follow2021.md)（基于本文）" in pages["papers/base2020.md"]


def test_the_dist_paper_is_mentioned_by_its_report_code_note_and_math_page():
    kb, _problems = load_knowledge_base(ROOT)
    found = collect_mentions(read_pages(ROOT / "docs"), kb)
    pages = {m.page for m in found["dist2022"]}
    assert {"reports/2024-04-19.md", "code/dist-pearson.md", "math/kl.md"} <= pages
