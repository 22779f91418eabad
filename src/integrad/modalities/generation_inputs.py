"""The user's side of a generation explanation: prompts, chat templates, forced targets.

Everything here works on plain Python lists, one entry per prompt, before any batching: the
token ids of each prompt (with its special and chat-template tokens marked), the forced
continuation's ids, the baseline token, the generated ids cut at the end-of-sequence token,
and the target function that picks each generated token's score out of the logits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from integrad.baselines import TOKEN_ATTRIBUTES, list_baselines
from integrad.core.model_state import inference_state
from integrad.core.noise import rank_stability
from integrad.errors import BaselineError, InputError, ModelError, TargetError
from integrad.options import Options

#: The baseline when none is given: the first of these tokens the tokenizer has.
DEFAULT_BASELINES = ("pad", "unk", "eos")


@dataclass(frozen=True)
class Prompt:
    """One prompt as the model reads it.

    Attributes:
        text: The prompt text (for a conversation, the chat template rendered).
        ids: Token ids, special tokens included, (seq,).
        special: True for tokens kept at their value in the baseline: special tokens (BOS,
            template markers) and, with ``keep_first``, the first token.
        template: True for tokens the chat template added around the messages.
    """

    text: str
    ids: list[int]
    special: list[bool]
    template: list[bool]

    def with_first_kept(self) -> Prompt:
        """The prompt with its first token kept in the baseline (the attention sink)."""
        if self.special[0] or all(self.special[1:]):  # kept already, or nothing would be left
            return self
        return Prompt(self.text, self.ids, [True, *self.special[1:]], self.template)


def prompts_of(prompt: Any) -> tuple[list[str | list[dict[str, Any]]], bool]:
    """The prompts as a list, and whether a single prompt (text or conversation) was given."""
    if prompt is None:
        raise InputError(
            "no prompt to explain: call explain_generation(model, prompt, tokenizer=...)"
        )
    if isinstance(prompt, str) or _is_chat(prompt):
        return [prompt], True
    if isinstance(prompt, Sequence) and len(prompt) > 0:
        items = list(prompt)
        for i, item in enumerate(items):
            if not (isinstance(item, str) or _is_chat(item)):
                raise InputError(
                    f"prompt {i} is a {type(item).__name__}; a prompt is a string or a "
                    "conversation (a list of {'role': ..., 'content': ...} dicts)"
                )
        return items, False
    raise InputError(
        "prompt must be a string, a conversation (a list of {'role': ..., 'content': ...} "
        f"dicts), or a non-empty list of those; got {prompt!r}"
    )


def _is_chat(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) > 0
        and all(isinstance(m, Mapping) for m in value)
    )


def encode_prompt(tokenizer: Any, prompt: str | list[dict[str, Any]], index: int) -> Prompt:
    """Tokenizes a prompt; a conversation goes through the tokenizer's chat template."""
    specials = set(tokenizer.all_special_ids)
    if isinstance(prompt, str):
        if not prompt.strip():
            raise InputError(
                f"prompt {index} is empty or only whitespace ({prompt!r}): there is nothing "
                "to attribute the generation to; give a real prompt"
            )
        ids = list(tokenizer(prompt)["input_ids"])
        text, template = prompt, [False] * len(ids)
    else:
        text, ids, template = _encode_chat(tokenizer, prompt, index)
    special = [i in specials for i in ids]
    if all(special):
        raise InputError(
            f"prompt {index} ({text!r}) tokenizes to special tokens only: there is no prompt "
            "token to attribute to; give a prompt with words the tokenizer knows"
        )
    return Prompt(text, ids, special, template)


