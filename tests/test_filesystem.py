"""Records are regular files inside the repository: anything else named ``*.yaml`` is one clear problem.

A symlink loop, a symlink out of the repository, a folder and a FIFO each get
``FILE:1:1: error: ...`` and exit 1 from ``litnotes check``: never a traceback,
never a hang (a FIFO is not opened), never the content of a file outside the
repository in the site.  The build reports the same problems and keeps going
without ``--strict``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "site"
LITNOTES = str(Path(sys.executable).with_name("litnotes"))
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX symlinks and FIFOs")

SECRET = "SECRET-OUTSIDE-THE-REPOSITORY"


def _make(kind: str, path: Path, outside: Path) -> None:
    if kind == "loop":
        path.symlink_to(path.name)
    elif kind == "outside":
        path.symlink_to(outside)
    elif kind == "dangling":
        path.symlink_to("nowhere.yaml")
    elif kind == "folder":
        path.mkdir()
        (path / "inside.yaml").write_text("title: x\n", encoding="utf-8")
    elif kind == "fifo":
        os.mkfifo(path)
    else:  # pragma: no cover
        raise ValueError(kind)


EXPECTED = {
    "loop": "this is a symlink loop (following it leads back to itself); replace it with a regular file, or delete it",
    "outside": "this symlink resolves to {outside}, outside the repository ({root}); files outside the repository "
               "are neither read nor published: copy the file into the repository",
    "dangling": "this symlink points at 'nowhere.yaml', which does not exist; replace it with a regular file, "
                "or delete it",
    "folder": "this is a folder, not a regular file; litnotes reads only regular YAML files here: replace it with "
              "one, or move it out of this folder",
    "fifo": "this is a FIFO (named pipe), not a regular file; litnotes reads only regular YAML files here: replace "
            "it with one, or move it out of this folder",
}


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURE, root)
    outside = tmp_path / "outside.yaml"
    good = (root / "papers" / "base2020.yaml").read_text(encoding="utf-8")
    # A valid record: only where it lives is wrong, so only that can be reported.
    outside.write_text(good.replace("title: ", f"title: {SECRET} ", 1).replace("arxiv:", "#"), encoding="utf-8")
    return root, outside


def _check(root: Path, *args: str) -> subprocess.CompletedProcess:
    # A timeout, not a hang: reading a FIFO would block here for ever.
    return subprocess.run([LITNOTES, "check", *args], cwd=root, capture_output=True, text=True, timeout=60,
                          env=ENV, check=False)


@pytest.mark.parametrize("name", ["x2020.yaml", "_venues.yaml", "_categories.yaml"])
@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_check_names_the_file_and_what_it_is(project, kind, name):
    root, outside = project
    target = root / "papers" / name
    if target.exists():
        target.unlink()
    _make(kind, target, outside)
    run = _check(root)
    assert "Traceback" not in run.stderr, run.stderr
    message = EXPECTED[kind].format(outside=os.path.realpath(outside), root=os.path.realpath(root))
    assert run.stdout.splitlines() == [f"papers/{name}:1:1: error: {message}"], run.stdout
    assert run.returncode == 1


def test_a_symlink_inside_the_repository_is_read(project):
    root, _ = project
    (root / "papers" / "copy2020.yaml").symlink_to("base2020.yaml")
    run = _check(root)
    # Read like any record: the same paper twice is a duplicate, not a file-system problem.
    assert "papers/copy2020.yaml:1:8: error: title is the same as in papers/base2020.yaml" in run.stdout
    assert "symlink" not in run.stdout


def test_a_fifo_is_never_opened(project):
    root, _ = project
    fifo = root / "papers" / "pipe2020.yaml"
    os.mkfifo(fifo)
    # A writer blocks in open() until a reader opens the FIFO: if check opened it, the writer would get through.
    writer = subprocess.Popen([sys.executable, "-c", f"open({str(fifo)!r}, 'w').write('x')"])
    try:
        run = _check(root)
        assert "pipe2020.yaml:1:1: error: this is a FIFO" in run.stdout
        with pytest.raises(subprocess.TimeoutExpired):
            writer.wait(timeout=0.5)
    finally:
        writer.kill()
        writer.wait()


@pytest.mark.slow
def test_build_reports_them_strict_fails_and_nothing_outside_is_published(project, tmp_path):
    root, outside = project
    for kind, name in (("loop", "l2020.yaml"), ("outside", "o2020.yaml"), ("folder", "d2020.yaml"),
                       ("fifo", "f2020.yaml"), ("dangling", "n2020.yaml")):
        _make(kind, root / "papers" / name, outside)
    config = str(root / "mkdocs.yml")
    lenient = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-f", config, "-d", str(tmp_path / "a")],
                             capture_output=True, text=True, env=ENV, timeout=300, check=False)
    assert lenient.returncode == 0, lenient.stderr
    assert "Traceback" not in lenient.stderr
    for name in ("l2020", "o2020", "d2020", "f2020", "n2020"):
        assert f"papers/{name}.yaml:1:1: error: " in lenient.stderr
        assert not (tmp_path / "a" / "papers" / name).exists()
    assert (tmp_path / "a" / "papers" / "base2020" / "index.html").is_file()
    published = "".join(p.read_text(encoding="utf-8", errors="replace") for p in (tmp_path / "a").rglob("*")
                        if p.is_file() and p.suffix in (".html", ".json", ".bib", ".xml"))
    assert SECRET not in published

    strict = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", config,
                             "-d", str(tmp_path / "b")], capture_output=True, text=True, env=ENV, timeout=300,
                            check=False)
    assert strict.returncode == 1
    said = strict.stdout + strict.stderr
    assert "Aborted with" in said and "warnings in strict mode!" in said, said
    assert "Traceback" not in said
