"""Adaptive integration against the hindsight limit, on the default model and held-out tweets.

For every text of two held-out sets (32 tweets each, drawn as ``bench_limits.py`` draws
them, the second offset by two) the IG integrand is resolved once (``adaptive_reference``:
257 Chebyshev points, float32 round-off), which gives the exact attributions and, as in
``bench_limits.py``, the fewest points any Gauss-Legendre rule through a sinh map chosen per
text with hindsight needs. Then integrad's adaptive engine runs on the model itself
(``integrad.attribute`` on the word embeddings, pad baseline, predicted class, all 32 texts
batched) at tol 1e-2, 1e-3 and 1e-4, and the script prints per set and tol: gradient
evaluations per text against the hindsight minimum, how often the error estimate is at
least the true error, and how often the true error is within tol. The same runs with the
map chosen per text from forward-only probes count each probe at the measured cost of a
forward-only pass relative to a forward+backward.

``--calibrate`` instead runs the engine on the resolved integrands of 32 development tweets
(no model calls: ``adaptive_sim``) over a grid of the estimate's safety factor, the map and
the level sizes, which is how the defaults in ``integrad.core.adaptive`` were chosen.

Run: nice python benchmarks/bench_adaptive.py [--calibrate]
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import torch
from _common import default_model, encode, heldout_sentences, machine
from adaptive_reference import load
from bench_limits import SINH_CENTRES, SINH_WIDTHS, fewest, gauss_legendre, sinh_map

import integrad
from integrad.core import adaptive, engine
from integrad.core.model_state import inference_state
from integrad.core.pathmap import PROBES

TOLS = (1e-2, 1e-3, 1e-4)
SETS = {"held-out A": 0, "held-out B": 2}  # heldout_sentences seeds; development: 5


class Reference:
    """A resolved integrand's rule errors, exactly (see ``bench_limits.Integrand``)."""

    def __init__(self, ref: dict[str, np.ndarray]) -> None:
        self.factor = ref["factor"]
        k = np.arange(self.factor.shape[0])
        self.moments = np.where(k % 2 == 0, 2 / (1 - k**2 + (k % 2)), 0.0)
        self.norm = np.linalg.norm(self.moments @ self.factor)

    def error(self, rule: tuple[np.ndarray, np.ndarray]) -> float:
        t, w = rule  # nodes and weights on [-1, 1], t = 2 alpha - 1
        k = np.arange(self.factor.shape[0])
        moments = w @ np.cos(np.outer(np.arccos(np.clip(t, -1, 1)), k))
        return float(np.linalg.norm((moments - self.moments) @ self.factor) / self.norm)


def hindsight(ref: Reference, tol: float) -> int:
    """Fewest Gauss-Legendre points through the best sinh map for this text (bench_limits)."""
    best = fewest(ref, gauss_legendre, tol)
    for centre, width in itertools.product(SINH_CENTRES, SINH_WIDTHS):
        make = lambda n, c=centre, w=width: sinh_map(n, c, w)  # noqa: E731
        if ref.error(make(best - 1)) <= tol:
            best = fewest(ref, make, tol, limit=best - 1)
    return best


def forward_only_cost(model, tokenizer, texts: list[str], repeats: int = 5) -> float:
    """Seconds of a forward-only pass over seconds of a forward+backward, same rows."""
    enc = encode(tokenizer, texts)
    emb = model.get_input_embeddings()
    z = emb(enc["input_ids"]).detach()
    mask = enc["attention_mask"]
    fwd, both = [], []
    with inference_state(model):
        for _ in range(repeats):
            start = time.perf_counter()
            with torch.no_grad():
                model(inputs_embeds=z, attention_mask=mask)
            fwd.append(time.perf_counter() - start)
            start = time.perf_counter()
            leaf = z.clone().requires_grad_(True)
            out = model(inputs_embeds=leaf, attention_mask=mask).logits[:, 0].sum()
            torch.autograd.grad(out, leaf)
            both.append(time.perf_counter() - start)
    return float(np.median(fwd) / np.median(both))


def run_engine(model, enc, tol: float, path_map: str = "default"):
    """integrad's adaptive engine on the batch; the AdaptiveResult of each group."""
    results = []

    def integrate(*args):
        results.append(adaptive.integrate_adaptive(*args, path_map=path_map))
        return results[-1]

    original, engine.integrate_adaptive = engine.integrate_adaptive, integrate
    try:
        res = integrad.attribute(
            model,
            {"input_ids": enc["input_ids"]},
            baseline={"input_ids": enc["baseline"]},
            layer=model.get_input_embeddings(),
            forward_kwargs={"attention_mask": enc["attention_mask"]},
            method="adaptive",
            tol=tol,
        )
    finally:
        engine.integrate_adaptive = original
    probes = torch.cat([r.n_probes for r in results])
    return res, probes


