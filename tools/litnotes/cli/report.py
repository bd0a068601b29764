"""``litnotes report new [DATE]``: start a weekly report from the records.

The skeleton itself is :func:`litnotes.site.reports.report_skeleton`; this module
finds the records' ``read:`` dates, picks the date and writes the file, never
over an existing one.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
from pathlib import Path

from litnotes.records.load import parse_yaml, read_source
from litnotes.records.validate import ID_PATTERN, REPORTS_DIR, is_iso_date
from litnotes.site.reports import read_in_week, report_friday, report_skeleton

__all__ = ["add_arguments", "run_report"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``report`` command's own subcommands (today only ``new``)."""
    sub = parser.add_subparsers(dest="report_command", required=True, metavar="ACTION")
    new = sub.add_parser("new", help="write docs/reports/DATE.md with the usual sections and the papers read that week",
                         description="Write a new weekly report: the usual sections, and a '::: paper ID' line for "
                                     "every record whose 'read:' date falls in the report's week (Monday to Sunday). "
                                     "An existing report is never overwritten.")
    new.add_argument("date", nargs="?", metavar="DATE",
                     help="the report's date, YYYY-MM-DD (default: this week's Friday)")
    parser.set_defaults(func=run_report)


def run_report(args: argparse.Namespace, today: _dt.date | None = None) -> int:
    """0 written, 1 not written (the report exists, or it cannot be written), 2 usage error."""
    if args.date is not None and not is_iso_date(args.date):
        print(f"litnotes report new: '{args.date}' is not a date; write it as YYYY-MM-DD, e.g. 2024-04-19",
              file=sys.stderr)
        return 2
    root = Path(args.root)
    if not (root / args.papers).is_dir():
        print(f"litnotes report new: papers folder not found: {root / args.papers}; run from the repository root "
              "or pass --root", file=sys.stderr)
        return 2
    day = _dt.date.fromisoformat(args.date) if args.date else report_friday(today or _dt.date.today())
    shown = f"{args.docs}/{REPORTS_DIR}/{day.isoformat()}.md"
    target = root / shown
    if target.exists():
        print(f"litnotes report new: {shown} already exists and is left as it is; edit it, or pass another DATE",
              file=sys.stderr)
        return 1
    reads = _read_dates(root / args.papers)
    week = read_in_week(day, reads)
    from litnotes.records.draft import write_new_file

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_new_file(target, report_skeleton(day, reads))
    except FileExistsError:  # written by someone else since the check above
        print(f"litnotes report new: {shown} already exists and is left as it is; edit it, or pass another DATE",
              file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"litnotes report new: cannot write {shown}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {shown} ({len(week)} paper(s) read that week{': ' + ', '.join(week) if week else ''})")
    for pid in week:
        if reads[pid] != day.isoformat():
            # The read rule of `litnotes check` wants the report's own date.
            print(f"{args.papers}/{pid}.yaml: note: 'read: {reads[pid]}' is in this week; change it to "
                  f"'read: {day.isoformat()}' so that the paper links to this report", file=sys.stderr)
    return 0


def _read_dates(papers_dir: Path) -> dict[str, str]:
    """id -> ``read:`` date of every record that has a real one; broken records are left to ``litnotes check``."""
    out: dict[str, str] = {}
    with os.scandir(papers_dir) as entries:
        names = sorted(e.name for e in entries if e.name.endswith(".yaml") and not e.name.startswith((".", "_")))
    for name in names:
        data, problem = parse_yaml(read_source(papers_dir / name))
        read = data.get("read") if isinstance(data, dict) and not problem else None
        # A file name that is no id cannot go into a '::: paper' line; check reports it.
        if isinstance(read, str) and is_iso_date(read) and ID_PATTERN.match(name[:-5]):
            out[name[:-5]] = read
    return out
