"""Explain a small CNN trained on scikit-learn's 8x8 digits: which pixels made it say "3"?

Run:  python examples/digits_cnn.py [OUT_DIR]   (default ./out; 10-40 s on 2 cores with training)

Writes digits_black.png (IG from a black image), digits_blur_ig.png (Blur IG: no baseline),
digits_baselines.png (averaged over black, blur and two noise baselines, with their spread),
digits_smoothgrad.png (noise-averaged IG with its std) and digits.html.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from _train import accuracy, train_digits

import integrad

NAMES = [str(d) for d in range(10)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="out", help="folder for the pictures")
    out = Path(parser.parse_args(argv).out)
    out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    model, images, labels = train_digits()
    with torch.no_grad():
        print(
            f"trained in {time.perf_counter() - start:.1f}s; "
            f"held-out accuracy {accuracy(model(images), labels):.3f}"
        )
    # The first held-out image of a few digits: (4, 1, 8, 8) floats in [0, 1].
    picks = [int((labels == d).nonzero()[0]) for d in (0, 3, 5, 8)]
    batch = images[picks]

    runs = {
        "digits_black.png": integrad.explain_image(model, batch, labels=NAMES, baseline="black"),
        "digits_blur_ig.png": integrad.explain_image(model, batch, labels=NAMES, path="blur"),
        "digits_baselines.png": integrad.explain_image(
            model, batch, labels=NAMES, baseline=["black", "blur", "uniform", "uniform"]
        ),
        "digits_smoothgrad.png": integrad.explain_image(
            model, batch, labels=NAMES, noise=integrad.Noise(n_samples=16, level=0.15, seed=0)
        ),
    }
    for name, explanation in runs.items():
        explanation.save_png(out / name)
        worst = float(explanation.delta.abs().max())
        print(f"{name}: baseline {explanation.baseline!r}, largest |delta| {worst:.1e}")
    runs["digits_black.png"].save_html(out / "digits.html", title="integrad: digits")
    print(f"wrote {len(runs)} PNGs and digits.html to {out}/")


if __name__ == "__main__":
    main()
