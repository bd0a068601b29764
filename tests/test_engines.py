r"""One repository, two engines: MkDocs (the litnotes plugins) and Zensical (litnotes.engines.zensical).

Both build this repository into temporary folders; the two sites must have the
same pages, and every page the same headings, paragraphs, list items and table
cells in its article (so the same paper titles and report summaries) and the
same number of KaTeX formulas, with no raw ``$``, ``\eqref`` or ``:::`` left.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from markdown import Markdown

pytest.importorskip("zensical")

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "site"
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
ZENSICAL = [sys.executable, "-m", "litnotes.engines.zensical"]

pytestmark = pytest.mark.slow


class _Article(HTMLParser):
    """What a reader sees in a page's article: its text blocks, its KaTeX formulas, its visible text."""

    _HIDDEN = frozenset({"script", "style", "code", "pre", "annotation", "svg"})
    _BLOCKS = frozenset({"h1", "h2", "h3", "h4", "p", "li", "td", "th", "summary"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []
        self.katex = 0
        self.graphs = 0  # lineage graphs (drawn when Graphviz from npm is installed)
        self.text: list[str] = []
        self._open: list[tuple[str, bool]] = []
        self._hidden = 0
        self._article = False
        self._block: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "article":
            self._article = True
        hidden = tag in self._HIDDEN or "headerlink" in classes  # the ¶ permalink
        self._hidden += hidden
        self._open.append((tag, hidden))
        if tag == "span" and "katex" in classes:
            self.katex += 1
        if tag == "svg" and "litnotes-graph-svg" in classes:
            self.graphs += 1
        if self._article and tag in self._BLOCKS and self._block is None:
            self._block = (tag, [])

    def handle_endtag(self, tag):
        while self._open:
            name, hidden = self._open.pop()
            self._hidden -= hidden
            if name == tag:
                break
        if tag == "article":
            self._article = False
        if self._block is not None and tag == self._block[0]:
            text = " ".join("".join(self._block[1]).split())
            if text:
                self.blocks.append((tag, text))
            self._block = None

    def handle_data(self, data):
        if self._hidden:
            return
        if self._article:
            self.text.append(data)
        if self._block is not None:
            self._block[1].append(data)


def _read(site: Path) -> dict[str, _Article]:
    pages = {}
    for path in sorted(site.rglob("*.html")):
        parser = _Article()
        parser.feed(path.read_text(encoding="utf-8"))
        pages[path.relative_to(site).as_posix()] = parser
    return pages


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> tuple[dict[str, _Article], dict[str, _Article]]:
    tmp = tmp_path_factory.mktemp("engines")
    mkdocs = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                             "-d", str(tmp / "mkdocs")], capture_output=True, text=True, env=ENV, timeout=600)
    assert mkdocs.returncode == 0, mkdocs.stderr
    zensical = subprocess.run([*ZENSICAL, "build", "--root", str(ROOT), "--build-dir", str(tmp / "build"),
                               "--site-dir", str(tmp / "zensical")], capture_output=True, text=True, timeout=600)
    assert zensical.returncode == 0, zensical.stdout + zensical.stderr
    html = (tmp / "zensical" / "index.html").read_text(encoding="utf-8")
    assert 'content="zensical-' in html  # really Zensical's output, not a copy of MkDocs'
    return _read(tmp / "mkdocs"), _read(tmp / "zensical")


RECORDS = sorted(p.stem for p in (ROOT / "papers").glob("[!_]*.yaml"))


def test_same_pages(sites):
    mkdocs, zensical = sites
    assert sorted(zensical) == sorted(mkdocs)
    assert [r for r in RECORDS if f"papers/{r}/index.html" not in mkdocs] == []


def test_same_paper_titles(sites):
    mkdocs, zensical = sites
    for record in RECORDS:
        path = f"papers/{record}/index.html"
        assert mkdocs[path].blocks[0][0] == "h1"
        assert zensical[path].blocks[:1] == mkdocs[path].blocks[:1], path


def test_same_report_summaries(sites):
    mkdocs, zensical = sites
    reports = [p for p in mkdocs if p.startswith("reports/2")]
    assert reports
    for path in reports:
        assert zensical[path].blocks == mkdocs[path].blocks, path
    # The records' summaries really are there (from `::: paper`), not just the same headings.
    summary = yaml.safe_load((ROOT / "papers" / "dist2022.yaml").read_text(encoding="utf-8"))["summary"]
    first = summary.split("。")[0][:20]
    assert any(first in text for path in reports for _, text in zensical[path].blocks)


