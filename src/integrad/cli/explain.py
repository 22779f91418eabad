"""``integrad explain``: which words pushed a text classifier's prediction which way.

Examples::

    integrad explain "I love you, but I also kind of dislike you"
    integrad explain "Great food" --model ./my-classifier --target POSITIVE --html out.html
    integrad explain --file reviews.txt --json > scores.json
    cat reviews.txt | integrad explain
    integrad explain --dataset tweets.csv --out runs/tweets
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any, TextIO

from integrad.baselines import list_baselines
from integrad.cli import dataset
from integrad.cli.options import add_integration_arguments, settings_from
from integrad.errors import InputError, IntegradWarning, empty_text_message
from integrad.hf.hub import check_reachable, looks_local, peek_labels
from integrad.options import DEFAULT_TEXT_METHOD, Options
from integrad.targets import check_classes

#: More texts than this get a progress bar on standard error.
PROGRESS_FROM = 3

_EPILOG = """examples:
  integrad explain "I love you, but I also kind of dislike you"
  integrad explain "Great food" --model ./my-classifier --target POSITIVE --html out.html
  integrad explain --file reviews.txt --json > scores.json
  cat reviews.txt | integrad explain
  integrad explain --dataset tweets.csv --out runs/tweets --id-column id

Without --model, the bundled default sentiment model is used.
Set INTEGRAD_VERBOSE=1 (or pass --verbose) to see the libraries' own progress bars."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Adds ``explain`` and its options to the ``integrad`` parser."""
    p = subparsers.add_parser(
        "explain",
        help="explain a text classifier's prediction word by word",
        description="Explain a text classifier's prediction with Integrated Gradients: each "
        "word is colored by how much it pushed the score toward (green) or against (red) "
        "the target class.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "text",
        nargs="*",
        help="the text to explain (several words are joined by spaces); '-' or none with "
        "piped input reads texts from standard input, one per line",
    )
    p.add_argument("-f", "--file", help="read texts from FILE, one per line ('-': stdin)")
    p.add_argument("-m", "--model", help="model name or folder (default: bundled model)")
    p.add_argument("--tokenizer", help="tokenizer name or folder (default: the model's)")
    p.add_argument("-t", "--target", help="label name or class index (default: predicted)")
    p.add_argument(
        "--baseline",
        help=f"one of {', '.join(list_baselines('text'))} (default neutral: the one the model "
        "reads as closest to uniform), or a baseline text",
    )
    p.add_argument("--max-length", type=int, help="truncate texts to this many tokens")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--html", metavar="FILE", help="write an HTML page of the results")
    p.add_argument(
        "--png",
        metavar="FILE",
        help="write bar charts of the word scores (more than 12 texts: FILE-1.png, FILE-2.png, "
        "... with 12 each)",
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", help="show the libraries' own progress and warnings"
    )
    p.add_argument("--trust-remote-code", action="store_true", help="allow checkpoint code")
    p.add_argument("--offline", action="store_true", help="never download; local files only")
    add_integration_arguments(p)
    dataset.add_arguments(p)
    p.set_defaults(run=run)


def read_texts(args: argparse.Namespace, stdin: TextIO) -> list[str]:
    """The texts to explain from the arguments, a file or standard input."""
    if args.file is not None and args.text:
        raise InputError("give the text as an argument or with --file, not both")
    if args.file is not None:
        source = stdin.read() if args.file == "-" else Path(args.file).read_text("utf-8")
    elif args.text and args.text != ["-"]:
        text = " ".join(args.text)
        if not text.strip():
            raise InputError(empty_text_message("the text", text))
        return [text]
    elif args.text == ["-"] or not stdin.isatty():
        source = stdin.read()
    else:
        raise InputError(
            'no text to explain: give one, e.g. integrad explain "I love this", or pass '
            "--file FILE, or pipe texts in, one per line"
        )
    lines = source.splitlines()
    texts = [line for line in lines if line.strip()]
    if not texts:
        raise InputError("the input has no text to explain (it is empty or only blank lines)")
    if len(texts) < len(lines):
        print(f"integrad: skipped {len(lines) - len(texts)} blank line(s)", file=sys.stderr)
    return texts


def _target(value: str | None) -> str | int | None:
    if value is None:
        return None
    return int(value) if value.lstrip("-").isdigit() else value


