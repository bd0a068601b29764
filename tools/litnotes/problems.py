"""A problem found in a user's file, the formats it is reported in, and what the exit status means.

Every command reports through :func:`format_problems` (records, pages and
links alike: ``PATH:LINE:COL: LEVEL: MESSAGE``) and exits with one of the
``EXIT_*`` codes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

__all__ = ["EXIT_CLEAN", "EXIT_INCOMPLETE", "EXIT_PROBLEMS", "EXIT_USAGE", "FORMATS", "Problem", "format_problems"]

EXIT_CLEAN = 0
"""Nothing to report."""
EXIT_PROBLEMS = 1
"""At least one problem at level ``error``."""
EXIT_USAGE = 2
"""The command line was wrong (argparse's own code) or there is nothing to work on (no records folder)."""
EXIT_INCOMPLETE = 3
"""The run stopped before it was done (``litnotes links --max-time``); what it found is reported."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem, located by 1-based line and column (0 when unknown)."""

    path: str
    line: int
    col: int
    message: str
    rule: str = "error"
    level: str = "error"

    def text(self) -> str:
        # One problem, one line: a value quoted in a message may hold a newline.
        message = self.message.replace("\r", "\\r").replace("\n", "\\n")
        return f"{self.path}:{self.line}:{self.col}: {self.level}: {message}"

    def github(self) -> str:
        # Workflow commands need '%', CR and LF escaped in the message.
        msg = self.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::{self.level} file={self.path},line={self.line},col={self.col},title={self.rule}::{msg}"


FORMATS = ("text", "json", "github")


def format_problems(problems: Iterable[Problem], fmt: str = "text") -> str:
    """Render problems, sorted by path and line, in one of :data:`FORMATS`."""
    ordered = sorted(problems)
    if fmt == "json":
        return json.dumps([asdict(p) for p in ordered], ensure_ascii=False, indent=2)
    if fmt == "github":
        return "\n".join(p.github() for p in ordered)
    return "\n".join(p.text() for p in ordered)
