"""explain_dataset: one row per input row, the same scores as explain, a manifest that
identifies the run, and refusals that say what is wrong."""

from __future__ import annotations

import json

import numpy as np
import pytest

import integrad
from integrad.errors import InputError
from tests.runs.conftest import ATTACK, ATTACK_ROW, FAILING, FAST, LONG_ROW
from tests.tiny_bert import make_bert

COLUMNS = ["id", "text", "status", "error", "predicted_label", "target_label", "probability",
           "output", "baseline_output", "tokens", "token_scores", "words", "word_scores",
           "delta", "error_estimate", "n_evals", "truncated"]  # fmt: skip


def test_one_row_per_input_row_with_its_status(full_run, corpus):
    rows = integrad.load_run(full_run)
    assert list(rows.columns) == COLUMNS
    assert list(rows["id"]) == [f"row-{i}" for i in range(len(corpus[1]))]
    failed = rows.index[rows["status"] == "error"].tolist()
    assert failed == sorted(FAILING)
    assert "empty or only whitespace" in rows.loc[3, "error"]
    assert "empty or only whitespace" in rows.loc[7, "error"]
    assert rows.loc[11, "error"].startswith("undecodable bytes")
    assert rows.loc[ATTACK_ROW, "text"] == ATTACK and rows.loc[ATTACK_ROW, "status"] == "ok"
    assert rows.loc[LONG_ROW, "truncated"] and rows.loc[LONG_ROW, "status"] == "ok"
    assert not rows.loc[rows["status"] == "ok", "truncated"].drop(LONG_ROW).any()
    assert rows.loc[failed, "predicted_label"].isna().all()


def test_scores_equal_explain_on_the_same_rows(full_run, corpus, tiny_bert_folder):
    rows = integrad.load_run(full_run)
    ok = rows[rows["status"] == "ok"]
    with pytest.warns(integrad.IntegradWarning, match="truncated to 48 tokens"):
        expected = integrad.explain(str(tiny_bert_folder), list(ok["text"]), **FAST)
    assert len(expected) == len(ok)
    for (_, row), e in zip(ok.iterrows(), expected, strict=True):
        assert list(row["words"]) == list(e.words)
        assert row["predicted_label"] == e.predicted_label
        np.testing.assert_allclose(row["word_scores"], e.word_scores, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(row["token_scores"], e.token_scores, rtol=1e-4, atol=1e-6)
        assert row["delta"] == pytest.approx(e.delta, abs=1e-5)
        assert row["probability"] == pytest.approx(max(e.probabilities), rel=1e-5)
        assert row["n_evals"] == e.n_evals


def test_manifest_records_the_run(full_run, corpus, tiny_bert_folder):
    manifest = json.loads((full_run / "manifest.json").read_text())
    assert manifest["integrad_version"] == integrad.__version__
    assert manifest["model"] == str(tiny_bert_folder)
    assert len(manifest["fingerprint"]) == 16
    assert manifest["options"] == FAST
    assert manifest["resolved_options"]["method"] == "gausslegendre"
    assert manifest["input"]["path"] == str(corpus[0].resolve())
    assert manifest["rows"] == 300 and manifest["shard_size"] == 64
    assert manifest["complete"] == [f"part-{i:05d}.parquet" for i in range(5)]
    assert manifest["finished"] is True


def test_a_rerun_keeps_every_shard(full_run, corpus, tiny_bert_folder):
    before = {p.name: p.stat().st_mtime_ns for p in full_run.glob("part-*.parquet")}
    run = integrad.explain_dataset(
        str(tiny_bert_folder), corpus[0], out=full_run, id_column="id", shard_size=64,
        quiet=True, **FAST,
    )  # fmt: skip
    assert (run.rows, run.resumed, run.failed) == (300, 5, len(FAILING))
    assert {p.name: p.stat().st_mtime_ns for p in full_run.glob("part-*.parquet")} == before


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"shard_size": 32}, "shard_size: 64 there, 32 now"),
        ({"n_steps": 16}, "options:"),
        ({"id_column": None}, "id_column:"),
    ],
)
def test_a_different_run_into_the_same_folder_is_refused(
    full_run, corpus, tiny_bert_folder, change, named
):
    settings = {"id_column": "id", "shard_size": 64, **FAST, **change}
    with pytest.raises(InputError, match="holds another run") as err:
        integrad.explain_dataset(
            str(tiny_bert_folder), corpus[0], out=full_run, quiet=True, **settings
        )
    assert named in str(err.value)


