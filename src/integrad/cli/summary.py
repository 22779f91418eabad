"""``integrad summary DIR``: what a model relied on across a dataset run.

Examples::

    integrad summary runs/tweets
    integrad summary runs/tweets --html summary.html --png summary.png --min-count 5
"""

from __future__ import annotations

import argparse
from pathlib import Path

from integrad.errors import InputError

_EPILOG = """examples:
  integrad explain --dataset tweets.csv --out runs/tweets
  integrad summary runs/tweets
  integrad summary runs/tweets --html summary.html --png summary.png --by target"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Adds ``summary`` and its options to the ``integrad`` parser."""
    from integrad.runs.summary import GROUPS, MIN_COUNT, TOP

    p = subparsers.add_parser(
        "summary",
        help="summarise a dataset run: the words that push each class most, errors, failures",
        description="Summarise a run folder written by integrad explain --dataset: per class, "
        "the words that push toward and against it most (mean score, with a minimum count), "
        "the spread of deltas and error estimates, and the rows that failed and why.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("folder", metavar="DIR", help="the run folder (--out of integrad explain)")
    p.add_argument("--html", metavar="FILE", help="write the summary as an HTML page")
    p.add_argument("--png", metavar="FILE", help="write the summary's charts as a PNG")
    p.add_argument(
        "--by", choices=sorted(GROUPS), default="predicted_label",
        help="the classes: the predicted label (default; also 'label') or the target label",
    )  # fmt: skip
    p.add_argument(
        "--min-count", type=int, default=MIN_COUNT,
        help=f"occurrences a word needs under a class to be ranked ({MIN_COUNT})",
    )  # fmt: skip
    p.add_argument("--top", type=int, default=TOP, help=f"words per class and side ({TOP})")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Prints the summary, and writes the HTML page and the PNG when asked."""
    from integrad.cli.explain import check_output_paths

    check_output_paths(args)
    if not Path(args.folder).is_dir():
        raise InputError(f"{args.folder!r} is not a folder; give a run folder (--out of a run)")
    from rich.console import Console

    from integrad.runs.summary import summarize

    summary = summarize(args.folder, by=args.by, min_count=args.min_count, top=args.top)
    Console(highlight=False).print(summary)
    err = Console(stderr=True)
    if args.html:
        summary.save_html(args.html, title=f"integrad summary: {Path(args.folder).name}")
        err.print(f"wrote {args.html}", markup=False, highlight=False)
    if args.png:
        summary.plot().savefig(args.png, dpi=110)
        err.print(f"wrote {args.png}", markup=False, highlight=False)
    return 0
