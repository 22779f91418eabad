"""Explain a model fed text, numbers and categories together: synthetic product reviews.

Run:  python examples/multimodal_reviews.py [OUT_DIR]     (default ./out; a few seconds)

The model reads a review's words (through an embedding), its price and delivery time, and
its product category and shipping option (through a category embedding), and predicts
whether the customer was happy. One IG pass attributes every input: words and categories
at their embeddings, numbers directly; completeness holds across all of them together.
Writes reviews_example.png (one review's modality shares and features) and reviews.html.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from _train import CATEGORIES, NUMBERS, accuracy, train_reviews

import integrad


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="out", help="folder for the pictures")
    out = Path(parser.parse_args(argv).out)
    out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    model, tokenizer, reviews = train_reviews()
    encoded = tokenizer(reviews.texts)
    inputs = {**encoded, "numbers": reviews.numbers.float(), "categories": reviews.categories}
    with torch.no_grad():
        logits = model(**inputs)
    print(
        f"trained in {time.perf_counter() - start:.1f}s; "
        f"held-out accuracy {accuracy(logits, reviews.labels):.3f}"
    )

    n = 4
    first = {key: value[:n] for key, value in inputs.items()}
    category_names = [
        [CATEGORIES[column][int(v)] for column, v in zip(CATEGORIES, row, strict=True)]
        for row in reviews.categories[:n]
    ]
    explanation = integrad.explain_multimodal(
        model,
        first,  # the attention mask is held fixed, not attributed
        layer={"input_ids": model.text_embedding, "categories": model.category_embedding},
        # No words (padding embeds to zero), the average price and delivery time, and zero
        # category embeddings: "a review that tells nothing".
        baselines={
            "input_ids": torch.zeros_like(first["input_ids"]),
            "numbers": model.numbers_mean,
        },
        modalities={"input_ids": "text", "numbers": "numbers", "categories": "categories"},
        names={"numbers": NUMBERS, "categories": list(CATEGORIES)},
        values={"categories": category_names},
        tokenizer=tokenizer,
        target=1,
        labels=["unhappy", "happy"],
    )
    for i in range(n):
        shares = ", ".join(
            f"{m} {float(t[i]):+.2f}" for m, t in explanation.modality_totals.items()
        )
        moved = float(explanation.output[i] - explanation.baseline_output[i])
        print(
            f"{reviews.texts[i]!r}: F(x) - F(x') = {moved:+.2f} = {shares} "
            f"(delta {float(explanation.delta[i]):.1e})"
        )
    explanation.plot(1).savefig(out / "reviews_example.png", dpi=120)
    explanation.save_html(out / "reviews.html", title="integrad: multimodal reviews")
    print(f"wrote reviews_example.png and reviews.html to {out}/")


if __name__ == "__main__":
    main()
