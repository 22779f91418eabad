"""Choosing a text classifier's baseline: the one the model reads as "no information".

IG explains F(x) - F(x'), so a baseline the model reads as a confident class makes every
ordinary word look like evidence against that class. Among the candidate baselines the
tokenizer supports, :func:`ranking` finds how far each one's prediction is from the uniform
distribution (averaged over a few lengths, since a baseline of 6 [PAD] tokens and one of 24
can read differently); the ``"neutral"`` baseline is the closest. The ranking is computed
once per model and tokenizer in a process.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from integrad.baselines import TOKEN_ATTRIBUTES, BaselineContext, make_baseline
from integrad.core.layers import LayerTaps
from integrad.core.model_state import inference_state
from integrad.errors import ModelError
from integrad.results.text import NEUTRAL_LIMIT
from integrad.targets import select_output

#: The baselines compared, in order of preference when two are equally neutral.
CANDIDATES = ("pad", "mask", "unk", "zero")
#: Words in the probe texts whose baselines are compared.
PROBE_LENGTHS = (6, 12, 24)

_RANKINGS: weakref.WeakKeyDictionary[nn.Module, dict[int, list[Neutrality]]] = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True)
class Neutrality:
    """How a candidate baseline reads to the model.

    Attributes:
        name: The baseline's name.
        probabilities: The model's class probabilities at it, averaged over the probe lengths.
        distance: Total variation distance from the uniform distribution (0 is neutral).
    """

    name: str
    probabilities: tuple[float, ...]
    distance: float


def ranking(
    model: nn.Module, tokenizer: Any, embedding: nn.Module, forward_keys: Any
) -> list[Neutrality]:
    """The candidate baselines the tokenizer supports, most neutral first (cached)."""
    per_model = _RANKINGS.setdefault(model, {})
    if id(tokenizer) not in per_model:
        names = [
            n
            for n in CANDIDATES
            if n not in TOKEN_ATTRIBUTES or getattr(tokenizer, TOKEN_ATTRIBUTES[n]) is not None
        ]
        found = [_neutrality(model, tokenizer, embedding, forward_keys, n) for n in names]
        per_model[id(tokenizer)] = sorted(found, key=lambda c: c.distance)
    return per_model[id(tokenizer)]


def _neutrality(
    model: nn.Module, tokenizer: Any, embedding: nn.Module, forward_keys: Any, name: str
) -> Neutrality:
    """The model's mean prediction at the ``name`` baseline of probe texts of a few lengths."""
    probes = []
    with torch.no_grad():  # the baselines' embeddings, before any hook is installed
        for n in PROBE_LENGTHS:
            enc = tokenizer(
                " ".join(["a"] * n), return_tensors="pt", return_special_tokens_mask=True
            )
            keep = enc.pop("special_tokens_mask").bool()
            context = BaselineContext(tokenizer=tokenizer, keep=keep, embedding=embedding)
            base = make_baseline(name, enc["input_ids"], context, "text")
            layer = base if base.is_floating_point() else embedding(base)
            kwargs = {k: v for k, v in enc.items() if forward_keys is None or k in forward_keys}
            probes.append((kwargs, layer))
    taps = LayerTaps([embedding])
    rows = []
    with inference_state(model), taps.installed(), torch.no_grad():
        for kwargs, layer in probes:
            taps.substituting([[layer]])
            raw = model(**kwargs)
            check_classifier(model, raw, 0)
            logits = select_output(raw)
            rows.append(logits.double().softmax(-1)[0])
    mean = torch.stack(rows).mean(0)
    distance = 0.5 * float((mean - 1 / mean.numel()).abs().sum())
    return Neutrality(name, tuple(mean.tolist()), distance)


def far_from_neutral(
    probabilities: tuple[float, ...], labels: tuple[str, ...], suggestion: Neutrality | None
) -> str | None:
    """A note when a baseline reads as one class (above :data:`NEUTRAL_LIMIT`), naming the
    most neutral candidate to try; None when the baseline is neutral enough."""
    best = max(range(len(probabilities)), key=probabilities.__getitem__)
    if probabilities[best] <= NEUTRAL_LIMIT:
        return None
    note = (
        f"the baseline reads as {labels[best]} (p = {probabilities[best]:.2f}), so ordinary "
        f"words score as evidence against {labels[best]}"
    )
    if suggestion is not None and max(suggestion.probabilities) < probabilities[best]:
        p = max(suggestion.probabilities)
        note += (
            f"; the most neutral baseline for this model is {suggestion.name!r} (p = {p:.2f}): "
            f"baseline={suggestion.name!r}, or --baseline {suggestion.name}"
        )
    return note


def check_classifier(model: nn.Module, raw: Any, n_labels: int) -> None:
    """What the model returns at the input must be class logits (batch, classes)."""
    logits = raw if isinstance(raw, torch.Tensor) else getattr(raw, "logits", None)
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
        got = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(raw).__name__
        raise ModelError(
            f"{type(model).__name__} is not a sequence classifier: it returned {got} where "
            "explain() needs logits of shape (batch, classes). "
            "Use a model such as AutoModelForSequenceClassification, or integrad.attribute "
            "for other models"
        )
    if n_labels and logits.shape[1] != n_labels:
        raise ModelError(
            f"the model returns {logits.shape[1]} logits per text but its config.id2label "
            f"names {n_labels} classes; fix config.id2label to name every output"
        )