def _encode_chat(
    tokenizer: Any, messages: list[dict[str, Any]], index: int
) -> tuple[str, list[int], list[bool]]:
    """Renders a conversation and marks the tokens outside every message's content."""
    if not getattr(tokenizer, "chat_template", None):
        raise InputError(
            f"prompt {index} is a conversation but the tokenizer has no chat template; set "
            "tokenizer.chat_template (a Jinja string) or pass the prompt as a string"
        )
    contents = []
    for m in messages:
        content = m.get("content")
        if not isinstance(content, str) or "role" not in m:
            raise InputError(
                f"prompt {index}: every message must be {{'role': ..., 'content': <string>}}; "
                f"got {dict(m)!r}"
            )
        contents.append(content)
    if not any(c.strip() for c in contents):
        raise InputError(f"prompt {index} is a conversation whose messages are all empty")
    if not getattr(tokenizer, "is_fast", False):
        raise InputError(
            "chat prompts need a fast tokenizer (for the character offsets that tell the "
            f"template's tokens from the messages'); got {type(tokenizer).__name__}"
        )
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    # The template adds its own special tokens (BOS), so the tokenizer must not add more.
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    spans, cursor = [], 0
    for content in contents:
        start = text.find(content, cursor) if content else -1
        if start < 0:
            raise InputError(
                f"prompt {index}: the chat template changed the message {content!r}, so its "
                "tokens cannot be told from the template's; pass the rendered prompt as a string"
            )
        spans.append((start, start + len(content)))
        cursor = start + len(content)
    template = [
        not any(a < e and s < b for s, e in spans) if b > a else True
        for a, b in enc["offset_mapping"]
    ]
    return text, list(enc["input_ids"]), template


def forced_targets(target: Any, n_prompts: int, tokenizer: Any) -> list[list[int]] | None:
    """The forced continuation's ids per prompt, or None to generate."""
    if target is None:
        return None
    if isinstance(target, str):
        texts = [target] * n_prompts
    elif (
        isinstance(target, Sequence)
        and len(target) == n_prompts
        and all(isinstance(t, str) for t in target)
    ):
        texts = list(target)
    else:
        raise TargetError(
            "target must be None (generate), a continuation string, or one string per prompt "
            f"({n_prompts} here); got {target!r}"
        )
    out = []
    for i, text in enumerate(texts):
        ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
        if not ids:
            raise TargetError(
                f"the forced target {text!r} (prompt {i}) tokenizes to nothing, so there is no "
                "generated token to explain; give a non-empty continuation"
            )
        out.append(ids)
    return out


def baseline_choice(baseline: Any, tokenizer: Any) -> tuple[str | int, str]:
    """The baseline as a registry name or a token id, and its description.

    None picks the first of pad, unk and eos that the tokenizer has. See
    :func:`integrad.explain_generation`.
    """
    if isinstance(baseline, int) and not isinstance(baseline, bool):
        if not 0 <= baseline < len(tokenizer):
            raise BaselineError(
                f"baseline token id {baseline} is outside the tokenizer's 0..{len(tokenizer) - 1}"
            )
        return baseline, f"token {tokenizer.convert_ids_to_tokens(baseline)!r}"
    if baseline is None:
        for name in DEFAULT_BASELINES:
            token_id = getattr(tokenizer, TOKEN_ATTRIBUTES[name], None)
            if token_id is not None:
                return name, f"{name} ({tokenizer.convert_ids_to_tokens(token_id)})"
        return "zero", "zero (the tokenizer has no pad, unk or eos token)"
    valid = list_baselines("text")
    if baseline not in valid:
        raise BaselineError(
            f"baseline must be one of {', '.join(valid)} or a token id; got {baseline!r}"
        )
    attribute = TOKEN_ATTRIBUTES.get(baseline)
    token_id = None if attribute is None else getattr(tokenizer, attribute, None)
    shown = "" if token_id is None else f" ({tokenizer.convert_ids_to_tokens(token_id)})"
    return baseline, f"{baseline}{shown}"


def padded(rows: list[list[int]], fill: int, device: torch.device, left: bool) -> torch.Tensor:
    """Rows of ids as one (batch, longest) tensor, filled on the left or on the right."""
    length = max(len(r) for r in rows)
    out = [[fill] * (length - len(r)) + r if left else r + [fill] * (length - len(r)) for r in rows]
    return torch.tensor(out, dtype=torch.long, device=device)


def device_of(model: Any) -> torch.device:
    """The device of the model's parameters."""
    return next(model.parameters()).device


