r"""The Zensical adapter: the same site as the MkDocs plugins, from the same repository.

Zensical reads ``mkdocs.yml`` but runs no MkDocs plugin (it drops unknown ones
without a word); it does run every Python-Markdown extension listed under
``markdown_extensions``.  So the work is split by what needs the whole site:

- :func:`prepare` writes a build folder (``.cache/zensical``): every page as
  finished Markdown — the generated pages (:func:`litnotes.site.pages.render_site`)
  and the hand-written ones with their directives expanded
  (:func:`litnotes.site.directives.expand`) —, the exports (``papers.bib``,
  ``papers.json``, ``reports/feed.xml``), the CSS, scripts and KaTeX fonts,
  a ``labels.json`` of every ``\label`` on the site, and a ``mkdocs.yml`` that
  inherits the project's and adds :mod:`litnotes.engines.mdx`.  It also runs
  the math of every page once, so the records', directives' and math
  problems are known (and fail ``build``) before Zensical starts, and KaTeX's
  disk cache is warm.  Only changed files are rewritten, so Zensical's own
  cache and watcher see only real changes.
- Per page, :mod:`litnotes.engines.mdx` (a Markdown extension) renders the math,
  numbers it and links ``\eqref``/``\ref`` across pages from ``labels.json``.

Directives are expanded here rather than in the extension because Zensical
re-renders a page only when its Markdown changes: a record edit must change
the Markdown of the report that quotes it.  For the same reason a page with
references carries a comment naming the labels' version.

``python -m litnotes.engines.zensical build`` builds into ``site/``;
``… serve --port 8000`` runs ``zensical serve`` and a watcher thread that
prepares again when ``docs/``, ``papers/`` or ``mkdocs.yml`` change.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from litnotes import LitnotesError
from litnotes.math.katex import (
    BLOCK_KINDS,
    DEFAULT_MACROS,
    KATEX_DIST,
    Target,
    find_katex,
    katex_css,
    merge_targets,
    render_cache,
    render_page_math,
    resolve_refs,
)
from litnotes.problems import Problem, format_problems
from litnotes.records.validate import load_knowledge_base, record_ids
from litnotes.site.directives import expand
from litnotes.site.graph import GRAPH_CACHE, Viz, VizError, find_viz
from litnotes.site.pages import render_site
from litnotes.site.reports import read_reports

__all__ = ["BUILD_DIR", "Prepared", "build", "main", "prepare", "serve", "site_files"]

BUILD_DIR = ".cache/zensical"
"""The build folder, relative to the folder of ``mkdocs.yml``."""

# Where the MkDocs plugins put their files, so both sites have the same addresses.
_ASSETS = {"litnotes.css": "assets/litnotes/litnotes.css", "litnotes.js": "assets/litnotes/litnotes.js"}
_MATH_CSS = "assets/math/math.css"
_KATEX_URI = "assets/katex"
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---[ \t]*\n", re.DOTALL)
_H1 = re.compile(r"^# +(.+?) *#*$", re.MULTILINE)
_MAYBE_MATH = re.compile(r"\$|\\\(|\\\[|ref\{|\\label|^ *(?:!!!|\?\?\?\+?) *(?:" + "|".join(BLOCK_KINDS) + "|proof)",
                         re.MULTILINE)


class _ConfigLoader(yaml.SafeLoader):
    """Reads ``mkdocs.yml`` for the few settings litnotes needs; Python tags and ``!ENV`` load as None."""


_ConfigLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
_ConfigLoader.add_constructor("!ENV", lambda loader, node: None)


@dataclass
class Prepared:
    """What :func:`prepare` did."""

    config: Path  #: the derived ``mkdocs.yml`` to hand to ``zensical -f``
    problems: list[Problem] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  #: build-folder paths written or removed
    formulas: int = 0


def _plugin_options(config: dict, name: str) -> dict:
    for entry in config.get("plugins") or ():
        if isinstance(entry, dict) and name in entry:
            return entry[name] or {}
        if entry == name:
            return {}
    return {}


def _read_config(config_file: Path) -> dict:
    with open(config_file, encoding="utf-8") as f:
        return yaml.load(f, Loader=_ConfigLoader) or {}  # a SafeLoader: no Python objects


def site_files(root: Path, config: dict) -> tuple[dict[str, str | bytes], list[Problem]]:
    """Every file of the docs folder as the site shows it: ``{docs-relative path: content}`` and the problems.

    ``config`` is ``mkdocs.yml`` as read by YAML.  Generated pages and exports
    come from the records; hand-written Markdown has its directives expanded;
    other files (images) are passed through.  Problems name files relative to
    ``root``, as the MkDocs build names them.
    """
    from litnotes.engines.mkdocs import _edit_base

    docs = root / config.get("docs_dir", "docs")
    docs_rel = docs.relative_to(root).as_posix()
    papers = _plugin_options(config, "litnotes").get("papers", "papers")
    branch = _plugin_options(config, "litnotes").get("edit_branch", "main")
    kb, problems = load_knowledge_base(root, papers, docs_rel)
    broken = record_ids(root / papers) - kb.papers.keys()  # reported once, at the record
    reports = read_reports(docs)
    edit_base = _edit_base(SimpleNamespace(edit_uri=config.get("edit_uri"), repo_url=config.get("repo_url")),
                           docs, root, branch)
    files: dict[str, str | bytes] = {}
    handwritten: dict[str, str] = {}  # as written: the paper pages list the pages that mention them
    for path in sorted(docs.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(docs).as_posix()
        if not rel.endswith(".md"):
            files[rel] = path.read_bytes()
            continue
        text = handwritten[rel] = path.read_text(encoding="utf-8-sig")
        if ":::" in text:
            # Directives in the body only, as MkDocs hands it over; the front matter stays for Zensical.
            front = m.group(0) if (m := _FRONT_MATTER.match(text)) else ""
            body, found = expand(text[len(front):], rel, kb, reports, source=f"{docs_rel}/{rel}",
                                 offset=front.count("\n"), broken_ids=broken)
            text = front + body
            problems += found
        files[rel] = text
    generated = _render(root, kb, reports, handwritten=handwritten, edit_base=edit_base,
                        site_url=config.get("site_url"), site_name=config.get("site_name") or "litnotes",
                        directory_urls=config.get("use_directory_urls", True))
    for rel, content in generated.items():
        if rel in files:  # as under MkDocs: the hand-written file stays, and the build fails
            problems.append(Problem(f"{docs_rel}/{rel}", 0, 0, "this page is generated from the records; "
                                    "remove the hand-written file of the same name", "generated"))
            continue
        files[rel] = content
    return files, problems


def _render(root: Path, kb: Any, reports: Any, **options: Any) -> dict[str, str]:
    """render_site with lineage graphs when Graphviz (npm @viz-js/viz) is installed, as the MkDocs plugin does."""
    script = find_viz(root)
    if script is not None:
        try:
            with Viz.shared(script, root / GRAPH_CACHE).drawing() as draw:
                return render_site(kb, reports, draw=draw, **options)
        except VizError as e:
            print(f"litnotes: lineage graphs are text only: {e}", file=sys.stderr)
    return render_site(kb, reports, **options)


def _markdown_config(config_file: Path) -> dict:
    """Zensical's reading of the Markdown settings; refuses a setup in which litnotes cannot render math."""
    from zensical.config import parse_mkdocs_config

    zconfig = parse_mkdocs_config(str(config_file))
    arithmatex = zconfig["mdx_configs"].get("pymdownx.arithmatex")
    if arithmatex is None or not arithmatex.get("generic"):
        raise LitnotesError(
            f"{config_file.name}: markdown_extensions: pymdownx.arithmatex needs `generic: true` "
            "(litnotes renders the math at build time)")
    return zconfig


