"""Crash and resume: a child process explaining the corpus is killed with SIGKILL after its
first shard lands (in the middle of writing the next one); rerunning finishes the run, and
its rows equal those of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np

import integrad
from tests.runs.conftest import FAST

#: The child runs the corpus, and after the first shard lands it starts writing the second
#: (a temporary file, as write_shard does) and stops there, waiting to be killed.
CHILD = textwrap.dedent(
    """
    import sys
    import integrad
    from integrad.runs import local, shards

    model, data, out, steps = sys.argv[1:]
    real = local.write_shard

    def write_then_hang(folder, index, table):
        if index == 0:
            path = real(folder, index, table)
            print("landed", flush=True)
            return path
        half = folder / f"{shards.shard_name(index)}{shards.TEMPORARY}999"
        half.write_bytes(b"PAR1 half a shard")
        print("writing", flush=True)
        sys.stdin.read()  # until killed

    local.write_shard = write_then_hang
    integrad.explain_dataset(
        model, data, out=out, id_column="id", shard_size=64, quiet=True,
        method="gausslegendre", n_steps=int(steps),
    )
    """
)


def test_a_killed_run_resumes_to_the_same_rows(corpus, tiny_bert_folder, full_run, tmp_path):
    out = tmp_path / "killed"
    args = [str(tiny_bert_folder), str(corpus[0]), str(out), str(FAST["n_steps"])]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        assert child.stdout.readline().strip() == "landed"
        assert child.stdout.readline().strip() == "writing"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert sorted(p.name for p in out.glob("part-*.parquet")) == ["part-00000.parquet"]
    assert any(".tmp-" in p.name for p in out.iterdir())  # the half shard
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] == ["part-00000.parquet"] and "finished" not in manifest

    run = integrad.explain_dataset(
        str(tiny_bert_folder), corpus[0], out=out, id_column="id", shard_size=64, quiet=True,
        **FAST,
    )  # fmt: skip
    assert (run.rows, run.resumed, run.shards) == (300, 1, 5)
    assert not any(".tmp-" in p.name for p in out.iterdir())
    resumed, whole = integrad.load_run(out), integrad.load_run(full_run)
    assert resumed["id"].is_unique and len(resumed) == 300
    assert resumed[["id", "text", "status", "error", "predicted_label"]].equals(
        whole[["id", "text", "status", "error", "predicted_label"]]
    )
    ok = whole["status"] == "ok"
    for column in ("word_scores", "token_scores"):
        a = np.concatenate(resumed.loc[ok, column].to_list())
        b = np.concatenate(whole.loc[ok, column].to_list())
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert json.loads((out / "manifest.json").read_text())["finished"] is True
