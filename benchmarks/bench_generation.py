"""explain_generation against Captum's LLMGradientAttribution: cost per generated token.

Same model, prompt, continuation and baseline (every prompt token but BOS replaced by
<pad>), and the same quantity: each generated token's log-probability attributed to the
prompt tokens, the tokens generated before it held fixed (Captum's definition, which is
integrad's ``include_generated=False``; integrad's default, which attributes to those
tokens too, is timed as well and costs the same).

Accuracy is the largest relative L2 error of one generated token's row of scores against
a Gauss-Legendre reference with ``--reference-steps`` points (the half rule's agreement
with it is printed). It is measured on a float64 copy of the model, so that quadrature
error, not float32 rounding (about 3e-7 here), is what is compared. integrad runs adaptive
integration at tol=1e-3; Captum runs Gauss-Legendre at the smallest n_steps from
{4, 6, 8, 12, 16, 24, 32, 50, 100} that is at least as accurate (Captum multiplies gradients
by float32 step weights, which keeps its error above about 1e-9 even in float64: where it cannot
reach integrad's error, it is matched within twice its best). Both are then timed in float32, in ONE
process, interleaved, median of the repeats. Finally the cost of one integrad evaluation
is split into its forward and its backward passes, and Captum at its own default
(n_steps=50) is timed for reference.

The model is a randomly initialised GPT-2 (4 layers, hidden 256, vocabulary 5000) with a
word-level tokenizer built here: no downloads.

Run: python benchmarks/bench_generation.py [--threads 1] [--init-range 0.02]
"""

from __future__ import annotations

import argparse
import copy
import random
import time

import torch
from _common import interleaved, machine
from captum.attr import LayerIntegratedGradients, LLMGradientAttribution, TextTokenInput
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

import integrad

SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]
CAPTUM_STEPS = (4, 6, 8, 12, 16, 24, 32, 50, 100)


def build(
    vocab_size: int, layers: int, hidden: int, init_range: float = 0.02
) -> tuple[GPT2LMHeadModel, PreTrainedTokenizerFast]:
    """A random GPT-2 and a word-level tokenizer that adds BOS, both built in-process."""
    words = SPECIALS + [f"w{i}" for i in range(vocab_size - len(SPECIALS))]
    tk = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tk.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 2)])
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
        unk_token="<unk>",
    )  # fmt: skip
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=vocab_size, n_positions=256, n_embd=hidden, n_layer=layers,
        n_head=hidden // 64, bos_token_id=2, eos_token_id=3, pad_token_id=0,
        initializer_range=init_range,
    )  # fmt: skip
    return GPT2LMHeadModel(config).eval(), tok


def row_error(rows: torch.Tensor, reference: torch.Tensor) -> float:
    """Largest relative L2 error of one generated token's row, over the generated tokens."""
    return ((rows - reference).norm(dim=1) / reference.norm(dim=1)).max().item()


class Contenders:
    """integrad and Captum on one model, prompt and forced continuation."""

    def __init__(self, model, tok, prompt: str, continuation: str, target_ids, n_prompt: int):
        self.model, self.tok, self.prompt, self.continuation = model, tok, prompt, continuation
        self.target_ids, self.n_prompt = target_ids, n_prompt
        embeddings = model.get_input_embeddings()
        self.llm = LLMGradientAttribution(LayerIntegratedGradients(model, embeddings), tok)
        self.input = TextTokenInput(prompt, tok, baselines=tok.pad_token_id, skip_tokens=[2])

    def ours(self, include_generated: bool = False, **options) -> tuple[object, torch.Tensor]:
        e = integrad.explain_generation(
            self.model, self.tok, self.prompt, target=self.continuation,
            include_generated=include_generated, **options,
        )  # fmt: skip
        # Captum drops the BOS column (skip_tokens) and has no columns for generated tokens.
        return e, torch.tensor(e.matrix[:, 1 : self.n_prompt])

    def theirs(self, n_steps: int) -> torch.Tensor:
        res = self.llm.attribute(self.input, target=self.target_ids, n_steps=n_steps)
        return res.token_attr.double()


