#!/usr/bin/env python3
"""The table of docs/family/README.md, from the five runs' own files (issue #33).

    python3 docs/family/table.py [RESNET]     # RESNET: the `resnet` program (default target/release/resnet)
    python3 docs/family/table.py --family     # the five runs of this directory: `DIR<TAB>LABEL` lines

For each run directory: `metrics.csv` (the training error of the last 1,000 iterations, the mean of
its 200-iteration windows; the last evaluation on 1,000 test images; the wall time, and the
median speed of the 200-iteration windows: the machine was shared with other work at times, so
that the wall times compare only with the speed beside them), `run.json`
(the network), and, where they exist, `eval-test.json` (`resnet eval RUN --json`: the full 10,000
test images) and `eval-train.json` (`resnet eval RUN --split train --json`: the final network on
the 45,000 unaugmented training images); parameters from `resnet models --json`. A run still
training is marked with the iteration it has reached.
"""

import csv
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = [
    ("plain-56", "docs/degradation/12000-iterations/plain56"),
    ("ResNet-56", "docs/degradation/12000-iterations/resnet56"),
    # The baselines re-run on this kernel and machine, for their weights (Fig. 7).
    ("plain-56, re-run", "docs/family/plain56"),
    ("ResNet-56, re-run", "docs/family/resnet56"),
    ("pre-activation ResNet-56", "docs/family/preact-resnet56"),
    ("highway-56 (gates, bias -2)", "docs/family/highway56"),
    ("ResNet-56, stochastic depth p_L = 0.5", "docs/family/resnet56-sd0.5"),
]
ITERATIONS = 12000


def percent(value):
    return "" if value is None else f"{100 * value:.2f}%"


def error_of(path):
    try:
        return json.loads(path.read_text())["top1_error"]
    except FileNotFoundError:
        return None


def main():
    if sys.argv[1:] == ["--family"]:
        # The five networks trained here, in the table's order (publish.sh's figures).
        for label, run in RUNS:
            if run.startswith("docs/family/"):
                print(f"{run}\t{label}")
        return
    program = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target/release/resnet")
    models = json.loads(subprocess.run([program, "models", "--json"], check=True,
                                       capture_output=True, text=True).stdout)
    params = {m["name"]: m["params"] for m in models}
    print("| network | parameters | train error (last 1,000 iterations) | train error (final "
          "network, unaugmented) | test error (1,000 images, last evaluation) | test error "
          "(10,000) | wall time | images/s (median window) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, run in RUNS:
        run = ROOT / run
        if not (run / "metrics.csv").exists():
            print(f"| {label} | | not started | | | | | |")
            continue
        rows = list(csv.DictReader((run / "metrics.csv").open()))
        if not rows:
            print(f"| {label} | | started, no iterations logged | | | | | |")
            continue
        last = rows[-1]
        reached = int(last["iteration"])
        recent = [float(r["train_error"]) for r in rows if int(r["iteration"]) > reached - 1000]
        evaluated = [r for r in rows if r["test_error"]]
        arch = json.loads((run / "run.json").read_text())["arch"]
        if arch not in params:
            sys.exit(f"{run}: network {arch!r} is not among `resnet models`")
        status = "" if reached >= ITERATIONS else f" (at {reached:,} of {ITERATIONS:,})"
        print(f"| {label}{status} | {params[arch] / 1e6:.2f} M "
              f"| {percent(sum(recent) / len(recent))} | {percent(error_of(run / 'eval-train.json'))} "
              f"| {percent(float(evaluated[-1]['test_error']) if evaluated else None)} "
              f"| {percent(error_of(run / 'eval-test.json'))} "
              f"| {float(last['wall_seconds']):,.0f} s "
              f"| {statistics.median(float(r['images_per_sec']) for r in rows):.0f} |")


if __name__ == "__main__":
    main()
