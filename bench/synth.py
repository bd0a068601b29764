"""A synthetic knowledge base shaped like the real one, and its static twin.

:func:`make_kb` writes, under a folder of its own:

* ``papers/``: ``n`` records copied from the real ones in the repository's
  ``papers/`` (same fields and sizes), each with its own id, title, arXiv id and
  DOI, spread over the real categories, venues and years, ``read:`` pointing at
  a generated report and ``builds_on`` at an earlier record;
* ``docs/``: a copy of the repository's ``docs/`` whose weekly reports are
  replaced by ``reports`` generated ones (the real report's text with
  ``::: paper`` directives for that week's papers), plus ``math`` pages of
  about 20 formulas each (``$...$`` inline, ``$$...$$`` display) under
  ``docs/math/bench-*.md`` with an index page in the nav;
* ``mkdocs.yml``: the repository's, with the same theme, plugins, extensions,
  validation and ``not_in_nav``; the math plugin is added when it is installed.

:func:`make_baseline` writes the same site as static Markdown for a plain
MkDocs build: the pages the litnotes plugin generates (from the pure
``render_site``, called with the arguments the plugin passes), the directives
of the hand-written pages expanded with ``litnotes.directives.expand``, the
plugin's assets copied, and the litnotes plugin removed from ``mkdocs.yml``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
MATH_PLUGIN = "litnotes-math"

__all__ = [
    "MATH_PLUGIN",
    "Site",
    "make_baseline",
    "make_kb",
    "math_plugin_available",
    "read_config",
    "write_config",
]


# --- mkdocs.yml with its Python tags kept as they are -------------------------------------------

@dataclass
class _Tagged:
    """A node with a tag PyYAML's safe loader does not know (!!python/name:..., !ENV, !relative)."""

    tag: str
    kind: str  # scalar, sequence or mapping
    value: Any


class _ConfigLoader(yaml.SafeLoader):
    pass


def _keep_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> _Tagged:
    if isinstance(node, yaml.MappingNode):
        return _Tagged(node.tag, "mapping", loader.construct_mapping(node, deep=True))
    if isinstance(node, yaml.SequenceNode):
        return _Tagged(node.tag, "sequence", loader.construct_sequence(node, deep=True))
    return _Tagged(node.tag, "scalar", loader.construct_scalar(node))


_ConfigLoader.add_multi_constructor("tag:yaml.org,2002:python/", _keep_tag)
_ConfigLoader.add_multi_constructor("!", _keep_tag)


class _ConfigDumper(yaml.SafeDumper):
    pass


def _represent_tagged(dumper: yaml.SafeDumper, data: _Tagged) -> yaml.Node:
    if data.kind == "mapping":
        return dumper.represent_mapping(data.tag, data.value)
    if data.kind == "sequence":
        return dumper.represent_sequence(data.tag, data.value)
    return dumper.represent_scalar(data.tag, data.value)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_ConfigDumper.add_representer(_Tagged, _represent_tagged)
_ConfigDumper.add_representer(str, _represent_str)


def read_config(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_ConfigLoader)