def accuracy(c: Contenders, reference_steps: int) -> tuple[int, str]:
    """Errors of both at their settings; the Captum n_steps that matches integrad."""
    start = time.perf_counter()
    _, reference = c.ours(method="gausslegendre", n_steps=reference_steps)
    seconds = time.perf_counter() - start
    _, half = c.ours(method="gausslegendre", n_steps=reference_steps // 2)
    e, rows = c.ours(method="adaptive", tol=1e-3)
    ours = row_error(rows, reference)
    errors = {n: row_error(c.theirs(n), reference) for n in CAPTUM_STEPS}
    # Captum multiplies gradients by float32 step weights, which floors its error near 1e-9
    # even in float64; it is matched at its floor where it cannot reach integrad's error.
    floor = 2 * min(errors.values())
    matching = [n for n in CAPTUM_STEPS if errors[n] <= max(ours, floor)]
    lines = [
        f"reference: {reference_steps}-point Gauss-Legendre in float64 ({seconds:.0f} s); "
        f"the {reference_steps // 2}-point rule agrees with it to "
        f"{row_error(half, reference):.1e}",
        f"integrad adaptive tol=1e-3: {e.n_evals} gradient evaluations shared by all "
        f"{len(c.target_ids)} tokens, estimated error {e.error_estimate:.1e}, row error "
        f"{ours:.1e}",
    ]
    lines += [f"captum gausslegendre n_steps={n:>3}: row error {errors[n]:.1e}" for n in errors]
    if floor > ours:
        lines.append(
            f"captum cannot go below {floor / 2:.1e} (float32 step weights): matched at "
            f"{floor:.1e}, twice its best"
        )
    return (matching[0] if matching else CAPTUM_STEPS[-1]), "\n".join(lines)


def split_cost(model, n_prompt: int, n_new: int, rows: int) -> str:
    """One evaluation round of integrad by hand: a forward of ``rows`` interpolated rows over
    the whole sequence, then one backward per generated token, timed separately."""
    for p in model.parameters():
        p.requires_grad_(False)
    length = n_prompt + n_new - 1
    ids = torch.randint(4, model.config.vocab_size, (rows, length))
    embeds = model.get_input_embeddings()(ids)

    def forward() -> tuple[torch.Tensor, torch.Tensor]:
        leaf = embeds.detach().requires_grad_(True)
        logits = model(inputs_embeds=leaf, logits_to_keep=n_new, use_cache=False).logits
        return leaf, logits.log_softmax(-1).gather(2, ids[:, -n_new:, None])[..., 0]

    forward()  # warm-up
    start = time.perf_counter()
    leaf, scores = forward()
    mid = time.perf_counter()
    for j in range(n_new):
        torch.autograd.grad(scores[:, j].sum(), leaf, retain_graph=j < n_new - 1)
    end = time.perf_counter()
    return (
        f"one round of {rows} rows: forward {mid - start:.3f} s, {n_new} backward passes "
        f"{end - mid:.3f} s ({(end - mid) / n_new:.3f} s each): the backward passes are "
        f"{(end - mid) / (end - start):.0%} of integrad's cost"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompt-tokens", type=int, default=30)
    parser.add_argument("--new-tokens", type=int, default=20)
    parser.add_argument("--vocab", type=int, default=5000)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--init-range", type=float, default=0.02, help="weight init std")
    parser.add_argument("--reference-steps", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    model, tok = build(args.vocab, args.layers, args.hidden, args.init_range)
    rng = random.Random(0)
    prompt = " ".join(f"w{rng.randrange(args.vocab - 4)}" for _ in range(args.prompt_tokens))
    # Greedy generation once; both then explain the same forced continuation.
    first = integrad.explain_generation(
        model, tok, prompt, max_new_tokens=args.new_tokens, method="gausslegendre", n_steps=2
    )
    continuation = " ".join(first.generated_tokens)
    target_ids = torch.tensor(first.generated_ids)
    n_prompt, n_new = first.n_prompt, len(first.generated_ids)

    precise = Contenders(
        copy.deepcopy(model).double(), tok, prompt, continuation, target_ids, n_prompt
    )
    steps, report = accuracy(precise, args.reference_steps)
    c = Contenders(model, tok, prompt, continuation, target_ids, n_prompt)
    e, _ = c.ours(method="adaptive", tol=1e-3)
    times = interleaved(
        {
            "integrad": lambda: c.ours(method="adaptive", tol=1e-3),
            "integrad, generated tokens attributed too": lambda: c.ours(
                include_generated=True, method="adaptive", tol=1e-3
            ),
            "captum": lambda: c.theirs(steps),
            "captum at its default n_steps=50": lambda: c.theirs(50),
        },
        repeats=args.repeats,
    )
    print(f"machine: {machine()}")
    print(
        f"GPT-2 {args.layers} layers, hidden {args.hidden}, vocabulary {args.vocab}, init std "
        f"{args.init_range}; prompt {n_prompt} tokens (BOS included), {n_new} generated tokens"
    )
    print(report)
    print(f"timed in float32: integrad {e.n_evals} evaluations, captum n_steps={steps}")
    for name, seconds in times.items():
        print(f"{name:>42}: {seconds:.3f} s, {seconds / n_new * 1000:.1f} ms per generated token")
    print(f"captum (n_steps={steps}) / integrad: {times['captum'] / times['integrad']:.2f}x")
    default = times["captum at its default n_steps=50"] / times["integrad"]
    print(f"at each one's default settings (captum n_steps=50, integrad tol=1e-3): {default:.2f}x")
    print(split_cost(model, n_prompt, n_new, int(e.n_evals)))


if __name__ == "__main__":
    main()
