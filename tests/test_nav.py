"""Pages outside the nav join the section of their folder's index page (litnotes.engines.nav)."""

from __future__ import annotations

from types import SimpleNamespace

from litnotes.engines.nav import index_sections, section_of


def _page(src_uri: str):
    return SimpleNamespace(file=SimpleNamespace(src_uri=src_uri), parent=None)


def _section(title: str, *children):
    section = SimpleNamespace(title=title, children=list(children), parent=None)
    for child in children:
        child.parent = section
    return section


def test_generated_pages_find_the_section_of_their_index():
    categories = _section("分类", _page("categories/index.md"))
    papers = _section("论文", _page("papers/index.md"), categories, _page("tags.md"))
    reports = _section("周报", _page("reports/index.md"))
    sections = index_sections([_page("index.md"), papers, reports, _page("performance.md")])

    assert section_of("papers/dist2022.md", sections) is papers
    assert section_of("categories/feature.md", sections) is categories
    assert section_of("reports/2024-04-19.md", sections) is reports
    # The home page's folder is the root: no section, like top-level pages.
    assert section_of("performance.md", sections) is None
    assert section_of("math/jensen.md", sections) is None


def test_nested_folders_fall_back_to_the_nearest_index():
    papers = _section("论文", _page("papers/index.md"))
    sections = index_sections([papers])
    assert section_of("papers/2022/dist.md", sections) is papers
