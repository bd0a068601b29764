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
container mounts, where native events from other machines do not arrive).
"""

from __future__ import annotations

import logging
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


class NativeObserver:
    """The part of a watchdog observer that MkDocs's ``LiveReloadServer`` uses.

    ``schedule``/``unschedule`` before or after ``start``, then ``stop`` and ``join``.
    """

    def __init__(self, interval: float = 0.5, native: Callable[[], BaseObserver] = Observer) -> None:
        self._interval = interval
        self._observer = native()
        self._handlers: dict[ObservedWatch, events.FileSystemEventHandler] = {}
        self.fallback: str | None = None
        """Why the native observer could not start, if it could not; then the paths are polled."""

    def schedule(self, handler: events.FileSystemEventHandler, path: str, *, recursive: bool = False) -> ObservedWatch:
        watch = self._observer.schedule(handler, path, recursive=recursive, event_filter=CHANGES)
        self._handlers[watch] = handler
        return watch

    def unschedule(self, watch: ObservedWatch) -> None:
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
            log.warning(f"litnotes: native file-system events are not available ({self.fallback}); "
                        "mkdocs serve polls the files instead")
            self._observer.start()

    def stop(self) -> None:
        self._observer.stop()

    def join(self, timeout: float | None = None) -> None:
        if self._observer.is_alive():
            self._observer.join(timeout)


def use_native_events(server: Any, native: Callable[[], BaseObserver] = Observer) -> str | None:
    """Move a not yet started MkDocs live-reload server onto a :class:`NativeObserver`.

    Returns why the server keeps polling, or None.  The paths already watched
    (the docs folder, ``mkdocs.yml``, ``papers/``) move to the new observer;
    paths watched later go to it directly.
    """
    watched = getattr(server, "_watched_paths", None)
    current = getattr(server, "observer", None)
    if not isinstance(watched, dict) or not isinstance(current, PollingObserver) or current.is_alive():
        return "this MkDocs server does not use the polling observer this was written for"
    if native is PollingObserver:
        return "watchdog has no native file-system events on this platform"
    counts = dict(watched)
    for path, count in counts.items():
        for _ in range(count):
            server.unwatch(path)
    server.observer = NativeObserver(current.timeout, native)
    for path, count in counts.items():
        for _ in range(count):
            server.watch(path)
    return None
