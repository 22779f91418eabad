"""What :func:`integrad.explain_generation` returns: each generated token traced to its context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from integrad.errors import InputError
from integrad.results.base import Explanation, Explanations


@dataclass(frozen=True, eq=False, kw_only=True)
class GenerationExplanation(Explanation):
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
        special: True for columns kept at their value in the baseline, so their score is 0:
            special tokens and, with ``keep_first`` (the default for causal models), the first
            token.
        template: True for tokens a chat template added around the messages.
        generated_tokens: The rows: the generated tokens.
        generated_ids: Their ids.
        scores: The (n_generated, n_context) matrix, as a tuple of rows.
        std: With ``noise``, each cell's standard deviation across the noisy samples, in the
            shape of ``scores``; otherwise None.
        stability: With ``noise``, per generated token, how alike the noisy samples rank its
            context tokens: the mean Spearman correlation between each sample's row and the
            averaged row, over the visible non-special columns (1: every sample orders them
            alike; near 0: the order is noise; None: fewer than two such columns); otherwise
            None.
        n_visible: How many leading columns each generated token could see.
        baseline_ids: The baseline's token per column, -1 for a zero vector (causal models
            with a token or zero baseline), from which :meth:`plot_path` rebuilds the path;
            otherwise None.
        output: Each generated token's score at the input, F_j(x) (one per generated token:
            the shared fields of :class:`~integrad.results.base.Explanation` hold one value
            per generated token here).
        baseline_output: Its score at the baseline, F_j(x').
        delta: Completeness error per generated token: row sum - (output - baseline_output).
        forced: True when the continuation was given (``target=``), not generated.
        encoder_decoder: True for encoder-decoder models (T5, BART).
        n_evals: Gradient evaluations spent on this prompt (shared by all its tokens).

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
    std: tuple[tuple[float, ...], ...] | None = None
    stability: tuple[float | None, ...] | None = None
    n_visible: tuple[int, ...]
    baseline_ids: tuple[int, ...] | None = None
    output: tuple[float, ...]  # type: ignore[assignment]
    baseline_output: tuple[float, ...]  # type: ignore[assignment]
    delta: tuple[float, ...]  # type: ignore[assignment]
    forced: bool = False
    encoder_decoder: bool = False

    # to_html(hide_template=False, normalize="row"): a heatmap, generated tokens down and
    # context tokens across ("row" scales each row's colors to its largest cell, "all" uses
    # one scale); plot(hide_template=False): the same as a matplotlib heatmap.
    VIEWS: ClassVar[dict[str, str]] = {
        "html": "integrad.render.generation:generation_html",
        "chart": "integrad.render.generation:plot_generation",
        "terminal": "integrad.render.generation:generation_renderable",
    }

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

    def path(self, model: Any, row: int = 0, n_points: int = 41) -> tuple[np.ndarray, np.ndarray]:
        """Generated token ``row``'s score at ``n_points`` evenly spaced points of the path
        from the baseline to the input (forward passes only): ``(alphas, values)``. See
        :func:`integrad.modalities.generation_path.path_values`."""
        from integrad.modalities.generation_path import path_values

        return path_values(model, self, row, n_points)

    def plot_path(self, model: Any, row: int = 0, n_points: int = 41) -> Any:
        """A figure of :meth:`path`: a smooth curve means the integral can be trusted, jumps
        mean it needs many more points (or a better-behaved path).

        Example:
            >>> e.plot_path(model, row=0).savefig("path.png")  # doctest: +SKIP
        """
        from integrad.modalities.generation_path import plot_path

        return plot_path(model, self, row, n_points)

    def _derived(self) -> dict[str, Any]:
        return {
            "prompt_tokens": list(self.prompt_tokens),
            "sequence_scores": list(self.sequence_scores),
            "sequence_output": self.sequence_output,
            "sequence_baseline_output": self.sequence_baseline_output,
            "sequence_delta": self.sequence_delta,
        }

    def to_html(self, hide_template: bool = False, normalize: str = "row") -> str:
        """A heatmap: generated tokens down, context tokens across, green up and red down.

        Args:
            hide_template: Leave out the columns of tokens a chat template added.
            normalize: ``"row"`` scales each row's colors to its largest cell; ``"all"``
                uses one scale for the whole matrix.
        """
        from integrad.render.generation import generation_html

        return generation_html(self, hide_template=hide_template, normalize=normalize)


@dataclass(frozen=True, eq=False)
class GenerationExplanations(Explanations):
    """The explanations of several prompts, in the order the prompts were given.

    Behaves as a read-only sequence of :class:`GenerationExplanation`.

    Example:
        >>> many = integrad.explain_generation(lm, ["Hi", "Bye"], tokenizer=tok)  # doctest: +SKIP
        >>> [e.generated_text for e in many]  # doctest: +SKIP
    """

    items: tuple[GenerationExplanation, ...]
    item_type: ClassVar[type] = GenerationExplanation
    # One heatmap per prompt, stacked (plot(hide_template=True) leaves out a chat
    # template's tokens).
    VIEWS: ClassVar[dict[str, str]] = {"chart": "integrad.render.generation:plot_generations"}
