"""Explain an MLP trained on scikit-learn's breast-cancer table, one score per named column.

Run:  python examples/breast_cancer_mlp.py [OUT_DIR]     (default ./out; a few seconds)

Writes breast_cancer_row.png (one patient's features, pushing toward or against the
predicted diagnosis), breast_cancer_summary.png (mean |attribution| per feature over the
held-out rows), breast_cancer_background.png (expected-gradients style: averaged over 32
training rows as baselines, with their spread as error bars) and breast_cancer.html.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from _train import accuracy, train_breast_cancer

import integrad


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="out", help="folder for the pictures")
    out = Path(parser.parse_args(argv).out)
    out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    table = train_breast_cancer()
    with torch.no_grad():
        logits = table.model(table.transform(table.test))
    truth = torch.tensor(table.test_labels.to_numpy())
    print(
        f"trained in {time.perf_counter() - start:.1f}s; "
        f"held-out accuracy {accuracy(logits, truth):.3f}"
    )

    # Every held-out row, against the training mean (the DataFrame index is kept).
    explanation = integrad.explain_tabular(
        table.model,
        table.test,
        transform=table.transform,
        background=table.train,
        labels=table.labels,
    )
    print(f"{len(table.test)} rows explained; largest |delta| {explanation.delta.abs().max():.1e}")
    print("most important features overall:")
    print(explanation.summary().head(5).to_string())
    explanation.plot(0).savefig(out / "breast_cancer_row.png", dpi=120)
    explanation.plot_summary().savefig(out / "breast_cancer_summary.png", dpi=120)
    explanation.save_html(out / "breast_cancer.html", title="integrad: breast cancer")

    # The same first row against 32 training rows, averaged (expected gradients).
    background = table.train.sample(32, random_state=0)
    averaged = integrad.explain_tabular(
        table.model,
        table.test.iloc[:1],
        transform=table.transform,
        baseline=background,
        labels=table.labels,
    )
    averaged.plot(0).savefig(out / "breast_cancer_background.png", dpi=120)
    print(f"expected-gradients run: {averaged.baseline}, delta {float(averaged.delta[0]):.1e}")
    print(f"wrote 3 PNGs and breast_cancer.html to {out}/")


if __name__ == "__main__":
    main()
