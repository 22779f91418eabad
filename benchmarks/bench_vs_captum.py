"""integrad against Captum's LayerIntegratedGradients: same model, inputs, rule and steps.

Both attribute the default sentiment model's predicted class to its word embeddings with
50-point Gauss-Legendre and the same [CLS] [PAD] ... [SEP] baseline, over the same batch of
real sentences, batched the same way. Prints the median seconds of each and the ratio.

Run: python benchmarks/bench_vs_captum.py
"""

from __future__ import annotations

import argparse

import torch
from _common import default_model, encode, heldout_sentences, interleaved, machine
from captum.attr import LayerIntegratedGradients

import integrad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=8)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    model, tokenizer = default_model()
    texts = heldout_sentences(args.texts)
    enc = encode(tokenizer, texts)
    ids, mask, base = enc["input_ids"], enc["attention_mask"], enc["baseline"]
    with torch.no_grad():
        target = model(input_ids=ids, attention_mask=mask).logits.argmax(-1)
    embeddings = model.get_input_embeddings()
    rows = args.steps * len(texts)

    def ours():
        return integrad.attribute(
            model,
            {"input_ids": ids},
            baseline={"input_ids": base},
            target=target,
            layer=embeddings,
            forward_kwargs={"attention_mask": mask},
            n_steps=args.steps,
            batch_size=rows,
        )

    lig = LayerIntegratedGradients(
        lambda i, m: model(input_ids=i, attention_mask=m).logits, embeddings
    )

    def theirs():
        return lig.attribute(
            ids,
            base,
            target=target,
            additional_forward_args=(mask,),
            n_steps=args.steps,
            internal_batch_size=rows,
            method="gausslegendre",
        )

    a, b = ours().attributions, theirs()
    diff = ((a - b).norm() / b.norm()).item()
    times = interleaved({"integrad": ours, "captum": theirs}, repeats=args.repeats)
    print(f"machine: {machine()}")
    print(f"{len(texts)} texts, {ids.shape[1]} tokens padded, gausslegendre n={args.steps}")
    print(f"attributions agree to {diff:.1e} (relative L2)")
    for name, seconds in times.items():
        print(f"{name:>9}: {seconds:.3f} s")
    print(f"ratio integrad / captum: {times['integrad'] / times['captum']:.3f}")


if __name__ == "__main__":
    main()