def run(args: argparse.Namespace) -> int:
    """Explains the texts and prints, or writes, the results."""
    if args.dataset is not None:
        return _run_dataset(args)
    texts = read_texts(args, sys.stdin)
    # Mistakes in the input are answered before any model (or torch) loads.
    check_output_paths(args)
    Options.from_settings(
        settings_from(args), default_method=DEFAULT_TEXT_METHOD, function="integrad explain"
    )
    labels = peek_labels(args.model)
    if labels is not None and args.target is not None:
        check_classes(_target(args.target), labels)
    if args.model and not looks_local(args.model):
        check_reachable(args.model, args.offline)
    if args.verbose:
        os.environ["INTEGRAD_VERBOSE"] = "1"
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from integrad.modalities.text import explain

    err = Console(stderr=True)
    options: dict[str, Any] = {
        "tokenizer": args.tokenizer,
        "target": _target(args.target),
        **({} if args.baseline is None else {"baseline": args.baseline}),
        "max_length": args.max_length,
        "trust_remote_code": args.trust_remote_code,
        "local_files_only": args.offline,
        **settings_from(args),
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always" if args.verbose else "ignore")
        warnings.simplefilter("always", IntegradWarning)  # integrad's own: always shown
        if len(texts) > PROGRESS_FROM:
            columns = (TextColumn("explaining"), BarColumn(), MofNCompleteColumn())
            with Progress(*columns, TimeElapsedColumn(), console=err, transient=True) as bar:
                task = bar.add_task("explain", total=len(texts))
                result = explain(
                    args.model,
                    texts,
                    progress=lambda done, _: bar.update(task, completed=done),
                    **options,
                )
        else:
            result = explain(args.model, texts if len(texts) > 1 else texts[0], **options)
    for message in dict.fromkeys(str(w.message) for w in caught):  # each once, in order
        message = message.replace("raise max_length", "raise --max-length")
        err.print(f"integrad: warning: {message}", markup=False, highlight=False)
    _output(result, args, err)
    return 0


def _run_dataset(args: argparse.Namespace) -> int:
    """``--dataset``: the same options, every row of a file (see :mod:`integrad.cli.dataset`)."""
    dataset.check(args)
    Options.from_settings(settings_from(args), function="integrad explain")
    labels = peek_labels(args.model)
    if labels is not None and args.target is not None:
        check_classes(_target(args.target), labels)
    if args.model and not looks_local(args.model):
        check_reachable(args.model, args.offline)
    options: dict[str, Any] = {
        "tokenizer": args.tokenizer,
        "target": _target(args.target),
        "baseline": args.baseline,
        "max_length": args.max_length,
        "trust_remote_code": args.trust_remote_code or None,
        "local_files_only": args.offline or None,
        **settings_from(args),
    }
    return dataset.run(args, options)


def check_output_paths(args: argparse.Namespace) -> None:
    """Refuse output files that cannot be written, before any work is done."""
    for flag, name in (("--html", args.html), ("--png", args.png)):
        if name is None:
            continue
        path = Path(name)
        if path.is_dir():
            raise InputError(f"{flag} {name} is a folder; give a file name in it")
        if not path.parent.is_dir():
            raise InputError(
                f"{flag} {name}: the folder {str(path.parent)!r} does not exist; create it first"
            )
        if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise InputError(f"{flag} {name} cannot be written here (no permission)")


def _output(result: Any, args: argparse.Namespace, err: Any) -> None:
    from rich.console import Console

    from integrad.results.text import TextExplanations

    many = isinstance(result, TextExplanations)
    if args.json:
        data = [e.to_dict() for e in result] if many else result.to_dict()
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        Console(highlight=False).print(result)
    if args.html:
        result.save_html(args.html, title="integrad explain")
        err.print(f"wrote {args.html}", markup=False, highlight=False)
    if args.png:
        for path in _save_pngs(result, Path(args.png)):
            err.print(f"wrote {path}", markup=False, highlight=False)


def _save_pngs(result: Any, path: Path) -> list[Path]:
    """One figure of bar charts, or pages of :data:`MAX_PLOTS` texts: FILE-1.png, FILE-2.png."""
    from integrad.render.plot import MAX_PLOTS, plot_many
    from integrad.results.text import TextExplanations

    items = list(result) if isinstance(result, TextExplanations) else [result]
    if len(items) <= MAX_PLOTS:
        plot_many(items).savefig(path, dpi=150)
        return [path]
    pages = []
    for page, lo in enumerate(range(0, len(items), MAX_PLOTS), start=1):
        name = path.with_name(f"{path.stem}-{page}{path.suffix or '.png'}")
        plot_many(items[lo : lo + MAX_PLOTS]).savefig(name, dpi=150)
        pages.append(name)
    return pages