def generate_greedy(
    setup: Setup,
    prompts: list[Prompt],
    max_new_tokens: int,
    options: dict[str, Any],
    encoder_decoder: bool,
) -> list[list[int]]:
    """Greedy continuations of the prompts, each cut after its end-of-sequence token.

    Causal LMs get left padding and return prompt + continuation; encoder-decoder models get
    right padding and return the decoder's start token + continuation.
    """
    device = device_of(setup.model)
    left = not encoder_decoder
    ids = padded([p.ids for p in prompts], setup.pad_id, device, left=left)
    mask = padded([[1] * len(p.ids) for p in prompts], 0, device, left=left)
    kwargs = {"max_new_tokens": max_new_tokens, "do_sample": False, "pad_token_id": setup.pad_id}
    # Eval mode for the generation too (the user's own mode comes back after).
    with inference_state(setup.model), torch.no_grad():
        out = setup.model.generate(input_ids=ids, attention_mask=mask, **{**kwargs, **options})
    skip = 1 if encoder_decoder else ids.shape[1]
    stops = eos_ids(setup.model, setup.tokenizer)
    return [trim_at_eos(row[skip:], stops) for row in out.tolist()]


def trim_at_eos(ids: list[int], eos_ids: set[int]) -> list[int]:
    """Generated ids up to and including the first end-of-sequence token."""
    for n, token in enumerate(ids):
        if token in eos_ids:
            return ids[: n + 1]
    return ids


def eos_ids(model: Any, tokenizer: Any) -> set[int]:
    """Every id that ends generation, from the generation config and the tokenizer."""
    found: set[int] = set()
    config = getattr(model, "generation_config", None)
    for value in (getattr(config, "eos_token_id", None), tokenizer.eos_token_id):
        if isinstance(value, int):
            found.add(value)
        elif isinstance(value, (list, tuple)):
            found.update(int(v) for v in value)
    return found


@dataclass(frozen=True)
class TokenScores:
    """The engine's target: each generated token's score at the position that predicts it.

    The engine applies the score (log-softmax, say) to the logits before calling this.

    Attributes:
        positions: (batch, K) position of the logits that predict token k of each example;
            counted back from the end of the sequence when ``from_end`` (left padding).
        from_end: Whether positions count back from the end.
        ids: (batch, K) the generated token ids.
        valid: (batch, K) False where an example has fewer than K tokens: score 0, no gradient.
    """

    positions: torch.Tensor
    from_end: bool
    ids: torch.Tensor
    valid: torch.Tensor

    def __call__(self, logits: torch.Tensor, example: torch.Tensor) -> torch.Tensor:
        """(rows, K) scores from scored logits (rows, seq, vocab) of the rows' examples."""
        pos = self.positions[example]
        if self.from_end:
            pos = logits.shape[1] - pos
        # (rows, K, vocab): only the positions that predict a generated token
        picked = logits.gather(1, pos.unsqueeze(-1).expand(-1, -1, logits.shape[-1]))
        values = picked.gather(2, self.ids[example].unsqueeze(-1))
        values = values.squeeze(-1)
        return torch.where(self.valid[example], values, torch.zeros_like(values))


def token_scores(
    positions: list[list[int]],
    generated: list[list[int]],
    from_end: bool,
    device: torch.device,
) -> TokenScores:
    """A :class:`TokenScores` from per-example lists, padded to the longest generation."""
    k = max(len(g) for g in generated)
    # Missing tokens point at a real position (1 from the end, or 0) and are masked out.
    fill = 1 if from_end else 0
    pos = [p + [fill] * (k - len(p)) for p in positions]
    ids = [g + [0] * (k - len(g)) for g in generated]
    valid = [[True] * len(g) + [False] * (k - len(g)) for g in generated]
    return TokenScores(
        torch.tensor(pos, dtype=torch.long, device=device),
        from_end,
        torch.tensor(ids, dtype=torch.long, device=device),
        torch.tensor(valid, dtype=torch.bool, device=device),
    )


