"""Tiny causal LMs and a word-level tokenizer for generation tests, built in-process."""

from __future__ import annotations

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
)

SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]
# One token per whitespace-separated word; two of them test HTML escaping.
WORDS = [
    "the", "cat", "sat", "on", "mat", "a", "dog", "ran", "to", "park", "and", "then", "it",
    "was", "good", "bad", "why", "is", "sky", "blue", "because", "light", "user", "assistant",
    "hello", "hi", ":", "?", "<script>alert(1)</script>", "<b>",
]  # fmt: skip
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} </s> "
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def make_tokenizer(
    bos: bool = True, eos_after: bool = False, gpt2_style: bool = False
) -> PreTrainedTokenizerFast:
    """A whitespace word-level tokenizer; adds <s> in front (Llama) or </s> after (T5).

    ``gpt2_style``: one special token, <|endoftext|>, serving as unk, bos and eos; no pad.
    """
    extra = ["<|user|>", "<|assistant|>"]
    specials = ["<|endoftext|>"] if gpt2_style else SPECIALS
    vocab = {t: i for i, t in enumerate(specials + extra + WORDS)}
    tk = Tokenizer(models.WordLevel(vocab, unk_token=specials[-1 if gpt2_style else 1]))
    tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    if bos:
        tk.post_processor = processors.TemplateProcessing(
            single="<s> $A", special_tokens=[("<s>", vocab["<s>"])]
        )
    elif eos_after:
        tk.post_processor = processors.TemplateProcessing(
            single="$A </s>", special_tokens=[("</s>", vocab["</s>"])]
        )
    if gpt2_style:
        names = dict.fromkeys(["unk_token", "bos_token", "eos_token"], "<|endoftext|>")
    else:
        kinds = ["pad_token", "unk_token", "bos_token", "eos_token"]
        names = dict(zip(kinds, SPECIALS, strict=True))
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, **names)
    tok.add_special_tokens({"additional_special_tokens": extra})
    return tok


def make_gpt2(vocab: int, seed: int = 0) -> GPT2LMHeadModel:
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=vocab, n_positions=64, n_embd=32, n_layer=2, n_head=2)
    return GPT2LMHeadModel(config).eval()


def make_llama(
    vocab: int,
    seed: int = 0,
    *,
    heads: int = 2,
    kv_heads: int = 1,
    intermediate: int = 37,
    max_positions: int = 64,
    tied: bool = False,
) -> LlamaForCausalLM:
    """A randomly initialised 2-layer Llama (grouped-query attention when kv_heads < heads)."""
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=intermediate,
        num_hidden_layers=2,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=max_positions,
        tie_word_embeddings=tied,
        bos_token_id=2,
        eos_token_id=3,
        pad_token_id=0,
    )
    return LlamaForCausalLM(config).eval()
