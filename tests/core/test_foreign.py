"""Models integrad cannot differentiate as given get a message with the fix, wherever they enter."""

import pytest
import torch

import integrad
from integrad.core.foreign import is_keras_model, is_pipeline


def test_a_pipeline_is_refused_with_its_parts_named(tiny_bert, tiny_tokenizer):
    from transformers import pipeline

    pipe = pipeline("text-classification", model=tiny_bert, tokenizer=tiny_tokenizer)
    assert is_pipeline(pipe) and not is_pipeline(tiny_bert)
    ids = tiny_tokenizer("the movie was good", return_tensors="pt")["input_ids"]
    fix = r"integrad\.explain\(pipe, text\).*layer=pipe\.model\.get_input_embeddings\(\)"
    with pytest.raises(
        integrad.ModelError, match=rf"TextClassificationPipeline is a Hugging Face pipeline.*{fix}"
    ):
        integrad.attribute(pipe, ids)
    with pytest.raises(integrad.ModelError, match="Hugging Face pipeline"):
        integrad.explain_tabular(pipe, torch.ones(2, 3).numpy())


def test_torch_modules_and_functions_pass(mlp):
    assert not is_keras_model(mlp) and not is_keras_model(lambda x: x) and not is_pipeline(mlp)
    integrad.attribute(mlp, torch.ones(1, 5, dtype=torch.float64), target=0)
