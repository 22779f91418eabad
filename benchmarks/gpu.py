"""One script for a GPU: throughput on tweets, cost per evaluation, generation per token.

Everything runs in one process on one device (CUDA when there is one), each contender
timed after a warm-up, with the device synchronised around every timing:

1. Texts per second on held-out tweets of the default model: ``integrad.explain`` on the
   whole list at its default (adaptive, tol=1e-3; batched across texts), Captum's
   LayerIntegratedGradients called once per text at n_steps=50 (Gauss-Legendre, whose
   error on these tweets is about that of tol=1e-3: median 4e-5, max 1.2e-3, see
   RESULTS.md), and Captum with texts batched by hand (padded batches of ``--captum-batch``
   texts, all 50 steps per call).
2. The cost of one integrad gradient evaluation (fixed 50-point rule, same texts) against a
   bare batched forward+backward of the same rows.
3. Generation: a random GPT-2 (``bench_generation.build``), 20 generated tokens, each one's
   log-probability attributed to the prompt: ``integrad.explain_generation`` at tol=1e-3,
   Captum's LLMGradientAttribution at n_steps=50 (one backward per token), and IG by hand
   at 50 Gauss-Legendre steps with the backward passes of all generated tokens batched
   (``torch.autograd.grad(..., is_grads_batched=True)``) and not (one per token).

``--small`` shrinks every size so that the script runs in a minute or two on a CPU (a
check that it works, not a measurement).

Run: python benchmarks/gpu.py [--small]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

import numpy as np
import torch
from _common import default_model, encode, heldout_sentences, machine
from bench_generation import build
from captum.attr import LayerIntegratedGradients, LLMGradientAttribution, TextTokenInput

import integrad
from integrad.core.model_state import inference_state

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Seconds of one call, the device synchronised before and after."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn()
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, out


def _to(enc: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.to(DEVICE) for k, v in enc.items()}


def _lig(model) -> LayerIntegratedGradients:
    return LayerIntegratedGradients(
        lambda i, m: model(input_ids=i, attention_mask=m).logits, model.get_input_embeddings()
    )


def captum_texts(model, tokenizer, texts: list[str], per_call: int) -> None:
    """Captum at n_steps=50 on ``per_call`` texts per call (1: as users loop)."""
    lig = _lig(model)
    for lo in range(0, len(texts), per_call):
        enc = _to(encode(tokenizer, texts[lo : lo + per_call]))
        with torch.no_grad():
            target = model(
                input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]
            ).logits.argmax(-1)
        lig.attribute(
            enc["input_ids"],
            enc["baseline"],
            target=target,
            n_steps=50,
            additional_forward_args=(enc["attention_mask"],),
        )


def throughput(model, tokenizer, n_texts: int, n_captum: int, per_call: int) -> None:
    texts = heldout_sentences(n_texts, seed=1)
    sub = texts[:: max(len(texts) // n_captum, 1)][:n_captum]
    integrad.explain(model, texts[:8], tokenizer=tokenizer)  # warm-up
    captum_texts(model, tokenizer, sub[:2], 1)
    ours, explained = timed(lambda: integrad.explain(model, texts, tokenizer=tokenizer))
    evals = np.mean([e.n_evals for e in explained])
    estimate = np.max([e.error_estimate for e in explained])
    alone, _ = timed(lambda: captum_texts(model, tokenizer, sub, 1))
    batched, _ = timed(lambda: captum_texts(model, tokenizer, texts, per_call))
    rate = len(texts) / ours
    alone_rate, batched_rate = len(sub) / alone, len(texts) / batched
    print(f"1. {len(texts)} held-out tweets (Captum per text timed on {len(sub)} of them)")
    print(
        f"   integrad explain (adaptive tol=1e-3): {rate:.1f} texts/s, {evals:.1f} evaluations"
        f" per text, largest error estimate {estimate:.1e}"
    )
    print(
        f"   Captum per text, n=50:                {alone_rate:.1f} texts/s"
        f" ({rate / alone_rate:.1f}x)"
    )
    print(
        f"   Captum, {per_call} texts per call, n=50:  {batched_rate:.1f} texts/s"
        f" ({rate / batched_rate:.1f}x)"
    )


def per_evaluation(model, tokenizer, n_texts: int) -> None:
    texts = sorted(heldout_sentences(n_texts, seed=3), key=len)
    integrad.explain(model, texts[:8], tokenizer=tokenizer, n_steps=50)
    ours, _ = timed(lambda: integrad.explain(model, texts, tokenizer=tokenizer, n_steps=50))
    emb = model.get_input_embeddings()
    rows = 50 * 16  # 16 texts x 50 steps per forward/backward, as a batched run would
    chunks = [_to(encode(tokenizer, texts[lo : lo + 16])) for lo in range(0, len(texts), 16)]

    def bare() -> None:
        with inference_state(model):
            for enc in chunks:
                z = emb(enc["input_ids"]).detach().repeat(rows // len(enc["input_ids"]), 1, 1)
                mask = enc["attention_mask"].repeat(rows // len(enc["input_ids"]), 1)
                leaf = z.requires_grad_(True)
                out = model(inputs_embeds=leaf, attention_mask=mask).logits[:, 0].sum()
                torch.autograd.grad(out, leaf)

    bare()
    theirs, _ = timed(bare)
    n_rows = 50 * len(texts)
    print(
        f"2. one gradient evaluation per text: integrad {ours / n_rows * 1e3:.3f} ms, bare batched"
        f" forward+backward {theirs / n_rows * 1e3:.3f} ms (ratio {ours / theirs:.2f})"
    )


def generation(layers: int, hidden: int, n_prompt: int, n_new: int) -> None:
    model, tok = build(5000, layers, hidden)
    model = model.to(DEVICE)
    rng = random.Random(0)
    prompt = " ".join(f"w{rng.randrange(4996)}" for _ in range(n_prompt))
    first = integrad.explain_generation(
        model, prompt, tokenizer=tok, max_new_tokens=n_new, method="gausslegendre", n_steps=2
    )
    target_ids = torch.tensor(first.generated_ids)
    continuation = " ".join(first.generated_tokens)
    llm = LLMGradientAttribution(LayerIntegratedGradients(model, model.get_input_embeddings()), tok)
    text_input = TextTokenInput(prompt, tok, baselines=tok.pad_token_id, skip_tokens=[2])
    ids = torch.tensor([[*tok(prompt)["input_ids"], *first.generated_ids[:-1]]], device=DEVICE)
    p = len(tok(prompt)["input_ids"])
    alphas, weights = integrad.core.rules.rule_points("gausslegendre", 50)
    alphas = torch.tensor(alphas, device=DEVICE, dtype=torch.float32)
    weights = torch.tensor(weights, device=DEVICE, dtype=torch.float32)

    def by_hand(batched: bool) -> torch.Tensor:
        emb = model.get_input_embeddings()
        with torch.no_grad():
            x = emb(ids)[0]
            base = x.clone()
            base[1:p] = emb(torch.tensor(tok.pad_token_id, device=DEVICE))
        path = base + alphas[:, None, None] * (x - base)  # (50, L, H)
        path[:, p:] = x[p:]  # generated tokens held fixed
        leaf = path.requires_grad_(True)
        with inference_state(model):
            logits = model(inputs_embeds=leaf, use_cache=False).logits[:, p - 1 :]
            scores = logits.log_softmax(-1).gather(
                2, target_ids.to(DEVICE)[None, :, None].expand(50, -1, 1)
            )[..., 0]
            if batched:
                eye = torch.eye(n_new, device=DEVICE)[:, None, :].expand(n_new, 50, n_new)
                (grads,) = torch.autograd.grad(scores, leaf, eye, is_grads_batched=True)
            else:
                grads = torch.stack(
                    [
                        torch.autograd.grad(scores[:, j].sum(), leaf, retain_graph=j < n_new - 1)[0]
                        for j in range(n_new)
                    ]
                )
        return ((grads * weights[None, :, None, None]).sum(1) * (x - base)).sum(-1)  # (T, L)

    contenders = {
        "integrad explain_generation, tol=1e-3": lambda: integrad.explain_generation(
            model, prompt, tokenizer=tok, target=continuation, include_generated=False
        ),
        "Captum LLMGradientAttribution, n=50": lambda: llm.attribute(
            text_input, target=target_ids, n_steps=50
        ),
        "by hand n=50, batched backward (is_grads_batched)": lambda: by_hand(True),
        "by hand n=50, one backward per token": lambda: by_hand(False),
    }
    for fn in contenders.values():
        fn()  # warm-up
    seconds = {name: timed(fn)[0] for name, fn in contenders.items()}
    e = integrad.explain_generation(
        model, prompt, tokenizer=tok, target=continuation, include_generated=False
    )
    ours = seconds["integrad explain_generation, tol=1e-3"]
    same_rule = integrad.explain_generation(
        model, prompt, tokenizer=tok, target=continuation, include_generated=False, n_steps=50
    )
    reference = torch.tensor(same_rule.matrix[:, :p], dtype=torch.float64)
    for batched in (True, False):
        hand = by_hand(batched)[:, :p].double().cpu()
        gap = ((hand - reference).norm(dim=1) / reference.norm(dim=1)).max().item()
        print(f"   by hand ({'batched' if batched else 'per token'}) vs integrad n=50: {gap:.1e}")
    print(
        f"3. generation: GPT-2 {layers} layers, hidden {hidden}; prompt {first.n_prompt} tokens,"
        f" {n_new} generated; integrad {e.n_evals} evaluations, estimate {e.error_estimate:.1e}"
    )
    for name, s in seconds.items():
        print(
            f"   {name:<50} {s / n_new * 1e3:8.2f} ms per token ({s / ours:.2f}x integrad's time)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="tiny sizes: a check on a CPU")
    args = parser.parse_args()
    small = args.small
    device = torch.cuda.get_device_name() if DEVICE.type == "cuda" else "cpu"
    print(f"machine: {machine()}; device: {device}")
    model, tokenizer = default_model()
    model = model.to(DEVICE)
    throughput(model, tokenizer, 16 if small else 2000, 4 if small else 500, 8 if small else 64)
    per_evaluation(model, tokenizer, 16 if small else 256)
    if small:
        generation(layers=2, hidden=128, n_prompt=10, n_new=5)
    else:
        generation(layers=12, hidden=768, n_prompt=30, n_new=20)


if __name__ == "__main__":
    main()
