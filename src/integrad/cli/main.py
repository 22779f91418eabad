"""``integrad`` command line: ``integrad <subcommand> ...``.

Subcommands are registered in :data:`COMMANDS`, a plain dict from name to the function that
adds the subcommand's parser; each parser sets ``run``, which returns the exit status.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from integrad import __version__
from integrad.cli import explain, generate, serve, summary
from integrad.errors import IntegradError

#: Subcommand name -> function adding its parser to the subparsers.
COMMANDS: dict[str, Callable[[argparse._SubParsersAction], None]] = {
    "explain": explain.add_parser,
    "generate": generate.add_parser,
    "serve": serve.add_parser,
    "summary": summary.add_parser,
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="integrad",
        description="Explain differentiable models with Integrated Gradients.",
    )
    parser.add_argument("--version", action="version", version=f"integrad {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS.values():
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status (0 ok, 1 error, 2 usage).

    Example:
        >>> main(["explain", "I love you, but I also kind of dislike you"])  # doctest: +SKIP
        0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except IntegradError as err:
        print(f"integrad: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # unreadable input file, unwritable output file
        print(f"integrad: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
