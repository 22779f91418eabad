"""F along the path of a generation explanation: was the integrand smooth or spiky?

Integrated Gradients integrates the gradient of a generated token's score along the straight
line from the baseline embeddings to the real ones. Where the score jumps along that line
(an attention sink switching, a normalisation reacting to a dip in the embeddings' norm), a
fixed quadrature rule misses the jump and completeness fails. This module evaluates the
score itself at evenly spaced points of the path: forward passes only, no gradients, so a
few dozen points cost less than a handful of IG evaluations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from integrad.core.model_state import inference_state
from integrad.errors import InputError
from integrad.targets import SCORES

if TYPE_CHECKING:
    from integrad.results.generation import GenerationExplanation

#: Points evaluated along the path when not told otherwise.
DEFAULT_POINTS = 41


def path_values(
    model: Any, e: GenerationExplanation, row: int = 0, n_points: int = DEFAULT_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """The score of generated token ``row`` at ``n_points`` evenly spaced points of the path.

    Args:
        model: The causal language model the explanation was made with.
        e: The explanation (of a causal model, with a token baseline).
        row: Which generated token.
        n_points: Points from alpha = 0 (the baseline) to 1 (the input), at least 2.

    Returns:
        ``(alphas, values)``, both (n_points,) float64 arrays; ``values[0]`` is the token's
        ``baseline_output`` and ``values[-1]`` its ``output``.

    Example:
        >>> alphas, values = path_values(model, explanation, row=0)  # doctest: +SKIP
    """
    if e.encoder_decoder:
        raise InputError("path_values reads causal language models; this explanation is seq2seq")
    if e.baseline_ids is None:
        raise InputError(
            f"the baseline {e.baseline!r} is not made of tokens, so its path cannot be rebuilt; "
            "explain with a token baseline (pad, unk, eos or a token id) or zero"
        )
    if not 0 <= row < len(e.generated_tokens):
        raise InputError(
            f"row {row} is out of range: {len(e.generated_tokens)} tokens were generated"
        )
    if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 2:
        raise InputError(f"n_points must be an int of at least 2; got {n_points!r}")
    embedding = model.get_input_embeddings()
    device = next(model.parameters()).device
    seen = e.n_visible[row]
    alphas = torch.linspace(0, 1, n_points, dtype=torch.float64)
    with inference_state(model), torch.no_grad():
        x = embedding(torch.tensor([e.context_ids[:seen]], device=device))  # (1, seq, hidden)
        base_ids = torch.tensor([e.baseline_ids[:seen]], device=device)
        # -1 marks a zero-vector column (the zero baseline)
        base = embedding(base_ids.clamp(min=0)) * (base_ids >= 0).unsqueeze(-1)
        rows = base + alphas.to(x.dtype).to(device).view(-1, 1, 1) * (x - base)
        positions = torch.arange(seen, device=device).expand(n_points, -1)
        logits = model(inputs_embeds=rows, position_ids=positions, use_cache=False).logits
        scored = SCORES[e.score](logits[:, -1, :].double())  # (n_points, vocab)
        values = scored[:, e.generated_ids[row]]
    return alphas.numpy(), values.cpu().numpy()


def plot_path(
    model: Any, e: GenerationExplanation, row: int = 0, n_points: int = DEFAULT_POINTS
) -> Any:
    """A matplotlib figure of :func:`path_values`, with the straight line between the ends.

    The title says whether the run's completeness error stayed within 5% of the change.
    """
    from matplotlib.figure import Figure

    from integrad.render.generation import display_token

    alphas, values = path_values(model, e, row, n_points)
    fig = Figure(figsize=(6, 3.2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(alphas, values, marker=".", color="#2563eb", label="score along the path")
    ax.plot([0, 1], [values[0], values[-1]], color="#a1a1aa", linestyle="--", label="ends")
    change = e.output[row] - e.baseline_output[row]
    share = abs(e.delta[row]) / max(abs(change), 1e-12)
    token = display_token(e.generated_tokens[row])
    ax.set_title(
        f"{e.score} of {token!r} along the path: |delta| is {share:.1%} of the change",
        fontsize=9,
        loc="left",
        parse_math=False,
    )
    ax.set_xlabel("alpha (0: baseline, 1: input)", fontsize=8)
    ax.set_ylabel(e.score, fontsize=8)
    ax.legend(fontsize=8)
    return fig
