"""Where the strict build's time goes: one build under cProfile, summed by area.

    .venv/bin/python bench/profile_build.py [--papers 1000] [--baseline] [--top 30] [--out FILE.prof]

Builds the synthetic knowledge base of ``bench/run.py`` (or its static
baseline with ``--baseline``) once to warm the disk caches, once to time it,
then once under cProfile, each in a new process as ``mkdocs build`` runs,
and prints the cumulative time of the functions that stand for each area
(an area's functions may overlap: the search plugin runs inside page
rendering, for instance) and the top functions by own time.  cProfile slows
Python code down 3-5 times, so read the shares, not the seconds.
"""

from __future__ import annotations

import argparse
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")

import synth

# (label, file fragment, function name): cumulative time of that function; a name of None sums a whole
# module's (or folder's) entry points.  The fragments follow the package layout (records/, site/, math/,
# engines/): a fragment that names no module measures nothing, so main() refuses to print such a table.
AREAS = [
    ("whole build (mkdocs.commands.build.build)", "mkdocs/commands/build.py", "build"),
    ("  litnotes, everything (both plugins, all events)", "/litnotes/", None),
    ("  litnotes on_files (all)", "litnotes/engines/mkdocs.py", "on_files"),
    ("    on_files: load + check records", "litnotes/records/validate.py", "load_knowledge_base"),
    ("    on_files: render_site (generated pages)", "litnotes/site/pages.py", "render_site"),
    ("      render_site: lineage graphs drawn (Graphviz, cache misses)", "litnotes/site/graph.py", "render"),
    ("      render_site: Graphviz start (V8 + viz-global.js, on a miss)", "litnotes/site/graph.py", "_start"),
    ("      render_site: mentions of papers in hand-written pages", "litnotes/site/mentions.py", None),
    ("      render_site: charts (SVG bar charts)", "litnotes/site/charts.py", None),
    ("      render_site: papers.bib (bibtexparser)", "litnotes/site/exports.py", "papers_bib"),
    ("      render_site: page headers (YAML front matter)", "litnotes/site/escape.py", "front_matter"),
    ("      render_site: links (escape.rel)", "litnotes/site/escape.py", "rel"),
    ("  litnotes on_nav + on_pre_page (nav sections)", "litnotes/engines/nav.py", None),
    ("  litnotes on_page_markdown (directives)", "litnotes/engines/mkdocs.py", "on_page_markdown"),
    ("  litnotes on_page_content (record links)", "litnotes/engines/mkdocs.py", "on_page_content"),
    ("  math plugin (all events)", "litnotes/engines/mkdocs_math.py", None),
    ("    math: KaTeX engine start (V8 + katex.min.js, on a cache miss)", "litnotes/math/katex.py", "_context"),
    ("    math: render_page_math (every page)", "litnotes/math/katex.py", "render_page_math"),
    ("    math: cache load (JSON)", "litnotes/diskcache.py", "_load"),
    ("    math + graphs: cache save (JSON)", "litnotes/diskcache.py", "save"),
    ("    math: on_post_page (references)", "litnotes/engines/mkdocs_math.py", "on_post_page"),
    ("    math: KaTeX CSS and fonts", "litnotes/math/katex.py", "katex_css"),
    ("  Markdown -> HTML (Page.render)", "mkdocs/structure/pages.py", "render"),
    ("    of which: new Markdown() per page", "markdown/core.py", "__init__"),
    ("  search plugin: index entry per page", "material/plugins/search/plugin.py", "on_page_context"),
    ("    of which: jieba segmentation", "material/plugins/search/plugin.py", "_segment_chinese"),
    ("  search plugin: write index", "material/plugins/search/plugin.py", "on_post_build"),
    ("  tags plugin (all events)", "material/plugins/tags/plugin.py", None),
    ("  theme templates (jinja2 render)", "jinja2/environment.py", "render"),
    ("  anchors/link validation", "mkdocs/structure/pages.py", "_RelativePathTreeprocessor"),
    ("  site dir clean", "mkdocs/utils/__init__.py", "clean_directory"),
    ("  static files copy", "mkdocs/structure/files.py", "copy_static_files"),
]


def unmatched(stats: pstats.Stats, baseline: bool = False) -> list[str]:
    """The areas whose module is in no profiled file (renamed or moved); the litnotes ones only count for litnotes."""
    files = {filename.replace("\\", "/") for filename, _line, _func in stats.stats}  # type: ignore[attr-defined]
    return [label.strip() for label, fragment, _name in AREAS
            if not (baseline and "litnotes" in fragment) and not any(fragment in f for f in files)]


def _cumulative(stats: pstats.Stats, fragment: str, name: str | None) -> float:
    total = 0.0
    for (filename, _line, func), (_cc, _nc, _tt, ct, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if fragment not in filename.replace("\\", "/"):
            continue
        if name is None:
            # A whole module: only entry points called from outside it, so time is not counted twice.
            if any(fragment not in c[0].replace("\\", "/") for c in callers):
                total += ct
        elif func == name:
            total += ct
    return total


def _build(config: Path, out: Path, *prefix: str) -> float:
    """Wall time of ``mkdocs build --strict`` of ``config`` in a new process, as ``bench/run.py`` times it."""
    command = [sys.executable, *prefix, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(out)]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=config.parent, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"profile_build: {' '.join(command)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def profile(config: Path, out: Path, prof: Path, cold: bool = False) -> pstats.Stats:
    """Profile a build in a new process, after a first build filled the disk caches (KaTeX, Graphviz).

    A new process, not a second build in this one: litnotes keeps what it made in memory (for
    ``mkdocs serve``), so a second in-process build would skip work that every ``mkdocs build`` does.
    """
    _build(config, out)  # warm: the disk caches, as bench/run.py's warm build (2b) finds them
    print(f"build without profiler (new process, warm caches): {_build(config, out):.2f} s", file=sys.stderr)
    if cold:
        shutil.rmtree(config.parent / ".cache" / "katex", ignore_errors=True)
    _build(config, out, "-m", "cProfile", "-o", str(prof))
    return pstats.Stats(str(prof))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=1000)
    parser.add_argument("--baseline", action="store_true", help="profile the static baseline instead")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path, help="also save the raw profile here")
    parser.add_argument("--cold", action="store_true",
                        help="empty the KaTeX disk cache before the profiled build")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="litnotes-profile-") as tmp:
        site = synth.make_kb(Path(tmp) / "kb", args.papers, args.papers // 4, 50)
        if args.baseline:
            site = synth.make_baseline(site, Path(tmp) / "baseline")
        stats = profile(site.config, Path(tmp) / "site", args.out or Path(tmp) / "build.prof", args.cold)
    missing = unmatched(stats, args.baseline)
    if missing:
        print("profile_build: no profiled module matches these areas (was a module moved? update AREAS): "
              + "; ".join(missing), file=sys.stderr)
        return 2
    whole = _cumulative(stats, *AREAS[0][1:]) or 1.0
    print(f"{'area':58} {'cum s':>8} {'share':>6}")
    for label, fragment, name in AREAS:
        t = _cumulative(stats, fragment, name)
        print(f"{label:58} {t:8.2f} {t / whole:6.1%}")
    print()
    stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
