"""A prebuilt search index for litnotes' own search worker (``assets/litnotes/search-worker.js``).

Material's search worker builds a lunr index in the reader's browser from every
section of every page; at a thousand papers that takes seconds before the first
result.  This module turns the same sections (the entries Material's search
plugin produces, with jieba's U+200B word breaks in Chinese) into an inverted
index at build time, so that the browser only parses JSON and looks terms up.

Tokens are made as Material's worker makes them: the text between HTML tags,
split at the search separator (``[\\s\\u200b…]+`` with ``lang: zh``), lowercased.

The file is JSON::

    {"version": 1,
     "config": {...},          # Material's search config: lang, separator, pipeline, fields
     "docs": [[location, title, text, boost, tagset], ...],   # tagset: index into "tagsets" or -1
     "tagsets": [[tag, ...], ...],
     "terms": [term, ...],     # sorted by UTF-16 code units, as JavaScript compares strings
     "postings": [[gap, gap, -code, ...], ...]}

A term's postings list its documents in increasing order as gaps from the
previous one (the first from -1).  After a gap, a negative number is the
posting's code negated: how often the term occurs in each field, ``text | title
<< 4 | tags << 8`` (each capped at 15).  The code is left out when it is 1 (once
in the text), by far the most common posting.  Texts are stored without the
U+200B word breaks; titles keep them (the worker suggests words from titles).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "FIELDS",
    "INDEX_PATH",
    "MAX_COUNT",
    "SearchIndexError",
    "build_index",
    "cached_index_json",
    "decode_postings",
    "documents",
    "dumps",
    "stub",
    "tokenize",
]

#: Where the index is written, relative to the site.
INDEX_PATH = "search/litnotes-index.json"
#: The fields that postings count, in the order of their bits in a code.
FIELDS = ("text", "title", "tags")
#: Occurrences of a term in one field above this count as this many (BM25 saturates long before).
MAX_COUNT = 15

_TAG = r"<[^>]*>"
_BREAK = "\u200b"


class SearchIndexError(ValueError):
    """The search plugin's configuration or entries cannot be indexed (the message says why)."""


def _splitter(separator: str) -> re.Pattern[str]:
    try:
        return re.compile(f"(?:{_TAG}|{separator})+")
    except re.error as exc:
        raise SearchIndexError(f"the search separator {separator!r} is not a regular expression: {exc}") from None


def tokenize(value: str, separator: str | re.Pattern[str]) -> list[str]:
    """The lowercased tokens of ``value`` (HTML): its text between tags, split at ``separator``."""
    splitter = separator if isinstance(separator, re.Pattern) else _splitter(separator)
    return [t for t in splitter.split(value.lower()) if t]


def _utf16(term: str) -> bytes:
    return term.encode("utf-16-be")


def _fields(config: Mapping[str, Any]) -> None:
    fields = config.get("fields") or {}
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise SearchIndexError(f"search fields {unknown} are not indexed by litnotes' search worker; "
                               f"expected only {list(FIELDS)}")