def write_config(config: dict[str, Any], path: Path) -> None:
    path.write_text(yaml.dump(config, Dumper=_ConfigDumper, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _plugin_name(entry: Any) -> str:
    return entry if isinstance(entry, str) else next(iter(entry))


def _plugin_options(config: dict[str, Any], name: str) -> dict[str, Any]:
    for entry in config.get("plugins") or []:
        if isinstance(entry, dict) and name in entry:
            return entry[name] or {}
    return {}


def set_plugin_option(config_path: Path, name: str, key: str, value: Any) -> None:
    """Set one option of a plugin in a site's mkdocs.yml (the plugin must be listed)."""
    config = read_config(config_path)
    plugins = config.get("plugins") or []
    for i, entry in enumerate(plugins):
        if _plugin_name(entry) == name:
            options = dict(_plugin_options(config, name))
            options[key] = value
            plugins[i] = {name: options}
            write_config(config, config_path)
            return
    raise KeyError(f"{config_path}: no plugin {name!r}")


def math_plugin_available() -> bool:
    """Whether the KaTeX build-time plugin is installed (its entry point exists)."""
    return any(e.name == MATH_PLUGIN for e in entry_points(group="mkdocs.plugins"))


# --- the synthetic knowledge base ---------------------------------------------------------------

@dataclass(frozen=True)
class Site:
    """A project folder: ``root/mkdocs.yml``, ``root/docs`` and, for the litnotes site, ``root/papers``."""

    root: Path
    papers: int
    reports: int
    math_pages: int
    math: bool
    paper_ids: tuple[str, ...] = ()

    @property
    def config(self) -> Path:
        return self.root / "mkdocs.yml"

    def record(self, paper_id: str) -> Path:
        return self.root / "papers" / f"{paper_id}.yaml"


def _line(key: str) -> re.Pattern[str]:
    return re.compile(rf"^{key}:.*$", re.MULTILINE)


def _set(text: str, key: str, value: str) -> str:
    """Replace a top-level ``key: value`` line, or add it before ``summary:`` when absent."""
    new, n = _line(key).subn(lambda _: f"{key}: {value}", text, count=1)
    if n:
        return new
    return _line("summary").sub(lambda m: f"{key}: {value}\n{m.group(0)}", text, count=1)


def _report_dates(count: int) -> list[str]:
    """Fridays, one a week, ending with the last Friday of 2025; oldest first."""
    last = dt.date(2025, 12, 26)
    return [(last - dt.timedelta(weeks=count - 1 - k)).isoformat() for k in range(count)]


def _templates(source: Path) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for path in sorted((source / "papers").glob("[!_.]*.yaml")):
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=yaml.CSafeLoader)
        if isinstance(data, dict) and isinstance(data.get("title"), str):
            out.append((path.stem, text, data))
    if not out:
        raise SystemExit(f"bench: no paper records in {source / 'papers'} to copy")
    return out


def _write_papers(root: Path, n: int, dates: list[str], source: Path) -> list[str]:
    templates = _templates(source)
    categories = list(yaml.load((source / "papers" / "_categories.yaml").read_text(encoding="utf-8"),
                                Loader=yaml.CSafeLoader))
    venues = list(yaml.load((source / "papers" / "_venues.yaml").read_text(encoding="utf-8"),
                            Loader=yaml.CSafeLoader))
    out = root / "papers"
    out.mkdir(parents=True)
    for name in ("_categories.yaml", "_venues.yaml"):
        shutil.copy(source / "papers" / name, out / name)
    ids: list[str] = []
    for i in range(n):
        stem, text, data = templates[i % len(templates)]
        pid = f"{stem}-{i // len(templates)}"
        text = _set(text, "title", json.dumps(f"{data['title']} (variant {i})", ensure_ascii=False))
        if "arxiv" in data:
            text = _set(text, "arxiv", f'"2{i // 100000:03d}.{i % 100000:05d}"')
        if "doi" in data:
            text = _set(text, "doi", f'"10.5555/litnotes-bench.{i}"')
        text = _set(text, "venue", venues[i % len(venues)])
        text = _set(text, "category", categories[i % len(categories)])
        text = _set(text, "year", str(2014 + (i * 7) % 12))
        text = _set(text, "read", dates[i * len(dates) // n])
        if "builds_on" in data:
            bases = [ids[i - 1 - k] for k in range(min(len(data["builds_on"]), i))][:2] if i else []
            text = _set(text, "builds_on", "[" + ", ".join(bases) + "]") if bases else \
                _line("builds_on").sub("", text, count=1)
        # A record's own BibTeX is keyed by its id.
        text = re.sub(rf"^(\s*@\w+\{{){re.escape(stem)},", rf"\g<1>{pid},", text, count=1, flags=re.MULTILINE)
        (out / f"{pid}.yaml").write_text(text, encoding="utf-8")
        ids.append(pid)
    return ids


_FALLBACK_REPORT = """---
title: 周报 {date}
---

# 周报 {date}

本周继续阅读知识蒸馏方向的论文，重点关注特征蒸馏与师生差距问题。

## 论文阅读

::: paper x

## 代码实践

复现了温度缩放的蒸馏损失，并核对了张量维度。

## 项目进展

整理了实验记录。
"""

_PAPER_DIRECTIVE = re.compile(r"^::: *paper +(\S+) *$", re.MULTILINE)
_PAPER_LINK = re.compile(r"\]\(\.\./papers/([a-z0-9-]+)\.md(#[^)]*)?\)")


def _write_reports(root: Path, dates: list[str], ids: list[str], source: Path) -> None:
    folder = root / "docs" / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    real = sorted(p for p in (source / "docs" / "reports").glob("*.md")
                  if re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.stem)) if (source / "docs" / "reports").is_dir() else []
    template_date = real[0].stem if real else "{date}"
    template = real[0].read_text(encoding="utf-8") if real else _FALLBACK_REPORT
    week: dict[str, list[str]] = {d: [] for d in dates}
    for i, pid in enumerate(ids):
        week[dates[i * len(dates) // len(ids)]].append(pid)
    for date in dates:
        papers = week[date] or ids[:1]
        text = template.replace(template_date, date)
        # The week's papers are spread over the template's directive lines (its sections);
        # a line may take several papers, spare lines go.
        slots = list(_PAPER_DIRECTIVE.finditer(text))
        taken: dict[int, list[str]] = {}
        for k, pid in enumerate(papers):
            taken.setdefault(k * len(slots) // len(papers), []).append(pid)
        parts, pos = [], 0
        for k, m in enumerate(slots):
            parts.append(text[pos:m.start()])
            parts.append("\n\n".join(f"::: paper {p}" for p in taken.get(k, [])))
            pos = m.end()
        parts.append(text[pos:])
        text = "".join(parts)
        links = iter(papers * (text.count("](../papers/") // len(papers) + 1))
        text = _PAPER_LINK.sub(lambda _, links=links: f"](../papers/{next(links)}.md)", text)
        (folder / f"{date}.md").write_text(text, encoding="utf-8")


# Formulas of the kind the notes derive; {n} makes each one distinct (a cache cannot share them).
_DISPLAY = [
    r"\mathcal{L}_{\mathrm{KD}}^{({n})} = \tau^2 \sum_{i=1}^{C} p_i^{T}(\tau) \log \frac{p_i^{T}(\tau)}{p_i^{S}(\tau)}",
    r"p_i(\tau) = \frac{\exp(z_i / \tau)}{\sum_{j=1}^{C} \exp(z_j / \tau)}, \quad \tau = {n}",
    r"\mathrm{KL}(P \,\|\, Q) = \sum_{x} P(x) \log \frac{P(x)}{Q(x)} \ge 0 \quad (k = {n})",
    (r"\rho(\mathbf{u}, \mathbf{v}) = \frac{\sum_{i} (u_i - \bar u)(v_i - \bar v)}"
     r"{\sqrt{\sum_i (u_i - \bar u)^2} \sqrt{\sum_i (v_i - \bar v)^2}} + {n} \cdot 0"),
    r"\frac{\partial \mathcal{L}}{\partial z_i} = \frac{1}{\tau} \left( q_i - p_i \right), \quad i \le {n}",
    r"f\Big(\mathbb{E}[X]\Big) \le \mathbb{E}\big[f(X)\big], \qquad f''(x) \ge 0,\ x \in [0, {n}]",
    (r"\mathcal{L} = (1 - \alpha) \, \mathrm{CE}(y, p^{S}) + \alpha \, \tau^2 \, "
     r"\mathrm{KL}(p^{T} \| p^{S}), \ \alpha = 0.{n}"),
    (r"\begin{aligned} G_{ij} &= \frac{1}{HW} \sum_{h,w} F_{i,h,w} F_{j,h,w} \\ "
     r"\mathcal{L}_{\mathrm{ICC}} &= \frac{1}{C^2} \| G^{T} - G^{S} \|_F^2 + {n} \end{aligned}"),
    (r"\nabla_{\theta} \mathcal{L} = \mathbb{E}_{x \sim \mathcal{D}} \left[ \sum_{k=1}^{{n}} "
     r"\nabla_{\theta} \ell(f_\theta(x), y_k) \right]"),
]
_INLINE = [
    r"\tau = {n}", r"p^{T}_{{n}}", r"z_i / \tau", r"\alpha \in [0, 1]",
    r"\mathbf{F} \in \mathbb{R}^{C \times H \times W}",
    r"\lambda_{{n}} = 10^{-3}", r"\mathrm{KL} \ge 0", r"\hat y = \arg\max_i p_i", r"\sigma(x) = 1/(1+e^{-x})",
    r"\| \cdot \|_2", r"\theta_{t+1} = \theta_t - \eta \nabla \mathcal{L}", r"k = {n}",
]


def _math_page(page: int, formulas: int) -> str:
    """A page shaped like docs/math: a definition and a theorem with labels, a proof, references.

    ``formulas`` formulas in all, about 2 inline for each display one; every
    formula is distinct (a per-page number in it), so a cold KaTeX cache renders each.
    """
    displays = max(2, formulas * 2 // 5)
    inlines = max(0, formulas - displays)
    n = iter(range(page * 100, page * 100 + 10 * formulas))

    def display(label: str | None = None, indent: str = "") -> list[str]:
        tex = _DISPLAY[next(n) % len(_DISPLAY)].replace("{n}", str(next(n)))
        if label:
            tex += f" \\label{{{label}}}"
        return [f"{indent}$$", f"{indent}{tex}", f"{indent}$$", ""]

    def inline() -> str:
        return "$" + _INLINE[next(n) % len(_INLINE)].replace("{n}", str(next(n))) + "$"

    out = [f"# 推导笔记 {page}", ""]
    if page:
        out += [(f"承接[推导笔记 {page - 1}](bench-{page - 1:03d}.md)的定理 \\ref{{bench-thm-{page - 1}}}"
                 f"与式 \\eqref{{bench-eq-{page - 1}-0}}。"), ""]
    out += ["## 定义", "", f'!!! definition "温度软化 \\label{{bench-def-{page}}}"',
            f"    设 {inline()}，{inline()}，定义", ""]
    out += display(f"bench-eq-{page}-0", "    ")
    out += ["## 定理", "", f'!!! theorem "蒸馏损失的性质 \\label{{bench-thm-{page}}}"',
            f"    若 {inline()}，则", ""]
    out += display(f"bench-eq-{page}-1", "    ")
    out += ["??? proof", f"    由式 \\eqref{{bench-eq-{page}-0}} 与 {inline()} 可得", ""]
    out += display(None, "    ")
    used_display, used_inline = 3, 4
    out += ["## 推导", ""]
    while used_display < displays or used_inline < inlines:
        if used_inline < inlines:
            k = min(2, inlines - used_inline)
            out += ["其中 " + "，".join(inline() for _ in range(k)) + f"，由定理 \\ref{{bench-thm-{page}}} 得：", ""]
            used_inline += k
        if used_display < displays:
            out += display()
            used_display += 1
    return "\n".join(out)


def _write_math(root: Path, pages: int, formulas: int = 20) -> list[str]:
    if not pages:
        return []
    folder = root / "docs" / "math"
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"math/bench-{k:03d}.md" for k in range(pages)]
    for k, name in enumerate(names):
        (root / "docs" / name).write_text(_math_page(k, formulas), encoding="utf-8")
    index = ["# 数学推导（基准测试）", ""] + [f"- [推导笔记 {k}](bench-{k:03d}.md)" for k in range(pages)]
    (folder / "bench-index.md").write_text("\n".join(index) + "\n", encoding="utf-8")
    return names


def _nav_pages(nav: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(nav, str):
        out.add(nav)
    elif isinstance(nav, list):
        for item in nav:
            out |= _nav_pages(item)
    elif isinstance(nav, dict):
        for value in nav.values():
            out |= _nav_pages(value)
    return out


def _absolute(config: dict[str, Any], source: Path) -> None:
    """Paths outside docs/ keep pointing at the repository's files."""
    theme = config.get("theme")
    if isinstance(theme, dict) and theme.get("custom_dir"):
        theme["custom_dir"] = str(source / theme["custom_dir"])
    for key in ("hooks", "watch"):
        if config.get(key):
            config[key] = [str(source / p) for p in config[key]]


def _relink(docs: Path, ids: set[str]) -> None:
    """Point the copied pages' links to the repository's records (``../papers/dist2022.md``) at their copies here."""
    def to_copy(m: re.Match[str]) -> str:
        copy = f"{m.group(1)}-0"
        return f"](../papers/{copy}.md{m.group(2) or ''})" if m.group(1) not in ids and copy in ids else m.group(0)

    for path in docs.rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        new = _PAPER_LINK.sub(to_copy, text)
        if new != text:
            path.write_text(new, encoding="utf-8")


def make_kb(target: Path, papers: int, reports: int, math_pages: int, *, math: bool | None = None,
            source: Path = REPO) -> Site:
    """Write a synthetic knowledge base under ``target`` (created); see the module docstring."""
    if math is None:
        math = math_plugin_available()
    target.mkdir(parents=True)
    shutil.copytree(source / "docs", target / "docs",
                    ignore=lambda d, names: [n for n in names if re.fullmatch(r"\d{4}-\d{2}-\d{2}\.md", n)])
    dates = _report_dates(reports)
    ids = _write_papers(target, papers, dates, source)
    _write_reports(target, dates, ids, source)
    _write_math(target, math_pages)
    _relink(target / "docs", set(ids))

    config = read_config(source / "mkdocs.yml")
    _absolute(config, source)
    nav = config.setdefault("nav", [])
    nav.append({"数学推导（基准）": "math/bench-index.md"})
    not_in_nav = (config.get("not_in_nav") or "").rstrip("\n").split("\n")
    not_in_nav.append("/math/bench-[0-9]*.md")
    # Hand-written pages the repository has not put in its nav yet (a new page on its
    # way in) would fail the strict build of the copy; the benchmark is not the place to say so.
    in_nav = _nav_pages(nav)
    for path in sorted((source / "docs").rglob("*.md")):
        rel = path.relative_to(source / "docs").as_posix()
        if rel not in in_nav and not rel.startswith("reports/2"):
            not_in_nav.append(f"/{rel}")
    config["not_in_nav"] = "\n".join(line for line in not_in_nav if line) + "\n"
    names = [_plugin_name(p) for p in config.get("plugins") or []]
    if math and MATH_PLUGIN not in names:
        config["plugins"].append(MATH_PLUGIN)
    if not math:
        config["plugins"] = [p for p in config["plugins"] if _plugin_name(p) != MATH_PLUGIN]
    else:
        # KaTeX stays in the repository's node_modules; the cache is the site's own (.cache/katex).
        for i, entry in enumerate(config["plugins"]):
            if _plugin_name(entry) == MATH_PLUGIN:
                options = dict(_plugin_options(config, MATH_PLUGIN))
                options["katex_dist"] = str(source / options.get("katex_dist", "node_modules/katex/dist"))
                config["plugins"][i] = {MATH_PLUGIN: options}
    write_config(config, target / "mkdocs.yml")
    # litnotes looks for Graphviz (npm @viz-js/viz) in node_modules of the site's folder or one above it, as
    # the repository has it: without this link the synthetic site would be built with text-only lineages.
    if (source / "node_modules").is_dir():
        (target / "node_modules").symlink_to((source / "node_modules").resolve(), target_is_directory=True)
    return Site(target, papers, reports, math_pages, math, tuple(ids))


def make_baseline(kb: Site, target: Path) -> Site:
    """The same site as static Markdown, for a plain MkDocs build without the litnotes plugins.

    The generated pages and assets are what the plugins themselves add: their
    ``on_config`` and ``on_files`` run on the synthetic site's configuration and
    every file they add is written into a copy of its docs/ (the equivalent of
    ``litnotes render --out``, with the reports, edit links and site address the
    plugin passes, which the command line leaves out).  The directives of the
    hand-written pages are expanded with ``litnotes.directives.expand`` on the
    plugin's own records.  The math stays as ``pymdownx.arithmatex`` writes it,
    for KaTeX in the browser; the math plugin's stylesheet and fonts are copied.
    """
    from litnotes.site.directives import expand
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files

    shutil.copytree(kb.root / "docs", target / "docs")
    docs = target / "docs"
    hand_written = sorted(docs.rglob("*.md"))
    mk = load_config(str(kb.config))
    files = get_files(mk)
    before = {f.src_uri for f in files}
    dropped = [name for name in mk.plugins if name in ("litnotes", MATH_PLUGIN)]
    for name in dropped:
        plugin = mk.plugins[name]
        mk.plugins._current_plugin = name  # what PluginCollection.run_event sets; File.generated reads it
        mk = plugin.on_config(mk) or mk
        files = plugin.on_files(files, config=mk) or files
        mk.plugins._current_plugin = None
    for file in files:
        if file.src_uri not in before:
            out = docs / file.src_uri
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(file.content_bytes)
    litnotes = mk.plugins["litnotes"]
    problems_seen = []
    for path in hand_written:
        rel = path.relative_to(docs).as_posix()
        text = path.read_text(encoding="utf-8-sig")
        if ":::" in text:
            text, problems = expand(text, rel, litnotes.kb, litnotes.reports, source=f"docs/{rel}")
            problems_seen += problems
        path.write_text(text, encoding="utf-8")
    if problems_seen:
        raise SystemExit("bench: directive problems:\n" + "\n".join(p.text() for p in problems_seen[:10]))

    config = read_config(kb.config)
    config["extra_css"] = [str(x) for x in mk.extra_css]
    config["extra_javascript"] = [str(x) for x in mk.extra_javascript]
    config["plugins"] = [p for p in config["plugins"] if _plugin_name(p) not in dropped]
    write_config(config, target / "mkdocs.yml")
    return Site(target, kb.papers, kb.reports, kb.math_pages, False, kb.paper_ids)
