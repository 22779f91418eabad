"""The ray engine on a local Ray instance (2 CPUs): the same rows as the local engine, and
resuming a run skips its finished shards."""

from __future__ import annotations

import json

import numpy as np
import pytest
import ray  # in the test extra (integrad[ray])

import integrad
from tests.runs.conftest import FAILING, FAST, texts, write_csv

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def local_ray():
    """The user's own ray.init(): the engine uses it and leaves it running."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "small.csv"
    write_csv(path, texts(40, seed=1))
    return path


def runs(tiny_bert_folder, small_csv, out, engine):
    return integrad.explain_dataset(
        str(tiny_bert_folder), small_csv, out=out, id_column="id", shard_size=16,
        engine=engine, quiet=True, **FAST,
    )  # fmt: skip


def same_rows(a, b):
    assert a[["id", "text", "status", "error", "predicted_label", "truncated"]].equals(
        b[["id", "text", "status", "error", "predicted_label", "truncated"]]
    )
    ok = a["status"] == "ok"
    for column in ("word_scores", "token_scores"):
        np.testing.assert_allclose(
            np.concatenate(a.loc[ok, column].to_list()),
            np.concatenate(b.loc[ok, column].to_list()),
            rtol=1e-4,
            atol=1e-6,
        )


def test_ray_gives_the_local_engines_rows(local_ray, tiny_bert_folder, small_csv, tmp_path):
    local = runs(tiny_bert_folder, small_csv, tmp_path / "local", "local")
    remote = runs(tiny_bert_folder, small_csv, tmp_path / "ray", "ray")
    assert ray.is_initialized()  # the user's instance is left running
    assert (remote.rows, remote.failed, remote.shards) == (40, len(FAILING), 3)
    same_rows(integrad.load_run(local.out), integrad.load_run(remote.out))
    manifest = json.loads((remote.out / "manifest.json").read_text())
    assert manifest["engine"] == "ray" and manifest["finished"] is True
    assert manifest["complete"] == [f"part-{i:05d}.parquet" for i in range(3)]

    # Resuming (with either engine) keeps finished shards and computes the missing one.
    (remote.out / "part-00001.parquet").unlink()
    kept = {p.name: p.stat().st_mtime_ns for p in remote.out.glob("part-*.parquet")}
    again = runs(tiny_bert_folder, small_csv, remote.out, "ray")
    assert (again.rows, again.resumed, again.shards) == (40, 2, 3)
    assert {n: (remote.out / n).stat().st_mtime_ns for n in kept} == kept
    same_rows(integrad.load_run(local.out), integrad.load_run(remote.out))
