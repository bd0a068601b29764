"""The observer `mkdocs serve` uses: native events for changes, never for reads, polling as a fallback."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time

import pytest
from litnotes.engines.watch import NativeObserver, use_native_events
from mkdocs.livereload import LiveReloadServer
from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver


class Changes(FileSystemEventHandler):
    """Collects the paths of the file events it is given."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self._cond = threading.Condition()

    def on_any_event(self, event) -> None:
        if not event.is_directory:
            with self._cond:
                self.paths.append(os.fsdecode(getattr(event, "dest_path", "") or event.src_path))
                self._cond.notify_all()

    def saw(self, path, timeout: float = 10) -> bool:
        """Wait until an event names ``path`` (events of earlier steps may still arrive meanwhile)."""
        with self._cond:
            return self._cond.wait_for(lambda: str(path) in self.paths, timeout)

    def clear(self) -> None:
        with self._cond:
            self.paths.clear()

    def any(self, timeout: float) -> list[str]:
        """Every path seen within ``timeout``."""
        time.sleep(timeout)
        with self._cond:
            return list(self.paths)


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers" / "a.yaml").write_text("id: a\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n", encoding="utf-8")
    return tmp_path


def _start(observer: NativeObserver, tree, handler: Changes) -> None:
    observer.schedule(handler, str(tree / "papers"), recursive=True)
    observer.schedule(handler, str(tree / "mkdocs.yml"), recursive=True)
    observer.start()
    time.sleep(0.3)


@pytest.mark.skipif(Observer is PollingObserver, reason="no native file-system events on this platform")
def test_changes_are_seen_and_reads_are_not(tree):
    observer, changes = NativeObserver(), Changes()
    _start(observer, tree, changes)
    try:
        for path in (tree / "papers" / "a.yaml", tree / "mkdocs.yml"):
            path.read_text(encoding="utf-8")
        assert not changes.any(1), f"reading files counted as a change: {changes.paths}"

        (tree / "papers" / "a.yaml").write_text("id: a\ntitle: T\n", encoding="utf-8")
        assert changes.saw(tree / "papers" / "a.yaml"), "an edit of a record was not seen"

        (tree / "papers" / "sub").mkdir()
        (tree / "papers" / "sub" / "b.yaml").write_text("id: b\n", encoding="utf-8")
        assert changes.saw(tree / "papers" / "sub" / "b.yaml"), "a record in a new sub-folder was not seen"

        # An editor that saves by renaming a new file over mkdocs.yml, twice.
        for text in ("site_name: y\n", "site_name: z\n"):
            changes.clear()
            (tree / "new.tmp").write_text(text, encoding="utf-8")
            (tree / "new.tmp").replace(tree / "mkdocs.yml")
            assert changes.saw(tree / "mkdocs.yml"), "replacing mkdocs.yml was not seen"
    finally:
        observer.stop()
        observer.join(5)
    assert observer.fallback is None


class _Failing(Observer):
    def start(self) -> None:
        raise OSError(28, "inotify watch limit reached")


def test_polls_when_native_events_cannot_start(tree, caplog):
    observer, changes = NativeObserver(interval=0.05, native=_Failing), Changes()
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.litnotes"):
        _start(observer, tree, changes)
    try:
        assert observer.fallback and "watch limit" in observer.fallback
        assert "polls the files instead" in caplog.text
        (tree / "papers" / "a.yaml").write_text("id: a\ntitle: T\n", encoding="utf-8")
        assert changes.saw(tree / "papers" / "a.yaml"), "after the fallback, an edit of a record was not seen"
    finally:
        observer.stop()
        observer.join(5)


def test_a_mkdocs_server_moves_its_watches_to_the_native_observer(tree):
    server = LiveReloadServer(builder=lambda: None, host="127.0.0.1", port=0, root=str(tree))
    server.watch(str(tree / "papers"))
    server.watch(str(tree / "mkdocs.yml"))
    server.watch(str(tree / "papers"))  # watched twice, unwatched twice below
    try:
        assert use_native_events(server) is None
        assert isinstance(server.observer, NativeObserver)
        server.watch(str(tree / "docs"))  # watched after the switch: goes to the new observer
        for path in ("papers", "papers", "mkdocs.yml", "docs"):
            server.unwatch(str(tree / path))
        assert use_native_events(server) is not None, "a server already switched is left alone"
    finally:
        server.server_close()


def _polling() -> PollingObserver:
    return PollingObserver(timeout=0.1)


@pytest.mark.parametrize("native", [Observer, _polling], ids=["native", "polling"])
@pytest.mark.parametrize("how", ["deleted-and-created", "moved-into-place"])
def test_a_replaced_folder_is_watched_again(tree, native, how):
    """git checkout and sync tools replace papers/: edits in the new folder must still be seen."""
    observer, changes = NativeObserver(interval=0.1, native=native), Changes()
    _start(observer, tree, changes)
    papers = tree / "papers"
    try:
        for round_ in range(2):  # and again: the new watch is re-armed too
            if how == "deleted-and-created":
                shutil.rmtree(papers)
                time.sleep(0.3)  # long enough for the old watch to notice that its folder is gone
                papers.mkdir()
            else:
                staging = tree / "papers.new"
                staging.mkdir()
                (staging / "a.yaml").write_text("id: a\n", encoding="utf-8")
                papers.rename(tree / f"papers.old{round_}")
                staging.rename(papers)
            # The replacement itself counts as a change: files may have arrived before the new watch.
            assert changes.saw(papers), f"replacing the folder raised no change: {changes.paths}"
            time.sleep(0.3)
            changes.clear()
            (papers / f"edit{round_}.yaml").write_text("id: b\n", encoding="utf-8")
            edited = papers / f"edit{round_}.yaml"
            assert changes.saw(edited), f"an edit in the new folder was not seen: {changes.paths}"
            if how == "moved-into-place":
                changes.clear()
                (tree / f"papers.old{round_}" / "a.yaml").write_text("id: old\n", encoding="utf-8")
                assert not [p for p in changes.any(0.5) if "papers.old" in p], "the moved-away folder is still watched"
    finally:
        observer.stop()
        observer.join(5)
