"""A record's fields from an identifier: arXiv id, DOI or OpenReview forum, through the sources' public APIs.

* **arXiv API** (Atom): title, authors, first-version year, ``arxiv:doi``,
  ``arxiv:comment``, ``arxiv:journal_ref`` and the abstract.
* **DOI content negotiation** at the resolver (CSL JSON; Crossref and DataCite both answer it).
* **OpenReview API v2** notes: title, authors, ``venue``/``venueid``, the ``code`` field.
* **dblp publication search** (JSON), to find where a preprint was published.
  dblp lists the CoRR preprint and the conference version as separate hits;
  a hit counts only when its normalised title *and* its first author's family
  name are the paper's, never on the title alone.

The published version wins over the preprint: an arXiv paper that dblp lists
at CVPR gets the CVPR venue and year.  The code link is taken only where a
source states it (the arXiv comment or abstract, OpenReview's ``code`` field).

Every answer is cached as received under the cache folder, so a second run
and ``--offline`` need no network.  Failures raise :class:`SourceError` with
one line that says what went wrong.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from litnotes import LitnotesError
from litnotes.records.draft import Draft, match_venue, title_abbr

__all__ = ["ENVIRONMENT", "Identifier", "Lookup", "SourceError", "draft_from_identifier", "parse_identifier"]

# Base addresses, overridable for tests, mirrors and proxies; the paths after them are the real APIs'.
ENVIRONMENT = {
    "arxiv": ("LITNOTES_ARXIV_API", "https://export.arxiv.org/api/query"),
    "doi": ("LITNOTES_DOI_RESOLVER", "https://doi.org/"),
    "openreview": ("LITNOTES_OPENREVIEW_API", "https://api2.openreview.net"),
    "dblp": ("LITNOTES_DBLP_API", "https://dblp.org/search/publ/api"),
}
CSL_JSON = "application/vnd.citationstyles.csl+json"
_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV_NS = "{http://arxiv.org/schemas/atom}"

_ARXIV_ID = r"(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})"
_ARXIV_FORMS = [
    re.compile(rf"^(?:arxiv:\s*)?{_ARXIV_ID}(?:v\d+)?$", re.IGNORECASE),
    re.compile(rf"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/{_ARXIV_ID}(?:v\d+)?(?:\.pdf)?/?$",
               re.IGNORECASE),
]
_DOI_FORMS = [
    re.compile(r"^(?:doi:\s*)?(10\.\d{4,9}/\S+)$", re.IGNORECASE),
    re.compile(r"^(?:https?://)?(?:dx\.)?doi\.org/(10\.\d{4,9}/\S+)$", re.IGNORECASE),
]
_OPENREVIEW = re.compile(r"^(?:https?://)?(?:www\.)?openreview\.net/(?:forum|pdf)/?\?(?:.*&)?id=([\w-]+)(?:&.*)?$")
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
# Repositories on the code hosts; a trailing '.' or ')' belongs to the sentence, not the URL.
_CODE_URL = re.compile(r"https?://(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org)/[\w.-]+/[\w.-]+", re.IGNORECASE)


class SourceError(LitnotesError):
    """The identifier could not be turned into a record: one line that says why."""


@dataclass(frozen=True)
class Identifier:
    """What the user passed, recognised: ``kind`` is ``arxiv``, ``doi`` or ``openreview``."""

    kind: str
    value: str


def parse_identifier(text: str) -> Identifier:
    """Recognise an arXiv id or URL, a DOI or doi.org URL, or an OpenReview forum URL."""
    text = text.strip()
    for form in _ARXIV_FORMS:
        if m := form.match(text):
            return Identifier("arxiv", m.group(1))
    for form in _DOI_FORMS:
        if m := form.match(text):
            doi = unquote(m.group(1)) if form is _DOI_FORMS[1] else m.group(1)
            if arxiv := _ARXIV_DOI.match(doi):  # arXiv's own DOIs are registered at DataCite for the preprint
                return Identifier("arxiv", arxiv.group(1))
            return Identifier("doi", doi)
    if m := _OPENREVIEW.match(text):
        return Identifier("openreview", m.group(1))
    raise SourceError(f"'{text}' is not an arXiv id (e.g. 2205.10536 or arxiv.org/abs/2205.10536), a DOI (10.…, "
                      "or a doi.org URL) or an OpenReview forum URL (openreview.net/forum?id=…)")


@dataclass
class Lookup:
    """How answers are obtained: base addresses, the cache folder, and whether the network may be used."""

    bases: dict[str, str]
    cache_dir: Path | None
    offline: bool = False
    timeout: float = 20.0
    refresh: bool = False  # ask again even when the cache holds an answer (a preprint published since)
    requests: list[str] = field(default_factory=list)  # URLs asked over the network in this run
    _checker: Any = None  # one per run, so the per-host limits and pauses hold across the sources' requests

    @classmethod
    def from_environment(cls, cache_dir: Path | None, offline: bool = False, timeout: float = 20.0,
                         refresh: bool = False, environ: dict[str, str] | None = None) -> Lookup:
        env = os.environ if environ is None else environ
        return cls({kind: env.get(var) or default for kind, (var, default) in ENVIRONMENT.items()}, cache_dir,
                   offline, timeout, refresh)

    def base(self, kind: str) -> str:
        """The base address of a source; one that is not an http(s) URL is a configuration error."""
        from litnotes.links.http import is_http_url

        value = self.bases[kind]
        if not is_http_url(value):
            variable, default = ENVIRONMENT[kind]
            raise SourceError(f"{variable} is '{value}', not an http(s) address; unset it to use {default}")
        return value

    def get(self, url: str, accept: str, what: str) -> tuple[int, str]:
        """(status, body) of a GET, from the cache when it holds the answer; only 200 answers are cached."""
        key = hashlib.sha256(f"{accept}\n{url}".encode()).hexdigest()[:32]
        path = self.cache_dir / f"{key}.json" if self.cache_dir else None
        if path is not None and not self.refresh and path.is_file():
            try:
                cached = json.loads(path.read_text(encoding="utf-8"))
                if cached.get("url") == url and cached.get("accept") == accept:
                    return 200, cached["body"]
            except (OSError, ValueError, KeyError, TypeError):
                pass  # a damaged cache entry is asked again
        if self.offline:
            raise SourceError(f"{what} is not in the cache ({self.cache_dir}) and --offline was given; "
                              "run once without --offline")
        from litnotes.links.fetch import FetchError, get

        self.requests.append(url)
        try:
            response = get(self.checker(), url, {"Accept": accept})
        except FetchError as exc:
            hint = "; check the network connection (answers are cached after one successful run)" \
                if exc.kind == "network" else ""
            raise SourceError(f"{what}: {exc}{hint}") from None
        try:
            body = response.body.decode("utf-8")
        except UnicodeDecodeError:
            raise SourceError(f"{what}: the answer is not UTF-8 text (malformed response)") from None
        if response.status == 200 and path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps({"url": url, "accept": accept, "body": body}, ensure_ascii=False),
                               encoding="utf-8")
                os.replace(tmp, path)
            except OSError:
                pass  # a cache that cannot be written costs a request next time, not this record
        return response.status, body

    def checker(self) -> Any:
        """The request policy of `litnotes links`, one request at a time per host (the APIs ask for that)."""
        from litnotes.links.http import Checker, Options

        if self._checker is None:
            self._checker = Checker(Options(timeout=self.timeout, retries=3, per_host=1, max_wait=60.0))
        return self._checker




# --- the record ---------------------------------------------------------------------------------------------

def draft_from_identifier(identifier: Identifier, venues: dict[str, Any], lookup: Lookup) -> Draft:
    """A draft of the record for ``identifier``: the published version's venue and year where one is known."""
    if identifier.kind == "arxiv":
        draft, preprint = _from_arxiv(identifier.value, venues, lookup)
    elif identifier.kind == "doi":
        draft, preprint = _from_doi(identifier.value, venues, lookup), False
    else:
        draft, preprint = _from_openreview(identifier.value, venues, lookup), False
    if draft.title and draft.authors:
        _published_version(draft, preprint, venues, lookup)
    if draft.title and not draft.abbr:
        draft.abbr = title_abbr(draft.title)
    return draft


