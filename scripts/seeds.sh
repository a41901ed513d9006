#!/usr/bin/env bash
# The paper's CoNLL04 protocol: train on train+dev with the config's own schedule
# (dev is in the training data, so no model selection: model-last), score on test,
# once per seed: metrics/seeds/${config}_seed${seed}.json.
#
#   bash scripts/seeds.sh CONFIG_NAME GPU_ID MAX_STEPS SEED [SEED ...]
set -euo pipefail
config=$1 gpu_id=$2 max_steps=$3
shift 3
for seed in "$@"; do
    bash "$(dirname "$0")/train_and_score.sh" "configs/${config}.cfg" "training/seeds/${config}_seed${seed}" \
        corpus/conll04/train_dev.spacy corpus/conll04/dev.spacy corpus/conll04/test.spacy model-last \
        "$gpu_id" "$seed" "$max_steps" "metrics/seeds/${config}_seed${seed}.json" --gold-preproc
done
