"""``integrad generate`` on a tiny random Llama (grouped-query attention, tied embeddings)."""

import io
import json
from html.parser import HTMLParser

import pytest
import torch
from PIL import Image
from transformers import LlamaForCausalLM

import integrad
from integrad.cli.main import main
from tests.tiny_lm import CHAT_TEMPLATE, make_llama, make_tokenizer

FAST = ["--method", "gausslegendre", "--steps", "16"]


def make_tied_llama(vocab: int) -> LlamaForCausalLM:
    """Llama-shaped like SmolLM2: 4 query heads sharing 2 key/value heads, tied embeddings."""
    return make_llama(
        vocab, seed=1, heads=4, kv_heads=2, intermediate=48, max_positions=24, tied=True
    )


@pytest.fixture(scope="module")
def lm_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tied-llama")
    tok = make_tokenizer()
    tok.chat_template = CHAT_TEMPLATE
    model = make_tied_llama(len(tok))
    assert model.lm_head.weight is model.model.embed_tokens.weight
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def _run(capsys, *argv, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["generate", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_prints_the_generation_and_each_tokens_top_context(capsys, lm_folder):
    code, out, err = _run(capsys, "the cat sat on", "-m", str(lm_folder), *FAST)
    assert code == 0, err
    direct = integrad.explain_generation(
        str(lm_folder), "the cat sat on", max_new_tokens=3, method="gausslegendre", n_steps=16
    )
    assert direct.generated_text.split()[0] in out
    assert "pushed up by" in out and "delta" in out
    for j, token in enumerate(direct.generated_tokens):
        top = direct.top_context(j)
        if direct.scores[j][direct.context_tokens.index(top)] > 0:
            assert top in out, (token, top)
    assert f"{max(abs(d) for d in direct.delta):.1e}" in out


def test_json_matches_the_library(capsys, lm_folder):
    argv = ["the dog ran", "-m", str(lm_folder), "--json", "--max-new-tokens", "3", *FAST]
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    data = json.loads(out)
    direct = integrad.explain_generation(
        str(lm_folder), "the dog ran", max_new_tokens=3, method="gausslegendre", n_steps=16
    )
    assert data["generated_text"] == direct.generated_text
    assert data["scores"] == [list(r) for r in direct.scores]
    for row, change, delta in zip(
        data["scores"],
        [o - b for o, b in zip(data["output"], data["baseline_output"], strict=True)],
        data["delta"],
        strict=True,
    ):
        assert sum(row) - change == pytest.approx(delta, abs=1e-6)


def test_forced_target_and_chat(capsys, lm_folder):
    argv = ["the cat", "-m", str(lm_folder), "--json", "--target", "sat on", *FAST]
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    data = json.loads(out)
    assert data["forced"] and data["generated_text"] == "sat on"
    code, out, err = _run(capsys, "hello", "-m", str(lm_folder), "--json", "--chat", *FAST)
    assert code == 0, err
    data = json.loads(out)
    assert any(data["template"]) and "<|user|>" in data["prompt"]


def test_prompts_from_a_file_are_batched_like_one_at_a_time(capsys, lm_folder, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("the cat sat\n\nwhy is the sky blue\n", encoding="utf-8")
    argv = ["-f", str(prompts), "-m", str(lm_folder), "--json", "--max-new-tokens", "4", *FAST]
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    data = json.loads(out)
    assert [d["prompt"] for d in data] == ["the cat sat", "why is the sky blue"]
    for d in data:
        alone = integrad.explain_generation(
            str(lm_folder), d["prompt"], max_new_tokens=4, method="gausslegendre", n_steps=16
        )
        assert d["generated_ids"] == list(alone.generated_ids)
        torch.testing.assert_close(
            torch.tensor(d["scores"]), torch.tensor(alone.scores), atol=1e-5, rtol=1e-4
        )


def test_stdin_gives_several_prompts(capsys, lm_folder, monkeypatch):
    argv = ["-m", str(lm_folder), "--json", "--max-new-tokens", "2", *FAST]
    code, out, err = _run(capsys, *argv, stdin="the cat\nthe dog\n", monkeypatch=monkeypatch)
    assert code == 0, err
    assert [d["prompt"] for d in json.loads(out)] == ["the cat", "the dog"]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def test_html_and_png(capsys, lm_folder, tmp_path):
    page, image = tmp_path / "g.html", tmp_path / "g.png"
    argv = [
        "the cat <script>alert(1)</script>",
        "-m",
        str(lm_folder),
        "--html",
        str(page),
        "--png",
        str(image),
    ]
    code, _, err = _run(capsys, *argv, "--max-new-tokens", "3", *FAST)
    assert code == 0, err
    assert f"wrote {page}" in err and f"wrote {image}" in err
    html = page.read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(html)
    assert "script" not in parser.tags  # the prompt's <script> token is shown, not obeyed
    assert "&lt;script&gt;" in html and "integrad generate" in html
    with Image.open(image) as png:
        assert png.format == "PNG" and png.size[0] > 300


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["the cat", "--target", " "], "tokenizes to nothing"),
        (["the " * 30], "the model reads at most 24"),
    ],
)
def test_bad_input_after_the_tokenizer(capsys, lm_folder, argv, message):
    code, _, err = _run(capsys, *argv, "-m", str(lm_folder), *FAST)
    assert code == 1 and message in err


def test_a_classifier_is_refused(capsys, tiny_bert_folder):
    code, _, err = _run(capsys, "great food", "-m", str(tiny_bert_folder), *FAST)
    assert code == 1
    assert "not a causal language model" in err


def test_png_with_too_many_prompts_is_refused_before_loading(capsys, tmp_path, monkeypatch):
    argv = ["-m", "/no/such/model", "--png", str(tmp_path / "x.png")]
    code, _, err = _run(capsys, *argv, stdin="a\n" * 9, monkeypatch=monkeypatch)
    assert code == 1 and "--png draws at most 8 prompts" in err
