"""Text classifiers: strings -> token ids -> IG at the input embeddings -> word scores.

Token ids are categories, so they are never interpolated: :func:`explain` attributes at the
output of ``model.get_input_embeddings()``, with the baseline given as token ids (every
non-special token replaced by [PAD], say) or as zero embedding vectors. A list of texts is
sorted into length buckets, padded per bucket with the attention mask set, attributed in one
call per bucket, and returned in the user's order.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from integrad.adapters.loading import ModelSpec, load_model
from integrad.adapters.options import check_options, plain
from integrad.adapters.text_inputs import (
    Encoded,
    baseline_ids,
    encode,
    length_buckets,
    merge_words,
    resolve_targets,
)
from integrad.adapters.token_model import check_vocab, forward_keys, input_embedding
from integrad.adapters.token_model import max_length as default_max_length
from integrad.core import attribute
from integrad.errors import InputError, IntegradWarning, ModelError
from integrad.results.text import TextExplanation, TextExplanations

# Arguments of integrad.attribute that explain() sets itself and so cannot be passed through.
_SET_BY_EXPLAIN = {"forward", "inputs", "baselines", "target", "layer", "forward_kwargs"}
_SET_BY_EXPLAIN |= {"layer_baselines", "method", "n_steps", "score"}


@dataclass(frozen=True)
class _Setup:
    """Everything fixed once per explain() call and shared by its batches."""

    model: nn.Module
    tokenizer: Any
    name: str
    labels: tuple[str, ...]
    embedding: nn.Module
    forward_keys: frozenset[str] | None  # None: forward takes **kwargs
    method: str
    n_steps: int
    score: str
    baseline: str  # the baseline in words, for the result
    options: dict[str, Any]  # passed through to integrad.attribute

    def engine_options(self) -> dict[str, Any]:
        """Keyword arguments for integrad.attribute that are the same for every batch."""
        return {"method": self.method, "n_steps": self.n_steps, "score": self.score, **self.options}


def explain(
    model: ModelSpec = None,
    text: str | Sequence[str] | None = None,
    *,
    tokenizer: Any = None,
    target: int | str | Sequence[int | str] | None = None,
    baseline: str | Sequence[int] | Sequence[str] | torch.Tensor = "pad",
    score: str = "logit",
    method: str = "gausslegendre",
    n_steps: int = 50,
    max_length: int | None = None,
    texts_per_batch: int = 32,
    progress: Callable[[int, int], None] | None = None,
    trust_remote_code: bool = False,
    local_files_only: bool = False,
    **ig_options: Any,
) -> TextExplanation | TextExplanations:
    """Explains a text classifier's prediction with Integrated Gradients, word by word.

    Args:
        model: A transformers sequence classifier, a ``pipeline("text-classification")``, a
            Hugging Face model name or local folder, or None for the bundled default
            sentiment model. See :func:`integrad.adapters.loading.load_model`.
        text: One string, or a list of strings (explained in length-sorted batches, each
            with its own target, returned in the given order).
        tokenizer: The model's tokenizer (a fast one, for word offsets), or a name or folder;
            None takes it from the pipeline, name, folder or ``model.config.name_or_path``.
        target: The class to explain: None (the predicted class of each text), a label name
            (``"POSITIVE"``), a class index, or one of those per text.
        baseline: ``"pad"`` (every non-special token replaced by the pad token), ``"mask"``,
            ``"unk"``, ``"zero"`` (zero embedding vectors; special tokens kept), a baseline
            text with as many tokens as each text, token ids, or one text or id list per text.
        score: ``"logit"`` or ``"probability"`` of the target (or ``"log_prob"``).
        method: Integration rule, passed to :func:`integrad.attribute`.
        n_steps: Points on the path, passed to :func:`integrad.attribute`.
        max_length: Longest token sequence; longer texts are truncated with a warning.
            None uses the tokenizer's and model's limit.
        texts_per_batch: Most texts attributed in one call to :func:`integrad.attribute`.
        progress: Called as ``progress(done, total)`` after each batch of texts.
        trust_remote_code: Allow checkpoints loaded by name to run their own code.
        local_files_only: Load names from the local cache only, without the network.
        **ig_options: Further :func:`integrad.attribute` options (``batch_size``,
            ``memory_budget``, and ``noise``, ``tol``, ... where the engine has them).

    Returns:
        A :class:`~integrad.results.text.TextExplanation` for one string, or
        :class:`~integrad.results.text.TextExplanations` for a list.

    Example:
        >>> import integrad
        >>> e = integrad.explain(None, "This movie was fantastic!")  # doctest: +SKIP
        >>> e.predicted_label, e.top_word()  # doctest: +SKIP
        ('POSITIVE', 'fantastic')
    """
    texts, single = _texts(text, model)
    _check_options(ig_options, texts_per_batch)
    loaded = load_model(
        model,
        tokenizer,
        task="sequence-classification",
        trust_remote_code=trust_remote_code,
        local_files_only=local_files_only,
    )
    tok = loaded.tokenizer
    if not getattr(tok, "is_fast", False):
        raise ModelError(
            f"explain() needs a fast tokenizer (for word offsets); got {type(tok).__name__}. "
            "Load it with AutoTokenizer.from_pretrained(name, use_fast=True)"
        )
    labels = _labels(loaded.model)
    limit = max_length if max_length is not None else default_max_length(loaded.model, tok)
    encoded = [encode(tok, t, limit) for t in texts]
    for i, e in enumerate(encoded):
        if e.truncated:
            warnings.warn(
                f"text {i} has {e.n_original} tokens, more than the maximum of {limit}: it was "
                f"truncated to {limit} tokens and the rest is not explained. Split long texts, "
                "or raise max_length if the model allows it",
                IntegradWarning,
                stacklevel=2,
            )
    bases, described = baseline_ids(baseline, tok, encoded)
    targets = resolve_targets(target, labels, len(texts))
    setup = _Setup(
        model=loaded.model,
        tokenizer=tok,
        name=loaded.name,
        labels=labels,
        embedding=input_embedding(loaded.model),
        forward_keys=forward_keys(loaded.model),
        method=method,
        n_steps=n_steps,
        score=score,
        baseline=described,
        options=ig_options,
    )
    check_vocab(setup.embedding, tok, [e.ids for e in encoded] + (bases or []))

    results: list[TextExplanation | None] = [None] * len(texts)
    done = 0
    for group in length_buckets([len(e.ids) for e in encoded], texts_per_batch):
        explained = _explain_batch(
            setup,
            [encoded[i] for i in group],
            None if bases is None else [bases[i] for i in group],
            [targets[i] for i in group],
        )
        for i, explanation in zip(group, explained, strict=True):
            results[i] = explanation
        done += len(group)
        if progress is not None:
            progress(done, len(texts))
    return results[0] if single else TextExplanations(tuple(results))  # type: ignore[arg-type]


def _explain_batch(
    setup: _Setup,
    encoded: list[Encoded],
    bases: list[list[int]] | None,
    targets: list[int | None],
) -> list[TextExplanation]:
    """One call to the engine for texts of similar length, padded to the longest."""
    tok, model = setup.tokenizer, setup.model
    length = max(len(e.ids) for e in encoded)
    pad_id = tok.pad_token_id
    if pad_id is None and any(len(e.ids) != length for e in encoded):
        raise InputError(
            "the tokenizer has no pad token, so texts of different lengths cannot share a "
            "batch; set one (tokenizer.pad_token = tokenizer.eos_token, and "
            "model.config.pad_token_id to match) or pass texts_per_batch=1"
        )
    device = next(model.parameters()).device

    def padded(rows: list[list[int]], fill: int | None) -> torch.Tensor:
        # Always on the right, whatever tokenizer.padding_side says: models with absolute
        # position embeddings (BERT, GPT-2) number positions from the left, so left padding
        # would change every score; classifiers find their last real token either way.
        out = [r + [fill] * (length - len(r)) for r in rows]
        return torch.tensor(out, dtype=torch.long, device=device)

    ids = padded([e.ids for e in encoded], pad_id)  # (batch, seq)
    mask = padded([[1] * len(e.ids) for e in encoded], 0)
    kwargs: dict[str, torch.Tensor] = {"attention_mask": mask}
    for key in encoded[0].extra:
        if setup.forward_keys is None or key in setup.forward_keys:
            fill = getattr(tok, "pad_token_type_id", 0) if key == "token_type_ids" else 0
            kwargs[key] = padded([e.extra[key] for e in encoded], fill)
    logits = _classify(model, ids, kwargs, len(setup.labels))  # (batch, classes)
    probs = logits.double().softmax(-1)
    chosen = [int(probs[b].argmax()) if t is None else t for b, t in enumerate(targets)]

    if bases is None:  # "zero": zero embeddings, special tokens and padding kept as they are
        keep = padded([[int(s) for s in e.special] for e in encoded], 1)
        with torch.no_grad():
            layer_base = setup.embedding(ids) * keep[..., None]  # (batch, seq, hidden)
        base_ids = None
    else:
        base_ids, layer_base = padded(bases, pad_id), None
    res = attribute(
        model,
        {"input_ids": ids},
        baselines={"input_ids": base_ids} if base_ids is not None else None,
        target=chosen,
        layer=setup.embedding,
        forward_kwargs=kwargs,
        layer_baselines=layer_base,
        **setup.engine_options(),
    )
    token_scores = res.attributions.double().sum(-1)  # (batch, seq): summed over hidden
    # With noise: (batch, n_samples, seq), each noisy sample's token scores
    sampled = None if res.samples is None else res.samples.double().sum(-1)
    out = []
    for b, e in enumerate(encoded):
        scores = token_scores[b, : len(e.ids)].tolist()
        spread = None if sampled is None else _spread(e, sampled[b, :, : len(e.ids)])
        out.append(_explanation(setup, e, scores, probs[b].tolist(), chosen[b], res, b, spread))
    return out


def _spread(e: Encoded, samples: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Standard deviation across noisy samples of each token's and each word's score."""
    words = torch.tensor([merge_words(e, row.tolist())[1] for row in samples], dtype=torch.float64)
    token_std = samples.std(0, unbiased=False)
    word_std = words.std(0, unbiased=False) if words.numel() else words.new_zeros(0)
    return tuple(token_std.tolist()), tuple(word_std.tolist())


