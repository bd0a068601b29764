"""``litnotes report new [DATE]``: the week's skeleton from the records, never over an existing report."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from litnotes.cli import main
from litnotes.cli.report import run_report
from litnotes.records.validate import load_knowledge_base
from litnotes.site.directives import DIRECTIVE
from litnotes.site.pages import render_site
from litnotes.site.reports import FEED_PATH, read_in_week, read_reports, report_friday, report_skeleton

TESTS = Path(__file__).parent
BASE = TESTS / "fixtures" / "check" / "_base"
SITE = TESTS / "fixtures" / "site"
SECTIONS = ["## 论文阅读", "## 代码实践", "## 项目进展", "## 数学"]

RECORD = """\
title: "{title}"
authors: ["Ada Lovelace"]
venue: neurips
year: 2022
category: feature
{extra}summary: 这篇论文的笔记。
"""


def _repo(tmp_path: Path, reads: dict[str, str | None]) -> Path:
    """A small repository (the check fixtures' categories, venues and the 2024-04-19 report)."""
    root = tmp_path / "repo"
    shutil.copytree(BASE, root)
    for pid, read in reads.items():
        extra = f"read: {read}\n" if read else ""
        (root / "papers" / f"{pid}.yaml").write_text(RECORD.format(title=f"Paper {pid}", extra=extra),
                                                     encoding="utf-8")
    return root


def _new(root: Path, date: str | None = None, today: dt.date | None = None) -> int:
    args = argparse.Namespace(root=str(root), papers="papers", docs="docs", date=date)
    return run_report(args, today=today)


def _paper_lines(text: str) -> list[str]:
    return [m.group(2) for line in text.splitlines() if (m := DIRECTIVE.match(line)) and m.group(1) == "paper"]


# --- the date --------------------------------------------------------------------------------------

@pytest.mark.parametrize("today, friday", [
    ("2024-04-15", "2024-04-19"),  # Monday
    ("2024-04-18", "2024-04-19"),  # Thursday
    ("2024-04-19", "2024-04-19"),  # Friday itself
    ("2024-04-20", "2024-04-19"),  # Saturday: the week just written up
    ("2024-04-21", "2024-04-19"),  # Sunday
    ("2024-04-22", "2024-04-26"),  # the next Monday starts the next week
    ("2024-12-30", "2025-01-03"),  # across a year
])
def test_default_date_is_this_weeks_friday(today, friday):
    assert report_friday(dt.date.fromisoformat(today)).isoformat() == friday


def test_cli_writes_this_weeks_friday_by_default(tmp_path, capsys):
    root = _repo(tmp_path, {"a2022": None})
    assert _new(root, today=dt.date(2024, 4, 24)) == 0
    assert (root / "docs" / "reports" / "2024-04-26.md").is_file()
    assert capsys.readouterr().out == "wrote docs/reports/2024-04-26.md (0 paper(s) read that week)\n"


# --- the skeleton ----------------------------------------------------------------------------------

def test_skeleton_has_the_sections_of_the_first_report():
    text = report_skeleton(dt.date(2024, 4, 26), {})
    assert text.startswith("---\ntitle: 周报 2024-04-26\n---\n\n# 周报 2024-04-26\n")
    positions = [text.index(f"\n{s}\n") for s in SECTIONS]
    assert positions == sorted(positions)
    # The repository's first report, whose shape every week follows (its math heading is in English).
    first = (TESTS.parent / "docs" / "reports" / "2024-04-19.md").read_text(encoding="utf-8")
    assert [line for line in first.splitlines() if line.startswith("## ")] == SECTIONS[:3] + ["## Mathematics"]


def test_skeleton_names_the_papers_read_that_week_oldest_first():
    reads = {"fri": "2024-04-26", "mon": "2024-04-22", "sun": "2024-04-28", "before": "2024-04-21",
             "after": "2024-04-29", "bad": "2024-02-30", "odd": "soon"}
    text = report_skeleton(dt.date(2024, 4, 26), reads)
    assert _paper_lines(text) == ["mon", "fri", "sun"]
    assert read_in_week(dt.date(2024, 4, 22), reads) == ["mon", "fri", "sun"]
    # Each directive on its own line, between blank lines, inside the papers section.
    papers = text[text.index("## 论文阅读"):text.index("## 代码实践")]
    assert "\n\n::: paper mon\n\n::: paper fri\n\n::: paper sun\n\n" in papers


def test_skeleton_of_a_week_without_papers_says_how_to_add_one():
    text = report_skeleton(dt.date(2024, 4, 26), {"old": "2024-04-19"})
    assert _paper_lines(text) == []
    assert "<!-- 没有记录的 read: 日期在 2024-04-22 至 2024-04-28 之间。" in text


# --- the command -----------------------------------------------------------------------------------

def test_report_new_lists_the_weeks_papers_and_passes_check(tmp_path, capsys):
    root = _repo(tmp_path, {"a2022": "2024-04-26", "b2022": "2024-04-19", "c2022": None})
    # A read date without its report fails check: the report is what `report new` writes.
    assert main(["--root", str(root), "check"]) == 1
    capsys.readouterr()
    assert _new(root, "2024-04-26") == 0
    assert capsys.readouterr().out == "wrote docs/reports/2024-04-26.md (1 paper(s) read that week: a2022)\n"
    text = (root / "docs" / "reports" / "2024-04-26.md").read_text(encoding="utf-8")
    assert _paper_lines(text) == ["a2022"]
    assert main(["--root", str(root), "check"]) == 0
    assert capsys.readouterr().out == ""


def test_report_index_and_feed_pick_the_new_report_up(tmp_path):
    root = _repo(tmp_path, {"a2022": "2024-04-26"})
    assert _new(root, "2024-04-26") == 0
    kb, problems = load_knowledge_base(root)
    assert problems == []
    reports = read_reports(root / "docs")
    assert [r.date for r in reports] == ["2024-04-26", "2024-04-19"]
    assert reports[0].title == "周报 2024-04-26"
    pages = render_site(kb, reports, site_url="https://example.invalid/kb/")
    index = pages["reports/index.md"]
    assert "## [周报 2024-04-26](2024-04-26.md)" in index
    assert "阅读论文 1 篇：[Paper a2022](../papers/a2022.md)" in index
    feed = ET.fromstring(pages[FEED_PATH])
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert feed.find("a:entry/a:link", ns).get("href") == "https://example.invalid/kb/reports/2024-04-26/"


def test_a_read_date_inside_the_week_but_not_the_report_date_gets_a_note(tmp_path, capsys):
    root = _repo(tmp_path, {"mon2022": "2024-04-22"})
    assert _new(root, "2024-04-26") == 0
    err = capsys.readouterr().err
    assert err == ("papers/mon2022.yaml: note: 'read: 2024-04-22' is in this week; change it to 'read: 2024-04-26' "
                   "so that the paper links to this report\n")
    assert _paper_lines((root / "docs" / "reports" / "2024-04-26.md").read_text(encoding="utf-8")) == ["mon2022"]


def test_never_overwrites_a_report(tmp_path, capsys):
    root = _repo(tmp_path, {"a2022": "2024-04-19"})
    report = root / "docs" / "reports" / "2024-04-19.md"
    before = report.read_bytes()
    assert _new(root, "2024-04-19") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == ("litnotes report new: docs/reports/2024-04-19.md already exists and is left as it is; "
                   "edit it, or pass another DATE\n")
    assert report.read_bytes() == before
    # The default date too: a second run in the same week changes nothing.
    assert _new(root, today=dt.date(2024, 4, 17)) == 1
    assert report.read_bytes() == before
    assert sorted(p.name for p in report.parent.iterdir()) == ["2024-04-19.md"]


@pytest.mark.parametrize("date", ["2024-4-26", "2024-02-30", "friday"])
def test_a_date_that_is_not_a_date_is_a_usage_error(tmp_path, capsys, date):
    root = _repo(tmp_path, {})
    assert main(["--root", str(root), "report", "new", date]) == 2
    assert capsys.readouterr().err == (f"litnotes report new: '{date}' is not a date; write it as YYYY-MM-DD, "
                                       "e.g. 2024-04-19\n")
    assert sorted(p.name for p in (root / "docs" / "reports").iterdir()) == ["2024-04-19.md"]


def test_outside_a_repository_is_a_usage_error(tmp_path, capsys):
    assert main(["--root", str(tmp_path), "report", "new", "2024-04-26"]) == 2
    assert "papers folder not found" in capsys.readouterr().err
    assert not (tmp_path / "docs").exists()


def test_creates_the_reports_folder_of_a_new_repository(tmp_path):
    root = _repo(tmp_path, {})
    shutil.rmtree(root / "docs" / "reports")
    assert _new(root, "2024-04-26") == 0
    assert (root / "docs" / "reports" / "2024-04-26.md").is_file()


def test_new_report_passes_the_strict_build(tmp_path):
    project = tmp_path / "site"
    shutil.copytree(SITE, project)
    follow = project / "papers" / "follow2021.yaml"
    follow.write_text(follow.read_text(encoding="utf-8").replace("read: 2024-01-05", "read: 2024-01-12"),
                      encoding="utf-8")
    assert main(["--root", str(project), "report", "new", "2024-01-12"]) == 0
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(project / "mkdocs.yml"),
                             "-d", str(out)], check=False, capture_output=True, text=True,
                            timeout=300,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr
    html = (out / "reports" / "2024-01-12" / "index.html").read_text(encoding="utf-8")
    article = html[html.index("<article"):html.index("</article>")]
    assert "用全部助教模型指导学生模型" in article  # follow2021's summary, from its record
    for heading in ("论文阅读", "代码实践", "项目进展", "数学"):
        assert f">{heading}<" in article
    assert ":::" not in article
    assert 'href="2024-01-12/"' in (out / "reports" / "index.html").read_text(encoding="utf-8")
