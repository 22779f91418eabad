"""Do the default model's explanations point at the sentiment word? Figures per baseline.

Each sentence of ``benchmarks/data/plausibility_{dev,heldout}.tsv`` (made by
``plausibility_data.py``) holds exactly one clear sentiment word among neutral words, e.g.
"The crew was friendly." Every sentence is explained through the public API,
``integrad.explain(model, texts, baseline=b, method="gausslegendre", n_steps=50)``, with the
predicted class as target and the target's logit as the score, once per baseline ``b`` in
pad, mask, unk, zero. Reported per baseline (all word-level; special tokens are left out):

- ``accuracy``: share of sentences whose predicted label is the sentence's label.
- ``top_word``: share of sentences where the sentiment word has the largest score in the
  direction of the predicted class: its score (toward the predicted class) is above zero and
  strictly above every other word's score. A sentence predicted wrongly scores here only if the
  sentiment word pushes hardest toward the wrong class.
- ``function_share``: the mean over sentences of (sum of |score| of the words in the stopword
  list) / (sum of |score| of all words). The list is scikit-learn's ``ENGLISH_STOP_WORDS`` (the
  318-word list of the Glasgow Information Retrieval Group), compared lowercased; punctuation
  counts in the denominator only. ``function_pooled`` is the same ratio over all sentences at
  once (the issue's "share of all absolute attribution").
- ``sentiment_share``: the mean share of |score| on the sentiment word.
- ``baseline_p``: the mean P(POSITIVE) the model gives the baseline inputs themselves (the
  sentences with every non-special token replaced, or its embedding zeroed); 0.5 is neutral.

The held-out set uses other templates and other sentiment words; evaluate it only at the end.

Run: ``python benchmarks/bench_plausibility.py [--set heldout] [--model-dir DIR] [--json OUT]``
(``--model-dir`` loads another trained model folder, e.g. an older default or a candidate).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from _common import machine
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

import integrad
from integrad.models.default import load_default_model, load_model_folder

DATA = Path(__file__).resolve().parent / "data"
BASELINES = ("pad", "mask", "unk", "zero")
METRICS = (
    "accuracy",
    "top_word",
    "function_share",
    "function_pooled",
    "sentiment_share",
    "baseline_p",
)


def read_set(part: str) -> list[tuple[str, str, str]]:
    """``(label, sentiment word, sentence)`` rows of ``data/plausibility_{part}.tsv``."""
    lines = (DATA / f"plausibility_{part}.tsv").read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines if line]


def baseline_probabilities(model, tokenizer, texts: list[str], baseline: str) -> torch.Tensor:
    """P(POSITIVE) at each text's baseline input, shape ``(len(texts),)``.

    The baseline keeps the special tokens and the attention mask, and replaces every other token
    by [PAD] / [MASK] / [UNK], or its word embedding by zeros (``zero``), as ``explain`` does.
    """
    enc = tokenizer(texts, return_tensors="pt", padding=True)
    ids, mask = enc["input_ids"], enc["attention_mask"]
    special = [
        tokenizer.get_special_tokens_mask(row, already_has_special_tokens=True)
        for row in ids.tolist()
    ]
    special = torch.tensor(special).bool()
    replace = ~special & (mask == 1)
    with torch.no_grad():
        if baseline == "zero":
            embeds = model.get_input_embeddings()(ids)
            embeds = embeds.masked_fill(replace.unsqueeze(-1), 0.0)
            logits = model(inputs_embeds=embeds, attention_mask=mask).logits
        else:
            token = getattr(tokenizer, f"{baseline}_token_id")
            base = torch.where(replace, torch.full_like(ids, token), ids)
            logits = model(input_ids=base, attention_mask=mask).logits
    return logits.softmax(-1)[:, 1]


def score(explanations, rows: list[tuple[str, str, str]]) -> dict[str, float]:
    """The word-level figures of the module docstring for one baseline."""
    correct = top = 0
    function_shares, sentiment_shares = [], []
    function_total = all_total = 0.0
    for e, (label, word, _) in zip(explanations, rows, strict=True):
        correct += e.predicted_label == label
        lowered = [w.lower() for w in e.words]
        if lowered.count(word) != 1:
            raise ValueError(f"{e.text!r}: expected the word {word!r} exactly once")
        at = lowered.index(word)
        scores = e.word_scores
        others = [s for i, s in enumerate(scores) if i != at]
        top += scores[at] > 0 and all(scores[at] > s for s in others)
        magnitude = sum(abs(s) for s in scores)
        function = sum(abs(s) for w, s in zip(lowered, scores, strict=True) if w in STOPWORDS)
        function_shares.append(function / magnitude)
        sentiment_shares.append(abs(scores[at]) / magnitude)
        function_total += function
        all_total += magnitude
    n = len(rows)
    return {
        "accuracy": correct / n,
        "top_word": top / n,
        "function_share": sum(function_shares) / n,
        "function_pooled": function_total / all_total,
        "sentiment_share": sum(sentiment_shares) / n,
    }


STOPWORDS = frozenset(ENGLISH_STOP_WORDS)


def evaluate(model, tokenizer, rows, baselines=BASELINES) -> dict[str, dict[str, float]]:
    """Figures per baseline for ``rows``, explained with 50-point Gauss-Legendre."""
    texts = [sentence for _, _, sentence in rows]
    results = {}
    for baseline in baselines:
        explanations = integrad.explain(
            model,
            texts,
            tokenizer=tokenizer,
            baseline=baseline,
            method="gausslegendre",
            n_steps=50,
        )
        results[baseline] = score(explanations, rows)
        p = baseline_probabilities(model, tokenizer, texts, baseline)
        results[baseline]["baseline_p"] = p.mean().item()
    return results


def table(results: dict[str, dict[str, float]]) -> str:
    """A Markdown table: one row per baseline."""
    lines = ["| baseline | " + " | ".join(METRICS) + " |", "|---" * (len(METRICS) + 1) + "|"]
    for baseline, figures in results.items():
        cells = " | ".join(f"{figures[m]:.3f}" for m in METRICS)
        lines.append(f"| {baseline} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    """Loads the model, explains the chosen set under every baseline, prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("dev", "heldout"), default="dev")
    parser.add_argument("--model-dir", type=Path, help="a model folder (default: the bundled one)")
    parser.add_argument("--baselines", nargs="+", default=list(BASELINES), choices=BASELINES)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    torch.set_num_threads(2)
    if args.model_dir is None:
        model, tokenizer = load_default_model()
    else:
        model, tokenizer = load_model_folder(args.model_dir)
    rows = read_set(args.set)
    started = time.perf_counter()
    results = evaluate(model, tokenizer, rows, args.baselines)
    print(f"{args.set}: {len(rows)} sentences, {machine()}, {time.perf_counter() - started:.0f}s")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
