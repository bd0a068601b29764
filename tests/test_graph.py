"""The lineage graph: DOT from the records, drawn by Graphviz (WebAssembly in the build's V8)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from litnotes.records.model import KnowledgeBase
from litnotes.records.validate import load_knowledge_base
from litnotes.site.graph import Viz, clean_svg, find_viz, lineage_dot, neighbourhood, page_url, relative_url
from litnotes.site.pages import render_site

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "site"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    kb, problems = load_knowledge_base(FIXTURE)
    assert problems == []
    return kb


@pytest.fixture(scope="module")
def viz() -> Viz:
    script = find_viz(ROOT)
    assert script is not None, "@viz-js/viz is not installed: run `make setup` (npm ci)"
    return Viz.shared(script)


def _chain(kb: KnowledgeBase, n: int) -> KnowledgeBase:
    """``n`` papers where each builds on the one before."""
    base = kb.papers["base2020"]
    papers = {f"p{i}": dataclasses.replace(base, id=f"p{i}", builds_on=(f"p{i - 1}",) if i else ())
              for i in range(n)}
    return KnowledgeBase(papers, kb.categories, kb.venues, (),
                         {f"p{i}": (f"p{i + 1}",) for i in range(n - 1)})


def test_addresses_of_built_pages():
    assert page_url("papers/dist2022.md") == "papers/dist2022/"
    assert page_url("papers/index.md") == "papers/"
    assert page_url("papers/dist2022.md", directory_urls=False) == "papers/dist2022.html"
    assert relative_url("papers/takd2020.md", "papers/dgkd2021.md") == "../takd2020/"
    assert relative_url("papers/takd2020.md", "lineage.md") == "../papers/takd2020/"
    assert relative_url("papers/takd2020.md", "papers/dgkd2021.md", directory_urls=False) == "takd2020.html"
    assert relative_url("papers/takd2020.md", "lineage.md", directory_urls=False) == "papers/takd2020.html"


def test_neighbourhood_is_bounded_on_a_long_chain(kb):
    chain = _chain(kb, 50)
    assert neighbourhood(chain, "p20") == {"p18", "p19", "p20", "p21", "p22"}
    assert neighbourhood(chain, "p0") == {"p0", "p1", "p2"}
    assert neighbourhood(kb, "base2020") == {"base2020", "follow2021"}
    assert neighbourhood(kb, "feat2022") == {"feat2022"}


def test_dot_has_the_chosen_papers_their_edges_and_links(kb):
    dot = lineage_dot(kb, {"base2020", "follow2021"}, lambda i: f"../{i}/", current="follow2021")
    assert '"base2020" -> "follow2021";' in dot
    assert 'URL="../base2020/"' in dot and "feat2022" not in dot
    assert re.search(r'"follow2021" \[[^\]]*style="rounded,bold"', dot)


def test_a_title_cannot_break_out_of_its_dot_string(kb, viz):
    evil = dataclasses.replace(kb.papers["base2020"], abbr='X"]; "pwn" [URL="javascript:alert(1)"]; "a\\',
                               title="<script>alert(1)</script>")
    kb2 = dataclasses.replace(kb, papers={**kb.papers, "base2020": evil})
    svg = viz.render(lineage_dot(kb2, {"base2020", "follow2021"}, lambda i: f"../{i}/"))
    assert "<title>pwn</title>" not in svg  # no node of its own: the label stayed a label
    assert sorted(re.findall(r'xlink:href="([^"]*)"', svg)) == ["../base2020/", "../follow2021/"]
    assert "<script>" not in svg


def test_drawn_graph_is_inline_svg_whose_nodes_link_to_papers(kb, viz):
    svg = clean_svg(viz.render(lineage_dot(kb, kb.papers, lambda i: f"../papers/{i}/", clusters=True)), "全部")
    assert svg.startswith("<svg ") and "<?xml" not in svg and "<!--" not in svg and "\n\n" not in svg
    assert 'aria-label="全部"' in svg
    assert sorted(re.findall(r'xlink:href="\.\./papers/([^/"]+)/"', svg)) == sorted(kb.papers)
    assert svg.count("<a ") == len(kb.papers)  # every link is a paper: no empty wrappers
    assert "http" not in re.sub(r'xmlns(:xlink)?="[^"]*"|"-//W3C[^"]*"', "", svg)  # no outside request


def test_paper_and_lineage_pages_carry_the_graph(kb, viz):
    pages = render_site(kb, draw=viz.render)
    follow = pages["papers/follow2021.md"]
    assert '<div class="litnotes-graph" data-search-exclude>' in follow
    assert 'xlink:href="../base2020/"' in follow
    assert "litnotes-graph" not in pages["papers/feat2022.md"]  # no relation, no graph
    lineage = pages["lineage.md"]
    assert all(f'xlink:href="../papers/{i}/"' in lineage for i in kb.papers)
    assert "[BASE](papers/base2020.md) → [FOLLOW](papers/follow2021.md)" in lineage


def test_without_graphviz_the_lineage_is_text(kb):
    pages = render_site(kb)
    assert "<svg" not in pages["lineage.md"] and "<svg" not in pages["papers/follow2021.md"]
    assert "[BASE](papers/base2020.md) → [FOLLOW](papers/follow2021.md)" in pages["lineage.md"]
