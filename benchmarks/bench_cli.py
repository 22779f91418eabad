"""How long the first command takes, against what it cannot avoid.

``integrad explain "one short sentence"`` must cost at most 1.5 times what it has to do
anyway: import torch, load the model, explain the sentence. This script times the command
in a fresh process, and in another fresh process the three parts on their own, several
times, interleaved, and prints the breakdown and the ratio of medians.

Run:  python benchmarks/bench_cli.py [--repeats 3] [--text "Great food, slow service"]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

PARTS = """
import json, time
t0 = time.perf_counter()
import torch
t1 = time.perf_counter()
from integrad.hf.loading import load_model
loaded = load_model(None)
t2 = time.perf_counter()
import integrad
integrad.explain(loaded.model, {text!r}, tokenizer=loaded.tokenizer)
t3 = time.perf_counter()
print(json.dumps({{"import torch": t1 - t0, "load model": t2 - t1, "explain": t3 - t2}}))
"""


def command_seconds(text: str) -> float:
    start = time.perf_counter()
    subprocess.run(["integrad", "explain", text], check=True, capture_output=True)
    return time.perf_counter() - start


def parts_seconds(text: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", PARTS.format(text=text)], check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def help_seconds() -> float:
    start = time.perf_counter()
    subprocess.run(["integrad", "explain", "--help"], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--text", default="Great food, slow service")
    args = parser.parse_args()
    commands, parts, helps = [], [], []
    for _ in range(args.repeats):  # interleaved: load changes hit both alike
        helps.append(help_seconds())
        commands.append(command_seconds(args.text))
        parts.append(parts_seconds(args.text))
    floor = [sum(p.values()) for p in parts]
    print(f"integrad explain --help: median {statistics.median(helps):.2f} s")
    for name in parts[0]:
        print(f"  {name}: median {statistics.median(p[name] for p in parts):.2f} s")
    print(f"  sum of the parts: median {statistics.median(floor):.2f} s")
    print(f"integrad explain {args.text!r}: median {statistics.median(commands):.2f} s")
    ratio = statistics.median(commands) / statistics.median(floor)
    print(f"ratio command / parts: {ratio:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
