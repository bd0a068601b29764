"""`litnotes new`: records from flags and from the messy BibTeX that official repositories publish.

The BibTeX fixtures in tests/fixtures/bibtex/ are the shapes found in the
papers' own READMEs: an arXiv-only @article for a NeurIPS paper (DIST), all
authors in one comma-separated string (HSAKD), @inproceedings with journal=
(BINGO), an arXiv entry with an earlier title and author list (TAKD).  The
venues and categories are the repository's own, so a change to their aliases
that breaks the mapping fails here.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litnotes.cli import main
from litnotes.records.draft import SCHEMA_COMMENT, Draft, expected_data, render_record, write_new_file
from litnotes.records.load import Source, parse_yaml
from litnotes.records.validate import load_knowledge_base

REPO = Path(__file__).resolve().parent.parent
BIBTEX = Path(__file__).parent / "fixtures" / "bibtex"
SUMMARY_TODO = 'summary: ""  # TODO: what the paper contributes (Markdown); write "summary: |" for several lines'
SUMMARY_HINT = "'summary' must not be empty; write what the paper contributes (Markdown); a block starting with '|' " \
               "keeps line breaks"


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


def _fill_summary(repo: Path, record_id: str) -> None:
    path = repo / "papers" / f"{record_id}.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(SUMMARY_TODO) == 1
    path.write_text(text.replace(SUMMARY_TODO, "summary: |\n  这项工作……"), encoding="utf-8")


# --- BibTeX shapes ---------------------------------------------------------------------------------------

CASES = {
    # fixture: (id, fields the record must have, warnings on stderr)
    "dist-arxiv-only.bib": ("huang2022", {
        "title": "Knowledge Distillation from A Stronger Teacher",
        "authors": ["Tao Huang", "Shan You", "Fei Wang", "Chen Qian", "Chang Xu"],
        "venue": "arxiv", "year": 2022, "arxiv": "2205.10536"}, [
        "dist-arxiv-only.bib:4: warning: the entry is an arXiv preprint; if the paper appeared at a conference or in "
        "a journal, pass --venue and --year of the published version and check the title and authors against it "
        "(preprint BibTeX often carries an earlier title)"]),
    "hsakd-one-author-string.bib": ("yang2021", {
        "title": "Hierarchical Self-supervised Augmented Knowledge Distillation",
        "authors": ["Chuanguang Yang", "Zhulin An", "Linhang Cai", "Yongjun Xu"], "venue": "ijcai", "year": 2021}, [
        "hsakd-one-author-string.bib:3: warning: the authors are separated by commas, not 'and' ('Chuanguang Yang, "
        "Zhulin An, Linhang Cai, Yongjun Xu'); read them as 4 authors written 'First Last' — check them"]),
    "bingo-inproceedings-journal.bib": ("xu2022", {
        "title": "Bag of Instances Aggregation Boosts Self-supervised Distillation",
        "authors": ["Haohang Xu", "Jiemin Fang", "Xiaopeng Zhang", "Lingxi Xie", "Xinggang Wang", "Wenrui Dai",
                    "Hongkai Xiong", "Qi Tian"], "venue": "iclr", "year": 2022}, [
        "bingo-inproceedings-journal.bib:4: warning: @inproceedings entry with journal= instead of booktitle=; read "
        "'International Conference on Learning Representations' as the venue"]),
    "takd-outdated-arxiv.bib": ("mirzadeh2019", {
        "title": "Improved knowledge distillation via teacher assistant: Bridging the gap between student and teacher",
        "authors": ["Seyed-Iman Mirzadeh", "Mehrdad Farajtabar", "Ang Li", "Hassan Ghasemzadeh"],
        "venue": "arxiv", "year": 2019, "arxiv": "1902.03393"}, [
        "takd-outdated-arxiv.bib:2: warning: the title looks lowercased ('Improved knowledge distillation via teacher "
        "assistant: Bridging the gap between student and teacher'), as Google Scholar exports it; check the "
        "capitalisation against the paper",
        "takd-outdated-arxiv.bib:6: warning: the entry is an arXiv preprint; if the paper appeared at a conference or "
        "in a journal, pass --venue and --year of the published version and check the title and authors against it "
        "(preprint BibTeX often carries an earlier title)"]),
    "dlb-cvpr.bib": ("shen2022", {
        "title": "Self-Distillation From the Last Mini-Batch for Consistency Regularization",
        "authors": ["Yiqing Shen", "Liwu Xu", "Yuzhe Yang", "Yaqian Li", "Yandong Guo"],
        "venue": "cvpr", "year": 2022, "arxiv": "2203.16172",
        "url": "https://openaccess.thecvf.com/content/CVPR2022/html/Shen_Self-Distillation_From_the_Last_Mini-Batch_"
               "for_Consistency_Regularization_CVPR_2022_paper.html"}, []),
    "kdrw-note-arxiv.bib": ("stanton2021", {
        "title": "Does Knowledge Distillation Really Work?",
        "authors": ["Samuel Stanton", "Pavel Izmailov", "Polina Kirichenko", "Alexander A. Alemi",
                    "Andrew Gordon Wilson"], "venue": "neurips", "year": 2021, "arxiv": "2106.05945"}, []),
    "latex-and-others.bib": ("muller2020", {
        "title": "Über Knowledge Distillation für ResNets",
        "authors": ["Jérôme Müller", "Laurens van der Maaten", "Zheng Li Jr."], "venue": "eccv", "year": 2020,
        "doi": "10.1007/978-3-030-58452-8_1"}, [
        "latex-and-others.bib:4: warning: the author list ends with 'and others': it is incomplete; add the missing "
        "authors",
        "latex-and-others.bib:8: warning: url 'http://example.org/paper' is not an https:// address; left out (add "
        "the https:// page yourself)"]),
}


@pytest.mark.parametrize("fixture", sorted(CASES))
def test_bibtex_entry_becomes_a_record(repo: Path, fixture: str, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    record_id, fields, warnings = CASES[fixture]
    monkeypatch.chdir(BIBTEX)  # warnings name the file as given on the command line
    assert _new(repo, "--bibtex", fixture, "--category", "feature") == 0
    out, err = capsys.readouterr()
    assert out == f"wrote papers/{record_id}.yaml (id: {record_id})\n"
    assert [line for line in err.splitlines() if ": warning: " in line] == warnings
    assert err.endswith("still to do (litnotes check reports these until they are fixed):\n"
                        f"papers/{record_id}.yaml:{_summary_line(repo, record_id)}:10: error: {SUMMARY_HINT}\n")
    data = _record(repo, record_id)
    assert {k: data.get(k) for k in fields} == fields
    assert data["category"] == "feature" and data["summary"] == ""
    assert data["bibtex"] == _entry_text(BIBTEX / fixture)
    assert (repo / "papers" / f"{record_id}.yaml").read_text(encoding="utf-8").startswith(SCHEMA_COMMENT + "\n")


def _summary_line(repo: Path, record_id: str) -> int:
    lines = (repo / "papers" / f"{record_id}.yaml").read_text(encoding="utf-8").splitlines()
    return lines.index(SUMMARY_TODO) + 1


def _entry_text(path: Path) -> str:
    lines = [line.rstrip() for line in path.read_text(encoding="utf-8").splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("@"))
    return "\n".join(lines[start:]).strip() + "\n"


@pytest.mark.parametrize("fixture", sorted(CASES))
def test_scaffold_passes_check_once_the_summary_is_filled_in(repo: Path, fixture: str,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    record_id = CASES[fixture][0]
    assert _new(repo, "--bibtex", str(BIBTEX / fixture), "--category", "feature") == 0
    capsys.readouterr()
    assert main(["--root", str(repo), "check"]) == 1  # the summary is a TODO until it is written
    assert capsys.readouterr().out == f"papers/{record_id}.yaml:{_summary_line(repo, record_id)}:10: error: " \
                                      f"{SUMMARY_HINT}\n"
    _fill_summary(repo, record_id)
    assert main(["--root", str(repo), "check"]) == 0
    assert capsys.readouterr().out == ""


def test_unknown_venue_is_a_placeholder_not_a_guess(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, "--bibtex", str(BIBTEX / "icra-unknown-venue.bib"), "--category", "analysis") == 0
    out, err = capsys.readouterr()
    assert out == "wrote papers/li2023.yaml (id: li2023)\n"
    assert f"{BIBTEX / 'icra-unknown-venue.bib'}:9: warning: booktitle '2023 International Conference on Robotics " \
           "and Automation (ICRA)' is not a known venue; fill in 'venue' with a key of papers/_venues.yaml, or add " \
           "the venue (or this spelling as an alias) there" in err.splitlines()
    text = (repo / "papers" / "li2023.yaml").read_text(encoding="utf-8")
    assert 'venue: ""  # TODO: "2023 International Conference on Robotics and Automation (ICRA)" is not in ' \
           "papers/_venues.yaml; use a key of it, or add this spelling to that venue's aliases\n" in text
    assert _record(repo, "li2023")["authors"] == ["Maximilian Xiling Li", "Onur Celik", "Philipp Becker",
                                                  "Denis Blessing", "Rudolf Lioutikov", "Gerhard Neumann"]
    assert "papers/li2023.yaml:10:8: error: 'venue' is empty; use one of the keys of papers/_venues.yaml: " in err


def test_flags_win_over_the_bibtex_entry(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, "--bibtex", str(BIBTEX / "dist-arxiv-only.bib"), "--venue", "NeurIPS", "--abbr", "DIST",
                "--category", "teacher-student-gap", "--code", "https://github.com/hunto/DIST_KD") == 0
    out, err = capsys.readouterr()
    assert out == "wrote papers/dist2022.yaml (id: dist2022)\n"
    assert "warning" not in err  # the preprint warning is answered by --venue
    data = _record(repo, "dist2022")
    assert (data["venue"], data["abbr"], data["arxiv"], data["code"]) == \
        ("neurips", "DIST", "2205.10536", "https://github.com/hunto/DIST_KD")


def test_bibtex_from_stdin(repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    data = (BIBTEX / "hsakd-one-author-string.bib").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n"))))
    assert _new(repo, "--bibtex", "-", "--category", "feature", "--abbr", "HSAKD") == 0
    out, err = capsys.readouterr()
    assert out == "wrote papers/hsakd2021.yaml (id: hsakd2021)\n"
    assert err.startswith("<stdin>:3: warning: the authors are separated by commas, not 'and'")
    assert _record(repo, "hsakd2021")["venue"] == "ijcai"


# --- flags only ---------------------------------------------------------------------------------------------

def test_record_from_flags(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, "--title", "Knowledge Distillation from A Stronger Teacher", "--author", "Huang, Tao",
                "--author", "Shan You", "--venue", "NIPS", "--year", "2022", "--category", "teacher-student-gap",
                "--arxiv", "https://arxiv.org/abs/2205.10536v3", "--abbr", "DIST",
                "--code", "https://github.com/hunto/DIST_KD") == 0
    out, err = capsys.readouterr()
    assert out == "wrote papers/dist2022.yaml (id: dist2022)\n"
    assert (repo / "papers" / "dist2022.yaml").read_text(encoding="utf-8") == f"""\
{SCHEMA_COMMENT}
title: "Knowledge Distillation from A Stronger Teacher"
abbr: "DIST"
authors:
  - "Tao Huang"
  - "Shan You"
