"""`litnotes new IDENTIFIER` against a local server that answers like the arXiv API, doi.org, OpenReview and dblp.

The answers are the files in tests/fixtures/api/ (shaped on the real APIs' documented formats); the
base addresses come from the LITNOTES_*_API variables, as a mirror or proxy would set them. Nothing
here reaches the internet.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from litnotes.cli import main
from litnotes.records.load import Source, parse_yaml

REPO = Path(__file__).resolve().parent.parent
API = Path(__file__).parent / "fixtures" / "api"
CSL = "application/vnd.citationstyles.csl+json"
SUMMARY_TODO = 'summary: ""  # TODO: what the paper contributes (Markdown); write "summary: |" for several lines'

# dblp answers by query: the normalised title searched for.
DBLP = {"knowledge distillation from a stronger teacher": "dist.json", "decoupled knowledge distillation": "dkd.json",
        "norm: knowledge distillation via n-to-one representation matching": "norm.json"}

Handler = Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes] | None]


class FakeAPIs:
    """One local server for the four sources; ``override`` replaces an answer, ``requests`` lists what was asked."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.override: dict[str, Handler] = {}
        apis = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                apis.requests.append(self.path)
                prefix = self.path.split("/")[1]
                answer = apis.override[prefix](self) if prefix in apis.override else apis.answer(self)
                if answer is None:
                    return
                status, headers, body = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, request: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(request.path)
        query = parse_qs(parts.query)
        if parts.path == "/arxiv/api/query":
            arxiv_id = query["id_list"][0]
            path = API / "arxiv" / f"{arxiv_id.replace('/', '_')}.xml"
            body = path.read_bytes() if path.is_file() else (API / "arxiv" / "empty.xml").read_bytes()
            return 200, {"Content-Type": "application/atom+xml; charset=utf-8"}, body
        if parts.path.startswith("/doi/"):
            # doi.org answers content negotiation with a redirect to the registration agency.
            doi = unquote(parts.path[len("/doi/"):])
            if (API / "csl" / f"{doi.lower().replace('/', '-')}.json").is_file():
                return 302, {"Location": f"{self.base}/crossref/{doi}/transform"}, b""
            return 404, {"Content-Type": "text/html"}, b"<html><body>DOI Not Found</body></html>"
        if parts.path.startswith("/crossref/"):
            if request.headers.get("Accept") != CSL:
                return 406, {}, b"unsupported Accept"
            doi = unquote(parts.path[len("/crossref/"):-len("/transform")])
            body = (API / "csl" / f"{doi.lower().replace('/', '-')}.json").read_bytes()
            return 200, {"Content-Type": CSL}, body
        if parts.path == "/openreview/notes":
            path = API / "openreview" / f"{query['id'][0]}.json"
            body = path.read_bytes() if path.is_file() else b'{"notes":[],"count":0}'
            return 200, {"Content-Type": "application/json"}, body
        if parts.path == "/dblp/search/publ/api":
            assert query["format"] == ["json"]
            name = DBLP.get(" ".join(query["q"][0].casefold().split()), "none.json")
            return 200, {"Content-Type": "application/json"}, (API / "dblp" / name).read_bytes()
        return 404, {}, b"no such API"

    def environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("LITNOTES_ARXIV_API", f"{self.base}/arxiv/api/query")
        monkeypatch.setenv("LITNOTES_DOI_RESOLVER", f"{self.base}/doi/")
        monkeypatch.setenv("LITNOTES_OPENREVIEW_API", f"{self.base}/openreview")
        monkeypatch.setenv("LITNOTES_DBLP_API", f"{self.base}/dblp/search/publ/api")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def apis(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAPIs]:
    server = FakeAPIs()
    server.environment(monkeypatch)
    yield server
    server.close()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with the real venues and categories, a plain report, and no records."""
    (tmp_path / "papers").mkdir()
    for name in ("_categories.yaml", "_venues.yaml"):
        shutil.copy(REPO / "papers" / name, tmp_path / "papers" / name)
    shutil.copytree(Path(__file__).parent / "fixtures" / "check" / "_base" / "docs", tmp_path / "docs")
    return tmp_path


def _new(repo: Path, *args: str) -> int:
    return main(["--root", str(repo), "new", *args])


def _record(repo: Path, record_id: str) -> dict:
    data, problem = parse_yaml(Source(record_id, (repo / "papers" / f"{record_id}.yaml").read_text(encoding="utf-8")))
    assert problem is None
    return data


def _records(repo: Path) -> list[str]:
    return sorted(p.name for p in (repo / "papers").iterdir() if not p.name.startswith("_"))


def _fill_summary(repo: Path, record_id: str) -> None:
    path = repo / "papers" / f"{record_id}.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(SUMMARY_TODO) == 1
    path.write_text(text.replace(SUMMARY_TODO, "summary: |\n  这项工作……"), encoding="utf-8")


# --- the published venue --------------------------------------------------------------------------------

def test_arxiv_id_gets_the_conference_version_from_dblp(repo: Path, apis: FakeAPIs,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, "2205.10536", "--category", "teacher-student-gap", "--abbr", "DIST") == 0
    out, err = capsys.readouterr()
    assert out == "wrote papers/dist2022.yaml (id: dist2022)\n"
    assert "warning" not in err
    data = _record(repo, "dist2022")
    assert data == {
        "title": "Knowledge Distillation from A Stronger Teacher", "abbr": "DIST",
        "authors": ["Tao Huang", "Shan You", "Fei Wang", "Chen Qian", "Chang Xu"],
        # dblp's NeurIPS hit, not the ICIP paper of another first author with the same title (2021).
        "venue": "neurips", "year": 2022, "category": "teacher-student-gap", "arxiv": "2205.10536",
        "code": "https://github.com/hunto/DIST_KD",  # stated in the abstract
        "summary": ""}


@pytest.mark.parametrize("identifier", ["arXiv:2203.08679v2", "https://arxiv.org/abs/2203.08679v1",
                                        "http://arxiv.org/pdf/2203.08679.pdf", "2203.08679"])
def test_arxiv_forms_and_the_cvpr_version(repo: Path, apis: FakeAPIs, identifier: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, identifier, "--category", "optimization") == 0
    out, err = capsys.readouterr()
    assert out == "wrote papers/zhao2022.yaml (id: zhao2022)\n"
    assert "litnotes new: note: the id 'zhao2022' is the first author's family name and the year; the README's " \
           "convention is the method's short name and the year: pass --abbr NAME (or --id)" in err
    data = _record(repo, "zhao2022")
    assert (data["venue"], data["year"], data["arxiv"], data["doi"]) == \
        ("cvpr", 2022, "2203.08679", "10.1109/CVPR52688.2022.01165")
    assert data["url"] == "https://openaccess.thecvf.com/content/CVPR2022/html/" \
                          "Zhao_Decoupled_Knowledge_Distillation_CVPR_2022_paper.html"
    assert data["code"] == "https://github.com/megvii-research/mdistiller"  # stated in the arXiv comment
    assert data["authors"] == ["Borui Zhao", "Quan Cui", "Renjie Song", "Yiyu Qiu", "Jiajun Liang"]


@pytest.mark.parametrize("identifier", ["10.1109/CVPR52688.2022.01165", "https://doi.org/10.1109/CVPR52688.2022.01165",
                                        "doi:10.1109/CVPR52688.2022.01165"])
def test_doi_through_csl_json(repo: Path, apis: FakeAPIs, identifier: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, identifier, "--abbr", "DKD", "--category", "optimization") == 0
    assert capsys.readouterr().out == "wrote papers/dkd2022.yaml (id: dkd2022)\n"
    data = _record(repo, "dkd2022")
    assert (data["title"], data["venue"], data["year"], data["doi"]) == \
        ("Decoupled Knowledge Distillation", "cvpr", 2022, "10.1109/CVPR52688.2022.01165")
    assert data["arxiv"] == "2203.08679"  # dblp's CoRR hit of the same title and first author
    assert "code" not in data  # CSL JSON states no code link, and none is guessed
    # The resolver was asked for CSL JSON and followed to the registration agency.
    assert any(r.startswith("/crossref/10.1109/CVPR52688.2022.01165/transform") for r in apis.requests)


def test_openreview_forum(repo: Path, apis: FakeAPIs, capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, "https://openreview.net/forum?id=CRNwGauQpb6", "--category", "feature") == 0
    out, err = capsys.readouterr()
    assert out == "wrote papers/norm2023.yaml (id: norm2023)\n"  # the short name in the title names the record
    assert "note:" not in err
    data = _record(repo, "norm2023")
    assert data == {
        "title": "NORM: Knowledge Distillation via N-to-One Representation Matching", "abbr": "NORM",
        "authors": ["Xiaolong Liu", "Lujun Li", "Chao Li", "Anbang Yao"], "venue": "iclr", "year": 2023,
        "category": "feature", "arxiv": "2305.13803", "url": "https://openreview.net/forum?id=CRNwGauQpb6",
        "code": "https://github.com/OSVAI/NORM", "summary": ""}


def test_doi_arxiv_states_gives_the_venue_when_dblp_has_none(repo: Path, apis: FakeAPIs,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, "1902.03393", "--abbr", "TAKD", "--category", "teacher-student-gap") == 0
    _, err = capsys.readouterr()
    assert "warning" not in err
    data = _record(repo, "takd2020")
    # arxiv:doi names the AAAI paper; its CSL JSON gives the venue and the year of publication.
    assert (data["venue"], data["year"], data["doi"], data["arxiv"]) == \
        ("aaai", 2020, "10.1609/aaai.v34i04.5963", "1902.03393")


def test_arxiv_comment_alone_is_a_warning_not_a_venue(repo: Path, apis: FakeAPIs,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    apis.override["dblp"] = lambda request: (200, {}, (API / "dblp" / "none.json").read_bytes())
    assert _new(repo, "2205.10536", "--abbr", "DIST", "--category", "feature") == 0
    _, err = capsys.readouterr()
    assert ("litnotes new: warning: arXiv says 'NeurIPS 2022', but dblp lists no published version with this title "
            "and first author; if it appeared at a venue, fill in 'venue' and 'year' of that version") in err
    assert _record(repo, "dist2022")["venue"] == "arxiv"
    apis.override.clear()


def test_a_rejected_submission_is_not_given_the_venue(repo: Path, apis: FakeAPIs,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, "openreview.net/forum?id=xRj2kLm9Qp0", "--category", "feature", "--year", "2023") == 0
    _, err = capsys.readouterr()
    assert "litnotes new: warning: OpenReview lists this paper as 'Submitted to ICLR 2023', not as accepted; fill " \
           "in 'venue' and 'year' of where it was published" in err
    text = (repo / "papers" / "example2023.yaml").read_text(encoding="utf-8")
    assert 'venue: ""  # TODO: "Submitted to ICLR 2023" is not in papers/_venues.yaml' in text


def test_unknown_venue_is_a_todo_with_the_raw_name(repo: Path, apis: FakeAPIs,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, "10.1016/j.neunet.2023.01.017", "--category", "optimization") == 0
    _, err = capsys.readouterr()
    text = (repo / "papers" / "example2023.yaml").read_text(encoding="utf-8")
    assert 'venue: ""  # TODO: "Neural Networks" is not in papers/_venues.yaml; use a key of it, or add this ' \
           "spelling to that venue's aliases\n" in text
    assert "papers/example2023.yaml:6:8: error: 'venue' is empty" in err  # listed as still to do


# --- the record passes check, and the cache makes it reproducible -----------------------------------------

def test_written_record_passes_check_once_the_summary_is_filled(repo: Path, apis: FakeAPIs,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    for identifier, record_id in (("2205.10536", "huang2022"), ("10.1109/CVPR52688.2022.01165", "zhao2022"),
                                  ("https://openreview.net/forum?id=CRNwGauQpb6", "norm2023")):
        assert _new(repo, identifier, "--category", "feature") == 0
        _fill_summary(repo, record_id)
    capsys.readouterr()
    assert main(["--root", str(repo), "check"]) == 0
    assert capsys.readouterr().out == ""


def test_offline_rerun_reproduces_the_record_from_the_cache(repo: Path, apis: FakeAPIs,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, "2203.08679", "--category", "optimization") == 0
    first = (repo / "papers" / "zhao2022.yaml").read_bytes()
    asked = len(apis.requests)
    assert asked >= 2  # arXiv and dblp
    (repo / "papers" / "zhao2022.yaml").unlink()
    assert _new(repo, "2203.08679", "--category", "optimization", "--offline") == 0
    assert (repo / "papers" / "zhao2022.yaml").read_bytes() == first
    (repo / "papers" / "zhao2022.yaml").unlink()
    assert _new(repo, "2203.08679", "--category", "optimization") == 0  # a second run needs no network either
    assert (repo / "papers" / "zhao2022.yaml").read_bytes() == first
    assert len(apis.requests) == asked
    assert list((repo / ".cache" / "new").glob("*.json"))
    (repo / "papers" / "zhao2022.yaml").unlink()
    assert _new(repo, "2203.08679", "--category", "optimization", "--refresh") == 0  # asks again
    assert len(apis.requests) == 2 * asked


def test_dry_run_prints_and_writes_nothing(repo: Path, apis: FakeAPIs, capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, "2205.10536", "--abbr", "DIST", "--category", "feature", "--dry-run") == 0
    out, err = capsys.readouterr()
    assert out.startswith("# yaml-language-server: $schema=") and "venue: neurips\n" in out
    assert "dry run: papers/dist2022.yaml not written" in err
    assert _records(repo) == []


# --- failures: one line, nothing written ------------------------------------------------------------------

def _xml(body: bytes) -> Handler:
    return lambda request: (200, {"Content-Type": "application/atom+xml"}, body)


def _slow(request: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
    time.sleep(2.0)
    return 200, {}, b""


def _always_429(request: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
    return 429, {"Retry-After": "0"}, b"slow down"


FAILURES = {
    "unknown arXiv id (empty feed)": (
        ("2401.99999",), {},
        "litnotes new: error: arXiv 2401.99999: no such paper on arXiv (the API found no entry); check the id"),
    "arXiv error entry": (
        ("2301.00001",), {"arxiv": _xml((API / "arxiv" / "error.xml").read_bytes())},
        "litnotes new: error: arXiv 2301.00001: arXiv says: incorrect id format for 2301.00001"),
    "unknown DOI (404)": (
        ("10.1109/NOSUCH.2022.00001",), {},
        ("litnotes new: error: DOI 10.1109/NOSUCH.2022.00001: not found (the DOI resolver answered HTTP 404); check "
        "the identifier")),
    "unknown OpenReview forum": (
        ("https://openreview.net/forum?id=AAAAAAAAAAA",), {},
        ("litnotes new: error: OpenReview forum AAAAAAAAAAA: no such public submission on OpenReview (no note with "
        "that id); check the URL")),
    "malformed Atom": (
        ("2205.10536",), {"arxiv": _xml(b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>")},
        ("litnotes new: error: arXiv 2205.10536: the arXiv API answered with malformed XML (no element found: line 1, "
        "column 49)")),
    "XML entity bomb": (
        ("2205.10536",), {"arxiv": _xml(b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY a "aaaa">]><f>&a;&a;</f>')},
        ("litnotes new: error: arXiv 2205.10536: the arXiv API's answer declares XML entities or a DTD, which are not "
         "read (malformed response)")),
    "malformed dblp JSON": (
        ("2205.10536",), {"dblp": lambda request: (200, {"Content-Type": "application/json"}, b'{"result": ')},
        ("litnotes new: error: dblp search for 'Knowledge Distillation from A Stronger Teacher': the answer is not "
         "dblp search JSON (Expecting value: line 1 column 12 (char 11)) (malformed response)")),
    "timeout": (
        ("2205.10536", "--timeout", "0.5"), {"arxiv": _slow},
        "litnotes new: error: arXiv 2205.10536: timeout: 127.0.0.1 did not answer within 0.5 s"),
    "rate limit after retries": (
        ("10.1109/CVPR52688.2022.01165",), {"doi": _always_429},
        ("litnotes new: error: DOI 10.1109/CVPR52688.2022.01165: rate limited by 127.0.0.1 (HTTP 429) after 4 tries; "
        "try again later")),
    "offline with an empty cache": (
        ("2205.10536", "--offline"), {},
        ("litnotes new: error: arXiv 2205.10536 is not in the cache ({cache}) and --offline was given; run once "
        "without --offline")),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_failure_is_one_line_and_writes_nothing(repo: Path, apis: FakeAPIs, case: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    args, override, message = FAILURES[case]
    apis.override.update(override)
    assert _new(repo, *args, "--category", "feature") == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", message.format(cache=repo / ".cache" / "new") + "\n")
    assert _records(repo) == []
    if case == "rate limit after retries":
        assert sum(r.startswith("/doi/") for r in apis.requests) == 4  # retried 3 times after Retry-After


def test_no_network_with_an_empty_cache(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    server = FakeAPIs()
    server.environment(monkeypatch)
    server.close()  # nothing listens there any more: as without a network
    assert _new(repo, "2205.10536", "--category", "feature") == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", ("litnotes new: error: arXiv 2205.10536: cannot reach 127.0.0.1: connection refused; "
                              "check the network connection (answers are cached after one successful run)\n"))
    assert _records(repo) == []


@pytest.mark.parametrize("identifier", ["hello", "2205.105", "10.1109", "https://example.org/forum?id=x"])
def test_not_an_identifier_is_a_usage_error(repo: Path, identifier: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, identifier) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"litnotes new: error: '{identifier}' is not an arXiv id")


# --- the preprint and the published version -----------------------------------------------------------------

PREPRINT = """\
# yaml-language-server: $schema=../tools/litnotes/records/schema/paper.schema.json
title: "Decoupled Knowledge Distillation"
abbr: DKD
authors: [Borui Zhao, Quan Cui, Renjie Song, Yiyu Qiu, Jiajun Liang]
venue: arxiv   # for now
year: 2022
category: optimization
arxiv: "2203.08679"
summary: |
  把 KD 损失拆成 TCKD 与 NCKD 两部分。