def _markdown_factory(zconfig: dict):
    """A Markdown renderer with exactly the extensions Zensical will use, ours left out."""
    from markdown import Markdown

    extensions = [e for e in zconfig["markdown_extensions"] if e != "litnotes.engines.mdx"]
    return Markdown(extensions=extensions, extension_configs=zconfig["mdx_configs"])


def _title(text: str, rel: str) -> str:
    m = _H1.search(text)
    return m.group(1).strip() if m else rel


class _MathPassCache:
    """What the math pass found on each page, by the page's exact inputs.

    The math pass renders every page's Markdown to find its labels and problems;
    the result is a pure function of the page's Markdown, the file as written, its
    path and title, and of the fingerprint (the Markdown extensions and their
    options, KaTeX, litnotes' own code).  Under ``zensical serve`` one process
    prepares after every edit and keeps the entries in memory; a later ``build``
    reads them from ``.cache/litnotes/``.  An entry is used only when every input
    is equal, so a cached pass gives what a fresh one would.
    """

    def __init__(self, path: Path | None, fingerprint: str) -> None:
        self.path, self.fingerprint = path, fingerprint
        self.entries: dict[str, dict] = {}
        self.dirty = False
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = None
            if isinstance(data, dict) and data.get("fingerprint") == fingerprint:
                self.entries = data.get("pages") or {}

    @staticmethod
    def key(*inputs: str) -> str:
        return hashlib.sha256(json.dumps(inputs, ensure_ascii=False).encode()).hexdigest()

    def get(self, key: str) -> tuple[int, list[Problem], list[Target], str | None] | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        return (entry["formulas"], [Problem(**p) for p in entry["problems"]],
                [Target(**t) for t in entry["targets"]], entry["html"])

    def put(self, key: str, formulas: int, problems: list[Problem], targets: list[Target], html: str | None) -> None:
        self.entries[key] = {"formulas": formulas, "problems": [asdict(p) for p in problems],
                             "targets": [asdict(t) for t in targets], "html": html}
        self.dirty = True

    def save(self, keep: set[str]) -> None:
        """Write the entries of this pass (``keep``) to disk, once they changed."""
        if len(keep) != len(self.entries):
            self.entries = {k: v for k, v in self.entries.items() if k in keep}
            self.dirty = True
        if self.path is None or not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps({"fingerprint": self.fingerprint, "pages": self.entries}, ensure_ascii=False),
                       encoding="utf-8")
        os.replace(tmp, self.path)
        self.dirty = False


