"""The preview's incremental preparation gives exactly what a fresh one gives.

``zensical serve`` (the preview for large knowledge bases) prepares the build
folder again in one long-lived process after every edit, reusing what earlier
passes computed (parsed records, page headers, table rows, citations, each page's
math pass; see litnotes.engines.zensical).  After each edit of a sequence, the
folder prepared that way must be byte-identical to one prepared by a new process
from a copy of the project with no cache at all: the same pages, the same
labels, the same problems.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("zensical")

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("papers", "docs", "overrides"):
        shutil.copytree(ROOT / name, project / name)
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    return project


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted((folder / "docs").rglob("*"))
            if p.is_file()} | {"labels.json": (folder / "labels.json").read_bytes()}


def _fresh(project: Path, where: Path) -> tuple[dict[str, bytes], list[str]]:
    """Prepare a copy of the project (no .cache: nothing computed before) in a new process."""
    shutil.copytree(project, where, symlinks=True, ignore=shutil.ignore_patterns(".cache"))
    result = subprocess.run([sys.executable, "-m", "litnotes.engines.zensical", "prepare", "--root", str(where)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    problems = [line for line in result.stderr.splitlines() if re.match(r"\S+:\d+:\d+: ", line)]
    return _tree(where / ".cache" / "zensical"), problems


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _sub(path: Path, pattern: str, repl: str) -> None:
    text = path.read_text(encoding="utf-8")
    new, count = re.subn(pattern, repl, text, count=1, flags=re.MULTILINE)
    assert count == 1, f"{pattern!r} not in {path}"
    _write(path, new)


EDITS = [
    ("change a record's title",
     lambda p: _sub(p / "papers/dist2022.yaml", r"^title: .*$", "title: Knowledge Distillation from A Much Stronger Teacher")),
    ("add a record",
     lambda p: _write(p / "papers/newkd2024.yaml", re.sub(
         r"^(arxiv|doi|url|code|read): .*\n", "", (p / "papers/takd2020.yaml").read_text(encoding="utf-8")
         .replace("title: ", "title: A New Take on ", 1).replace("abbr: TAKD", "abbr: NEWKD"),
         flags=re.MULTILINE))),
    ("delete that record", lambda p: (p / "papers/newkd2024.yaml").unlink()),
    ("rename a record", lambda p: os.replace(p / "papers/kcd2022.yaml", p / "papers/kcd2022b.yaml")),
    ("change a category", lambda p: _sub(p / "papers/_categories.yaml", r"(title: )师生差距", r"\g<1>师生能力差距")),
    ("edit a math page", lambda p: _sub(p / "docs/math/jensen.md", r"^# (.*)$", r"# \1（修订）")),
    ("break a record", lambda p: _sub(p / "papers/dgkd2021.yaml", r"^year: .*$", "year: twenty")),
]


def test_incremental_prepare_equals_a_fresh_one(tmp_path):
    from litnotes.engines.zensical import prepare

    project = _project(tmp_path)
    prepare(project)  # the preview's first preparation; every later one reuses what it can
    for step, (what, edit) in enumerate(EDITS):
        edit(project)
        prepared = prepare(project)
        incremental = _tree(project / ".cache" / "zensical")
        fresh, fresh_problems = _fresh(project, tmp_path / f"fresh-{step}")
        assert sorted(incremental) == sorted(fresh), f"after '{what}': different files"
        different = [name for name in fresh if incremental[name] != fresh[name]]
        assert not different, f"after '{what}': different content in {different[:5]}"
        assert [p.text() for p in prepared.problems] == fresh_problems, f"after '{what}': different problems"
    # The sequence did reach the pages (a test of nothing would pass the comparisons above too).
    docs = project / ".cache" / "zensical" / "docs"
    assert "A Much Stronger Teacher" in (docs / "papers/dist2022.md").read_text(encoding="utf-8")
    assert not (docs / "papers/newkd2024.md").exists() and (docs / "papers/kcd2022b.md").exists()
    assert "师生能力差距" in (docs / "papers/index.md").read_text(encoding="utf-8")
    assert any("dgkd2021.yaml" in p.path for p in prepared.problems)
