"""Mean and standard deviation over cross-validation folds of `spacy evaluate` scores.

    python -m bench.cv_table "metrics/ade_fold*.json" --output metrics/ade_cv.json

Arguments are files or glob patterns; patterns are expanded here, since
`spacy project run` starts commands without a shell. Each file is the output of
`spacy evaluate` for one fold (read as bench.metrics_table reads them). Prints a Markdown
table (percentages, 2 decimals, next to Crone (2020)'s ADE figures) and
optionally writes JSON with, for each score, the per-fold values, their mean
and their sample standard deviation (n - 1 in the denominator), as fractions
(0..1) like spaCy's own scores, and the number of folds found.
"""
import argparse
import glob
import json
import re
import statistics
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from .metrics_table import F1_SCORES, METRIC_KEYS, PAPER, PAPER_NAME, MetricsError, load_scores, markdown_table
from .metrics_table import required_score

DEFAULT_PATTERN = "metrics/ade_fold*.json"
FOLD_RE = re.compile(r"fold(\d+)")


def expand(patterns: Sequence[str]) -> List[Path]:
    """Files matching `patterns` (globs or plain paths), each once, in fold order."""
    paths: Dict[str, Path] = {}
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        for match in matches:
            paths.setdefault(str(Path(match).resolve()), Path(match))

    def order(path: Path) -> tuple:
        found = FOLD_RE.search(path.stem)
        return (0, int(found.group(1)), path.name) if found else (1, 0, path.name)

    return sorted(paths.values(), key=order)


def fold_number(path: Path) -> Optional[int]:
    found = FOLD_RE.search(path.stem)
    return int(found.group(1)) if found else None


def summarize(paths: Sequence[Path]) -> Dict[str, Any]:
    """Per-fold values, mean and sample std of the four F1 scores over `paths`."""
    if not paths:
        raise MetricsError("no metrics files found")
    folds = [fold_number(p) for p in paths]
    numbered = [k for k in folds if k is not None]
    repeated = sorted({k for k in numbered if numbered.count(k) > 1})
    if repeated:
        raise MetricsError(f"fold(s) {repeated} given by more than one file")
    all_scores = [load_scores(p) for p in paths]
    summary: Dict[str, Any] = {
        "n_folds": len(paths),
        "folds": folds,
        "files": [str(p) for p in paths],
        "std": "sample standard deviation (n - 1); null for a single fold",
    }
    for name, key in METRIC_KEYS.items():
        values = [required_score(scores, key, path) for path, scores in zip(paths, all_scores)]
        summary[name] = {
            "key": key,
            "mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else None,
            "values": values,
        }
    return summary


def render(summary: Dict[str, Any], dataset: str = "ade") -> str:
    paper = PAPER[dataset]
    rows = []
    for name, (task, average) in F1_SCORES.items():
        entry = summary[name]
        std = "-" if entry["std"] is None else f"{100 * entry['std']:.2f}"
        paper_f = paper.get((task, average))
        rows.append(
            [
                task,
                average,
                f"{100 * entry['mean']:.2f}",
                std,
                "-" if paper_f is None else f"{paper_f:.2f}",
            ]
        )
    header = ["Task", "Scope", "F1 mean", "F1 std", f"{PAPER_NAME} F1"]
    return f"### {summary['n_folds']} runs ({dataset})\n\n" + markdown_table(header, rows) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "patterns",
        nargs="*",
        default=[DEFAULT_PATTERN],
        help=f"metrics files or glob patterns (default: {DEFAULT_PATTERN!r})",
    )
    parser.add_argument("--output", type=Path, help="write the summary as JSON here")
    parser.add_argument(
        "--expect", type=int, default=10, help="folds expected; fewer gives a warning (default: 10)"
    )
    parser.add_argument(
        "--dataset", choices=sorted(PAPER), default="ade", help="whose paper numbers to show (default: ade)"
    )
    args = parser.parse_args(argv)
    paths = expand(args.patterns)
    try:
        summary = summarize(paths)
    except MetricsError as err:
        print(f"error: {err} (patterns: {' '.join(args.patterns)})", file=sys.stderr)
        return 1
    if summary["n_folds"] != args.expect:
        found = ", ".join("?" if k is None else str(k) for k in summary["folds"])
        print(
            f"warning: {summary['n_folds']} folds found ({found}), expected {args.expect}",
            file=sys.stderr,
        )
    print(render(summary, args.dataset), end="")
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
