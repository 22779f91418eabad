"""Run folders for the web view's tests, in the dataset runner's format (issue 13).

``write_run`` writes ``part-NNNNN.parquet`` shards with the runner's columns and a
``manifest.json``; the runs are made from real explanations of the tiny BERT
(``explained_run``) or from numbers made up for paging large runs (``large_run``).
When the runner lands, these can be swapped for runs it writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import integrad
from integrad.runs.rows import text_row

ATTACK = "<img src=x onerror=alert(1)>"
FAST = {"method": "gausslegendre", "n_steps": 16}
SCHEMA = pa.schema([
    ("id", pa.string()),
    ("text", pa.string()),
    ("status", pa.string()),
    ("error", pa.string()),
    ("predicted_label", pa.string()),
    ("target_label", pa.string()),
    ("probability", pa.float64()),
    ("output", pa.float64()),
    ("baseline_output", pa.float64()),
    ("tokens", pa.list_(pa.string())),
    ("token_scores", pa.list_(pa.float64())),
    ("words", pa.list_(pa.string())),
    ("word_scores", pa.list_(pa.float64())),
    ("delta", pa.float64()),
    ("error_estimate", pa.float64()),
    ("n_evals", pa.int64()),
    ("truncated", pa.bool_()),
])  # fmt: skip
EXPLAINED_TEXTS = [
    "the movie was fantastic",
    "terrible service, never again",
    ATTACK,
    "i love you, but i also kind of dislike you",
    "",  # fails: empty
    "good food",
    "bad food",
    "great movie, good service",
    "   ",  # fails: only whitespace
    "the food was bad but the service was great",
]


def failed_row(row_id: str, text: str, error: str) -> dict:
    """A runner's output row for a text that could not be explained."""
    return {name: None for name in SCHEMA.names} | {
        "id": row_id, "text": text, "status": "error", "error": error,
    }  # fmt: skip


def write_run(folder: Path, rows: list[dict], shard_size: int = 4, **manifest) -> Path:
    """Shards of ``shard_size`` rows and a manifest, as the dataset runner writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    shards = []
    for n, lo in enumerate(range(0, len(rows), shard_size)):
        name = f"part-{n:05d}.parquet"
        pq.write_table(
            pa.Table.from_pylist(rows[lo : lo + shard_size], schema=SCHEMA), folder / name
        )
        shards.append(name)
    info = {
        "integrad_version": integrad.__version__, "model": "tiny-bert",
        "fingerprint": "0" * 16, "options": FAST, "input": "texts.csv", "rows": len(rows),
        "shard_size": shard_size, "complete": shards, **manifest,
    }  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def explained_run(tmp_path_factory, tiny_bert_folder):
    """A run of the tiny BERT over EXPLAINED_TEXTS: real scores, two failed rows."""
    rows = []
    for i, text in enumerate(EXPLAINED_TEXTS):
        if not text.strip():
            rows.append(failed_row(f"r{i}", text, "the text is empty or only whitespace"))
            continue
        e = integrad.explain(str(tiny_bert_folder), text, **FAST)
        rows.append(text_row(f"r{i}", e))
    return write_run(tmp_path_factory.mktemp("runs") / "tiny", rows)


def made_up_rows(n: int) -> list[dict]:
    """``n`` rows with known numbers: row i has delta (-1)^i * i * 1e-6, label by i % 3."""
    labels = ("NEGATIVE", "POSITIVE", "<b>MIXED</b>")
    rows = []
    for i in range(n):
        if i % 97 == 5:
            rows.append(failed_row(f"id-{i}", f"text {i}", "undecodable bytes"))
            continue
        words = ["word", f"w{i % 10}", "common"]
        rows.append({
            "id": f"id-{i}", "text": " ".join(words), "status": "ok", "error": None,
            "predicted_label": labels[i % 3], "target_label": labels[i % 3],
            "probability": 0.5 + (i % 50) / 100, "output": 1.0, "baseline_output": 0.0,
            "tokens": ["[CLS]", *words, "[SEP]"], "token_scores": [0.0, 0.5, 0.25, 0.25, 0.0],
            "words": words, "word_scores": [0.5, 0.25, 0.25], "delta": (-1) ** i * i * 1e-6,
            "error_estimate": None if i % 2 else i * 1e-5, "n_evals": 32 + i % 7,
            "truncated": False,
        })  # fmt: skip
    return rows


@pytest.fixture(scope="session")
def large_run(tmp_path_factory):
    """1200 made-up rows in shards of 256 (the runner's default shard size)."""
    return write_run(tmp_path_factory.mktemp("runs") / "large", made_up_rows(1200), 256)


@pytest.fixture(scope="session")
def tiny_llama_folder(tmp_path_factory):
    """A tiny random Llama and its word-level tokenizer, saved as a local model folder."""
    from tests.tiny_lm import make_llama, make_tokenizer

    folder = tmp_path_factory.mktemp("tiny-llama")
    tok = make_tokenizer()
    make_llama(len(tok)).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def client(tiny_bert_folder, explained_run, large_run):
    """The web view of the tiny BERT and the two runs, through Starlette's test client."""
    from starlette.testclient import TestClient

    from integrad.web.app import create_app

    app = create_app(str(tiny_bert_folder), runs=[explained_run.parent, large_run])
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        yield c
