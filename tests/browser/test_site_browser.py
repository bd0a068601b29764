"""The site as a reader sees it: navigation, Chinese search, math, offline use, phones, dark mode.

Each test drives the built site in Chromium (fixtures in conftest.py). The
tests about requests and console errors come last: they visit the pages of the
site and also judge everything the earlier tests' pages did.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from search_box import type_query

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
REPORT = "reports/2024-04-19/"


def _path(url: str, base_url: str) -> str:
    """A page URL as a site path: 'papers/dist2022/' ('' for the home page)."""
    return urlsplit(url).path.removeprefix(urlsplit(base_url).path)


def _site_pages(site_dir: Path) -> list[str]:
    return sorted("" if p.parent == site_dir else p.parent.relative_to(site_dir).as_posix() + "/"
                  for p in site_dir.rglob("index.html"))


def _page_of(markdown: Path) -> str:
    """The site path of a docs/ file: docs/math/jensen.md -> 'math/jensen/'."""
    rel = markdown.relative_to(ROOT / "docs").with_suffix("")
    parts = rel.parts[:-1] if rel.name == "index" else rel.parts
    return "".join(f"{part}/" for part in parts)


def _article(page):
    return page.locator("article.md-content__inner")


def _heading(page) -> str:
    """The page's h1 without the paper's short name shown beside the title."""
    h1 = _article(page).locator("h1").first
    text = h1.evaluate("h => [...h.childNodes].filter(n => !n.classList?.contains('litnotes-abbr'))"
                       ".map(n => n.textContent).join('')")
    return text.replace("¶", "").strip()


# --- navigation ------------------------------------------------------------------

def test_home_to_category_to_paper_to_code_link(page, base_url, kb):
    paper = next(p for p in kb.sorted_papers() if p.code)
    category = kb.categories[paper.category]

    page.goto("")
    _article(page).get_by_role("link", name=category.title, exact=True).click()
    page.wait_for_url(f"{base_url}categories/{paper.category}/")
    assert _heading(page) == category.title

    _article(page).get_by_role("link", name=paper.title, exact=True).click()
    page.wait_for_url(f"{base_url}papers/{paper.id}/")
    assert _heading(page) == paper.title

    # The code link leaves the site: check where it points, do not follow it.
    code = _article(page).get_by_role("link", name="官方代码")
    assert code.is_visible()
    assert code.get_attribute("href") == paper.code


def test_report_to_paper_and_back_through_reverse_link(page, base_url, kb):
    dgkd, takd = kb.papers["dgkd2021"], kb.papers["takd2020"]
    assert "takd2020" in dgkd.builds_on, "the records no longer say DGKD builds on TAKD; pick another pair"

    page.goto(REPORT)
    _article(page).locator("h3").get_by_role("link", name=dgkd.title, exact=True).click()
    page.wait_for_url(f"{base_url}papers/dgkd2021/")
    assert _heading(page) == dgkd.title

    bases = _article(page).locator("xpath=.//p[strong[starts-with(., '基于')]]/following-sibling::ul[1]")
    bases.get_by_role("link", name=takd.label, exact=True).click()
    page.wait_for_url(f"{base_url}papers/takd2020/")
    assert _heading(page) == takd.title

    later = _article(page).locator("xpath=.//p[strong[starts-with(., '后续工作')]]/following-sibling::ul[1]")
    later.get_by_role("link", name=dgkd.label, exact=True).click()
    page.wait_for_url(f"{base_url}papers/dgkd2021/")
    assert _heading(page) == dgkd.title


def test_paper_without_builds_on_shows_its_category_lineage(page, base_url, kb):
    dist, takd, dgkd = kb.papers["dist2022"], kb.papers["takd2020"], kb.papers["dgkd2021"]
    assert not dist.builds_on and not kb.built_on_by.get("dist2022"), "DIST now has a relation: it shows its own graph"
    page.goto("papers/dist2022/")
    section = _article(page).locator("xpath=.//h2[starts-with(., '所在分类的脉络')]")
    caption = section.locator("xpath=following-sibling::p[1]")
    assert caption.inner_text().startswith(
        "DIST 未记录 builds_on，也没有论文记录基于它。下图是同一分类「师生差距」中论文的脉络，供定位，不表示 DIST 继承了它们")
    graph = section.locator("xpath=following-sibling::div[contains(@class, 'litnotes-graph')][1]")
    own = graph.locator("a.litnotes-graph-own")
    assert own.inner_text() == dist.label and own.is_visible()
    svg = graph.locator("svg")
    assert svg.is_visible() and svg.get_attribute("aria-label") == "分类「师生差距」中论文的脉络"
    labels = svg.locator("a text").all_text_contents()
    assert sorted(labels) == sorted([takd.label, dgkd.label])  # DIST is not in the lineage, nor joined to it
    assert svg.locator(".edge").count() == 1
    assert "builds_on:" in section.locator("xpath=following-sibling::p[2]").inner_text()
    svg.locator("a", has=page.locator("text", has_text=re.compile(r"^TAKD$"))).click()
    page.wait_for_url(f"{base_url}papers/takd2020/")
    assert _heading(page) == takd.title


# --- search ----------------------------------------------------------------------

# Scroll the result list away from its end and back, a frame apart: Material
# renders a few more results each time the end of the list comes into view.
_SHOW_MORE_RESULTS = """el => new Promise(done => {
  el.scrollTo(0, 0);
  requestAnimationFrame(() => requestAnimationFrame(() => { el.scrollTo(0, el.scrollHeight); done(); }));
})"""


def _search(page, base_url: str, query: str) -> list[str]:
    """Type ``query`` into Material's search box; return the result pages, best first."""
    meta = type_query(page, query)
    total = int(m.group()) if (m := re.search(r"\d+", meta.inner_text())) else 0
    items = page.locator(".md-search-result__item")
    while (shown := items.count()) < total:
        page.locator(".md-search__scrollwrap").evaluate(_SHOW_MORE_RESULTS)
        page.wait_for_function(f"document.querySelectorAll('.md-search-result__item').length > {shown}",
                               timeout=5_000)
    pages: list[str] = []
    for href in page.locator("a.md-search-result__link").evaluate_all("els => els.map(e => e.href)"):
        path = _path(href.split("#")[0].split("?")[0], base_url)
        if path not in pages:
            pages.append(path)
    return pages