def test_same_text_on_every_page(sites):
    mkdocs, zensical = sites
    different = [p for p in mkdocs if zensical[p].blocks != mkdocs[p].blocks]
    assert different == []


def test_same_formulas_per_page(sites):
    mkdocs, zensical = sites
    counts = {p: (mkdocs[p].katex, zensical[p].katex) for p in mkdocs if mkdocs[p].katex or zensical[p].katex}
    assert {p: c for p, c in counts.items() if c[0] != c[1]} == {}
    assert sum(c[0] for c in counts.values()) > 100 and "math/kl/index.html" in counts


def test_same_lineage_graphs_per_page(sites):
    mkdocs, zensical = sites
    assert {p: zensical[p].graphs for p in mkdocs} == {p: mkdocs[p].graphs for p in mkdocs}


@pytest.mark.parametrize("engine", [0, 1], ids=["mkdocs", "zensical"])
@pytest.mark.parametrize("raw", ["$", "\\eqref", "\\ref{", ":::"])
def test_nothing_left_raw(sites, engine, raw):
    pages = sites[engine]
    left = [p for p, page in pages.items() if raw in "".join(page.text)]
    assert left == []


def test_cross_page_reference_links_to_the_other_page(sites):
    # \eqref{jensen-finite} on the KL page points to the Jensen page in both sites.
    for pages in sites:
        text = " ".join(t for _, t in pages["math/kl/index.html"].blocks)
        assert "(??)" not in text and "(1)" in text


