#!/usr/bin/env bash
# ADE 10-fold cross-validation: for each fold k, train on corpus/ade/fold{k}/train.spacy
# (model selection on its dev.spacy), evaluate model-best on its test.spacy and
# write metrics/ade_fold{k}.json. Summarize with scripts/cv_table.py.
#
#   bash scripts/ade_cv.sh CONFIG GPU_ID SEED MAX_STEPS EVAL_FLAGS [FOLD ...]
#
# FOLDs default to 0..9. EVAL_FLAGS is passed to `spacy evaluate` (e.g.
# "--gold-preproc", or "" for none). The fold DocBins are made from
# assets/ade/ade.jsonl when missing. Uses $PYTHON if set, else `python`.
set -euo pipefail

if [ "$#" -lt 5 ]; then
    echo "usage: bash scripts/ade_cv.sh CONFIG GPU_ID SEED MAX_STEPS EVAL_FLAGS [FOLD ...]" >&2
    exit 2
fi
config=$1 gpu_id=$2 seed=$3 max_steps=$4 eval_flags=$5
shift 5
folds=("$@")
if [ "${#folds[@]}" -eq 0 ]; then
    folds=(0 1 2 3 4 5 6 7 8 9)
fi
python=${PYTHON:-python}
here=$(dirname "$0")
name=$(basename "$config" .cfg)

for k in "${folds[@]}"; do
    case $k in
        '' | *[!0-9]*) echo "ade_cv.sh: a FOLD must be an integer, got '$k'" >&2; exit 2 ;;
    esac
    corpus=corpus/ade/fold$k
    if [ ! -f "$corpus/train.spacy" ] || [ ! -f "$corpus/dev.spacy" ] || [ ! -f "$corpus/test.spacy" ]; then
        "$python" -m spacy_deeper convert assets/ade/ade.jsonl corpus/ade --ade-folds
    fi
    echo "=== ADE fold $k ==="
    # shellcheck disable=SC2086  # EVAL_FLAGS is a list of flags
    PYTHON=$python bash "$here/train_and_score.sh" "$config" "training/$name/fold$k" "$corpus/train.spacy" \
        "$corpus/dev.spacy" "$corpus/test.spacy" model-best "$gpu_id" "$seed" "$max_steps" "metrics/${name}_fold$k.json" \
        $eval_flags
done
