"""How few gradient evaluations ANY quadrature could spend on the default model, per text.

Samples each text's IG integrand (the gradient times input minus baseline, every token and
hidden dimension) at 513 Chebyshev points along the path, which resolves it to float32
round-off, and then asks, for every text separately and knowing the exact answer: what is
the smallest number of points at which a rule reaches a relative L2 error of at most 1e-3?
No error estimate is needed for that, so these counts are lower bounds on what an adaptive
method (which must also estimate its error) can spend. Rules tried:

- Gauss-Legendre with n points (the best polynomial rule for a fixed n);
- Gauss-Legendre through the degree-9 "sausage" map (Hale and Trefethen, 2008), which
  spreads the points more evenly and gains where features sit inside the interval;
- Gauss-Legendre through a sinh map whose centre and width are chosen per text with hindsight
  (the best of a grid of centres and widths).

Then it times a gradient evaluation of integrad (batched, as ``explain`` runs it) and of
Captum's LayerIntegratedGradients at n=50 per text, and prints the best throughput ratio
that each lower bound allows. Everything runs in one process.

Run: python benchmarks/bench_limits.py [--texts 32] [--tol 1e-3]
"""

from __future__ import annotations

import argparse
import itertools
import math
import time

import numpy as np
import torch
from _common import default_model, encode, heldout_sentences, machine
from bench_suite import captum_per_text

import integrad
from integrad.core.model_state import inference_state

N_CHEB = 512  # the integrand is sampled at N_CHEB + 1 Chebyshev-Lobatto points
SINH_CENTRES = np.linspace(0.05, 0.6, 12)
SINH_WIDTHS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0)


def sample_integrand(model, tokenizer, text: str, rows: int = 128) -> np.ndarray:
    """(N_CHEB + 1, tokens * hidden): the integrand at alpha = (1 - cos(pi j / N)) / 2."""
    emb = model.get_input_embeddings()
    enc = encode(tokenizer, [text])
    ids, mask = enc["input_ids"], enc["attention_mask"]
    alphas = torch.tensor((1 - np.cos(np.pi * np.arange(N_CHEB + 1) / N_CHEB)) / 2)
    with torch.no_grad():
        x, base = emb(ids)[0].double(), emb(enc["baseline"])[0].double()
        target = int(model(input_ids=ids, attention_mask=mask).logits.argmax(-1))
    delta, out = x - base, []
    with inference_state(model):
        for chunk in alphas.split(rows):
            z = (base + chunk[:, None, None] * delta).float().requires_grad_(True)
            logits = model(inputs_embeds=z, attention_mask=mask.expand(len(chunk), -1)).logits
            (grad,) = torch.autograd.grad(logits[:, target].sum(), z)
            out.append((grad.double() * delta).flatten(1).numpy())
    return np.concatenate(out)


class Integrand:
    """The Chebyshev series through the samples: any rule's error follows from its moments.

    A rule with nodes t_j and weights w_j on [-1, 1] integrates the series to
    sum_k c_k sum_j w_j T_k(t_j), so its error is (rule moments - exact moments) @ c,
    with no interpolation error beyond the series' own (float32 round-off here).
    """

    def __init__(self, values: np.ndarray) -> None:
        ext = np.concatenate([values, values[-2:0:-1]])  # DCT-I through the FFT
        self.coeffs = np.real(np.fft.fft(ext, axis=0))[: N_CHEB + 1] / N_CHEB
        self.coeffs[[0, -1]] /= 2
        k = np.arange(N_CHEB + 1)
        self.exact = np.where(k % 2 == 0, 2 / (1 - k**2 + (k % 2)), 0.0)  # integrals of T_k
        self.norm = np.linalg.norm(self.exact @ self.coeffs)

    def error(self, rule: tuple[np.ndarray, np.ndarray]) -> float:
        """Relative L2 error of ``rule`` (nodes and weights on [-1, 1]) on this integrand."""
        t, w = rule
        moments = w @ np.cos(np.outer(np.arccos(np.clip(t, -1, 1)), np.arange(N_CHEB + 1)))
        return float(np.linalg.norm((moments - self.exact) @ self.coeffs) / self.norm)


def gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(n)
    return x, w


def sausage(n: int, degree: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre through the normalised truncated arcsine series (Hale-Trefethen)."""
    x, w = gauss_legendre(n)
    js = np.arange((degree - 1) // 2 + 1)
    c = np.array([math.comb(2 * j, j) / (4**j * (2 * j + 1)) for j in js])
    c /= c.sum()
    mapped = sum(cj * x ** (2 * j + 1) for j, cj in zip(js, c, strict=True))
    slope = sum(cj * (2 * j + 1) * x ** (2 * j) for j, cj in zip(js, c, strict=True))
    return mapped, w * slope


def sinh_map(n: int, centre: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre through t = c + w sinh(u), clustering points around alpha = centre."""
    x, w = gauss_legendre(n)
    c, d = 1 - 2 * centre, 2 * width  # in t = 1 - 2 alpha coordinates
    lo, hi = np.arcsinh((-1 - c) / d), np.arcsinh((1 - c) / d)
    u = lo + (hi - lo) * (x + 1) / 2
    return c + d * np.sinh(u), w * (hi - lo) / 2 * d * np.cosh(u)


def fewest(f: Integrand, make, tol: float, limit: int = 160) -> int:
    """Smallest n with error <= tol, scanning n upward (errors are not monotone in n)."""
    return next((n for n in range(2, limit) if f.error(make(n)) <= tol), limit)


def per_eval_seconds(model, tokenizer, texts: list[str]) -> tuple[float, float]:
    """Seconds per gradient evaluation: integrad.explain on the list, Captum per text (n=50)."""
    start = time.perf_counter()
    integrad.explain(model, texts, tokenizer=tokenizer, n_steps=50)
    ours = (time.perf_counter() - start) / (50 * len(texts))
    return ours, captum_per_text(model, tokenizer, texts) / (50 * len(texts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=32)
    parser.add_argument("--tol", type=float, default=1e-3)
    args = parser.parse_args()
    model, tokenizer = default_model()
    print(f"machine: {machine()}")
    texts = heldout_sentences(args.texts)
    start = time.perf_counter()
    functions = [Integrand(sample_integrand(model, tokenizer, t)) for t in texts]
    seconds = time.perf_counter() - start
    print(f"sampled {len(texts)} texts at {N_CHEB + 1} points in {seconds:.0f} s")
    counts: dict[str, list[int]] = {"Gauss-Legendre": [], "sausage": [], "sinh, per text": []}
    gl50 = []
    for f in functions:
        counts["Gauss-Legendre"].append(fewest(f, gauss_legendre, args.tol))
        counts["sausage"].append(fewest(f, sausage, args.tol))
        best = counts["Gauss-Legendre"][-1]
        for centre, width in itertools.product(SINH_CENTRES, SINH_WIDTHS):
            make = lambda n, c=centre, w=width: sinh_map(n, c, w)  # noqa: E731
            if f.error(make(best - 1)) <= args.tol:  # can this map beat the best so far?
                best = fewest(f, make, args.tol, limit=best - 1)
        counts["sinh, per text"].append(best)
        gl50.append(f.error(gauss_legendre(50)))
    print(
        f"Gauss-Legendre n=50 (Captum's default): median error {np.median(gl50):.1e},"
        f" max {max(gl50):.1e}, {sum(e <= args.tol for e in gl50)}/{len(gl50)} within {args.tol:g}"
    )
    ours, theirs = per_eval_seconds(model, tokenizer, heldout_sentences(40, seed=1))
    print(
        f"seconds per evaluation: integrad batched {ours * 1e3:.2f} ms, Captum per text at n=50"
        f" {theirs * 1e3:.2f} ms (ratio {ours / theirs:.2f})"
    )
    print(f"fewest points for relative error <= {args.tol:g}, per text, knowing the answer:")
    print(f"  {'rule':<18} {'mean':>6} {'max':>5}   best throughput vs Captum n=50")
    for name, ns in counts.items():
        ratio = 50 * theirs / (np.mean(ns) * ours)
        print(f"  {name:<18} {np.mean(ns):6.1f} {max(ns):5d}   {ratio:.2f}x")


if __name__ == "__main__":
    main()