def _texts(text: Any, model: Any) -> tuple[list[str], bool]:
    """The texts as a list, and whether one string was given; empty texts are refused."""
    if text is None:
        hint = (
            f" ({model!r} was taken as the model; to explain it with the default model, call "
            f"explain(None, {model!r}) or explain(text={model!r}))"
            if isinstance(model, str)
            else ""
        )
        raise InputError(f"no text to explain: call explain(model, text){hint}")
    single = isinstance(text, str)
    texts = [text] if single else list(text)
    if not texts:
        raise InputError("the list of texts is empty: give at least one text to explain")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise InputError(f"text {i} is a {type(t).__name__}, not a string")
        if not t.strip():
            raise InputError(
                f"text {i} is empty or only whitespace ({t!r}): there are no words to explain; "
                "remove it or give real text"
            )
    return texts, single


def _check_options(options: dict[str, Any], texts_per_batch: int) -> None:
    check_options(options, "explain", _SET_BY_EXPLAIN)
    if isinstance(texts_per_batch, bool) or not isinstance(texts_per_batch, int):
        raise InputError(f"texts_per_batch must be a positive int; got {texts_per_batch!r}")
    if texts_per_batch < 1:
        raise InputError(f"texts_per_batch must be a positive int; got {texts_per_batch}")