def _from_arxiv(arxiv_id: str, venues: dict[str, Any], lookup: Lookup) -> tuple[Draft, bool]:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    url = f"{lookup.base('arxiv')}?{urlencode({'id_list': arxiv_id, 'max_results': 1})}"
    what = f"arXiv {arxiv_id}"
    status, body = lookup.get(url, "application/atom+xml", what)
    if status != 200:
        _http_error(what, status, "the arXiv API")
    try:
        feed = fromstring(body)
    except DefusedXmlException:
        raise SourceError(f"{what}: the arXiv API's answer declares XML entities or a DTD, which are not read "
                          "(malformed response)") from None
    except (ParseError, ValueError) as exc:
        raise SourceError(f"{what}: the arXiv API answered with malformed XML ({exc})") from None
    if feed.tag != f"{_ATOM}feed":
        raise SourceError(f"{what}: the arXiv API's answer is not an Atom feed (malformed response)")
    entries = feed.findall(f"{_ATOM}entry")
    if not entries:
        raise SourceError(f"{what}: no such paper on arXiv (the API found no entry); check the id")
    entry = entries[0]
    entry_id = _text(entry, f"{_ATOM}id")
    if "/api/errors" in entry_id or _text(entry, f"{_ATOM}title") == "Error":
        raise SourceError(f"{what}: arXiv says: {_text(entry, f'{_ATOM}summary') or 'error'}")
    title = _text(entry, f"{_ATOM}title")
    authors = [_text(a, f"{_ATOM}name") for a in entry.findall(f"{_ATOM}author")]
    published = _text(entry, f"{_ATOM}published")
    if not title or not authors or not re.match(r"\d{4}-", published):
        raise SourceError(f"{what}: the arXiv API's entry lacks a title, authors or a date (malformed response)")
    draft = Draft(title=title, authors=[a for a in authors if a], year=int(published[:4]), arxiv=arxiv_id)
    draft.venue = "arxiv" if "arxiv" in venues else None
    comment = _text(entry, f"{_ARXIV_NS}comment")
    journal_ref = _text(entry, f"{_ARXIV_NS}journal_ref")
    draft.code = _code_link(draft, [comment, _text(entry, f"{_ATOM}summary")], "the arXiv comment and abstract")
    draft.notes_for_venue = [text for text in (journal_ref, comment) if text]
    published_doi = _text(entry, f"{_ARXIV_NS}doi")
    if published_doi and _DOI_FORMS[0].match(published_doi) and not _ARXIV_DOI.match(published_doi):
        draft.doi = published_doi
    return draft, True


