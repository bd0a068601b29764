"""Turn the knowledge base into Markdown pages: ``{docs-relative path: content}``.

Pure functions: no MkDocs, no file system.  The MkDocs adapter wraps each page
in ``File.generated``; ``litnotes render --out`` writes them to a folder.
Collect first, render second: reverse links and indexes are queries over all
records, so every page is rendered from the complete :class:`KnowledgeBase`.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

from litnotes.site.charts import bar_chart
from litnotes.site.exports import bibtex_entry, papers_bib, papers_json
from litnotes.records.model import KnowledgeBase, Paper, arxiv_url, doi_url
from litnotes.site.reports import FEED_PATH, Report, atom_feed
from litnotes.site.escape import markdown_safe, plain, rel

__all__ = ["render_site", "paper_path", "paper_table", "paper_block", "charts", "chart_html", "EXPORTS"]

EXPORTS = ("papers.bib", "papers.json")
#: Search weight of a paper's page (``search: boost`` front matter) against other pages' sections.
PAPER_SEARCH_BOOST = 2
_NO_CODE = "无官方代码"


def paper_path(paper_id: str) -> str:
    return f"papers/{paper_id}.md"


def _venue_label(p: Paper, kb: KnowledgeBase) -> str:
    v = kb.venues.get(p.venue)
    return f"{v.short if v else p.venue} {p.year}"


def _link(text: str, target: str, page: str) -> str:
    return f"[{text}]({rel(target, page)})"


def paper_links(p: Paper) -> list[str]:
    """External links of a paper, with an explicit note when there is no official code."""
    out = []
    if p.url:
        out.append(f"[论文页面]({p.url})")
    if p.arxiv:
        out.append(f"[arXiv:{p.arxiv}]({arxiv_url(p.arxiv)})")
    if p.doi:
        out.append(f"[DOI]({doi_url(p.doi)})")
    out.append(f"[:material-github: 官方代码]({p.code})" if p.code else _NO_CODE)
    return out


def paper_table(papers: Iterable[Paper], kb: KnowledgeBase, page: str, *, sortable: bool = False) -> str:
    """A table of papers with links relative to ``page``."""
    rows = ["| 论文 | 简称 | 会议/期刊 | 年份 | 分类 | 代码 |", "|---|---|---|---|---|---|"]
    for p in papers:
        cat = kb.categories.get(p.category)
        venue = kb.venues.get(p.venue)
        rows.append(
            f"| {_link(plain(p.title), paper_path(p.id), page)} | {plain(p.abbr or '')} "
            f"| {_link(plain(venue.short if venue else p.venue), f'venues/{p.venue}.md', page)} "
            f"| {_link(str(p.year), f'years/{p.year}.md', page)} "
            f"| {_link(plain(cat.title if cat else p.category), f'categories/{p.category}.md', page)} "
            f"| {'有' if p.code else '无'} |")
    table = "\n".join(rows)
    if sortable:
        return f'<div class="litnotes-sortable" markdown>\n\n{table}\n\n</div>'
    return table


def paper_block(p: Paper, kb: KnowledgeBase, page: str, *, level: int = 3) -> str:
    """A paper as it appears inside a report: heading, venue, links and the record's summary."""
    head = "#" * level
    meta = [_venue_label(p, kb)]
    if p.code:
        meta.append(f"[代码]({p.code})")
    return (f"{head} {_link(plain(p.title), paper_path(p.id), page)}\n\n"
            f"{plain(p.abbr) + ' · ' if p.abbr else ''}{' · '.join(meta)}\n\n"
            f"{markdown_safe(p.summary).strip()}\n")


