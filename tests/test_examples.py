"""The runnable examples run: each writes its pictures and page into a fresh folder."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    ("script", "written"),
    [
        ("breast_cancer_mlp.py", {"breast_cancer.html"}),
        ("multimodal_reviews.py", set()),
        ("digits_cnn.py", {"digits.html"}),
    ],
)
def test_example_runs_and_writes_its_files(script, written, tmp_path):
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    files = {p.name for p in tmp_path.iterdir()}
    assert written <= files and any(name.endswith(".png") for name in files), files
