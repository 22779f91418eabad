"""Reference integrands for the adaptive benchmark: each text's IG integrand, resolved once.

Samples a text's integrand (gradient times input minus baseline, every token and hidden
dimension, pad baseline, predicted class, word embeddings) at ``N + 1`` Chebyshev points of
alpha, as ``bench_limits.py`` does, and keeps it compactly: the Chebyshev coefficients
C (N + 1, D) are replaced by a (N + 1, N + 1) factor B with B B^T = C C^T, so that the L2
norm of any combination a @ C (a rule's error, say) is exactly ||a @ B||. The exact
attribution vector e @ C (D,) and the scalar sum of the coefficients (F's derivative, whose
integral gives F along the path) are kept too. Cached under ``benchmarks/.cache``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from _common import encode

from integrad.core.model_state import inference_state

N = 256
CACHE = Path(__file__).resolve().parent / ".cache"


def chebyshev_alphas(n: int = N) -> np.ndarray:
    return (1 - np.cos(np.pi * np.arange(n + 1) / n)) / 2


def sample(model, tokenizer, text: str, rows: int = 64) -> dict[str, np.ndarray]:
    """Samples one text and returns its compact reference (see the module docstring)."""
    emb = model.get_input_embeddings()
    enc = encode(tokenizer, [text])
    ids, mask = enc["input_ids"], enc["attention_mask"]
    alphas = torch.tensor(chebyshev_alphas())
    with torch.no_grad():
        x, base = emb(ids)[0].double(), emb(enc["baseline"])[0].double()
        logits = model(input_ids=ids, attention_mask=mask).logits
        target = int(logits.argmax(-1))
    delta, out = x - base, []
    with inference_state(model):
        for chunk in alphas.split(rows):
            z = (base + chunk[:, None, None] * delta).float().requires_grad_(True)
            lg = model(inputs_embeds=z, attention_mask=mask.expand(len(chunk), -1)).logits
            (grad,) = torch.autograd.grad(lg[:, target].sum(), z)
            out.append((grad.double() * delta).flatten(1).numpy())
    values = np.concatenate(out)  # (N + 1, D), alpha increasing
    ext = np.concatenate([values, values[-2:0:-1]])
    coeffs = np.real(np.fft.fft(ext, axis=0))[: N + 1] / N  # series in t = 2 alpha - 1
    coeffs[[0, -1]] /= 2
    # alphas increase with j, i.e. t = -cos(pi j / N): flip the odd coefficients' sign so the
    # series is in t = 2 alpha - 1.
    coeffs[1::2] *= -1
    k = np.arange(N + 1)
    exact = np.where(k % 2 == 0, 2 / (1 - k**2 + (k % 2)), 0.0) / 2  # integrals over alpha
    gram = coeffs @ coeffs.T
    lam, vec = np.linalg.eigh(gram)
    factor = vec * np.sqrt(np.clip(lam, 0, None))
    return {
        "factor": factor,
        "exact": exact @ coeffs,
        "scalar": coeffs.sum(1),
        "tail": np.linalg.norm(coeffs[-16:]) / np.linalg.norm(coeffs),
        "target": np.array(target),
        "ids": ids[0].numpy(),
    }


def load(model, tokenizer, texts: list[str], tag: str) -> list[dict[str, np.ndarray]]:
    """Every text's reference, sampled once and cached as ``.cache/<tag>-<i>.npz``."""
    CACHE.mkdir(exist_ok=True)
    out = []
    for i, text in enumerate(texts):
        path = CACHE / f"{tag}-{i:03d}.npz"
        if not path.exists():
            np.savez(path, **sample(model, tokenizer, text), text=np.array(text))
        ref = dict(np.load(path))
        if str(ref["text"]) != text:
            raise RuntimeError(f"{path} holds another text; delete the cache")
        out.append(ref)
    return out
