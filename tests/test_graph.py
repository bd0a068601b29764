"""The lineage graph: DOT from the records, drawn by Graphviz (WebAssembly in the build's V8)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from litnotes.records.model import KnowledgeBase
from litnotes.records.validate import load_knowledge_base
from litnotes.site.graph import (
    CATEGORY_LIMIT,
    Viz,
    category_lineages,
    clean_svg,
    find_viz,
    lineage_dot,
    neighbourhood,
    page_url,
    relative_url,
)
from litnotes.site.pages import paper_page, render_site

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


def _with_unrelated(kb: KnowledgeBase, *ids: str, category: str = "teacher-student-gap", **fields) -> KnowledgeBase:
    """``kb`` plus papers of ``category`` that build on nothing and that nothing builds on."""
    base = next(iter(kb.papers.values()))
    extra = {i: dataclasses.replace(base, **{"id": i, "abbr": i.upper(), "title": f"Unrelated {i}", "year": 2023,
                                             "category": category, "builds_on": (), **fields}) for i in ids}
    return dataclasses.replace(kb, papers={**kb.papers, **extra})


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


# --- a paper without relations: its category's lineage, and it beside as its own node ---------------------

def test_category_lineages_keep_relations_inside_a_category(kb):
    assert category_lineages(kb) == {"teacher-student-gap": (frozenset({"base2020", "follow2021"}), 0)}
    # A relation across categories is no lineage of either: feat2022 building on base2020 adds nothing.
    across = dataclasses.replace(kb, papers={**kb.papers, "feat2022": dataclasses.replace(
        kb.papers["feat2022"], builds_on=("base2020",))})
    assert category_lineages(across) == category_lineages(kb)


def test_category_lineages_are_capped_keeping_the_best_connected(kb):
    chain = _chain(kb, 30)  # p0 -> p1 -> ... -> p29, all in base2020's category
    ids, left_out = category_lineages(chain, limit=5)["teacher-student-gap"]
    assert len(ids) == 5 and left_out == 25
    assert "p0" not in ids and "p29" not in ids  # the ends have one relation, the others two
    assert category_lineages(chain)["teacher-student-gap"][1] == 30 - CATEGORY_LIMIT


def test_unrelated_paper_shows_its_category_lineage_and_says_what_it_is(kb, viz):
    pages = render_site(_with_unrelated(kb, "alone2023"), draw=viz.render)
    page = pages["papers/alone2023.md"]
    assert "## 所在分类的脉络" in page
    assert ("ALONE2023 未记录 `builds_on`，也没有论文记录基于它。下图是同一分类「[师生差距]"
            "(../categories/teacher-student-gap.md)」中论文的脉络，供定位，不表示 ALONE2023 继承了它们；"
            "单独加粗的 ALONE2023 是本文，与图中论文之间没有连线。\n") in page
    assert "在记录 papers/base2020.yaml 中写 `builds_on: [论文 id]`" in page  # the record's file (copied)
    box = re.search(r'<div class="litnotes-graph litnotes-graph-context" data-search-exclude>\n(.*?)\n</div>',
                    page, re.S).group(1)
    own, svg = box.split("\n", 1)
    assert own == '<a class="litnotes-graph-own" href="./" title="Unrelated alone2023 (2023)">ALONE2023</a>'
    assert 'aria-label="分类「师生差距」中论文的脉络"' in svg
    assert sorted(re.findall(r'xlink:href="([^"]*)"', svg)) == ["../base2020/", "../follow2021/"]
    assert svg.count('class="edge"') == 1 and "alone2023" not in svg  # no edge was made up for it
    # Papers with relations of their own keep their own graph; a paper alone in its category shows none.
    follow = pages["papers/follow2021.md"]
    assert "所在分类的脉络" not in follow and '<div class="litnotes-graph" data-search-exclude>' in follow
    assert "litnotes-graph" not in pages["papers/feat2022.md"]
    # Without Graphviz nothing is drawn, and nothing is said about a picture that is not there.
    assert "所在分类的脉络" not in render_site(_with_unrelated(kb, "alone2023"))["papers/alone2023.md"]


def test_the_category_graph_is_drawn_once_for_all_its_unrelated_papers(kb, viz):
    dots: list[str] = []

    def draw(dot: str) -> str:
        dots.append(dot)
        return viz.render(dot)

    pages = render_site(_with_unrelated(kb, "alone2023", "lone2024"), draw=draw)
    assert "## 所在分类的脉络" in pages["papers/alone2023.md"] and "## 所在分类的脉络" in pages["papers/lone2024.md"]
    category_graphs = [d for d in dots if "litnotes-graph-current" not in d and "cluster_" not in d]
    assert len(category_graphs) == 1


def test_a_capped_category_graph_says_how_many_are_left_out(kb, viz):
    chain = _chain(kb, CATEGORY_LIMIT + 7)
    pages = render_site(_with_unrelated(chain, "alone2023"), draw=viz.render)
    page = pages["papers/alone2023.md"]
    assert ("该分类另有 7 篇有“基于”关系的论文未画出：分类页「[师生差距](../categories/teacher-student-gap.md)」"
            "列出它的全部论文，[全部论文的脉络](../lineage.md)画出全部关系。") in page
    svg = page.split('<div class="litnotes-graph litnotes-graph-context"', 1)[1].split("</div>", 1)[0]
    assert len(re.findall(r"xlink:href=", svg)) == CATEGORY_LIMIT


def test_the_own_node_escapes_the_record(kb, viz):
    evil = _with_unrelated(kb, "alone2023", abbr='<img src=x onerror=alert(1)>', title='A" onmouseover="alert(1)')
    page = render_site(evil, draw=viz.render)["papers/alone2023.md"]
    assert "<img" not in page and 'title="A&quot; onmouseover=&quot;alert(1) (2023)"' in page
    assert ">&lt;img src=x onerror=alert(1)&gt;</a>" in page


def _build(kb: KnowledgeBase, cache: Path) -> tuple[dict[str, str], Viz]:
    """The pages of one build in a new process: a new Graphviz, nothing in memory, the disk cache at ``cache``."""
    script = find_viz(ROOT)
    assert script is not None, "@viz-js/viz is not installed: run `make setup` (npm ci)"
    viz = Viz(script, cache)
    with viz.drawing() as draw:
        return render_site(kb, draw=draw), viz


def _with_pair(kb: KnowledgeBase, title: str = "Pair one") -> KnowledgeBase:
    """``kb`` plus two papers, the second building on the first, related to nothing else."""
    base = kb.papers["feat2022"]
    pair = {"pair0": dataclasses.replace(base, id="pair0", abbr="P0", title=title, builds_on=()),
            "pair1": dataclasses.replace(base, id="pair1", abbr="P1", title="Pair two", builds_on=("pair0",))}
    return dataclasses.replace(kb, papers={**kb.papers, **pair}, built_on_by={**kb.built_on_by, "pair0": ("pair1",)})


def test_a_second_build_draws_nothing_and_a_changed_graph_is_redrawn(kb, tmp_path):
    first, viz = _build(_with_pair(kb), tmp_path)
    drawn = viz.draws
    assert drawn >= 4 and list(tmp_path.glob("graphviz-*.json"))
    again, viz = _build(_with_pair(kb), tmp_path)
    assert viz.draws == 0 and again == first
    # A new title changes the graphs that show the paper (the pair's pages, their category's, the whole
    # lineage), not the others.
    pages, viz = _build(_with_pair(kb, title="Renamed"), tmp_path)
    assert viz.draws == 4 < drawn
    assert "Renamed (" in pages["papers/pair1.md"] and "Renamed (" in pages["lineage.md"]


@pytest.mark.parametrize("damage", ["truncated", "not text", "wrong entry"])
def test_a_damaged_cache_is_redrawn(kb, tmp_path, damage):
    first, viz = _build(kb, tmp_path)
    (cache,) = tmp_path.glob("graphviz-*.json")
    text = cache.read_text(encoding="utf-8")
    if damage == "truncated":
        cache.write_text(text[: len(text) // 2], encoding="utf-8")
    elif damage == "not text":
        cache.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    else:  # one entry that is not an SVG string: that graph alone is drawn again
        entries = json.loads(text)
        entries[next(iter(entries))] = 42
        cache.write_text(json.dumps(entries), encoding="utf-8")
    pages, viz = _build(kb, tmp_path)
    assert pages == first
    assert viz.draws == (1 if damage == "wrong entry" else len(json.loads(text)))
    # The cache is whole again: the next build draws nothing.
    assert _build(kb, tmp_path)[1].draws == 0


def test_drawings_of_another_graphviz_are_not_used(kb, tmp_path):
    _build(kb, tmp_path)
    (cache,) = tmp_path.glob("graphviz-*.json")
    stale = tmp_path / "graphviz-0000000000000000.json"
    cache.rename(stale)
    assert _build(kb, tmp_path)[1].draws > 0


_TWINS = """
import dataclasses, sys
from pathlib import Path
from litnotes.records.validate import load_knowledge_base
from litnotes.site.graph import lineage_dot
kb, _ = load_knowledge_base(Path(sys.argv[1]))
base = kb.papers["base2020"]
twins = {f"twin{i}": dataclasses.replace(base, id=f"twin{i}", builds_on=("base2020",)) for i in range(8)}
kb = dataclasses.replace(kb, papers={**kb.papers, **twins})
print(lineage_dot(kb, kb.papers, lambda i: i))
"""


def test_the_dot_of_papers_with_the_same_year_and_label_does_not_depend_on_hashing():
    # Papers tied on year and label came out in set order, which differs between processes: the graph was
    # drawn anew on every build (its DOT is the cache key) and its layout could change.
    import os
    import subprocess
    import sys

    dots = {subprocess.run([sys.executable, "-c", _TWINS, str(FIXTURE)], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout for seed in range(4)}
    assert len(dots) == 1


def test_a_cache_that_cannot_be_written_costs_time_not_the_build(kb, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("", encoding="utf-8")  # the cache folder's place is taken by a file
    pages, viz = _build(kb, blocked)
    assert viz.draws > 0 and pages == render_site(kb, draw=Viz(find_viz(ROOT)).render)
    assert _build(kb, blocked)[1].draws == viz.draws  # nothing was kept: all drawn again


def test_one_papers_page_is_the_page_the_whole_site_has(kb, viz):
    # The preview renders an edited record's page alone (litnotes.engines.mkdocs_quick): the same
    # page, with its lineage or its category's, and the pages that mention it.
    unrelated = _with_unrelated(kb, "alone2023")
    handwritten = {"index.md": "见 [BASE](papers/base2020.md)。\n", "notes.md": "::: paper alone2023\n"}
    for draw in (viz.render, None):
        pages = render_site(unrelated, edit_base="https://example.org/edit/", handwritten=handwritten, draw=draw)
        for pid in unrelated.papers:
            one = paper_page(unrelated, pid, edit_base="https://example.org/edit/", handwritten=handwritten,
                             draw=draw)
            assert one == pages[f"papers/{pid}.md"], pid
    assert "index.md" in paper_page(unrelated, "base2020", handwritten=handwritten)  # mentions are there
