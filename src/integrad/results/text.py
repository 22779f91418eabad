"""What :func:`integrad.explain` returns: per-token and per-word scores for one text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from integrad.errors import InputError
from integrad.results.base import ExplanationList, ResultMixin

# Fields that hold tuples of pairs and must be rebuilt as such from JSON lists.
_PAIR_FIELDS = ("word_spans",)


@dataclass(frozen=True)
class TextExplanation(ResultMixin):
    """Integrated Gradients of a text classifier's score, per token and per word.

    Scores are attributions at the input embeddings, summed over the hidden dimension: one
    number per token, positive where the token pushes the attributed score up (toward the
    target class), negative where it pushes it down. Word scores sum the scores of a word's
    subword tokens; word scores plus special-token scores add up to :attr:`total`, which
    equals ``output - baseline_output`` up to :attr:`delta`.

    Attributes:
        text: The text as given.
        tokens: Every token the model saw, special tokens included (padding excluded).
        token_ids: Their ids.
        token_scores: Score per token.
        special_tokens: True for special tokens ([CLS], [SEP], <s>, ...), shown but not words.
        token_words: Index into ``words`` of each token, None for special tokens.
        words: The words of ``text`` as the tokenizer split them (exact substrings).
        word_scores: Score per word, the sum of its tokens' scores.
        word_spans: (start, end) character offsets of each word in ``text``.
        labels: Class names, in the model's output order.
        probabilities: Softmax probability of each class at the input.
        predicted: Index of the predicted class.
        target: Index of the class whose score was attributed.
        score: What was attributed: ``"logit"`` or ``"probability"`` of the target.
        output: The attributed score at the input, F(x).
        baseline_output: The attributed score at the baseline, F(x').
        delta: Completeness error, ``total - (output - baseline_output)``.
        method: The integration rule.
        n_steps: Points on the path (None for adaptive integration).
        n_evals: Gradient evaluations spent on this text.
        baseline: The baseline, in words (``"pad"``, ``"zero"``, ``"text: ..."``, ...).
        model_name: The model's name or path.
        truncated: True when the text was longer than the model's maximum length and its
            end was cut off (those tokens are not explained).
        error_estimate: Estimated relative error of the scores (adaptive integration), or None.
        token_std: With ``noise=``, the standard deviation of each token's score across the
            noisy samples; otherwise None.
        word_std: The same for each word's score.
        options: Further settings passed through to :func:`integrad.attribute`.

    Example:
        >>> e = integrad.explain(None, "This movie was fantastic!")  # doctest: +SKIP
        >>> e.predicted_label, e.top_word()  # doctest: +SKIP
        ('POSITIVE', 'fantastic')
    """

    text: str
    tokens: tuple[str, ...]
    token_ids: tuple[int, ...]
    token_scores: tuple[float, ...]
    special_tokens: tuple[bool, ...]
    token_words: tuple[int | None, ...]
    words: tuple[str, ...]
    word_scores: tuple[float, ...]
    word_spans: tuple[tuple[int, int], ...]
    labels: tuple[str, ...]
    probabilities: tuple[float, ...]
    predicted: int
    target: int
    score: str
    output: float
    baseline_output: float
    delta: float
    method: str
    n_steps: int | None
    n_evals: int
    baseline: str
    model_name: str
    truncated: bool = False
    error_estimate: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    token_std: tuple[float, ...] | None = None
    word_std: tuple[float, ...] | None = None

    @property
    def predicted_label(self) -> str:
        """Name of the predicted class."""
        return self.labels[self.predicted]

    @property
    def target_label(self) -> str:
        """Name of the class whose score was attributed."""
        return self.labels[self.target]

    @property
    def total(self) -> float:
        """Sum of all token scores (words and special tokens)."""
        return float(sum(self.token_scores))

    @property
    def special_score(self) -> float:
        """Sum of the special tokens' scores: the part of the total no word carries."""
        return float(
            sum(s for s, sp in zip(self.token_scores, self.special_tokens, strict=True) if sp)
        )

    def top_word(self, sign: int = 1) -> str:
        """The word with the largest score (``sign=1``) or the most negative (``sign=-1``)."""
        if not self.words:
            raise InputError("this explanation has no words (the text was only special tokens)")
        best = max(range(len(self.words)), key=lambda i: sign * self.word_scores[i])
        return self.words[best]

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain data, plus ``predicted_label`` and ``target_label``."""
        data = super().to_dict()
        data["predicted_label"] = self.predicted_label
        data["target_label"] = self.target_label
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TextExplanation:
        """Rebuilds an explanation from :meth:`to_dict` output (e.g. parsed JSON)."""
        return cls._rebuild(
            data, {"truncated", "error_estimate", "options", "token_std", "word_std"}, _PAIR_FIELDS
        )

    def to_html(self) -> str:
        """Words highlighted green toward the target, red against it, with the labels."""
        from integrad.render.text_html import explanation_html

        return explanation_html(self)

    def plot(self, ax: Any = None) -> Any:
        """A bar chart of the word scores; returns the matplotlib Figure."""
        from integrad.render.plot import plot_word_scores

        return plot_word_scores(self, ax=ax)

    def __rich__(self) -> Any:
        # rich.print(explanation) shows the colored words.
        from integrad.render.terminal import explanation_renderable

        return explanation_renderable(self)


@dataclass(frozen=True)
class TextExplanations(ExplanationList):
    """The explanations of several texts, in the order the texts were given.

    Behaves as a read-only sequence of :class:`TextExplanation`.

    Example:
        >>> many = integrad.explain(None, ["Great!", "Awful."])  # doctest: +SKIP
        >>> [e.predicted_label for e in many]  # doctest: +SKIP
        ['POSITIVE', 'NEGATIVE']
    """

    items: tuple[TextExplanation, ...]
    item_type: ClassVar[type] = TextExplanation

    def to_html(self) -> str:
        """Every explanation's HTML, one after the other."""
        from integrad.render.text_html import explanations_html

        return explanations_html(self.items)

    def plot(self, ax: Any = None) -> Any:
        """One bar chart per text, stacked; returns the matplotlib Figure."""
        from integrad.render.plot import plot_many

        self._check_no_ax(ax, "chart")
        return plot_many(self.items)

    def __rich__(self) -> Any:
        from integrad.render.terminal import explanations_renderable

        return explanations_renderable(self.items)