def _from_doi(doi: str, venues: dict[str, Any], lookup: Lookup) -> Draft:
    what = f"DOI {doi}"
    data = _csl(doi, lookup)
    title = _first(data.get("title"))
    authors = [_csl_name(a) for a in data.get("author") or [] if isinstance(a, dict)]
    year = _csl_year(data)
    if not title or not authors or year is None:
        raise SourceError(f"{what}: the CSL JSON lacks a title, authors or an issued date (malformed response)")
    draft = Draft(title=title, authors=[a for a in authors if a], year=year, doi=doi)
    if arxiv := _ARXIV_DOI.match(str(data.get("DOI") or "")):
        draft.arxiv = arxiv.group(1)
    _venue_from_csl(draft, data, venues)
    return draft


def _csl(doi: str, lookup: Lookup) -> dict[str, Any]:
    what = f"DOI {doi}"
    status, body = lookup.get(lookup.base("doi") + quote(doi, safe="/:;()._-"), CSL_JSON, what)
    if status != 200:
        _http_error(what, status, "the DOI resolver")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise SourceError(f"{what}: the answer is not CSL JSON ({exc}) (malformed response)") from None
    if not isinstance(data, dict):
        raise SourceError(f"{what}: the answer is not a CSL JSON object (malformed response)")
    return data


def _venue_from_csl(draft: Draft, data: dict[str, Any], venues: dict[str, Any]) -> None:
    event = data.get("event")
    names = [_first(data.get("container-title")), _first(event.get("name") if isinstance(event, dict) else event)]
    names = [n for n in names if n]
    for name in names:
        key, _ = match_venue(name, venues)
        if key:
            draft.venue = key
            return
    if str(data.get("publisher") or "").casefold() == "arxiv" and "arxiv" in venues:
        draft.venue = "arxiv"
        return
    draft.venue = None
    draft.venue_todo = names[0] if names else str(data.get("publisher") or "") or None


