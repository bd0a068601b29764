"""Reading the site on a phone and finding and following it: equation numbers, Chinese line
breaks, charts, search ranking, the feed.

Each test drives the built site in Chromium (fixtures in conftest.py) at a phone's width
(390 px, some also 360 px) and, where the layout differs, at 1280 px.
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from search_box import type_query

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
SMALL_PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
SIZES = {"390": PHONE, "360": SMALL_PHONE, "1280": DESKTOP}
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def reader(new_page):
    """A page of the given size (390, 360 or 1280 px wide), patient with a busy machine."""
    def open_reader(size: str = "1280"):
        page = new_page(**SIZES[size])
        page.set_default_timeout(30_000)
        return page
    return open_reader


def _pages_under(site_dir: Path, *sections: str) -> list[str]:
    return sorted(p.parent.relative_to(site_dir).as_posix() + "/"
                  for section in sections for p in (site_dir / section).rglob("index.html"))


# --- equation numbers beside their formulas ------------------------------------------

_TAGS = """async () => {
  await document.fonts.ready;
  const width = document.documentElement.clientWidth;
  const problems = [];
  const tags = [...document.querySelectorAll("article .katex-tag")];
  for (const tag of tags) {
    const box = tag.closest(".math-display");
    const name = `(${tag.textContent.trim()})${box && box.id ? " #" + box.id : ""}`;
    if (!box) { problems.push(`${name}: not inside a .math-display`); continue; }
    const scroller = box.querySelector(".katex-display");
    const clip = scroller.getBoundingClientRect();
    const t = tag.getBoundingClientRect();
    if (t.width < 1 || t.height < 1) problems.push(`${name}: not drawn`);
    if (t.left < -0.5 || t.right > width + 0.5)
      problems.push(`${name}: off the screen (${t.left.toFixed(0)}–${t.right.toFixed(0)} px of ${width})`);
    // The part of each piece of the formula that is in view (its box may scroll).
    for (const base of box.querySelectorAll(".katex-html > .katex-base")) {
      const r = base.getBoundingClientRect();
      const left = Math.max(r.left, clip.left), right = Math.min(r.right, clip.right);
      const top = Math.max(r.top, clip.top), bottom = Math.min(r.bottom, clip.bottom);
      if (right - left < 1 || bottom - top < 1) continue;
      const dx = Math.min(right, t.right) - Math.max(left, t.left);
      const dy = Math.min(bottom, t.bottom) - Math.max(top, t.top);
      if (dx > 0.5 && dy > 0.5) { problems.push(`${name}: drawn over its formula (${dx.toFixed(1)} px)`); break; }
    }
    const style = getComputedStyle(scroller);
    if (scroller.scrollWidth > scroller.clientWidth + 1 && !["auto", "scroll"].includes(style.overflowX))
      problems.push(`${name}: the formula is wider than its box and cannot scroll (overflow-x: ${style.overflowX})`);
  }
  return {tags: tags.length, problems,
          sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth};
}"""


@pytest.mark.parametrize("size", ["390", "360", "1280"])
def test_equation_numbers_never_cover_their_formulas(reader, site_dir, size):
    pages = [p for p in _pages_under(site_dir, "math", "code")
             if 'class="katex' in (site_dir / p / "index.html").read_text("utf-8")]
    assert pages, "no math or code page has formulas"
    page = reader(size)
    problems, tags = [], 0
    for path in pages:
        page.goto(path)
        state = page.evaluate(_TAGS)
        tags += state["tags"]
        problems += [f"/{path} {p}" for p in state["problems"]]
        if state["sideways"] > 0:
            problems.append(f"/{path}: the page scrolls sideways by {state['sideways']} px")
    assert tags >= 4, f"only {tags} numbered equations on {pages}: the test would prove little"
    assert not problems, f"at {size} px:\n" + "\n".join(problems)


# --- Chinese punctuation and line breaks ------------------------------------------------

# For each width of the text column, every Chinese closing mark that starts a line that is
# not its block's first: a reader sees "。" alone at the start of a line.
_PUNCTUATION_AT_LINE_START = r"""(widths) => {
  const article = document.querySelector("article.md-content__inner");
  const marks = /[。，、；：？！）」』】》]/;
  const skip = "pre, code, script, style, .katex, .md-typeset__table, .math-display";
  const found = new Set();
  const saved = article.style.width;
  for (const w of widths) {
    article.style.width = w + "px";
    const edges = new Map();  // per block: the bottom of its first line, its left edge
    const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {
      acceptNode: n => n.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
    while (walker.nextNode()) {
      const node = walker.currentNode;
      const text = node.textContent;
      for (let i = 0; i < text.length; i++) {
        if (!marks.test(text[i])) continue;
        const range = document.createRange();
        range.setStart(node, i); range.setEnd(node, i + 1);
        const r = range.getClientRects()[0];
        if (!r) continue;
        const block = node.parentElement.closest("p, li, td, th, dd, dt, h1, h2, h3, h4, h5, h6, summary, div");
        if (!edges.has(block)) {
          const all = document.createRange();
          all.selectNodeContents(block);
          const first = all.getClientRects()[0];
          edges.set(block, {firstBottom: first ? first.bottom : Infinity,
                            left: block.getBoundingClientRect().left + parseFloat(getComputedStyle(block).paddingLeft)});
        }
        const {firstBottom, left} = edges.get(block);
        if (r.top > firstBottom - 1 && r.left - left < 1) {
          const before = (node.previousSibling ? node.previousSibling.textContent : "") + text.slice(0, i);
          found.add(`"…${before.slice(-12)}" then "${text.slice(i, i + 6)}…" (column ${w} px)`);
        }
      }
    }
  }
  article.style.width = saved;
  return [...found].slice(0, 10);
}"""


def test_chinese_punctuation_never_starts_a_line_after_math(reader, site_dir):
    # Columns from a small phone's to a large one's, 5 px apart: a break before a mark
    # happens at some width or other, wherever a formula ends near the end of a line.
    widths = list(range(250, 391, 5))
    pages = [p for p in _pages_under(site_dir, "math", "code", "reports")
             if re.search(r'class="katex[^-]', (site_dir / p / "index.html").read_text("utf-8"))]
    assert pages, "no page has inline math"
    page = reader("390")
    problems = []
    for path in pages:
        page.goto(path)
        page.evaluate("document.fonts.ready.then(() => true)")
        problems += [f"/{path}: {p}" for p in page.evaluate(_PUNCTUATION_AT_LINE_START, widths)]
    assert not problems, "Chinese punctuation alone at the start of a line:\n" + "\n".join(problems)


# The text of each block as the page holds it, code and formulas left out: a line feed
# between two Chinese characters is what a browser shows as a space.
_BLOCK_TEXTS = """() => {
  const article = document.querySelector("article.md-content__inner");
  const skip = "pre, code, script, style, svg, .katex, .arithmatex";
  const blocks = new Map();
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {
    acceptNode: n => n.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const block = node.parentElement.closest("p, li, td, th, dd, dt, h1, h2, h3, h4, h5, h6, summary, blockquote, div");
    blocks.set(block, (blocks.get(block) || "") + node.textContent);
  }
  return [...blocks.values()];
}"""
_WIDE = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_SOFT_BREAK = re.compile(f"[{_WIDE}][ \\t]*\\n[ \\t]*[{_WIDE}]")


def test_no_space_where_a_chinese_sentence_wraps_in_the_source(reader, site_dir):
    page = reader("390")
    page.goto("reports/2024-04-19/")
    first = page.locator("article p").first.inner_text()
    assert "梳理总结。早期" in first, f"the report's first paragraph reads {first!r}"
    for path in ["", "reports/2024-04-19/", "math/jensen/", "code/dist-pearson/", "papers/dist2022/"]:
        page.goto(path)
        breaks = [m.group() for text in page.evaluate(_BLOCK_TEXTS) for m in _SOFT_BREAK.finditer(text)]
        assert not breaks, f"/{path}: line breaks between Chinese characters, shown as spaces: {breaks[:5]}"


# --- charts ---------------------------------------------------------------------------

_CHART_TEXT = """() => [...document.querySelectorAll("article svg.litnotes-chart")].map(svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const sizes = [...svg.querySelectorAll("text")].map(t => parseFloat(t.getAttribute("font-size")) * scale);
  const box = svg.getBoundingClientRect();
  return {label: svg.getAttribute("aria-label"), smallest: Math.min(...sizes),
          right: box.right, width: document.documentElement.clientWidth};
})"""


@pytest.mark.parametrize("size", ["390", "1280"])
def test_chart_labels_stay_legible(reader, size):
    page = reader(size)
    page.goto("")
    charts = page.evaluate(_CHART_TEXT)
    assert len(charts) == 2, f"the home page shows {len(charts)} charts"
    for chart in charts:
        assert chart["smallest"] >= 12, f"{chart['label']}: labels drawn at {chart['smallest']:.1f} px at {size} px"
        assert chart["right"] <= chart["width"], f"{chart['label']} runs off the screen at {size} px"


# --- search ---------------------------------------------------------------------------

def _results(page, query: str) -> list[str]:
    """Type ``query`` into Material's search; the result pages, best first."""
    type_query(page, query)
    hrefs = page.locator("li.md-search-result__item > a.md-search-result__link").evaluate_all(
        "els => els.map(e => e.href)")
    base = urlsplit(page.url).path
    return [posixpath.relpath(urlsplit(h).path, base) + "/" for h in hrefs]


