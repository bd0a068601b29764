"""The command line's one error type, shared by every command."""

from __future__ import annotations

from litnotes import LitnotesError

__all__ = ["CommandError"]


class CommandError(LitnotesError):
    """A command cannot do what was asked: printed as one line, ``litnotes COMMAND: error: …`` (or ``where``).

    ``code`` is the exit code: 1 when nothing was done, 2 for a usage error.
    """

    def __init__(self, message: str, code: int = 1, where: str | None = None) -> None:
        super().__init__(message)
        self.code, self.where = code, where