@dataclass(frozen=True)
class Setup:
    """Everything fixed once per explain_generation() call and shared by its batches.

    Attributes:
        model: The language model, in eval mode.
        tokenizer: Its tokenizer.
        embedding: The input embedding module.
        baseline: A text baseline's registry name, or the token id that replaces every
            non-special token.
        baseline_description: The baseline in words, for the result.
        include_generated: Attribute to earlier generated tokens too (else they stay fixed).
        pad_id: Id used for padding (masked out, so any id works).
        options: The resolved integration settings (``options.score`` is each token's score).
    """

    model: Any
    tokenizer: Any
    embedding: Any
    baseline: str | int
    baseline_description: str
    include_generated: bool
    pad_id: int
    options: Options

    @classmethod
    def create(
        cls, model: Any, tokenizer: Any, baseline: Any, include_generated: bool, options: Options
    ) -> Setup:
        """The setup for ``model``: its embedding, the baseline chosen, a padding id."""
        from integrad.hf.tokens import input_embedding

        chosen, described = baseline_choice(baseline, tokenizer)
        ids = (tokenizer.pad_token_id, tokenizer.eos_token_id, 0)
        pad = next(i for i in ids if i is not None)
        embedding = input_embedding(model)
        return cls(model, tokenizer, embedding, chosen, described, include_generated, pad, options)

    def baseline_ids(self, ids: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """The baseline of a batch of ids: ids (an integer tensor) or embeddings."""
        from integrad.baselines import BaselineContext, make_baseline

        if isinstance(self.baseline, int):
            return torch.where(keep, ids, torch.full_like(ids, self.baseline))
        context = BaselineContext(tokenizer=self.tokenizer, keep=keep, embedding=self.embedding)
        return make_baseline(self.baseline, ids, context, "text")


@dataclass(frozen=True)
class Traced:
    """One prompt's attributions, before they become a result object.

    Attributes:
        context_ids: The columns' token ids.
        special: Special-token flag per column.
        template: Chat-template flag per column.
        n_prompt: Leading columns that are prompt tokens.
        n_visible: Columns each generated token could see.
        scores: (n_generated, n_context) float64 attributions summed over the hidden size.
        output: F_j(x) per generated token.
        baseline_output: F_j(x') per generated token.
        delta: Completeness error per generated token.
        n_evals: Gradient evaluations spent on the prompt.
        error_estimate: Adaptive integration's error estimate, or None.
        std: With noise, the spread of each cell across the noisy samples, else None.
        stability: With noise, per generated token, how alike the samples rank its context
            (:func:`integrad.core.noise.rank_stability`), else None.
        baseline_ids: The baseline's token per column, when the baseline is made of tokens.
    """

    context_ids: list[int]
    special: list[bool]
    template: list[bool]
    n_prompt: int
    n_visible: list[int]
    scores: torch.Tensor
    output: list[float]
    baseline_output: list[float]
    delta: list[float]
    n_evals: int
    error_estimate: float | None
    std: torch.Tensor | None = None
    stability: list[float | None] | None = None
    baseline_ids: list[int] | None = None


def stability(
    samples: torch.Tensor, special: list[bool], n_visible: list[int]
) -> list[float | None]:
    """Per generated token, :func:`~integrad.core.noise.rank_stability` of its row over the
    context it could see, special tokens left out; ``samples`` is (n_samples, G, n_context)."""
    return [
        rank_stability(
            samples[:, j], torch.tensor([c < seen and not special[c] for c in range(len(special))])
        )
        for j, seen in enumerate(n_visible)
    ]


def check_causal(scores: torch.Tensor, n_visible: list[int], model_name: str) -> None:
    """Refuses attributions to context a generated token could not have seen.

    A causal model's token j has no gradient path to later positions, so those cells are
    exactly zero; anything else means the model reads ahead and the matrix would mislead.
    """
    for j, visible in enumerate(n_visible):
        ahead = scores[j, visible:].abs().max() if visible < scores.shape[1] else 0.0
        scale = scores[j, :visible].abs().max() if visible else 0.0
        if ahead > 1e-5 * max(float(scale), 1e-12):
            raise ModelError(
                f"{model_name}: generated token {j} got attributions from tokens after it "
                f"(up to {float(ahead):.3g}): the model is not causal, so its output does not "
                "depend on its prefix alone. explain_generation needs a causal or "
                "encoder-decoder language model"
            )
