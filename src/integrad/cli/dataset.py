"""``integrad explain --dataset PATH --out DIR``: explain every row of a file into a run folder.

The options are ``integrad explain``'s (model, target, baseline, integration settings) plus
the run's own, added here; :func:`integrad.explain_dataset` does the work.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from integrad.errors import InputError

#: Options of ``integrad explain`` that print or write one text's results.
_SINGLE_TEXT = (("text", "a text argument"), ("file", "--file"), ("json", "--json"),
                ("html", "--html"), ("png", "--png"))  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the dataset run's options to ``integrad explain``, in a group of their own."""
    group = parser.add_argument_group("dataset runs (see integrad.explain_dataset)")
    group.add_argument(
        "--dataset",
        metavar="PATH",
        help="explain every row of a CSV, TSV, JSON Lines or Parquet file (or a folder of them)",
    )
    group.add_argument("--out", metavar="DIR", help="run folder for the Parquet shards")
    group.add_argument("--text-column", default="text", help="column of texts (default: text)")
    group.add_argument("--id-column", help="column of row ids (default: row numbers)")
    group.add_argument(
        "--engine", choices=("local", "ray"), default="local", help="where to run (default local)"
    )
    group.add_argument(
        "--shard-size", type=int, default=256, help="rows per shard, the unit of resuming (256)"
    )
    group.add_argument("--num-gpus", type=float, help="GPUs per Ray actor (--engine ray)")
    group.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def check(args: argparse.Namespace) -> None:
    """Refuse flag mistakes, a missing input and unknown columns before any model loads."""
    for name, flag in _SINGLE_TEXT:
        if getattr(args, name, None):
            raise InputError(f"{flag} explains single texts; it cannot be used with --dataset")
    if not args.out:
        raise InputError("--dataset needs --out DIR, the folder the run is written to")
    if args.shard_size < 1:
        raise InputError(f"--shard-size must be a positive integer, got {args.shard_size}")
    if args.num_gpus is not None and args.engine != "ray":
        raise InputError("--num-gpus applies to --engine ray")
    from integrad.runs.readers import open_source

    open_source(args.dataset, args.text_column, args.id_column)


def run(args: argparse.Namespace, options: dict[str, Any]) -> int:
    """Runs the dataset job; ``options`` are the explain options ``integrad explain`` built."""
    if args.num_gpus is not None:
        options["num_gpus"] = args.num_gpus
    if args.verbose:
        os.environ["INTEGRAD_VERBOSE"] = "1"
    from integrad.runs.runner import explain_dataset

    result = explain_dataset(
        args.model,
        args.dataset,
        out=args.out,
        text_column=args.text_column,
        id_column=args.id_column,
        engine=args.engine,
        shard_size=args.shard_size,
        quiet=args.quiet,
        **{k: v for k, v in options.items() if v is not None},
    )
    if not args.quiet:
        kept = f", {result.resumed} shard(s) kept from before" if result.resumed else ""
        print(
            f"wrote {result.rows} rows ({result.failed} failed) in {result.shards} shard(s) to "
            f"{result.out}{kept}; summarise with: integrad summary {result.out}",
            file=sys.stderr,
        )
    return 0
