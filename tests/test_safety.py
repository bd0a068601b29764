"""A record that passes `litnotes check` is safe to publish (issue 11): regression fixtures and property tests.

The guarantee, for every hostile record: ``litnotes check`` rejects it with file, line and column (and the
strict build fails too), or ``check`` accepts it and the strict build publishes inert pages (no active
content, see tests/html_safety.py) whose sections are those of a benign record, and ``papers.bib`` parses
to one entry per record with no field the record does not have.

Pages are rendered in-process (``render_site`` and Python-Markdown with the real site's extensions) for
the many generated records; real ``mkdocs build --strict`` runs for every regression fixture
(tests/fixtures/safety/) and for a few generated records.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import bibtexparser
import markdown
import pytest
import yaml
from html_safety import active_content
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litnotes.cli import main
from litnotes.records.validate import load_knowledge_base
from litnotes.site.directives import expand
from litnotes.site.pages import paper_path, render_site
from litnotes.site.reports import read_reports
from mkdocs.utils.meta import get_data

TESTS = Path(__file__).parent
REPO = TESTS.parent
SITE = TESTS / "fixtures" / "site"
CASES = TESTS / "fixtures" / "safety"
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
PROBLEM = re.compile(r"^(papers/[^:]+\.yaml):([1-9][0-9]*):([1-9][0-9]*): error: \S")
_OWN_FIELDS = {"title", "author", "year", "booktitle", "journal", "howpublished"}


# --- a project: the site fixture with the real site's Markdown extensions ---------------------------

def _site_config() -> str:
    """The site fixture's mkdocs.yml with the repository's own markdown_extensions (the full set)."""
    fixture = (SITE / "mkdocs.yml").read_text(encoding="utf-8")
    real = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    extensions = real[real.index("\nmarkdown_extensions:"):real.index("\nnav:")]
    return fixture[:fixture.index("\nmarkdown_extensions:")] + extensions + "\n"


def _project(tmp_path: Path, records: dict[str, str]) -> Path:
    """A copy of the site fixture with ``records`` ({id: YAML}) added, each also shown in a report by '::: paper'."""
    root = tmp_path / "project"
    shutil.copytree(SITE, root)
    (root / "mkdocs.yml").write_text(_site_config(), encoding="utf-8")
    report = root / "docs" / "reports" / "2024-01-05.md"
    lines = "".join(f"\n::: paper {key}\n" for key in records)
    report.write_text(report.read_text(encoding="utf-8") + lines, encoding="utf-8")
    for key, text in records.items():
        (root / "papers" / f"{key}.yaml").write_text(text, encoding="utf-8")
    return root


def _check(root: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--root", str(root), "check"])
    assert "Traceback" not in err.getvalue()
    return code, out.getvalue()


def _build(root: Path) -> subprocess.CompletedProcess:
    # --strict without -q: quiet mode would drop the warnings strict mode counts.
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(root / "mkdocs.yml"),
                           "-d", str(root / "site")], capture_output=True, text=True, env=ENV, timeout=300)


# --- what a page is made of ------------------------------------------------------------------------

@cache
def _markdown() -> markdown.Markdown:
    # The repository's own mkdocs.yml names a slugify function with a !!python tag, as MkDocs reads it.
    config = yaml.load(_site_config(), Loader=yaml.UnsafeLoader)
    names, configs = [], {}
    for item in config["markdown_extensions"]:
        name, options = next(iter(item.items())) if isinstance(item, dict) else (item, {})
        names.append(name)
        configs[name] = options or {}
    return markdown.Markdown(extensions=names, extension_configs=configs)


def _html(page_markdown: str) -> tuple[dict[str, Any], str]:
    """(front matter, HTML) of a page as MkDocs makes them, and the theme's use of the header's title."""
    body, meta = get_data(page_markdown)
    html = _markdown().reset().convert(body)
    title = meta.get("title", "")
    # Material writes page.meta.title into <title> and the header as it is (no autoescape).
    theme = f"<html><head><title>{title} - site</title></head><body><div class=\"md-header__topic\">" \
            f"<span class=\"md-ellipsis\">{title}</span></div><article>{html}</article></body></html>"
    return meta, theme


def _headings(html: str, level: int) -> list[str]:
    found = re.findall(rf"<h{level}[^>]*>(.*?)</h{level}>", html, re.S)
    return [re.sub(r"<[^>]+>", "", re.sub(r'<a class="headerlink".*?</a>', "", h)).strip() for h in found]


def _sections(paper: Any, kb: Any, mentioned: bool = False) -> list[str]:
    """The second-level headings of a benign record's page with the same fields.

    ``mentioned``: a hand-written page mentions the paper (the builds show each record in a report).
    """
    related = any(b in kb.papers for b in paper.builds_on) or kb.built_on_by.get(paper.id)
    return ["笔记"] + (["补充说明"] if paper.notes else []) + (["相关工作"] if related else []) \
        + (["被提及"] if mentioned else []) + ["BibTeX"]


def _assert_published_safely(root: Path, key: str) -> None:
    """The guarantee for an accepted record, on the pages rendered in-process."""
    kb, problems = load_knowledge_base(root)
    assert problems == [] and key in kb.papers
    reports = read_reports(root / "docs")
    pages = render_site(kb, reports, edit_base="https://github.com/example/kb/edit/main/")
    paper = kb.papers[key]
    meta, html = _html(pages[paper_path(key)])
    assert active_content(html) == [], paper_path(key)
    assert set(meta) <= {"title", "tags", "search"} and "\n" not in meta["title"]
    assert len(_headings(html, 1)) == 1
    assert _headings(html, 2) == _sections(paper, kb)
    for path in ("papers/index.md", f"categories/{paper.category}.md", f"venues/{paper.venue}.md",
                 f"years/{paper.year}.md", "categories/index.md", "years/index.md", "reports/index.md"):
        assert active_content(_html(pages[path])[1]) == [], path
    report, report_problems = expand(f"# 周报\n\n::: paper {key}\n", "reports/2024-01-05.md", kb, reports)
    assert report_problems == []
    report_html = _html(report)[1]
    assert active_content(report_html) == [] and len(_headings(report_html, 1)) == 1
    _assert_bib(pages["papers.bib"], kb)


def _assert_bib(bib: str, kb: Any) -> None:
    library = bibtexparser.parse_string(bib)
    assert not library.failed_blocks
    assert sorted(e.key for e in library.entries) == sorted(kb.papers)
    for entry in library.entries:
        paper = kb.papers[entry.key]
        expected = {"title", "author", "year"} | ({"booktitle"} if paper.venue != "arxiv" else set())
        expected |= {"eprint", "archiveprefix"} if paper.arxiv else set()
        expected |= {"doi"} if paper.doi else set()
        expected |= {"url"} if paper.url else set()
        if paper.bibtex:
            pasted = bibtexparser.parse_string(paper.bibtex)
            if pasted.entries:
                # An empty field says nothing, and is left out.
                expected |= {f.key.lower() for f in pasted.entries[0].fields if str(f.value).strip()} - _OWN_FIELDS
        assert {f.key for f in entry.fields} == expected, entry.key
        assert len(_names(entry["author"])) == len(paper.authors), entry.key


def _names(authors: str) -> list[str]:
    """The names of a BibTeX author list, split as BibTeX does: at ' and ' outside braces."""
    names, depth, start = [], 0, 0
    for i, ch in enumerate(authors):
        depth += (ch == "{") - (ch == "}")
        if depth == 0 and authors[i:i + 5].lower() == " and ":
            names.append(authors[start:i])
            start = i + 5
    return [*names, authors[start:]]


# --- regression fixtures: every escaping case under "Why" of issue 11 ------------------------------

def _cases() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if p.is_dir())


def _case_records(case: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted((case / "papers").glob("*.yaml"))}


def _rejected(case: Path) -> bool:
    return (case / "expected.txt").exists()


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.name)
def test_regression_fixture(case: Path, tmp_path: Path) -> None:
    """check's verdict on each case; an accepted case's pages rendered in-process (the builds are below)."""
    records = _case_records(case)
    root = _project(tmp_path, records)
    code, out = _check(root)
    if _rejected(case):
        golden = case / "expected.txt"
        if os.environ.get("LITNOTES_UPDATE_GOLDENS") == "1":
            golden.write_text(out, encoding="utf-8")
        assert code == 1 and out == golden.read_text(encoding="utf-8")
        assert all(PROBLEM.match(line) for line in out.splitlines())
        return
    assert (code, out) == (0, ""), out
    for key in records:
        _assert_published_safely(root, key)


def test_every_regression_case_of_issue_11_has_a_fixture() -> None:
    names = {p.name for p in _cases()}
    assert {"url-code-svg", "doi-javascript", "bibtex-backticks", "title-newline-dashes", "url-bib-note"} <= names


# --- property tests: hostile values composed from injection fragments -------------------------------

FRAGMENTS = ['"', "'", "[", "]", "(", ")", "<", ">", "`", "```", "\n```\n", "````", "---", "\n---\n", "{:",
             "{: onfocus=alert(1) }", "{", "}", "},note={x}", "\n", "\n\n", "&#106;avascript:alert(1)",
             "java&#115;cript:alert(1)", "javascript&colon;alert(1)", "javascript:alert(1)",
             "<svg/onload=alert(1)>", "<script>alert(1)</script>", "\\", "|", "#", "# ", "*", "_", "&", "%", "$",
             "~", "^", ":", ": ", "data:text/html,x", "[r]: javascript:alert(1)", "\t", "@", ",", "=", "a", " ",
             "1. ", "- ", "&amp;", "&lt;script&gt;", "%7D", "\u2028", "\x85", "!", "![x](https://other.host/x.png)",
             "](javascript:alert(1))", '" onmouseover="alert(1)', "' onfocus='alert(1)"]


def _paragraphs(c: _Chooser) -> str:
    """Record Markdown (summary, notes) from every fragment, each line starting with text.

    So the value stays within paragraphs: whether record Markdown may hold headings of its own is the
    record-Markdown rule's question (records/markdown.py), and a heading would change the page's sections.
    """
    return "x " + _text(c, FRAGMENTS).replace("\n", "\nx ")


class _Chooser:
    """What a record composer needs: one of a list, a whole number, a coin flip; from hypothesis or a seed."""

    def __init__(self, draw: Any = None, seed: int | None = None) -> None:
        self.draw, self.rng = draw, random.Random(seed)

    def one(self, options: list) -> Any:
        return self.draw(st.sampled_from(options)) if self.draw else self.rng.choice(options)

    def count(self, low: int, high: int) -> int:
        return self.draw(st.integers(low, high)) if self.draw else self.rng.randint(low, high)

    def flip(self) -> bool:
        return self.one([False, True])


def _text(c: _Chooser, fragments: list[str] = FRAGMENTS, least: int = 1) -> str:
    return "".join(c.one(fragments) for _ in range(c.count(least, 6)))


# What the checker lets through in text and in an address: the escaping, not the checker, must defuse these.
TEXT_FRAGMENTS = [f for f in FRAGMENTS if "<" not in f and "javascript:" not in f]
URL_FRAGMENTS = ["(", ")", "'", "[", "]", "*", "_", "!", "#", "&", "&#106;avascript:alert(1)", "%7D", "%3C", ":",
                 "?", "=", ";", ",", "+", "$", "~", "@", "a", "/", "javascript&colon;", "---", "."]
_BENIGN: dict[str, Any] = {
    "title": "A Benign Title", "authors": ["Ada Lovelace"], "venue": "cvpr", "year": 2022, "category": "feature",
    "summary": "一段无害的笔记。", "abbr": "BEN", "tags": ["ok-tag"], "arxiv": "2205.10536", "doi": "10.1234/abc",
    "url": "https://a.example/x", "code": "https://a.example/code", "read": "2024-01-05", "builds_on": ["base2020"],
    "notes": "补充。", "bibtex": "@misc{k,\n  pages = {1--2}\n}\n",
}
_REQUIRED = ("title", "authors", "venue", "year", "category", "summary")


def compose_record(c: _Chooser) -> dict[str, Any]:
    """A record with one to four fields composed from injection fragments, the others benign or absent."""
    def text(least: int = 1) -> str:
        return _text(c, c.one([FRAGMENTS, TEXT_FRAGMENTS]), least)

    hostile = {
        "title": lambda: "T " + text(),
        "authors": lambda: ["Ada " + text(), text()],
        "venue": text,
        "category": text,
        "summary": lambda: _paragraphs(c),
        "abbr": lambda: text()[:40],
        "tags": lambda: [text()],
        "arxiv": lambda: "2205.10536" + text(),
        "doi": lambda: "10.1234/" + c.one([text, lambda: _text(c, URL_FRAGMENTS)])(),
        "url": lambda: "https://a.example/" + c.one([text, lambda: _text(c, URL_FRAGMENTS)])(),
        "code": lambda: "https://a.example/" + c.one([text, lambda: _text(c, URL_FRAGMENTS)])(),
        "read": text,
        "builds_on": lambda: [text()],
        "notes": lambda: _paragraphs(c),
        "bibtex": lambda: "@misc{k,\n  note = {" + text() + "},\n  pages = {" + text() + "}\n}\n" + text(),
    }
    # Fields that reach a page as text or an address come up more often than keys and dates, which the
    # checker's patterns mostly reject.
    fields = [*sorted(hostile), "title", "authors", "abbr", "doi", "url", "code", "bibtex"]
    chosen = {c.one(fields) for _ in range(c.count(1, 3))}
    record: dict[str, Any] = {}
    for name, benign in _BENIGN.items():
        if name in chosen:
            record[name] = hostile[name]()
        elif name in _REQUIRED or c.flip():
            record[name] = benign
    return record


@st.composite
def hostile_records(draw: Any) -> dict[str, Any]:
    return compose_record(_Chooser(draw))


def _yaml(record: dict[str, Any]) -> str:
    return yaml.safe_dump(record, allow_unicode=True, sort_keys=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _project(tmp_path_factory.mktemp("safety"), {})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record=hostile_records())
def test_hostile_record_is_rejected_with_a_location_or_published_inert(project: Path, record: dict) -> None:
    path = project / "papers" / "hostile2022.yaml"
    path.write_text(_yaml(record), encoding="utf-8")
    try:
        kb, problems = load_knowledge_base(project)
        mine = [p for p in problems if p.path == "papers/hostile2022.yaml"]
        assert [p for p in problems if p.path != "papers/hostile2022.yaml"] == []
        if mine:
            assert all(p.line >= 1 and p.col >= 1 and "\n" not in p.text() for p in mine)
            assert "hostile2022" not in kb.papers
        else:
            _assert_published_safely(project, "hostile2022")
    finally:
        path.unlink()


def _generated(seed: int) -> dict[str, Any]:
    """A hostile record from the same composer, reproducibly (for the few real builds)."""
    record = compose_record(_Chooser(seed=seed))
    # Benign values made unique, so that several generated records can share one site.
    unique = {"title": f"A Benign Title {seed}", "arxiv": f"2205.{10000 + seed}", "doi": f"10.1234/abc{seed}"}
    return {k: unique[k] if k in unique and v == _BENIGN[k] else v for k, v in record.items()}


def _accepted_generated(tmp_path: Path, wanted: int = 4) -> dict[str, str]:
    """Generated records that check accepts, each hostile in at least two fields that reach a page."""
    accepted: dict[str, str] = {}
    for seed in range(200):
        if len(accepted) == wanted:
            break
        record = _generated(seed)
        key = f"gen{seed}x2022"
        hostile = sum(1 for name in ("title", "authors", "doi", "url", "code", "abbr", "bibtex")
                      if name in record and any(f in str(record[name]) for f in ("<", "`", "}", "[", "\n", "&")))
        if hostile < 2:
            continue
        # Probed together with those already taken: two records may not share a title, arXiv id or DOI.
        probe = _project(tmp_path / f"probe{seed}", {**accepted, key: _yaml(record)})
        if not load_knowledge_base(probe)[1]:
            accepted[key] = _yaml(record)
        shutil.rmtree(probe)
    assert len(accepted) == wanted, "the composer should produce accepted hostile records"
    return accepted


@pytest.mark.slow
def test_accepted_records_build_strictly_and_inert(tmp_path: Path) -> None:
    """One real strict build: every accepted regression fixture and four accepted generated records."""
    records = {k: v for case in _cases() if not _rejected(case) for k, v in _case_records(case).items()}
    records.update(_accepted_generated(tmp_path))
    root = _project(tmp_path, records)
    assert _check(root) == (0, "")
    result = _build(root)
    assert result.returncode == 0, result.stderr
    site = root / "site"
    findings = {str(p.relative_to(site)): [str(f) for f in active_content(p.read_text(encoding="utf-8"))]
                for p in site.rglob("*.html")}
    assert {p: f for p, f in findings.items() if f} == {}
    kb, _ = load_knowledge_base(root)
    for key in records:
        built = (site / "papers" / key / "index.html").read_text(encoding="utf-8")
        article = built[built.index("<article"):built.index("</article>")]
        assert len(_headings(article, 1)) == 1, key
        assert _headings(article, 2) == _sections(kb.papers[key], kb, mentioned=True), key
    report = (site / "reports" / "2024-01-05" / "index.html").read_text(encoding="utf-8")
    assert len(_headings(report[report.index("<article"):report.index("</article>")], 1)) == 1
    _assert_bib((site / "papers.bib").read_text(encoding="utf-8"), kb)


@pytest.mark.slow
def test_rejected_records_fail_the_strict_build_on_their_lines(tmp_path: Path) -> None:
    """One real strict build with every rejected regression fixture and a rejected generated record:
    it fails, and names every FILE:LINE:COL that check names."""
    records = {k: v for case in _cases() if _rejected(case) for k, v in _case_records(case).items()}
    records["bad2022"] = _yaml({**_generated(0), "url": "https://a.example/)<svg/onload=alert(1)>",
                                "title": "T },note={x}\n---\n"})
    root = _project(tmp_path, records)
    code, out = _check(root)
    assert code == 1
    named = {m[1] for m in map(PROBLEM.match, out.splitlines()) if m}
    assert named == {f"papers/{key}.yaml" for key in records}
    result = _build(root)
    assert result.returncode != 0
    for line in out.splitlines():
        m = PROBLEM.match(line)
        assert m, line
        assert f"{m[1]}:{m[2]}:{m[3]}: error:" in result.stderr
