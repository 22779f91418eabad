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

from integrad.errors import InputError
from integrad.hf.loading import LoadedModel, ModelSpec, is_encoder_decoder, load_model, model_kind
from integrad.hf.tokens import check_vocab, max_length
from integrad.modalities import causal, seq2seq
from integrad.modalities.generation_inputs import (
    Prompt,
    Setup,
    Traced,
    check_causal,
    encode_prompt,
    forced_targets,
    generate_greedy,
    prompts_of,
)
from integrad.options import Options, deprecated
from integrad.results.generation import GenerationExplanation, GenerationExplanations

#: Most prompts generated and attributed together.
BATCH_PROMPTS = 8
#: The baseline of causal LMs when none is given: zero embeddings (the first position kept,
#: see ``keep_first``). On SmolLM2-135M it converged within 0.1% of the output change and
#: named " capital" the top token for " Paris" and " Rome"; the pad token converged in fewer
#: evaluations but put " of" first (benchmarks/llm_convergence.py, benchmarks/RESULTS.md).
CAUSAL_BASELINE = "zero"


def explain_generation(
    model: ModelSpec = None,
    prompt: str | Sequence[Any] | None = None,
    *deprecated_tokenizer_first: Any,
    tokenizer: Any = None,
    target: str | Sequence[str] | None = None,
    max_new_tokens: int = 20,
    baseline: str | int | None = None,
    include_generated: bool = True,
    keep_first: bool = True,
    generation_options: Mapping[str, Any] | None = None,
    trust_remote_code: bool = False,
    local_files_only: bool = False,
    **settings: Any,
) -> GenerationExplanation | GenerationExplanations:
    """Attributes each token a language model generated to the prompt and earlier tokens.

    Args:
        model: A transformers causal LM (``AutoModelForCausalLM``) or encoder-decoder model
            (``AutoModelForSeq2SeqLM``: T5, BART), a ``pipeline`` object, or a model name or
            local folder (see :func:`integrad.hf.loading.load_model`).
        prompt: A string; a conversation (a list of ``{"role", "content"}`` dicts), rendered
            with the tokenizer's chat template, whose own tokens are marked in the result
            (``template``) so views can hide them; or a list of those, explained in batches.
        tokenizer: Its tokenizer, or a name or folder; None takes it from the pipeline, name,
            folder or ``model.config.name_or_path``. (The old order
            ``explain_generation(model, tokenizer, prompt)`` still works, with a warning.)
        target: None to explain the model's own (greedy) generation, or the continuation to
            explain (a forced output): a string for every prompt or one per prompt. It is
            tokenized on its own, without special tokens, so include the leading space a
            word-initial token needs.
        max_new_tokens: Most tokens generated (generation stops earlier at end-of-sequence).
        baseline: A name from ``integrad.list_baselines("text")`` (``"pad"``, ``"unk"``,
            ``"eos"``: every non-special token replaced by that token; ``"zero"``: zero
            embedding vectors) or a token id; None takes ``"zero"`` for causal models
            (:data:`CAUSAL_BASELINE`) and the first of pad, unk and eos the tokenizer has for
            encoder-decoder models. BOS and other special tokens stay as they are.
        include_generated: Attribute to the generated tokens before each token as well as to
            the prompt (True); False keeps them fixed at their values, as Captum's
            ``LLMGradientAttribution`` does, and attributes to the prompt alone.
        keep_first: Keep a causal model's first position at its real token in the baseline
            (True, the default), as BOS and other special tokens are kept, so the first token
            scores 0 and is marked ``special`` in the result. Causal LMs make the first
            position an attention sink, and moving it along the path makes the integrand
            spiky: on SmolLM2-135M, F along the path from the pad baseline is monotone with
            it and not without it, and completeness errors fall from about the size of the
            output change to a few percent (``benchmarks/llm_convergence.py``). A prompt
            that starts with a special token (BOS) keeps it anyway. Ignored for
            encoder-decoder models.
        generation_options: Further arguments for ``model.generate`` (sampling, say).
        trust_remote_code: Allow checkpoints loaded by name to run their own code.
        local_files_only: Load names from the local cache only.
        **settings: Integration settings (``method``, ``tol``, ``noise``, ``score``, ...):
            see :class:`integrad.Options`. Here the default method is ``"adaptive"`` (to the
            library's tol, 1e-3: the estimate covers all of a prompt's generated tokens
            together, and at 1e-2 a late token with a small change kept an error of 6.6% of
            it) and the default score ``"log_prob"`` of each generated token.

    Returns:
        A :class:`~integrad.results.generation.GenerationExplanation` for one prompt, or
        :class:`~integrad.results.generation.GenerationExplanations` for a list.

    Example:
        >>> import integrad
        >>> e = integrad.explain_generation("gpt2", "Paris is in")  # doctest: +SKIP
        >>> e.generated_text, e.top_context(0)  # doctest: +SKIP
        (' France', 'Paris')
    """
    if deprecated_tokenizer_first:  # explain_generation(model, tokenizer, prompt)
        if len(deprecated_tokenizer_first) > 1 or tokenizer is not None:
            raise TypeError("explain_generation takes (model, prompt, *, tokenizer=...)")
        deprecated("the tokenizer as second argument", "tokenizer", "explain_generation")
        tokenizer, prompt = prompt, deprecated_tokenizer_first[0]
    per_batch = BATCH_PROMPTS
    if "prompts_per_batch" in settings:
        deprecated("prompts_per_batch", "batch_size", "explain_generation")
        per_batch = settings.pop("prompts_per_batch")
    items, single = prompts_of(prompt)
    _check_arguments(max_new_tokens, include_generated, keep_first)
    options = Options.from_settings(
        settings,
        default_method="adaptive",
        default_score="log_prob",
        function="explain_generation()",
    )
    loaded = load_generation_model(model, tokenizer, trust_remote_code, local_files_only)
    kind = model_kind(loaded.model)
    tok = loaded.tokenizer
    prompts = [encode_prompt(tok, p, i) for i, p in enumerate(items)]
    if keep_first and kind == "causal":
        prompts = [p.with_first_kept() for p in prompts]
    forced = forced_targets(target, len(prompts), tok)
    if baseline is None and kind == "causal":
        baseline = CAUSAL_BASELINE
    setup = Setup.create(loaded.model, tok, baseline, include_generated, options)
    check_vocab(setup.embedding, tok, [p.ids for p in prompts] + (forced or []))
    _check_length(loaded.model, tok, prompts, forced, max_new_tokens, kind)
    trace = seq2seq.trace if kind == "seq2seq" else causal.trace

    results: list[GenerationExplanation | None] = [None] * len(prompts)
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i].ids))
    for lo in range(0, len(order), per_batch):
        group = order[lo : lo + per_batch]
        batch = [prompts[i] for i in group]
        if forced is None:
            extra = dict(generation_options or {})
            generated = generate_greedy(setup, batch, max_new_tokens, extra, kind == "seq2seq")
        else:
            generated = [forced[i] for i in group]
        for i, g, t in zip(group, generated, trace(setup, batch, generated), strict=True):
            check_causal(t.scores, t.n_visible, loaded.name)
            results[i] = _explanation(setup, loaded.name, prompts[i], g, t, forced, kind)
    return results[0] if single else GenerationExplanations(tuple(results))  # type: ignore[arg-type]


