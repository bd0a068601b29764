"""The pure renderer: golden pages, and escaping of whatever a record holds."""

from __future__ import annotations

import os
from pathlib import Path

import markdown
import pytest
from litnotes.records.model import Paper
from litnotes.records.validate import load_knowledge_base
from litnotes.site.pages import render_site
from litnotes.site.reports import read_reports

FIXTURE = Path(__file__).parent / "fixtures" / "site"
GOLDEN = Path(__file__).parent / "golden" / "render"
UPDATE = os.environ.get("LITNOTES_UPDATE_GOLDENS") == "1"


@pytest.fixture(scope="module")
def kb():
    kb, problems = load_knowledge_base(FIXTURE)
    assert problems == []
    return kb


@pytest.mark.parametrize("path", ["papers/follow2021.md", "papers/base2020.md", "categories/teacher-student-gap.md",
                                  "papers/index.md", "reports/index.md"])
def test_golden_pages(kb, path):
    """Refresh with LITNOTES_UPDATE_GOLDENS=1 after an intended change, then review the diff."""
    pages = render_site(kb, read_reports(FIXTURE / "docs"), edit_base="https://github.com/example/kb/edit/main/")
    golden = GOLDEN / path.replace("/", "__")
    if UPDATE:
        golden.write_text(pages[path], encoding="utf-8")
    assert pages[path] == golden.read_text(encoding="utf-8")


def _evil(kb) -> Paper:
    return Paper(id="evil2023", path="papers/evil2023.yaml", title='<img src=x onerror="alert(1)">',
                 authors=("<script>alert(2)</script>",), venue="cvpr", year=2023, category="feature",
                 abbr="<b>X</b>", summary="text <script>alert(3)</script> and [click](javascript:alert(4))",
                 notes="<iframe src=//evil></iframe>")


def test_output_escapes_html_from_records(kb):
    """The checker rejects raw HTML; should a record slip past it, the pages still cannot run it."""
    evil = _evil(kb)
    unsafe = type(kb)({**kb.papers, evil.id: evil}, kb.categories, kb.venues, kb.reports, kb.built_on_by)
    pages = render_site(unsafe)
    for path in ("papers/evil2023.md", "papers/index.md", "categories/feature.md", "years/2023.md"):
        html = markdown.markdown(pages[path], extensions=["tables", "md_in_html", "attr_list"])
        lowered = html.lower()
        assert "<script" not in lowered and "<img" not in lowered and "<iframe" not in lowered, path
        assert "javascript:" not in lowered, path
    html = markdown.markdown(pages["papers/evil2023.md"], extensions=["tables"])
    assert "&lt;img src=x onerror=" in html  # shown as text, not dropped