_MATH_CACHES: dict[tuple[Path | None, str], _MathPassCache] = {}


@lru_cache(maxsize=1)  # a process runs the code it imported: edits to it need a restart anyway
def _code_fingerprint() -> str:
    """litnotes' own code and the versions of the Markdown libraries: a change of either renders again."""
    from importlib.metadata import version

    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    for dist in ("markdown", "pymdown-extensions", "pygments", "zensical"):
        digest.update(f"{dist}={version(dist)}".encode())
    return digest.hexdigest()


def _describe(value: Any) -> str:
    # Options hold functions (slugify) and extension objects: named by what they are, not where they live.
    kind = type(value)
    name = getattr(value, "__qualname__", None) or kind.__qualname__
    return f"{getattr(value, '__module__', kind.__module__)}.{name}:{getattr(value, 'keywords', '')}"


def _math_cache(root: Path, zconfig: dict, render_key: str, enabled: bool) -> _MathPassCache:
    fingerprint = hashlib.sha256(json.dumps(
        [zconfig["markdown_extensions"], zconfig["mdx_configs"], render_key, _code_fingerprint()],
        default=_describe, sort_keys=True).encode()).hexdigest()
    path = root / ".cache" / "litnotes" / "zensical-math.json" if enabled else None
    cache = _MATH_CACHES.get((path, fingerprint))
    if cache is None:
        cache = _MATH_CACHES[(path, fingerprint)] = _MathPassCache(path, fingerprint)
    return cache


def _math_pass(files: dict[str, str | bytes], docs: Path, docs_rel: str, zconfig: dict,
               render, cache: _MathPassCache) -> tuple[dict[str, dict], list[Problem], int, set[str]]:
    """Run every page's math as the extension will: the site-wide labels, every problem, the formula count."""
    md = None
    targets: dict[str, Target] = {}
    pages: dict[str, str] = {}
    problems: list[Problem] = []
    pages_html: dict[str, str] = {}
    formulas = 0
    used: set[str] = set()
    for rel, content in files.items():
        if not rel.endswith(".md") or not isinstance(content, str) or not _MAYBE_MATH.search(content):
            continue
        shown = f"{docs_rel}/{rel}"
        body = _FRONT_MATTER.sub("", content, count=1)
        # Problems are located in the file as written (front matter and directives included), as under MkDocs.
        source = (docs / rel).read_text(encoding="utf-8-sig") if (docs / rel).is_file() else content
        title = _title(body, rel)
        key = cache.key(rel, shown, body, source, title)
        used.add(key)
        found = cache.get(key)
        if found is None:
            if md is None:
                md = _markdown_factory(zconfig)
            md.reset()
            result = render_page_math(md.convert(body), source, shown, render, title)
            html = result.html if 'class="math-ref"' in result.html else None
            cache.put(key, result.formulas, result.problems, result.targets, html)
            found = (result.formulas, result.problems, result.targets, html)
        count, page_problems, page_targets, html = found
        formulas += count
        problems += page_problems + merge_targets(targets, page_targets)
        pages[shown] = rel
        if html is not None:
            pages_html[shown] = html
    cache.save(used)
    with_refs = set()
    for shown, html in pages_html.items():
        _, found_refs = resolve_refs(html, shown, targets, lambda t: "#")
        problems += found_refs
        with_refs.add(shown[len(docs_rel) + 1:])
    labels = {name: {"target": asdict(t), "page": pages[t.path]} for name, t in sorted(targets.items())}
    return labels, problems, formulas, with_refs


