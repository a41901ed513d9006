#!/usr/bin/env bash
# Train one pipeline with `spacy train`.
#
#   bash scripts/train.sh CONFIG OUTPUT_DIR TRAIN.spacy DEV.spacy GPU_ID SEED MAX_STEPS [--override value ...]
#
# MAX_STEPS 0 keeps the config's own [training] max_steps (its schedule); any
# other value overrides it. (Passing `--training.max_steps 0` to spaCy would
# not do that: spaCy reads max_steps = 0 as "no step limit", so training would
# stop only by patience or max_epochs.) Uses $PYTHON if set, else `python`.
#
# Besides spaCy's own output it writes OUTPUT_DIR/train.log (the console log) and
# OUTPUT_DIR/timing.json (wall seconds and torch threads), which scripts/benchmark.py
# turns into training time per epoch and to the best dev score.
set -euo pipefail

if [ "$#" -lt 7 ]; then
    echo "usage: bash scripts/train.sh CONFIG OUTPUT_DIR TRAIN.spacy DEV.spacy GPU_ID SEED MAX_STEPS" >&2
    exit 2
fi
config=$1 output=$2 train=$3 dev=$4 gpu_id=$5 seed=$6 max_steps=$7
shift 7  # the rest: extra config overrides for spacy train
python=${PYTHON:-python}

case $max_steps in
    '' | *[!0-9]*) echo "train.sh: MAX_STEPS must be a non-negative integer, got '$max_steps'" >&2; exit 2 ;;
esac
for path in "$config" "$train" "$dev"; do
    if [ ! -f "$path" ]; then
        echo "train.sh: $path not found (run 'spacy project run convert' for the corpus)" >&2
        exit 1
    fi
done

overrides=(--paths.train "$train" --paths.dev "$dev" --system.seed "$seed")
if [ "$max_steps" -ne 0 ]; then
    overrides+=(--training.max_steps "$max_steps")
fi
mkdir -p "$output"
start=$(date +%s)
set -x
"$python" -m spacy train "$config" --output "$output" --gpu-id "$gpu_id" "${overrides[@]}" "$@" 2>&1 | tee "$output/train.log"
{ set +x; } 2>/dev/null
printf '{"seconds": %d, "torch_threads": "%s", "gpu_id": %d}\n' "$(( $(date +%s) - start ))" "${OMP_NUM_THREADS:-default}" "$gpu_id" > "$output/timing.json"
