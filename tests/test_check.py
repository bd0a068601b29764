"""`litnotes check` on fixture repositories that the tests discover by themselves.

tests/fixtures/check/good/<case>/ and bad/<case>/ are small repositories
(papers/, docs/reports/).  A case without its own papers/_categories.yaml,
papers/_venues.yaml or docs/ gets those of tests/fixtures/check/_base/.
Every bad case has an ``expected.txt``: the exact output of ``litnotes
check``.  After an intended change of a message, refresh them with
``pytest --update-goldens`` (or LITNOTES_UPDATE_GOLDENS=1) and review the diff.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from litnotes.cli import main
from litnotes.records.load import Source, parse_yaml
from litnotes.records.validate import load_knowledge_base

FIXTURES = Path(__file__).parent / "fixtures" / "check"
BASE = FIXTURES / "_base"
GOLDEN = "expected.txt"
LINE = re.compile(r"^(?P<path>[^:]+\.(?:ya?ml|md)):(?P<line>[1-9][0-9]*):(?P<col>[1-9][0-9]*): error: (?P<message>\S.*)$")


def _cases(kind: str) -> list[Path]:
    return sorted(p for p in (FIXTURES / kind).iterdir() if p.is_dir())


def _mini_repo(case: Path, tmp_path: Path) -> Path:
    root = tmp_path / case.name
    shutil.copytree(case, root, ignore=shutil.ignore_patterns(GOLDEN))
    for name in ("_categories.yaml", "_venues.yaml"):
        if not (root / "papers" / name).exists():
            shutil.copy(BASE / "papers" / name, root / "papers" / name)
    if not (root / "docs").exists():
        shutil.copytree(BASE / "docs", root / "docs")
    # A site with the math plugin, as the repository's: check then renders the records' formulas with KaTeX.
    (root / "mkdocs.yml").write_text(_MKDOCS_YML, encoding="utf-8")
    if (REPO / "node_modules").is_dir():
        (root / "node_modules").symlink_to(REPO / "node_modules", target_is_directory=True)
    return root


REPO = Path(__file__).resolve().parent.parent
_MKDOCS_YML = "site_name: test\nplugins:\n  - litnotes\n  - litnotes-math:\n      disk_cache: false\n"


def _check(root: Path, *options: str) -> int:
    return main(["--root", str(root), "check", *options])


def _updating() -> bool:
    return os.environ.get("LITNOTES_UPDATE_GOLDENS") == "1"


# --- fixture cases ---------------------------------------------------------------------------------

@pytest.mark.parametrize("case", _cases("good"), ids=lambda p: p.name)
def test_good_case_has_no_problems(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _mini_repo(case, tmp_path)
    assert _check(root) == 0
    out, err = capsys.readouterr()
    assert out == ""
    records = len(list((case / "papers").glob("[!_]*.yaml")))
    assert err == f"{records} records checked, no problems\n"


@pytest.mark.parametrize("case", _cases("bad"), ids=lambda p: p.name)
def test_bad_case_prints_expected_problems(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _mini_repo(case, tmp_path)
    code = _check(root)
    out, err = capsys.readouterr()
    golden = case / GOLDEN
    if _updating():
        golden.write_text(out, encoding="utf-8")
    assert code == 1
    assert out == golden.read_text(encoding="utf-8")
    lines = out.splitlines()
    assert lines, "a bad case must produce at least one problem"
    for line in lines:
        assert LINE.match(line), f"not PATH:LINE:COL: error: MESSAGE: {line!r}"
    assert lines == sorted(lines, key=_sort_key)
    files = {LINE.match(line)["path"] for line in lines}  # type: ignore[index]
    assert err == f"{len(lines)} problem(s) in {len(files)} file(s)\n"


def _sort_key(line: str) -> tuple[str, int, int]:
    m = LINE.match(line)
    assert m
    return m["path"], int(m["line"]), int(m["col"])


def test_every_bad_case_has_a_golden() -> None:
    missing = [case.name for case in _cases("bad") if not (case / GOLDEN).is_file()]
    assert not missing or _updating(), f"run pytest --update-goldens and review: {missing}"


def test_bom_and_crlf_fixture_really_has_them() -> None:
    # Guards against an editor or a git setting normalising the fixture away.
    data = (FIXTURES / "good" / "bom-crlf" / "papers" / "dist2022.yaml").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data


def test_bom_crlf_record_reads_the_same_as_plain(tmp_path: Path) -> None:
    kb, problems = load_knowledge_base(_mini_repo(FIXTURES / "good" / "bom-crlf", tmp_path))
    assert problems == []
    paper = kb.papers["dist2022"]
    assert paper.title == "Knowledge Distillation from A Stronger Teacher"
    assert paper.summary == "这项工作提出用皮尔逊相关系数代替 KL 散度来匹配师生的预测。\n"
    assert paper.read == "2024-04-19"


def test_full_record_keeps_markdown_and_links_papers(tmp_path: Path) -> None:
    kb, problems = load_knowledge_base(_mini_repo(FIXTURES / "good" / "full-record", tmp_path))
    assert problems == []
    assert kb.built_on_by == {"takd2020": ("dgkd2021",)}
    assert "R&D" in kb.papers["dgkd2021"].summary
    assert kb.papers["dgkd2021"].notes is not None and "\\alpha" in kb.papers["dgkd2021"].notes


# --- cases that cannot be fixture folders ----------------------------------------------------------

def test_ids_that_differ_only_in_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Two files whose names differ only in case cannot be checked out on macOS or Windows,
    # so this case is written by the test instead of living in a fixture folder.
    root = _mini_repo(FIXTURES / "good" / "minimal", tmp_path)
    text = (root / "papers" / "dist2022.yaml").read_text(encoding="utf-8")
    (root / "papers" / "Dist2022.yaml").write_text(text.replace("Stronger Teacher", "Strong Teacher"), encoding="utf-8")
    if len(list((root / "papers").glob("*.yaml"))) < 4:
        pytest.skip("this file system ignores case in file names")
    assert _check(root) == 1
    assert capsys.readouterr().out.splitlines() == [
        "papers/Dist2022.yaml:1:1: error: file name 'Dist2022' is not a valid id: use lowercase letters, digits and "
        "'-', starting with a letter or digit (e.g. 'dist2022.yaml')",
        "papers/dist2022.yaml:1:1: error: id 'dist2022' is the same as 'Dist2022' (papers/Dist2022.yaml) ignoring "
        "case; ids are unique ignoring case: merge the two records or rename one",
    ]


def test_alias_bomb_finishes_well_under_a_second(tmp_path: Path) -> None:
    root = _mini_repo(FIXTURES / "bad" / "alias-bomb", tmp_path)
    start = time.perf_counter()
    _, problems = load_knowledge_base(root)
    assert time.perf_counter() - start < 0.5
    assert [p.rule for p in problems] == ["yaml-alias", "yaml-alias"]


def test_deeper_alias_bomb_is_refused_just_as_fast() -> None:
    # 30 levels of 10 aliases would expand to 10**30 strings.
    text = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    text += "".join(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 31))
    start = time.perf_counter()
    data, problem = parse_yaml(Source("papers/laughs.yaml", text))
    assert time.perf_counter() - start < 0.1
    assert data is None and problem is not None and problem.rule == "yaml-alias"


def test_clean_records_are_never_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Working out line numbers costs a second parse; a clean record must not pay it.
    def refuse(self: Source) -> None:
        raise AssertionError(f"located {self.path} without a problem")

    monkeypatch.setattr(Source, "root", property(refuse))
    _, problems = load_knowledge_base(_mini_repo(FIXTURES / "good" / "full-record", tmp_path))
    assert problems == []


# --- snippets the fixture folders do not show --------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("year: 0b_\n", "1:7: '0b_' cannot be read as an integer; put it in quotes to keep it as text"),
    ("year: !!int twenty\n", "1:7: 'twenty' cannot be read as an integer; put it in quotes to keep it as text"),
    ("x: !!bool maybe\n", "1:4: 'maybe' cannot be read as true or false; put it in quotes to keep it as text"),
    ("read: !!timestamp 2024-13-45\n",
     "1:7: YAML tag '!!timestamp' is not allowed: records hold plain text, numbers and lists; remove the tag"),
    ("x: !!binary aGk=\n",
     "1:4: YAML tag '!!binary' is not allowed: records hold plain text, numbers and lists; remove the tag"),
    ("? [a, b]\n: c\n", "1:3: a key must be plain text, not a list or mapping; write 'field: value'"),
    ("title: a\x07b\n", "1:9: the file contains the control character U+0007, which YAML does not allow; remove it"),
    ("x: " + "[" * 2000 + "]" * 2000 + "\n",
     "1:1003: YAML syntax error: exceeded maximum nesting depth (while increasing flow level); "
     "check the quotes, brackets and indentation here"),
])
def test_parse_problem(text: str, expected: str) -> None:
    data, problem = parse_yaml(Source("papers/x.yaml", text))
    assert data is None and problem is not None
    assert problem.text() == "papers/x.yaml:" + expected.replace(": ", ": error: ", 1)


@pytest.mark.parametrize(("text", "expected"), [
    ("read: 2024-04-19\n", {"read": "2024-04-19"}),  # dates stay text, checked by the rules
    ("<<: {a: 1}\n", {"<<": {"a": 1}}),  # no merge keys: '<<' is a plain (unknown) field
    ("a: =\n", {"a": "="}),
    ("a: 0x1F\nb: 1_000\nc: .inf\nd: ~\ne: yes\n", {"a": 31, "b": 1000, "c": float("inf"), "d": None, "e": True}),
    ("", None),
])
def test_parse_plain_data(text: str, expected: object) -> None:
    assert parse_yaml(Source("papers/x.yaml", text)) == (expected, None)


# --- exit codes and formats ----------------------------------------------------------------------------

def test_exit_code_2_for_an_unknown_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _check(_mini_repo(FIXTURES / "good" / "minimal", tmp_path), "--format", "xml")
    assert exc.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err


def test_exit_code_2_without_a_papers_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _check(tmp_path) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"litnotes check: papers folder not found: {tmp_path / 'papers'}; run from the repository root " \
                  "or pass --root\n"


def test_json_format_lists_the_same_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = FIXTURES / "bad" / "unknown-venue-category"
    root = _mini_repo(case, tmp_path)
    assert _check(root, "--format", "json") == 1
    out, err = capsys.readouterr()
    problems = json.loads(out)
    assert err == ""
    assert [f"{p['path']}:{p['line']}:{p['col']}: {p['level']}: {p['message']}" for p in problems] == \
        (case / GOLDEN).read_text(encoding="utf-8").splitlines()
    assert problems[0] == {
        "path": "papers/fullname2022.yaml", "line": 4, "col": 8, "level": "error", "rule": "venue",
        "message": "venue 'Advances in Neural Information Processing Systems' is not a known venue; did you mean "
                   "'neurips'? (venues are the keys of papers/_venues.yaml)"}


def test_json_format_when_clean_is_an_empty_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _check(_mini_repo(FIXTURES / "good" / "minimal", tmp_path), "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == []


def test_github_format_annotates_each_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _mini_repo(FIXTURES / "bad" / "duplicate-key", tmp_path)
    assert _check(root, "--format", "github") == 1
    assert capsys.readouterr().out == (
        "::error file=papers/dist2022.yaml,line=7,col=1,title=yaml-duplicate-key::duplicate key 'venue' "
        "(first defined on line 4); keep one of them\n")


def test_console_script_end_to_end(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("litnotes")
    if not script.exists():
        pytest.skip("the litnotes console script is not installed next to this Python")
    case = FIXTURES / "bad" / "yaml-syntax"
    root = _mini_repo(case, tmp_path)
    run = subprocess.run([str(script), "check"], cwd=root, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 1
    assert run.stdout == (case / GOLDEN).read_text(encoding="utf-8")
    assert "Traceback" not in run.stderr
    clean = subprocess.run([str(script), "check"], cwd=_mini_repo(FIXTURES / "good" / "minimal", tmp_path / "g"),
                           capture_output=True, text=True, timeout=60, check=False)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "1 records checked, no problems\n")
