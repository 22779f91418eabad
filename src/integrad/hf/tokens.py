"""Facts about a model that reads token ids, checked before any attribution.

Shared by the token adapters (text classification now, generation later): where the input
embeddings are (the layer IG attributes at), how long a sequence may be, which keyword inputs
the forward takes, and whether the tokenizer's ids fit the model's embedding matrix.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from torch import nn

from integrad.errors import ModelError

# Tokenizers without a limit report a huge sentinel (transformers' VERY_LARGE_INTEGER).
_NO_LIMIT = 1_000_000


def input_embedding(model: nn.Module) -> nn.Module:
    """The token embedding module, from ``model.get_input_embeddings()``.

    Example:
        >>> input_embedding(bert_classifier)  # doctest: +SKIP
        Embedding(30522, 768, padding_idx=0)
    """
    get = getattr(model, "get_input_embeddings", None)
    layer = get() if callable(get) else None
    if not isinstance(layer, nn.Module):
        raise ModelError(
            f"{type(model).__name__} has no get_input_embeddings() returning the token "
            "embedding module, where integrad attributes token models. Add that method, or "
            "call integrad.attribute(model, inputs, layer=<embedding module>) directly"
        )
    return layer


def max_length(model: nn.Module, tokenizer: Any) -> int | None:
    """The longest sequence both the tokenizer and the model's position embeddings allow.

    Example:
        >>> max_length(bert_classifier, bert_tokenizer)  # doctest: +SKIP
        512
    """
    limits = []
    tok_limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_limit, int) and tok_limit < _NO_LIMIT:
        limits.append(tok_limit)
    positions = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    if isinstance(positions, int):
        limits.append(positions)
    return min(limits) if limits else None


def forward_keys(model: nn.Module) -> frozenset[str] | None:
    """Keyword names the model's forward accepts, or None when it takes ``**kwargs``.

    Example:
        >>> "token_type_ids" in forward_keys(bert_classifier)  # doctest: +SKIP
        True
    """
    params = inspect.signature(model.forward).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return frozenset(p.name for p in params)


def check_vocab(embedding: nn.Module, tokenizer: Any, id_lists: Iterable[list[int]]) -> None:
    """Refuses a tokenizer whose ids do not fit the model's embedding matrix.

    An out-of-range id crashes inside the model with an index error at best; a tokenizer
    larger than the matrix means it belongs to another model even when this text's ids fit.

    Example:
        >>> embedding = model.get_input_embeddings()  # doctest: +SKIP
        >>> check_vocab(embedding, tokenizer, [[101, 2023, 102]])  # doctest: +SKIP
    """
    rows = getattr(embedding, "num_embeddings", None)
    if not isinstance(rows, int):
        weight = getattr(embedding, "weight", None)
        if weight is None:
            return  # a custom embedding module: nothing to compare against
        rows = weight.shape[0]
    largest = max((max(ids) for ids in id_lists if ids), default=0)
    pad = getattr(tokenizer, "pad_token_id", None)
    largest = max(largest, pad if pad is not None else 0)
    size = len(tokenizer)
    if largest >= rows or size > rows:
        raise ModelError(
            f"the tokenizer does not match the model: it has {size} tokens (largest id used "
            f"{largest}) but the model's embedding matrix has {rows} rows. Pass the tokenizer "
            "the model was trained with, e.g. AutoTokenizer.from_pretrained(<model name>)"
        )