def _derived_config(out: Path, config_file: Path, extension: dict[str, Any] | None) -> str:
    css = [_ASSETS["litnotes.css"]]
    if extension is not None:
        css += [f"{_KATEX_URI}/katex.min.css", _MATH_CSS]
    derived = {
        "INHERIT": os.path.relpath(config_file, out),
        "docs_dir": "docs",
        "site_dir": "site",
        "extra_css": css,
        "extra_javascript": [_ASSETS["litnotes.js"]],
    }
    if extension is not None:
        derived["markdown_extensions"] = [{"litnotes.engines.mdx": extension}]
    # The project's template overrides (theme.custom_dir: overrides), from this folder.
    overrides = config_file.parent / "overrides"
    if overrides.is_dir():
        derived["theme"] = {"custom_dir": os.path.relpath(overrides, out)}
    header = ("# Written by litnotes.engines.zensical (python -m litnotes.engines.zensical prepare);\n"
              "# edits are overwritten. The project's settings are in the inherited file.\n")
    return header + yaml.safe_dump(derived, allow_unicode=True, sort_keys=False)


def _sync(out: Path, files: dict[str, str | bytes], own: Sequence[str] = ()) -> list[str]:
    """Make ``out`` hold exactly ``files``, writing only what changed; return the paths touched.

    The top-level folders named in ``own`` belong to someone else (Zensical's cache and built
    site, written while this runs): they are neither walked nor pruned.
    """
    changed = []
    # Whole files only, renamed into place: Zensical may read at any moment.  The temporary
    # file is written outside docs/, since a file that vanishes while Zensical lists the folder
    # stops zensical serve ("No such file or directory").
    staging = out / _STAGING
    for rel, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        target = out / rel
        try:
            if target.read_bytes() == data:
                continue
        except OSError:
            target.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir(exist_ok=True)
        tmp = staging / "next"
        tmp.write_bytes(data)
        os.replace(tmp, target)
        changed.append(rel)
    folders = []
    for folder, dirs, names in os.walk(out):
        here = Path(folder)
        if here == out:
            dirs[:] = [d for d in dirs if d not in own]
        else:
            folders.append(here)
        rel_dir = here.relative_to(out).as_posix()
        for name in names:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if rel not in files:
                (here / name).unlink()
                changed.append(rel)
    for here in reversed(folders):  # deepest first
        if not any(here.iterdir()):
            here.rmdir()
    return changed


