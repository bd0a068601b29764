"""Native file-system events for ``mkdocs serve``, instead of MkDocs's polling.

MkDocs's live-reload server polls every watched file every 0.5 s.  With a
thousand records that is about 1,300 ``stat`` calls twice a second, in a
thread that competes with the rebuild for the GIL, and an edit waits up to
0.5 s before it is noticed.  :func:`use_native_events` gives the server a
:class:`NativeObserver` instead: the platform's native events (inotify,
FSEvents, ReadDirectoryChangesW, through watchdog) cost nothing while nothing
changes.  Only changes count (created, deleted, modified, moved): native
observers also report files being opened and closed, and the build itself
opens every watched file.  When the native observer cannot start (for
example at inotify's watch limit), the paths are polled as MkDocs does and
the reason is logged.

The plugin installs it unless ``watcher: polling`` is configured (network or
container mounts, where native events from other machines do not arrive);
then the same observer polls.

A watched folder that is deleted and created again (``git checkout`` of
another branch, a sync tool replacing ``papers/``) is a new folder: the watch
on the old one is gone with it.  The observer also watches each watched
folder's parent, without recursion, and when the folder appears again it
watches the new one and reports a change, so edits keep reaching the preview.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from watchdog import events
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

__all__ = ["CHANGES", "NativeObserver", "use_native_events"]

log = logging.getLogger("mkdocs.plugins.litnotes")

CHANGES = [
    events.FileCreatedEvent, events.FileDeletedEvent, events.FileModifiedEvent, events.FileMovedEvent,
    events.DirCreatedEvent, events.DirDeletedEvent, events.DirModifiedEvent, events.DirMovedEvent,
]
"""The events that mean a file changed (MkDocs itself then ignores the folder events)."""

_FOLDER_CHANGES = [events.DirCreatedEvent, events.DirDeletedEvent, events.DirModifiedEvent, events.DirMovedEvent]


class NativeObserver:
    """The part of a watchdog observer that MkDocs's ``LiveReloadServer`` uses.

    ``schedule``/``unschedule`` before or after ``start``, then ``stop`` and ``join``.
    A watched folder that is replaced is watched again (see the module docstring).
    """

    def __init__(self, interval: float = 0.5, native: Callable[[], BaseObserver] = Observer) -> None:
        self._interval = interval
        self._observer = native()
        self._handlers: dict[ObservedWatch, events.FileSystemEventHandler] = {}
        self._guards: dict[str, tuple[ObservedWatch, _Rearm]] = {}  # parent folder -> its watch
        self._lock = threading.RLock()
        self.fallback: str | None = None
        """Why the native observer could not start, if it could not; then the paths are polled."""

    def schedule(self, handler: events.FileSystemEventHandler, path: str, *, recursive: bool = False) -> ObservedWatch:
        with self._lock:
            watch = self._observer.schedule(handler, path, recursive=recursive, event_filter=CHANGES)
            self._handlers[watch] = handler
            if os.path.isdir(path):
                self._guard(os.path.dirname(os.path.abspath(path)))
            return watch

    def unschedule(self, watch: ObservedWatch) -> None:
        with self._lock:
            del self._handlers[watch]
            self._observer.unschedule(watch)

    def start(self) -> None:
        try:
            self._observer.start()
        except OSError as exc:
            self.fallback = str(exc) or type(exc).__name__
            self._observer.stop()
            self._observer = PollingObserver(timeout=self._interval)
            for watch, handler in self._handlers.items():
                self._observer.schedule(handler, watch.raw_path, recursive=watch.is_recursive, event_filter=CHANGES)
            for parent, (_, guard) in list(self._guards.items()):
                self._guards[parent] = (self._observer.schedule(guard, parent, recursive=False,
                                                            event_filter=_FOLDER_CHANGES), guard)
            log.warning(f"litnotes: native file-system events are not available ({self.fallback}); "
                        "mkdocs serve polls the files instead")
            self._observer.start()

    def stop(self) -> None:
        self._observer.stop()

    def join(self, timeout: float | None = None) -> None:
        if self._observer.is_alive():
            self._observer.join(timeout)

    def _guard(self, parent: str) -> None:
        if parent not in self._guards and os.path.isdir(parent):
            guard = _Rearm(self)
            self._guards[parent] = (self._observer.schedule(guard, parent, recursive=False,
                                                            event_filter=_FOLDER_CHANGES), guard)

    def rearm(self, path: str, *, created: bool) -> None:
        """Watch ``path`` again if it is a new folder (``created``) or its watch has died; report a change."""
        path = os.path.abspath(path)
        with self._lock:
            for watch, handler in list(self._handlers.items()):
                if os.path.abspath(watch.raw_path) != path or not os.path.isdir(path):
                    continue
                alive = any(e.watch == watch and e.is_alive() for e in self._observer.emitters)
                if alive and not created:
                    continue
                self._observer.unschedule(watch)
                self._observer.schedule(handler, watch.raw_path, recursive=watch.is_recursive, event_filter=CHANGES)
                log.info(f"litnotes: {watch.raw_path!r} was replaced; watching the new folder")
                # Files written into the new folder before it was watched raised no event of their own.
                handler.dispatch(events.FileModifiedEvent(path))


class _Rearm(events.FileSystemEventHandler):
    """On a watched folder's parent: notices the folder being created or moved into place again."""

    def __init__(self, owner: NativeObserver) -> None:
        self._owner = owner

    def on_any_event(self, event: events.FileSystemEvent) -> None:
        if not event.is_directory:
            return
        created = event.event_type in (events.EVENT_TYPE_CREATED, events.EVENT_TYPE_MOVED)
        dest = os.fsdecode(getattr(event, "dest_path", "") or "")
        if dest:
            self._owner.rearm(dest, created=True)
        self._owner.rearm(os.fsdecode(event.src_path), created=created and not dest)


def use_native_events(server: Any, native: Callable[[], BaseObserver] = Observer, *,
                      polling: bool = False) -> str | None:
    """Move a not yet started MkDocs live-reload server onto a :class:`NativeObserver`.

    Returns why the server polls, or None.  With ``polling`` (or without native
    events on this platform) the observer polls like MkDocs's own, and still
    watches a replaced folder again.  The paths already watched (the docs
    folder, ``mkdocs.yml``, ``papers/``) move to the new observer; paths watched
    later go to it directly.
    """
    watched = getattr(server, "_watched_paths", None)
    current = getattr(server, "observer", None)
    if not isinstance(watched, dict) or not isinstance(current, PollingObserver) or current.is_alive():
        return "this MkDocs server does not use the polling observer this was written for"
    reason = "polling is configured (watcher: polling)" if polling else \
        "watchdog has no native file-system events on this platform" if native is PollingObserver else None
    timeout = current.timeout
    counts = dict(watched)
    for path, count in counts.items():
        for _ in range(count):
            server.unwatch(path)
    server.observer = NativeObserver(timeout, (lambda: PollingObserver(timeout=timeout)) if reason else native)
    for path, count in counts.items():
        for _ in range(count):
            server.watch(path)
    return reason
