"""Generation runs: one output row per prompt, with the generated tokens and the matrix of
scores (one row per generated token, over the prompt's and earlier generated tokens), made
with :func:`integrad.explain_generation` on a model loaded once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integrad.runs.rows import Rows

#: :func:`integrad.explain_generation`'s arguments that are not integration settings.
GENERATION_ARGUMENTS = ("target", "max_new_tokens", "baseline", "include_generated",
                        "generation_options")  # fmt: skip


class GenerationRows(Rows):
    """Language models (causal or encoder-decoder), explained prompt by prompt in batches."""

    task = "generation"
    arguments = GENERATION_ARGUMENTS

    def _load(self, model: Any, tokenizer: Any, trust: bool, local: bool) -> Any:
        from integrad.modalities.generation import load_generation_model

        return load_generation_model(model, tokenizer, trust, local)

    def _call(self, texts: list[str], progress: Callable[[int, int], None]) -> Any:
        from integrad.modalities.generation import explain_generation

        results = explain_generation(self.model, texts, tokenizer=self.tokenizer, **self.options)
        progress(len(texts), len(texts))
        return results

    def _row(self, row_id: str, e: Any) -> dict[str, Any]:
        return {
            "id": row_id, "text": e.prompt, "status": "ok", "error": None,
            "generated": e.generated_text, "context_tokens": list(e.context_tokens),
            "generated_tokens": list(e.generated_tokens),
            "scores": [list(r) for r in e.scores], "output": list(e.output),
            "baseline_output": list(e.baseline_output), "delta": list(e.delta),
            "error_estimate": e.error_estimate, "n_evals": e.n_evals,
        }  # fmt: skip

    def schema(self) -> Any:
        from integrad.runs.shards import generation_schema

        return generation_schema()
