"""Edit-to-page: how long a saved edit takes to reach the page a preview server answers with.

Engine-independent: it starts the preview command the README gives for an engine
(``mkdocs serve`` or ``python -m litnotes.engines.zensical serve``), then for each
edit writes the file as editors do (a temporary file renamed over the target) and
polls the affected page over HTTP every 20 ms until it shows the change:

* ``change``: one record's title gets a new marker → its paper page shows the marker;
* ``add``: a new record (a copy of another with its own id and title) → its page answers 200;
* ``delete``: that record removed → its page answers 404;
* ``page``: a hand-written page gets a new sentence → the page shows it.

The time runs from the rename to the first answer that shows the change, so it
includes noticing the edit, the rebuild and serving; nothing is read from the
server's log.  ``python bench/edit.py SITE_ROOT --engine zensical`` runs it alone.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path

__all__ = ["EDITS", "Preview", "PreviewError"]

EDITS = ("change", "add", "delete", "page")
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


class PreviewError(RuntimeError):
    """The preview server did not start or did not show an edit in time."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write(path: Path, text: str) -> None:
    """As editors save: a whole new file renamed over the old one."""
    tmp = path.with_name(f".{path.name}.bench-tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class Preview:
    """A running preview server of the project at ``root``; :meth:`edit` times one edit until the page shows it."""

    def __init__(self, root: Path, engine: str = "mkdocs", *, timeout: float = 900) -> None:
        self.root, self.engine, self.timeout = Path(root), engine, timeout
        self.samples: dict[str, list[float]] = {kind: [] for kind in EDITS}
        self._log: deque[str] = deque(maxlen=60)
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        if engine == "mkdocs":
            command = [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"]
        elif engine == "zensical":
            command = [sys.executable, "-m", "litnotes.engines.zensical", "serve", "--dev-addr", f"127.0.0.1:{port}"]
        else:
            raise ValueError(f"unknown engine {engine!r}")
        self.proc = subprocess.Popen(command, cwd=self.root, env=ENV, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        threading.Thread(target=self._pump, daemon=True).start()
        self._edits = 0
        self._added: str | None = None
        stale = self.root / "papers"
        for left in stale.glob("*-bench-edit-*.yaml"):  # from a round whose server stopped mid-edit
            left.unlink()
        try:
            self.started = self._until(lambda: self._get("/")[0] == 200, "the home page")
        except BaseException:
            self.stop()
            raise

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._log.append(line.rstrip())

    def _get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, ""
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return 0, ""

    def _until(self, shown, what: str, start: float | None = None) -> float:
        start = time.perf_counter() if start is None else start
        deadline = start + self.timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise PreviewError(f"{self.engine} serve exited:\n" + "\n".join(self._log))
            if shown():
                return time.perf_counter() - start
            time.sleep(0.02)
        raise PreviewError(f"{self.engine} serve: {what} not shown within {self.timeout:.0f} s:\n"
                           + "\n".join(list(self._log)[-25:]))

    def _record(self, pid: str) -> Path:
        return self.root / "papers" / f"{pid}.yaml"

    def edit(self, kind: str, pid: str, settle: float = 1.5) -> float:
        """Make one edit of ``kind`` (see the module's docstring) around record ``pid``; the seconds it took."""
        # As an author edits: a moment after the previous edit showed (its rebuild may still be running;
        # under mkdocs serve a newer edit stops a rebuild that no request waits for).
        time.sleep(settle)
        self._edits += 1
        # Unique across servers of one run: a marker the page already shows would time nothing.
        marker = f"bench-edit-{time.time_ns() // 1000}"
        if kind == "change":
            record = self._record(pid)
            text = re.sub(r'^title: "(.*?)( bench-edit-\d+)?"$', lambda m: f'title: "{m.group(1)} {marker}"',
                          record.read_text(encoding="utf-8"), count=1, flags=re.MULTILINE)
            start = time.perf_counter()
            _write(record, text)
            seconds = self._until(lambda: marker in self._get(f"/papers/{pid}/")[1], f"papers/{pid}/ with {marker}",
                                  start)
        elif kind == "add":
            new = self._added = f"{pid}-{marker}"
            text = re.sub(r'^title: "(.*?)"$', lambda m: f'title: "{m.group(1)} {marker}"',
                          self._record(pid).read_text(encoding="utf-8"), count=1, flags=re.MULTILINE)
            text = re.sub(r'^arxiv: .*\n|^doi: .*\n', "", text, flags=re.MULTILINE)  # ids stay unique
            start = time.perf_counter()
            _write(self._record(new), text)
            seconds = self._until(lambda: marker in self._get(f"/papers/{new}/")[1], f"papers/{new}/", start)
        elif kind == "delete":
            if self._added is None:
                raise PreviewError("delete needs an added record first")
            gone, self._added = self._added, None
            start = time.perf_counter()
            self._record(gone).unlink()
            seconds = self._until(lambda: self._get(f"/papers/{gone}/")[0] == 404, f"papers/{gone}/ gone", start)
        elif kind == "page":
            page = self.root / "docs" / "index.md"
            text = page.read_text(encoding="utf-8").rstrip("\n") + f"\n\n{marker}\n"
            start = time.perf_counter()
            _write(page, text)
            seconds = self._until(lambda: marker in self._get("/")[1], f"the home page with {marker}", start)
        else:
            raise ValueError(f"unknown edit {kind!r}")
        self.samples[kind].append(seconds)
        return seconds

    @property
    def added(self) -> str | None:
        """The id of the record the last ``add`` wrote, until ``delete`` removes it."""
        return self._added

    def forget_added(self) -> None:
        """Remove the record an ``add`` wrote (its page never showed), so the next round starts clean."""
        if self._added is not None:
            self._record(self._added).unlink(missing_ok=True)
            self._added = None

    def stop(self) -> None:
        # Ctrl-C first, as a user stops it: both engines clean up on SIGINT.
        for stop in (lambda: os.killpg(self.proc.pid, signal.SIGINT), lambda: os.killpg(self.proc.pid, signal.SIGTERM),
                     lambda: os.killpg(self.proc.pid, signal.SIGKILL)):
            if self.proc.poll() is not None:
                return
            with contextlib.suppress(ProcessLookupError):
                stop()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="a project folder (mkdocs.yml, papers/, docs/), e.g. a synthetic site")
    parser.add_argument("--engine", choices=("mkdocs", "zensical"), default="zensical")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--paper", help="record id to edit (default: the middle one)")
    args = parser.parse_args(argv)
    ids = sorted(p.stem for p in (args.root / "papers").glob("*.yaml") if not p.name.startswith("_"))
    pid = args.paper or ids[len(ids) // 2]
    preview = Preview(args.root, args.engine)
    print(f"{args.engine} serve: first page after {preview.started:.2f} s", flush=True)
    try:
        for _ in range(args.rounds):
            for kind in EDITS:
                print(f"  {kind}: {preview.edit(kind, pid):.2f} s", flush=True)
    finally:
        preview.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
