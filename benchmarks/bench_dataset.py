"""Dataset runs: rows per second, memory against rows, and the ray engine's overhead.

1. Throughput on held-out tweets (the default model, gausslegendre n=50, the pad baseline,
   the predicted class), in one process: ``integrad.explain_dataset`` (local engine) against
   a Python loop calling ``integrad.explain`` per text, against Captum's
   LayerIntegratedGradients per text at n=50, and against one ``integrad.explain`` call on
   the whole list (the runner's own overhead: reading, shards, Parquet, manifest).
2. Peak memory (max RSS) of a run over N and 10 x N rows (the tweets repeated), each in a
   fresh subprocess, from a CSV: the ratio should stay at most 1.1.
3. Ray on a local instance with 2 actors against the local engine on the same rows.

Run: ``python benchmarks/bench_dataset.py [--small]`` (--small: 200 tweets, memory at 200
and 2,000 rows, ray on 100 rows). The full sizes are 2,000 tweets, 1,000 / 10,000 rows and
ray on 1,000 rows; ``--texts``, ``--memory-rows A B``, ``--memory-steps`` and ``--ray-rows``
set them one by one.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from _common import default_model, heldout_sentences, machine

import integrad
from integrad.runs.rows import TextRows

SETTINGS = {"method": "gausslegendre", "n_steps": 50, "baseline": "pad"}
MEMORY_SETTINGS = {"method": "gausslegendre", "n_steps": 8, "baseline": "pad"}

#: Run in a subprocess: explain a CSV of N rows, print the peak RSS in bytes.
MEMORY_CHILD = """
import json, resource, sys
import integrad
from integrad.models import load_default_model
model, tok = load_default_model()
csv, out, settings = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
integrad.explain_dataset(model, csv, out=out, tokenizer=tok, quiet=True, **settings)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def rows_per_second(n: int, seconds: float) -> str:
    return f"{n / seconds:8.2f} rows/s ({seconds:.1f} s)"


