"""Reading runs for the web view: filters, sorting and paging against pandas by hand."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

import integrad
from integrad.web import runs as run_module
from integrad.web.runs import Query, Run, find_runs, list_rows, read_rows
from integrad.web.summary import summary_html
from tests.web.conftest import made_up_rows, write_run


@pytest.fixture(scope="module")
def frame():
    """The large run's rows as a DataFrame, numbered as the server numbers them."""
    rows = made_up_rows(1200)
    return pd.DataFrame(rows).assign(row=range(len(rows)))


def numbers(run, **query):
    """Every matching row number, in order, read page by page."""
    found, offset = [], 0
    while True:
        total, rows = list_rows(run, Query(offset=offset, limit=500, **query))
        found += [r["row"] for r in rows]
        offset += 500
        if offset >= total:
            return total, found


def test_filters_match_pandas(large_run, frame):
    run = Run("large", large_run)
    ok = frame[frame.status == "ok"]
    cases = [
        ({"status": "error"}, frame[frame.status == "error"]),
        ({"label": "<b>MIXED</b>"}, frame[frame.predicted_label == "<b>MIXED</b>"]),
        ({"word": "W7"}, ok[ok.words.map(lambda w: "w7" in w)]),
        ({"min_abs_delta": 5e-4}, ok[ok.delta.abs() >= 5e-4]),
        ({"min_error": 1e-2, "label": "POSITIVE"},
         ok[(ok.error_estimate >= 1e-2) & (ok.predicted_label == "POSITIVE")]),
    ]  # fmt: skip
    for query, expected in cases:
        total, found = numbers(run, **query)
        assert total == len(expected) > 0, query
        assert found == list(expected.row), query


def test_sorting_matches_pandas_with_missing_values_last(large_run, frame):
    run = Run("large", large_run)
    ok = frame[frame.status == "ok"]
    by_delta = ok.assign(key=ok.delta.abs()).sort_values(["key", "row"], ascending=[False, True])
    assert numbers(run, sort="abs_delta", descending=True)[1][:1000] == list(by_delta.row)[:1000]
    # rows without an error estimate (fixed rules, failed rows) come last either way
    for descending in (False, True):
        _, found = numbers(run, sort="error_estimate", descending=descending)
        has = frame[frame.error_estimate.notna()]
        has = has.sort_values(["error_estimate", "row"], ascending=[not descending, True])
        assert found[: len(has)] == list(has.row)
        assert sorted(found[len(has) :]) == sorted(frame[frame.error_estimate.isna()].row)
    _, found = numbers(run, sort="row", descending=True)
    assert found == list(range(1199, -1, -1))


def test_a_page_reads_only_the_shards_it_shows(large_run, monkeypatch):
    """Paging never loads every row: the page's texts come from the shards they are in."""
    run = Run("large", large_run)
    opened = []
    original = pq.ParquetFile.read

    def read(self, *args, **kwargs):
        opened.append((self.metadata.num_rows, kwargs.get("columns")))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read", read)
    total, rows = list_rows(run, Query(offset=300, limit=20))
    assert total == 1200 and [r["row"] for r in rows] == list(range(300, 320))
    assert len(opened) == 1  # rows 300-319 are all in the second shard (256-511)
    assert "tokens" not in opened[0][1] and "text" in opened[0][1]
    assert rows[0]["id"] == "id-300" and set(rows[0]) == {"row", *run_module.LISTED}


def test_long_texts_are_cut_in_listings_but_not_in_the_row(tmp_path):
    rows = made_up_rows(3)
    rows[1]["text"] = "word " * 200
    run = Run("long", write_run(tmp_path / "long", rows))
    _, listed = list_rows(run, Query())
    assert len(listed[1]["text"]) == run_module.PREVIEW_CHARS and listed[1]["text"][-1] == "…"
    assert read_rows(run, [1])[0]["text"] == "word " * 200


def test_new_shards_are_seen(tmp_path):
    folder = write_run(tmp_path / "growing", made_up_rows(4), 4)
    run = Run("growing", folder)
    assert list_rows(run, Query())[0] == 4
    write_run(tmp_path / "more", made_up_rows(8), 4)
    (tmp_path / "more" / "part-00001.parquet").rename(folder / "part-00001.parquet")
    (folder / "part-00002.parquet.tmp").write_bytes(b"half a shard")  # not finished: ignored
    assert list_rows(run, Query())[0] == 8


def test_find_runs_takes_run_folders_and_folders_of_runs(tmp_path, large_run):
    write_run(tmp_path / "a" / "x", made_up_rows(2))
    write_run(tmp_path / "b" / "x", made_up_rows(2))
    (tmp_path / "a" / "not-a-run").mkdir()
    found = find_runs([tmp_path / "a", tmp_path / "b", large_run, tmp_path / "missing"])
    assert list(found) == ["x", "x-2", "large"]
    assert found["x-2"].path == (tmp_path / "b" / "x").resolve()


def test_the_summary_page_shows_summarize_with_labels_escaped(tmp_path):
    rows = made_up_rows(12)  # "word" 0.5 and "common" 0.25 in every ok row; labels by i % 3
    run = Run("s", write_run(tmp_path / "s", rows))
    html = summary_html(run)
    assert html == integrad.summarize(run.path).to_html()
    assert "Predicted &lt;b&gt;MIXED&lt;/b&gt;" in html and "<b>MIXED" not in html
    negative = html.split("Predicted NEGATIVE")[1].split("<h3>")[0]
    assert ">word</span>" in negative and ">common</span>" in negative
    assert ">w0</span>" not in negative  # once only: below the minimum count
    assert ">undecodable bytes</td>" in html  # row 5 failed
    deltas = sorted(abs(r["delta"]) for r in rows if r["status"] == "ok")
    assert f">{max(deltas):.2e}</td>" in html


def test_a_folder_without_shards_gets_the_reason(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "manifest.json").write_text("{}")
    assert "holds no finished shards" in summary_html(Run("e", tmp_path / "empty"))


def test_the_runs_page_names_the_runners_input_by_its_path():
    from integrad.web.run_pages import _input

    assert _input({"input": {"kind": "csv", "path": "/data/t.csv", "bytes": 3}}) == "/data/t.csv"
    assert _input({"input": {"kind": "iterable", "rows": 3}}) == "iterable"
    assert _input({"input": "texts.csv"}) == "texts.csv"
