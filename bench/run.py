"""``make bench``: how litnotes performs at a thousand papers, against baselines, in one run (issues 7 and 15).

Generates synthetic knowledge bases in a temporary folder (see ``synth.py``)
and measures, interleaved so that the machine's drift hits both sides:

1. ``litnotes check`` over 10,000 records against a bare ``CSafeLoader`` load
   of the same files (``bench_check.run_bench``);
2. the strict build (``mkdocs build --strict``, a fresh process, as a user
   runs it) of 1,000 papers, 250 weekly reports and 50 math pages against a
   plain MkDocs build of the same pages written out beforehand as static
   Markdown; with an empty and a warm KaTeX cache when the math plugin exists;
3. the strict build with 3,000 papers (and 750 reports) against 1,000;
4. the rebuild of a running ``mkdocs serve`` after one record is edited, at
   1,000 papers: from writing the file to the server's "Reloading browsers"
   line, checked by fetching the page; against the strict build of item 2
   (a fresh process); the server runs beside the builds and is edited once
   per round;
5. what a reader downloads: a paper page and the search index per paper,
   gzip-compressed (level 6);
6. edit-to-page with each engine's preview (``make serve ENGINE=mkdocs|zensical``):
   change a record's title, add a record, delete it; from saving the file to
   the first HTTP answer that shows the change (``bench/edit.py``), after the
   build rounds, one server per round;
7. the Zensical strict build (``make build ENGINE=zensical``: litnotes prepares
   the pages, Zensical builds them) with warm caches against MkDocs's (2b);
8. search as a reader meets it (``bench/search.py``): from the keystroke that
   completes a query to the first result, in Chromium, on a freshly loaded page
   (so the index is fetched and built), and the gzipped search data.

Each figure is the median of several runs with min and max; the CPU time
(user + sys) of the same runs is given below the table (on a machine shared
with other processes it separates their load from ours; on a noisy virtual
machine it moves with the wall time).  The table is
printed as Markdown with the machine it ran on (paste it into
docs/performance.md).

    .venv/bin/python bench/run.py [--quick] [--runs N] [--keep DIR] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import os
import platform
import queue
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib

import synth
from edit import Preview, PreviewError

MKDOCS = [sys.executable, "-m", "mkdocs"]
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


class BenchError(RuntimeError):
    pass


# --- figures and the table ----------------------------------------------------------------------

@dataclass
class Figure:
    """Samples of one measure; seconds unless ``unit`` says bytes."""

    samples: list[float] = field(default_factory=list)
    unit: str = "s"

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def text(self) -> str:
        if not self.samples:
            return "—"
        if self.unit == "B":
            scale, unit, digits = 1 / 1024, "KB", 1
        elif self.median < 1:
            scale, unit, digits = 1000, "ms", 0
        else:
            scale, unit, digits = 1, "s", 2
        med, lo, hi = (f"{v * scale:.{digits}f}" for v in (self.median, min(self.samples), max(self.samples)))
        return f"{med} {unit}" if len(self.samples) == 1 else f"{med} {unit} ({lo}–{hi})"


@dataclass
class Row:
    item: str
    measure: str
    ours: Figure
    baseline: Figure
    target: float | None = None  # the ratio ours/baseline must not exceed it
    note: str = ""
    limit: float | None = None  # or: ours' median must not exceed it (seconds, or bytes for a "B" figure)

    @property
    def ratio(self) -> float | None:
        if not self.ours.samples or not self.baseline.samples:
            return None
        return self.ours.median / self.baseline.median

    @property
    def holds(self) -> str:
        if self.limit is not None and self.ours.samples:
            return "yes" if self.ours.median <= self.limit else "**no**"
        if self.target is None or self.ratio is None:
            return "—"
        return "yes" if self.ratio <= self.target else "**no**"

    @property
    def target_text(self) -> str:
        if self.limit is not None:
            return f"≤ {self.limit / 1024 / 1024:g} MB" if self.ours.unit == "B" else f"≤ {self.limit:g} s"
        return f"≤ {self.target:g}" if self.target is not None else "—"


def table(rows: Sequence[Row]) -> str:
    out = ["| # | measure | litnotes: median (min–max) | baseline: median (min–max) | ratio | target | holds |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "—"
        cells = (r.item, r.measure, r.ours.text(), r.baseline.text(), ratio, r.target_text, r.holds)
        out.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(out)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{cpus} CPUs (nproc), {model}; {platform.system()} {platform.machine()}; "
            f"Python {platform.python_version()}; MkDocs {version('mkdocs')}, "
            f"Material {version('mkdocs-material')}, PyYAML {version('PyYAML')}")


def _load() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- 1. the checker -----------------------------------------------------------------------------

def bench_check(records: int, runs: int) -> Row:
    try:
        from bench_check import run_bench
    except ImportError:
        run_bench = None
    ours, base = Figure(), Figure()
    if run_bench is not None:
        source = "bench_check.run_bench: litnotes.validate.load_knowledge_base, in-process"
        for _ in range(runs):
            result = run_bench(records, repeat=1)
            if result.problems:
                raise BenchError(f"bench_check's corpus has {result.problems} problem(s)")
            ours.samples.append(result.check_seconds)
            base.samples.append(result.baseline_seconds)
    else:
        source = "own quick version (bench_check.py not found)"
        _own_check(records, runs, ours, base)
    return Row("1", f"`litnotes check`, {records:,} records, vs read + `yaml.load(CSafeLoader)`", ours, base, 1.5,
               source)


def _own_check(records: int, runs: int, ours: Figure, base: Figure) -> None:
    import yaml
    from litnotes.records.validate import clear_parse_cache, load_knowledge_base

    with tempfile.TemporaryDirectory(prefix="litnotes-bench-check-") as tmp:
        site = synth.make_kb(Path(tmp) / "kb", records, max(1, records // 4), 0, math=False)

        def bare() -> None:
            for path in sorted((site.root / "papers").iterdir()):
                if path.suffix == ".yaml":
                    yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)

        load_knowledge_base(site.root)
        for _ in range(runs):
            start = time.perf_counter()
            bare()
            base.samples.append(time.perf_counter() - start)
            clear_parse_cache()  # as a new `litnotes check` process
            start = time.perf_counter()
            _, problems = load_knowledge_base(site.root)
            ours.samples.append(time.perf_counter() - start)
            if problems:
                raise BenchError(f"the synthetic records have {len(problems)} problem(s): {problems[0].text()}")


# --- the math plugin's cache --------------------------------------------------------------------

@dataclass
class MathSetup:
    """Whether the KaTeX plugin takes part, and how to empty a site's KaTeX cache."""

    available: bool
    describe: str

    def clear(self, site: synth.Site) -> None:
        """Empty the disk cache (``cache_dir``, default ``.cache/katex`` next to mkdocs.yml).

        Each build is a fresh process, so there is no in-memory cache to empty.
        """
        options = synth._plugin_options(synth.read_config(site.config), synth.MATH_PLUGIN)
        shutil.rmtree(site.root / (options.get("cache_dir") or ".cache/katex"), ignore_errors=True)


