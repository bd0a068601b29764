"""The preview's folder in memory: made fresh, left-overs of killed servers swept, nothing else touched."""

from __future__ import annotations

import os
import subprocess
import sys

from litnotes.engines import memory_site


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_new_folder_holds_a_copy_of_the_first_build(tmp_path):
    built = tmp_path / "built"
    (built / "papers" / "a").mkdir(parents=True)
    (built / "papers" / "a" / "index.html").write_text("页面", encoding="utf-8")
    base = tmp_path / "shm"
    base.mkdir()
    folder = memory_site.memory_folder(copy_of=built, base=base)
    assert folder is not None and folder.parent == base
    assert folder.name.startswith(f"{memory_site.PREFIX}{os.getpid()}-")
    assert (folder / "papers" / "a" / "index.html").read_text(encoding="utf-8") == "页面"
    memory_site.remove(folder)
    assert not folder.exists()


def test_folders_of_servers_that_are_gone_are_swept_and_nothing_else(tmp_path):
    base = tmp_path / "shm"
    base.mkdir()
    gone = base / f"{memory_site.PREFIX}{_dead_pid()}-abc"
    alive = base / f"{memory_site.PREFIX}{os.getpid()}-def"
    someone_elses = base / "litnotes-preview-notes"
    other = base / "pulse-shm-1"
    for folder in (gone, alive, someone_elses, other):
        folder.mkdir()
    made = memory_site.memory_folder(base=base)
    assert made is not None
    assert not gone.exists()
    assert alive.is_dir() and someone_elses.is_dir() and other.is_dir()


def test_no_folder_where_nothing_can_be_written(tmp_path):
    assert memory_site.memory_folder(base=tmp_path / "missing") is None
    assert not memory_site.in_memory_available(tmp_path / "missing")


def test_remove_touches_only_its_own_folders(tmp_path):
    mine = tmp_path / "notes"
    mine.mkdir()
    memory_site.remove(mine)
    assert mine.is_dir()
