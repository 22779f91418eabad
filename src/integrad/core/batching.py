"""How many examples are integrated together, and how many rows go through the model at once.

Memory goes to two things: what one chunk of rows keeps alive for its backward pass, and
the integration's accumulators (float64 sums shaped like the attributed tensors, several
per example and target for adaptive integration). Both are counted against one budget.
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass
from typing import Any

from torch import nn

from integrad.core.adaptive import FIRST_EVALS
from integrad.core.integrand import Integrand
from integrad.options import Options

#: Default budget for one chunk's forward and backward plus the accumulators: 1 GiB, or the
#: ``INTEGRAD_MEMORY_BUDGET`` environment variable (bytes).
DEFAULT_MEMORY_BUDGET = int(os.environ.get("INTEGRAD_MEMORY_BUDGET", 2**30))

#: Peak memory of a forward + backward over what autograd saves for backward: backward's own
#: temporaries roughly double it (measured: a 512-token MiniLM attribution at 300 steps
#: peaked at 2.2 GiB above the loaded model when the saved tensors alone were held to 1 GiB).
BACKWARD_FACTOR = 2

#: Float64 copies of the attributed tensors an example holds per target: fixed rules keep
#: the sum, its product with (input - baseline) and the result; adaptive integration keeps
#: one sum per nested level (5) per panel, a round's new sums and their product, and the
#: error estimate's temporaries (measured: about 24 for one panel per example).
ACCUMULATOR_COPIES = {"fixed": 4, "adaptive": 24}

#: Bytes per element per target of a row's gradients on their way into the sums: the
#: gradient (float32), its float64 copy and the weighted product.
GRADIENT_BYTES = 4 + 8 + 8

#: At most this share of the budget goes to accumulators; the rest to the chunk's rows.
ACCUMULATOR_SHARE = 0.5

# Per model (or forward function), per row signature: bytes a row keeps for backward.
_PROBES: weakref.WeakKeyDictionary[Any, dict[Any, int]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Chunking:
    """Examples integrated together (``group``) and rows per forward/backward (``rows``)."""

    group: int
    rows: int


def plan_chunks(integrand: Integrand, modules: list[nn.Module], options: Options) -> Chunking:
    """Examples per group and rows per chunk that keep the whole call under the budget.

    The cost of a row is measured, not guessed, once per model and row shape in a process:
    a probe runs one row with autograd's saved-tensor hooks and counts what it keeps for
    backward, leaving out the parameters and buffers (they do not grow with the rows);
    ``BACKWARD_FACTOR`` adds backward's temporaries.
    """
    budget = options.memory_budget or DEFAULT_MEMORY_BUDGET
    adaptive = options.adaptive
    rows_per_example = FIRST_EVALS if adaptive else options.n_steps
    n = integrand.batch
    k = integrand.target.n_targets
    elements = sum(p.start[:1].numel() for p in integrand.points)
    copies = ACCUMULATOR_COPIES["adaptive" if adaptive else "fixed"]
    per_example = 8 * k * elements * copies  # float64 accumulators
    group = int(max(1, min(n, (budget * ACCUMULATOR_SHARE) // max(per_example, 1))))
    if options.batch_size is not None:
        return Chunking(group, options.batch_size)
    # A row keeps its activations for backward, then its K gradients on the way to the sums.
    per_row = _probe(integrand, modules) * BACKWARD_FACTOR + k * elements * GRADIENT_BYTES
    left = max(budget - group * per_example, budget * (1 - ACCUMULATOR_SHARE))
    rows = int(max(1, min(group * rows_per_example, left // max(per_row, 1))))  # type: ignore[operator]
    return Chunking(group, rows)


def _probe(integrand: Integrand, modules: list[nn.Module]) -> int:
    """Bytes one row keeps for backward, measured once per model and row signature."""
    owner: Any = modules[0] if modules else integrand.forward
    key = (integrand.row_signature(), tuple(id(m) for m in integrand.taps.layers))
    try:
        cache = _PROBES.setdefault(owner, {})
    except TypeError:  # an object that cannot be weakly referenced: measure every time
        cache = {}
    if key not in cache:
        fixed = {
            t.untyped_storage().data_ptr() for m in modules for t in (*m.parameters(), *m.buffers())
        }
        cache[key] = integrand.saved_bytes_per_row(fixed)
    return cache[key]