def prepare(root: Path | str = ".", config_file: str = "mkdocs.yml", out: str | Path | None = None) -> Prepared:
    """Write the build folder for Zensical (see the module's docstring) and return what was found.

    ``out`` is the build folder (default :data:`BUILD_DIR` under ``root``).  The math runs only when
    ``mkdocs.yml`` lists the ``litnotes-math`` plugin, as under MkDocs.  Raises
    :class:`litnotes.math.katex.KatexNotInstalled` when ``make setup`` has not installed KaTeX.
    """
    root = Path(root).resolve()
    config_path = root / config_file
    config = _read_config(config_path)
    out_dir = (root / (out or BUILD_DIR)).resolve()
    files, problems = site_files(root, config)
    docs_rel = (root / config.get("docs_dir", "docs")).relative_to(root).as_posix()
    for name, target in _ASSETS.items():
        files[target] = resources.files("litnotes").joinpath("assets", name).read_bytes()
    extension: dict[str, Any] | None = None
    formulas = 0
    labels_path = out_dir / "labels.json"
    if _uses_plugin(config, "litnotes-math"):
        math = _plugin_options(config, "litnotes-math")
        dist = find_katex(root, math.get("katex_dist", KATEX_DIST)).resolve()
        macros = math.get("macros") or {}
        cache_dir = (root / (math.get("cache_dir") or ".cache/katex")) if math.get("disk_cache", True) else None
        cache = render_cache(dist, {**DEFAULT_MACROS, **macros}, cache_dir)
        cache.begin_build()
        css, fonts = katex_css(dist)
        files[f"{_KATEX_URI}/katex.min.css"] = css
        files[_MATH_CSS] = resources.files("litnotes").joinpath("assets", "math.css").read_bytes()
        for font in fonts:
            files[f"{_KATEX_URI}/{font}"] = (dist / font).read_bytes()
        zconfig = _markdown_config(config_path)
        pass_cache = _math_cache(root, zconfig, cache.fingerprint, cache_dir is not None)
        labels, found, formulas, with_refs = _math_pass(files, root / docs_rel, docs_rel, zconfig, cache.render,
                                                        pass_cache)
        problems += found
        cache.save(prune=False)  # MkDocs builds share this cache: keep their formulas too
        labels_text = json.dumps(labels, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        # What a reference shows (number, caption, page): not the line, which moves with every edit above it.
        shown = {name: [e["page"], e["target"]["number"], e["target"]["anchor"], e["target"]["caption"],
                        e["target"]["page_title"]] for name, e in labels.items()}
        version = hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()[:12]
        for rel in with_refs:
            # Zensical re-renders a page only when its Markdown changes; a label elsewhere may have.
            files[rel] = f"{files[rel]}\n<!-- litnotes labels {version} -->\n"
        extension = {"katex_dist": str(dist), "cache_dir": str(cache_dir or ""), "macros": macros,
                     "labels": str(labels_path), "docs_prefix": docs_rel + "/",
                     "report": False}  # prepare reports every problem, located in the files as written

    tree = {f"docs/{rel}": content for rel, content in files.items()}
    if extension is not None:
        tree["labels.json"] = labels_text
    derived = out_dir / "mkdocs.yml"
    tree["mkdocs.yml"] = _derived_config(out_dir, config_path, extension)
    out_dir.mkdir(parents=True, exist_ok=True)
    changed = _sync(out_dir, tree, own=_ZENSICAL_OWN)
    return Prepared(derived, sorted(problems), changed, formulas)


def _uses_plugin(config: dict, name: str) -> bool:
    return any(entry == name or (isinstance(entry, dict) and name in entry) for entry in config.get("plugins") or ())


_STAGING = ".litnotes-staging"
#: Seconds a ``zensical serve`` run must have lasted for :func:`serve` to start it again when it stops.
RESTART_AFTER = 5.0
_ZENSICAL_OWN = ("site", ".cache", _STAGING)
"""Top-level folders of the build folder that Zensical writes (its built site, its cache): left alone."""


def _zensical(*args: str) -> list[str]:
    return [sys.executable, "-m", "zensical", *args]


def build(root: Path | str = ".", config_file: str = "mkdocs.yml", site_dir: str = "site",
          out: str | Path | None = None) -> int:
    """Prepare, run ``zensical build --strict`` and copy the site to ``site_dir``; the exit code."""
    root = Path(root).resolve()
    prepared = prepare(root, config_file, out)
    if prepared.problems:
        print(format_problems(prepared.problems), file=sys.stderr)
        print(f"litnotes: {len(prepared.problems)} problems; the Zensical build stops (as mkdocs build --strict does)",
              file=sys.stderr)
        return 1
    built = prepared.config.parent / "site"
    code = subprocess.call(_zensical("build", "--strict", "--config-file", str(prepared.config)))
    if code:
        return code
    target = (root / site_dir).resolve()
    if target == root or target in root.parents or target in built.parents:
        print(f"litnotes: --site-dir {site_dir} would replace the project or its build folder; "
              "name a folder of its own, such as site", file=sys.stderr)
        return 2
    # Zensical writes every page again on each build: only the files whose bytes changed are
    # copied, and files the site no longer has are removed (a warm build copied ~70 MB before).
    _sync(target, _read_tree(built))
    print(f"litnotes: {prepared.formulas} formulas; site written to {target}", file=sys.stderr)
    return 0


def _read_tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, by its path relative to it."""
    out = {}
    for here, _, names in os.walk(folder):
        rel_dir = Path(here).relative_to(folder).as_posix()
        for name in names:
            out[name if rel_dir == "." else f"{rel_dir}/{name}"] = (Path(here) / name).read_bytes()
    return out


class _Rebuilder:
    """Prepares again, once per burst of edits, while ``zensical serve`` runs."""

    def __init__(self, root: Path, config_file: str, folders: Sequence[Path], delay: float = 0.2) -> None:
        self.root, self.config_file, self.folders, self.delay = root, config_file, folders, delay
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._running = threading.Lock()

    def dispatch(self, event: Any) -> None:
        paths = [getattr(event, "src_path", ""), getattr(event, "dest_path", "")]
        if not any(self.relevant(Path(os.fsdecode(p))) for p in paths if p):
            return
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.delay, self.run)
            self._timer.daemon = True
            self._timer.start()

    def relevant(self, path: Path) -> bool:
        """Whether an edit of ``path`` changes the site: the config, or a file in the docs or records folder."""
        if path.name.startswith(".") or path.name.endswith("~"):
            return False  # editors' swap and temporary files
        return path == self.root / self.config_file or any(f in path.parents for f in self.folders)

    def run(self) -> None:
        with self._running:  # one prepare at a time: a burst during a run gets its own run after it
            self._prepare()

    def _prepare(self) -> None:
        try:
            prepared = prepare(self.root, self.config_file)
        except Exception as e:  # a half-written file must not end the preview
            print(f"litnotes: could not prepare the pages: {e}", file=sys.stderr)
            return
        if prepared.problems:
            print(format_problems(prepared.problems), file=sys.stderr)
        if prepared.changed:
            print(f"litnotes: updated {len(prepared.changed)} files for zensical serve: "
                  f"{', '.join(prepared.changed[:5])}{' …' if len(prepared.changed) > 5 else ''}", file=sys.stderr)


def serve(root: Path | str = ".", config_file: str = "mkdocs.yml", address: str = "127.0.0.1:8000") -> int:
    """Prepare, then run ``zensical serve`` while a watcher keeps the build folder current."""
    from watchdog.observers import Observer

    root = Path(root).resolve()
    prepared = prepare(root, config_file)
    if prepared.problems:
        print(format_problems(prepared.problems), file=sys.stderr)
    config = _read_config(root / config_file)
    papers = _plugin_options(config, "litnotes").get("papers", "papers")
    folders = [f for f in (root / config.get("docs_dir", "docs"), root / papers) if f.is_dir()]
    rebuilder = _Rebuilder(root, config_file, folders)
    observer = Observer()
    for folder in folders:
        observer.schedule(rebuilder, str(folder), recursive=True)
    observer.schedule(rebuilder, str(root), recursive=False)  # mkdocs.yml
    observer.start()
    command = _zensical("serve", "--config-file", str(prepared.config), "--dev-addr", address)
    # Stopped like mkdocs serve: Ctrl-C, or a SIGTERM (a process manager): zensical serve goes too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    child = None
    try:
        while True:
            started = time.monotonic()
            child = subprocess.Popen(command)
            code = child.wait()
            # zensical serve 0.0.73 sometimes stops with FileNotFoundError when a page it is
            # rebuilding is deleted (a deleted record): the preview must not end with it.  One
            # that fails soon after starting (a configuration it cannot read) is not restarted.
            if code == 0 or time.monotonic() - started < RESTART_AFTER:
                return code
            print(f"litnotes: zensical serve stopped (exit {code}); starting it again", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        return 130
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
            child.wait()
        observer.stop()
        observer.join()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m litnotes.engines.zensical {prepare,build,serve}``."""
    parser = argparse.ArgumentParser(prog="python -m litnotes.engines.zensical",
                                     description="Build or preview the site with Zensical.")
    parser.add_argument("command", choices=("prepare", "build", "serve"))
    parser.add_argument("--root", default=".", help="folder of mkdocs.yml (default: .)")
    parser.add_argument("--config-file", default="mkdocs.yml")
    parser.add_argument("--site-dir", default="site", help="build: where the site goes (default: site)")
    parser.add_argument("--build-dir", default=None, help=f"the build folder (default: {BUILD_DIR})")
    parser.add_argument("--dev-addr", default="127.0.0.1:8000", help="serve: address (default: 127.0.0.1:8000)")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            return build(args.root, args.config_file, args.site_dir, args.build_dir)
        if args.command == "serve":
            return serve(args.root, args.config_file, args.dev_addr)
        prepared = prepare(args.root, args.config_file, args.build_dir)
    except LitnotesError as e:  # KaTeX not installed, a misconfigured mkdocs.yml
        print(f"litnotes: {e}", file=sys.stderr)
        return 2
    if prepared.problems:
        print(format_problems(prepared.problems), file=sys.stderr)
    print(f"{prepared.config}: {len(prepared.changed)} files written or removed", file=sys.stderr)
    return 1 if prepared.problems else 0


if __name__ == "__main__":
    sys.exit(main())
