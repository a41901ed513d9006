#!/usr/bin/env bash
# The paper's ablation with the same budget of four BiRNN layers (n_shared-n_ner-n_re):
#   shared-only 4-0-0 (no task-specific layers), no-ner-specific 2-0-2,
#   no-re-specific 2-2-0, paper 1-1-2 (the paper's CoNLL04 depths)
# each trained with the same step budget and seed on CoNLL04 train and on ADE fold 0
# (model selection on the dev set), and scored with --gold-preproc on the dev and test
# sets: metrics/ablation/{dataset}_{split}_{variant}_seed{SEED}.json. Then one table:
# benchmarks/ablation.md and benchmarks/ablation.json (python -m bench.ablation_table), the
# mean over the seeds found there, which also says which variant each dataset's config uses
# (its depths were chosen on dev). Run it once per seed to average over seeds.
#
#   bash scripts/ablation.sh GPU_ID SEED CONLL04_STEPS [ADE_STEPS [VARIANT ...]]
#
# A STEPS of 0 keeps the config's own max_steps. DATASETS="conll04 ade" (the default)
# picks the datasets, so that two lanes can split the work.
set -euo pipefail
gpu_id=${1:--1} seed=${2:-0} conll04_steps=${3:-0} ade_steps=${4:-0}
shift $(( $# < 4 ? $# : 4 ))
variants=("$@")
if [ "${#variants[@]}" -eq 0 ]; then
    variants=(shared-only_4-0-0 no-ner-specific_2-0-2 no-re-specific_2-2-0 paper_1-1-2)
fi
python=${PYTHON:-python}
mkdir -p metrics/ablation
for name in "${variants[@]}"; do
    IFS=- read -r n_shared n_ner n_re <<< "${name##*_}"
    depth_args=(--components.deeper_joint.model.n_shared "$n_shared" --components.deeper_joint.model.n_ner "$n_ner" --components.deeper_joint.model.n_re "$n_re")
    for dataset in ${DATASETS:-conll04 ade}; do
        if [ "$dataset" = conll04 ]; then
            corpus=corpus/conll04 train=corpus/conll04/train.spacy max_steps=$conll04_steps
        else
            corpus=corpus/ade/fold0 train=corpus/ade/fold0/train.spacy max_steps=$ade_steps
        fi
        out=training/ablation/${dataset}_${name}_seed${seed}
        PYTHON=$python bash scripts/train.sh "configs/${dataset}.cfg" "$out" "$train" "$corpus/dev.spacy" "$gpu_id" "$seed" "$max_steps" "${depth_args[@]}"
        for split in dev test; do
            "$python" -m spacy evaluate "$out/model-best" "$corpus/$split.spacy" --gold-preproc --gpu-id "$gpu_id" \
                --output "metrics/ablation/${dataset}_${split}_${name}_seed${seed}.json"
        done
    done
done
"$python" -m bench.ablation_table metrics/ablation --command "spacy project run ablation (scripts/ablation.sh $gpu_id SEED $conll04_steps $ade_steps for each seed)" \
    --markdown benchmarks/ablation.md --json benchmarks/ablation.json
