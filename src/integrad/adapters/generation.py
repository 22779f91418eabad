"""Language model generations: which context tokens made the model say each token it said.

The prompt and the generated (or forced) tokens form one sequence, attributed at the input
embeddings. A causal model's logits at position ``p`` depend only on the tokens up to
``p``, so ONE interpolated forward over the whole sequence serves every generated token:
the engine's multi-target mode scores all K generated tokens on the same forward pass and
runs one backward each. Token ids are never interpolated: the baseline replaces every
non-special token by one token (pad, unk or eos) or by zero embeddings, keeping BOS and
other special tokens. Several prompts are left-padded into one batch, with the attention
mask and explicit position ids, so padding changes nothing. Encoder-decoder models (T5,
BART) are handled in :mod:`integrad.adapters.seq2seq`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from torch import nn

from integrad.adapters import causal, seq2seq
from integrad.adapters.generation_inputs import (
    Prompt,
    Setup,
    Traced,
    baseline_token,
    check_causal,
    encode_prompt,
    forced_targets,
    generate_greedy,
    prompts_of,
    score_name,
)
from integrad.adapters.loading import LoadedModel, ModelSpec, load_model
from integrad.adapters.options import check_options, plain
from integrad.adapters.token_model import check_vocab, input_embedding, max_length
from integrad.errors import InputError, ModelError
from integrad.results.generation import GenerationExplanation, GenerationExplanations

# Arguments of integrad.attribute that explain_generation() sets itself.
_SET_HERE = {"forward", "inputs", "baselines", "target", "layer", "forward_kwargs"}
_SET_HERE |= {"layer_baselines", "score"}


def explain_generation(
    model: ModelSpec,
    tokenizer: Any = None,
    prompt: str | Sequence[Any] | None = None,
    *,
    target: str | Sequence[str] | None = None,
    max_new_tokens: int = 20,
    score: str = "log_prob",
    baseline: str | int = "pad",
    include_generated: bool = True,
    method: str = "adaptive",
    n_steps: int = 50,
    tol: float = 1e-3,
    prompts_per_batch: int = 8,
    generation_options: Mapping[str, Any] | None = None,
    trust_remote_code: bool = False,
    local_files_only: bool = False,
    **ig_options: Any,
) -> GenerationExplanation | GenerationExplanations:
    """Attributes each token a language model generated to the prompt and earlier tokens.

    Args:
        model: A transformers causal LM (``AutoModelForCausalLM``) or encoder-decoder model
            (``AutoModelForSeq2SeqLM``: T5, BART), a ``pipeline`` object, or a model name or
            local folder (see :func:`integrad.adapters.loading.load_model`).
        tokenizer: Its tokenizer, or a name or folder; None takes it from the pipeline, name,
            folder or ``model.config.name_or_path``.
        prompt: A string; a conversation (a list of ``{"role", "content"}`` dicts), rendered
            with the tokenizer's chat template, whose own tokens are marked in the result
            (``template``) so views can hide them; or a list of those, explained in batches.
        target: None to generate greedily, or the continuation to explain (a forced output):
            a string for every prompt or one per prompt. It is tokenized on its own, without
            special tokens, so include the leading space a word-initial token needs.
        max_new_tokens: Most tokens generated (generation stops earlier at end-of-sequence).
        score: What is attributed for each generated token: ``"log_prob"`` (default),
            ``"probability"`` (or ``"prob"``) or ``"logit"``.
        baseline: ``"pad"`` (every non-special token replaced by the pad token, or the unk
            token, or the eos token, whichever the tokenizer has first), ``"unk"``,
            ``"eos"``, ``"zero"`` (zero embedding vectors), or a token id. BOS and other
            special tokens stay as they are, so they get no attribution.
        include_generated: Attribute to the generated tokens before each token as well as to
            the prompt (True); False keeps them fixed at their values, as Captum's
            ``LLMGradientAttribution`` does, and attributes to the prompt alone.
        method: Integration rule; ``"adaptive"`` integrates every prompt to ``tol``.
        n_steps: Points on the path for fixed rules.
        tol: Relative L2 accuracy of each prompt's attributions, for ``"adaptive"``.
        prompts_per_batch: Most prompts generated and attributed together.
        generation_options: Further arguments for ``model.generate`` (sampling, say).
        trust_remote_code: Allow checkpoints loaded by name to run their own code.
        local_files_only: Load names from the local cache only.
        **ig_options: Further :func:`integrad.attribute` options (``batch_size``,
            ``max_evals``, ``memory_budget``, ``noise``).

    Returns:
        A :class:`~integrad.results.generation.GenerationExplanation` for one prompt, or
        :class:`~integrad.results.generation.GenerationExplanations` for a list.

    Example:
        >>> import integrad
        >>> e = integrad.explain_generation("gpt2", None, "Paris is in")  # doctest: +SKIP
        >>> e.generated_text, e.top_context(0)  # doctest: +SKIP
        (' France', 'Paris')
    """
    items, single = prompts_of(prompt)
    score = score_name(score)
    _check_options(ig_options, max_new_tokens, prompts_per_batch, include_generated)
    loaded = _load(model, tokenizer, trust_remote_code, local_files_only)
    kind = model_kind(loaded.model)
    tok = loaded.tokenizer
    prompts = [encode_prompt(tok, p, i) for i, p in enumerate(items)]
    forced = forced_targets(target, len(prompts), tok)
    token, described = baseline_token(baseline, tok)
    embedding = input_embedding(loaded.model)
    check_vocab(embedding, tok, [p.ids for p in prompts] + (forced or []))
    _check_length(loaded.model, tok, prompts, forced, max_new_tokens, kind)
    options = {"method": method, "n_steps": n_steps, "tol": tol, **ig_options}
    pad = next(i for i in (tok.pad_token_id, tok.eos_token_id, 0) if i is not None)
    setup = Setup(
        model=loaded.model,
        tokenizer=tok,
        embedding=embedding,
        score=score,
        baseline_id=token,
        baseline_description=described,
        include_generated=include_generated,
        pad_id=pad,
        options=options,
    )
    trace = seq2seq.trace if kind == "seq2seq" else causal.trace

    results: list[GenerationExplanation | None] = [None] * len(prompts)
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i].ids))
    for lo in range(0, len(order), prompts_per_batch):
        group = order[lo : lo + prompts_per_batch]
        batch = [prompts[i] for i in group]
        if forced is None:
            options = dict(generation_options or {})
            generated = generate_greedy(setup, batch, max_new_tokens, options, kind == "seq2seq")
        else:
            generated = [forced[i] for i in group]
        for i, g, t in zip(group, generated, trace(setup, batch, generated), strict=True):
            check_causal(t.scores, t.n_visible, loaded.name)
            results[i] = _explanation(setup, loaded.name, prompts[i], g, t, forced, kind)
    return results[0] if single else GenerationExplanations(tuple(results))  # type: ignore[arg-type]


def model_kind(model: nn.Module) -> str:
    """``"causal"`` or ``"seq2seq"``; anything else is refused.

    Known by class: a transformers causal LM or encoder-decoder LM class, or a class named
    like one (``...ForCausalLM``, ``...LMHeadModel``, ``...ForConditionalGeneration``).
    """
    from transformers.models.auto import modeling_auto

    def names(mapping: Mapping[str, Any]) -> set[str]:
        out: set[str] = set()
        for value in mapping.values():
            out.update([value] if isinstance(value, str) else value)
        return out

    name = type(model).__name__
    config = getattr(model, "config", None)
    seq2seq_names = names(modeling_auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES)
    if getattr(config, "is_encoder_decoder", False) and (
        name in seq2seq_names or name.endswith("ForConditionalGeneration")
    ):
        return "seq2seq"
    causal_names = names(modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES)
    if name in causal_names or name.endswith(("ForCausalLM", "LMHeadModel")):
        return "causal"
    raise ModelError(
        f"{name} is not a causal language model (AutoModelForCausalLM) or an encoder-decoder "
        "model (AutoModelForSeq2SeqLM): explain_generation needs a model that predicts the "
        "next token. Load one with AutoModelForCausalLM.from_pretrained(name); for "
        "classifiers use integrad.explain, for other models integrad.attribute"
    )


def _load(model: ModelSpec, tokenizer: Any, trust: bool, local: bool) -> LoadedModel:
    """The model and tokenizer; names and folders load as causal or encoder-decoder LMs."""
    options = {"trust_remote_code": trust, "local_files_only": local}
    task = "causal-lm"
    if isinstance(model, (str, os.PathLike)) and _is_encoder_decoder(model, options):
        task = "seq2seq-lm"
    return load_model(model, tokenizer, task=task, **options)


def _is_encoder_decoder(name: str | os.PathLike, options: dict[str, Any]) -> bool:
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(os.fspath(name), **options)
    except (OSError, ValueError):  # load_model reports names it cannot find
        return False
    return bool(getattr(config, "is_encoder_decoder", False))


def _check_options(
    options: dict[str, Any], max_new_tokens: Any, per_batch: Any, include_generated: Any
) -> None:
    check_options(options, "explain_generation", _SET_HERE)
    for name, value in (("max_new_tokens", max_new_tokens), ("prompts_per_batch", per_batch)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{name} must be a positive int; got {value!r}")
    if not isinstance(include_generated, bool):
        raise InputError(f"include_generated must be True or False; got {include_generated!r}")


def _check_length(
    model: nn.Module,
    tok: Any,
    prompts: list[Prompt],
    forced: list[list[int]] | None,
    max_new_tokens: int,
    kind: str,
) -> None:
    """Refuses prompts (plus generation, for causal models) longer than the model allows."""
    limit = max_length(model, tok)
    if limit is None:
        return
    for i, p in enumerate(prompts):
        new = 0 if kind == "seq2seq" else len(forced[i]) if forced else max_new_tokens
        if len(p.ids) + new > limit:
            raise InputError(
                f"prompt {i} has {len(p.ids)} tokens and {new} more would be generated, but the "
                f"model reads at most {limit}; shorten the prompt or lower max_new_tokens"
            )


def _explanation(
    setup: Setup,
    name: str,
    prompt: Prompt,
    generated: list[int],
    t: Traced,
    forced: list[list[int]] | None,
    kind: str,
) -> GenerationExplanation:
    tok, options = setup.tokenizer, dict(setup.options)
    method, n_steps = options.pop("method"), options.pop("n_steps")
    tol = options.pop("tol")
    if method == "adaptive":
        options["tol"] = tol
    return GenerationExplanation(
        prompt=prompt.text,
        generated_text=tok.decode(generated),
        context_tokens=tuple(tok.convert_ids_to_tokens(t.context_ids)),
        context_ids=tuple(t.context_ids),
        n_prompt=t.n_prompt,
        special=tuple(t.special),
        template=tuple(t.template),
        generated_tokens=tuple(tok.convert_ids_to_tokens(generated)),
        generated_ids=tuple(generated),
        scores=tuple(tuple(row) for row in t.scores.tolist()),
        n_visible=tuple(t.n_visible),
        output=tuple(t.output),
        baseline_output=tuple(t.baseline_output),
        delta=tuple(t.delta),
        score=setup.score,
        forced=forced is not None,
        encoder_decoder=kind == "seq2seq",
        method=method,
        n_steps=None if method == "adaptive" else n_steps,
        n_evals=t.n_evals,
        baseline=setup.baseline_description,
        model_name=name,
        error_estimate=t.error_estimate,
        options={k: plain(v) for k, v in options.items()},
    )
