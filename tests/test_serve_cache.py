"""`mkdocs serve` reuses unchanged pages' work, and still serves exactly the site a full build makes.

A driver process rebuilds a copy of the fixture site the way ``mkdocs serve``
does (one process, the configuration reloaded before each rebuild, the plugin
instances kept: ``mkdocs.commands.serve``'s builder), through a sequence of edits:
a record changed, added, deleted and renamed, a category changed, a hand-written
page edited, a link and an anchor broken.  After each step the served site is
compared byte for byte with the first build of a fresh server process over the
same files, which has nothing cached.  (Both are serve builds: the preview's
problem panel and draft pages are part of what must match.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "site"

# Builds like mkdocs.commands.serve: the config is reloaded for each rebuild, plugins that
# define on_startup keep their instance.  With "serve" as its third argument it also makes the
# server (not serving) and lets the plugins hook it, as `mkdocs serve` does after its first build,
# and rebuilds through the server's builder (litnotes renders edited pages quickly before each).
# Commands on stdin: "build" (prints the cache's counts, the folder served and the quick pages)
# until end of input.
_DRIVER = r"""
import json, logging, sys
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.livereload import LiveReloadServer

config_file, site_dir = sys.argv[1:3]
serving = sys.argv[3:] == ["serve"]
url = "http://127.0.0.1:8000/"
logging.getLogger("mkdocs").addHandler(logging.StreamHandler(sys.stderr))
logging.getLogger("mkdocs").setLevel(logging.INFO)

def get_config():
    config = load_config(config_file=config_file, site_dir=site_dir)
    config.site_url = url
    return config

def builder(config=None):
    build(config or get_config(), serve_url=url)

config = get_config()
config.plugins.on_startup(command="serve", dirty=False)
plugin = config.plugins["litnotes"]
server, shown = None, {}
for line in sys.stdin:
    shown.clear()
    if server is None:
        builder(config)
        if serving:
            server = LiveReloadServer(builder=builder, host="127.0.0.1", port=0, root=site_dir)
            config.plugins.on_serve(server, config=config, builder=builder)
            quick = plugin._early.quick
            def record(pages, gone):
                shown.update({dest: data.decode("utf-8") for dest, data in pages.items()})
                shown.update({dest: None for dest in gone})
                return quick(pages, gone)
            plugin._early.quick = record
    else:
        server.builder() if server else builder()
    cache = plugin._cache
    print(json.dumps({"hits": cache.hits, "misses": cache.misses, "search_hits": cache.search_hits,
                      "html_hits": cache.html_hits, "html_misses": cache.html_misses,
                      "root": server.root if server else site_dir, "quick": shown,
                      "differed": plugin._early.differed if server else []}), flush=True)
if server is not None:
    config.plugins.on_shutdown()
"""

_MATH_PAGE = r"""# 推导

$$
a^2 + b^2 = c^2 \label{pyth}
$$