def test_search_finds_a_chinese_word_inside_a_summary(page, base_url, kb):
    # 皮尔森 is findable only if jieba cut 皮尔森系数 into words at build time.
    found = _search(page, base_url, "皮尔森")
    assert "papers/dist2022/" in found, (
        f"searching 皮尔森 does not find the DIST paper page; it finds {found}. "
        f"DIST's summary in papers/dist2022.yaml is {kb.papers['dist2022'].summary!r}")


def test_search_finds_the_papers_about_teacher_models(page, base_url, kb):
    expected = {f"papers/{p.id}/" for p in kb.papers.values()
                if "教师模型" in p.title + p.summary + (p.notes or "")}
    assert len(expected) >= 2, "fewer than two records mention 教师模型: the test would prove little"
    found = _search(page, base_url, "教师模型")
    missing = sorted(expected - set(found))
    assert not missing, f"searching 教师模型 misses {missing}; it finds {found}"


@pytest.mark.parametrize("query", ["皮尔森", "教师模型"])
def test_search_still_lists_what_it_listed_before_the_index_was_trimmed(page, base_url, query):
    # The index leaves out what repeats other pages (tests/test_search_index.py): no page a reader
    # found with these queries may go missing from Material's results.
    from test_search_index import FOUND_BEFORE_TRIMMING

    found = _search(page, base_url, query)
    missing = [p for p in FOUND_BEFORE_TRIMMING[query] if p not in found]
    assert not missing, f"searching {query} no longer lists {missing}; it lists {found}"


def test_search_finds_a_word_from_an_english_title(page, base_url, kb):
    kcd = kb.papers["kcd2022"]
    assert "Condensation" in kcd.title
    found = _search(page, base_url, "Condensation")
    assert "papers/kcd2022/" in found, f"searching Condensation does not find KCD's page; it finds {found}"


# --- math ------------------------------------------------------------------------

# Raw TeX a reader would see if a formula was not rendered.
_RAW_TEX = re.compile(r"\$\$|\\\(|\\\[|\\begin\{|\$[^\s$]([^$\n]*[^\s$])?\$")

