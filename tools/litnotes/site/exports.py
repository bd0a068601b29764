"""Machine-readable exports of the whole knowledge base: BibTeX and JSON.

A paper has one citation: :func:`citation` writes it, the paper's page shows it
and ``papers.bib`` is every citation, so the two are byte-identical.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from litnotes.records.model import KnowledgeBase, Paper, Venue
from litnotes.site.escape import bibtex_latex, bibtex_text, bibtex_verbatim

__all__ = ["citation", "papers_bib", "papers_json"]

# Fields the record decides from its own fields; the same names in its ``bibtex`` field are ignored.
_OWN = frozenset({"title", "author", "year", "booktitle", "journal", "howpublished"})
# Fields the record's own value wins for, taken from its ``bibtex`` field when the record has none.
_IDENTIFIERS = ("eprint", "archiveprefix", "doi", "url")
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_-]*")


def citation(paper: Paper, kb: KnowledgeBase) -> str:
    """The paper's BibTeX entry, keyed by its id, with every field the record knows.

    Title, authors, venue and year come from the record's fields; pages, volume,
    number, publisher and any other field from its ``bibtex`` field; arXiv id,
    DOI and URL from the record's fields, else from its ``bibtex`` field.  Every
    value is escaped for its BibTeX context, so none can add or close a field.
    """
    venue = kb.venues.get(paper.venue)
    # The entry depends on the record and its venue only (both immutable): a preview that
    # prepares the site again after every edit computes it once per record version.
    return _citation(paper, venue)


@lru_cache(maxsize=16384)
def _citation(paper: Paper, venue: Venue | None) -> str:
    kind = venue.kind if venue else "conference"
    venue_name = bibtex_text(venue.name if venue else paper.venue)
    fields: list[tuple[str, str]] = [
        # Double braces keep the title's capitalisation in every BibTeX style.
        ("title", "{" + bibtex_text(paper.title) + "}"),
        ("author", " and ".join(_author(a) for a in paper.authors)),
        ("year", str(paper.year)),
    ]
    if kind == "journal":
        entry_type = "article"
        fields.append(("journal", venue_name))
    elif kind == "preprint":
        entry_type = "misc"
    else:
        entry_type = "inproceedings"
        fields.append(("booktitle", venue_name))
    pasted = _pasted_fields(paper.bibtex)
    fields += [(k, bibtex_latex(v)) for k, v in pasted.items() if k not in _OWN and k not in _IDENTIFIERS]
    own = {"eprint": paper.arxiv, "archiveprefix": "arXiv" if paper.arxiv else None, "doi": paper.doi,
           "url": paper.url}
    for name in _IDENTIFIERS:
        value = own[name] if own["eprint" if name == "archiveprefix" else name] else pasted.get(name)
        if value:
            fields.append((name, bibtex_verbatim(value)))
    # Two spaces, not a tab: Markdown turns a tab in a code block into spaces, and the page must show these bytes.
    body = "".join(f",\n  {name} = {{{value}}}" for name, value in fields)
    return f"@{entry_type}{{{paper.id}{body}\n}}\n"


def _author(name: str) -> str:
    text = bibtex_text(name)
    # A name that contains the word 'and' would read as two authors.
    return "{" + text + "}" if re.search(r"\sand\s", text, re.I) else text


@lru_cache(maxsize=4096)
def _pasted_fields(bibtex: str | None) -> dict[str, str]:
    """The fields of the first entry of a record's ``bibtex`` field, names lowercased (first of a name wins)."""
    if not bibtex:
        return {}
    import bibtexparser

    library = bibtexparser.parse_string(bibtex)
    if not library.entries:
        return {}
    out: dict[str, str] = {}
    for field in library.entries[0].fields:
        name = str(field.key).lower()
        if _FIELD_NAME.fullmatch(name) and isinstance(field.value, str) and field.value.strip():
            out.setdefault(name, field.value)
    return out


def papers_bib(kb: KnowledgeBase) -> str:
    """Every record's :func:`citation`, sorted by id, separated by blank lines."""
    return "\n".join(citation(kb.papers[k], kb) for k in sorted(kb.papers))


def papers_json(kb: KnowledgeBase) -> str:
    """Every record, with the categories and venues, as JSON."""
    data = {
        "papers": [kb.papers[k].record() for k in sorted(kb.papers)],
        "categories": {k: {"title": c.title, "description": c.description} for k, c in kb.categories.items()},
        "venues": {k: {"name": v.name, "short": v.short, "kind": v.kind} for k, v in kb.venues.items()},
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
