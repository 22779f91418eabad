"""Checks on token models: embeddings, length limits, forward keywords, vocabulary fit."""

import pytest
from torch import nn

from integrad.errors import ModelError
from integrad.hf.tokens import check_vocab, forward_keys, input_embedding, max_length
from tests.tiny_bert import make_bert


def test_input_embedding_is_the_word_embedding(tiny_bert):
    assert input_embedding(tiny_bert) is tiny_bert.bert.embeddings.word_embeddings
    with pytest.raises(ModelError, match=r"Linear has no get_input_embeddings\(\)"):
        input_embedding(nn.Linear(2, 2))


def test_max_length_is_the_smaller_of_tokenizer_and_positions(tiny_bert, tiny_tokenizer):
    assert max_length(tiny_bert, tiny_tokenizer) == 48  # tokenizer 48, positions 64

    class Unlimited:
        model_max_length = int(1e30)  # what transformers reports when no limit is set

    assert max_length(tiny_bert, Unlimited()) == 64
    assert max_length(nn.Linear(2, 2), Unlimited()) is None


def test_forward_keys_lists_keywords_or_none_for_kwargs():
    class Explicit(nn.Module):
        def forward(self, input_ids, attention_mask=None):
            return input_ids

    class TakesAnything(nn.Module):
        def forward(self, input_ids, **kwargs):
            return input_ids

    assert forward_keys(Explicit()) == {"input_ids", "attention_mask"}
    assert forward_keys(TakesAnything()) is None


def test_check_vocab_refuses_ids_past_the_embedding(tiny_tokenizer):
    embedding = make_bert().get_input_embeddings()
    check_vocab(embedding, tiny_tokenizer, [[2, 6, 3]])
    rows = embedding.num_embeddings
    with pytest.raises(ModelError, match=rf"largest id used {rows}\) but .* {rows} rows"):
        check_vocab(embedding, tiny_tokenizer, [[2, rows, 3]])
    small = make_bert(vocab_size=10).get_input_embeddings()
    with pytest.raises(ModelError, match=r"tokenizer does not match the model"):
        check_vocab(small, tiny_tokenizer, [[2, 6, 3]])