_MATH_STATE = """async () => {
  await document.fonts.ready;
  const article = document.querySelector("article");
  const formulas = article.querySelectorAll(".katex");
  const first = formulas[0];
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {
    acceptNode: n => n.parentElement.closest(".katex, pre, code, script") ? NodeFilter.FILTER_REJECT
                                                                            : NodeFilter.FILTER_ACCEPT});
  let text = "";
  while (walker.nextNode()) text += walker.currentNode.textContent;
  return {
    formulas: formulas.length,
    visible: [...formulas].some(el => el.getBoundingClientRect().width > 0),
    errors: [...document.querySelectorAll(".katex-error")].map(el => el.textContent).slice(0, 3),
    fontFamily: first ? getComputedStyle(first).fontFamily : "",
    faces: [...document.fonts].filter(f => f.family.replace(/"/g, "").startsWith("KaTeX"))
                              .map(f => [f.family.replace(/"/g, ""), f.status]),
    text,
  };
}"""


def test_formulas_show_as_katex_with_fonts_from_the_site(page, site_dir, traffic):
    pages = [p for p in _site_pages(site_dir) if 'class="katex' in (site_dir / p / "index.html").read_text("utf-8")]
    # The math section's pages are derivations: each must show formulas (its index need not).
    derivations = sorted(_page_of(md) for md in (ROOT / "docs" / "math").glob("*.md") if md.stem != "index")
    if not derivations and not pages:
        pytest.skip("no page has formulas yet (docs/math/ is not written)")
    unrendered = sorted(set(derivations) - set(pages))
    assert not unrendered, f"math pages without any KaTeX output: {unrendered}"

    fonts: list[tuple[str, int]] = []
    page.on("response", lambda r: re.search(r"\.(woff2?|ttf)(\?|$)", r.url) and fonts.append((r.url, r.status)))
    problems = []
    for path in pages:
        fonts.clear()
        page.goto(path)
        state = page.evaluate(_MATH_STATE)
        where = f"/{path}"
        if not state["visible"]:
            problems.append(f"{where}: none of its {state['formulas']} formulas is visible")
        if state["errors"]:
            problems.append(f"{where}: .katex-error (KaTeX could not parse): {state['errors']}")
        if (raw := _RAW_TEX.search(state["text"])):
            problems.append(f"{where}: raw TeX shown as text: {raw.group(0)!r}")
        if "KaTeX_Main" not in state["fontFamily"]:
            problems.append(f"{where}: KaTeX's stylesheet is not applied (font-family {state['fontFamily']!r})")
        if not any(status == "loaded" for _, status in state["faces"]):
            problems.append(f"{where}: no KaTeX font loaded (document.fonts: {state['faces']})")
        if (broken := sorted({family for family, status in state["faces"] if status == "error"})):
            problems.append(f"{where}: KaTeX fonts failed to load: {broken}")
        if not fonts:
            problems.append(f"{where}: no font file was downloaded")
        problems += [f"{where}: font {url} answered {status}" for url, status in fonts if status != 200]
        problems += [f"{where}: font from outside the site: {url}" for url, _ in fonts if not traffic.is_local(url)]
    assert not problems, "\n".join(problems)


# --- phone, dark mode, sortable table --------------------------------------------

_OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")]
    .filter(el => el.getBoundingClientRect().right > width + 1)
    .filter(el => !el.parentElement.closest("pre, .md-typeset__scrollwrap, .katex-display"))
    .slice(0, 5)
    .map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
               (typeof el.className === "string" && el.className ? "." + el.className.split(" ")[0] : ""));
  return {scrollWidth: document.documentElement.scrollWidth, clientWidth: width, wide};
}"""


@pytest.mark.parametrize("path", ["", "papers/dgkd2021/", "papers/kcd2022/", "papers/dist2022/"])
def test_no_horizontal_overflow_on_a_phone(new_page, path):
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(path)
    page.evaluate("document.fonts.ready.then(() => true)")
    size = page.evaluate(_OVERFLOW)
    assert size["scrollWidth"] <= size["clientWidth"], (
        f"/{path} scrolls sideways at 390×844: {size['scrollWidth']} px of content for {size['clientWidth']} px; "
        f"elements past the right edge: {size['wide']}")


def test_palette_toggle_switches_light_and_dark(page):
    page.goto("")
    body = page.locator("body")
    toggle = page.locator("form[data-md-component=palette] label:not([hidden])")

    def state() -> tuple[str | None, str]:
        return (body.get_attribute("data-md-color-scheme"),
                body.evaluate("el => getComputedStyle(el).backgroundColor"))

    light = state()
    assert light[0] == "default"
    toggle.click()
    page.wait_for_function("document.body.dataset.mdColorScheme === 'slate'")
    dark = state()
    assert dark[1] != light[1], "the scheme attribute changed but the page background did not"
    toggle.click()
    page.wait_for_function("document.body.dataset.mdColorScheme === 'default'")
    assert state() == light


def test_clicking_the_year_header_sorts_the_paper_table(page):
    page.goto("papers/")
    table = _article(page).locator(".litnotes-sortable table")
    column = table.locator("thead th").all_inner_texts().index("年份")
    header = table.locator("thead th").nth(column)

    def years() -> list[int]:
        return [int(y) for y in table.locator(f"tbody tr td:nth-child({column + 1})").all_inner_texts()]

    before = years()
    assert len(set(before)) > 1, "all papers share a year: sorting by year would prove nothing"
    header.click()
    ascending = years()
    assert ascending == sorted(before) and ascending != before
    header.click()
    assert years() == sorted(before, reverse=True)


# --- screenshots (artifacts/screenshots/, for a person to look at) -----------------

@pytest.mark.parametrize("name, path, phone", [
    ("home", "", False),
    ("home-phone", "", True),
    ("paper-dgkd2021", "papers/dgkd2021/", False),
    ("math-jensen", "math/jensen/", False),
])
def test_screenshot(new_page, site_dir, screenshots_dir, name, path, phone):
    if not (site_dir / path / "index.html").exists():
        pytest.skip(f"/{path} is not in the site yet")
    size = {"viewport": {"width": 390, "height": 844}, "is_mobile": True} if phone else {}
    page = new_page(**size)
    page.goto(path)
    page.evaluate("document.fonts.ready.then(() => true)")
    out = screenshots_dir / f"{name}.png"
    page.screenshot(path=str(out), full_page=True, animations="disabled")
    assert out.stat().st_size > 10_000


# --- offline and console: the pages of the site, and all the tests above did ---------

def _pages_to_crawl(site_dir: Path) -> list[str]:
    """Every hand-written page and every section index; one page of each generated kind (they share a template)."""
    hand_written = {_page_of(md) for md in (ROOT / "docs").rglob("*.md")}
    chosen, sampled = [], set()
    for path in _site_pages(site_dir):
        parent = path.rstrip("/").rpartition("/")[0]
        if path in hand_written or not parent:
            chosen.append(path)
        elif parent not in sampled:
            sampled.add(parent)
            chosen.append(path)
    return chosen


@pytest.fixture(scope="module")
def crawled(open_page, site_dir):
    page = open_page()
    pages = _pages_to_crawl(site_dir)
    for path in pages:
        page.goto(path)
        page.evaluate("document.fonts.ready.then(() => true)")
    page.context.close()
    return pages


def _listing(pairs: list[tuple[str, str]], base_url: str) -> str:
    """One line per distinct problem, with the pages it happened on."""
    where: dict[str, list[str]] = {}
    for page_url, what in pairs:
        pages = where.setdefault(what, [])
        if (path := "/" + _path(page_url, base_url)) not in pages:
            pages.append(path)
    return "\n".join(f"{what} — on {len(pages)} page(s): {', '.join(pages[:5])}{' …' if len(pages) > 5 else ''}"
                     for what, pages in where.items())


def test_no_request_leaves_the_site(crawled, traffic, base_url):
    assert len(traffic.requests) > len(crawled)
    outside = [(where, url) for where, url in traffic.requests if not traffic.is_local(url)]
    assert not outside, f"requests leaving 127.0.0.1:\n{_listing(outside, base_url)}"


def test_no_console_errors_and_no_missing_files(crawled, traffic, base_url):
    problems = traffic.console_errors + traffic.page_errors + traffic.failed_responses
    assert not problems, f"errors in the browser:\n{_listing(problems, base_url)}"
