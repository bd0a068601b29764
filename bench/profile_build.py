"""Where the strict build's time goes: one in-process build under cProfile, summed by area.

    .venv/bin/python bench/profile_build.py [--papers 1000] [--baseline] [--top 30] [--out FILE.prof]

Builds the synthetic knowledge base of ``bench/run.py`` (or its static
baseline with ``--baseline``) once to warm caches, then once under cProfile,
and prints the cumulative time of the functions that stand for each area
(an area's functions may overlap: the search plugin runs inside page
rendering, for instance) and the top functions by own time.  cProfile slows
Python code down 3-5 times, so read the shares, not the seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")

import synth

# (label, file fragment, function name): cumulative time of that function.
AREAS = [
    ("whole build (mkdocs.commands.build.build)", "mkdocs/commands/build.py", "build"),
    ("  litnotes on_files: load + check records", "litnotes/validate.py", "load_knowledge_base"),
    ("  litnotes on_files: render_site", "litnotes/render.py", "render_site"),
    ("    render_site: papers.bib (bibtexparser)", "litnotes/exports.py", "papers_bib"),
    ("    render_site: links (text.rel -> posixpath.relpath)", "litnotes/text.py", "rel"),
    ("  litnotes on_files (all)", "litnotes/plugin.py", "on_files"),
    ("  litnotes on_page_markdown (directives)", "litnotes/plugin.py", "on_page_markdown"),
    ("  math plugin (all events)", "litnotes/mathplugin.py", None),
    ("    math: KaTeX engine start (V8 + katex.min.js, on a cache miss)", "litnotes/katex.py", "_context"),
    ("    math: render_page_math (every page)", "litnotes/katex.py", "render_page_math"),
    ("    math: KaTeX renders (cache misses)", "litnotes/katex.py", "render"),
    ("    math: cache load (JSON)", "litnotes/katex.py", "_load"),
    ("    math: cache save (JSON)", "litnotes/katex.py", "save"),
    ("    math: on_post_page (references)", "litnotes/mathplugin.py", "on_post_page"),
    ("    math: KaTeX CSS and fonts", "litnotes/katex.py", "katex_css"),
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


def _empty_katex_cache(root: Path) -> None:
    import shutil

    shutil.rmtree(root / ".cache" / "katex", ignore_errors=True)
    try:
        from litnotes import katex
    except ImportError:
        return
    katex._CACHES.clear()  # the process-wide in-memory caches (what `mkdocs serve` keeps)


def profile(config: Path, out: Path, prof: Path | None, cold: bool = False) -> pstats.Stats:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    logging.basicConfig(level=logging.WARNING)
    build(load_config(str(config), site_dir=str(out), strict=True))  # warm: imports, jieba, caches
    start = time.perf_counter()
    build(load_config(str(config), site_dir=str(out), strict=True))
    print(f"in-process build without profiler: {time.perf_counter() - start:.2f} s", file=sys.stderr)
    profiler = cProfile.Profile()
    if cold:
        _empty_katex_cache(config.parent)
    config_obj = load_config(str(config), site_dir=str(out), strict=True)
    profiler.enable()
    build(config_obj)
    profiler.disable()
    if prof:
        profiler.dump_stats(str(prof))
    return pstats.Stats(profiler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=1000)
    parser.add_argument("--baseline", action="store_true", help="profile the static baseline instead")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path, help="also save the raw profile here")
    parser.add_argument("--cold", action="store_true",
                        help="empty the KaTeX cache (disk and memory) before the profiled build")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="litnotes-profile-") as tmp:
        site = synth.make_kb(Path(tmp) / "kb", args.papers, args.papers // 4, 50)
        if args.baseline:
            site = synth.make_baseline(site, Path(tmp) / "baseline")
        stats = profile(site.config, Path(tmp) / "site", args.out, args.cold)
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
