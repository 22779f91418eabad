"""Layer substitution: record a module's output, or replace it, through a forward hook."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from integrad.errors import LayerError


class LayerTaps:
    """Forward hooks on the attributed layers, switched between recording and substituting.

    Each forward through the model must call each tapped layer exactly once: a layer called
    several times (an embedding shared between encoder and decoder, say) would be replaced
    in every call by the same tensor, which silently mis-attributes, so it is refused.
    """

    def __init__(self, layers: list[nn.Module]) -> None:
        for layer in layers:
            if not isinstance(layer, nn.Module):
                raise LayerError(
                    f"layer must be a torch.nn.Module (e.g. model.get_input_embeddings()); got "
                    f"{type(layer).__name__}"
                )
        self.layers = layers
        self.recorded: list[torch.Tensor | None] = [None] * len(layers)
        self._replacements: list[torch.Tensor] | None = None
        self._calls = [0] * len(layers)

    def _hook(self, index: int):
        def hook(module: nn.Module, args: object, output: object) -> torch.Tensor | None:
            self._calls[index] += 1
            if self._calls[index] > 1:
                raise LayerError(
                    f"layer {type(module).__name__} was called {self._calls[index]} times in one "
                    "forward pass; integrad substitutes one call per layer, so attribute a "
                    "module that runs once (for shared embeddings, the encoder's or decoder's "
                    "own embedding module, or a wrapper around one call)"
                )
            if not isinstance(output, torch.Tensor):
                raise LayerError(
                    f"layer {type(module).__name__} returns {type(output).__name__}; integrad "
                    "attributes to a layer that returns one tensor"
                )
            if self._replacements is None:
                self.recorded[index] = output.detach()
                return None
            replacement = self._replacements[index]
            if replacement.shape != output.shape:
                raise LayerError(
                    f"layer {type(module).__name__} produced shape {tuple(output.shape)} but "
                    f"{tuple(replacement.shape)} was recorded for these rows; the layer's output "
                    "shape must not change between calls"
                )
            return replacement

        return hook

    @contextmanager
    def installed(self) -> Iterator[LayerTaps]:
        """Register the hooks for the duration of the block."""
        handles = [
            layer.register_forward_hook(self._hook(i)) for i, layer in enumerate(self.layers)
        ]
        try:
            yield self
        finally:
            for handle in handles:
                handle.remove()

    def recording(self) -> None:
        """The next forwards record each layer's output into ``recorded``."""
        self._replacements = None
        self.recorded = [None] * len(self.layers)
        self._calls = [0] * len(self.layers)

    def substituting(self, replacements: list[torch.Tensor]) -> None:
        """The next forward replaces each layer's output by the given tensors."""
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