def heldout(model, tokenizer, name: str, seed: int, ratio: float) -> dict[str, list[float]]:
    texts = heldout_sentences(32, seed=seed)
    start = time.perf_counter()
    refs = load(model, tokenizer, texts, f"heldout{seed}")
    print(f"{name}: {len(texts)} texts, references ready in {time.perf_counter() - start:.0f} s")
    references = [Reference(r) for r in refs]
    enc = encode(tokenizer, texts)
    rows = {"bound": [], "within": []}
    print(
        f"  {'tol':>6} {'map':>8} {'evals/text':>10} {'+probes':>8} {'hindsight':>9} {'ratio':>6}"
        f" {'max':>4} {'estimate>=true':>14} {'true<=tol':>9} {'median err':>10} {'max err':>8}"
    )
    for tol in TOLS:
        limit = np.array([hindsight(r, tol) for r in references])
        for path_map in ("default", "probe"):
            res, probes = run_engine(model, enc, tol, path_map)
            errors = []
            for i, ref in enumerate(refs):
                n = len(ref["ids"])
                got = res.attributions[i, :n].double().flatten().numpy()
                errors.append(np.linalg.norm(got - ref["exact"]) / np.linalg.norm(ref["exact"]))
            errors = np.array(errors)
            estimate = res.error_estimate.numpy()
            evals = res.n_evals.double().numpy()
            cost = evals + ratio * probes.double().numpy()
            if path_map == "default":
                rows["bound"] += list(estimate >= errors)
                rows["within"] += list(errors <= tol)
            print(
                f"  {tol:6.0e} {path_map:>8} {evals.mean():10.1f} {cost.mean():8.1f}"
                f" {limit.mean():9.1f} {cost.mean() / limit.mean():6.2f} {int(cost.max()):4d}"
                f" {int((estimate >= errors).sum()):>11}/{len(texts)}"
                f" {int((errors <= tol).sum()):>6}/{len(texts)}"
                f" {np.median(errors):10.1e} {errors.max():8.1e}",
                flush=True,
            )
    return rows


def calibrate(model, tokenizer) -> None:
    import adaptive_sim

    texts = heldout_sentences(32, seed=5)
    refs = load(model, tokenizer, texts, "dev")
    references = [Reference(r) for r in refs]
    limit = {tol: np.mean([hindsight(r, tol) for r in references]) for tol in TOLS}
    print("development set: hindsight minimum " + ", ".join(f"{limit[t]:.1f}" for t in TOLS))
    for safety, power in itertools.product((0.3, 0.4, 0.5), (0.5, 1.0)):
        adaptive.ERROR_SAFETY, adaptive.RATIO_POWER = safety, power
        line = f"  safety {safety} power {power}:"
        for tol in TOLS:
            res, err = adaptive_sim.run(refs, tol)
            bound = int((res.error_estimate >= err).sum())
            line += (
                f" | tol {tol:g}: {res.n_evals.double().mean():.1f} evals"
                f" ({res.n_evals.double().mean() / limit[tol]:.2f}x), bound {bound}/{len(refs)},"
                f" within {int((err <= tol).sum())}"
            )
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    model, tokenizer = default_model()
    print(f"machine: {machine()}")
    if args.calibrate:
        calibrate(model, tokenizer)
        return
    ratio = forward_only_cost(model, tokenizer, heldout_sentences(64, seed=1))
    print(
        f"a forward-only pass costs {ratio:.2f} of a forward+backward (64 tweets, batched);"
        f" probing uses {len(PROBES)} per text"
    )
    rows: dict[str, list[float]] = {"bound": [], "within": []}
    for name, seed in SETS.items():
        for k, v in heldout(model, tokenizer, name, seed, ratio).items():
            rows[k] += v
    n = len(rows["bound"])
    print(
        f"default map, both sets, all tols: estimate >= true error for"
        f" {int(sum(rows['bound']))}/{n} (text, tol) pairs ({np.mean(rows['bound']):.1%}),"
        f" true error within tol for {int(sum(rows['within']))}/{n} ({np.mean(rows['within']):.1%})"
    )


if __name__ == "__main__":
    main()