@pytest.mark.parametrize("size", ["1280", "390"])
def test_searching_dist_shows_the_dist_paper_first(reader, size):
    page = reader(size)
    found = _results(page, "DIST")
    assert found and found[0] == "papers/dist2022/", f"searching DIST at {size} px lists {found[:10]}"


def test_every_short_name_and_title_finds_its_paper_first(reader, kb):
    page = reader()
    wrong = []
    papers = [p for p in kb.sorted_papers() if p.abbr]
    assert len(papers) >= 5
    for p in papers:
        found = _results(page, p.abbr)
        if not found or found[0] != f"papers/{p.id}/":
            wrong.append(f"{p.abbr}: {found[:3]}")
    dist = kb.papers["dist2022"]
    found = _results(page, dist.title)
    if not found or found[0] != "papers/dist2022/":
        wrong.append(f"{dist.title}: {found[:3]}")
    assert not wrong, "the paper is not the first result:\n" + "\n".join(wrong)


def test_search_snippets_show_no_chart_or_table_header(reader):
    page = reader()
    # 蒸馏 is in every chart and table; the snippets must show what the pages say.
    page.goto("")
    found = _results(page, "特征蒸馏")
    assert found, "searching 特征蒸馏 finds nothing"
    snippets = " ".join(page.locator(".md-search-result__article").all_inner_texts())
    for boilerplate in ("各分类论文数", "每年论文数", "论文 简称 会议/期刊", "项目 内容"):
        assert boilerplate not in snippets, f"a result snippet shows {boilerplate!r}: {snippets[:300]}"


