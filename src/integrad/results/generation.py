"""What :func:`integrad.explain_generation` returns: each generated token traced to its context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from integrad.errors import InputError
from integrad.results.base import ExplanationList, ResultMixin

# Fields that hold a matrix (tuple of tuples) and must be rebuilt as such from JSON lists.
_MATRIX_FIELDS = ("scores",)
_OPTIONAL = {"error_estimate", "options"}


@dataclass(frozen=True)
class GenerationExplanation(ResultMixin):
    """Integrated Gradients of every generated token's score, over the tokens before it.

    Row ``j`` of :attr:`scores` explains generated token ``j``: one number per context token
    (the prompt, then what came before token ``j`` on the output side), the attribution at
    the input embeddings summed over the hidden dimension. Positive cells pushed the token's
    score up. Only the first ``n_visible[j]`` columns are token ``j``'s context; the cells
    after them are 0 (the model cannot see them). Each row adds up to
    ``output[j] - baseline_output[j]`` up to ``delta[j]``.

    Attributes:
        prompt: The prompt as the model read it (a conversation's rendered chat template).
        generated_text: The generated (or forced) continuation, decoded.
        context_tokens: The columns: the prompt's tokens (the encoder input for encoder-decoder
            models), then the output side (the decoder start token, for encoder-decoder
            models, and every generated token but the last).
        context_ids: Their ids.
        n_prompt: How many leading columns are prompt tokens.
        special: True for special tokens (kept in the baseline, so their score is 0).
        template: True for tokens a chat template added around the messages.
        generated_tokens: The rows: the generated tokens.
        generated_ids: Their ids.
        scores: The (n_generated, n_context) matrix, as a tuple of rows.
        n_visible: How many leading columns each generated token could see.
        output: Each generated token's score at the input, F_j(x).
        baseline_output: Its score at the baseline, F_j(x').
        delta: Completeness error per generated token: row sum - (output - baseline_output).
        score: ``"log_prob"``, ``"probability"`` or ``"logit"`` of each generated token.
        forced: True when the continuation was given (``target=``), not generated.
        encoder_decoder: True for encoder-decoder models (T5, BART).
        method: The integration rule.
        n_steps: Points on the path (None for adaptive integration).
        n_evals: Gradient evaluations spent on this prompt (shared by all its tokens).
        baseline: The baseline, in words.
        model_name: The model's name or path.
        error_estimate: Estimated relative error of the attributions (adaptive), or None.
        options: Further settings passed through to :func:`integrad.attribute`.

    Example:
        >>> e = integrad.explain_generation("gpt2", None, "Paris is in")  # doctest: +SKIP
        >>> e.generated_text, e.top_context(0)  # doctest: +SKIP
        (' France', 'Paris')
    """

    prompt: str
    generated_text: str
    context_tokens: tuple[str, ...]
    context_ids: tuple[int, ...]
    n_prompt: int
    special: tuple[bool, ...]
    template: tuple[bool, ...]
    generated_tokens: tuple[str, ...]
    generated_ids: tuple[int, ...]
    scores: tuple[tuple[float, ...], ...]
    n_visible: tuple[int, ...]
    output: tuple[float, ...]
    baseline_output: tuple[float, ...]
    delta: tuple[float, ...]
    score: str
    forced: bool
    encoder_decoder: bool
    method: str
    n_steps: int | None
    n_evals: int
    baseline: str
    model_name: str
    error_estimate: float | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def prompt_tokens(self) -> tuple[str, ...]:
        """The prompt's tokens (the first :attr:`n_prompt` columns)."""
        return self.context_tokens[: self.n_prompt]

    @property
    def matrix(self) -> np.ndarray:
        """:attr:`scores` as a float64 array, (n_generated, n_context)."""
        return np.array(self.scores, dtype=np.float64).reshape(
            len(self.generated_tokens), len(self.context_tokens)
        )

    @property
    def totals(self) -> tuple[float, ...]:
        """Each row's sum: the change in each token's score the context explains."""
        return tuple(float(s) for s in self.matrix.sum(1))

    @property
    def sequence_scores(self) -> tuple[float, ...]:
        """Per context token, the sum over generated tokens: its share of the whole output.

        With ``score="log_prob"`` this attributes the log-probability of the whole
        continuation (the sum of its tokens' log-probabilities).
        """
        return tuple(float(s) for s in self.matrix.sum(0))

    @property
    def sequence_output(self) -> float:
        """Sum of the generated tokens' scores (the continuation's log-probability)."""
        return float(sum(self.output))

    @property
    def sequence_baseline_output(self) -> float:
        """Sum of the generated tokens' scores at the baseline."""
        return float(sum(self.baseline_output))

    @property
    def sequence_delta(self) -> float:
        """Completeness error of :attr:`sequence_scores`: the sum of the rows' deltas."""
        return float(sum(self.delta))

    def top_context(self, row: int, sign: int = 1) -> str:
        """The context token with the largest score for generated token ``row`` (most
        negative with ``sign=-1``), among the tokens it could see that are not special."""
        if not 0 <= row < len(self.generated_tokens):
            raise InputError(
                f"row {row} is out of range: {len(self.generated_tokens)} tokens were generated"
            )
        seen = [c for c in range(self.n_visible[row]) if not self.special[c]]
        if not seen:
            raise InputError(f"generated token {row} saw special tokens only")
        best = max(seen, key=lambda c: sign * self.scores[row][c])
        return self.context_tokens[best]

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain data, plus the sequence-level scores and the prompt tokens."""
        data = super().to_dict()
        data["prompt_tokens"] = list(self.prompt_tokens)
        data["sequence_scores"] = list(self.sequence_scores)
        data["sequence_output"] = self.sequence_output
        data["sequence_baseline_output"] = self.sequence_baseline_output
        data["sequence_delta"] = self.sequence_delta
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationExplanation:
        """Rebuilds an explanation from :meth:`to_dict` output (e.g. parsed JSON)."""
        return cls._rebuild(data, _OPTIONAL, _MATRIX_FIELDS)

    def to_html(self, hide_template: bool = False, normalize: str = "row") -> str:
        """A heatmap: generated tokens down, context tokens across, green up and red down.

        Args:
            hide_template: Leave out the columns of tokens a chat template added.
            normalize: ``"row"`` scales each row's colors to its largest cell; ``"all"``
                uses one scale for the whole matrix.
        """
        from integrad.render.generation import generation_html

        return generation_html(self, hide_template=hide_template, normalize=normalize)

    def plot(self, ax: Any = None, hide_template: bool = False) -> Any:
        """A matplotlib heatmap of :attr:`scores`; returns the Figure."""
        from integrad.render.generation import plot_generation

        return plot_generation(self, ax=ax, hide_template=hide_template)

    def __rich__(self) -> Any:
        # rich.print(explanation) shows the colored context and each token's top sources.
        from integrad.render.generation import generation_renderable

        return generation_renderable(self)


@dataclass(frozen=True)
class GenerationExplanations(ExplanationList):
    """The explanations of several prompts, in the order the prompts were given.

    Behaves as a read-only sequence of :class:`GenerationExplanation`.

    Example:
        >>> many = integrad.explain_generation(model, tok, ["Hi", "Bye"])  # doctest: +SKIP
        >>> [e.generated_text for e in many]  # doctest: +SKIP
    """

    items: tuple[GenerationExplanation, ...]
    item_type: ClassVar[type] = GenerationExplanation

    def to_html(self, hide_template: bool = False, normalize: str = "row") -> str:
        """Every explanation's heatmap, one after the other."""
        return "".join(
            item.to_html(hide_template=hide_template, normalize=normalize) for item in self.items
        )

    def plot(self, ax: Any = None, hide_template: bool = False) -> Any:
        """One heatmap per prompt, stacked; returns the matplotlib Figure."""
        from integrad.render.generation import plot_generations

        self._check_no_ax(ax, "heatmap")
        return plot_generations(self.items, hide_template=hide_template)

    def __rich__(self) -> Any:
        from rich.console import Group

        from integrad.render.generation import generation_renderable

        return Group(*(generation_renderable(item) for item in self.items))
