"""A tiny BERT sentiment classifier and its fast tokenizer, built in-process (no downloads)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# "fantastic" only exists as subwords, so word merging is exercised.
WORDS = [
    "the",
    "movie",
    "was",
    "fan",
    "##tas",
    "##tic",
    "terrible",
    "service",
    "never",
    "again",
    "i",
    "love",
    "you",
    "but",
    "also",
    "kind",
    "of",
    "dislike",
    "good",
    "bad",
    "great",
    "food",
    "img",
    "src",
    "x",
    "onerror",
    "alert",
    "1",
    "a",
    "b",
    "c",
    "!",
    ",",
    ".",
    "<",
    ">",
    "=",
    "(",
    ")",
    '"',
    "'",
    "/",
]
VOCAB = SPECIALS + WORDS


def make_tokenizer(folder: Path, vocab: list[str] = VOCAB) -> BertTokenizerFast:
    """A lower-casing WordPiece tokenizer over ``vocab``, written to and read from ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return BertTokenizerFast.from_pretrained(folder, model_max_length=48)


def make_bert(
    vocab_size: int = len(VOCAB),
    labels: tuple[str, ...] = ("NEGATIVE", "POSITIVE"),
    seed: int = 0,
) -> BertForSequenceClassification:
    """A randomly initialised 2-layer BERT classifier with hidden size 32."""
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
        initializer_range=0.3,  # larger than BERT's 0.02, so scores are not all tiny
        id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)},
    )
    return BertForSequenceClassification(config).eval()


@pytest.fixture(scope="session")
def tiny_tokenizer(tmp_path_factory):
    return make_tokenizer(tmp_path_factory.mktemp("tokenizer"))


@pytest.fixture(scope="session")
def tiny_bert():
    return make_bert()


@pytest.fixture(scope="session")
def tiny_bert_folder(tmp_path_factory, tiny_bert, tiny_tokenizer):
    """The tiny model and tokenizer saved with save_pretrained, as a local model folder."""
    folder = tmp_path_factory.mktemp("tiny-bert")
    tiny_bert.save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    return folder
