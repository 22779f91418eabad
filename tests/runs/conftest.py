"""Inputs for the dataset-run tests: a CSV of a few hundred rows made here, with the rows a
run must not choke on (empty, markup, overlong, undecodable bytes)."""

from __future__ import annotations

import random

import pytest

from tests.tiny_bert import WORDS

ATTACK = "<img src=x onerror=alert(1)>"
FAST = {"method": "gausslegendre", "n_steps": 8}
#: Row index -> why it fails (the rest are explained).
FAILING = {3: "empty", 7: "whitespace", 11: "undecodable"}
ATTACK_ROW, LONG_ROW = 5, 9


def sentence(rng: random.Random) -> str:
    plain = [w for w in WORDS if not w.startswith("##") and w.isalpha()]
    return " ".join(rng.choice(plain) for _ in range(rng.randint(1, 9)))


def texts(n: int, seed: int = 0) -> list[str]:
    """``n`` texts from the tiny vocabulary, with the special rows at their indices (the
    undecodable row is a placeholder here; :func:`write_csv` writes its bytes)."""
    rng = random.Random(seed)
    out = [sentence(rng) for _ in range(n)]
    out[3], out[7], out[11] = "", "   ", "undecodable"
    out[ATTACK_ROW] = ATTACK
    out[LONG_ROW] = " ".join(["good food"] * 60)  # > the tiny tokenizer's 48 tokens
    return out


def write_csv(path, rows: list[str]) -> None:
    """A CSV with columns id,text; row 11's text is bytes that are not UTF-8."""
    lines = [b"id,text"]
    for i, text in enumerate(rows):
        cell = b"\xff\xfe bad \xc3" if i == 11 else f'"{text}"'.encode()
        lines.append(f"row-{i},".encode() + cell)
    path.write_bytes(b"\n".join(lines) + b"\n")


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """(path of a 300-row CSV, its texts)."""
    rows = texts(300)
    path = tmp_path_factory.mktemp("data") / "texts.csv"
    write_csv(path, rows)
    return path, rows


@pytest.fixture(scope="session")
def full_run(tmp_path_factory, corpus, tiny_bert_folder):
    """An uninterrupted run of the tiny BERT over the corpus, in shards of 64."""
    import integrad

    out = tmp_path_factory.mktemp("runs") / "full"
    integrad.explain_dataset(
        str(tiny_bert_folder), corpus[0], out=out, id_column="id", shard_size=64, quiet=True,
        **FAST,
    )  # fmt: skip
    return out
