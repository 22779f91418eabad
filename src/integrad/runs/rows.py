"""Rows in, output table out: the part of a run that touches the model.

:class:`TextRows` loads the model once and explains batches of rows with
:func:`integrad.explain` (which sorts them into length buckets and resolves the options the
same way as any single call). A row that cannot be explained (missing or empty text,
undecodable bytes, a model error on that text) becomes a row with ``status="error"`` and the
message; no row is ever dropped. Both engines use this class: the local engine in-process,
the ray engine once per actor.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

from integrad.errors import InputError, empty_text_message
from integrad.options import Options

#: Keyword arguments of :func:`integrad.explain` that are not integration settings.
TEXT_ARGUMENTS = ("target", "baseline", "max_length")
#: Arguments used to load the model (kept out of the per-call options).
LOAD_ARGUMENTS = ("tokenizer", "trust_remote_code", "local_files_only")


def check_options(options: dict[str, Any], arguments: Sequence[str], function: str) -> None:
    """Refuse unknown or contradictory settings before any model is loaded."""
    settings = {k: v for k, v in options.items() if k not in (*arguments, *LOAD_ARGUMENTS)}
    Options.from_settings(settings, function=function)


def as_text(value: Any) -> tuple[str, str | None]:
    """A row's value as (text, None), or (what can be shown of it, why it cannot be explained)."""
    if value is None:
        return "", "the text is missing (null)"
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError as err:
            shown = bytes(value).decode("utf-8", errors="replace")
            return shown, f"undecodable bytes (not UTF-8): {err}"
    if not isinstance(value, str):
        return str(value), f"the text is a {type(value).__name__}, not a string"
    if not value.strip():
        return value, empty_text_message("the text", value)
    return value, None


def failure_message(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}" if not isinstance(err, InputError) else str(err)


class Rows:
    """A model, loaded once, that turns batches of rows into output tables; subclasses say
    how to load it, which explain function to call, and how a result becomes a row."""

    task = ""
    #: The explain function's keyword arguments that are not integration settings.
    arguments: tuple[str, ...] = ()

    def __init__(self, model: Any, **options: Any) -> None:
        check_options(options, self.arguments, "explain_dataset()")
        loaded = self._load(
            model,
            options.get("tokenizer"),
            bool(options.get("trust_remote_code")),
            bool(options.get("local_files_only")),
        )
        self.model, self.tokenizer, self.name = loaded.model, loaded.tokenizer, loaded.name
        self.options = {k: v for k, v in options.items() if k not in LOAD_ARGUMENTS}
        self.resolved: dict[str, Any] | None = None  # the settings the explain function used

    def _load(self, model: Any, tokenizer: Any, trust: bool, local: bool) -> Any:
        raise NotImplementedError

    def _call(self, texts: list[str], progress: Callable[[int, int], None]) -> Any:
        """The explain function on ``texts``; returns one result per text."""
        raise NotImplementedError

    def _row(self, row_id: str, result: Any) -> dict[str, Any]:
        raise NotImplementedError

    def schema(self) -> Any:
        raise NotImplementedError

    def explain(
        self, ids: list[str], values: list[Any], progress: Callable[[int], None] | None = None
    ) -> Any:
        """The output table for one batch of rows (same order, same length)."""
        import pyarrow as pa

        shown, errors = zip(*(as_text(v) for v in values), strict=True) if values else ((), ())
        good = [i for i, e in enumerate(errors) if e is None]
        if progress is not None and len(good) < len(values):
            progress(len(values) - len(good))
        explained = self._explain_texts([shown[i] for i in good], progress)
        rows = [_failed(i, t, e or "") for i, t, e in zip(ids, shown, errors, strict=True)]
        for i, result in zip(good, explained, strict=True):
            if isinstance(result, BaseException):
                rows[i] = _failed(ids[i], shown[i], failure_message(result))
            else:
                rows[i] = self._row(ids[i], result)
        return pa.Table.from_pylist(rows, schema=self.schema())

    def _explain_texts(self, texts: list[str], progress: Callable[[int], None] | None) -> list[Any]:
        """Results (or the exception a text raised), one per text, in order."""
        if not texts:
            return []
        done = [0]

        def advance(n: int, _total: int) -> None:
            if progress is not None:
                progress(n - done[0])
            done[0] = n

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # truncation is a column; no per-row warnings
                results = list(self._call(texts, advance))
        except Exception:  # one bad text fails the call: find it, one text at a time
            results = [self._explain_one(t) for t in texts]
        if progress is not None and done[0] < len(texts):
            progress(len(texts) - done[0])
        if self.resolved is None:
            first = next((r for r in results if not isinstance(r, BaseException)), None)
            self.resolved = None if first is None else first.options.to_dict()
        return results

    def _explain_one(self, text: str) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return self._call([text], lambda n, total: None)[0]
        except Exception as err:  # the row records why it failed
            return err


class TextRows(Rows):
    """Text classifiers, explained with :func:`integrad.explain`.

    Args:
        model: Anything :func:`integrad.explain` takes as its model.
        **options: Its other keyword arguments (``tokenizer``, ``target``, ``baseline``,
            ``max_length``, integration settings, ...).
    """

    task = "text"
    arguments = TEXT_ARGUMENTS

    def _load(self, model: Any, tokenizer: Any, trust: bool, local: bool) -> Any:
        from integrad.hf.loading import load_model

        return load_model(
            model,
            tokenizer,
            task="sequence-classification",
            trust_remote_code=trust,
            local_files_only=local,
        )

    def _call(self, texts: list[str], progress: Callable[[int, int], None]) -> Any:
        from integrad.modalities.text import explain

        return explain(
            self.model, texts, tokenizer=self.tokenizer, progress=progress, **self.options
        )

    def _row(self, row_id: str, result: Any) -> dict[str, Any]:
        return text_row(row_id, result)

    def schema(self) -> Any:
        from integrad.runs.shards import text_schema

        return text_schema()


def _failed(row_id: str, text: str, error: str) -> dict[str, Any]:
    return {"id": row_id, "text": text, "status": "error", "error": error}


def text_row(row_id: str, e: Any) -> dict[str, Any]:
    """The output row of one explained text (a TextExplanation)."""
    return {
        "id": row_id, "text": e.text, "status": "ok", "error": None,
        "predicted_label": e.predicted_label, "target_label": e.target_label,
        "probability": e.probabilities[e.predicted], "output": e.output,
        "baseline_output": e.baseline_output, "tokens": list(e.tokens),
        "token_scores": list(e.token_scores), "words": list(e.words),
        "word_scores": list(e.word_scores), "delta": e.delta,
        "error_estimate": e.error_estimate, "n_evals": e.n_evals, "truncated": e.truncated,
    }  # fmt: skip
