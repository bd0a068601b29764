"""`litnotes new --bibtex` writes nothing that `litnotes check` would reject (issue: new checks what it writes).

Each fixture holds values found in BibTeX copied from the web that the checker rejects or that
BibTeX itself would rewrite: a URL with a space, an author that is only ``{\\relax}``, a year inside
prose, a NUL character, ``#`` concatenation and ``@string`` macros. The record must read as the
BibTeX means it, or carry a ``# TODO`` placeholder and a warning, and pass ``check`` once the
placeholders and the summary are filled.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from litnotes.cli import main
from litnotes.problems import Problem
from litnotes.records.draft import Draft, render_valid
from litnotes.records.load import Source, parse_yaml

REPO = Path(__file__).resolve().parent.parent
BIBTEX = Path(__file__).parent / "fixtures" / "bibtex"
SUMMARY_TODO = 'summary: ""  # TODO: what the paper contributes (Markdown); write "summary: |" for several lines'


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "papers").mkdir()
    for name in ("_categories.yaml", "_venues.yaml"):
        shutil.copy(REPO / "papers" / name, tmp_path / "papers" / name)
    shutil.copytree(Path(__file__).parent / "fixtures" / "check" / "_base" / "docs", tmp_path / "docs")
    return tmp_path


def _new(repo: Path, *args: str) -> int:
    return main(["--root", str(repo), "new", *args])


def _record(repo: Path, record_id: str) -> tuple[str, dict]:
    text = (repo / "papers" / f"{record_id}.yaml").read_text(encoding="utf-8")
    data, problem = parse_yaml(Source(record_id, text))
    assert problem is None
    return text, data


def _fill(repo: Path, record_id: str, **values: str) -> None:
    """Replace the summary placeholder and the named TODO lines, as the author would."""
    path = repo / "papers" / f"{record_id}.yaml"
    text = path.read_text(encoding="utf-8").replace(SUMMARY_TODO, "summary: |\n  这项工作……")
    for name, value in values.items():
        text, count = re.subn(rf"^{name}: .*# TODO.*$", f"{name}: {value}", text, flags=re.MULTILINE)
        assert count == 1, name
    path.write_text(text, encoding="utf-8")


def test_values_check_would_reject_become_todos(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, "--bibtex", str(BIBTEX / "hostile-values.bib"), "--category", "feature", "--id", "odd") == 0
    out, err = capsys.readouterr()
    assert out == "wrote papers/odd.yaml (id: odd)\n"
    where = BIBTEX / "hostile-values.bib"
    assert [line for line in err.splitlines() if ": warning: " in line] == [
        f"{where}:3: warning: the input contains the control character U+0000 (1 in all); removed",
        (f"{where}:4: warning: 1 author name(s) read as empty text (e.g. from '{{\\relax}}'); left out — check the "
        "author list"),
        f"{where}:6: warning: year 'Accepted 2021, published 2022' is not a year such as 2022; fill in 'year'",
        ("litnotes new: warning: url 'https://example.org/paper one.pdf' would not pass litnotes check ('url' "
         "contains a space, which an address cannot hold; percent-encode it as %20); left out"),
    ]
    text, data = _record(repo, "odd")
    assert "\x00" not in text and "\\u0000" not in text
    assert data["title"] == "Distillation with a NUL: Byte"
    assert data["authors"] == ["Ann Lee"]  # no empty author
    assert data["year"] is None and "year: null  # TODO: the year of publication\n" in text  # not 2021 from prose
    assert "url" not in data
    assert data["venue"] == "neurips"
    _fill(repo, "odd", year="2022")
    assert main(["--root", str(repo), "check"]) == 0


def test_string_macros_and_concatenation_are_resolved(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, "--bibtex", str(BIBTEX / "string-macros.bib"), "--category", "optimization",
                "--abbr", "DKD") == 0
    out, err = capsys.readouterr()
    assert out == "wrote papers/dkd2022.yaml (id: dkd2022)\n"
    assert "warning" not in err
    _, data = _record(repo, "dkd2022")
    # Not the literal 'Decoupled" # " Knowledge " # {Distillation' BibTeX parsers keep without resolving.
    assert data["title"] == "Decoupled Knowledge Distillation"
    assert data["venue"] == "cvpr"  # 'Proceedings of the ' # cvpr, the macro
    assert data["year"] == 2022
    _fill(repo, "dkd2022")
    assert main(["--root", str(repo), "check"]) == 0


def test_undefined_macro_is_reported_not_kept(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, "--bibtex", str(BIBTEX / "undefined-macro.bib"), "--category", "feature") == 0
    _, err = capsys.readouterr()
    assert f"{BIBTEX / 'undefined-macro.bib'}:5: warning: field 'booktitle' could not be read: @string macro " \
           "'CVPR21' is not defined in the input; define it with @string{CVPR21 = \"...\"} or write the text; " \
           "left out" in err
    assert "names no venue" not in err
    text, data = _record(repo, "chen2021")
    assert data["venue"] == ""
    assert 'venue: ""  # TODO: "CVPR21" is not in papers/_venues.yaml' in text
    _fill(repo, "chen2021", venue="cvpr")
    assert main(["--root", str(repo), "check"]) == 0


def test_render_valid_takes_out_each_value_the_validator_rejects() -> None:
    # The validator decides, not a list of known bad shapes: whatever it reports on a value's line goes.
    draft = Draft(title="T", authors=["A B", "C D"], venue="neurips", year=2022, category="feature",
                  code="https://github.com/x/y", url="https://example.org/x")
    rejected = {"code:", '  - "C D"'}

    def validate(text: str) -> list[Problem]:
        lines = text.split("\n")
        return [Problem("r.yaml", i + 1, 1, "rejected") for i, line in enumerate(lines)
                if any(line.startswith(r) for r in rejected)]

    text, left = render_valid(draft, {"feature": None}, validate)
    assert left == []
    assert "code:" not in text and '"C D"' not in text and "url: https://example.org/x" in text
    assert draft.authors == ["A B"]
    assert [m for _, m in draft.warnings] == [
        "author 2 ('C D') is not a usable name (rejected); left out — check the author list",
        "code 'https://github.com/x/y' would not pass litnotes check (rejected); left out"]


def test_a_flag_check_would_reject_is_a_usage_error_not_a_silent_todo(repo: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, "--title", "A <b>Fresh</b> Paper", "--author", "Ada Lovelace", "--venue", "NeurIPS",
                "--year", "2022", "--category", "feature") == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("litnotes new: error: --title gives a value litnotes check would reject: 'title' contains "
                          "raw HTML")
    assert err.count("\n") == 1
    assert sorted(p.name for p in (repo / "papers").iterdir()) == ["_categories.yaml", "_venues.yaml"]
