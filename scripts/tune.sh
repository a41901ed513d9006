#!/usr/bin/env bash
# One-at-a-time search of the hyperparameters the paper tunes (cell type, sizes,
# dropout, lambda_r) around configs/conll04.cfg: each variant trains on CoNLL04 train
# with model selection on dev, with the same step budget and seed, and model-best is
# scored on dev only (--gold-preproc): metrics/tuning/{variant}_seed{SEED}.json.
# The test set is never read. Then one table: benchmarks/tuning_search.md and .json
# (python -m bench.tuning_table), every variant against the unchanged config ("paper").
#
#   bash scripts/tune.sh GPU_ID SEED STEPS [VARIANT ...]
#
# A VARIANT is a name from the list below. STEPS 0 keeps the config's own max_steps.
set -euo pipefail
gpu_id=${1:--1} seed=${2:-0} steps=${3:-0}
shift $(( $# < 3 ? $# : 3 ))
python=${PYTHON:-python}
model=--components.deeper_joint.model
# variant -> spacy train overrides (relative to configs/conll04.cfg)
declare -A VARIANTS=(
    [paper]=""
    [lstm]="$model.rnn_type lstm"
    [hidden-128]="$model.hidden_size 128"
    [hidden-384]="$model.hidden_size 384"
    [dropout-low]="$model.rnn_dropout 0.2 $model.rel_dropout 0.3"
    [dropout-high]="$model.rnn_dropout 0.5 $model.rel_dropout 0.5"
    [lambda_r-1]="--components.deeper_joint.lambda_r 1"
    [lambda_r-10]="--components.deeper_joint.lambda_r 10"
)
names=("$@")
if [ "${#names[@]}" -eq 0 ]; then
    names=(paper lstm hidden-128 hidden-384 dropout-low dropout-high lambda_r-1 lambda_r-10)
fi
for name in "${names[@]}"; do
    if [ -z "${VARIANTS[$name]+set}" ]; then
        echo "tune.sh: unknown variant '$name' (known: ${!VARIANTS[*]})" >&2
        exit 2
    fi
done
mkdir -p metrics/tuning
for name in "${names[@]}"; do
    out=training/tuning/${name}_seed${seed}
    # shellcheck disable=SC2086  # the overrides are whitespace-separated on purpose
    PYTHON=$python bash scripts/train.sh configs/conll04.cfg "$out" corpus/conll04/train.spacy corpus/conll04/dev.spacy \
        "$gpu_id" "$seed" "$steps" ${VARIANTS[$name]}
    "$python" -m spacy evaluate "$out/model-best" corpus/conll04/dev.spacy --gold-preproc --gpu-id "$gpu_id" \
        --output "metrics/tuning/${name}_seed${seed}.json"
done
"$python" -m bench.tuning_table metrics/tuning --command "spacy project run tune (scripts/tune.sh $gpu_id SEED $steps)" \
    --markdown benchmarks/tuning_search.md --json benchmarks/tuning_search.json
