"""`litnotes check` and `mkdocs build --strict` give the same verdict on every fixture folder.

Every folder under tests/fixtures/check/good and bad (found by themselves, as
in test_check.py) becomes a small site in a temporary folder: the fixture's
records and pages, the _base taxonomy and report where it has none, and a
mkdocs.yml with the litnotes and litnotes-math plugins and the site's Markdown
extensions.  check exits 0 exactly when the strict build succeeds.  The builds
run two at a time in subprocesses (a few seconds each); AGREE_ONLY=text limits
them to the folders whose name contains the text.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from litnotes.cli import main

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "check"
BASE = FIXTURES / "_base"
KATEX = REPO / "node_modules" / "katex" / "dist"
CASES = sorted(p for kind in ("good", "bad") for p in (FIXTURES / kind).iterdir() if p.is_dir())
ONLY = os.environ.get("AGREE_ONLY")
CASES = [c for c in CASES if not ONLY or ONLY in c.name]
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}

CONFIG = """\
site_name: 测试知识库
site_url: https://example.invalid/kb/
theme:
  name: mkdocs
plugins:
  - litnotes
  - litnotes-math:
      katex_dist: {katex}
      disk_cache: false
validation:
  omitted_files: warn
  absolute_links: warn
  unrecognized_links: warn
  anchors: warn
markdown_extensions:
  - abbr
  - admonition
  - attr_list
  - def_list
  - footnotes
  - md_in_html
  - tables
  - toc:
      permalink: true
      slugify: !!python/object/apply:pymdownx.slugs.slugify {{kwds: {{case: lower}}}}
  - pymdownx.details
  - pymdownx.arithmatex:
      generic: true
  - pymdownx.superfences
"""


def _site(case: Path, root: Path) -> Path:
    shutil.copytree(case, root, ignore=shutil.ignore_patterns("expected.txt"))
    for name in ("_categories.yaml", "_venues.yaml"):
        if not (root / "papers" / name).exists():
            shutil.copy(BASE / "papers" / name, root / "papers" / name)
    if not (root / "docs").exists():
        shutil.copytree(BASE / "docs", root / "docs")
    (root / "mkdocs.yml").write_text(CONFIG.format(katex=KATEX), encoding="utf-8")
    return root


def _build(root: Path) -> subprocess.CompletedProcess:
    # --strict without -q: quiet mode drops the warnings that strict mode counts.
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(root / "mkdocs.yml"),
                           "-d", str(root / "site")], capture_output=True, text=True, env=ENV, timeout=300,
                          check=False)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, subprocess.CompletedProcess]]:
    if not (KATEX / "katex.min.js").is_file():
        pytest.skip("KaTeX is not installed (make setup)")
    base = tmp_path_factory.mktemp("agree")
    roots = {f"{case.parent.name}/{case.name}": _site(case, base / case.parent.name / case.name) for case in CASES}
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(roots, pool.map(_build, roots.values()), strict=True))
    return {name: (roots[name], results[name]) for name in roots}


def _check(root: Path) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["--root", str(root), "check"])
    return code, out.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_check_and_strict_build_agree(case: Path, builds) -> None:
    root, build = builds[f"{case.parent.name}/{case.name}"]
    code, out = _check(root)
    assert "Traceback" not in build.stderr, build.stderr
    built = build.returncode == 0
    assert code == (0 if built else 1), (
        f"check exited {code} but the strict build {'succeeded' if built else 'failed'}:\n"
        f"check:\n{out}\nbuild:\n{build.stderr[-3000:]}")
    # The fixture folder says which side it is on.
    assert built == (case.parent.name == "good"), build.stderr[-3000:]
