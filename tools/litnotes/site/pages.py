"""Turn the knowledge base into Markdown pages: ``{docs-relative path: content}``.

Pure functions: no MkDocs, no file system.  The MkDocs adapter wraps each page
in ``File.generated``; ``litnotes render --out`` writes them to a folder.
Collect first, render second: reverse links and indexes are queries over all
records, so every page is rendered from the complete :class:`KnowledgeBase`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache

from litnotes.records.model import Category, KnowledgeBase, Paper, Venue, arxiv_url, doi_url
from litnotes.site.charts import bar_chart
from litnotes.site.escape import Markdown, attr_value, code_block, front_matter, link, markdown_safe, page_link, plain
from litnotes.site.exports import citation, papers_bib, papers_json
from litnotes.site.graph import category_lineages, clean_svg, lineage_dot, neighbourhood, own_node, relative_url
from litnotes.site.mentions import Mention, collect_mentions, mentions_section
from litnotes.site.reports import FEED_PATH, Report, atom_feed

__all__ = ["EXPORTS", "chart_html", "charts", "paper_block", "paper_page", "paper_path", "paper_table", "render_site"]

EXPORTS = ("papers.bib", "papers.json")
#: Search weight of a paper's page (``search: boost`` front matter) against other pages' sections.
PAPER_SEARCH_BOOST = 2
LINEAGE = "lineage.md"
_NO_CODE = "无官方代码"
_STATUS = {"to-read": "待读", "reading": "在读", "read": "已读"}
# Not papers/<id>.md of any record: an id has no '_'.
_TO_READ = "papers/to_read.md"
# attr_list on a heading: Material's search leaves the whole section out of the index.
_NOT_SEARCHED_SECTION = " { data-search-exclude }"


def paper_path(paper_id: str) -> str:
    return f"papers/{paper_id}.md"


def _venue_label(p: Paper, kb: KnowledgeBase) -> Markdown:
    v = kb.venues.get(p.venue)
    return plain(f"{v.short if v else p.venue} {p.year}")


# Every value from a record reaches the page through litnotes.site.escape: plain() for text,
# link()/page_link() for addresses, front_matter() for the header, code_block() for the BibTeX.
_link = page_link


def paper_links(p: Paper) -> list[str]:
    """External links of a paper, with an explicit note when there is no official code."""
    out = []
    if p.url:
        out.append(link("论文页面", p.url))
    if p.arxiv:
        out.append(link(f"arXiv:{p.arxiv}", arxiv_url(p.arxiv)))
    if p.doi:
        out.append(link("DOI", doi_url(p.doi)))
    out.append(link("官方代码", p.code, icon=Markdown(":material-github:")) if p.code else _NO_CODE)
    return out


def paper_table(papers: Iterable[Paper], kb: KnowledgeBase, page: str, *, sortable: bool = False,
                status: bool = False, show_category: bool = True, searched: bool = True) -> str:
    """A table of papers with links relative to ``page``; ``status`` adds the reading-list column.

    Title, year and category come first so that a phone shows them without
    scrolling sideways.  A ``sortable`` table is the reader's table: each title
    link carries the row's filter values as ``data-*`` attributes (attr_list)
    for ``litnotes.js``, which adds the filters and the sortable headers.
    ``show_category=False`` leaves out the category column (a category's own page).
    ``searched=False`` keeps a sortable table's rows out of the search index.
    """
    head = (["论文", "年份"] + (["分类"] if show_category else []) + ["简称", "会议/期刊", "代码"]
            + (["状态"] if status else []))
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in papers:
        rows.append(_table_row(p, kb.categories.get(p.category), kb.venues.get(p.venue), page, sortable, status,
                               show_category))
    table = "\n".join(rows)
    if sortable:
        exclude = " data-search-exclude" if not searched else ""
        return f'<div class="litnotes-sortable litnotes-papers"{exclude} markdown>\n\n{table}\n\n</div>'
    return table


@lru_cache(maxsize=65536)
def _table_row(p: Paper, cat: Category | None, venue: Venue | None, page: str, sortable: bool, status: bool,
               show_category: bool) -> str:
    # A row is a function of these (immutable) values only: a preview that renders the site again
    # after an edit rebuilds just the rows of the records that changed.
    title = _link(p.title, paper_path(p.id), page)
    if sortable:
        title += _filter_attrs(p)
    cells = [title, _link(str(p.year), f"years/{p.year}.md", page)]
    if show_category:
        cells.append(_link(cat.title if cat else p.category, f"categories/{p.category}.md", page))
    cells += [plain(p.abbr or ""), _link(venue.short if venue else p.venue, f"venues/{p.venue}.md", page),
              "有" if p.code else "无"]
    if status:
        cells.append(_STATUS[p.reading_status])
    return "| " + " | ".join(cells) + " |"


def _filter_attrs(p: Paper) -> str:
    """The row's filter values as an attr_list block; every value is a key or slug, quoted anyway."""
    attrs = {"data-category": p.category, "data-venue": p.venue, "data-year": str(p.year),
             "data-tags": " ".join(p.tags), "data-code": "1" if p.code else "0",
             "data-status": p.reading_status}
    return "{ " + " ".join(f'{k}="{attr_value(v)}"' for k, v in attrs.items()) + " }"


def paper_block(p: Paper, kb: KnowledgeBase, page: str, *, level: int = 3) -> str:
    """A paper as it appears inside a report: heading, venue, links and the record's summary."""
    head = "#" * level
    meta = [_venue_label(p, kb)]
    if p.code:
        meta.append(link("代码", p.code))
    return (f"{head} {_link(p.title, paper_path(p.id), page)}\n\n"
            f"{plain(p.abbr) + ' · ' if p.abbr else ''}{' · '.join(meta)}\n\n"
            f"{markdown_safe(p.summary).strip()}\n")


def _paper_page(p: Paper, kb: KnowledgeBase, reports: dict[str, Report], edit_base: str | None,
                mentions: Sequence[Mention] = (), graph: str = "", context: str = "") -> str:
    page = paper_path(p.id)
    cat = kb.categories.get(p.category)
    venue = kb.venues.get(p.venue)
    header: dict[str, object] = {"title": p.title}
    # A paper's page ranks above the report sections and code notes that repeat its title or short name.
    header["search"] = {"boost": PAPER_SEARCH_BOOST}
    if p.tags:
        header["tags"] = list(p.tags)
    front = [front_matter(header).rstrip("\n")]
    rows = [
        ("作者", ", ".join(plain(a) for a in p.authors)),
        ("发表", f"{_link(venue.name if venue else p.venue, f'venues/{p.venue}.md', page)}, "
                 f"{_link(str(p.year), f'years/{p.year}.md', page)}"),
        ("分类", _link(cat.title if cat else p.category, f"categories/{p.category}.md", page)),
        ("链接", " · ".join(paper_links(p))),
    ]
    if p.read:
        report = reports.get(p.read)
        rows.append(("阅读于", _link(f"{p.read} 周报", f"reports/{p.read}.md", page) if report else plain(p.read)))
    if p.reading_status != "read":
        rows.append(("状态", _link(_STATUS[p.reading_status], _TO_READ, page)))
    # The short name sits in the heading, so that searching it finds this page by its title.
    abbr = f' <span class="litnotes-abbr">{plain(p.abbr)}</span>' if p.abbr else ""
    out = front + ["", f"# {plain(p.title)}{abbr}", ""]
    if p.abbr:
        out += [_venue_label(p, kb), ""]
    out += ["| 项目 | 内容 |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows] + [""]
    out += ["## 笔记", "", markdown_safe(p.summary).strip(), ""]
    if p.notes:
        out += ["## 补充说明", "", markdown_safe(p.notes).strip(), ""]
    bases = [kb.papers[b] for b in p.builds_on if b in kb.papers]
    later = [kb.papers[b] for b in kb.built_on_by.get(p.id, ()) if b in kb.papers]
    if bases or later:
        out += ["## 相关工作", ""]
        if graph:
            out += [graph, "", _link("全部论文的脉络", LINEAGE, page), ""]
        if bases:
            out += ["**基于：**", ""] + [f"- {_link(b.label, paper_path(b.id), page)} — {plain(b.title)}"
                                         for b in bases] + [""]
        if later:
            out += ["**后续工作：**", ""] + [f"- {_link(b.label, paper_path(b.id), page)} — {plain(b.title)}"
                                             for b in later] + [""]
    elif context:
        out += [context]
    # Not searched (the marked heading keeps its section out of the index): the pages that mention
    # the paper are searched themselves, and the BibTeX entry repeats the title and authors above.
    mentioned = mentions_section(mentions, page)
    if mentioned:
        mentioned[0] += _NOT_SEARCHED_SECTION
    out += mentioned
    # The same entry as in papers.bib (one citation per paper), in a fence nothing inside can close.
    out += ["## BibTeX" + _NOT_SEARCHED_SECTION, "", code_block(citation(p, kb), "bibtex"), ""]
    if edit_base:
        # The edit link says nothing about the paper: not searched.
        out += [link(f"编辑此记录（{p.path}）", edit_base + p.path, schemes=("https", "http"),
                     icon=Markdown(":material-file-edit-outline:")), "{: data-search-exclude }", ""]
    return "\n".join(out)


def _graph_box(svg: str) -> str:
    # data-search-exclude: node labels are not page text for the search index.
    return f'<div class="litnotes-graph" data-search-exclude>\n{svg}\n</div>'


def _lineage_graph(kb: KnowledgeBase, p: Paper, draw: Callable[[str], str], directory_urls: bool) -> str:
    """The SVG of a paper's neighbourhood in the lineage, or "" when it builds on nothing and nothing on it."""
    ids = neighbourhood(kb, p.id)
    if len(ids) < 2:
        return ""
    page = paper_path(p.id)
    dot = lineage_dot(kb, ids, lambda i: relative_url(paper_path(i), page, directory_urls), current=p.id)
    return _graph_box(clean_svg(draw(dot), f"{p.label} 的脉络：它基于的论文与基于它的论文"))


def _category_context(kb: KnowledgeBase, p: Paper, lineages: Mapping[str, tuple[frozenset[str], int]],
                      draw: Callable[[str], str], directory_urls: bool, drawn: dict[str, str]) -> str:
    """For a paper without relations: the lineage of its category, it beside as its own node, and what that means.

    "" when no two other papers of its category are related.  The category's
    graph is drawn once and kept in ``drawn``: every paper page is in
    ``papers/``, so its links are the same from each of them; this paper is not
    in it but an HTML node beside it, which costs no drawing per page.
    """
    ids, left_out = lineages.get(p.category, (frozenset(), 0))
    if not ids:
        return ""
    page = paper_path(p.id)
    cat = kb.categories.get(p.category)
    title = cat.title if cat else p.category
    svg = drawn.get(p.category)
    if svg is None:
        dot = lineage_dot(kb, ids, lambda i: relative_url(paper_path(i), page, directory_urls))
        svg = drawn[p.category] = clean_svg(draw(dot), f"分类「{title}」中论文的脉络")
    own = own_node(p, relative_url(page, page, directory_urls))
    category = _link(title, f"categories/{p.category}.md", page)
    label = plain(p.label)
    more = (f"该分类另有 {left_out} 篇有“基于”关系的论文未画出：分类页「{category}」列出它的全部论文，"
            f"{_link('全部论文的脉络', LINEAGE, page)}画出全部关系。" if left_out else "")
    # Not searched: the same words on every such page would answer queries about none of them.
    return "\n".join([
        "## 所在分类的脉络 { data-search-exclude }", "",
        f"{label} 未记录 `builds_on`，也没有论文记录基于它。下图是同一分类「{category}」中论文的脉络，"
        f"供定位，不表示 {label} 继承了它们；单独加粗的 {label} 是本文，与图中论文之间没有连线。{more}",
        "{: data-search-exclude }", "",
        f'<div class="litnotes-graph litnotes-graph-context" data-search-exclude>\n{own}\n{svg}\n</div>', "",
        f"若 {label} 确实基于某篇论文，在记录 {plain(p.path)} 中写 `builds_on: [论文 id]`，"
        "这里便画出它自己的脉络。", "{: data-search-exclude }", "",
        *([] if left_out else [_link("全部论文的脉络", LINEAGE, page), ""])])


def _lineage_page(kb: KnowledgeBase, draw: Callable[[str], str] | None, directory_urls: bool) -> str:
    """Every paper and every builds_on relation: a graph grouped by category, and the same as a list."""
    edges = [(b, p) for p in kb.sorted_papers() for b in p.builds_on if b in kb.papers]
    out = ["# 论文脉络", "",
           f"共 {len(kb.papers)} 篇论文、{len(edges)} 条“基于”关系；箭头从较早的工作指向基于它的工作，"
           "按分类分组，点击节点打开论文页面。", ""]
    if draw:
        dot = lineage_dot(kb, kb.papers, lambda i: relative_url(paper_path(i), LINEAGE, directory_urls),
                          clusters=True)
        out += [_graph_box(clean_svg(draw(dot), "全部论文的脉络图")), ""]
    if edges:
        out += ["## 基于关系", ""]
        out += [f"- {_link(kb.papers[b].label, paper_path(b), LINEAGE)} → "
                f"{_link(p.label, paper_path(p.id), LINEAGE)}" for b, p in edges]
        out.append("")
    return "\n".join(out)


def _group_page(title: str, intro: str, papers: Sequence[Paper], kb: KnowledgeBase, page: str,
                *, show_category: bool = True) -> str:
    # The rows repeat those of the table of all papers (papers/index.md, searched): not searched here.
    body = (paper_table(papers, kb, page, sortable=True, show_category=show_category, searched=False)
            if papers else "暂无论文。")
    return f"# {title}\n\n{intro}共 {len(papers)} 篇论文。\n\n{body}\n"


def _index_page(title: str, intro: str, entries: list[tuple[str, str, int, str]], page: str) -> str:
    """An index of groups: (label, target page, count, description)."""
    rows = ["| 名称 | 论文数 | 说明 |", "|---|---|---|"]
    rows += [f"| {_link(label, target, page)} | {n} | {plain(desc)} |" for label, target, n, desc in entries]
    return f"# {title}\n\n{intro}\n\n" + "\n".join(rows) + "\n"


def charts(kb: KnowledgeBase) -> tuple[str, str]:
    """SVG charts of papers per year and per category."""
    years = Counter(p.year for p in kb.papers.values())
    cats = Counter(p.category for p in kb.papers.values())
    by_year = bar_chart([(str(y), years[y]) for y in sorted(years)], "每年论文数")
    by_cat = bar_chart([(c.title, cats.get(k, 0)) for k, c in kb.categories.items()], "各分类论文数")
    return by_year, by_cat


def chart_html(svg: str) -> str:
    """A chart from :func:`charts` (SVG built by :mod:`litnotes.site.charts` from escaped values), boxed.

    Its labels are not searched: they would match every query for a category.
    """
    return f'<div class="litnotes-chart-box" data-search-exclude>{svg}</div>'


def render_site(kb: KnowledgeBase, reports: Sequence[Report] = (), *, edit_base: str | None = None,
                site_url: str | None = None, site_name: str = "litnotes",
                handwritten: Mapping[str, str] | None = None, draw: Callable[[str], str] | None = None,
                directory_urls: bool = True) -> dict[str, str]:
    """Every generated page and export, keyed by its path relative to docs/.

    ``handwritten`` is the Markdown of the hand-written pages by docs-relative
    path: the pages that mention a paper are listed on its page.  ``draw``
    turns Graphviz DOT into SVG (:class:`litnotes.site.graph.Viz`); without it
    the lineage is text only.  ``directory_urls`` is MkDocs's
    ``use_directory_urls``: the graphs' links are addresses of built pages.
    """
    papers = kb.sorted_papers()
    page_of = _PaperPages(kb, reports, edit_base, handwritten, draw, directory_urls)
    pages: dict[str, str] = {paper_path(p.id): page_of(p) for p in papers}
    pages[LINEAGE] = _lineage_page(kb, draw, directory_urls)

    # The status column and its filter only once there is a reading list.
    reading_list = any(p.reading_status != "read" for p in papers)
    pages["papers/index.md"] = (
        f"# 全部论文\n\n共 {len(papers)} 篇论文，{sum(1 for p in papers if p.code)} 篇有官方代码。"
        f"可按文字、分类、会议、年份、标签{'、阅读状态' if reading_list else ''}与代码筛选，"
        "点击表头（或用键盘）按该列排序。"
        + _reading_list_note(papers) + "\n\n"
        + paper_table(papers, kb, "papers/index.md", sortable=True, status=reading_list) + "\n")
    pages[_TO_READ] = _to_read_page(papers, kb)

    cat_entries = []
    for key, cat in kb.categories.items():
        members = [p for p in papers if p.category == key]
        target = f"categories/{key}.md"
        pages[target] = _group_page(plain(cat.title), (plain(cat.description) + "\n\n") if cat.description else "",
                                    members, kb, target, show_category=False)
        cat_entries.append((cat.title, target, len(members), cat.description))
    by_year_svg, by_cat_svg = charts(kb)
    pages["categories/index.md"] = _index_page("分类", f"按研究方向划分的 {len(kb.categories)} 个分类。\n\n"
                                               + chart_html(by_cat_svg), cat_entries, "categories/index.md")

    venue_entries = []
    for key, venue in sorted(kb.venues.items(), key=lambda kv: kv[1].short.lower()):
        members = [p for p in papers if p.venue == key]
        if not members:
            continue
        target = f"venues/{key}.md"
        pages[target] = _group_page(plain(venue.short), f"{plain(venue.name)}。\n\n", members, kb, target)
        venue_entries.append((venue.short, target, len(members), venue.name))
    pages["venues/index.md"] = _index_page("会议与期刊", "按发表的会议或期刊浏览。", venue_entries, "venues/index.md")

    year_entries = []
    for year in sorted({p.year for p in papers}, reverse=True):
        members = [p for p in papers if p.year == year]
        target = f"years/{year}.md"
        pages[target] = _group_page(f"{year} 年", "", members, kb, target)
        year_entries.append((str(year), target, len(members), ""))
    pages["years/index.md"] = _index_page("年份", "按发表年份浏览。\n\n" + chart_html(by_year_svg),
                                          year_entries, "years/index.md")

    # The tags plugin lists every tagged page under each tag: not searched (each page carries its
    # tags in the index, so a tag still finds its papers).
    pages["tags.md"] = "---\nsearch:\n  exclude: true\n---\n\n# 标签\n\n<!-- material/tags -->\n"
    pages["reports/index.md"] = _reports_index(list(reports), kb)
    pages[FEED_PATH] = atom_feed(list(reports), site_url or "", site_name, kb.papers)
    pages["papers.bib"] = papers_bib(kb)
    pages["papers.json"] = papers_json(kb)
    return pages


def paper_page(kb: KnowledgeBase, paper_id: str, reports: Sequence[Report] = (), *, edit_base: str | None = None,
               handwritten: Mapping[str, str] | None = None, draw: Callable[[str], str] | None = None,
               directory_urls: bool = True) -> str:
    """The page of one paper, exactly as :func:`render_site` (called with the same arguments) makes it.

    The preview uses it to show an edited record's page before the whole site is rebuilt.
    """
    return _PaperPages(kb, reports, edit_base, handwritten, draw, directory_urls)(kb.papers[paper_id])


class _PaperPages:
    """What every paper page is made from (reports, mentions, category lineages), gathered once."""

    def __init__(self, kb: KnowledgeBase, reports: Sequence[Report], edit_base: str | None,
                 handwritten: Mapping[str, str] | None, draw: Callable[[str], str] | None,
                 directory_urls: bool) -> None:
        self.kb, self.edit_base, self.draw, self.directory_urls = kb, edit_base, draw, directory_urls
        self.by_date = {r.date: r for r in reports}
        self.mentions = collect_mentions(handwritten or {}, kb)
        self.lineages = category_lineages(kb) if draw else {}
        self.drawn: dict[str, str] = {}

    def __call__(self, p: Paper) -> str:
        kb, draw = self.kb, self.draw
        graph = _lineage_graph(kb, p, draw, self.directory_urls) if draw else ""
        context = (_category_context(kb, p, self.lineages, draw, self.directory_urls, self.drawn)
                   if draw and not graph else "")
        return _paper_page(p, kb, self.by_date, self.edit_base, self.mentions.get(p.id, ()), graph, context)


def _reading_list_note(papers: Sequence[Paper]) -> str:
    """The papers index's pointer to the reading list."""
    waiting = sum(1 for p in papers if p.reading_status == "to-read")
    return f"待读的论文见{_link('待读列表', _TO_READ, 'papers/index.md')}（{waiting} 篇）。"


def _to_read_page(papers: Sequence[Paper], kb: KnowledgeBase) -> str:
    """The reading list: records with ``status: to-read``, then those being read."""
    out = ["# 待读", "", ("记录中写有 `status: to-read` 的论文列在这里；读完后删去 `status`，"
                         "并用 `read:` 写上记下它的周报日期。"), ""]
    for title, key in (("尚未阅读", "to-read"), ("正在阅读", "reading")):
        members = [p for p in papers if p.reading_status == key]
        body = paper_table(members, kb, _TO_READ, sortable=True) if members else "暂无论文。"
        out += [f"## {title}", "", f"共 {len(members)} 篇。", "", body, ""]
    return "\n".join(out)


def _reports_index(reports: list[Report], kb: KnowledgeBase) -> str:
    page = "reports/index.md"
    out = ["# 周报", "", f"共 {len(reports)} 篇周报，按时间从新到旧排列。"
           f"订阅：{_link('Atom 订阅源', FEED_PATH, page)}。", ""]
    # Grouped once: scanning every paper for every report grows as papers × reports.
    by_date: dict[str, list[Paper]] = {}
    for p in kb.papers.values():
        if p.read:
            by_date.setdefault(p.read, []).append(p)
    for r in reports:
        read = sorted(by_date.get(r.date, ()), key=lambda p: p.label.lower())
        out += [f"## {_link(r.title, r.path, page)}", "", f"日期：{plain(r.date)}"
                + (f" · 阅读论文 {len(read)} 篇：" + "、".join(_link(p.label, paper_path(p.id), page) for p in read)
                   if read else ""), ""]
    return "\n".join(out)
