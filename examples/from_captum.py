"""From a Captum snippet to integrad: two common wrong recipes, what integrad says, the fix.

Run:  python examples/from_captum.py      (offline; a few seconds)

Uses the bundled default sentiment model when it is installed (pip install
"integrad[default-model]"), else a tiny BERT with random weights built here (its scores mean
nothing; the calls are the point). Prints what each recipe gets and the word scores of the fix.
"""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

import torch
import transformers

import integrad
from integrad.compat.captum import IntegratedGradients, LayerIntegratedGradients

TEXT = "a wonderful film, though the ending drags"


def load() -> tuple[torch.nn.Module, object, str]:
    """The default model, or a tiny random BERT (and its tokenizer) built on the spot."""
    try:
        from integrad.models.default import load_default_model

        model, tokenizer = load_default_model()
        return model, tokenizer, "the bundled default sentiment model"
    except ImportError:
        folder = Path(tempfile.mkdtemp())
        words = TEXT.replace(",", " ,").split()
        (folder / "vocab.txt").write_text(
            "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words])
        )
        tokenizer = transformers.BertTokenizerFast.from_pretrained(folder)
        torch.manual_seed(0)
        config = transformers.BertConfig(
            vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1,
            num_attention_heads=2, intermediate_size=32, initializer_range=0.5,
            id2label={0: "NEGATIVE", 1: "POSITIVE"}, label2id={"NEGATIVE": 0, "POSITIVE": 1},
        )  # fmt: skip
        model = transformers.BertForSequenceClassification(config).eval()
        return (
            model,
            tokenizer,
            "a tiny random BERT (install integrad[default-model] for a real one)",
        )


def say(label: str, message: object) -> None:
    print(textwrap.fill(f"{label} {message}", width=100, subsequent_indent="    ",
                        break_long_words=False, break_on_hyphens=False))  # fmt: skip


def main() -> None:
    # Quiet: the default model is not one of transformers' pipeline classes (it works anyway).
    transformers.logging.set_verbosity(transformers.logging.CRITICAL)
    transformers.logging.disable_progress_bar()
    model, tokenizer, name = load()
    ids = tokenizer(TEXT, return_tensors="pt")["input_ids"]
    print(f"Explaining {TEXT!r} with {name}, class 1 (POSITIVE).\n")

    def forward(input_ids: torch.Tensor) -> torch.Tensor:
        return model(input_ids=input_ids).logits

    print("1. The blog recipe: plain IG on token ids, from an all-zero baseline")
    print(
        "   IntegratedGradients(forward).attribute(ids, baselines=torch.zeros_like(ids), target=1)"
    )
    try:
        IntegratedGradients(forward).attribute(ids, baselines=torch.zeros_like(ids), target=1)
    except integrad.IntegradError as err:
        say("   integrad:", err)

    print("\n2. Handing the pipeline itself to IG")
    print("   IntegratedGradients(pipeline('text-classification', model=model, tokenizer=tok))")
    pipe = transformers.pipeline("text-classification", model=model, tokenizer=tokenizer)
    try:
        IntegratedGradients(pipe)
    except integrad.IntegradError as err:
        say("   integrad:", err)

    print("\n3. The one-line change: the same call at the embedding layer the ids go through")
    print("   LayerIntegratedGradients(forward, model.get_input_embeddings()).attribute(ids, ...)")
    # The baseline keeps [CLS] and [SEP] and replaces every word piece by [PAD].
    special = torch.tensor(
        tokenizer.get_special_tokens_mask(ids[0].tolist(), already_has_special_tokens=True)
    )
    baseline = torch.where(special.bool(), ids, torch.full_like(ids, tokenizer.pad_token_id))
    lig = LayerIntegratedGradients(forward, model.get_input_embeddings())
    attributions, delta = lig.attribute(
        ids, baselines=baseline, target=1, return_convergence_delta=True
    )
    scores = attributions.sum(-1)[0]  # one score per token: summed over the embedding
    for token, score in zip(tokenizer.convert_ids_to_tokens(ids[0]), scores.tolist(), strict=True):
        bar = "+" * round(abs(score) * 40) if score > 0 else "-" * round(abs(score) * 40)
        print(f"   {token:>12} {score:+.4f} {bar[:50]}")
    with torch.no_grad():
        change = (forward(ids) - forward(baseline))[0, 1].item()
    print(f"   the scores add up to {scores.sum().item():+.4f}; the logit moved {change:+.4f} from "
          f"the baseline (delta {delta.item():+.1e})")  # fmt: skip

    print("\n4. Or let integrad pick the layer, the baseline and the words:")
    print("   integrad.explain(pipe, text)")
    explanation = integrad.explain(pipe, TEXT, target=1)
    words = ", ".join(
        f"{w} {s:+.3f}" for w, s in zip(explanation.words, explanation.word_scores, strict=True)
    )
    say("  ", words)
    say("   (its baseline is", f"{explanation.baseline!r}, not [PAD]: the numbers differ from 3's)")


if __name__ == "__main__":
    main()