def test_another_model_is_refused_by_its_weights(full_run, corpus, tiny_bert_folder, tmp_path):
    import shutil

    other = tmp_path / "other"
    shutil.copytree(tiny_bert_folder, other)
    make_bert(seed=1).save_pretrained(other)
    with pytest.raises(InputError, match="holds another run") as err:
        integrad.explain_dataset(
            str(other), corpus[0], out=full_run, id_column="id", shard_size=64, quiet=True, **FAST
        )
    assert "fingerprint:" in str(err.value) and "model:" in str(err.value)


def test_an_unknown_column_lists_the_available_ones(corpus, tiny_bert_folder, tmp_path):
    with pytest.raises(InputError) as err:
        integrad.explain_dataset(
            str(tiny_bert_folder), corpus[0], out=tmp_path / "r", text_column="review"
        )
    assert "has no column 'review'; its columns are: 'id', 'text'" in str(err.value)
    assert not (tmp_path / "r").exists()


def test_a_list_of_strings_and_a_data_frame_give_the_same_rows(tiny_bert_folder, tmp_path):
    import pandas as pd

    texts = ["the movie was fantastic", "", "bad food", "i love you"]
    a = integrad.explain_dataset(
        str(tiny_bert_folder), texts, out=tmp_path / "a", shard_size=3, quiet=True, **FAST
    )
    frame = pd.DataFrame({"review": texts})
    b = integrad.explain_dataset(
        str(tiny_bert_folder), frame, out=tmp_path / "b", text_column="review", shard_size=3,
        quiet=True, **FAST,
    )  # fmt: skip
    assert (a.rows, a.failed, a.shards) == (b.rows, b.failed, b.shards) == (4, 1, 2)
    rows_a, rows_b = integrad.load_run(a.out), integrad.load_run(b.out)
    assert list(rows_a["id"]) == ["0", "1", "2", "3"]
    assert rows_a.drop(columns="id").equals(rows_b.drop(columns="id"))


def test_bad_arguments_are_refused_before_loading(tmp_path):
    with pytest.raises(InputError, match="unknown engine 'spark'"):
        integrad.explain_dataset("no-such-model", ["a"], out=tmp_path, engine="spark")
    with pytest.raises(InputError, match="shard_size must be a positive integer"):
        integrad.explain_dataset("no-such-model", ["a"], out=tmp_path, shard_size=0)
    with pytest.raises(InputError, match="does not exist"):
        integrad.explain_dataset("no-such-model", tmp_path / "missing.csv", out=tmp_path)
    with pytest.raises(integrad.IntegradError, match="n_step"):
        integrad.explain_dataset("no-such-model", ["a"], out=tmp_path, n_step=3)


def test_the_web_views_fixture_runs_have_the_runners_columns():
    from integrad.runs.shards import text_schema
    from tests.web.conftest import SCHEMA

    assert text_schema().equals(SCHEMA)


def test_a_run_whose_defaults_resolve_differently_is_refused(corpus, tiny_bert_folder, tmp_path):
    """Same options given, but the settings they resolve to differ from the earlier shards'
    (as when a new version changes a default): no shard is added."""
    out = tmp_path / "run"
    first = {"id_column": "id", "shard_size": 128, "quiet": True, **FAST}
    integrad.explain_dataset(str(tiny_bert_folder), corpus[0], out=out, **first)
    (out / "part-00001.parquet").unlink()
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["resolved_options"]["score"] = "probability"  # as if an older default had been
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(
        InputError, match="resolved differently \\(score: 'probability' there, 'logit' now\\)"
    ):
        integrad.explain_dataset(str(tiny_bert_folder), corpus[0], out=out, **first)
    assert not (out / "part-00001.parquet").exists()
