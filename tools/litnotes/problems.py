"""A problem found in a user's file, and the formats it is reported in."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Iterable

__all__ = ["Problem", "format_problems", "FORMATS"]


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