def load_generation_model(
    model: ModelSpec, tokenizer: Any = None, trust: bool = False, local: bool = False
) -> LoadedModel:
    """The model and tokenizer; names and folders load as causal or encoder-decoder LMs."""
    options = {"trust_remote_code": trust, "local_files_only": local}
    task = "causal-lm"
    if isinstance(model, (str, os.PathLike)) and is_encoder_decoder(model, **options):
        task = "seq2seq-lm"
    return load_model(model, tokenizer, task=task, **options)


def _check_arguments(max_new_tokens: Any, include_generated: Any, keep_first: Any) -> None:
    if (
        isinstance(max_new_tokens, bool)
        or not isinstance(max_new_tokens, int)
        or max_new_tokens < 1
    ):
        raise InputError(f"max_new_tokens must be a positive int; got {max_new_tokens!r}")
    if not isinstance(include_generated, bool):
        raise InputError(f"include_generated must be True or False; got {include_generated!r}")
    if not isinstance(keep_first, bool):
        raise InputError(f"keep_first must be True or False; got {keep_first!r}")


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
    tok = setup.tokenizer
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
        std=None if t.std is None else tuple(tuple(row) for row in t.std.tolist()),
        stability=None if t.stability is None else tuple(t.stability),
        baseline_ids=None if t.baseline_ids is None else tuple(t.baseline_ids),
        n_visible=tuple(t.n_visible),
        output=tuple(t.output),
        baseline_output=tuple(t.baseline_output),
        delta=tuple(t.delta),
        forced=forced is not None,
        encoder_decoder=kind == "seq2seq",
        n_evals=t.n_evals,
        baseline=setup.baseline_description,
        model_name=name,
        error_estimate=t.error_estimate,
        options=setup.options,
    )
