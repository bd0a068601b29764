"""Character classes that the records' Markdown and the pages' Markdown judge alike."""

from __future__ import annotations

import unicodedata

__all__ = ["is_wide"]


def is_wide(char: str) -> bool:
    """Whether ``char`` is a wide East Asian character (Han, kana, full-width punctuation), Hangul excepted."""
    if unicodedata.east_asian_width(char) not in ("W", "F", "H"):
        return False
    return not ("\uac00" <= char <= "\ud7a3" or "\u1100" <= char <= "\u11ff" or "\u3130" <= char <= "\u318f")