def _paper_page(p: Paper, kb: KnowledgeBase, reports: dict[str, Report], edit_base: str | None) -> str:
    page = paper_path(p.id)
    cat = kb.categories.get(p.category)
    venue = kb.venues.get(p.venue)
    # A paper's page ranks above the report sections and code notes that repeat its title or short name.
    front = ["---", f"title: {_yaml_str(p.title)}", "search:", f"  boost: {PAPER_SEARCH_BOOST}"]
    if p.tags:
        front.append("tags:")
        front += [f"  - {t}" for t in p.tags]
    front.append("---")
    rows = [
        ("作者", ", ".join(plain(a) for a in p.authors)),
        ("发表", f"{_link(plain(venue.name if venue else p.venue), f'venues/{p.venue}.md', page)}, "
                 f"{_link(str(p.year), f'years/{p.year}.md', page)}"),
        ("分类", _link(plain(cat.title if cat else p.category), f"categories/{p.category}.md", page)),
        ("链接", " · ".join(paper_links(p))),
    ]
    if p.read:
        report = reports.get(p.read)
        rows.append(("阅读于", _link(f"{p.read} 周报", f"reports/{p.read}.md", page) if report else p.read))
    # The short name sits in the heading, so that searching it finds this page by its title.
    abbr = f' <span class="litnotes-abbr">{plain(p.abbr)}</span>' if p.abbr else ""
    out = front + ["", f"# {plain(p.title)}{abbr}", ""]
    if p.abbr:
        out += [plain(_venue_label(p, kb)), ""]
    out += ["| 项目 | 内容 |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows] + [""]
    out += ["## 笔记", "", markdown_safe(p.summary).strip(), ""]
    if p.notes:
        out += ["## 补充说明", "", markdown_safe(p.notes).strip(), ""]
    bases = [kb.papers[b] for b in p.builds_on if b in kb.papers]
    later = [kb.papers[b] for b in kb.built_on_by.get(p.id, ()) if b in kb.papers]
    if bases or later:
        out += ["## 相关工作", ""]
        if bases:
            out += ["**基于：**", ""] + [f"- {_link(plain(b.label), paper_path(b.id), page)} — {plain(b.title)}"
                                         for b in bases] + [""]
        if later:
            out += ["**后续工作：**", ""] + [f"- {_link(plain(b.label), paper_path(b.id), page)} — {plain(b.title)}"
                                             for b in later] + [""]
    bib = p.bibtex.strip() if p.bibtex else _entry_text(p, kb)
    # The entry and the edit link repeat the page or say nothing about the paper: not searched.
    out += ["## BibTeX", "", "<div data-search-exclude=\"\" markdown>", "", "```bibtex", bib, "```", "", "</div>", ""]
    if edit_base:
        out += [f"[:material-file-edit-outline: 编辑此记录（{p.path}）]({edit_base}{p.path})",
                "{: data-search-exclude }", ""]
    return "\n".join(out)


def _entry_text(p: Paper, kb: KnowledgeBase) -> str:
    import bibtexparser

    return bibtexparser.write_string(bibtexparser.Library([bibtex_entry(p, kb)])).strip()


def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _group_page(title: str, intro: str, papers: Sequence[Paper], kb: KnowledgeBase, page: str) -> str:
    body = paper_table(papers, kb, page, sortable=True) if papers else "暂无论文。"
    return f"# {title}\n\n{intro}共 {len(papers)} 篇论文。\n\n{body}\n"


def _index_page(title: str, intro: str, entries: list[tuple[str, str, int, str]], page: str) -> str:
    """An index of groups: (label, target page, count, description)."""
    rows = ["| 名称 | 论文数 | 说明 |", "|---|---|---|"]
    rows += [f"| {_link(label, target, page)} | {n} | {desc} |" for label, target, n, desc in entries]
    return f"# {title}\n\n{intro}\n\n" + "\n".join(rows) + "\n"


def charts(kb: KnowledgeBase) -> tuple[str, str]:
    """SVG charts of papers per year and per category."""
    years = Counter(p.year for p in kb.papers.values())
    cats = Counter(p.category for p in kb.papers.values())
    by_year = bar_chart([(str(y), years[y]) for y in sorted(years)], "每年论文数")
    by_cat = bar_chart([(c.title, cats.get(k, 0)) for k, c in kb.categories.items()], "各分类论文数")
    return by_year, by_cat


def chart_html(svg: str) -> str:
    """A chart in its box; its labels are not searched (they would match every query for a category)."""
    return f'<div class="litnotes-chart-box" data-search-exclude>{svg}</div>'


def render_site(kb: KnowledgeBase, reports: Sequence[Report] = (), *, edit_base: str | None = None,
                site_url: str | None = None, site_name: str = "litnotes") -> dict[str, str]:
    """Every generated page and export, keyed by its path relative to docs/."""
    by_date = {r.date: r for r in reports}
    papers = kb.sorted_papers()
    pages: dict[str, str] = {}
    for p in papers:
        pages[paper_path(p.id)] = _paper_page(p, kb, by_date, edit_base)

    pages["papers/index.md"] = (
        f"# 全部论文\n\n共 {len(papers)} 篇论文，{sum(1 for p in papers if p.code)} 篇有官方代码。"
        "点击表头可按该列排序。\n\n" + paper_table(papers, kb, "papers/index.md", sortable=True) + "\n")

    cat_entries = []
    for key, cat in kb.categories.items():
        members = [p for p in papers if p.category == key]
        target = f"categories/{key}.md"
        pages[target] = _group_page(plain(cat.title), (cat.description + "\n\n") if cat.description else "",
                                    members, kb, target)
        cat_entries.append((plain(cat.title), target, len(members), cat.description))
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
        venue_entries.append((plain(venue.short), target, len(members), plain(venue.name)))
    pages["venues/index.md"] = _index_page("会议与期刊", "按发表的会议或期刊浏览。", venue_entries, "venues/index.md")

    year_entries = []
    for year in sorted({p.year for p in papers}, reverse=True):
        members = [p for p in papers if p.year == year]
        target = f"years/{year}.md"
        pages[target] = _group_page(f"{year} 年", "", members, kb, target)
        year_entries.append((str(year), target, len(members), ""))
    pages["years/index.md"] = _index_page("年份", "按发表年份浏览。\n\n" + chart_html(by_year_svg),
                                          year_entries, "years/index.md")

    pages["tags.md"] = "# 标签\n\n<!-- material/tags -->\n"
    pages["reports/index.md"] = _reports_index(list(reports), kb)
    pages[FEED_PATH] = atom_feed(list(reports), site_url or "", site_name, kb.papers)
    pages["papers.bib"] = papers_bib(kb)
    pages["papers.json"] = papers_json(kb)
    return pages


def _reports_index(reports: list[Report], kb: KnowledgeBase) -> str:
    page = "reports/index.md"
    out = ["# 周报", "", f"共 {len(reports)} 篇周报，按时间从新到旧排列。"
           f"订阅：[Atom 订阅源]({rel(FEED_PATH, page)})。", ""]
    # Grouped once: scanning every paper for every report grows as papers × reports.
    by_date: dict[str, list[Paper]] = {}
    for p in kb.papers.values():
        if p.read:
            by_date.setdefault(p.read, []).append(p)
    for r in reports:
        read = sorted(by_date.get(r.date, ()), key=lambda p: p.label.lower())
        out += [f"## {_link(plain(r.title), r.path, page)}", "", f"日期：{r.date}"
                + (f" · 阅读论文 {len(read)} 篇：" + "、".join(_link(plain(p.label), paper_path(p.id), page) for p in read)
                   if read else ""), ""]
    return "\n".join(out)