def _from_openreview(forum: str, venues: dict[str, Any], lookup: Lookup) -> Draft:
    what = f"OpenReview forum {forum}"
    url = f"{lookup.base('openreview').rstrip('/')}/notes?{urlencode({'id': forum})}"
    status, body = lookup.get(url, "application/json", what)
    if status in (403, 404):
        raise SourceError(f"{what}: no such public submission on OpenReview (HTTP {status}); check the URL")
    if status != 200:
        _http_error(what, status, "the OpenReview API")
    try:
        data = json.loads(body)
        notes = data["notes"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"{what}: the answer is not OpenReview notes JSON ({exc}) (malformed response)") from None
    note = next((n for n in notes if isinstance(n, dict) and n.get("id") == forum), None)
    if note is None:
        raise SourceError(f"{what}: no such public submission on OpenReview (no note with that id); check the URL")
    content = note.get("content") if isinstance(note.get("content"), dict) else {}

    def value(name: str) -> Any:
        raw = content.get(name)
        return raw.get("value") if isinstance(raw, dict) else raw  # API v2 wraps each value; v1 did not

    title = value("title")
    authors = value("authors")
    if not isinstance(title, str) or not isinstance(authors, list) or not title.strip():
        raise SourceError(f"{what}: the note lacks a title or authors (malformed response)")
    draft = Draft(title=" ".join(title.split()), authors=[" ".join(str(a).split()) for a in authors if str(a).strip()],
                  url=f"https://openreview.net/forum?id={forum}")
    venue, venueid = str(value("venue") or ""), str(value("venueid") or note.get("domain") or "")
    if m := re.search(r"/((?:19|20)\d\d)(?:/|$)", venueid):
        draft.year = int(m.group(1))
    if not venue or re.match(r"(submitted to|withdrawn|rejected|desk rejected)\b", venue, re.IGNORECASE) or \
            re.search(r"(Withdrawn|Rejected)_Submission", venueid):
        draft.venue = None
        draft.venue_todo = venue or venueid or None
        draft.warn(f"OpenReview lists this paper as '{venue or venueid or 'no venue'}', not as accepted; fill in "
                   "'venue' and 'year' of where it was published")
    else:
        name = re.sub(r"\s+(?:19|20)\d\d\b.*$", "", venue)  # 'ICLR 2023 poster' -> 'ICLR'
        key, _ = match_venue(name, venues)
        draft.venue = key
        if key is None:
            draft.venue_todo = venue
        if draft.year is None and (m := re.match(r"^\S.*?\s((?:19|20)\d\d)\b", venue)):
            draft.year = int(m.group(1))
    stated = value("code")
    code_texts = [stated if isinstance(stated, str) else "", str(value("abstract") or "")]
    draft.code = _code_link(draft, code_texts, "OpenReview's code field and abstract")
    return draft


def _published_version(draft: Draft, preprint: bool, venues: dict[str, Any], lookup: Lookup) -> None:
    """Fill the venue, year, DOI and URL of the published version, and the arXiv id, from dblp."""
    assert draft.title is not None
    url = f"{lookup.base('dblp')}?{urlencode({'q': draft.title, 'format': 'json', 'h': 30})}"
    what = f"dblp search for '{draft.title}'"
    status, body = lookup.get(url, "application/json", what)
    if status != 200:
        _http_error(what, status, "dblp")
    try:
        hits = json.loads(body)["result"]["hits"].get("hit") or []
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SourceError(f"{what}: the answer is not dblp search JSON ({exc}) (malformed response)") from None
    same = [info for hit in hits if isinstance(hit, dict) and isinstance(info := hit.get("info"), dict)
            and _same_paper(info, draft)]
    corr = [info for info in same if _is_corr(info)]
    published = [info for info in same if not _is_corr(info)]
    if not draft.arxiv:
        for info in corr:
            if m := re.fullmatch(rf"abs/{_ARXIV_ID}", str(info.get("volume") or "")):
                draft.arxiv = m.group(1)
                break
    if not preprint:
        return
    if not published:
        if draft.doi:  # the authors named the published version's DOI on arXiv
            try:
                _published_from_doi(draft, venues, lookup)
            except SourceError as exc:
                draft.warn(f"the published version's DOI that arXiv gives could not be read ({exc}); check 'doi'")
        if draft.venue in (None, "arxiv") and not draft.venue_todo:
            for note in draft.notes_for_venue:
                draft.warn(f"arXiv says '{' '.join(note.split())}', but dblp lists no published version with this "
                           "title and first author; if it appeared at a venue, fill in 'venue' and 'year' of that "
                           "version")
        return
    published.sort(key=lambda info: (str(info.get("year") or "9999"), str(info.get("key") or "")))
    info = published[0]
    others = {_dblp_venue(i) for i in published[1:]} - {_dblp_venue(info)}
    if others:
        draft.warn(f"dblp also lists this title at {', '.join(sorted(others))}; used the earliest, "
                   f"{_dblp_venue(info)} {info.get('year')} — check it")
    raw_venue = _dblp_venue(info)
    key, _ = match_venue(raw_venue, venues)
    draft.venue, draft.venue_todo = key, (None if key else raw_venue)
    if str(info.get("year") or "").isdigit():
        draft.year = int(info["year"])
    doi = str(info.get("doi") or "")
    if doi and _DOI_FORMS[0].match(doi) and not _ARXIV_DOI.match(doi):
        draft.doi = doi
    for ee in info.get("ee") if isinstance(info.get("ee"), list) else [info.get("ee")]:
        if isinstance(ee, str) and ee.startswith("https://") and "doi.org/" not in ee and "arxiv.org/" not in ee:
            draft.url = ee
            break


