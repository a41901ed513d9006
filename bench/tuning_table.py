"""The hyperparameter search on CoNLL04 dev as one table: benchmarks/tuning_search.md and .json.

    python -m bench.tuning_table metrics/tuning --markdown benchmarks/tuning_search.md --json benchmarks/tuning_search.json

Reads `{variant}_seed{N}.json` files written by `spacy evaluate` on the dev set (see
scripts/tune.sh). One row per variant, scores in percent, averaged over the seeds it was
run with; "score" is the mean of NER micro and RE+ micro F1 (the training's score
weights), and "vs paper" its difference from the unchanged config's ("paper") over the
seeds both were run with: the number that decides.
"""
import re
import statistics
import sys
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

from .metrics_table import METRIC_KEYS, MICRO_FIRST, MetricsError, heading, load_scores, markdown_table
from .metrics_table import named_metrics_files, publish, required_score, table_script_parser

NAME = re.compile(r"^(.+)_seed(\d+)$")
COLUMNS = {name: METRIC_KEYS[name] for name in MICRO_FIRST}
BASELINE = "paper"


def collect(folder: Path) -> Dict[str, Dict[int, Dict[str, float]]]:
    """variant -> seed -> {"ner_micro_f": 72.9, ..., "score": 57.7} in percent."""
    runs: Dict[str, Dict[int, Dict[str, float]]] = {}
    for path, match in named_metrics_files(folder, NAME, "{variant}_seed{N}.json", "scripts/tune.sh"):
        scores = load_scores(path)
        row = {key: 100 * required_score(scores, spacy_key, path) for key, spacy_key in COLUMNS.items()}
        row["score"] = (row["ner_micro_f"] + row["rel_micro_f"]) / 2
        runs.setdefault(match.group(1), {})[int(match.group(2))] = row
    return runs


def summarize(runs: Dict[str, Dict[int, Dict[str, float]]]) -> Dict[str, Dict[str, Any]]:
    """variant -> {"seeds": [...], "ner_micro_f": mean, ..., "score": mean, "vs_paper": mean difference or None}."""
    baseline = runs.get(BASELINE, {})
    table = {}
    for variant, by_seed in runs.items():
        entry: Dict[str, Any] = {"seeds": sorted(by_seed)}
        for key in [*COLUMNS, "score"]:
            entry[key] = round(statistics.mean(row[key] for row in by_seed.values()), 2)
        common = [seed for seed in by_seed if seed in baseline]
        entry["vs_paper"] = (
            round(statistics.mean(by_seed[s]["score"] - baseline[s]["score"] for s in common), 2) if common else None
        )
        table[variant] = entry
    return table


def markdown(table: Dict[str, Dict[str, Any]]) -> str:
    header = ["Variant", "Seeds", *map(heading, COLUMNS), "Score", "vs paper"]
    rows = []
    for name in sorted(table, key=lambda name: (name != BASELINE, name)):
        entry = table[name]
        cells = [name, ",".join(map(str, entry["seeds"]))]
        cells += [f"{entry[key]:.2f}" for key in [*COLUMNS, "score"]]
        cells.append("-" if entry["vs_paper"] is None or name == BASELINE else f"{entry['vs_paper']:+.2f}")
        rows.append(cells)
    return markdown_table(header, rows) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = table_script_parser(__doc__.split("\n\n")[0], "metrics/tuning").parse_args(argv)
    try:
        table = summarize(collect(args.folder))
    except MetricsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    publish(markdown(table), args, variants=table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