notes: 我的笔记，不要丢。
"""


def test_published_version_of_a_recorded_preprint_is_said_and_update_fills_it_in(
        repo: Path, apis: FakeAPIs, capsys: pytest.CaptureFixture[str]) -> None:
    path = repo / "papers" / "dkd2022.yaml"
    path.write_text(PREPRINT, encoding="utf-8")
    assert _new(repo, "10.1109/CVPR52688.2022.01165") == 1
    assert capsys.readouterr().err == (
        "litnotes new: error: papers/dkd2022.yaml records the arXiv preprint of this paper (same arXiv id and title), "
        "and 10.1109/CVPR52688.2022.01165 is its published version (cvpr 2022); pass --update to fill in the "
        "published venue, year and the other missing fields (the summary and everything else written there are "
        "kept)\n")
    assert path.read_text(encoding="utf-8") == PREPRINT

    assert _new(repo, "10.1109/CVPR52688.2022.01165", "--update") == 0
    assert capsys.readouterr().out == "updated papers/dkd2022.yaml: filled in venue, doi (the summary and " \
                                      "everything else are unchanged)\n"
    text = path.read_text(encoding="utf-8")
    assert text == PREPRINT.replace("venue: arxiv   # for now\n", "venue: cvpr\n").replace(
        'arxiv: "2203.08679"\n', 'arxiv: "2203.08679"\ndoi: "10.1109/CVPR52688.2022.01165"\n')
    assert _new(repo, "10.1109/CVPR52688.2022.01165", "--update") == 0  # nothing left to fill
    assert "nothing to update" in capsys.readouterr().out
    assert main(["--root", str(repo), "check"]) == 0


def test_preprint_identifier_of_a_recorded_published_paper_is_said(repo: Path, apis: FakeAPIs,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    record = PREPRINT.replace("venue: arxiv   # for now", "venue: cvpr").replace('arxiv: "2203.08679"\n', "")
    (repo / "papers" / "dkd2022.yaml").write_text(record, encoding="utf-8")
    apis.override["dblp"] = lambda request: (200, {}, (API / "dblp" / "none.json").read_bytes())  # not yet indexed
    assert _new(repo, "2203.08679") == 1
    assert capsys.readouterr().err == (
        "litnotes new: error: papers/dkd2022.yaml already records the published version of this preprint (cvpr 2022, "
        "same title); pass --update to add the fields it lacks, such as the arXiv id\n")
    assert _new(repo, "2203.08679", "--update") == 0
    assert capsys.readouterr().out.startswith("updated papers/dkd2022.yaml: filled in arxiv, code")
    data = _record(repo, "dkd2022")
    assert (data["venue"], data["arxiv"]) == ("cvpr", "2203.08679")
    assert data["summary"] == "把 KD 损失拆成 TCKD 与 NCKD 两部分。\n"  # kept


def test_update_never_overwrites_an_edit_made_meanwhile(repo: Path, apis: FakeAPIs,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from litnotes.records import draft

    path = repo / "papers" / "dkd2022.yaml"
    path.write_text(PREPRINT, encoding="utf-8")
    real = draft.update_record

    def edit_meanwhile(*args: object, **kwargs: object) -> tuple[str, list[str]]:
        result = real(*args, **kwargs)  # type: ignore[arg-type]
        path.write_text(PREPRINT + "tags: [logits]\n", encoding="utf-8")  # the author saves while we work
        return result

    monkeypatch.setattr("litnotes.cli.new.update_record", edit_meanwhile)
    assert _new(repo, "10.1109/CVPR52688.2022.01165", "--update") == 1
    assert path.read_text(encoding="utf-8") == PREPRINT + "tags: [logits]\n"
    assert [p.name for p in (repo / "papers").iterdir() if p.name.startswith(".")] == []


def test_a_base_address_that_is_not_a_url_is_said(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LITNOTES_ARXIV_API", "export.arxiv.org/api/query")
    assert _new(repo, "2205.10536") == 1
    assert capsys.readouterr().err == "litnotes new: error: LITNOTES_ARXIV_API is 'export.arxiv.org/api/query', not " \
                                      "an http(s) address; unset it to use https://export.arxiv.org/api/query\n"
    assert _records(repo) == []