def _published_from_doi(draft: Draft, venues: dict[str, Any], lookup: Lookup) -> None:
    assert draft.doi is not None
    data = _csl(draft.doi, lookup)
    year = _csl_year(data)
    if year:
        draft.year = year
    _venue_from_csl(draft, data, venues)


def _same_paper(info: dict[str, Any], draft: Draft) -> bool:
    """Same normalised title and same first author's family name: a title alone is not enough."""
    from litnotes.records.validate import normal_title

    title = info.get("title")
    if not isinstance(title, str) or normal_title(title) != normal_title(draft.title or ""):
        return False
    authors = (info.get("authors") or {}).get("author") if isinstance(info.get("authors"), dict) else None
    if isinstance(authors, dict):  # dblp gives one author as an object, several as a list
        authors = [authors]
    if not isinstance(authors, list) or not authors or not draft.authors:
        return False
    first = authors[0].get("text") if isinstance(authors[0], dict) else authors[0]
    first = re.sub(r"\s+\d{4}$", "", str(first or ""))  # dblp's homonym number, 'Tao Huang 0002'
    return _family(first) == _family(draft.authors[0])


def _family(name: str) -> str:
    words = [w for w in re.split(r"[\s.]+", _ascii(name)) if w]
    while len(words) > 1 and re.fullmatch(r"(jr|sr|ii|iii|iv)", words[-1]):
        words.pop()
    return words[-1] if words else ""


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def _is_corr(info: dict[str, Any]) -> bool:
    return str(info.get("venue")) == "CoRR" or str(info.get("key") or "").startswith("journals/corr/")


def _dblp_venue(info: dict[str, Any]) -> str:
    venue = info.get("venue")
    venue = venue[0] if isinstance(venue, list) and venue else venue
    return re.sub(r"\s*\(\d+\)$", "", str(venue or "")).strip()  # 'ECCV (12)': the proceedings volume


def _code_link(draft: Draft, texts: list[str], where: str) -> str | None:
    found = []
    for text in texts:
        for m in _CODE_URL.finditer(text or ""):
            link = re.sub(r"\.git$", "", m.group(0).rstrip(".,;)"))
            link = re.sub(r"^http://", "https://", link)
            if link.lower() not in (f.lower() for f in found):
                found.append(link)
    if len(found) > 1:
        draft.warn(f"{where} name several repositories ({', '.join(found)}); fill in 'code' with the official one")
        return None
    return found[0] if found else None


def _text(node: Any, tag: str) -> str:
    child = node.find(tag)
    return " ".join((child.text or "").split()) if child is not None else ""


def _first(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return " ".join(value.split()) if isinstance(value, str) else ""


def _csl_name(author: dict[str, Any]) -> str:
    if isinstance(author.get("literal"), str):
        return " ".join(author["literal"].split())
    parts = [author.get("given"), author.get("non-dropping-particle"), author.get("family"), author.get("suffix")]
    return " ".join(" ".join(p.split()) for p in parts if isinstance(p, str) and p.strip())


def _csl_year(data: dict[str, Any]) -> int | None:
    for name in ("issued", "published-print", "published-online", "published"):
        parts = (data.get(name) or {}).get("date-parts") if isinstance(data.get(name), dict) else None
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            year = parts[0][0]
            if isinstance(year, int) or (isinstance(year, str) and year.isdigit()):
                return int(year)
    return None


def _http_error(what: str, status: int, source: str) -> None:
    if status == 404:
        raise SourceError(f"{what}: not found ({source} answered HTTP 404); check the identifier")
    raise SourceError(f"{what}: {source} answered HTTP {status}; try again later")
