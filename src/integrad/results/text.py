"""What :func:`integrad.explain` returns: per-token and per-word scores for one text."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from integrad.errors import InputError
from integrad.results.base import Explanation, Explanations

#: The baseline counts as far from neutral when it gives one class more than this: the
#: explanation then carries a note (``baseline_note``) that every view shows.
NEUTRAL_LIMIT = 0.8


@dataclass(frozen=True, eq=False, kw_only=True)
class TextExplanation(Explanation):
    """Integrated Gradients of a text classifier's score, per token and per word.

    Scores are attributions at the input embeddings, summed over the hidden dimension: one
    number per token, positive where the token pushes the attributed score up (toward the
    target class), negative where it pushes it down. Word scores sum the scores of a word's
    subword tokens; word scores plus special-token scores add up to :attr:`total`, which
    equals ``output - baseline_output`` up to :attr:`delta`. The fields every explanation
    shares (``output``, ``baseline_output``, ``delta``, ``n_evals``, ``error_estimate``,
    ``baseline``, ``model_name``, ``options``) are described in
    :class:`~integrad.results.base.Explanation`.

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
        baseline_probabilities: Softmax probability of each class at the baseline: how the
            model reads "no information" (ideally close to uniform).
        baseline_note: When the baseline reads as one class (above 0.8), what that means
            and the most neutral baseline to try instead; otherwise None.
        predicted: Index of the predicted class.
        target: Index of the class whose score was attributed.
        truncated: True when the text was longer than the model's maximum length and its
            end was cut off (those tokens are not explained).
        token_std: With ``noise``, the standard deviation of each token's score across the
            noisy samples; otherwise None.
        word_std: The same for each word's score.

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
    baseline_probabilities: tuple[float, ...] | None = None
    baseline_note: str | None = None
    predicted: int
    target: int
    truncated: bool = False
    token_std: tuple[float, ...] | None = None
    word_std: tuple[float, ...] | None = None

    VIEWS: ClassVar[dict[str, str]] = {
        "html": "integrad.render.text_html:explanation_html",
        "chart": "integrad.render.plot:plot_word_scores",
        "terminal": "integrad.render.terminal:explanation_renderable",
    }

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

    def pieces(self) -> Iterator[tuple[str, str, float]]:
        """The text in reading order as ``(kind, text, score)``: ``"special"`` tokens at their
        places, the ``"gap"`` between words (spaces, with score 0), each ``"word"`` once, and
        last the ``"rest"`` after the final word (the cut-off end of a truncated text)."""
        cursor = 0  # end of the text already given out
        seen: set[int] = set()
        for t, token in enumerate(self.tokens):
            if self.special_tokens[t]:
                yield "special", token, self.token_scores[t]
                continue
            w = self.token_words[t]
            if w is None or w in seen:
                continue
            seen.add(w)
            start, end = self.word_spans[w]
            if start > cursor:
                yield "gap", self.text[cursor:start], 0.0
            yield "word", self.words[w], self.word_scores[w]
            cursor = max(cursor, end)
        if self.text[cursor:]:
            yield "rest", self.text[cursor:], 0.0

    def top_word(self, sign: int = 1) -> str:
        """The word with the largest score (``sign=1``) or the most negative (``sign=-1``)."""
        if not self.words:
            raise InputError("this explanation has no words (the text was only special tokens)")
        best = max(range(len(self.words)), key=lambda i: sign * self.word_scores[i])
        return self.words[best]

    @property
    def baseline_label(self) -> str | None:
        """The class the baseline is predicted as, or None when it was not recorded."""
        if self.baseline_probabilities is None:
            return None
        best = max(range(len(self.labels)), key=self.baseline_probabilities.__getitem__)
        return self.labels[best]

    @property
    def baseline_neutral(self) -> bool:
        """Whether the baseline reads as "no information": no class above 0.8."""
        return self.baseline_probabilities is None or max(self.baseline_probabilities) <= (
            NEUTRAL_LIMIT
        )

    def _derived(self) -> dict[str, Any]:
        return {
            "predicted_label": self.predicted_label,
            "target_label": self.target_label,
            "baseline_label": self.baseline_label,
            "baseline_neutral": self.baseline_neutral,
        }


@dataclass(frozen=True, eq=False)
class TextExplanations(Explanations):
    """The explanations of several texts, in the order the texts were given.

    Behaves as a read-only sequence of :class:`TextExplanation`.

    Example:
        >>> many = integrad.explain(None, ["Great!", "Awful."])  # doctest: +SKIP
        >>> [e.predicted_label for e in many]  # doctest: +SKIP
        ['POSITIVE', 'NEGATIVE']
    """

    items: tuple[TextExplanation, ...]
    item_type: ClassVar[type] = TextExplanation
    # One bar chart per text, stacked (at most integrad.render.plot.MAX_PLOTS; the
    # command line's --png pages more).
    VIEWS: ClassVar[dict[str, str]] = {"chart": "integrad.render.plot:plot_many"}
