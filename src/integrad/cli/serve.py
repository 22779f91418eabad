"""``integrad serve``: a local web view to explain, compare and browse dataset runs.

Examples::

    integrad serve
    integrad serve --model ./my-classifier --runs runs/
    integrad serve --model ./my-classifier --model ./other-classifier   # compare two models
    integrad serve --model ./my-causal-lm                              # explain generations
"""

from __future__ import annotations

import argparse
import contextlib

_EPILOG = """examples:
  integrad serve                                   the bundled default model
  integrad serve --model ./my-classifier --runs runs/
  integrad serve --model ./a --model ./b           choose between (and compare) two models
  integrad serve --model ./my-causal-lm            explain what a language model generates

Then open the address it prints. The server listens on 127.0.0.1 (this machine only) unless
--host says otherwise. Needs the web extra: pip install "integrad[web]"."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Adds ``serve`` and its options to the ``integrad`` parser."""
    p = subparsers.add_parser(
        "serve",
        help="a local web view: explain, compare and browse dataset runs in the browser",
        description="Start a local web server to explain texts, compare explanations, "
        "explain generations of language models, and browse the runs written by "
        "integrad explain --dataset.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "-m",
        "--model",
        action="append",
        default=[],
        metavar="NAME_OR_PATH",
        help="model name or folder (default: the bundled model); repeat to offer several",
    )
    p.add_argument("--tokenizer", help="tokenizer name or folder (default: the model's)")
    p.add_argument(
        "--runs",
        nargs="+",
        action="extend",
        default=[],
        metavar="DIR",
        help="folders of dataset runs (a run's --out folder, or a folder of them)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (8000; 0: any free port)")
    p.add_argument("--open", action="store_true", help="open the address in a browser")
    p.add_argument("--trust-remote-code", action="store_true", help="allow checkpoint code")
    p.add_argument("--offline", action="store_true", help="never download; local files only")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serves until Ctrl+C."""
    from integrad.web.runs import check_roots
    from integrad.web.server import serve

    check_roots(args.runs)  # before any model loads
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C ends the server quietly
        serve(
            args.model or None,
            runs=args.runs,
            host=args.host,
            port=args.port,
            tokenizer=args.tokenizer,
            block=True,
            open_browser=args.open,
            trust_remote_code=args.trust_remote_code,
            local_files_only=args.offline,
        )
    return 0
