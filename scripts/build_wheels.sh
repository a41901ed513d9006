#!/usr/bin/env bash
# The wheels a user installs, in one folder: spacy-deeper's own and the packaged pipeline's.
#
#   bash scripts/build_wheels.sh WHEEL_DIR MODEL_DIST_DIR
#
# Run from the repository root, after `spacy package` has built MODEL_DIST_DIR
# (packages/en_NAME-VERSION/dist). The pipeline's wheel requires spacy-deeper,
# which is on no package index: with both wheels in WHEEL_DIR,
#
#   python -m pip install --find-links WHEEL_DIR en_NAME
#
# installs the pipeline in a fresh environment (the other requirements come from
# the index). spacy-deeper is built offline (no build isolation) from a copy of
# its sources, because setuptools would package stale modules left in build/lib.
# Uses $PYTHON if set, else `python`.
set -euo pipefail

if [ "$#" -ne 2 ]; then
    echo "usage: bash scripts/build_wheels.sh WHEEL_DIR MODEL_DIST_DIR" >&2
    exit 2
fi
wheels=$1 model_dist=$2
python=${PYTHON:-python}
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
cp -R setup.cfg pyproject.toml README.md spacy_deeper "$src"/
mkdir -p "$wheels"
"$python" -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir "$wheels" "$src"
cp "$model_dist"/*.whl "$wheels"/
ls "$wheels"
