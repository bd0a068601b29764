"""Finding a paper and following the threads, as a reader does it, at 1280 and 390 px.

The paper table (filters in the address, keyboard sorting with aria-sort,
Chinese order, phone columns), where a generated page sits in the navigation,
the "被提及" list on the DIST paper page and the lineage graph's links.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
SIZES = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280", "390"])

# Pinyin of the category titles (papers/_categories.yaml): the order a Chinese reader expects.
# Code point order differs: 自 (U+81EA) comes before 蒸 (U+84B8), zi after zheng in pinyin.
PINYIN = {
    "师生差距": "shi sheng cha ju",
    "特征蒸馏": "te zheng zheng liu",
    "蒸馏过程优化": "zheng liu guo cheng you hua",
    "蒸馏机理分析": "zheng liu ji li fen xi",
    "自监督与标签增强": "zi jian du yu biao qian zeng qiang",
}


def _article(page):
    return page.locator("article.md-content__inner")


def _table(page):
    return _article(page).locator(".litnotes-sortable table")


def _header(page, label: str):
    return _table(page).locator("thead th", has=page.get_by_role("button", name=label, exact=True))


def _column(page, label: str) -> list[str]:
    labels = [t.strip() for t in _table(page).locator("thead th").all_inner_texts()]
    index = labels.index(label) + 1
    return [t.strip() for t in _table(page).locator(f"tbody tr:not([hidden]) td:nth-child({index})").all_inner_texts()]


def _visible_titles(page) -> list[str]:
    return _column(page, "论文")


def _shot(page, screenshots_dir, name: str, size) -> None:
    width = size["viewport"]["width"]
    page.evaluate("document.fonts.ready.then(() => true)")
    page.screenshot(path=str(screenshots_dir / f"{name}-{width}.png"), full_page=True, animations="disabled")


# --- the paper table ---------------------------------------------------------------

@SIZES
def test_filters_live_in_the_address_and_survive_a_reload(new_page, kb, size, screenshots_dir):
    page = new_page(**size)
    page.goto("papers/")
    everyone = _visible_titles(page)
    assert len(everyone) == len(kb.papers)
    gap = [p.title for p in kb.sorted_papers() if p.category == "teacher-student-gap" and p.code]
    assert 0 < len(gap) < len(everyone), "the filter would prove nothing on these records"

    filters = _article(page).locator("form.litnotes-filters")
    filters.get_by_label("分类").select_option(label=kb.categories["teacher-student-gap"].title)
    filters.get_by_label("只看有代码").check()
    assert sorted(_visible_titles(page)) == sorted(gap)
    assert "category=teacher-student-gap" in page.url and "code=1" in page.url

    page.reload()
    assert sorted(_visible_titles(page)) == sorted(gap)
    assert filters.get_by_label("分类").input_value() == "teacher-student-gap"
    assert filters.get_by_label("只看有代码").is_checked()
    assert _article(page).locator(".litnotes-count").inner_text() == f"显示 {len(gap)} / {len(everyone)} 篇论文"
    _shot(page, screenshots_dir, "table-filtered", size)

    # Free text typed from the keyboard narrows further; a shared link opens the same view.
    filters.get_by_label("分类").select_option("")
    filters.get_by_label("筛选").click()
    page.keyboard.type("stronger teacher")
    assert _visible_titles(page) == [kb.papers["dist2022"].title]
    link = page.url
    other = new_page(**size)
    other.goto(link)
    assert _visible_titles(other) == [kb.papers["dist2022"].title]


def test_tag_venue_and_year_filters(page, kb):
    page.goto("papers/#tag=logits")
    logits = sorted(p.title for p in kb.papers.values() if "logits" in p.tags)
    assert logits and sorted(_visible_titles(page)) == logits
    page.goto("papers/#venue=iccv&year=2021")
    both = sorted(p.title for p in kb.papers.values() if p.venue == "iccv" and p.year == 2021)
    assert both and sorted(_visible_titles(page)) == both
    # Clearing brings every paper back and the address loses its filters.
    _article(page).get_by_role("button", name="清除筛选").click()
    assert len(_visible_titles(page)) == len(kb.papers)
    assert "#" not in page.url


@SIZES
def test_headers_sort_from_the_keyboard_with_aria_sort(new_page, size):
    page = new_page(**size)
    page.goto("papers/")
    header = _header(page, "年份")
    before = [int(y) for y in _column(page, "年份")]
    assert len(set(before)) > 1

    header.get_by_role("button").focus()
    page.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "ascending"
    assert [int(y) for y in _column(page, "年份")] == sorted(before)
    page.keyboard.press("Space")
    assert header.get_attribute("aria-sort") == "descending"
    assert [int(y) for y in _column(page, "年份")] == sorted(before, reverse=True)
    # One sorted column at a time.
    assert _table(page).locator("thead th[aria-sort]").count() == 1
    # The order is part of the address too.
    page.reload()
    assert _header(page, "年份").get_attribute("aria-sort") == "descending"


def test_headers_are_reached_with_tab(page):
    page.goto("papers/")
    _article(page).get_by_role("button", name="清除筛选").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('th') && document.activeElement.textContent")
    assert focused == "论文"


def test_chinese_column_sorts_in_chinese_order(page, kb):
    page.goto("papers/")
    titles = {c.title for c in kb.categories.values()}
    assert titles <= set(PINYIN), "a new category: add its pinyin to PINYIN"
    _header(page, "分类").get_by_role("button").click()
    column = _column(page, "分类")
    distinct = list(dict.fromkeys(column))
    assert distinct == sorted(set(column), key=PINYIN.__getitem__)
    assert distinct != sorted(set(column)), "code point order would give the same result: the test proves nothing"


def test_phone_shows_title_year_and_category_first(new_page, screenshots_dir):
    page = new_page(**PHONE)
    page.goto("papers/")
    heads = _table(page).locator("thead th")
    assert [t.strip() for t in heads.all_inner_texts()][:3] == ["论文", "年份", "分类"]
    for i in range(3):
        box = heads.nth(i).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, f"column {i + 1} is off-screen: {box}"
    _shot(page, screenshots_dir, "table", PHONE)


def test_category_page_has_no_category_column(page, kb):
    page.goto("categories/feature/")
    labels = [t.strip() for t in _table(page).locator("thead th").all_inner_texts()]
    assert "分类" not in labels and "年份" in labels
    assert len(_visible_titles(page)) == sum(p.category == "feature" for p in kb.papers.values())


# --- where am I --------------------------------------------------------------------

@SIZES
@pytest.mark.parametrize("path, tab, crumb", [
    ("papers/dist2022/", "论文", "论文"),
    ("categories/feature/", "论文", "分类"),
    ("venues/neurips/", "论文", "会议与期刊"),
    ("years/2022/", "论文", "年份"),
    ("reports/2024-04-19/", "周报", "周报"),
])
def test_generated_pages_sit_in_the_navigation(new_page, base_url, size, path, tab, crumb, screenshots_dir):
    page = new_page(**size)
    page.goto(path)
    if size is DESKTOP:
        active = page.locator(".md-tabs__item--active")
        assert active.count() == 1 and active.inner_text().strip() == tab
    else:
        # Phones hide the tabs; the drawer opens on the page's section.
        page.locator("header label[for=__drawer]").click()
        section = page.locator("nav.md-nav--primary .md-nav__item--active > .md-nav__link").first
        assert section.text_content().strip().startswith(tab)
        page.keyboard.press("Escape")
        page.locator("header label[for=__drawer]").evaluate("el => document.getElementById('__drawer').checked = false")
    crumbs = page.locator("nav.md-path .md-path__link")
    assert crumbs.last.inner_text().strip() == crumb
    crumbs.last.click()
    page.wait_for_load_state()
    index = {"论文": "papers/", "分类": "categories/", "会议与期刊": "venues/", "年份": "years/", "周报": "reports/"}
    assert page.url == base_url + index[crumb]
    if path.startswith("papers/"):
        _shot(page, screenshots_dir, "breadcrumb-to-papers", size)


# --- threads -----------------------------------------------------------------------

@SIZES
def test_dist_page_links_to_the_pages_that_mention_it(new_page, base_url, size, screenshots_dir):
    page = new_page(**size)
    page.goto("papers/dist2022/")
    mentioned = _article(page).locator("xpath=.//h2[starts-with(., '被提及')]/following-sibling::ul[1]")
    targets = {re.sub(r"^(\.\./)+", "", a) for a in mentioned.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")}
    assert {"reports/2024-04-19/", "code/dist-pearson/", "math/kl/"} <= targets
    mentioned.get_by_role("link", name="DIST：皮尔森距离").click()
    page.wait_for_url(base_url + "code/dist-pearson/")
    # …and the code note leads back to the paper.
    _article(page).get_by_role("link", name="Knowledge Distillation from A Stronger Teacher").click()
    page.wait_for_url(base_url + "papers/dist2022/")
    page.goto("papers/dist2022/#被提及")
    _shot(page, screenshots_dir, "paper-dist2022-mentions", size)


@SIZES
def test_lineage_graph_nodes_link_to_papers(new_page, base_url, kb, size, screenshots_dir):
    page = new_page(**size)
    page.goto("lineage/")
    svg = _article(page).locator(".litnotes-graph svg")
    hrefs = svg.locator("a").evaluate_all("els => els.map(e => e.href.baseVal)")
    assert sorted(h.strip("./").removeprefix("papers/") for h in hrefs) == sorted(kb.papers)
    box = svg.bounding_box()
    assert box and box["width"] <= size["viewport"]["width"]
    _shot(page, screenshots_dir, "lineage", size)

    page.goto("papers/dgkd2021/")
    graph = _article(page).locator(".litnotes-graph svg")
    assert graph.is_visible()
    graph.locator("a", has=page.locator("text", has_text=re.compile(r"^TAKD$"))).click()
    page.wait_for_url(base_url + "papers/takd2020/")
    page.goto("papers/dgkd2021/#相关工作")
    _shot(page, screenshots_dir, "paper-dgkd2021-lineage", size)
