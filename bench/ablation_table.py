"""The depth ablation as one table: benchmarks/ablation.md and benchmarks/ablation.json.

    python -m bench.ablation_table metrics/ablation --markdown benchmarks/ablation.md --json benchmarks/ablation.json

Reads `{dataset}_{split}_{variant}.json` files written by `spacy evaluate` (see
scripts/ablation.sh), where the variant's name ends in its depths as
n_shared-n_ner-n_re, e.g. `conll04_test_paper_1-1-2.json`. One row per variant;
per dataset and split the NER and RE+ F1 the paper reports for it: micro and macro
for CoNLL04, macro for ADE. Scores are printed in percent. The column "Chosen for"
names the datasets whose config (configs/{dataset}.cfg) uses the variant's depths.
"""
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from .metrics_table import F1_SCORES, METRIC_KEYS, MICRO_FIRST, PAPER, MetricsError, heading, load_scores, markdown_table
from .metrics_table import named_metrics_files, publish, table_script_parser

NAME = re.compile(r"^(conll04|ade)_(dev|test)_(.+_(\d+)-(\d+)-(\d+))$")
# The columns of each dataset, the F1 scores the paper reports for it: name -> spaCy's score key.
COLUMNS = {
    dataset: {name: METRIC_KEYS[name] for name in MICRO_FIRST if F1_SCORES[name] in PAPER[dataset]}
    for dataset in ("conll04", "ade")
}
ORDER = {"shared-only": 0, "no-ner-specific": 1, "no-re-specific": 2}
DATASET_NAMES = {"conll04": "CoNLL04", "ade": "ADE fold 0"}
SPLITS = ("dev", "test")


def collect(folder: Path) -> Dict[str, Dict[str, Any]]:
    """variant -> {"depths": "1-1-2", "conll04_dev": {"ner_micro_f": 72.9, ...}, ...}"""
    variants: Dict[str, Dict[str, Any]] = {}
    name_form = "{conll04|ade}_{dev|test}_{variant}_{n_shared}-{n_ner}-{n_re}.json"
    for path, match in named_metrics_files(folder, NAME, name_form, "scripts/ablation.sh"):
        dataset, split, variant = match.group(1, 2, 3)
        scores = load_scores(path)
        entry = variants.setdefault(variant, {"depths": "-".join(match.group(4, 5, 6))})
        entry[f"{dataset}_{split}"] = {
            key: None if scores.get(spacy_key) is None else round(100 * scores[spacy_key], 2)
            for key, spacy_key in COLUMNS[dataset].items()
        }
    return variants


def chosen_depths(config_dir: Path) -> Dict[str, str]:
    """dataset -> "n_shared-n_ner-n_re" of configs/{dataset}.cfg, for the datasets that have one."""
    from spacy.util import load_config

    chosen = {}
    for dataset in COLUMNS:
        path = Path(config_dir) / f"{dataset}.cfg"
        if path.exists():
            model = load_config(path, interpolate=False)["components"]["deeper_joint"]["model"]
            chosen[dataset] = "-".join(str(model[key]) for key in ("n_shared", "n_ner", "n_re"))
    return chosen


def markdown(variants: Dict[str, Dict[str, Any]], chosen: Optional[Dict[str, str]] = None) -> str:
    """One row per variant: the paper's ablation order (no task-specific layers, no NER-specific,
    no RE-specific), then the others by name."""
    chosen = chosen or {}
    header = ["Variant", "Shared-NER-RE layers", "Chosen for"]
    columns = []
    for dataset, keys in COLUMNS.items():
        for split in SPLITS:
            if not any(f"{dataset}_{split}" in entry for entry in variants.values()):
                continue
            for key in keys:
                columns.append((f"{dataset}_{split}", key))
                header.append(f"{DATASET_NAMES[dataset]} {split} {heading(key)}")
    rows = []
    for variant, entry in sorted(variants.items(), key=lambda item: (ORDER.get(item[0].rsplit("_", 1)[0], len(ORDER)), item[0])):
        used_by = [DATASET_NAMES[d].split()[0] for d, depths in chosen.items() if depths == entry["depths"]]
        cells = [variant.rsplit("_", 1)[0], entry["depths"], ", ".join(used_by) or "-"]
        for part, key in columns:
            value = (entry.get(part) or {}).get(key)
            cells.append("-" if value is None else f"{value:.2f}")
        rows.append(cells)
    return markdown_table(header, rows, n_left=3) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = table_script_parser(__doc__.split("\n\n")[0], "metrics/ablation")
    parser.add_argument("--configs", type=Path, default=Path("configs"), help="where {dataset}.cfg says which depths were chosen")
    args = parser.parse_args(argv)
    try:
        variants = collect(args.folder)
    except MetricsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    chosen = chosen_depths(args.configs)
    publish(markdown(variants, chosen), args, chosen=chosen, variants=variants)
    return 0


if __name__ == "__main__":
    sys.exit(main())
