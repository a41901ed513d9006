"""The depth ablation as one table: benchmarks/ablation.md and benchmarks/ablation.json.

    python -m bench.ablation_table metrics/ablation --markdown benchmarks/ablation.md --json benchmarks/ablation.json

Reads `{dataset}_{split}_{variant}_seed{seed}.json` files written by `spacy evaluate` (see
scripts/ablation.sh), where the variant's name ends in its depths as
n_shared-n_ner-n_re, e.g. `conll04_test_paper_1-1-2_seed0.json`. One row per variant;
per dataset and split the mean over the seeds found of the NER and RE+ F1 the paper
reports for it: micro and macro for CoNLL04, macro for ADE. Scores are printed in
percent; the column "Seeds" says which seeds each mean is over. The column "Chosen for"
names the datasets whose config (configs/{dataset}.cfg) uses the variant's depths.
"""
import re
import statistics
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from .metrics_table import F1_SCORES, METRIC_KEYS, MICRO_FIRST, PAPER, MetricsError, heading, load_scores, markdown_table
from .metrics_table import named_metrics_files, publish, table_script_parser

NAME = re.compile(r"^(conll04|ade)_(dev|test)_(.+_(\d+)-(\d+)-(\d+))_seed(\d+)$")
# The columns of each dataset, the F1 scores the paper reports for it: name -> spaCy's score key.
COLUMNS = {
    dataset: {name: METRIC_KEYS[name] for name in MICRO_FIRST if F1_SCORES[name] in PAPER[dataset]}
    for dataset in ("conll04", "ade")
}
ORDER = {"shared-only": 0, "no-ner-specific": 1, "no-re-specific": 2}
DATASET_NAMES = {"conll04": "CoNLL04", "ade": "ADE fold 0"}
SPLITS = ("dev", "test")


def collect(folder: Path) -> Dict[str, Dict[str, Any]]:
    """variant -> {"depths": "1-1-2", "seeds": {"conll04_dev": [0, 1], ...},
    "conll04_dev": {"ner_micro_f": 72.9, ...}, ...}: each score the mean over the seeds, None
    where a seed has none."""
    runs: Dict[str, Dict[str, Any]] = {}
    name_form = "{conll04|ade}_{dev|test}_{variant}_{n_shared}-{n_ner}-{n_re}_seed{seed}.json"
    for path, match in named_metrics_files(folder, NAME, name_form, "scripts/ablation.sh"):
        dataset, split, variant, seed = match.group(1, 2, 3, 7)
        scores = load_scores(path)
        entry = runs.setdefault(variant, {"depths": "-".join(match.group(4, 5, 6))})
        entry.setdefault(f"{dataset}_{split}", {})[int(seed)] = {
            key: scores.get(spacy_key) for key, spacy_key in COLUMNS[dataset].items()
        }
    variants: Dict[str, Dict[str, Any]] = {}
    for variant, entry in runs.items():
        result: Dict[str, Any] = {"depths": entry.pop("depths"), "seeds": {}}
        for part, by_seed in sorted(entry.items()):
            result["seeds"][part] = sorted(by_seed)
            result[part] = {}
            for key in next(iter(by_seed.values())):
                values = [by_seed[seed][key] for seed in sorted(by_seed)]
                result[part][key] = None if None in values else round(100 * statistics.mean(values), 2)
        variants[variant] = result
    return variants


def seeds_cell(seeds: Dict[str, List[int]]) -> str:
    """"0, 1" where every dataset and split has the same seeds, else the seeds of each dataset
    ("ADE: 0, 1; CoNLL04: 0"), or of each split where a dataset's splits differ."""
    texts = {part: ", ".join(map(str, found)) for part, found in seeds.items()}
    if len(set(texts.values())) <= 1:
        return next(iter(texts.values()), "-")
    cells = []
    for dataset, name in DATASET_NAMES.items():
        parts = {part.split("_")[1]: text for part, text in texts.items() if part.split("_")[0] == dataset}
        name = name.split()[0]
        if len(set(parts.values())) == 1:
            cells.append(f"{name}: {next(iter(parts.values()))}")
        else:
            cells += [f"{name} {split}: {text}" for split, text in parts.items()]
    return "; ".join(cells)


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
    header = ["Variant", "Shared-NER-RE layers", "Chosen for", "Seeds"]
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
        cells = [variant.rsplit("_", 1)[0], entry["depths"], ", ".join(used_by) or "-", seeds_cell(entry.get("seeds", {}))]
        for part, key in columns:
            value = (entry.get(part) or {}).get(key)
            cells.append("-" if value is None else f"{value:.2f}")
        rows.append(cells)
    return markdown_table(header, rows, n_left=4) + "\n"


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
