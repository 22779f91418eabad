"""The user's side of a text explanation: tokens, words, baselines given as text, buckets.

Everything here works on plain Python lists, one entry per text: the token ids and word
offsets of each text, the baseline token ids that go with them when the baseline is a text
or token ids (named baselines come from :mod:`integrad.baselines`), the length buckets
texts are batched in, and finally the merge of token scores back into words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from integrad.baselines import list_baselines
from integrad.errors import BaselineError

#: Padded tokens a length bucket may add, as a fraction of its real tokens.
PADDING_ALLOWED = 0.25


@dataclass(frozen=True)
class Encoded:
    """One text as the model sees it.

    Attributes:
        text: The text.
        ids: Token ids, special tokens included, (seq,).
        special: True for special tokens, (seq,).
        word_ids: The word each token belongs to (fast tokenizer ``word_ids()``), (seq,).
        offsets: (start, end) character span of each token in ``text``, (seq,).
        extra: Other model inputs the tokenizer made (``token_type_ids``), each (seq,).
        truncated: The text had more tokens than the maximum and its end was cut off.
        n_original: Its number of tokens before truncation.
    """

    text: str
    ids: list[int]
    special: list[bool]
    word_ids: list[int | None]
    offsets: list[tuple[int, int]]
    extra: dict[str, list[int]]
    truncated: bool
    n_original: int


def encode(tokenizer: Any, text: str, max_length: int | None) -> Encoded:
    """Tokenizes one text with offsets, truncating (and saying so) past ``max_length``."""
    options = {"return_offsets_mapping": True, "return_special_tokens_mask": True}
    # verbose=False: the length is checked here, with integrad's own warning.
    enc = tokenizer(text, truncation=False, verbose=False, **options)
    n_original = len(enc["input_ids"])
    truncated = max_length is not None and n_original > max_length
    if truncated:
        enc = tokenizer(text, truncation=True, max_length=max_length, **options)
    skip = {"input_ids", "attention_mask", "offset_mapping", "special_tokens_mask"}
    return Encoded(
        text=text,
        ids=list(enc["input_ids"]),
        special=[bool(s) for s in enc["special_tokens_mask"]],
        word_ids=list(enc.word_ids()),
        offsets=[(int(a), int(b)) for a, b in enc["offset_mapping"]],
        extra={k: list(v) for k, v in enc.items() if k not in skip},
        truncated=truncated,
        n_original=n_original,
    )


def baseline_ids(
    baseline: Any, tokenizer: Any, encoded: list[Encoded]
) -> tuple[list[list[int]] | None, str]:
    """Baseline token ids per text, and the baseline in words; None for a named baseline
    (:func:`integrad.list_baselines`, made per batch from the registry).

    See :func:`integrad.explain` for the accepted forms.
    """
    if isinstance(baseline, str) and baseline in list_baselines("text"):
        return None, baseline
    if isinstance(baseline, str):
        ids = [_tokens_of(tokenizer, baseline)] * len(encoded)
        described = f"text: {baseline!r}"
    elif _is_id_sequence(baseline):
        ids = [[int(i) for i in baseline]] * len(encoded)
        described = "token ids"
    elif isinstance(baseline, Sequence) and len(baseline) == len(encoded) and baseline:
        if all(isinstance(b, str) for b in baseline):
            ids = [_tokens_of(tokenizer, b) for b in baseline]
            described = "one text per input: " + ", ".join(repr(b) for b in baseline)
        elif all(_is_id_sequence(b) for b in baseline):
            ids = [[int(i) for i in b] for b in baseline]
            described = "token ids per text"
        else:
            raise BaselineError(_baseline_form_message(baseline))
    else:
        raise BaselineError(_baseline_form_message(baseline))
    for n, (base, e) in enumerate(zip(ids, encoded, strict=True)):
        if len(base) != len(e.ids):
            where = "the text" if len(encoded) == 1 else f"text {n + 1}"
            raise BaselineError(
                f"the baseline has {len(base)} tokens but {where} has {len(e.ids)} (special "
                "tokens included): a token baseline must line up with the text. Give a "
                f"baseline of the same length, or one of {', '.join(list_baselines('text'))}"
            )
    return ids, described


def _tokens_of(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text)["input_ids"])


def _is_id_sequence(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return value.dim() == 1 and not value.is_floating_point()
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) > 0
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )


def _baseline_form_message(baseline: Any) -> str:
    return (
        f"baseline must be one of {', '.join(list_baselines('text'))}, a baseline text, a list "
        f"of token ids, or one text or id list per input text; got {type(baseline).__name__}"
    )


def length_buckets(
    lengths: list[int], max_texts: int, padding: float = PADDING_ALLOWED
) -> list[list[int]]:
    """Groups text indices by length so that each group wastes little on padding.

    Texts are taken shortest first; a group closes when it holds ``max_texts`` texts or when
    the next (longest so far) text would make the group's padded tokens exceed its real
    tokens by more than the fraction ``padding``. On a CPU, padding costs as much as real
    tokens; on any device, fewer and larger groups save per-call overhead.

    Example:
        >>> length_buckets([5, 30, 6, 29, 5], max_texts=32)
        [[0, 4, 2], [3, 1]]
    """
    groups: list[list[int]] = []
    group: list[int] = []
    real = 0  # real tokens in the open group
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        n = lengths[i]  # the longest in the group once added: everything pads to it
        if group and (len(group) >= max_texts or n * (len(group) + 1) > (1 + padding) * (real + n)):
            groups.append(group)
            group, real = [], 0
        group.append(i)
        real += n
    return [*groups, group] if group else groups


def merge_words(
    e: Encoded, scores: list[float]
) -> tuple[list[tuple[int, int]], list[float], list[int | None]]:
    """Sums subword scores into words by the tokenizer's word ids.

    Returns:
        The (start, end) character span of each word, each word's score, and the word index
        of each token (None for special tokens).
    """
    order: dict[Any, int] = {}  # word key -> index into the outputs, in reading order
    spans: list[tuple[int, int]] = []
    word_scores: list[float] = []
    token_words: list[int | None] = []
    for t, score in enumerate(scores):
        if e.special[t]:
            token_words.append(None)
            continue
        # A non-special token outside any word (rare) is its own word.
        key = e.word_ids[t] if e.word_ids[t] is not None else ("token", t)
        if key not in order:
            order[key] = len(spans)
            spans.append(e.offsets[t])
            word_scores.append(0.0)
        w = order[key]
        spans[w] = (min(spans[w][0], e.offsets[t][0]), max(spans[w][1], e.offsets[t][1]))
        word_scores[w] += score
        token_words.append(w)
    return spans, word_scores, token_words
