"""Captum's Integrated Gradients classes, with Captum's signatures, on integrad's engine.

A Captum script switches by changing its import::

    from integrad.compat.captum import IntegratedGradients, LayerIntegratedGradients, NoiseTunnel

and keeps its calls: ``attribute(inputs, baselines, target, additional_forward_args, n_steps,
method, internal_batch_size, return_convergence_delta)`` returns a tensor or a tuple matching
the inputs (for layers: the layer's tensor, a tuple for a layer with several tensors, a list
for a list of layers), and ``(attributions, delta)`` when asked. Captum is not imported.

Deliberate differences from Captum:

- ``method="riemann_trapezoid"`` is the true composite trapezoid rule, whose weights add up
  to one; Captum's add up to (n - 1) / n, so its attributions come out low by 1/n (2% at
  the default 50 steps). The other rules give Captum's numbers.
- Integer inputs (token ids) given to :class:`IntegratedGradients` raise an error naming
  :class:`LayerIntegratedGradients` with ``model.get_input_embeddings()``: ids are categories,
  and interpolating them gives meaningless numbers.
- A Hugging Face ``pipeline`` raises an error that names its parts (``pipe.model``,
  ``pipe.tokenizer``): it maps text to label dicts and has no gradient.
- ``delta`` is always the completeness error of the attributions multiplied by
  (input - baseline), also with ``multiply_by_inputs=False`` (Captum's would compare the
  unmultiplied ones with the output difference, which means nothing).
- The model runs in eval mode with frozen parameters for the call (and is put back after):
  dropout in training mode would make every gradient random.
- Additions: ``method="adaptive"`` with ``tol=`` (and ``max_evals=``) integrates each example
  to a relative error instead of a fixed number of steps; ``n_steps`` then does not apply.

Everything else (targets, baselines, ``additional_forward_args``, ``internal_batch_size``)
means what it means in Captum; see :meth:`IntegratedGradients.attribute`. That includes
``target=None``: as in Captum it needs a model with one output per example, and raises
otherwise (:func:`integrad.attribute` would explain the predicted class instead).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from integrad.compat.noise_tunnel import NoiseTunnel
from integrad.compat.targets import captum_target
from integrad.core.engine import attribute as integrad_attribute
from integrad.core.foreign import check_model
from integrad.core.model_state import inference_state, modules_behind
from integrad.core.structure import Call, flatten, full_baseline, per_input
from integrad.errors import InputError, IntegradError, integer_input_message
from integrad.options import DEFAULT_N_STEPS
from integrad.results.attribution import Attribution
from integrad.targets import resolve_target, select_output

__all__ = ["IntegratedGradients", "LayerIntegratedGradients", "NoiseTunnel"]

#: What Captum users do instead of interpolating token ids.
EMBEDDING_FIX = (
    "LayerIntegratedGradients(model, model.get_input_embeddings()).attribute(input_ids, ...)"
)
PIPELINE_FIX = (
    "LayerIntegratedGradients(pipe.model, pipe.model.get_input_embeddings()).attribute("
    "pipe.tokenizer(text, return_tensors='pt')['input_ids'], target=...), or simply "
    "integrad.explain(pipe, text)"
)


class _Door:
    """What the Captum-shaped classes share: the model, the factor, and completeness."""

    def __init__(self, forward_func: Callable[..., Any], multiply_by_inputs: bool) -> None:
        check_model(forward_func, pipeline_fix=PIPELINE_FIX)
        self.forward_func = forward_func
        self._multiply_by_inputs = multiply_by_inputs

    @property
    def multiplies_by_inputs(self) -> bool:
        """Whether attributions include the (input - baseline) factor."""
        return self._multiply_by_inputs

    def has_convergence_delta(self) -> bool:
        """Integrated Gradients has a completeness error: always True."""
        return True

    def compute_convergence_delta(
        self,
        attributions: Any,
        start_point: Any,
        end_point: torch.Tensor | tuple[torch.Tensor, ...],
        target: Any = None,
        additional_forward_args: Any = None,
    ) -> torch.Tensor:
        """Completeness error per example: sum(attributions) - (F(end_point) - F(start_point)).

        Args:
            attributions: Attributions from :meth:`attribute` (a tensor, a tuple, or a list
                of them for several layers).
            start_point: The baselines, in the form of ``baselines`` of :meth:`attribute`.
            end_point: The inputs.
            target: As in :meth:`attribute`.
            additional_forward_args: As in :meth:`attribute`.

        Returns:
            The error per example, (batch,), in the attributions' dtype.
        """
        flat, structure = flatten(end_point)
        given = per_input(start_point, structure, "start_point")
        pairs = zip(given, flat, structure.keys, strict=True)
        starts = [full_baseline(b, x, key) for b, x, key in pairs]
        call = Call(self.forward_func, structure, forward_args(additional_forward_args), {})
        with inference_state(modules_behind(self.forward_func)), torch.no_grad():
            at_end, at_start = select_output(call(flat)), select_output(call(starts))
        resolved = resolve_target(captum_target(target), at_end)
        examples = torch.arange(at_end.shape[0], device=at_end.device)
        change = (resolved(at_end, examples) - resolved(at_start, examples))[:, 0].double()
        leaves = _leaves(attributions)
        total = sum(a.detach().reshape(a.shape[0], -1).double().sum(1) for a in leaves)
        return (total - change.to(total.device)).to(leaves[0].dtype)  # type: ignore[union-attr]

    def _engine(self, inputs: Any, **arguments: Any) -> Attribution:
        return integrad_attribute(
            self.forward_func, inputs, multiply_by_inputs=self._multiply_by_inputs, **arguments
        )


class IntegratedGradients(_Door):
    """Captum's ``IntegratedGradients``: attributions to the model's (float) inputs.

    Args:
        forward_func: The model, or any function of the inputs returning (batch, ...) outputs.
        multiply_by_inputs: False returns the path-integrated gradients without the
            (input - baseline) factor.

    Example:
        >>> import torch
        >>> from integrad.compat.captum import IntegratedGradients
        >>> net = torch.nn.Linear(3, 2)
        >>> attributions, delta = IntegratedGradients(net).attribute(
        ...     torch.ones(4, 3), target=1, return_convergence_delta=True)
        >>> attributions.shape, delta.shape
        (torch.Size([4, 3]), torch.Size([4]))
    """

    def __init__(self, forward_func: Callable[..., Any], multiply_by_inputs: bool = True) -> None:
        super().__init__(forward_func, multiply_by_inputs)

    def attribute(
        self,
        inputs: torch.Tensor | tuple[torch.Tensor, ...],
        baselines: Any = None,
        target: Any = None,
        additional_forward_args: Any = None,
        n_steps: int | None = None,
        method: str = "gausslegendre",
        internal_batch_size: int | None = None,
        return_convergence_delta: bool = False,
        *,
        tol: float | None = None,
        max_evals: int | None = None,
    ) -> Any:
        """Integrated Gradients of ``forward_func`` at ``inputs``, as Captum returns them.

        Args:
            inputs: A float tensor, or a tuple of them (passed positionally), each with the
                batch first. Integer tensors (token ids) are refused: use
                :class:`LayerIntegratedGradients` at the embeddings.
            baselines: None (zeros), a number, a tensor shaped like the input (or with a
                batch of one), or a tuple of those, one per input.
            target: None (only for a model with one output per example), an int or a
                one-element tensor (that output for every example), a tuple (an index into
                a multi-dimensional output, for every example), or a list or 1-D tensor of
                ints or tuples, one per example.
            additional_forward_args: One argument or a tuple of arguments passed to the
                model after the inputs, not attributed; tensors whose first dimension is the
                batch are repeated along the path.
            n_steps: Points on the path (default 50); not for ``method="adaptive"``.
            method: ``"gausslegendre"`` (default), ``"riemann_left"``, ``"riemann_right"``,
                ``"riemann_middle"``, ``"riemann_trapezoid"`` (the true composite rule; see
                the module docstring) or ``"adaptive"``.
            internal_batch_size: Most rows (path points x examples) per forward and
                backward pass; None sizes them to integrad's memory budget.
            return_convergence_delta: Also return the completeness error per example.
            tol: For ``method="adaptive"``: the relative error allowed per example.
            max_evals: For ``method="adaptive"``: most gradient evaluations per example.

        Returns:
            The attributions (a tensor, or a tuple matching ``inputs``), or
            ``(attributions, delta)`` with ``delta`` of shape (batch,).
        """
        return returned(self._attribution(**forwarded(locals())), return_convergence_delta)

    def _attribution(self, inputs: Any, **captum: Any) -> Attribution:
        """:meth:`attribute`'s integrad result, from its arguments (NoiseTunnel aggregates it)."""
        flat, structure = flatten(inputs)
        for key, x in zip(structure.keys, flat, strict=True):
            if not x.is_floating_point():
                raise InputError(integer_input_message(repr(key), x.dtype, fix=EMBEDDING_FIX))
        return self._engine(inputs, **arguments(**captum))


