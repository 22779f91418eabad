"""The command line answers help and mistakes without loading torch or any model.

Each case runs in a fresh interpreter, so what was imported is what the command imported.
"""

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
from integrad.cli.main import main
try:
    code = main({argv!r})
except SystemExit as stop:
    code = stop.code
heavy = sorted(m for m in ("torch", "transformers", "pandas", "matplotlib") if m in sys.modules)
print(json.dumps({{"code": code, "heavy": heavy}}))
"""


def run(argv):
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--help"], None),
        (["explain", "--help"], None),
        (["explain", "   "], "the text is empty or only whitespace"),
        (
            ["explain", "fine words", "--target", "HAPPY"],
            "unknown label 'HAPPY'; the model's labels",
        ),
        (
            ["explain", "fine words", "--html", "/no/such/folder/x.html"],
            "does not exist; create it",
        ),
        (["explain", "fine", "--method", "gausslegendre", "--tol", "1e-3"], None),
        (["explain", "fine", "--model", "someone/not-here", "--offline"], "forbids downloading"),
        (["generate", "--help"], None),
        (["generate", "  "], "the text is empty or only whitespace"),
        (["generate", "Paris is", "--max-new-tokens", "0"], "--max-new-tokens must be at least 1"),
        (["generate", "Paris is", "--target", ""], "--target is empty"),
        (["generate", "Paris is", "--png", "/no/such/folder/x.png"], "does not exist; create it"),
        (["generate", "Paris is", "--html", "/tmp"], "is a folder; give a file name"),
        (["generate", "Paris is", "--steps", "0"], "n_steps"),
        (
            ["generate", "Paris is", "--model", "someone/not-here", "--offline"],
            "forbids downloading",
        ),
    ],
)
def test_help_and_mistakes_need_no_model(argv, message):
    report, err = run(argv)
    assert report["heavy"] == [], report  # nothing heavy was imported, so no weights loaded
    if message is not None:
        assert report["code"] == 1 and message in err
    elif "--tol" in argv:  # contradicting settings are refused before anything loads
        assert report["code"] == 1 and "tol applies to method='adaptive'" in err
    else:
        assert report["code"] == 0