def math_setup() -> MathSetup:
    if not synth.math_plugin_available():
        return MathSetup(False, f"the math plugin ({synth.MATH_PLUGIN}) is not installed: builds measured "
                                "without math; the math pages stay plain Markdown on both sides")
    return MathSetup(True, f"math: {synth.MATH_PLUGIN} renders with KaTeX at build time in the litnotes builds; "
                           "its disk cache (.cache/katex) is emptied before each cold build and filled by the one "
                           "before each warm build; the baseline leaves the math as pymdownx.arithmatex writes it "
                           "(for KaTeX in the browser) and copies the same KaTeX stylesheet and fonts")


# --- 2 and 3. builds ----------------------------------------------------------------------------

def build(site: synth.Site, out: Path, cpu: Figure | None = None) -> float:
    """Wall time of ``mkdocs build --strict`` in a fresh process (without -q, which hides warnings)."""
    # The site folder of the previous run stays: MkDocs cleans it, as on a second `mkdocs build`
    # (and as `mkdocs serve` does before each rebuild).
    return _timed([*MKDOCS, "build", "--strict", "-f", str(site.config), "-d", str(out)], site.root,
                  f"strict build of {site.config}", cpu)


def _timed(command: list[str], cwd: Path, what: str, cpu: Figure | None) -> float:
    """Wall time of ``command`` run to success (its stderr's tail in the error otherwise); CPU time into ``cpu``."""
    before = _children_cpu()
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=ENV, cwd=cwd, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        tail = "\n".join(result.stderr.splitlines()[-25:])
        raise BenchError(f"{what} failed ({result.returncode}):\n{tail}")
    if cpu is not None:
        cpu.samples.append(_children_cpu() - before)
    return elapsed