class LayerIntegratedGradients(_Door):
    """Captum's ``LayerIntegratedGradients``: attributions to a layer's output (or input).

    The inputs may be token ids: they are never interpolated; the path runs between the
    layer's tensors at the baselines and at the inputs.

    Args:
        forward_func: The model, or any function of the inputs.
        layer: A module of the model, or a list of modules (attributed together; none may
            feed another).
        device_ids: Accepted for Captum's signature; integrad does not scatter over devices
            (a ``DataParallel`` model's hooks would not run on its replicas).
        multiply_by_inputs: False leaves out the factor (layer tensor at the input - at the
            baseline).

    Example:
        >>> import torch
        >>> from integrad.compat.captum import LayerIntegratedGradients
        >>> net = torch.nn.Sequential(torch.nn.Embedding(10, 4), torch.nn.Flatten(),
        ...                           torch.nn.Linear(12, 2))
        >>> ids = torch.tensor([[1, 2, 3]])
        >>> LayerIntegratedGradients(net, net[0]).attribute(ids, target=0).shape
        torch.Size([1, 3, 4])
    """

    def __init__(
        self,
        forward_func: Callable[..., Any],
        layer: nn.Module | Sequence[nn.Module],
        device_ids: list[int] | None = None,
        multiply_by_inputs: bool = True,
    ) -> None:
        super().__init__(forward_func, multiply_by_inputs)
        self.layer = layer
        self.device_ids = device_ids

    def attribute(
        self,
        inputs: torch.Tensor | tuple[torch.Tensor, ...],
        baselines: Any = None,
        target: Any = None,
        additional_forward_args: Any = None,
        n_steps: int | None = None,
        method: str = "gausslegendre",
        internal_batch_size: int | None = None,
        return_convergence_delta: bool = False,
        attribute_to_layer_input: bool = False,
        grad_kwargs: dict[str, Any] | None = None,
        *,
        tol: float | None = None,
        max_evals: int | None = None,
    ) -> Any:
        """Layer Integrated Gradients, as Captum returns them.

        The arguments shared with :meth:`IntegratedGradients.attribute` mean the same; the
        baselines are in the inputs' space (baseline token ids, say).

        Args:
            attribute_to_layer_input: Attribute to the layer's positional inputs instead of
                its output.
            grad_kwargs: Only ``{"materialize_grads": True}`` is accepted: a layer that does
                not reach the output gets zero attributions (and a warning) anyway.

        Returns:
            The layer's attributions (a tensor, a tuple for a layer with several tensors, a
            list for a list of layers), or ``(attributions, delta)``.
        """
        return returned(self._attribution(**forwarded(locals())), return_convergence_delta)

    def _attribution(
        self,
        inputs: Any,
        attribute_to_layer_input: bool = False,
        grad_kwargs: dict[str, Any] | None = None,
        **captum: Any,
    ) -> Attribution:
        """:meth:`attribute`'s integrad result, from its arguments (NoiseTunnel aggregates it)."""
        if grad_kwargs and set(grad_kwargs) != {"materialize_grads"}:
            raise IntegradError(
                f"grad_kwargs {sorted(grad_kwargs)} are not supported; integrad takes its own "
                "gradients (a layer that does not reach the output gets zeros, as with "
                "materialize_grads=True): drop grad_kwargs"
            )
        return self._engine(
            inputs,
            layer=self.layer,
            attribute_to_layer_input=attribute_to_layer_input,
            **arguments(**captum),
        )


