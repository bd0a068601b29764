"""Where ``mkdocs serve`` writes the preview: a folder in memory when the machine has one.

MkDocs empties its build folder and writes every page again on each rebuild: at a
thousand papers that is about 1,350 folders and files.  ``mkdocs serve`` puts that
folder under the system's temporary folder, which is often an ordinary disk; on this
project's machine (ext4) creating and writing them took about 1.5 s of a 5 s rebuild,
and under 0.1 s in RAM (tmpfs).  Linux mounts a tmpfs at ``/dev/shm``; when it is there
and writable, the preview is built and served from a folder in it instead.

The folder belongs to the server that made it (its process id is in its name): it is
removed when the server stops, also when it is stopped with SIGTERM (as service managers,
test runners and ``kill`` do; MkDocs itself cleans up only after Ctrl-C), and a folder left
by a server that was killed outright is removed by the next one that starts.  Nothing
else in ``/dev/shm`` is touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import tempfile
from pathlib import Path

__all__ = ["PREFIX", "in_memory_available", "memory_folder", "remove", "stop_cleanly_on_sigterm"]

PREFIX = "litnotes-preview-"
_OURS = re.compile(re.escape(PREFIX) + r"(\d+)-")
_SHM = Path("/dev/shm")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _is_tmpfs(path: Path) -> bool:
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(len(f) > 2 and f[1] == str(path) and f[2] == "tmpfs" for f in map(str.split, mounts.splitlines()))


def in_memory_available(base: Path = _SHM) -> bool:
    """Whether ``base`` is a folder this process may write in, and (for ``/dev/shm``) a tmpfs."""
    return base.is_dir() and os.access(base, os.W_OK | os.X_OK) and (base != _SHM or _is_tmpfs(base))


def memory_folder(copy_of: Path | None = None, base: Path = _SHM) -> Path | None:
    """A new folder in memory (with ``copy_of``'s files, if given), or None where there is no tmpfs to use."""
    if not in_memory_available(base):
        return None
    with contextlib.suppress(OSError):
        for left in base.iterdir():  # left by a server that was killed
            m = _OURS.match(left.name)
            if m and left.is_dir() and not _alive(int(m.group(1))):
                shutil.rmtree(left, ignore_errors=True)
    try:
        folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base))
        if copy_of is not None:
            shutil.copytree(copy_of, folder, dirs_exist_ok=True)
    except OSError:
        return None
    return folder


def remove(folder: Path | None) -> None:
    """Remove a folder :func:`memory_folder` made."""
    if folder is not None and _OURS.match(folder.name):
        shutil.rmtree(folder, ignore_errors=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def stop_cleanly_on_sigterm() -> None:
    """Let SIGTERM stop ``mkdocs serve`` as Ctrl-C does, so its clean-up runs (main thread, default handler only)."""
    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _interrupt)
