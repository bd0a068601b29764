"""One citation per paper: the BibTeX on a paper's page is its entry in papers.bib, byte for byte.

Checked for every record of the repository's papers/, of the site fixture and of the good checker
fixtures, on the rendered Markdown; and once on a real strict build of the site fixture, on the HTML a
reader copies from.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import bibtexparser
import pytest
from litnotes.records.validate import load_knowledge_base
from litnotes.site.exports import citation
from litnotes.site.pages import paper_path, render_site

TESTS = Path(__file__).parent
REPO = TESTS.parent
SITE = TESTS / "fixtures" / "site"
CHECK = TESTS / "fixtures" / "check"
SOURCES = {"papers": REPO, "site-fixture": SITE,
           **{f"check-{p.name}": p for p in sorted((CHECK / "good").iterdir()) if p.is_dir()}}
# The heading may carry attributes ({ data-search-exclude } keeps the section out of the search
# index), or the block sit in a wrapper that does (<div data-search-exclude …>).
_FENCE = re.compile(r"^## BibTeX(?: \{[^}\n]*\})?\n\n(?:<div [^\n]*>\n\n)?(`{3,})bibtex\n(.*?)\n\1$",
                    re.M | re.S)
# Fields the record decides from its own fields, whatever its bibtex field says.
_OWN = {"title", "author", "year", "booktitle", "journal", "howpublished"}


def _root(name: str, tmp_path: Path) -> Path:
    source = SOURCES[name]
    if not name.startswith("check-"):
        return source
    root = tmp_path / name
    shutil.copytree(source, root)
    for taxonomy in ("_categories.yaml", "_venues.yaml"):
        if not (root / "papers" / taxonomy).exists():
            shutil.copy(CHECK / "_base" / "papers" / taxonomy, root / "papers" / taxonomy)
    if not (root / "docs").exists():
        shutil.copytree(CHECK / "_base" / "docs", root / "docs")
    return root


def _page_bibtex(page: str) -> str:
    m = _FENCE.search(page)
    assert m, "the paper page has no BibTeX block"
    return m.group(2) + "\n"


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_page_bibtex_and_papers_bib_are_byte_identical(name: str, tmp_path: Path) -> None:
    kb, problems = load_knowledge_base(_root(name, tmp_path))
    assert problems == [] and kb.papers
    pages = render_site(kb)
    shown = [_page_bibtex(pages[paper_path(k)]) for k in sorted(kb.papers)]
    assert pages["papers.bib"] == "\n".join(shown)
    assert shown == [citation(kb.papers[k], kb) for k in sorted(kb.papers)]


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_field_the_record_knows_is_in_its_entry(name: str, tmp_path: Path) -> None:
    kb, _ = load_knowledge_base(_root(name, tmp_path))
    library = bibtexparser.parse_string(render_site(kb)["papers.bib"])
    assert not library.failed_blocks
    assert [e.key for e in library.entries] == sorted(kb.papers)  # one key scheme: the record's id
    for entry in library.entries:
        paper = kb.papers[entry.key]
        got = {f.key: f.value for f in entry.fields}
        assert got["year"] == str(paper.year)
        assert len(got["author"].split(" and ")) == len(paper.authors)
        if paper.arxiv:
            assert got["eprint"] == paper.arxiv and got["archiveprefix"] == "arXiv"
        if paper.doi:
            assert got["doi"] == paper.doi
        if paper.url:
            assert got["url"] == paper.url
        if paper.bibtex:
            pasted = bibtexparser.parse_string(paper.bibtex).entries[0]
            for field in pasted.fields:
                if field.key.lower() in _OWN or (field.key.lower() in ("eprint", "doi", "url") and got.get(field.key)):
                    continue
                assert " ".join(got[field.key.lower()].split()) == " ".join(field.value.split()), (entry.key, field.key)


def test_the_fixture_record_with_a_bibtex_field_keeps_its_pages_volume_and_doi() -> None:
    kb, _ = load_knowledge_base(SITE)
    entry = citation(kb.papers["feat2022"], kb)
    for line in ("  pages = {1--10}", "  volume = {3}", "  number = {2}", "  publisher = {IEEE}",
                 "  doi = {10.1109/CVPR.2022.00001}", "  eprint = {2201.00001}"):
        assert line in entry.splitlines() or line + "," in entry.splitlines(), line
    assert entry.startswith("@inproceedings{feat2022,\n")  # the id, not the key written in the bibtex field


def test_built_page_shows_the_papers_bib_entry(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(SITE / "mkdocs.yml"),
                             "-d", str(out)], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr
    bib = (out / "papers.bib").read_text(encoding="utf-8")
    kb, _ = load_knowledge_base(SITE)
    for key in sorted(kb.papers):
        page = (out / "papers" / key / "index.html").read_text(encoding="utf-8")
        block = page[page.index('id="bibtex"'):]
        code = re.search(r"<code[^>]*>(.*?)</code>", block, re.S)
        assert code, key
        text = html.unescape(re.sub(r"<[^>]+>", "", code.group(1)))
        assert text in bib and text.startswith("@") and f"{{{key}," in text, key
        assert text == citation(kb.papers[key], kb), key