def _copy_fixture(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    return project


def test_zensical_build_stops_on_a_problem_with_file_and_line(tmp_path):
    project = _copy_fixture(tmp_path)
    report = project / "docs" / "reports" / "2024-01-05.md"
    report.write_text(report.read_text(encoding="utf-8") + "\n::: paper nosuch2024\n", encoding="utf-8")
    line = report.read_text(encoding="utf-8").splitlines().index("::: paper nosuch2024") + 1
    result = subprocess.run([*ZENSICAL, "build", "--root", str(project)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1
    assert f"docs/reports/2024-01-05.md:{line}:1: error: unknown paper 'nosuch2024'" in result.stderr
    assert not (project / "site").exists()


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_zensical_build_writes_the_site_it_built_and_only_that(tmp_path):
    project = _copy_fixture(tmp_path)

    def build(site_dir: str) -> subprocess.CompletedProcess:
        return subprocess.run([*ZENSICAL, "build", "--root", str(project), "--site-dir", site_dir],
                              capture_output=True, text=True, timeout=300)

    assert build("site").returncode == 0
    built = project / ".cache" / "zensical" / "site"
    assert _tree(project / "site") == _tree(built)
    # The next build brings back a changed page and removes what the site does not have.
    (project / "site" / "index.html").write_text("changed by hand", encoding="utf-8")
    (project / "site" / "old" / "page").mkdir(parents=True)
    (project / "site" / "old" / "page" / "index.html").write_text("a page removed since", encoding="utf-8")
    assert build("site").returncode == 0
    assert _tree(project / "site") == _tree(built)
    assert not (project / "site" / "old").exists()
    # A site folder that is the project itself (or holds it) is refused, and nothing is removed.
    before = sorted(p.name for p in project.iterdir())
    refused = build(".")
    assert refused.returncode == 2 and "--site-dir . would replace the project" in refused.stderr
    assert sorted(p.name for p in project.iterdir()) == before


def test_math_extension_links_labels_of_other_pages(tmp_path):
    from litnotes.engines.zensical import prepare

    project = _copy_fixture(tmp_path)
    (project / "docs" / "math").mkdir()
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    (project / "mkdocs.yml").write_text(
        "site_name: t\nplugins: [litnotes, litnotes-math]\n"
        "markdown_extensions: [admonition, {pymdownx.arithmatex: {generic: true}}]\n", encoding="utf-8")
    (project / "docs" / "math" / "a.md").write_text("# A\n\n$$\nx^2 \\label{sq}\n$$\n", encoding="utf-8")
    (project / "docs" / "math" / "b.md").write_text("# B\n\nSee \\eqref{sq} and \\ref{nope}.\n", encoding="utf-8")
    prepared = prepare(project, out=tmp_path / "build")
    assert [p.text() for p in prepared.problems] == [
        "docs/math/b.md:3:20: error: \\ref{nope}: no \\label{nope} on any page"]
    labels = json.loads((tmp_path / "build" / "labels.json").read_text(encoding="utf-8"))
    assert labels["sq"]["page"] == "math/a.md" and labels["sq"]["target"]["number"] == 1
    options = {"katex_dist": str(ROOT / "node_modules/katex/dist"), "labels": str(tmp_path / "build" / "labels.json"),
               "page_path": "math/b.md"}
    md = Markdown(extensions=["pymdownx.arithmatex", "litnotes.engines.mdx"],
                  extension_configs={"pymdownx.arithmatex": {"generic": True}, "litnotes.engines.mdx": options})
    html = md.convert("See \\eqref{sq}.")
    assert '<a class="math-ref" href="a.md#eq-sq" title="A · 式 (1)">(1)</a>' in html


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read().decode("utf-8")
    except OSError:
        return ""


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def _parent_pid(stat: Path) -> int | None:
    try:  # /proc/PID/stat: "pid (name) state ppid ...", the name may hold spaces
        return int(stat.read_text().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_zensical_serve_shows_a_record_edit(tmp_path):
    project = _copy_fixture(tmp_path)
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([*ZENSICAL, "serve", "--root", str(project), "--dev-addr", f"127.0.0.1:{port}"],
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        report = f"http://127.0.0.1:{port}/reports/2024-01-05/"
        # The first answer waits for a whole prepare and build: generous, for a loaded CI machine.
        deadline = time.monotonic() + 120
        while ("<article" not in (html := _get(report)) and time.monotonic() < deadline
               and server.poll() is None):
            time.sleep(0.3)
        assert "<article" in html, "zensical serve did not answer:\n" + log.read_text(errors="replace")[-3000:]
        answered = time.monotonic()
        record = next(p for p in (project / "papers").glob("[!_]*.yaml")
                      if "read: 2024-01-05" in (t := p.read_text(encoding="utf-8")) and "summary: |\n" in t)
        text = record.read_text(encoding="utf-8")
        marker = "编辑后的摘要标记"
        tmp = record.with_name(".edit.tmp")
        tmp.write_text(text.replace("summary: |\n", f"summary: |\n  {marker}\n", 1), encoding="utf-8")
        os.replace(tmp, record)  # as editors save
        deadline = time.monotonic() + 60
        while marker not in _get(report) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert marker in _get(report), "the report page did not show the edited summary"
        assert marker in _get(f"http://127.0.0.1:{port}/papers/{record.stem}/")
        # A deleted record's page goes.
        other = next(p for p in sorted((project / "papers").glob("[!_]*.yaml")) if p != record)
        page = f"http://127.0.0.1:{port}/papers/{other.stem}/"
        assert _status(page) == 200
        other.unlink()
        deadline = time.monotonic() + 60
        while _status(page) != 404 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _status(page) == 404, "the deleted record's page is still served"
        # zensical serve 0.0.73 sometimes stops on a deleted page: the preview starts it again.
        from litnotes.engines.zensical import RESTART_AFTER
        time.sleep(max(0.0, answered + RESTART_AFTER + 0.5 - time.monotonic()))
        children = [p.parent.name for p in Path("/proc").glob("[0-9]*/stat")
                    if _parent_pid(p) == server.pid]
        assert len(children) == 1, f"expected one zensical serve under the preview, found {children}"
        os.kill(int(children[0]), 9)
        deadline = time.monotonic() + 120
        while Path(f"/proc/{children[0]}/cmdline").exists() and time.monotonic() < deadline:
            time.sleep(0.1)  # the killed one no longer answers
        while "<article" not in (html := _get(report)) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert server.poll() is None, "the preview ended with zensical serve:\n" + log.read_text(errors="replace")[-3000:]
        assert "<article" in html, "zensical serve was not started again:\n" + log.read_text(errors="replace")[-3000:]
        assert _status(page) == 404, "after the restart the deleted record's page is served again"
        assert "starting it again" in log.read_text(errors="replace")
    finally:
        os.killpg(server.pid, 2)  # Ctrl-C: the watcher stops and zensical serve with it
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait()


def _agree_cases():
    # The fixture folders that test_check_build_agree turns into sites (good and bad records and pages).
    from test_check_build_agree import CASES

    return CASES


@pytest.mark.parametrize("case", _agree_cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_zensical_reports_what_check_reports(case: Path, tmp_path) -> None:
    """The Zensical build stops on exactly the problems `litnotes check` prints, in the same words."""
    from litnotes.engines.zensical import prepare
    from litnotes.problems import format_problems
    from test_check_build_agree import _check, _site

    root = _site(case, tmp_path / "site")
    prepared = prepare(root, out=tmp_path / "build")
    code, out = _check(root)
    assert format_problems(prepared.problems).splitlines() == out.splitlines()
    assert (prepared.problems == []) == (case.parent.name == "good") == (code == 0)
