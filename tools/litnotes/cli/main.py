"""The ``litnotes`` command line: thin wrappers that print the core's problems.

Exit codes: 0 clean, 1 problems found, 2 usage error (argparse's own code).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from litnotes.cli.errors import CommandError
from litnotes.problems import FORMATS, format_problems

__all__ = ["CommandError", "main"]


def _cmd_check(args: argparse.Namespace) -> int:
    from litnotes.records.validate import load_knowledge_base, record_ids
    from litnotes.site.directives import check_docs

    kb, problems = load_knowledge_base(args.root, args.papers, args.docs)
    if not any(p.rule == "usage" for p in problems):
        # The build's own directive handlers, over the same pages, records and reports.
        known = record_ids(Path(args.root) / args.papers)
        problems = sorted(problems + check_docs(Path(args.root), args.docs, kb, known))
    if any(p.rule == "usage" for p in problems):
        print(f"litnotes check: {problems[0].message}", file=sys.stderr)
        return 2
    out = format_problems(problems, args.format)
    if args.format == "json" or out:
        print(out)
    if args.format == "text":
        summary = f"{len(problems)} problem(s) in {len({p.path for p in problems})} file(s)" if problems \
            else f"{len(kb.papers)} records checked, no problems"
        print(summary, file=sys.stderr)
    return 1 if problems else 0


def _cmd_new(args: argparse.Namespace) -> int:
    from litnotes.cli.new import run

    return run(args)


def _cmd_render(args: argparse.Namespace) -> int:
    from litnotes.records.validate import load_knowledge_base
    from litnotes.site.mentions import read_pages
    from litnotes.site.pages import render_site
    from litnotes.site.reports import read_reports

    kb, problems = load_knowledge_base(args.root, args.papers, args.docs)
    if problems:
        print(format_problems(problems), file=sys.stderr)
        print("litnotes render: fix the problems above first (litnotes check lists them)", file=sys.stderr)
        return 1
    out = Path(args.out)
    # The same reports as the site, so the reports index, the feed and "read in" links match it.
    docs = Path(args.root) / args.docs
    pages = render_site(kb, read_reports(docs), handwritten=read_pages(docs))
    for rel, content in pages.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8") if isinstance(content, str) else target.write_bytes(content)
    print(f"wrote {len(pages)} files under {out}", file=sys.stderr)
    return 0


def _cmd_links(args: argparse.Namespace) -> int:
    from litnotes.links.check import run_links

    return run_links(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="litnotes",
                                     description="Check and publish a literature-notes knowledge base.")
    parser.add_argument("--root", default=".", help="repository root (default: current folder)")
    parser.add_argument("--papers", default="papers", help="records folder, relative to the root (default: papers)")
    parser.add_argument("--docs", default="docs", help="hand-written pages, relative to the root (default: docs)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = sub.add_parser("check", help="validate every record and the paper ids named in docs/")
    check.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    check.set_defaults(func=_cmd_check)

    new = sub.add_parser("new", help="add papers/<id>.yaml from an arXiv id, DOI, OpenReview URL, BibTeX or flags")
    from litnotes.cli.new import add_arguments
    add_arguments(new)
    new.set_defaults(func=_cmd_new)

    render = sub.add_parser("render", help="write the generated pages and exports to a folder")
    render.add_argument("--out", required=True, help="output folder (created; files in it are replaced)")
    render.set_defaults(func=_cmd_render)

    report = sub.add_parser("report", help="weekly reports: 'report new [DATE]' starts one from the records")
    from litnotes.cli.report import add_arguments as add_report_arguments
    add_report_arguments(report)

    links = sub.add_parser("links", help="check external links of the records and docs/")
    try:
        from litnotes.links.check import add_arguments as add_link_arguments
        add_link_arguments(links)
    except ImportError:  # pragma: no cover - while links.py is being written
        pass
    links.set_defaults(func=_cmd_links)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CommandError as exc:
        print(f"{exc.where or f'litnotes {args.command}'}: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
