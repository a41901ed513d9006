#!/usr/bin/env bash
# The paper's ablation with the same budget of four BiRNN layers:
#   (a) no task-specific layers 4/0/0, (b) no NER-specific 2/0/2,
#   (c) no RE-specific 2/2/0, (d) the chosen depths 1/1/2   (n_shared/n_ner/n_re)
# each trained on CoNLL04 train (model selection on dev) and on ADE fold 0, and
# scored on CoNLL04 dev and test and on the ADE fold's test set; then one table.
#
#   bash scripts/ablation.sh GPU_ID SEED MAX_STEPS
set -euo pipefail
gpu_id=${1:--1} seed=${2:-0} max_steps=${3:-0}
python=${PYTHON:-python}
declare -A depths=([a_shared_only]="4 0 0" [b_no_ner_specific]="2 0 2" [c_no_re_specific]="2 2 0" [d_chosen]="1 1 2")
mkdir -p metrics/ablation
for name in a_shared_only b_no_ner_specific c_no_re_specific d_chosen; do
    read -r n_shared n_ner n_re <<< "${depths[$name]}"
    depth_args=(--components.deeper_joint.model.n_shared "$n_shared" --components.deeper_joint.model.n_ner "$n_ner" --components.deeper_joint.model.n_re "$n_re")
    for dataset in conll04 ade; do
        if [ "$dataset" = conll04 ]; then
            train=corpus/conll04/train.spacy dev=corpus/conll04/dev.spacy tests=(dev:corpus/conll04/dev.spacy test:corpus/conll04/test.spacy)
        else
            train=corpus/ade/fold0/train.spacy dev=corpus/ade/fold0/dev.spacy tests=(test:corpus/ade/fold0/test.spacy)
        fi
        out=training/ablation/${dataset}_${name}
        bash scripts/train.sh "configs/${dataset}.cfg" "$out" "$train" "$dev" "$gpu_id" "$seed" "$max_steps" "${depth_args[@]}"
        for split_data in "${tests[@]}"; do
            split=${split_data%%:*} data=${split_data#*:}
            "$python" -m spacy evaluate "$out/model-best" "$data" --gold-preproc --gpu-id "$gpu_id" \
                --output "metrics/ablation/${dataset}_${split}_${name}.json"
        done
    done
done
"$python" scripts/metrics_table.py metrics/ablation/*.json --output metrics/ablation/table.md
