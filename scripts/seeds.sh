#!/usr/bin/env bash
# The paper's CoNLL04 protocol: train on train+dev with the config's own schedule
# (dev is in the training data, so no model selection: model-last), score on test,
# once per seed: metrics/seeds/${config}_seed${seed}.json.
#
#   bash scripts/seeds.sh CONFIG_NAME GPU_ID MAX_STEPS SEED [SEED ...]
set -euo pipefail
config=$1 gpu_id=$2 max_steps=$3
shift 3
python=${PYTHON:-python}
mkdir -p metrics/seeds
for seed in "$@"; do
    out=training/seeds/${config}_seed${seed}
    bash scripts/train.sh "configs/${config}.cfg" "$out" corpus/conll04/train_dev.spacy corpus/conll04/dev.spacy "$gpu_id" "$seed" "$max_steps"
    "$python" -m spacy evaluate "$out/model-last" corpus/conll04/test.spacy --gold-preproc --gpu-id "$gpu_id" \
        --output "metrics/seeds/${config}_seed${seed}.json"
done