def forwarded(arguments: dict[str, Any]) -> dict[str, Any]:
    """A front door's ``attribute`` arguments (its ``locals()``) to pass on to
    ``_attribution``: all but ``self`` and ``return_convergence_delta``."""
    return {k: v for k, v in arguments.items() if k not in ("self", "return_convergence_delta")}


def arguments(
    baselines: Any = None,
    target: Any = None,
    additional_forward_args: Any = None,
    n_steps: int | None = None,
    method: str = "gausslegendre",
    internal_batch_size: int | None = None,
    tol: float | None = None,
    max_evals: int | None = None,
) -> dict[str, Any]:
    """Captum's arguments (the ones Integrated Gradients and its layer version share) as
    :func:`integrad.attribute`'s."""
    return {
        "baseline": baselines,
        "target": captum_target(target),
        "forward_args": forward_args(additional_forward_args),
        **settings(method, n_steps, internal_batch_size, tol, max_evals),
    }


def settings(
    method: str,
    n_steps: int | None,
    internal_batch_size: int | None,
    tol: float | None,
    max_evals: int | None,
) -> dict[str, Any]:
    """Captum's integration arguments as integrad settings (n_steps defaults to 50 for fixed
    rules; given with ``method="adaptive"``, :class:`integrad.Options` refuses it)."""
    if n_steps is None and method != "adaptive":
        n_steps = DEFAULT_N_STEPS
    given = {
        "method": method,
        "n_steps": n_steps,
        "batch_size": internal_batch_size,
        "tol": tol,
        "max_evals": max_evals,
    }
    return {name: value for name, value in given.items() if value is not None}


def forward_args(additional_forward_args: Any) -> tuple[Any, ...]:
    """Captum's ``additional_forward_args``: None, one argument, or a tuple of them."""
    if additional_forward_args is None:
        return ()
    if isinstance(additional_forward_args, tuple):
        return additional_forward_args
    return (additional_forward_args,)


def returned(result: Attribution, return_convergence_delta: bool) -> Any:
    """Captum's return convention: the attributions, or (attributions, delta)."""
    if not return_convergence_delta:
        return result.attributions
    dtype = _leaves(result.attributions)[0].dtype
    return result.attributions, result.delta.detach().to(dtype)


def _leaves(values: Any) -> list[torch.Tensor]:
    """The tensors of a tensor, tuple or list of them (nested once for several layers)."""
    if isinstance(values, torch.Tensor):
        return [values]
    return [leaf for value in values for leaf in _leaves(value)]
