"""What the web view's JSON requests may hold, checked before any model runs.

A request is a JSON object: the text, which model, target and baseline, and the integration
settings of :class:`integrad.Options` under their own names. Everything is checked here, so
a mistake gets a message that names the fix (an unknown field names the closest one), and
nothing a browser sends can make the server work without bound: texts, steps, evaluations
and noise samples have upper limits (:data:`LIMITS`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from integrad.errors import InputError
from integrad.options import DEFAULT_TEXT_METHOD, Options

#: Upper limits on what one request may ask for.
LIMITS = {
    "text": 5000,  # characters of a text to explain
    "prompt": 2000,  # characters of a prompt
    "n_steps": 1000,
    "max_evals": 10000,
    "noise": 64,
    "max_new_tokens": 64,
    "body": 64 * 1024,  # bytes of one request
}
#: The fields of an explain request besides the integration settings.
EXPLAIN_FIELDS = ("text", "model", "target", "baseline")
#: The fields of a generation request besides the integration settings.
GENERATE_FIELDS = ("text", "model", "target", "baseline", "max_new_tokens")
#: Settings a browser may not set (they size memory, which is the server's business).
SERVER_SETTINGS = ("batch_size", "memory_budget")


@dataclass(frozen=True)
class ExplainRequest:
    """One checked request: the text, the model's key, and the explain function's arguments."""

    text: str
    model: str | None
    arguments: dict[str, Any]


def explain_request(body: Any, labels_of: Any) -> ExplainRequest:
    """Checks an explain request.

    Args:
        body: The parsed JSON.
        labels_of: ``labels_of(model_key)`` gives that model's class names, to check the target.
    """
    data = _object(body, "the request")
    settings = _settings(data, EXPLAIN_FIELDS, "POST /api/explain", DEFAULT_TEXT_METHOD)
    text = _text(data.get("text"), "text", LIMITS["text"])
    model = _model(data.get("model"))
    target = _target(data.get("target"), labels_of(model))
    arguments: dict[str, Any] = {"target": target, **settings}
    baseline = _optional_str(data.get("baseline"), "baseline")
    if baseline is not None:
        arguments["baseline"] = _baseline(baseline)
    return ExplainRequest(text, model, arguments)


def generate_request(body: Any) -> ExplainRequest:
    """Checks a generation request (the prompt is ``text``; ``target`` a forced continuation)."""
    data = _object(body, "the request")
    settings = _settings(
        data, GENERATE_FIELDS, "POST /api/generate", default_method="adaptive", score="log_prob"
    )
    text = _text(data.get("text"), "text", LIMITS["prompt"])
    arguments: dict[str, Any] = dict(settings)
    new = data.get("max_new_tokens", 10)
    if (
        isinstance(new, bool)
        or not isinstance(new, int)
        or not 1 <= new <= LIMITS["max_new_tokens"]
    ):
        raise InputError(
            f"max_new_tokens must be a whole number from 1 to {LIMITS['max_new_tokens']}; "
            f"got {new!r}"
        )
    arguments["max_new_tokens"] = new
    target = _optional_str(data.get("target"), "target")
    if target is not None and target.strip():
        arguments["target"] = _text(target, "target", LIMITS["prompt"])
    baseline = _optional_str(data.get("baseline"), "baseline")
    if baseline is not None:
        arguments["baseline"] = _baseline(baseline)
    return ExplainRequest(text, _model(data.get("model")), arguments)


def compare_request(body: Any, labels_of: Any) -> tuple[ExplainRequest, ExplainRequest]:
    """Checks a compare request: shared fields, and ``a`` and ``b`` with what differs.

    Example:
        ``{"text": "Great food", "a": {"baseline": "pad"}, "b": {"baseline": "zero"}}``
    """
    data = _object(body, "the request")
    sides = {}
    for side in ("a", "b"):
        if side not in data:
            raise InputError(
                f"a compare request needs 'a' and 'b': the settings of each explanation, e.g. "
                f'{{"text": "...", "a": {{"baseline": "pad"}}, "b": {{"baseline": "zero"}}}}; '
                f"{side!r} is missing"
            )
        sides[side] = _object(data[side], f"'{side}'")
    common = {k: v for k, v in data.items() if k not in ("a", "b")}
    return (
        explain_request({**common, **sides["a"]}, labels_of),
        explain_request({**common, **sides["b"]}, labels_of),
    )


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError(f"{what} must be a JSON object, got {type(value).__name__}")
    return dict(value)


def _settings(
    data: dict[str, Any],
    fields: tuple[str, ...],
    function: str,
    default_method: str = "gausslegendre",
    score: str = "logit",
) -> dict[str, Any]:
    """The integration settings in ``data`` (the other keys must be ``fields``), checked by
    :meth:`integrad.Options.from_settings` and held to :data:`LIMITS`."""
    given = {k: v for k, v in data.items() if k not in fields and v is not None and v != ""}
    close = {
        k: difflib.get_close_matches(k, fields, n=1) for k in given if k not in Options.names()
    }
    for name, match in close.items():
        if match:
            raise InputError(
                f"unknown field {name!r} (did you mean {match[0]!r}?); a request has "
                f"{', '.join(fields)} and the integration settings {', '.join(Options.names())}"
            )
    for name in SERVER_SETTINGS:
        if name in given:
            raise InputError(f"{name} is set by the server, not per request; leave it out")
    if given.get("noise") == 0:
        given.pop("noise")  # 0 noisy samples: no noise averaging
    Options.from_settings(given, default_method=default_method, default_score=score,
                          function=function)  # fmt: skip
    for name in ("n_steps", "max_evals", "noise"):
        if name in given and given[name] > LIMITS[name]:
            raise InputError(
                f"{name} = {given[name]} is more than this server allows ({LIMITS[name]}); "
                "use a smaller value, or integrad from Python for larger ones"
            )
    return given


def _text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InputError(
            f"the request needs {name!r}: the text to explain, as a string"
            if value is None
            else f"{name!r} must be a string, got {type(value).__name__}"
        )
    if not value.strip():
        raise InputError(f"{name!r} is empty: type some words to explain")
    if len(value) > limit:
        raise InputError(
            f"{name!r} has {len(value)} characters, more than the {limit} this server explains "
            "at once; shorten it, or explain long texts with integrad from Python"
        )
    return value


def _optional_str(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InputError(f"{name!r} must be a string, got {type(value).__name__}")
    return value


def _model(value: Any) -> str | None:
    return _optional_str(value, "model")


def _target(value: Any, labels: tuple[str, ...]) -> int | str | None:
    """None (the predicted class), a label name, or a class index."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.lstrip("-").isdigit() and value not in labels:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InputError(f"target must be a label name or class index, got {value!r}")
    if isinstance(value, int) and labels and not 0 <= value < len(labels):
        raise InputError(
            f"target {value} is not a class index of this model (0 to {len(labels) - 1})"
        )
    if isinstance(value, str) and labels and value not in labels:
        raise InputError(f"unknown label {value!r}; the model's labels are {', '.join(labels)}")
    return value


def _baseline(value: str) -> str:
    from integrad.baselines import list_baselines

    names = list_baselines("text")
    if value not in names:
        raise InputError(f"unknown baseline {value!r}; choose one of {', '.join(names)}")
    return value
