#!/usr/bin/env bash
# The whole benchmark protocol of the fine-tuned MiniLM configs on one GPU, the runs side by
# side: CoNLL04 (train+dev -> test, model-last, seeds 0 1 2) and ADE (10 folds, each fold's
# model-best on its dev set, scored on its test set), then the CUDA test and the two tables.
#
#   bash scripts/gpu_protocol.sh [OUT_DIR]
#
# Environment: CONLL04_CONFIG (default configs/conll04_minilm_finetune.cfg), ADE_CONFIG
# (configs/ade_minilm_finetune.cfg), GPU_ID (0), JOBS (trainings at a time, default 7),
# MAX_STEPS (0: each config's own schedule), SEEDS ("0 1 2"), FOLDS ("0 1 2 3 4 5 6 7 8 9").
# Needs the installed package with cupy (pip install cupy-cuda12x), the corpora and
# the vectors (spacy project run convert / vectors). OUT_DIR (default training/gpu) gets
# one folder per run, metrics/*.json, the two tables and log.txt.
#
# The protocol of `spacy project run seeds` and `ade-cv` (scripts/train_and_score.sh a run), only in parallel; with GPU_ID=-1
# and a small MAX_STEPS it runs on the CPU, which checks the plumbing (tests do not run it).
set -euo pipefail
out=${1:-training/gpu}
conll04_config=${CONLL04_CONFIG:-configs/conll04_minilm_finetune.cfg}
ade_config=${ADE_CONFIG:-configs/ade_minilm_finetune.cfg}
gpu_id=${GPU_ID:-0} jobs=${JOBS:-7} max_steps=${MAX_STEPS:-0}
python=${PYTHON:-python}
mkdir -p "$out/metrics"
log="$out/log.txt"
start=$(date +%s)
{
    echo "gpu_protocol.sh on $(hostname), $(date -u '+%Y-%m-%d %H:%M UTC')"
    "$python" -c "import torch, spacy; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '-', 'spacy', spacy.__version__)"
} | tee "$log"
if [ "$gpu_id" -ge 0 ]; then
    "$python" -c "import cupy, spacy; spacy.require_gpu($gpu_id)" || { echo "gpu_protocol.sh: no usable GPU (cupy, CUDA)" | tee -a "$log"; exit 1; }
fi

# One run: train, then score the chosen model on the test set.
#   one_run NAME CONFIG TRAIN DEV TEST MODEL(model-last|model-best) SEED
one_run() {
    local name=$1 config=$2 train=$3 dev=$4 test=$5 model=$6 seed=$7
    PYTHON=$python bash scripts/train_and_score.sh "$config" "$out/$name" "$train" "$dev" "$test" "$model" \
        "$gpu_id" "$seed" "$max_steps" "$out/metrics/$name.json" --gold-preproc > "$out/$name.log" 2>&1 \
    && echo "done $name after $(( $(date +%s) - start )) s" || echo "FAILED $name (see $out/$name.log)"
}
export -f one_run
export out gpu_id max_steps python start

{
    for seed in ${SEEDS:-0 1 2}; do
        echo "conll04_seed$seed $conll04_config corpus/conll04/train_dev.spacy corpus/conll04/dev.spacy corpus/conll04/test.spacy model-last $seed"
    done
    for k in ${FOLDS:-0 1 2 3 4 5 6 7 8 9}; do
        echo "ade_fold$k $ade_config corpus/ade/fold$k/train.spacy corpus/ade/fold$k/dev.spacy corpus/ade/fold$k/test.spacy model-best 0"
    done
} | xargs -P "$jobs" -L 1 bash -c 'one_run "$@"' _ | tee -a "$log"

echo "trainings done in $(( $(date +%s) - start )) s" | tee -a "$log"
if [ "$gpu_id" -ge 0 ]; then
    "$python" -m pytest -q -m gpu tests 2>&1 | tail -3 | tee -a "$log"
fi
"$python" -m bench.cv_table "$out"/metrics/conll04_seed*.json --dataset conll04 --expect 3 --output "$out/conll04.json" | tee -a "$log"
"$python" -m bench.cv_table "$out"/metrics/ade_fold*.json --output "$out/ade.json" | tee -a "$log"
echo "total $(( $(date +%s) - start )) s" | tee -a "$log"