由式 \eqref{pyth} 可得 $c > a$；见[该式](#eq-pyth)与[特征论文](papers/feat2022.md)。
"""

# What legitimately differs between two builds of the same files: nothing, so far.  (MkDocs
# injects the live-reload script when it serves a page, not into the files; sitemap.xml.gz is
# stamped with the pages' build date, equal within a day.)
_IGNORED: set[str] = set()


def _site(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.relative_to(folder).as_posix() not in _IGNORED}


class _Server:
    def __init__(self, project: Path, site_dir: Path, *, serving: bool = False) -> None:
        self.project, self.site_dir = project, site_dir
        env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
        self.proc = subprocess.Popen([sys.executable, "-c", _DRIVER, str(project / "mkdocs.yml"), str(site_dir)]
                                     + (["serve"] if serving else []),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=env, cwd=project)

    def rebuild(self) -> dict:
        import json
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write("build\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"the serve driver stopped (exit {self.proc.wait()})"
        return json.loads(line)

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _fresh_build(project: Path, site_dir: Path) -> dict[str, bytes]:
    shutil.rmtree(site_dir, ignore_errors=True)
    server = _Server(project, site_dir)
    try:
        server.rebuild()
    finally:
        server.stop()
    return _site(site_dir)


def _assert_same(served: dict[str, bytes], fresh: dict[str, bytes], step: str) -> None:
    assert served.keys() == fresh.keys(), (
        f"{step}: files only served {sorted(served.keys() - fresh.keys())}, "
        f"only built {sorted(fresh.keys() - served.keys())}")
    differ = [path for path in served if served[path] != fresh[path]]
    assert not differ, f"{step}: the served site differs from a full build in {differ}"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} has no {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def project(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    (project / "docs" / "math.md").write_text(_MATH_PAGE, encoding="utf-8")
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    text = text.replace("  - litnotes\n", "  - litnotes\n  - litnotes-math:\n"
                        f"      katex_dist: {ROOT / 'node_modules' / 'katex' / 'dist'}\n")
    text = text.replace("  - md_in_html\n", "  - md_in_html\n  - pymdownx.arithmatex:\n      generic: true\n")
    # No title in the nav: the page's heading is its title in every page's navigation.
    text = text.replace("  - 周报: reports/index.md\n", "  - 周报: reports/index.md\n  - math.md\n")
    config.write_text(text, encoding="utf-8")
    return project


def _override(project: Path, footer: str) -> None:
    """Give the site a template override (the first call also names the folder in mkdocs.yml)."""
    overrides = project / "overrides"
    overrides.mkdir(exist_ok=True)
    (overrides / "main.html").write_text(
        '{% extends "base.html" %}\n{% block footer %}' + footer + "{{ super() }}{% endblock %}\n", encoding="utf-8")
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    if "custom_dir" not in text:
        config.write_text(text.replace("  name: material\n", "  name: material\n  custom_dir: overrides\n"),
                          encoding="utf-8")


def _steps(project: Path):
    """(name, edit) pairs, applied in order; each leaves a site that a fresh server can build."""
    papers, docs = project / "papers", project / "docs"

    def add() -> None:
        text = (papers / "feat2022.yaml").read_text(encoding="utf-8")
        (papers / "extra2023.yaml").write_text(text.replace("Feature Maps Considered Helpful", "Extra Features")
                                               .replace("year: 2022", "year: 2023"), encoding="utf-8")

    yield "nothing changed", lambda: None
    def retitle() -> None:
        # As some editors save: the old text kept beside as a backup, which the build does not read.
        shutil.copy(papers / "base2020.yaml", papers / "base2020.yaml~")
        _edit(papers / "base2020.yaml", "A Base Method", "A Better Method")

    yield "a record's title changed", retitle
    def add_2022() -> None:
        text = (papers / "feat2022.yaml").read_text(encoding="utf-8")
        (papers / "extra2022.yaml").write_text(text.replace("Feature Maps Considered Helpful", "More Features"),
                                               encoding="utf-8")

    yield "a hand-written page edited early", lambda: _edit(docs / "index.md", "# 测试首页", "# 测试首页\n\n早先的一段。")
    yield "a page in the navigation retitled", lambda: _edit(docs / "math.md", "# 推导", "# 推导过程")
    yield "a record added", add  # in a year the site had no page for: not shown quickly
    yield "a record deleted", lambda: (papers / "extra2023.yaml").unlink()
    yield "a record added to a year", add_2022
    yield "that record deleted", lambda: (papers / "extra2022.yaml").unlink()
    # math.md links to papers/feat2022.md: its Markdown is unchanged, its link now leads nowhere.
    yield "a record renamed", lambda: (papers / "feat2022.yaml").rename(papers / "feature2022.yaml")
    yield "a category changed", lambda: _edit(papers / "_categories.yaml", "title: 特征蒸馏", "title: 特征图蒸馏")
    yield "a hand-written page edited", lambda: _edit(docs / "index.md", "# 测试首页", "# 测试首页\n\n新的一段。")
    yield "a link broken", lambda: _edit(docs / "index.md", "新的一段。", "新的一段，[坏链接](papers/nope.md)。")
    yield "a navigation title changed", lambda: _edit(docs / "math.md", "# 推导", "# 推导笔记")
    yield "an anchor broken", lambda: _edit(docs / "math.md", "(#eq-pyth)", "(#eq-nope)")
    yield "the anchor fixed", lambda: _edit(docs / "math.md", "(#eq-nope)", "(#eq-pyth)")
    # The theme's compiled templates are kept between rebuilds: a changed template must show.
    yield "a theme template overridden", lambda: _override(project, "<p>第一版页脚</p>")
    yield "the override edited", lambda: _override(project, "<p>第二版页脚</p>")
    yield "a record broken", lambda: _edit(papers / "base2020.yaml", "year: 2020", "year: twenty")


# The steps whose pages are shown before the rebuild (only records and hand-written pages
# changed, nothing else can change shape or break, and no problem): the page of each changed
# record or page, or its removal.
_QUICK = {
    "a record's title changed": {"papers/base2020/index.html"},
    "a record added to a year": {"papers/extra2022/index.html"},
    "that record deleted": {"papers/extra2022/index.html"},
    "a hand-written page edited early": {"index.html"},
    "a page in the navigation retitled": {"math/index.html"},
    # From the rename on, math.md and a report name the old id: every rebuild has problems,
    # and their panel goes on every page at its end.
}


@pytest.mark.slow
def test_serve_rebuilds_are_the_pages_a_full_build_makes(project, tmp_path):
    server = _Server(project, tmp_path / "served", serving=True)
    try:
        stats = server.rebuild()
        assert stats["hits"] == 0
        for step, edit in _steps(project):
            edit()
            stats = server.rebuild()
            served = _site(Path(stats["root"]))
            _assert_same(served, _fresh_build(project, tmp_path / "fresh"), step)
            # A page shown before the rebuild is the page the rebuild made (and a removed one is gone).
            assert set(stats["quick"]) == _QUICK.get(step, set()), f"{step}: shown quickly: {sorted(stats['quick'])}"
            for dest, html in stats["quick"].items():
                if html is None:
                    assert dest not in served, f"{step}: {dest} was shown removed but the rebuild made it"
                else:
                    assert html.encode("utf-8") == served[dest], f"{step}: {dest} shown quickly differs"
            assert stats["differed"] == [], step
            # The cache is in use (otherwise this test compares two full builds): most pages are reused,
            # except after mkdocs.yml or a template changed, which makes every page anew.
            if not step.startswith(("a theme template", "the override")):
                assert stats["hits"] > stats["misses"], f"{step}: {stats}"
                assert stats["search_hits"] > 0, f"{step}: {stats}"
            if step == "nothing changed":
                assert stats["misses"] == 0, stats
                assert stats["html_misses"] == 0 and stats["html_hits"] > 0, stats
            if step.startswith(("a theme template", "the override")):
                footer = "第一版页脚" if step.startswith("a theme") else "第二版页脚"
                assert footer in served["index.html"].decode(), f"{step}: the page lacks the override's text"
            if step == "a link broken":
                assert "papers/nope.md" in served["index.html"].decode(), "the problem panel names the broken link"
    finally:
        server.stop()