def zensical_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("zensical") is not None


def zensical_build(site: synth.Site, out: Path, cpu: Figure | None = None) -> float:
    """Wall time of the README's Zensical build (``make build ENGINE=zensical``) in a fresh process.

    It prepares the build folder (litnotes' pages, checked as strictly as MkDocs's
    ``--strict``), runs ``zensical build --strict`` and copies the site to ``out``.
    Zensical's cache (``.cache/zensical/.cache``) and litnotes' stay from the run
    before: a warm build, as a user's second build is.
    """
    return _timed([sys.executable, "-m", "litnotes.engines.zensical", "build", "--root", str(site.root),
                   "--site-dir", str(out)], site.root, f"Zensical build of {site.root}", cpu)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- 4. serve -----------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running ``mkdocs serve`` of a site; :meth:`edit` times one record edit until the page is reloaded."""

    def __init__(self, site: synth.Site, timeout: float = 900) -> None:
        self.site, self.timeout = site, timeout
        self.reload, self.built, self.cpu = Figure(), Figure(), Figure()
        self.pid = site.paper_ids[len(site.paper_ids) // 2]
        self._lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self._log: list[str] = []
        self._edits = 0
        self.proc = subprocess.Popen(
            [*MKDOCS, "serve", "-f", str(site.config), "-a", f"127.0.0.1:{_free_port()}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV, cwd=site.root,
            start_new_session=True)
        threading.Thread(target=self._pump, daemon=True).start()
        try:
            _, line = self._wait_for(r"Documentation built in")
            self.initial = float(re.search(r"built in ([\d.]+) seconds", line).group(1))
            _, line = self._wait_for(r"Serving on")
        except BaseException:
            self.stop()
            raise
        self.url = re.search(r"Serving on (\S+)", line).group(1).rstrip("/")

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put((time.perf_counter(), line.rstrip()))
        self._lines.put((time.perf_counter(), "<exit>"))

    def _wait_for(self, pattern: str) -> tuple[float, str]:
        deadline = time.perf_counter() + self.timeout
        while True:
            try:
                at, line = self._lines.get(timeout=max(0.1, deadline - time.perf_counter()))
            except queue.Empty:
                raise BenchError(f"mkdocs serve: no '{pattern}' within {self.timeout:.0f} s:\n"
                                 + "\n".join(self._log[-20:])) from None
            self._log.append(line)
            if line == "<exit>" or "An error happened" in line or "Aborted with" in line:
                raise BenchError("mkdocs serve failed:\n" + "\n".join(self._log[-25:]))
            if re.search(pattern, line):
                return at, line

    def _cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def edit(self) -> None:
        """Change the title of one record; time until the server says it reloaded, and check the page."""
        time.sleep(1.5)  # let the server settle (a polling observer's snapshot of the idle tree)
        while not self._lines.empty():
            self._log.append(self._lines.get()[1])
        self._edits += 1
        marker = f"bench-edit-{self._edits}"
        record = self.site.record(self.pid)
        text = re.sub(r'^title: "(.*?)( bench-edit-\d+)?"$', lambda m: f'title: "{m.group(1)} {marker}"',
                      record.read_text(encoding="utf-8"), count=1, flags=re.MULTILINE)
        cpu = self._cpu()
        start = time.perf_counter()
        record.write_text(text, encoding="utf-8")
        _, line = self._wait_for(r"Documentation built in")
        seconds = float(re.search(r"built in ([\d.]+) seconds", line).group(1))
        done, _ = self._wait_for(r"Reloading browsers")
        self.reload.samples.append(done - start)
        self.built.samples.append(seconds)
        self.cpu.samples.append(self._cpu() - cpu)
        html = urllib.request.urlopen(f"{self.url}/papers/{self.pid}/", timeout=60).read().decode()
        if marker not in html:
            raise BenchError(f"mkdocs serve rebuilt, but papers/{self.pid}/ does not show the edit")

    def stop(self) -> None:
        # Ctrl-C, not SIGTERM: MkDocs then removes its temporary site folder.
        for stop in (lambda: self.proc.send_signal(signal.SIGINT), self.proc.terminate, self.proc.kill):
            if self.proc.poll() is not None:
                return
            stop()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=20)


def copy_site(site: synth.Site, root: Path) -> synth.Site:
    """The same project in another folder (a server's edits must not touch the built site)."""
    shutil.copytree(site.root, root)
    return dataclasses.replace(site, root=root)


EDIT_KINDS = ("change", "add", "delete")
EDIT_LIMIT = 1.5  # seconds from saving to the page, with the preview the README recommends (issue 15)


EDIT_TIMEOUT = 180.0  # an edit not shown by then counts as this many seconds (and is named in the notes)


def edit_to_page(kb: synth.Site, root: Path, engine: str, rounds: int, notes: list[str]) -> dict[str, Figure]:
    """Item 6: the engine's preview server (the README's ``make serve ENGINE=…``), ``rounds`` × each edit.

    Timed by ``bench/edit.py`` from the saved file to the first HTTP answer that shows the change.
    An edit not shown within :data:`EDIT_TIMEOUT` counts as that long and is named in the notes.
    """
    figures = {kind: Figure() for kind in EDIT_KINDS}
    site = copy_site(kb, root)
    pid = site.paper_ids[len(site.paper_ids) // 3]
    _log(f"6. {engine} serve: starting (its first build is not timed)")
    try:
        preview = Preview(site.root, engine)
    except PreviewError as e:
        raise BenchError(str(e)) from None
    try:
        for k in range(rounds):
            for kind in EDIT_KINDS:
                if kind == "delete" and preview.added is None:
                    notes.append(f"row 6 {engine}: round {k + 1} has no 'delete' (its 'add' was not shown)")
                    continue
                preview.timeout = EDIT_TIMEOUT
                try:
                    seconds = preview.edit(kind, pid)
                except PreviewError:
                    seconds = EDIT_TIMEOUT
                    notes.append(f"row 6 {engine}: in round {k + 1} the '{kind}' edit was not shown within "
                                 f"{EDIT_TIMEOUT:.0f} s (counted as {EDIT_TIMEOUT:.0f} s)")
                    if kind == "add":  # nothing to delete: the record is there, its page is not
                        preview.forget_added()
                figures[kind].samples.append(seconds)
                _log(f"6. {engine} serve, round {k + 1}/{rounds}: {kind} {seconds:.2f} s")
    finally:
        preview.stop()
    return figures


# --- 5. sizes -----------------------------------------------------------------------------------

def gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6, mtime=0))


