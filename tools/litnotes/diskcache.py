"""Text made by a slow engine (KaTeX, Graphviz), kept by its input in memory and in one JSON file.

A :class:`TextCache` is what both the KaTeX renders (:mod:`litnotes.math.katex`)
and the lineage drawings (:mod:`litnotes.site.graph`) keep between builds.  The
file's name carries a fingerprint of everything besides the key that shapes
the output (the engine's script, its options), so a new engine starts a new
file instead of serving stale output.  The file is written whole to a
temporary file and renamed, so a parallel build never reads half of it; a file
that cannot be read or parsed, and any entry that is not text, is left out:
a damaged cache costs only the time to make that output again.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

__all__ = ["TextCache"]


class TextCache:
    """``key → text`` in memory, read from ``path`` on first use and written back by :meth:`save`.

    ``path=None`` keeps the cache in memory only.  :meth:`begin_build` starts
    counting which keys a build uses, so that :meth:`save` can drop the rest.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._text: dict[str, str] = {}
        self._used: set[str] = set()
        self._dirty = False
        self._loaded = False

    def begin_build(self) -> None:
        """Forget which keys were used (a process may build more than once: ``mkdocs serve``)."""
        self._used = set()

    def get(self, key: str) -> str | None:
        """The text kept for ``key``, or ``None``; either way ``key`` counts as used by this build."""
        self._load()
        self._used.add(key)
        return self._text.get(key)

    def put(self, key: str, text: str) -> None:
        self._load()
        self._used.add(key)
        if self._text.get(key) != text:
            self._text[key] = text
            self._dirty = True

    def save(self, prune: bool = True) -> bool:
        """Write the file if anything changed; with ``prune``, keep only the keys this build used.

        ``False`` if the file could not be written (a read-only folder, a full disk): that costs the next
        build time, not this one its result, so it is no error.
        """
        if self.path is None:
            return True
        if prune and self._text.keys() - self._used:
            self._text = {k: v for k, v in self._text.items() if k in self._used}
            self._dirty = True
        if not self._dirty:
            return True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.stem}-", suffix=".tmp")
        except OSError:
            return False
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self._text, f, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, self.path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            return False
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._dirty = False
        return True

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self.path is None:
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # missing or damaged: the output is made again
        if isinstance(data, dict):
            self._text.update({k: v for k, v in data.items() if isinstance(v, str)})
