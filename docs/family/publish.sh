#!/usr/bin/env bash
# The published results of docs/family (issue #33), from the finished runs' files:
#
#     bash docs/family/publish.sh [RESNET]     # RESNET: the `resnet` program (default target/release/resnet)
#
# For each finished run (its final model.bpk written) that lacks them: eval-test.json (the full
# 10,000 test images) and eval-train.json (the final network on the 45,000 unaugmented training
# images); a finished run's checkpoint/ is removed. Then the table (table.md, by table.py), and,
# once all five 56-layer networks are finished, the overlaid curves (curves.png/svg, and
# curves-zoom to 20%) and the Fig. 7 responses of the five trained networks (responses.csv/png/svg,
# the gates' openings in responses-gates.csv). Runs still training are reported and left alone.
# Paths are taken from this file's place: it runs from any directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
resnet="${1:-$root/target/release/resnet}"
cd "$root"
[ -x "$resnet" ] || { echo "no resnet program at $resnet: cargo build --release --bin resnet" >&2; exit 1; }

# The five networks trained in this directory, with their legend names: table.py's list.
runs=()
labels=()
while IFS=$'\t' read -r run label; do
    runs+=("$run")
    labels+=("$label")
done < <(python3 "$here/table.py" --family)
[ "${#runs[@]}" -eq 5 ] || { echo "table.py --family named ${#runs[@]} runs, not 5" >&2; exit 1; }

finished=()
for run in "${runs[@]}"; do
    if [ ! -f "$run/model.bpk" ]; then
        echo "$run: not finished (no final model.bpk yet)"
        continue
    fi
    finished+=("$run")
    # A finished run keeps run.json, metrics.csv, model.bpk and its curves; not its checkpoint.
    if [ -d "$run/checkpoint" ]; then
        echo "$run: finished, its checkpoint removed"
        rm -r "$run/checkpoint"
    fi
    for split in test train; do
        if [ ! -s "$run/eval-$split.json" ]; then
            echo "$run: scoring the $split split"
            "$resnet" eval "$run" --split "$split" --json > "$run/eval-$split.json.part"
            mv "$run/eval-$split.json.part" "$run/eval-$split.json"
        fi
    done
done

python3 "$here/table.py" "$resnet" > "$here/table.md"
echo "wrote $here/table.md"

if [ "${#finished[@]}" -lt "${#runs[@]}" ]; then
    echo "${#finished[@]} of ${#runs[@]} runs finished: the figures wait for all of them"
    exit 0
fi
"$resnet" plot "${runs[@]}" --labels "${labels[@]}" --out "$here/curves"
"$resnet" plot "${runs[@]}" --labels "${labels[@]}" --y-max 20 --out "$here/curves-zoom"
"$resnet" analyze responses --weights "${runs[@]}" --labels "${labels[@]}" --out "$here/responses"