def sizes(site: synth.Site, out: Path) -> tuple[Figure, Figure, int]:
    pages = Figure(unit="B")
    for pid in site.paper_ids:
        pages.samples.append(gzip_size(out / "papers" / pid / "index.html"))
    import search

    # Every file the browser downloads for search: Material's search_index.json, and litnotes'
    # prebuilt index when the pages run litnotes' worker (search_index.json then holds only the config).
    total = search.search_bytes(out)
    return pages, Figure([total / site.papers], unit="B"), total


# --- 8. search --------------------------------------------------------------------------------

SEARCH_LIMIT = 0.3  # seconds from the keystroke to the first result (issue 15)
SEARCH_BYTES_LIMIT = 0.5 * 1024 * 1024  # gzipped search data a phone downloads (issue 15)


def search_rows(tmp: Path, p: Plan, zensical: bool, notes: list[str]) -> list[Row]:
    """Item 8: first results in Chromium after typing (``bench/search.py``) and the search data's size."""
    import search

    if not Path(search.CHROMIUM).exists():
        notes.append(f"row 8: not measured: {search.CHROMIUM} is not installed (make ci-deps)")
        return []
    sites = {"MkDocs": tmp / "site-kb", "plain MkDocs": tmp / "site-baseline"}
    if zensical:
        sites["Zensical"] = tmp / "site-zensical"
    runs = 1 if p.build_runs == 1 else 3
    _log(f"8. search: {', '.join(search.QUERIES)} × {runs} runs on each of {', '.join(sites)} in Chromium")
    times, sizes_ = {}, {}
    try:
        for name, site in sites.items():
            found = search.first_result_times(site, runs=runs)
            times[name] = Figure([t for samples in found.values() for t in samples])
            sizes_[name] = Figure([search.search_bytes(site)], unit="B")
            notes.append(f"row 8 {name}: first result per query, medians: "
                         + ", ".join(f"{q} {Figure(v).text()}" for q, v in found.items()))
    except search.SearchError as e:
        raise BenchError(f"search: {e}") from None
    rows = [Row("8a", f"search: keystroke → first result in Chromium, {p.papers:,} papers, all queries, "
                      "vs the plain MkDocs site", times["MkDocs"], times["plain MkDocs"], limit=SEARCH_LIMIT),
            Row("8b", "search data a browser downloads, gzip -6, vs the plain MkDocs site", sizes_["MkDocs"],
                sizes_["plain MkDocs"], limit=SEARCH_BYTES_LIMIT)]
    if zensical:
        rows += [Row("8a zensical", "search with Zensical: keystroke → first result, vs MkDocs (8a)",
                     times["Zensical"], times["MkDocs"], limit=SEARCH_LIMIT),
                 Row("8b zensical", "search data with Zensical, gzip -6, vs MkDocs (8b)", sizes_["Zensical"],
                     sizes_["MkDocs"], limit=SEARCH_BYTES_LIMIT)]
    return rows


