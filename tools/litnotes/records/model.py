"""The knowledge base as plain, immutable values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

__all__ = ["Category", "KnowledgeBase", "Paper", "Venue", "arxiv_url", "doi_url"]


def doi_url(doi: str) -> str:
    """The resolver URL of a bare DOI; characters a URL cannot carry are percent-encoded."""
    return "https://doi.org/" + quote(doi, safe="/:;()[]._-~!$&'*+,=@")


def arxiv_url(arxiv_id: str) -> str:
    """The abstract page of an arXiv identifier."""
    return f"https://arxiv.org/abs/{arxiv_id}"


@dataclass(frozen=True)
class Category:
    id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class Venue:
    id: str
    name: str
    short: str
    kind: str


@dataclass(frozen=True)
class Paper:
    """A validated record; ``path`` is the YAML file relative to the repository root."""

    id: str
    path: str
    title: str
    authors: tuple[str, ...]
    venue: str
    year: int
    category: str
    summary: str
    abbr: str | None = None
    tags: tuple[str, ...] = ()
    arxiv: str | None = None
    doi: str | None = None
    url: str | None = None
    code: str | None = None
    read: str | None = None
    status: str | None = None
    builds_on: tuple[str, ...] = ()
    notes: str | None = None
    bibtex: str | None = None

    @property
    def label(self) -> str:
        """The short name readers know the paper by."""
        return self.abbr or self.title

    @property
    def reading_status(self) -> str:
        """``to-read``, ``reading`` or ``read``: the ``status`` field, else ``read``.

        A record without ``status`` is a paper that was read (its notes are the record),
        whether or not a ``read:`` date names its weekly report.
        """
        return self.status or "read"

    def record(self) -> dict[str, Any]:
        """The record's fields as they appear in the YAML file (absent ones left out)."""
        out: dict[str, Any] = {"id": self.id}
        for name in _RECORD_FIELDS:
            value = getattr(self, name)
            if value in (None, ()):
                continue
            out[name] = list(value) if isinstance(value, tuple) else value
        return out


_RECORD_FIELDS = ("title", "abbr", "authors", "venue", "year", "category", "tags", "arxiv", "doi",
                  "url", "code", "read", "status", "builds_on", "summary", "notes", "bibtex")


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything the site is made of, gathered before anything is rendered."""

    papers: dict[str, Paper]
    categories: dict[str, Category]
    venues: dict[str, Venue]
    reports: tuple[str, ...] = ()  # ISO dates of docs/reports/<date>.md, oldest first
    built_on_by: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def sorted_papers(self) -> list[Paper]:
        """Newest first, then by title."""
        return sorted(self.papers.values(), key=lambda p: (-p.year, p.title.lower()))