def _labels(model: nn.Module) -> tuple[str, ...]:
    """Class names from ``config.id2label`` in output order, or ``LABEL_i`` placeholders."""
    id2label = getattr(getattr(model, "config", None), "id2label", None) or {}
    try:
        by_index = {int(k): str(v) for k, v in id2label.items()}
    except (TypeError, ValueError) as err:
        raise ModelError(f"model.config.id2label must map class indices to names: {err}") from err
    if sorted(by_index) != list(range(len(by_index))):
        raise ModelError(
            f"model.config.id2label has indices {sorted(by_index)}; expected 0..n-1, one per "
            "output class"
        )
    return tuple(by_index[i] for i in range(len(by_index)))


def _classify(
    model: nn.Module, ids: torch.Tensor, kwargs: dict[str, torch.Tensor], n_labels: int
) -> torch.Tensor:
    """Class logits at the input, (batch, classes), checking the model is a classifier."""
    with torch.no_grad():
        raw = model(input_ids=ids, **kwargs)
    logits = raw if isinstance(raw, torch.Tensor) else getattr(raw, "logits", None)
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2 or len(logits) != len(ids):
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(raw).__name__
        raise ModelError(
            f"{type(model).__name__} is not a sequence classifier: it returned {shape} where "
            "explain() needs logits of shape (batch, classes). Use a model such as "
            "AutoModelForSequenceClassification, or integrad.attribute for other models"
        )
    if n_labels and logits.shape[1] != n_labels:
        raise ModelError(
            f"the model returns {logits.shape[1]} logits per text but its config.id2label "
            f"names {n_labels} classes; fix config.id2label to name every output"
        )
    return logits


def _explanation(
    setup: _Setup,
    e: Encoded,
    scores: list[float],
    probabilities: list[float],
    target: int,
    res: Any,
    row: int,
    spread: tuple[tuple[float, ...], tuple[float, ...]] | None = None,
) -> TextExplanation:
    """One text's result from its token scores and its row of the engine's result."""
    spans, word_scores, token_words = merge_words(e, scores)
    error = getattr(res, "error_estimate", None)
    return TextExplanation(
        text=e.text,
        tokens=tuple(setup.tokenizer.convert_ids_to_tokens(e.ids)),
        token_ids=tuple(e.ids),
        token_scores=tuple(scores),
        special_tokens=tuple(e.special),
        token_words=tuple(token_words),
        words=tuple(e.text[a:b] for a, b in spans),
        word_scores=tuple(word_scores),
        word_spans=tuple(spans),
        labels=setup.labels or tuple(f"LABEL_{i}" for i in range(len(probabilities))),
        probabilities=tuple(probabilities),
        predicted=max(range(len(probabilities)), key=probabilities.__getitem__),
        target=target,
        score=setup.score,
        output=float(res.output[row]),
        baseline_output=float(res.baseline_output[row]),
        delta=float(res.delta[row]),
        method=setup.method,
        n_steps=res.n_steps,
        n_evals=int(res.n_evals[row]),
        baseline=setup.baseline,
        model_name=setup.name,
        truncated=e.truncated,
        error_estimate=None if error is None else float(error[row]),
        options={k: plain(v) for k, v in setup.options.items()},
        token_std=None if spread is None else spread[0],
        word_std=None if spread is None else spread[1],
    )
