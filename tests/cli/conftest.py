"""The tiny BERT saved as a local model folder, shared with the adapter tests."""

from tests.adapters.conftest import tiny_bert, tiny_bert_folder, tiny_tokenizer

__all__ = ["tiny_bert", "tiny_bert_folder", "tiny_tokenizer"]