# --- the feed -------------------------------------------------------------------------

def test_every_page_announces_the_feed(site_dir):
    feed = site_dir / "feed.xml"
    assert feed.is_file()
    missing = []
    for html in sorted(site_dir.rglob("*.html")):
        text = html.read_text("utf-8")
        head = text[:text.find("</head>")]
        m = re.search(r'<link rel="alternate" type="application/atom\+xml" title="[^"]*" href="([^"]*)"', head)
        # 404.html links from the site's root ("/feed.xml"): it is served at any address.
        target = site_dir / m.group(1).lstrip("/") if m and m.group(1).startswith("/") else html.parent / (m.group(1) if m else "")
        if not m or target.resolve() != feed.resolve():
            missing.append(html.relative_to(site_dir).as_posix())
    assert not missing, f"pages whose <head> does not announce feed.xml: {missing[:10]}"


def test_the_announced_feed_has_entries_with_content(reader, kb):
    page = reader()
    page.goto("papers/dist2022/")
    href = page.locator('head link[rel="alternate"][type="application/atom+xml"]').evaluate("el => el.href")
    response = page.request.get(href)
    assert response.ok, f"{href} answered {response.status}"
    root = ET.fromstring(response.body())
    entries = root.findall(f"{ATOM}entry")
    assert entries
    entry = entries[0]
    content = entry.findtext(f"{ATOM}content") or ""
    assert "梳理总结。早期" in content  # the report's first paragraph, its lines joined
    assert kb.papers["dist2022"].title in content and "papers/dist2022/" in content
    assert entry.findtext(f"{ATOM}summary") != "2024-04-19 周报"


def test_no_placeholder_address_in_the_site(site_dir):
    leaks = [p.relative_to(site_dir).as_posix() for p in site_dir.rglob("*")
             if p.suffix in (".html", ".xml", ".json") and re.search(
                 r"example\.invalid|github\.com/example/", p.read_text("utf-8", errors="replace"))]
    assert not leaks, f"placeholder addresses in {leaks[:10]}"


# --- screenshots (artifacts/screenshots/) -----------------------------------------------

@pytest.mark.parametrize("name, path, size", [
    ("math-jensen-phone", "math/jensen/", "390"),
    ("code-dist-pearson-phone", "code/dist-pearson/", "390"),
    ("home-charts-phone", "", "390"),
    ("paper-dist2022-phone", "papers/dist2022/", "390"),
    ("home-charts", "", "1280"),
])
def test_reader_screenshot(reader, screenshots_dir, name, path, size):
    page = reader(size)
    page.goto(path)
    page.evaluate("document.fonts.ready.then(() => true)")
    out = screenshots_dir / f"{name}.png"
    page.screenshot(path=str(out), full_page=True, animations="disabled")
    assert out.stat().st_size > 10_000


def test_search_dist_screenshot(reader, screenshots_dir):
    page = reader("390")
    _results(page, "DIST")
    out = screenshots_dir / "search-dist-phone.png"
    page.screenshot(path=str(out), animations="disabled")
    assert out.stat().st_size > 10_000
