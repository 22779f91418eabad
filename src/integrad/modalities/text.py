"""Text classifiers: strings -> token ids -> IG at the input embeddings -> word scores.

Token ids are categories, so they are never interpolated: :func:`explain` attributes at the
output of ``model.get_input_embeddings()``, with the baseline's embeddings computed from
baseline token ids (every non-special token replaced by [PAD], say) or given as zero
vectors. A list of texts is sorted into length buckets, padded per bucket with the attention
mask set, attributed in one engine call per bucket, and returned in the user's order.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

from integrad.baselines import BaselineContext, make_baseline
from integrad.errors import (
    InputError,
    IntegradWarning,
    ModelError,
    TargetError,
    empty_text_message,
)
from integrad.hf.hub import peek_labels
from integrad.hf.loading import ModelSpec, load_model
from integrad.hf.tokens import check_vocab, forward_keys, input_embedding
from integrad.hf.tokens import max_length as default_max_length
from integrad.modalities import text_baseline
from integrad.modalities.text_baseline import Neutrality, check_classifier
from integrad.modalities.text_encoding import (
    Encoded,
    baseline_ids,
    encode,
    length_buckets,
    merge_words,
)
from integrad.options import DEFAULT_TEXT_METHOD, Options, deprecated
from integrad.pipeline import BaselineSet, Batch, Scores, attribute_batch
from integrad.results.text import NEUTRAL_LIMIT, TextExplanation, TextExplanations
from integrad.targets import check_classes

#: Most texts in one engine call (one length bucket).
BUCKET_SIZE = 32


@dataclass(frozen=True)
class _Setup:
    """Everything fixed once per explain() call and shared by its buckets."""

    model: nn.Module
    tokenizer: Any
    name: str
    labels: tuple[str, ...]
    embedding: nn.Module
    forward_keys: frozenset[str] | None  # None: forward takes **kwargs
    baseline: Any  # a registry name, or None when token ids per text are given
    described: str  # the baseline in words, for the result
    options: Options
    most_neutral: Callable[[], Neutrality]  # ranks the candidates once per model


def explain(
    model: ModelSpec = None,
    text: str | Sequence[str] | None = None,
    *,
    tokenizer: Any = None,
    target: int | str | Sequence[int | str] | None = None,
    baseline: str | Sequence[int] | Sequence[str] | torch.Tensor = "neutral",
    max_length: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    trust_remote_code: bool = False,
    local_files_only: bool = False,
    **settings: Any,
) -> TextExplanation | TextExplanations:
    """Explains a text classifier's prediction with Integrated Gradients, word by word.

    Args:
        model: A transformers sequence classifier, a ``pipeline("text-classification")``, a
            Hugging Face model name or local folder, or None for the bundled default
            sentiment model. See :func:`integrad.hf.loading.load_model`.
        text: One string, or a list of strings (explained in length-sorted batches, each
            with its own target, returned in the given order).
        tokenizer: The model's tokenizer (a fast one, for word offsets), or a name or folder;
            None takes it from the pipeline, name, folder or ``model.config.name_or_path``.
        target: The class to explain: None (the predicted class of each text), a label name
            (``"POSITIVE"``), a class index, or one of those per text.
        baseline: ``"neutral"`` (the default: whichever of pad, mask, unk and zero the model
            reads as closest to uniform, chosen once per model), another name from
            ``integrad.list_baselines("text")`` (``"pad"``: every non-special token replaced
            by the pad token; ``"mask"``, ``"unk"``, ``"eos"``; ``"zero"``: zero embedding
            vectors), a baseline text with as many tokens as each text, token ids, or one text
            or id list per text. Each explanation records the baseline's own prediction, and
            says when it is far from neutral.
        max_length: Longest token sequence; longer texts are truncated with a warning.
            None uses the tokenizer's and model's limit.
        progress: Called as ``progress(done, total)`` after each batch of texts.
        trust_remote_code: Allow checkpoints loaded by name to run their own code.
        local_files_only: Load names from the local cache only, without the network.
        **settings: Integration settings (``method``, ``n_steps``, ``tol``, ``noise``,
            ``score``, ...): see :class:`integrad.Options`. Left out, each text is integrated
            adaptively to ``tol=1e-3`` and reports its ``error_estimate``; ``n_steps=50``
            (or a fixed ``method=``) asks for a fixed rule instead.

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
    known = peek_labels(model)  # from the config: a typo in target= is reported before loading
    if known is not None and target is not None:
        check_classes(target, known)
    per_bucket = BUCKET_SIZE
    if "texts_per_batch" in settings:  # still honoured for one release
        deprecated("texts_per_batch", "batch_size", "explain")
        per_bucket = settings.pop("texts_per_batch")
    options = Options.from_settings(
        settings, default_method=DEFAULT_TEXT_METHOD, function="explain()"
    )
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
    limit = max_length if max_length is not None else default_max_length(loaded.model, tok)
    encoded = [encode(tok, t, limit) for t in texts]
    _warn_truncated(encoded, limit, single)
    _warn_unknown(encoded, tok, single)
    given_ids, described = baseline_ids(baseline, tok, encoded)
    targets = _per_text(target, len(texts))
    embedding, keys = input_embedding(loaded.model), forward_keys(loaded.model)

    def most_neutral() -> Neutrality:
        return text_baseline.ranking(loaded.model, tok, embedding, keys)[0]

    setup = _Setup(
        model=loaded.model,
        tokenizer=tok,
        name=loaded.name,
        labels=_labels(loaded.model),
        embedding=embedding,
        forward_keys=keys,
        baseline=None if given_ids is not None else baseline,
        described=described,
        options=options,
        most_neutral=most_neutral,
    )
    check_vocab(setup.embedding, tok, [e.ids for e in encoded] + (given_ids or []))
    if baseline == "neutral":
        setup = replace(setup, described=f"neutral: {most_neutral().name}")

    results: list[TextExplanation | None] = [None] * len(texts)
    done = 0
    for group in length_buckets([len(e.ids) for e in encoded], per_bucket):
        bucket_target = target if targets is None else [targets[i] for i in group]
        explained = _explain_bucket(
            setup,
            [encoded[i] for i in group],
            None if given_ids is None else [given_ids[i] for i in group],
            bucket_target,
        )
        for i, explanation in zip(group, explained, strict=True):
            results[i] = explanation
        done += len(group)
        if progress is not None:
            progress(done, len(texts))
    return results[0] if single else TextExplanations(tuple(results))  # type: ignore[arg-type]


