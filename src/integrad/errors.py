"""One exception family for everything integrad refuses, each message naming the fix."""

from __future__ import annotations


class IntegradError(Exception):
    """Base class of every error integrad raises on purpose."""


class InputError(IntegradError, ValueError):
    """The inputs cannot be attributed as given (wrong dtype, NaN, empty text...)."""


class BaselineError(IntegradError, ValueError):
    """A baseline does not match its input or names an unknown kind."""


class TargetError(IntegradError, ValueError):
    """The target does not select one scalar per example."""


class ModelError(IntegradError, TypeError):
    """The model is not differentiable torch code, or does not fit the call."""


class LayerError(IntegradError, ValueError):
    """A layer given with ``layer=`` cannot be attributed."""


class IntegradWarning(UserWarning):
    """Something was changed or approximated on the user's behalf."""


def empty_text_message(where: str, text: str) -> str:
    """Message for a text with no words in it (the explain function and the command line)."""
    return (
        f"{where} is empty or only whitespace ({text!r}): there are no words to explain; "
        "remove it or give real text"
    )


#: How :func:`integrad.attribute` attributes token ids: at their embeddings.
EMBEDDING_FIX = "attribute(model, inputs, layer=model.get_input_embeddings())"


def integer_input_message(name: str, dtype: object, fix: str = EMBEDDING_FIX) -> str:
    """Message for token ids (or any integer tensor) given as an attributed input; ``fix`` is
    the call that attributes them at their embeddings (front doors name their own class)."""
    return (
        f"input {name} has dtype {dtype}: integer values such as token ids are categories and "
        "cannot be interpolated between a baseline and the input. Attribute at the embedding "
        f"layer instead, e.g. {fix}, or use integrad.explain() for text models, which does "
        "this for you."
    )
