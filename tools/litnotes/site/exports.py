"""Machine-readable exports of the whole knowledge base: BibTeX and JSON."""

from __future__ import annotations

import json
import re

import bibtexparser
from bibtexparser import model
from bibtexparser.middlewares.parsestack import default_unparse_stack

from litnotes.records.model import KnowledgeBase, Paper

__all__ = ["bibtex_entry", "papers_bib", "papers_json"]

_LATEX_SPECIAL = re.compile(r"([&%$#_])")


def _latex(text: str) -> str:
    return _LATEX_SPECIAL.sub(r"\\\1", text)


def bibtex_entry(paper: Paper, kb: KnowledgeBase) -> model.Entry:
    """A BibTeX entry built from the record's fields, keyed by the paper's id."""
    venue = kb.venues.get(paper.venue)
    kind = venue.kind if venue else "conference"
    fields = [
        # Double braces keep the title's capitalisation in every BibTeX style.
        model.Field("title", "{" + _latex(paper.title) + "}"),
        model.Field("author", " and ".join(_latex(a) for a in paper.authors)),
        model.Field("year", str(paper.year)),
    ]
    venue_name = _latex(venue.name) if venue else paper.venue
    if kind == "journal":
        entry_type = "article"
        fields.append(model.Field("journal", venue_name))
    elif kind == "preprint":
        entry_type = "misc"
    else:
        entry_type = "inproceedings"
        fields.append(model.Field("booktitle", venue_name))
    if paper.arxiv:
        fields += [model.Field("eprint", paper.arxiv), model.Field("archiveprefix", "arXiv")]
    if paper.doi:
        fields.append(model.Field("doi", paper.doi))
    if paper.url:
        fields.append(model.Field("url", paper.url))
    return model.Entry(entry_type, paper.id, fields)


def papers_bib(kb: KnowledgeBase) -> str:
    """Every record as one BibTeX entry, keyed by its id, sorted by id."""
    library = bibtexparser.Library([bibtex_entry(kb.papers[k], kb) for k in sorted(kb.papers)])
    # The entries are built here for this call: the writer may change them in place
    # (its default deep-copies every entry first, half of this function's time).
    return bibtexparser.write_string(library, unparse_stack=default_unparse_stack(allow_inplace_modification=True))


def papers_json(kb: KnowledgeBase) -> str:
    """Every record, with the categories and venues, as JSON."""
    data = {
        "papers": [kb.papers[k].record() for k in sorted(kb.papers)],
        "categories": {k: {"title": c.title, "description": c.description} for k, c in kb.categories.items()},
        "venues": {k: {"name": v.name, "short": v.short, "kind": v.kind} for k, v in kb.venues.items()},
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
