"""Generation runs: one row per prompt with the generated tokens and the scores matrix,
equal to explain_generation on the same prompts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import integrad
from tests.tiny_lm import make_llama, make_tokenizer

SETTINGS = {"method": "gausslegendre", "n_steps": 8, "max_new_tokens": 3}


@pytest.fixture(scope="module")
def llama_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-llama")
    tok = make_tokenizer()
    make_llama(len(tok)).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def test_one_row_per_prompt_with_the_scores_matrix(llama_folder, tmp_path):
    prompts = ["the cat sat", "", "a dog ran on the mat", "the cat"]
    frame = pd.DataFrame({"question": prompts, "qid": ["q1", "q2", "q3", "q4"]})
    run = integrad.explain_dataset(
        str(llama_folder), frame, out=tmp_path / "gen", task="generation",
        prompt_column="question", id_column="qid", shard_size=3, quiet=True, **SETTINGS,
    )  # fmt: skip
    assert (run.rows, run.failed, run.shards) == (4, 1, 2)
    rows = integrad.load_run(run.out)
    assert list(rows["id"]) == ["q1", "q2", "q3", "q4"]
    assert list(rows["status"]) == ["ok", "error", "ok", "ok"]
    ok = rows[rows["status"] == "ok"]
    expected = integrad.explain_generation(str(llama_folder), list(ok["text"]), **SETTINGS)
    for (_, row), e in zip(ok.iterrows(), expected, strict=True):
        assert list(row["generated_tokens"]) == list(e.generated_tokens)
        assert list(row["context_tokens"]) == list(e.context_tokens)
        matrix = np.array([list(r) for r in row["scores"]])
        assert matrix.shape == (len(e.generated_tokens), len(e.context_tokens))
        np.testing.assert_allclose(matrix, np.array(e.scores), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(row["delta"], e.delta, atol=1e-5)
    summary = integrad.summarize(run.out)
    assert summary.classes == () and summary.deltas.count == 3 * len(ok)
    assert summary.failures[0].ids == ("q2",)
