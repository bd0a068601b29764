"""End to end: build a real site from the fixture records in a temporary folder and read its HTML."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import bibtexparser
import pytest
from litnotes.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "site"
MKDOCS = [sys.executable, "-m", "mkdocs"]
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def build(project: Path, out: Path) -> subprocess.CompletedProcess:
    # --strict without -q: quiet mode would drop the warnings strict mode counts.
    return subprocess.run([*MKDOCS, "build", "--strict", "-f", str(project / "mkdocs.yml"), "-d", str(out)],
                          capture_output=True, text=True, env=ENV, timeout=300)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = build(FIXTURE, out)
    assert result.returncode == 0, result.stderr
    return out


def page(site: Path, path: str) -> str:
    return (site / path / "index.html").read_text(encoding="utf-8")


def article(html: str) -> str:
    return html[html.index("<article"):html.index("</article>")]


def test_every_record_gets_a_page(site):
    ids = sorted(p.stem for p in (FIXTURE / "papers").glob("[!_]*.yaml"))
    # papers/to_read/ is the reading list, not a record (an id has no '_').
    built = sorted(p.name for p in (site / "papers").iterdir() if p.is_dir() and p.name != "to_read")
    assert built == ids
    html = page(site, "papers/follow2021")
    assert "Following Up: Dense Guidance &amp; More" in html
    assert "Grace Hopper" in html
    assert 'href="https://github.com/example/follow"' in html
    assert "改进 <strong>BASE</strong>" in html


def test_paper_without_code_says_so(site):
    assert "无官方代码" in article(page(site, "papers/base2020"))
    assert "无官方代码" not in article(page(site, "papers/follow2021"))


def test_index_membership(site):
    gap = article(page(site, "categories/teacher-student-gap"))
    assert 'href="../../papers/base2020/"' in gap and 'href="../../papers/follow2021/"' in gap
    assert "feat2022" not in gap
    assert "共 2 篇论文" in gap
    assert "feat2022" in page(site, "venues/cvpr") and "base2020" not in page(site, "venues/cvpr")
    assert "follow2021" in page(site, "years/2021") and "feat2022" not in page(site, "years/2021")
    everything = article(page(site, "papers"))
    assert all(i in everything for i in ("base2020", "follow2021", "feat2022"))
    assert "litnotes-sortable" in everything


def test_reverse_links_both_ways(site):
    follow = article(page(site, "papers/follow2021"))
    base = article(page(site, "papers/base2020"))
    assert re.search(r"基于.*?href=\"../base2020/\"", follow, re.S)
    assert re.search(r"后续工作.*?href=\"../follow2021/\"", base, re.S)


def test_report_pulls_summaries_from_records(site):
    report = article(page(site, "reports/2024-01-05"))
    assert "用全部助教模型指导学生模型" in report
    assert 'href="../../papers/follow2021/"' in report
    assert "::: paper not-a-directive-inside-code" in report  # code fences are left alone


def test_paper_page_links_back_to_its_report_and_its_yaml(site):
    follow = page(site, "papers/follow2021")
    assert 'href="../../reports/2024-01-05/"' in follow
    assert "https://github.com/example/kb/edit/main/papers/follow2021.yaml" in follow


def test_reports_newest_first_and_feed(site):
    index = article(page(site, "reports"))
    assert index.index("2024-01-05") < index.index("2023-12-29")
    feed = ET.fromstring((site / "feed.xml").read_bytes())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    links = [e.find("a:link", ns).get("href") for e in feed.findall("a:entry", ns)]
    assert links == ["https://example.invalid/kb/reports/2024-01-05/", "https://example.invalid/kb/reports/2023-12-29/"]


def test_exports_parse(site):
    library = bibtexparser.parse_string((site / "papers.bib").read_text(encoding="utf-8"))
    assert not library.failed_blocks
    assert sorted(e.key for e in library.entries) == ["base2020", "feat2022", "follow2021"]
    base = next(e for e in library.entries if e.key == "base2020")
    assert base["author"] == "Ada Lovelace and Alan Turing" and base["eprint"] == "1902.03393"
    data = json.loads((site / "papers.json").read_text(encoding="utf-8"))
    assert [p["id"] for p in data["papers"]] == ["base2020", "feat2022", "follow2021"]
    assert data["papers"][2]["builds_on"] == ["base2020"]
    home = page(site, "")
    assert 'href="papers.bib"' in home and 'href="papers.json"' in home


def test_home_has_counts_and_charts(site):
    home = article(page(site, ""))
    assert "<strong>3</strong> 篇论文" in home
    assert "<strong>2</strong> 篇周报" in home
    assert home.count("<svg class=\"litnotes-chart\"") == 2


def test_chinese_search_is_segmented(site):
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    text = " ".join(d["text"] for d in index["docs"] if d["location"].startswith("papers/base2020"))
    # jieba splits the sentence into words joined by U+200B, so 教师 and 模型 are separate terms.
    assert "教师\u200b模型" in text


def test_no_request_leaves_the_site(site):
    for html in site.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=\"(https?:)?//", text), html
        # canonical/alternate links name the site's address; they are not fetched.
        fetched = [t for t in re.findall(r"<link[^>]+>", text) if not re.search(r'rel="(canonical|alternate)"', t)]
        assert not [t for t in fetched if re.search(r'href="(https?:)?//', t)], html
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, html


def _copy(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    return project


def test_unknown_paper_in_report_fails_strict_build_with_file_and_line(tmp_path):
    project = _copy(tmp_path)
    report = project / "docs" / "reports" / "2024-01-05.md"
    report.write_text(report.read_text(encoding="utf-8") + "\n::: paper nosuch2024\n", encoding="utf-8")
    line = report.read_text(encoding="utf-8").splitlines().index("::: paper nosuch2024") + 1
    result = build(project, tmp_path / "out")
    assert result.returncode != 0
    assert f"docs/reports/2024-01-05.md:{line}:1: error: unknown paper 'nosuch2024'" in result.stderr


def test_record_with_raw_html_fails_strict_build(tmp_path):
    project = _copy(tmp_path)
    (project / "papers" / "evil2023.yaml").write_text(
        "title: <img src=x onerror=alert(1)>\nauthors: [Mallory]\nvenue: cvpr\nyear: 2023\n"
        "category: feature\nsummary: <script>alert(1)</script>\n", encoding="utf-8")
    result = build(project, tmp_path / "out")
    assert result.returncode != 0
    assert "papers/evil2023.yaml:1:8: error: 'title' contains raw HTML" in result.stderr
    assert "papers/evil2023.yaml:6:10: error: 'summary' contains raw HTML" in result.stderr


def test_render_out_writes_the_same_pages(tmp_path, capsys):
    out = tmp_path / "rendered"
    before = sorted(p for p in FIXTURE.rglob("*"))
    assert main(["--root", str(FIXTURE), "render", "--out", str(out)]) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert "papers/follow2021.md" in written and "papers.bib" in written and "reports/index.md" in written
    assert sorted(p for p in FIXTURE.rglob("*")) == before  # nothing written into the sources
