"""Layer substitution: record what a module outputs (or reads), or replace it, through hooks.

A tapped layer contributes one attributed tensor per *part*: its output when that is one
tensor, each tensor of an output tuple, or, with ``to_input=True``, each tensor among its
positional arguments. Other items of a tuple (non-tensors) pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from integrad.errors import LayerError


class LayerTaps:
    """Hooks on the attributed layers, switched between recording and substituting.

    Each forward through the model must call each tapped layer exactly once: a layer called
    several times (an embedding shared between encoder and decoder, say) would be replaced
    in every call by the same tensor, which silently mis-attributes, so it is refused.

    Attributes:
        layers: The tapped modules.
        to_input: Whether the layers' positional inputs are tapped instead of their outputs.
        recorded: Per layer, its parts at the last recording forward (detached).
        tuple_form: Per layer, whether it gave several tensors (so its results are tuples).
    """

    def __init__(self, layers: list[nn.Module], to_input: bool = False) -> None:
        for layer in layers:
            if not isinstance(layer, nn.Module):
                raise LayerError(
                    f"layer must be a torch.nn.Module (e.g. model.get_input_embeddings()); got "
                    f"{type(layer).__name__}"
                )
        if len({id(m) for m in layers}) != len(layers):
            raise LayerError("each attributed layer must be a different module; one appears twice")
        self.layers = layers
        self.to_input = to_input
        self.recorded: list[list[torch.Tensor] | None] = [None] * len(layers)
        self.tuple_form = [False] * len(layers)
        self._replacements: list[list[torch.Tensor]] | None = None
        self._calls = [0] * len(layers)

    def _tap(self, index: int, module: nn.Module, value: Any) -> Any:
        """Record ``value``'s tensors, or return it with the replacements put in."""
        self._calls[index] += 1
        name = type(module).__name__
        if self._calls[index] > 1:
            raise LayerError(
                f"layer {name} was called {self._calls[index]} times in one forward pass; "
                "integrad substitutes one call per layer, so attribute a module that runs once "
                "(for shared embeddings, the encoder's or decoder's own embedding module, or a "
                "wrapper around one call)"
            )
        single = isinstance(value, torch.Tensor)
        items = [value] if single else list(value) if isinstance(value, (tuple, list)) else None
        slots = [i for i, v in enumerate(items or []) if isinstance(v, torch.Tensor)]
        what = "reads" if self.to_input else "returns"
        if not slots:
            raise LayerError(
                f"layer {name} {what} {type(value).__name__}, with no tensor to attribute to; "
                "pass a layer whose output (or, with attribute_to_layer_input, whose input) is "
                "a tensor or a tuple of tensors"
            )
        for i in slots:
            if not items[i].is_floating_point():  # type: ignore[index]
                raise LayerError(
                    f"layer {name} {what} a {items[i].dtype} tensor, which cannot be "  # type: ignore[index]
                    "interpolated; attribute at a layer whose tensors are floats (for token "
                    "ids, the embedding's output)"
                )
        if self._replacements is None:
            self.recorded[index] = [items[i].detach() for i in slots]  # type: ignore[index]
            self.tuple_form[index] = len(slots) > 1
            return None
        replacement = self._replacements[index]
        for slot, new in zip(slots, replacement, strict=True):
            old = items[slot]  # type: ignore[index]
            if new.shape != old.shape:
                raise LayerError(
                    f"layer {name} produced shape {tuple(old.shape)} but "
                    f"{tuple(new.shape)} was recorded for these rows; the layer's shape must "
                    "not change between calls"
                )
            items[slot] = new  # type: ignore[index]
        return items[0] if single else type(value)(items)  # type: ignore[index]

    @contextmanager
    def installed(self) -> Iterator[LayerTaps]:
        """Register the hooks for the duration of the block."""
        handles = []
        for i, layer in enumerate(self.layers):
            if self.to_input:

                def pre_hook(module: nn.Module, args: tuple, i: int = i) -> Any:
                    return self._tap(i, module, args)

                handles.append(layer.register_forward_pre_hook(pre_hook))
            else:

                def hook(module: nn.Module, args: tuple, output: Any, i: int = i) -> Any:
                    return self._tap(i, module, output)

                handles.append(layer.register_forward_hook(hook))
        try:
            yield self
        finally:
            for handle in handles:
                handle.remove()

    def recording(self) -> None:
        """The next forwards record each layer's tensors into ``recorded``."""
        self._replacements = None
        self.recorded = [None] * len(self.layers)
        self._calls = [0] * len(self.layers)

    def substituting(self, replacements: list[list[torch.Tensor]]) -> None:
        """The next forward replaces each layer's tensors by the given ones."""
        self._replacements = replacements
        self._calls = [0] * len(self.layers)

    def check_all_called(self) -> None:
        """Refuse layers that the forward did not use (they would get no attribution)."""
        for layer, calls in zip(self.layers, self._calls, strict=True):
            if calls == 0:
                raise LayerError(
                    f"layer {type(layer).__name__} was not called by the forward pass; pass a "
                    "module that belongs to the model and runs on these inputs"
                )
