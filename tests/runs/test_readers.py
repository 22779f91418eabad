"""Every input form reads to the same ids and values, batch by batch."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from integrad.errors import InputError
from integrad.runs import readers
from integrad.runs.readers import open_source

TEXTS = [f"text number {i}" for i in range(2500)]  # more than one read batch


def read_all(source):
    ids, values = [], []
    for chunk in source.read():
        ids += chunk.ids
        values += chunk.values
    return ids, values


class FakeDataset:
    """What explain_dataset needs of a datasets.Dataset: column_names and iter(batch_size)."""

    def __init__(self, columns):
        self.columns = columns
        self.column_names = list(columns)
        self.batch_sizes = []

    def __len__(self):
        return len(next(iter(self.columns.values())))

    def iter(self, batch_size):
        self.batch_sizes.append(batch_size)
        for lo in range(0, len(self), batch_size):
            yield {k: v[lo : lo + batch_size] for k, v in self.columns.items()}


def test_every_form_reads_the_same_rows(tmp_path):
    keys = [f"k{i}" for i in range(len(TEXTS))]
    frame = pd.DataFrame({"key": keys, "body": TEXTS})
    frame.to_csv(tmp_path / "a.csv", index=False)
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in frame.to_dict("records")))
    folder = tmp_path / "parquet"
    folder.mkdir()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table.slice(0, 1000), folder / "0.parquet")
    pq.write_table(table.slice(1000), folder / "1.parquet")
    sources = [
        open_source(tmp_path / "a.csv", "body", "key"),
        open_source(str(tmp_path / "a.jsonl"), "body", "key"),
        open_source(folder, "body", "key"),
        open_source(frame, "body", "key"),
        open_source(FakeDataset({"key": keys, "body": TEXTS}), "body", "key"),
    ]
    for source in sources:
        ids, values = read_all(source)
        assert ids == keys
        # A CSV's text column comes as bytes, decoded per row by the runner.
        assert [v.decode() if isinstance(v, bytes) else v for v in values] == TEXTS
        assert source.rows == len(TEXTS)
    assert sources[0].description["kind"] == "csv" and sources[2].description["files"] == 2


def test_files_are_read_in_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "READ_BATCH", 100)
    pd.DataFrame({"text": TEXTS}).to_parquet(tmp_path / "t.parquet")
    chunks = list(open_source(tmp_path / "t.parquet", "text").read())
    assert max(len(c.ids) for c in chunks) <= 100
    assert sum(len(c.ids) for c in chunks) == len(TEXTS)


def test_strings_are_numbered_and_a_generator_is_read_once():
    source = open_source((t for t in TEXTS[:5]), "text")
    assert source.rows is None
    assert read_all(source) == (["0", "1", "2", "3", "4"], TEXTS[:5])
    with pytest.raises(InputError, match="already consumed"):
        read_all(source)


def test_refusals_name_the_fix(tmp_path):
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(InputError, match=r"unknown file type; give a \.csv"):
        open_source(tmp_path / "x.txt", "text")
    with pytest.raises(InputError, match="has no column 'id'; its columns are: 'body'"):
        open_source(pd.DataFrame({"body": ["a"]}), "body", "id")
    with pytest.raises(InputError, match="iterable of strings, which has no columns"):
        open_source(["a"], "text", "id")
    with pytest.raises(InputError, match="cannot read a dataset from a int"):
        open_source(3, "text")
