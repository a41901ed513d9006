#!/usr/bin/env bash
# Train one pipeline (scripts/train.sh), then score one of its models on a test set with
# `spacy evaluate`: the one step of the benchmark protocols (seeds.sh, ade_cv.sh,
# gpu_protocol.sh).
#
#   bash scripts/train_and_score.sh CONFIG OUTPUT_DIR TRAIN DEV TEST MODEL GPU_ID SEED MAX_STEPS METRICS [EVAL_FLAG ...]
#
# MODEL is model-last or model-best (a folder in OUTPUT_DIR); METRICS is the JSON file
# `spacy evaluate` writes; EVAL_FLAGs go to `spacy evaluate` (e.g. --gold-preproc).
# Uses $PYTHON if set, else `python`.
set -euo pipefail
if [ "$#" -lt 10 ]; then
    echo "usage: bash scripts/train_and_score.sh CONFIG OUTPUT_DIR TRAIN DEV TEST MODEL GPU_ID SEED MAX_STEPS METRICS [EVAL_FLAG ...]" >&2
    exit 2
fi
config=$1 output=$2 train=$3 dev=$4 test=$5 model=$6 gpu_id=$7 seed=$8 max_steps=$9 metrics=${10}
shift 10
python=${PYTHON:-python}
PYTHON=$python bash "$(dirname "$0")/train.sh" "$config" "$output" "$train" "$dev" "$gpu_id" "$seed" "$max_steps"
mkdir -p "$(dirname "$metrics")"
"$python" -m spacy evaluate "$output/$model" "$test" --gpu-id "$gpu_id" --output "$metrics" "$@"