def _explain_bucket(
    setup: _Setup, encoded: list[Encoded], given_ids: list[list[int]] | None, target: Any
) -> list[TextExplanation]:
    """One engine call for texts of similar length, padded on the right to the longest."""
    tok, model = setup.tokenizer, setup.model
    length = max(len(e.ids) for e in encoded)
    pad_id = tok.pad_token_id
    if pad_id is None and any(len(e.ids) != length for e in encoded):
        raise InputError(
            "the tokenizer has no pad token, so texts of different lengths cannot share a "
            "batch; set one (tokenizer.pad_token = tokenizer.eos_token, and "
            "model.config.pad_token_id to match), or explain the texts one at a time"
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
    # The baseline in the embedding's space, computed from ids without running the model.
    if given_ids is None:
        keep = padded([[int(s) for s in e.special] for e in encoded], 1)
        context = BaselineContext(
            tokenizer=tok,
            keep=keep,
            embedding=setup.embedding,
            choose=lambda: setup.most_neutral().name,
        )
        base = make_baseline(setup.baseline, ids, context, "text")
    else:
        base = padded(given_ids, pad_id)
    if not base.is_floating_point():
        with torch.no_grad():
            base = setup.embedding(base)  # (batch, seq, hidden)
    scores = attribute_batch(
        Batch(
            model,
            {"input_ids": ids},
            layer={"input_ids": setup.embedding},
            forward_kwargs=kwargs,
            labels=setup.labels,
        ),
        [BaselineSet(layers={"input_ids": base})],
        target,
        setup.options,
        check_output=lambda out: check_classifier(model, out, len(setup.labels)),
    )
    return [_explanation(setup, e, scores, b) for b, e in enumerate(encoded)]


def _explanation(setup: _Setup, e: Encoded, res: Scores, row: int) -> TextExplanation:
    """One text's result from its row of the batch's scores."""
    n = len(e.ids)
    token_scores = res.scores["input_ids"][row, :n].tolist()
    spans, word_scores, token_words = merge_words(e, token_scores)
    probabilities = res.model_output[row].double().softmax(-1).tolist()
    base_probabilities = tuple(res.baseline_model_output[0, row].double().softmax(-1).tolist())
    labels = setup.labels or tuple(f"LABEL_{i}" for i in range(len(probabilities)))
    note = None
    if max(base_probabilities) > NEUTRAL_LIMIT:
        note = text_baseline.far_from_neutral(base_probabilities, labels, setup.most_neutral())
    token_std = word_std = None
    if res.samples is not None:
        token_std = tuple(res.samples["input_ids"][row, :, :n].std(0, unbiased=False).tolist())
        word_std = _word_std(e, res, row)
    return TextExplanation(
        **res.row_fields(row),
        text=e.text,
        tokens=tuple(setup.tokenizer.convert_ids_to_tokens(e.ids)),
        token_ids=tuple(e.ids),
        token_scores=tuple(token_scores),
        special_tokens=tuple(e.special),
        token_words=tuple(token_words),
        words=tuple(e.text[a:b] for a, b in spans),
        word_scores=tuple(word_scores),
        word_spans=tuple(spans),
        labels=labels,
        probabilities=tuple(probabilities),
        baseline_probabilities=base_probabilities,
        baseline_note=note,
        predicted=max(range(len(probabilities)), key=probabilities.__getitem__),
        target=int(res.target[row]),  # type: ignore[index]
        baseline=setup.described,
        model_name=setup.name,
        truncated=e.truncated,
        token_std=token_std,
        word_std=word_std,
    )


def _word_std(e: Encoded, res: Scores, row: int) -> tuple[float, ...]:
    """The exact spread of each word's score across the noisy samples (each sample's token
    scores summed into words, then the standard deviation)."""
    samples = res.samples["input_ids"][row, :, : len(e.ids)]  # type: ignore[index]
    words = torch.tensor([merge_words(e, s.tolist())[1] for s in samples], dtype=torch.float64)
    return tuple(words.std(0, unbiased=False).tolist()) if words.numel() else ()


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
        where = "the text" if single else f"text {i + 1}"
        if not isinstance(t, str):
            raise InputError(f"{where} is a {type(t).__name__}, not a string")
        if not t.strip():
            raise InputError(empty_text_message(where, t))
    return texts, single


def _per_text(target: Any, n: int) -> list[Any] | None:
    """One target per text when a list was given (split by bucket later), else None."""
    if target is None or isinstance(target, (int, str)):
        return None
    if isinstance(target, torch.Tensor):
        target = target.tolist()
    items = list(target)
    if len(items) != n:
        raise TargetError(
            f"target gives {len(items)} classes for {n} texts; give None (the prediction), a "
            f"label name or a class index, or one of those per text ({n} here)"
        )
    return items


def _warn_truncated(encoded: list[Encoded], limit: int | None, single: bool) -> None:
    for i, e in enumerate(encoded):
        if e.truncated:
            where = "the text" if single else f"text {i + 1}"
            warnings.warn(
                f"{where} has {e.n_original} tokens, more than the maximum of {limit}: it was "
                f"truncated to {limit} tokens and the rest is not explained. Split long texts, "
                "or raise max_length if the model allows it",
                IntegradWarning,
                stacklevel=3,
            )


#: Share of a text's tokens that may be the unknown token before a warning says so.
UNKNOWN_SHARE = 0.2


def _warn_unknown(encoded: list[Encoded], tokenizer: Any, single: bool) -> None:
    """Say when much of a text maps to the tokenizer's unknown token (emoji, another script):
    the model reads all of it as one token, so those scores say little."""
    unk = getattr(tokenizer, "unk_token_id", None)
    if unk is None:
        return
    for i, e in enumerate(encoded):
        words = [t for t, s in zip(e.ids, e.special, strict=True) if not s]
        unknown = sum(t == unk for t in words)
        if words and unknown / len(words) > UNKNOWN_SHARE:
            where = "the text" if single else f"text {i + 1}"
            warnings.warn(
                f"{unknown} of the {len(words)} tokens of {where} are unknown to the tokenizer "
                f"({tokenizer.unk_token}): emoji, symbols or a script it was not trained on. "
                "The model reads them all as the same token, so the prediction and their "
                "scores say little; rephrase in words the model knows",
                IntegradWarning,
                stacklevel=3,
            )


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
