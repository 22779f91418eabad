"""``integrad explain``: texts from arguments, files and stdin; JSON, HTML and PNG output."""

import io
import json
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from integrad.cli.main import main


class _StdinTTY(io.StringIO):
    def isatty(self):
        return True


def _run(capsys, *argv):
    code = main(["explain", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_for_one_text(capsys, tiny_bert_folder):
    code, out, err = _run(
        capsys, "great", "food", "--model", str(tiny_bert_folder), "--json", "--steps", "8"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["text"] == "great food"  # words given without quotes are joined
    assert data["words"] == ["great", "food"] and data["options"]["n_steps"] == 8
    assert data["predicted_label"] in ("NEGATIVE", "POSITIVE")
    total = sum(data["token_scores"])
    change = data["output"] - data["baseline_output"]
    assert total - change == pytest.approx(data["delta"], abs=1e-6)


def test_adaptive_method_reports_its_error_estimate(capsys, tiny_bert_folder):
    argv = ["great food", "-m", str(tiny_bert_folder), "--json", "--method", "adaptive"]
    code, out, err = _run(capsys, *argv, "--tol", "1e-4")
    assert code == 0, err
    data = json.loads(out)
    assert data["options"]["method"] == "adaptive" and data["options"]["tol"] == 1e-4
    assert data["error_estimate"] < 1e-3
    # --tol alone asks for adaptive integration; with a fixed rule it is refused, not ignored.
    code, out, err = _run(
        capsys, "great food", "-m", str(tiny_bert_folder), "--json", "--tol", "1e-3"
    )
    assert code == 0 and json.loads(out)["options"]["method"] == "adaptive"
    argv = ["great food", "-m", str(tiny_bert_folder), "--method", "gausslegendre", "--tol", "1e-3"]
    code, _, err = _run(capsys, *argv)
    assert code == 1 and "tol applies to method='adaptive'" in err


def test_colored_words_label_and_delta_are_printed(capsys, tiny_bert_folder):
    code, out, _ = _run(capsys, "great food", "-m", str(tiny_bert_folder), "-t", "NEGATIVE")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "[CLS] great food [SEP]"
    assert "explaining the logit of NEGATIVE" in lines[1]
    assert "delta" in out and "baseline neutral: pad" in out and "the baseline reads as:" in out


def test_file_with_many_texts_gives_a_json_list_in_order(capsys, tmp_path, tiny_bert_folder):
    texts = ["great food", "terrible service", "", "the movie was bad", "i love you", "good"]
    source = tmp_path / "texts.txt"
    source.write_text("\n".join(texts) + "\n", encoding="utf-8")
    code, out, err = _run(
        capsys, "--file", str(source), "-m", str(tiny_bert_folder), "--json", "--batch", "2"
    )
    assert code == 0, err
    assert [d["text"] for d in json.loads(out)] == [t for t in texts if t]
    assert "skipped 1 blank line(s)" in err


def test_standard_input_is_read_when_piped(capsys, monkeypatch, tiny_bert_folder):
    monkeypatch.setattr(sys, "stdin", io.StringIO("great food\nbad service\n"))
    code, out, _ = _run(capsys, "-m", str(tiny_bert_folder), "--json", "--baseline", "zero")
    assert code == 0
    data = json.loads(out)
    assert [d["text"] for d in data] == ["great food", "bad service"]
    assert {d["baseline"] for d in data} == {"zero"}


def test_html_and_png_files_are_written(capsys, tmp_path, tiny_bert_folder):
    page, chart = tmp_path / "out.html", tmp_path / "out.png"
    code, _, err = _run(
        capsys, "great food", "-m", str(tiny_bert_folder), "--html", str(page), "--png", str(chart)
    )
    assert code == 0
    assert f"wrote {page}" in err and f"wrote {chart}" in err
    parser = HTMLParser()
    parser.feed(page.read_text("utf-8"))
    assert page.read_text("utf-8").startswith("<!DOCTYPE html>")
    assert 'title="great:' in page.read_text("utf-8")
    assert chart.read_bytes()[:4] == b"\x89PNG"


def test_errors_exit_1_with_the_message(capsys, monkeypatch, tmp_path, tiny_bert_folder):
    code, _, err = _run(capsys, "great food", "-m", str(tiny_bert_folder), "-t", "HAPPY")
    assert code == 1 and "integrad: error: unknown label 'HAPPY'" in err
    code, _, err = _run(capsys, "great food", "-m", str(tmp_path / "none"))
    assert code == 1 and "does not exist" in err
    code, _, err = _run(capsys, "--file", str(tmp_path / "missing.txt"))
    assert code == 1 and "No such file" in err
    monkeypatch.setattr(sys, "stdin", _StdinTTY())
    code, _, err = _run(capsys, "-m", str(tiny_bert_folder))
    assert code == 1 and 'no text to explain: give one, e.g. integrad explain "I love this"' in err


def test_truncation_is_reported_as_a_warning(capsys, tiny_bert_folder):
    code, out, err = _run(
        capsys, "great food " * 4, "-m", str(tiny_bert_folder), "--max-length", "5"
    )
    assert code == 0
    assert "integrad: warning: the text has 10 tokens, more than the maximum of 5" in err
    assert "truncated" in out


def test_no_subcommand_prints_help(capsys):
    assert main([]) == 2
    assert "explain" in capsys.readouterr().err


def test_command_runs_as_a_program(tiny_bert_folder):
    command = [sys.executable, "-m", "integrad.cli.main", "explain", "great food", "--json"]
    command += ["--offline", "--model", str(tiny_bert_folder)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["words"] == ["great", "food"]
    assert done.stderr == ""
