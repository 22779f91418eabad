"""explain() against Captum's LayerIntegratedGradients, a second implementation."""

import pytest
import torch
from captum.attr import LayerIntegratedGradients

import integrad
from tests.modalities.test_text import TEXTS


@pytest.mark.parametrize("rule", ["gausslegendre", "riemann_middle"])
def test_token_scores_match_captum_layer_ig(tiny_bert, tiny_tokenizer, rule):
    # A batch of texts of different lengths, padded by explain() and one at a time by Captum.
    many = integrad.explain(tiny_bert, TEXTS, tokenizer=tiny_tokenizer, method=rule, n_steps=24)
    pad = tiny_tokenizer.pad_token_id

    def logits(input_ids, attention_mask, token_type_ids):
        return tiny_bert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).logits

    lig = LayerIntegratedGradients(logits, tiny_bert.bert.embeddings.word_embeddings)
    for e in many:
        enc = tiny_tokenizer(e.text, return_tensors="pt")
        ids = enc["input_ids"]
        special = torch.tensor(e.special_tokens)[None]
        base = torch.where(special, ids, torch.full_like(ids, pad))
        theirs = lig.attribute(
            ids,
            base,
            target=e.target,
            method=rule,
            n_steps=24,
            additional_forward_args=(enc["attention_mask"], enc["token_type_ids"]),
        )
        # Captum keeps the hidden dimension; explain() sums it to one score per token.
        theirs = theirs.double().sum(-1)[0]
        ours = torch.tensor(e.token_scores, dtype=torch.float64)
        err = (ours - theirs).norm() / theirs.norm()
        assert err < 1e-5, f"relative L2 difference {err:.2e} on {e.text!r}"
