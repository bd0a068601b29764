"""Property tests: whatever is in a record file, `litnotes check` reports it and never crashes.

Random text, random bytes and mutated copies of the repository's own records
(lines deleted or duplicated, characters, tabs and bytes inserted, the file
cut short) go through the whole check.  It must not raise, must exit 0 or 1,
and every problem must name a file and a line and column of at least 1.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litnotes.cli import main
from litnotes.problems import Problem
from litnotes.records.load import Source, parse_yaml
from litnotes.records.validate import load_knowledge_base

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "check"
RECORDS = sorted((REPO / "papers").glob("[!_]*.yaml"))
LINE = re.compile(r"^papers/[^:]+:[1-9][0-9]*:[1-9][0-9]*: error: \S[^\n]*$")
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's records and taxonomy, for the mutants to live in.

    The report is the fixtures' plain one: the checks of docs/ have tests of their own.
    """
    root = tmp_path_factory.mktemp("repo")
    shutil.copytree(REPO / "papers", root / "papers")
    shutil.copytree(FIXTURES / "_base" / "docs", root / "docs")
    return root


def _assert_well_formed(problems: list[Problem]) -> None:
    for p in problems:
        assert p.path.startswith("papers/") and p.path.endswith((".yaml", ".yml")), p
        assert p.line >= 1 and p.col >= 1, p
        assert p.message and "\n" not in p.message and "\r" not in p.message, p


def _run_check(root: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--root", str(root), "check"])
    assert "Traceback" not in err.getvalue()
    return code, out.getvalue()


@contextlib.contextmanager
def _record(root: Path, name: str, data: bytes):
    """Put ``data`` in papers/<name> for the duration of the block, then restore the original."""
    path = root / "papers" / name
    original = path.read_bytes() if path.exists() else None
    path.write_bytes(data)
    try:
        yield path
    finally:
        if original is None:
            path.unlink()
        else:
            path.write_bytes(original)


# --- mutations of the real records -------------------------------------------------------------------

_NOISE = st.sampled_from(["\t", ":", "- ", "&a ", "*a", "!!python/object:os.system ", "'", '"', "[", "]", "{", "}",
                          "#", "|", ">", "\\", "---\n", "\n", "\r\n", "\ufeff", "\x00", "\x85", "<b>", "---",
                          "? ", "<<: ", "~", "2024-13-45", "0b_", " " * 3, "é", "文"])
_MUTATION = st.one_of(
    st.tuples(st.just("delete-line"), st.integers(0, 60)),
    st.tuples(st.just("duplicate-line"), st.integers(0, 60)),
    st.tuples(st.just("tab-indent"), st.integers(0, 60)),
    st.tuples(st.just("insert-text"), st.integers(0, 4000), st.one_of(_NOISE, st.text(max_size=8))),
    st.tuples(st.just("insert-bytes"), st.integers(0, 4000), st.binary(min_size=1, max_size=4)),
    st.tuples(st.just("truncate"), st.integers(0, 4000)),
)


def _mutate(data: bytes, mutations: list[tuple]) -> bytes:
    for kind, where, *payload in mutations:
        if kind in ("delete-line", "duplicate-line", "tab-indent"):
            lines = data.split(b"\n")
            i = where % len(lines)
            if kind == "delete-line":
                del lines[i]
            elif kind == "duplicate-line":
                lines.insert(i, lines[i])
            else:
                lines[i] = b"\t" + lines[i].lstrip(b" ")
            data = b"\n".join(lines)
        else:
            i = where % (len(data) + 1)
            if kind == "truncate":
                data = data[:i]
            else:
                insert = payload[0] if isinstance(payload[0], bytes) else payload[0].encode("utf-8")
                data = data[:i] + insert + data[i:]
    return data


@pytest.mark.skipif(not RECORDS, reason="the repository has no records yet")
@SETTINGS
@given(record=st.sampled_from(RECORDS), mutations=st.lists(_MUTATION, min_size=1, max_size=4))
def test_mutated_records_are_reported_never_raised(repo: Path, record: Path, mutations: list[tuple]) -> None:
    mutant = _mutate(record.read_bytes(), mutations)
    with _record(repo, record.name, mutant):
        code, out = _run_check(repo)
    assert code in (0, 1)
    assert (code == 0) == (out == "")
    for line in out.splitlines():
        assert LINE.match(line), line


@SETTINGS
@given(text=st.text(max_size=300))
def test_random_text_is_reported_never_raised(repo: Path, text: str) -> None:
    with _record(repo, "random.yaml", text.encode("utf-8", errors="surrogatepass")):
        _, problems = load_knowledge_base(repo)
    _assert_well_formed(problems)
    # Random text is almost never a valid record; when it is not, the file is named.
    if not any(p.path == "papers/random.yaml" for p in problems):
        data, problem = parse_yaml(Source("papers/random.yaml", text))
        assert problem is None and isinstance(data, dict)


@SETTINGS
@given(data=st.binary(max_size=300))
def test_random_bytes_are_reported_never_raised(repo: Path, data: bytes) -> None:
    with _record(repo, "bytes.yaml", data):
        code, out = _run_check(repo)
    assert code in (0, 1)
    for line in out.splitlines():
        assert LINE.match(line), line


# A grammar of YAML-ish lines reaches deeper into the parser than random characters do.
_KEYS = st.sampled_from(["title", "authors", "venue", "year", "category", "summary", "tags", "arxiv", "doi", "url",
                         "code", "read", "builds_on", "notes", "bibtex", "abbr", "venu", "id", "<<", "? x", "1"])
_VALUES = st.one_of(
    st.sampled_from(["neurips", "NIPS", "2022", "3000", "2022.0", "-1", "true", "null", "~", "", "[]", "{}", "[a, b]",
                     "[a, [b]]", "{a: 1}", '""', "''", "|", ">-", "2024-04-19", "2024-13-45", "javascript:alert(1)",
                     "https://example.org/x", '"2205.10536"', "2205.10536", "*a", "&a x", "!!int x", "!!set {a}",
                     "'unclosed", '"\\alpha"', "<script>x</script>", "a: b", "0b_", ".nan", "0x1F"]),
    st.text(max_size=12),
)
_LINE = st.one_of(
    st.builds(lambda k, v: f"{k}: {v}", _KEYS, _VALUES),
    st.builds(lambda v: f"  - {v}", _VALUES),
    st.builds(lambda v: f"  {v}", _VALUES),
    st.sampled_from(["---", "...", "# comment", "", "\t- x", "  ", "- a"]),
)


@SETTINGS
@given(lines=st.lists(_LINE, max_size=12))
def test_yaml_like_records_are_reported_never_raised(repo: Path, lines: list[str]) -> None:
    with _record(repo, "grammar2022.yaml", "\n".join(lines).encode("utf-8", errors="surrogatepass")):
        code, out = _run_check(repo)
    assert code in (0, 1)
    for line in out.splitlines():
        assert LINE.match(line), line
