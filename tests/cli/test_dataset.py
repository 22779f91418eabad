"""integrad explain --dataset: the same run as explain_dataset, refusals before loading."""

from __future__ import annotations

import json

import pytest

import integrad
from integrad.cli.main import main


def test_explain_dataset_from_the_command_line(tiny_bert_folder, tmp_path, capsys):
    data = tmp_path / "texts.jsonl"
    rows = [{"review": t, "n": i} for i, t in enumerate(["good food", "", "bad movie"])]
    data.write_text("\n".join(json.dumps(r) for r in rows))
    out = tmp_path / "run"
    argv = ["explain", "--dataset", str(data), "--out", str(out), "--model",
            str(tiny_bert_folder), "--text-column", "review", "--id-column", "n",
            "--shard-size", "2", "--steps", "8", "--score", "probability"]  # fmt: skip
    assert main(argv) == 0
    assert "wrote 3 rows (1 failed) in 2 shard(s)" in capsys.readouterr().err
    table = integrad.load_run(out)
    assert list(table["id"]) == ["0", "1", "2"]
    assert list(table["status"]) == ["ok", "error", "ok"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"] == {"n_steps": 8, "score": "probability"}
    assert manifest["resolved_options"]["score"] == "probability"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "--dataset needs --out DIR"),
        (["--out", "x", "--json"], "--json explains single texts"),
        (["--out", "x", "--text-column", "body"], "has no column 'body'; its columns are: 'text'"),
        (["--out", "x", "--num-gpus", "1"], "--num-gpus applies to --engine ray"),
    ],
)
def test_mistakes_are_answered_before_loading(tmp_path, capsys, extra, message):
    data = tmp_path / "t.csv"
    data.write_text("text\ngood\n")
    assert main(["explain", "--dataset", str(data), "--model", "no/such-model", *extra]) == 1
    assert message in capsys.readouterr().err