# --- the run ------------------------------------------------------------------------------------

@dataclass
class Plan:
    papers: int
    reports: int
    math_pages: int
    growth: int
    check_records: int
    build_runs: int
    fast_runs: int


def plan(args: argparse.Namespace) -> Plan:
    p = Plan(200, 50, 10, 600, 2000, 1, 3) if args.quick else Plan(1000, 250, 50, 3000, 10000, 3, 5)
    if args.runs:
        p.build_runs = args.runs
    return p


def run(args: argparse.Namespace) -> str:
    p = plan(args)
    math = math_setup()
    started, load_before = time.time(), _load()
    _log(f"machine: {machine()}; load average {load_before}")
    _log(math.describe)
    rows: list[Row] = []
    notes: list[str] = []

    _log(f"1. litnotes check over {p.check_records:,} records, {p.fast_runs} runs")
    rows.append(bench_check(p.check_records, p.fast_runs))

    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="litnotes-bench-"))
    if args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    try:
        _log(f"generating {p.papers} papers, {p.reports} reports, {p.math_pages} math pages, "
             f"and {p.growth} papers, {p.reports * p.growth // p.papers} reports under {tmp}")
        kb = synth.make_kb(tmp / "kb", p.papers, p.reports, p.math_pages, math=math.available)
        base = synth.make_baseline(kb, tmp / "baseline")
        big = synth.make_kb(tmp / "kb-growth", p.growth, p.reports * p.growth // p.papers, p.math_pages,
                            math=math.available)

        serve_site = copy_site(kb, tmp / "kb-serve")
        _log("4. starting mkdocs serve (its first build is not timed)")
        server = Server(serve_site)
        cold = math.available
        zensical = zensical_available() and not args.no_zensical
        if zensical:
            _log("7. Zensical: a first build fills its cache and litnotes' (not timed)")
            first_zensical = zensical_build(kb, tmp / "site-zensical")
        names = ("cold", "warm", "base", "big", "zensical")
        figures = {name: Figure() for name in names}
        cpu = {name: Figure() for name in names}
        try:
            # A round runs every variant once, so that the machine's drift hits all of them alike.
            for k in range(p.build_runs):
                _log(f"2–4. round {k + 1}/{p.build_runs}: builds, then one record edit under mkdocs serve")
                if cold:
                    math.clear(kb)
                    figures["cold"].samples.append(build(kb, tmp / "site-kb", cpu["cold"]))
                figures["warm"].samples.append(build(kb, tmp / "site-kb", cpu["warm"]))
                figures["base"].samples.append(build(base, tmp / "site-baseline", cpu["base"]))
                if k == 0 and math.available:
                    # The same formulas: start the bigger site with a warm cache too.
                    shutil.copytree(kb.root / ".cache", big.root / ".cache", dirs_exist_ok=True)
                figures["big"].samples.append(build(big, tmp / "site-growth", cpu["big"]))
                if zensical:
                    figures["zensical"].samples.append(zensical_build(kb, tmp / "site-zensical", cpu["zensical"]))
                server.edit()
        finally:
            server.stop()
        edits = {engine: edit_to_page(kb, tmp / f"kb-preview-{engine}", engine, p.build_runs, notes)
                 for engine in (("mkdocs", "zensical") if zensical else ("mkdocs",))}
        size = f"{p.papers:,} papers, {p.reports} reports, {p.math_pages} math pages"
        if cold:
            rows.append(Row("2a", f"strict build, {size}, empty KaTeX cache", figures["cold"], figures["base"], 1.3))
            rows.append(Row("2b", f"strict build, {size}, warm KaTeX cache", figures["warm"], figures["base"], 1.1))
        else:
            rows.append(Row("2", f"strict build, {size} (no math plugin)", figures["warm"], figures["base"], 1.3))
        full = "2b" if cold else "2"
        growth = f"strict build, {p.growth:,} vs {p.papers:,} papers (reports × {p.growth // p.papers} too)"
        rows.append(Row("3", growth,
                        figures["big"], figures["warm"], round(1.1 * p.growth / p.papers, 2)))
        rows.append(Row("4", f"`mkdocs serve`: edit one record → page reloaded, vs the full build ({full})",
                        server.reload, figures["warm"], 0.5,
                        f"MkDocs's own 'Documentation built in' figure for the rebuild: {server.built.text()}; "
                        f"for the server's first build (cold KaTeX cache): {server.initial:.2f} s"))
        for engine, by_kind in edits.items():
            full_build = figures["warm" if engine == "mkdocs" else "zensical"]
            for kind, figure in by_kind.items():
                what = {"change": "change one record's title", "add": "add a record",
                        "delete": "delete that record"}[kind]
                rows.append(Row(f"6 {engine}", f"`make serve ENGINE={engine}`: {what} → the page shows it, vs "
                                f"{'the full build (' + full + ')' if engine == 'mkdocs' else 'its full build (7)'}",
                                figure, full_build, limit=EDIT_LIMIT))
        if zensical:
            rows.append(Row("7", f"Zensical strict build (`make build ENGINE=zensical`), {size}, warm caches, "
                            f"vs MkDocs ({full})", figures["zensical"], figures["warm"], 0.5,
                            f"the first Zensical build of the run (cold caches: Zensical's and litnotes' "
                            f"math pass; KaTeX's cache warm): {first_zensical:.2f} s"))
        def cpu_ratio(a: str, b: str) -> str:
            return f"{cpu[a].median / cpu[b].median:.2f}"

        notes.append("CPU time (user + sys) of the same runs, medians: "
                     + (f"cold {cpu['cold'].text()}, " if cold else "")
                     + f"warm {cpu['warm'].text()}, baseline {cpu['base'].text()}, "
                     + f"{p.growth:,} papers {cpu['big'].text()}, serve rebuild {server.cpu.text()}; ratios "
                     + (f"2a {cpu_ratio('cold', 'base')}, " if cold else "")
                     + f"{full} {cpu_ratio('warm', 'base')}, 3 {cpu_ratio('big', 'warm')}, "
                     + f"4 {server.cpu.median / cpu['warm'].median:.2f}"
                     + (f"; Zensical build {cpu['zensical'].text()}, ratio 7 {cpu_ratio('zensical', 'warm')}"
                        if zensical else ""))

        _log("5. sizes")
        pages, per_paper, total = sizes(kb, tmp / "site-kb")
        bpages, bper_paper, btotal = sizes(base, tmp / "site-baseline")
        rows.append(Row("5a", "paper page HTML, gzip -6 (over all paper pages)", pages, bpages))
        rows.append(Row("5b", f"search index per paper, gzip -6 (whole index {total / 1024:.0f} KB; "
                              f"baseline {btotal / 1024:.0f} KB)", per_paper, bper_paper))
        rows += search_rows(tmp, p, zensical, notes)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    minutes = (time.time() - started) / 60
    notes.append(math.describe)
    notes += [f"row {r.item}: {r.note}" for r in rows if r.note]
    notes.append(f"runs: {p.build_runs} rounds of builds and serve edits, {p.fast_runs} for the check; "
                 f"load average before / after: {load_before} → {_load()}; the bench took {minutes:.1f} min")
    return "\n".join([f"Machine: {machine()}", f"Date: {time.strftime('%Y-%m-%d')}", "", table(rows), ""]
                     + [f"- {n}" for n in notes]) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer runs and smaller sizes (a smoke test, not the figures)")
    parser.add_argument("--runs", type=int, help="rounds of builds and serve edits (default 3; 1 with --quick)")
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR (replaced) and keep it afterwards")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table and notes to FILE")
    parser.add_argument("--no-zensical", action="store_true", help="leave out the Zensical rows (6 zensical, 7)")
    args = parser.parse_args(argv)
    try:
        report = run(args)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    print(report)
    if args.markdown:
        Path(args.markdown).write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
