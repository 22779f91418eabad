"""summarize: the numbers recomputed by hand, on a small made-up run and on a real one."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyarrow as pa
import pytest

import integrad
from integrad.cli.main import main
from integrad.errors import InputError
from integrad.runs.shards import text_schema, write_shard
from tests.runs.conftest import ATTACK


def row(i, label, words, scores, delta, estimate=None):
    return {"id": f"r{i}", "text": " ".join(words), "status": "ok", "predicted_label": label,
            "target_label": label, "words": words, "word_scores": scores, "delta": delta,
            "error_estimate": estimate}  # fmt: skip


def failed(i, message):
    return {"id": f"r{i}", "text": "", "status": "error", "error": message}


@pytest.fixture
def small_run(tmp_path):
    """Two shards. POSITIVE: "Good" 0.5 and "good" 0.3 (one word, mean 0.4, 2), "bad" -0.2
    (x3: -0.2, -0.4, -0.6 -> mean -0.4), "rare" 9.0 once; NEGATIVE: "bad" 0.6 twice."""
    rows = [
        row(0, "POSITIVE", ["Good", "bad"], [0.5, -0.2], 1e-3, 1e-4),
        row(1, "POSITIVE", ["good", "bad", "rare"], [0.3, -0.4, 9.0], -2e-3, 3e-4),
        failed(2, "the text is missing (null)"),
        row(3, "POSITIVE", ["bad"], [-0.6], 4e-3),
        row(4, "NEGATIVE", ["bad", "bad"], [0.6, 0.6], -8e-3, 5e-4),
        failed(5, "the text is missing (null)"),
        failed(6, "undecodable bytes"),
    ]
    for index, lo in enumerate(range(0, len(rows), 4)):
        write_shard(tmp_path, index, pa.Table.from_pylist(rows[lo : lo + 4], schema=text_schema()))
    return tmp_path


def test_small_run_by_hand(small_run):
    s = integrad.summarize(small_run, min_count=2)
    assert (s.rows, s.ok, s.failed) == (7, 4, 3)
    negative, positive = s.classes
    assert (positive.label, positive.rows, negative.label, negative.rows) == (
        "POSITIVE", 3, "NEGATIVE", 1,
    )  # fmt: skip
    assert [(w.word, w.count) for w in positive.toward] == [("good", 2)]  # "rare": once
    assert positive.toward[0].mean == pytest.approx(0.4)
    assert [(w.word, w.count) for w in positive.against] == [("bad", 3)]
    assert positive.against[0].mean == pytest.approx(-0.4)
    assert [(w.word, w.mean, w.count) for w in negative.toward] == [("bad", 0.6, 2)]
    assert negative.against == ()
    deltas = [1e-3, 2e-3, 4e-3, 8e-3]
    assert s.deltas.count == 4 and s.deltas.largest == pytest.approx(8e-3)
    assert s.deltas.median == pytest.approx(np.median(deltas))
    assert s.deltas.p90 == pytest.approx(np.percentile(deltas, 90))
    assert s.error_estimates.count == 3 and s.error_estimates.largest == pytest.approx(5e-4)
    assert [(f.message, f.rows, f.ids) for f in s.failures] == [
        ("the text is missing (null)", 2, ("r2", "r5")),
        ("undecodable bytes", 1, ("r6",)),
    ]
    assert [w.word for w in integrad.summarize(small_run, min_count=1).classes[1].toward] == [
        "rare", "good",
    ]  # fmt: skip


def test_group_by_target_and_refusals(small_run, tmp_path):
    assert integrad.summarize(small_run, by="target").by == "target_label"
    with pytest.raises(InputError, match="unknown by='gold'"):
        integrad.summarize(small_run, by="gold")
    with pytest.raises(InputError, match="holds no finished shards"):
        integrad.summarize(tmp_path / "nothing")


def test_a_real_run_recomputed_row_by_row(full_run):
    rows = integrad.load_run(full_run)
    sums, counts = defaultdict(float), defaultdict(int)
    for _, r in rows[rows["status"] == "ok"].iterrows():
        for word, score in zip(r["words"], r["word_scores"], strict=True):
            sums[r["predicted_label"], word.lower()] += score
            counts[r["predicted_label"], word.lower()] += 1
    s = integrad.summarize(full_run, min_count=5, top=1000)
    seen = 0
    for c in s.classes:
        for w in (*c.toward, *c.against):
            assert w.count == counts[c.label, w.word] >= 5
            assert w.mean == pytest.approx(sums[c.label, w.word] / w.count)
            seen += 1
        means = [w.mean for w in c.toward]
        assert means == sorted(means, reverse=True) and all(m > 0 for m in means)
    ranked = [k for k, n in counts.items() if n >= 5 and sums[k] != 0]
    assert seen == len(ranked) > 10
    ok = rows["status"] == "ok"
    assert s.deltas.largest == pytest.approx(rows.loc[ok, "delta"].abs().max())
    assert s.failed == 3


def test_summary_command_writes_escaped_html_and_a_png(full_run, tmp_path, capsys):
    html, png = tmp_path / "s.html", tmp_path / "s.png"
    argv = ["summary", str(full_run), "--html", str(html), "--png", str(png), "--min-count", "1"]
    assert main(argv) == 0
    out = capsys.readouterr()
    assert "300 rows: 297 explained, 3 failed" in out.out
    page = html.read_text()
    assert "&lt;" in page and "<img" not in page and ATTACK not in page
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["summary", str(tmp_path / "missing")]) == 1