def throughput(model, tok, texts: list[str], folder: Path) -> dict[str, float]:
    from captum.attr import LayerIntegratedGradients

    embeddings = model.get_input_embeddings()
    lig = LayerIntegratedGradients(
        lambda i, m: model(input_ids=i, attention_mask=m).logits, embeddings
    )

    def captum_loop(part: list[str]) -> None:
        for text in part:
            enc = tok(text, return_tensors="pt", truncation=True)
            ids, mask = enc["input_ids"], enc["attention_mask"]
            special = torch.tensor(
                tok.get_special_tokens_mask(ids[0].tolist(), already_has_special_tokens=True)
            ).bool()
            base = torch.where(special, ids[0], torch.full_like(ids[0], tok.pad_token_id))[None]
            with torch.no_grad():
                target = int(model(input_ids=ids, attention_mask=mask).logits.argmax(-1))
            lig.attribute(ids, base, target=target, additional_forward_args=(mask,),
                          n_steps=50, method="gausslegendre")  # fmt: skip

    def explain_loop(part: list[str]) -> None:
        for text in part:
            integrad.explain(model, text, tokenizer=tok, **SETTINGS)

    def one_call(part: list[str]) -> None:
        integrad.explain(model, part, tokenizer=tok, **SETTINGS)

    runs = [0]
    inside = [0.0]  # seconds explain_dataset spent inside explain()
    call = TextRows._call

    def timed_call(self, texts, progress):
        start = time.perf_counter()
        try:
            return call(self, texts, progress)
        finally:
            inside[0] += time.perf_counter() - start

    def dataset(part: list[str]) -> None:
        runs[0] += 1
        TextRows._call = timed_call
        try:
            integrad.explain_dataset(
                model, part, out=folder / f"run{runs[0]}", tokenizer=tok, quiet=True, **SETTINGS
            )
        finally:
            TextRows._call = call

    contenders = {
        "explain_dataset (local)": dataset,
        "explain() per text": explain_loop,
        "captum LIG per text": captum_loop,
        "explain(list), one call": one_call,
    }
    # Warm up the model (and the neutral-baseline ranking caches) once for everyone.
    integrad.explain(model, texts[:4], tokenizer=tok, **SETTINGS)
    # Interleaved: each contender runs on each quarter of the texts in turn, so a busy
    # machine's slow spells fall on all of them alike.
    times = dict.fromkeys(contenders, 0.0)
    step = -(-len(texts) // 4)
    for lo in range(0, len(texts), step):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn(texts[lo : lo + step])
            times[name] += time.perf_counter() - start
    times["inside explain()"] = inside[0]
    return times


def memory(model_texts: list[str], sizes: tuple[int, int], folder: Path) -> dict[int, int]:
    import pandas as pd

    peaks = {}
    for n in sizes:
        rows = (model_texts * (n // len(model_texts) + 1))[:n]
        csv = folder / f"rows{n}.csv"
        pd.DataFrame({"id": range(n), "text": rows}).to_csv(csv, index=False)
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_CHILD, str(csv), str(folder / f"mem{n}"),
             json.dumps(MEMORY_SETTINGS)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        peaks[n] = int(out.stdout.strip().splitlines()[-1])
    return peaks


def ray_against_local(model, tok, texts: list[str], folder: Path) -> dict[str, float]:
    import ray

    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False)  # 2 actors + reads
    try:
        times = {}
        shard_size = max(1, len(texts) // 8)  # several shards, so both actors get work
        for engine in ("local", "ray"):
            start = time.perf_counter()
            integrad.explain_dataset(
                model, texts, out=folder / f"engine-{engine}", tokenizer=tok, quiet=True,
                engine=engine, shard_size=shard_size,
                **({"concurrency": 2} if engine == "ray" else {}), **SETTINGS,
            )  # fmt: skip
            times[engine] = time.perf_counter() - start
        return times
    finally:
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="smaller sizes (see the docstring)")
    parser.add_argument(
        "--only", choices=("throughput", "memory", "ray"), nargs="+", help="just these figures"
    )
    parser.add_argument("--texts", type=int, help="tweets for the throughput figures")
    parser.add_argument("--memory-rows", type=int, nargs=2, help="the two run sizes")
    parser.add_argument("--memory-steps", type=int, help="n_steps of the memory runs (8)")
    parser.add_argument("--ray-rows", type=int, help="rows of the ray figure")
    args = parser.parse_args()
    n_texts, sizes, n_ray = (200, (200, 2000), 100) if args.small else (2000, (1000, 10000), 1000)
    n_texts, n_ray = args.texts or n_texts, args.ray_rows or n_ray
    sizes = tuple(args.memory_rows) if args.memory_rows else sizes
    if args.memory_steps:
        MEMORY_SETTINGS["n_steps"] = args.memory_steps
    model, tok = default_model()
    texts = heldout_sentences(n_texts)
    print(f"machine: {machine()}")
    print(f"{len(texts)} held-out tweets; settings {SETTINGS}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        only = set(args.only or ("throughput", "memory", "ray"))
        if "throughput" in only:
            throughput_figures(model, tok, texts, folder)
        if "memory" in only:
            memory_figures(texts, sizes)
        if "ray" in only:
            ray_figures(model, tok, texts[:n_ray], folder)


def throughput_figures(model, tok, texts: list[str], folder: Path) -> None:
    times = throughput(model, tok, texts, folder)
    for name, seconds in times.items():
        if name != "inside explain()":
            print(f"{name:>26}: {rows_per_second(len(texts), seconds)}")
    local = times["explain_dataset (local)"]
    print(f"speed-up of explain_dataset over explain() per text: "
          f"{times['explain() per text'] / local:.2f}x")  # fmt: skip
    print(f"speed-up of explain_dataset over Captum LIG per text: "
          f"{times['captum LIG per text'] / local:.2f}x")  # fmt: skip
    print(f"explain_dataset / one explain(list) call: "
          f"{local / times['explain(list), one call']:.3f}")  # fmt: skip
    outside = local - times["inside explain()"]
    print(f"runner overhead, measured inside the same runs: {outside:.2f} s of {local:.1f} s "
          f"outside explain() ({outside / local:.1%}: reading, fingerprint, Parquet, "
          "manifest)")  # fmt: skip


def memory_figures(texts: list[str], sizes: tuple[int, int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        peaks = memory(texts, sizes, Path(tmp))
    small, large = sizes
    print(f"peak memory, settings {MEMORY_SETTINGS}: {small} rows {peaks[small] / 2**20:.0f} "
          f"MiB, {large} rows {peaks[large] / 2**20:.0f} MiB, ratio "
          f"{peaks[large] / peaks[small]:.3f} (must be <= 1.1)")  # fmt: skip


def ray_figures(model, tok, texts: list[str], folder: Path) -> None:
    n = len(texts)
    engines = ray_against_local(model, tok, texts, folder)
    print(f"{n} rows in shards of {max(1, n // 8)}: local {rows_per_second(n, engines['local'])}, "
          f"ray (2 actors) "
          f"{rows_per_second(n, engines['ray'])}; ray / local time "
          f"{engines['ray'] / engines['local']:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