def build_index(entries: Iterable[Mapping[str, Any]], config: Mapping[str, Any]) -> dict[str, Any]:
    """The index of Material's search entries (``location``, ``title``, ``text``, optional ``tags``, ``boost``).

    ``config`` is the search plugin's (``lang``, ``separator``, ``pipeline``,
    ``fields``); it is kept in the index for the worker and the page highlighter.
    """
    _fields(config)
    separator = config.get("separator")
    if not isinstance(separator, str) or not separator:
        raise SearchIndexError(f"the search config has no separator (received {separator!r})")
    splitter = _splitter(separator)
    docs: list[list[Any]] = []
    tagsets: dict[tuple[str, ...], int] = {}
    postings: dict[str, list[int]] = {}
    last: dict[str, int] = {}
    # One pass, documents in order: each posting is appended as the gap from the term's last one.
    # (About 300,000 postings at a thousand papers: the loop below is the index's whole cost.)
    for number, entry in enumerate(entries):
        title, text = str(entry.get("title", "")), str(entry.get("text", ""))
        tags = tuple(str(t) for t in entry.get("tags") or ())
        boost = entry.get("boost", 1)
        if not isinstance(boost, (int, float)) or isinstance(boost, bool):
            raise SearchIndexError(f"{entry.get('location')!r}: search boost {boost!r} is not a number")
        tagset = tagsets.setdefault(tags, len(tagsets)) if tags else -1
        # Titles keep the word breaks (invisible, a few bytes): the worker completes a typed word from them.
        docs.append([str(entry.get("location", "")), title, text.replace(_BREAK, ""), boost, tagset])
        codes = {term: min(n, MAX_COUNT) for term, n in Counter(splitter.split(text.lower())).items()}
        for shift, values in ((4, (title,)), (8, tags)):
            for term, n in Counter(t for value in values for t in splitter.split(value.lower())).items():
                codes[term] = codes.get(term, 0) | min(n, MAX_COUNT) << shift
        codes.pop("", None)
        for term, code in codes.items():
            out = postings.get(term)
            if out is None:
                postings[term] = out = [number + 1]
            else:
                out.append(number - last[term])
            last[term] = number
            if code != 1:
                out.append(-code)
    terms = sorted(postings, key=_utf16)
    return {"version": 1, "config": _browser_config(config), "docs": docs, "tagsets": [list(t) for t in tagsets],
            "terms": terms, "postings": [postings[t] for t in terms]}


def decode_postings(postings: list[int]) -> dict[int, tuple[int, int, int]]:
    """A term's postings as {document number: (text, title, tags) counts}."""
    out: dict[int, tuple[int, int, int]] = {}
    number = -1
    for value in postings:
        if value < 0:
            code = -value
            out[number] = (code & 15, code >> 4 & 15, code >> 8 & 15)
        else:
            number += value
            out[number] = (1, 0, 0)
    return out


def documents(index: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The index's documents in the shape of Material's entries (texts without the U+200B word breaks)."""
    out = []
    for location, title, text, boost, tagset in index["docs"]:
        doc: dict[str, Any] = {"location": location, "title": title, "text": text}
        if tagset >= 0:
            doc["tags"] = list(index["tagsets"][tagset])
        if boost != 1:
            doc["boost"] = boost
        out.append(doc)
    return out


def _browser_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of the search plugin's config that Material writes for the browser."""
    return {key: config[key] for key in ("lang", "separator", "pipeline", "fields") if key in config}


def stub(config: Mapping[str, Any]) -> dict[str, Any]:
    """What stays at ``search/search_index.json``: Material's page script fetches it before starting the
    worker and reads the config (its ``?h=`` highlighter uses the separator); the documents are in the index."""
    return {"config": _browser_config(config), "docs": []}


def dumps(data: Any) -> str:
    """Compact JSON with Chinese as UTF-8 characters (``\\uXXXX`` escapes would double their bytes)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)


def cached_index_json(entries: list[Mapping[str, Any]], config: Mapping[str, Any], cache: Path | None) -> str:
    """:func:`build_index` as JSON text, kept in the folder ``cache`` (``.cache/search``) by its inputs.

    The key is a hash of the entries, the config and this module's code, so a
    warm build of an unchanged site reads the index instead of making it again
    (about 0.45 s at a thousand papers, against 0.07 s to hash the entries).
    Only the latest index is kept.  A cache that cannot be read or written is
    not used.
    """
    if cache is None:
        return dumps(build_index(entries, config))
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(dumps([config, entries]).encode("utf-8"))
    path = cache / f"{digest.hexdigest()[:32]}.json"
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pass
    text = dumps(build_index(entries, config))
    try:
        cache.mkdir(parents=True, exist_ok=True)
        for old in cache.glob("*.json"):
            old.unlink()
        temporary = path.with_suffix(".tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except OSError:
        pass
    return text
