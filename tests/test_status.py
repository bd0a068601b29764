"""The reading list: ``status`` in a record, the 待读 page and the status column of the papers index.

The check rules have fixture folders (tests/fixtures/check/bad/status, good/reading-list);
these tests read the pages rendered from the good one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import markdown
import pytest
from litnotes.records.validate import load_knowledge_base
from litnotes.site.pages import paper_table, render_site

FIXTURES = Path(__file__).parent / "fixtures" / "check"
TO_READ = "papers/to_read.md"


def _repo(case: str, tmp_path: Path) -> Path:
    root = tmp_path / case
    shutil.copytree(FIXTURES / "good" / case, root)
    for name in ("_categories.yaml", "_venues.yaml"):
        shutil.copy(FIXTURES / "_base" / "papers" / name, root / "papers" / name)
    shutil.copytree(FIXTURES / "_base" / "docs", root / "docs")
    return root


@pytest.fixture
def kb(tmp_path):
    kb, problems = load_knowledge_base(_repo("reading-list", tmp_path))
    assert problems == []
    return kb


def _section(page: str, heading: str) -> str:
    start = page.index(f"## {heading}\n")
    end = page.find("\n## ", start + 1)
    return page[start:] if end < 0 else page[start:end]


def test_status_and_read_date_give_the_reading_status(kb):
    assert kb.papers["takd2020"].reading_status == "to-read"
    assert kb.papers["dkd2022"].reading_status == "reading"
    assert kb.papers["dist2022"].reading_status == "read"  # status: read with a read date
    assert kb.papers["kdrw2021"].reading_status == "read"  # status: read without one


def test_a_record_without_status_is_read(tmp_path):
    kb, problems = load_knowledge_base(_repo("minimal", tmp_path))
    assert problems == [] and kb.papers
    assert {p.reading_status for p in kb.papers.values()} == {"read"}


def test_to_read_page_lists_to_read_and_reading_papers(kb):
    page = render_site(kb)[TO_READ]
    assert page.startswith("# 待读\n")
    waiting, reading = _section(page, "尚未阅读"), _section(page, "正在阅读")
    assert "共 1 篇。" in waiting and "[Improved Knowledge Distillation via Teacher Assistant](takd2020.md)" in waiting
    assert "共 1 篇。" in reading and "[Decoupled Knowledge Distillation](dkd2022.md)" in reading
    for read in ("dist2022", "kdrw2021"):
        assert read not in page


def test_to_read_page_says_when_empty(tmp_path):
    kb, _ = load_knowledge_base(_repo("minimal", tmp_path))
    page = render_site(kb)[TO_READ]
    assert _section(page, "尚未阅读").count("暂无论文。") == 1
    assert "| 论文 |" not in page


def test_to_read_page_is_safe_markdown(kb):
    html = markdown.markdown(render_site(kb)[TO_READ], extensions=["tables", "md_in_html"])
    assert 'href="takd2020.md"' in html and "<script" not in html


def test_papers_index_links_the_reading_list_and_shows_status(kb):
    index = render_site(kb)["papers/index.md"]
    assert "待读的论文见[待读列表](to_read.md)（1 篇）。" in index
    header = next(line for line in index.splitlines() if line.startswith("| 论文 |"))
    assert header.endswith("| 代码 | 状态 |")
    rows = {line.split("](")[1].split(")")[0]: line for line in index.splitlines() if line.startswith("| [")}
    assert rows["takd2020.md"].endswith("| 待读 |")
    assert rows["dkd2022.md"].endswith("| 在读 |")
    assert rows["dist2022.md"].endswith("| 已读 |")


def test_papers_index_has_no_status_column_without_a_reading_list(tmp_path):
    kb, _ = load_knowledge_base(_repo("minimal", tmp_path))
    index = render_site(kb)["papers/index.md"]
    assert "状态" not in index
    assert "待读的论文见[待读列表](to_read.md)（0 篇）。" in index


def test_paper_table_status_column_is_optional(kb):
    papers = kb.sorted_papers()
    plain_table = paper_table(papers, kb, "papers/index.md")
    with_status = paper_table(papers, kb, "papers/index.md", status=True)
    assert "状态" not in plain_table
    # Same rows, one more cell each.
    for a, b in zip(plain_table.splitlines(), with_status.splitlines(), strict=False):
        assert b.startswith(a) and b.count("|") == a.count("|") + 1


def test_status_is_exported(kb):
    data = json.loads(render_site(kb)["papers.json"])
    status = {p["id"]: p.get("status") for p in data["papers"]}
    assert status == {"dist2022": "read", "dkd2022": "reading", "kdrw2021": "read", "takd2020": "to-read"}


def test_paper_page_of_a_listed_paper_says_so(kb):
    pages = render_site(kb)
    assert "| 状态 | [待读](to_read.md) |" in pages["papers/takd2020.md"]
    assert "| 状态 | [在读](to_read.md) |" in pages["papers/dkd2022.md"]
    assert "| 状态 |" not in pages["papers/dist2022.md"]