venue: neurips
year: 2022
category: teacher-student-gap
arxiv: "2205.10536"
code: https://github.com/hunto/DIST_KD
{SUMMARY_TODO}
"""
    assert err == "still to do (litnotes check reports these until they are fixed):\n" \
                  f"papers/dist2022.yaml:12:10: error: {SUMMARY_HINT}\n"


def test_missing_category_lists_the_known_ones(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, "--title", "A Paper", "--author", "Ada Lovelace", "--venue", "icml", "--year", "2020") == 0
    out, err = capsys.readouterr()
    assert out == "wrote papers/lovelace2020.yaml (id: lovelace2020)\n"
    text = (repo / "papers" / "lovelace2020.yaml").read_text(encoding="utf-8")
    assert 'category: ""  # TODO: one of: analysis, feature, optimization, self-supervised, teacher-student-gap\n' \
        in text
    assert "categories (set 'category' to one of these keys):\n  analysis: 蒸馏机理分析\n  feature: 特征蒸馏\n" in err
    assert "papers/lovelace2020.yaml:7:11: error: 'category' is empty; use one of the keys of " \
           "papers/_categories.yaml: analysis, feature, optimization, self-supervised, teacher-student-gap" in err


# --- never overwrite, never a duplicate ------------------------------------------------------------------------

def test_existing_file_is_never_overwritten(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = repo / "papers" / "huang2022.yaml"
    target.write_bytes(b"# someone's work in progress\n")
    assert _new(repo, "--bibtex", str(BIBTEX / "dist-arxiv-only.bib"), "--category", "feature") == 1
    assert target.read_bytes() == b"# someone's work in progress\n"
    assert capsys.readouterr().err.endswith(
        "litnotes new: error: papers/huang2022.yaml already exists and is left as it is; pass --id to choose another "
        "id, or edit that file\n")
    assert _new(repo, "--bibtex", str(BIBTEX / "dist-arxiv-only.bib"), "--category", "feature", "--id", "dist") == 0
    assert sorted(p.name for p in (repo / "papers").iterdir()) == \
        ["_categories.yaml", "_venues.yaml", "dist.yaml", "huang2022.yaml"]  # and no temporary file left behind


def test_second_record_for_the_same_paper_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(repo, "--bibtex", str(BIBTEX / "dlb-cvpr.bib"), "--category", "optimization", "--abbr", "DLB") == 0
    capsys.readouterr()
    assert _new(repo, "--title", "Another title", "--arxiv", "2203.16172", "--id", "dlb-again") == 1
    assert capsys.readouterr().err == "litnotes new: error: papers/dlb2022.yaml already records this paper (same " \
                                      "arXiv id); a paper needs exactly one record: edit that file instead, " \
                                      "or pass --update to fill in its missing fields\n"
    assert not (repo / "papers" / "dlb-again.yaml").exists()


def test_write_new_file_refuses_an_existing_file_even_without_hard_links(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: str, dst: str) -> None:
        raise PermissionError("hard links are not supported here")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "x.yaml"
    write_new_file(target, "title: new\n")
    assert target.read_text(encoding="utf-8") == "title: new\n"
    with pytest.raises(FileExistsError):
        write_new_file(target, "title: newer\n")
    assert target.read_text(encoding="utf-8") == "title: new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.yaml"]


# --- what cannot be scaffolded ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "code", "message"), [
    ((), 2, "litnotes new: error: nothing to scaffold: pass an identifier (arXiv id, DOI, OpenReview URL), --bibtex "
            "FILE, or --title with --author, --venue, --year and --category"),
    (("--title", "T", "--id", "Bad Id"), 2, "litnotes new: error: --id 'Bad Id' is not a valid id: use lowercase "
                                           "letters, digits and '-' (e.g. 'bad-id')"),
    (("--title", "T", "--venue", "ICRA"), 2, "litnotes new: error: --venue 'ICRA' is not a known venue; known: aaai, "
                                            "acmmm, arxiv, bmvc, cvpr, eccv, iccv, iclr, icml, ijcai, ijcv, neurips, "
                                            "tmlr, tpami (add it to papers/_venues.yaml first)"),
    (("--title", "T", "--category", "misc"), 2, "litnotes new: error: --category 'misc' is not a known category; "
                                               "known: analysis, feature, optimization, self-supervised, "
                                               "teacher-student-gap"),
    (("--title", "T", "--arxiv", "abc"), 2, "litnotes new: error: --arxiv 'abc' is not an arXiv id such as 2205.10536"),
    (("--title", "T", "--url", "http://example.org"), 2,
     "litnotes new: error: --url 'http://example.org' is not an https:// address"),
    (("--bibtex", "no-such.bib"), 2, "litnotes new: error: cannot read the BibTeX file no-such.bib: No such file or "
                                     "directory"),
    (("--bibtex", str(BIBTEX / "two-entries.bib")), 1,
     "litnotes new: error: the BibTeX input holds 2 entries (a2020, b2020); pass one entry at a time"),
    (("--bibtex", str(BIBTEX / "broken.bib")), 1,
     f"{BIBTEX / 'broken.bib'}:1: error: the BibTeX entry could not be parsed: Unexpectedly reached end of file; "
     "check its braces, quotes and commas"),
])
def test_what_cannot_be_scaffolded(repo: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], code: int,
                                   message: str) -> None:
    assert _new(repo, *args) == code
    out, err = capsys.readouterr()
    assert (out, err) == ("", message + "\n")
    assert sorted(p.name for p in (repo / "papers").iterdir()) == ["_categories.yaml", "_venues.yaml"]


def test_non_utf8_bibtex_is_refused(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bib = tmp_path / "latin1.bib"
    bib.write_bytes("@article{x, title={Caf\xe9}, author={A, B}, year={2020}}".encode("latin-1"))
    assert _new(repo, "--bibtex", str(bib)) == 1
    assert capsys.readouterr().err == f"litnotes new: error: {bib} is not valid UTF-8 (byte 0xe9 at offset 22); " \
                                      "save it as UTF-8\n"


def test_without_a_papers_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(tmp_path, "--title", "T") == 2
    assert "papers folder not found" in capsys.readouterr().err


# --- the YAML it writes ---------------------------------------------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(lambda t: t.strip())


@settings(max_examples=150, deadline=None)
@given(title=_TEXT, authors=st.lists(_TEXT, min_size=1, max_size=4), abbr=st.none() | _TEXT,
       bibtex=st.none() | _TEXT.map(lambda t: "@misc{k,\n  note = {" + t + "}\n}\n") | _TEXT)
def test_any_title_and_names_read_back_exactly(title: str, authors: list[str], abbr: str | None,
                                               bibtex: str | None) -> None:
    # Quotes, colons, '#', backslashes, tabs and line breaks in a field must not change what is read back.
    draft = Draft(title=title, authors=authors, abbr=abbr, venue="neurips", year=2022, category="feature",
                  bibtex=bibtex)
    data, problem = parse_yaml(Source("x.yaml", render_record(draft)))
    assert problem is None
    assert data == expected_data(draft)


def test_console_script_reads_bibtex_from_a_pipe(repo: Path) -> None:
    script = Path(sys.executable).with_name("litnotes")
    if not script.exists():
        pytest.skip("the litnotes console script is not installed next to this Python")
    run = subprocess.run([str(script), "new", "--bibtex", "-", "--category", "feature"], cwd=repo,
                         input=(BIBTEX / "kdrw-note-arxiv.bib").read_bytes(), capture_output=True, timeout=60,
                         check=False)
    assert run.returncode == 0, run.stderr.decode()
    assert run.stdout == b"wrote papers/stanton2021.yaml (id: stanton2021)\n"
    _, problems = load_knowledge_base(repo)
    assert [p.message for p in problems] == [SUMMARY_HINT]
