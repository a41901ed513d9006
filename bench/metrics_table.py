"""Print a Markdown table of NER and RE+ scores from `spacy evaluate` output files.

    python -m bench.metrics_table metrics/conll04.json [metrics/conll04_minilm.json ...]

Each file is what `python -m spacy evaluate MODEL DATA --output FILE.json` writes.
spaCy 3.8 writes every score of `nlp.evaluate` flat at the top level (`ents_f`,
`rel_micro_f`, `ents_per_type`, ..., plus `token_acc` and `speed`); with
`--per-component` the scores are nested under the component names instead.
Both forms are read. Scores are fractions (0..1) and are printed as
percentages with 2 decimals; a score the file lacks prints as "-".

Files are grouped by dataset (inferred from the file name: `conll04*`, `ade*`,
or given with --dataset), one table per dataset, with the F1 reported by
Crone (2020) next to them.
"""
import argparse
import datetime
import json
import math
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

# F1 (percent) reported by Crone (2020); RE+ counts a relation correct when both
# arguments have the right boundaries and types and the relation its label.
PAPER: Dict[str, Dict[Tuple[str, str], float]] = {
    "conll04": {
        ("NER", "micro"): 89.78,
        ("NER", "macro"): 87.00,
        ("RE+", "micro"): 71.08,
        ("RE+", "macro"): 72.63,
    },
    "ade": {("NER", "macro"): 89.48, ("RE+", "macro"): 83.74},
}
PAPER_NAME = "Crone 2020"

# (task, averaging) -> keys of precision, recall, F1 in the scores.
KEYS: Dict[Tuple[str, str], Tuple[str, str, str]] = {
    ("NER", "micro"): ("ents_p", "ents_r", "ents_f"),
    ("NER", "macro"): ("ents_macro_p", "ents_macro_r", "ents_macro_f"),
    ("RE+", "micro"): ("rel_micro_p", "rel_micro_r", "rel_micro_f"),
    ("RE+", "macro"): ("rel_macro_p", "rel_macro_r", "rel_macro_f"),
}
PER_TYPE = {"NER": "ents_per_type", "RE+": "rel_per_type"}
SCORE_KEYS = {key for keys in KEYS.values() for key in keys} | set(PER_TYPE.values())

# The four F1 scores the paper reports, under the names of the summaries (results.json, the
# ablation, tuning and cross-validation tables): name -> (task, averaging), a key of KEYS.
F1_SCORES: Dict[str, Tuple[str, str]] = {
    "ner_micro_f": ("NER", "micro"),
    "ner_macro_f": ("NER", "macro"),
    "rel_micro_f": ("RE+", "micro"),
    "rel_macro_f": ("RE+", "macro"),
}
# name -> the key of that F1 in spaCy's scores: "ner_micro_f" -> "ents_f", ...
METRIC_KEYS: Dict[str, str] = {name: KEYS[scope][2] for name, scope in F1_SCORES.items()}
# The column order of the ablation and tuning tables: micro, then macro.
MICRO_FIRST = ("ner_micro_f", "rel_micro_f", "ner_macro_f", "rel_macro_f")


def heading(name: str) -> str:
    """A score's column heading: "NER micro" for "ner_micro_f"."""
    return " ".join(F1_SCORES[name])

Scores = Dict[str, Any]


class MetricsError(ValueError):
    """A metrics file that cannot be read as NER / RE scores."""


def find_scores(data: Any, source: str) -> Scores:
    """The NER / RE scores of one `spacy evaluate` output, flat or per component."""
    if not isinstance(data, dict):
        raise MetricsError(f"{source}: expected a JSON object, got {type(data).__name__}")
    if SCORE_KEYS & data.keys():
        return data
    nested = [
        (name, value)
        for name, value in data.items()
        if isinstance(value, dict) and SCORE_KEYS & value.keys()
    ]
    if len(nested) > 1:
        names = ", ".join(name for name, _ in nested)
        raise MetricsError(f"{source}: NER / RE scores in more than one component ({names})")
    if not nested:
        raise MetricsError(
            f"{source}: no NER / RE scores (none of {', '.join(sorted(SCORE_KEYS))}); "
            "is this the output of `spacy evaluate`?"
        )
    return nested[0][1]


def load_scores(path: Path) -> Scores:
    """Read and check one metrics file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf8"))
    except FileNotFoundError:
        raise MetricsError(f"{path}: file not found") from None
    except json.JSONDecodeError as err:
        raise MetricsError(f"{path}: invalid JSON ({err.msg} at line {err.lineno})") from None
    scores = find_scores(data, str(path))
    for key in SCORE_KEYS - set(PER_TYPE.values()):
        check_fraction(scores.get(key), f"{path}: {key}")
    for per_type_key in PER_TYPE.values():
        per_type = scores.get(per_type_key)
        if per_type is None:
            continue
        if not isinstance(per_type, dict):
            raise MetricsError(f"{path}: {per_type_key} must be an object, got {per_type!r}")
        for label, prf in per_type.items():
            if not isinstance(prf, dict):
                raise MetricsError(f"{path}: {per_type_key}[{label!r}] must be an object, got {prf!r}")
            for part in ("p", "r", "f"):
                check_fraction(prf.get(part), f"{path}: {per_type_key}[{label!r}][{part!r}]")
    return scores


def required_score(scores: Scores, key: str, path: Any) -> float:
    """scores[key] of the metrics file at `path`, or a MetricsError naming both."""
    value = scores.get(key)
    if value is None:
        raise MetricsError(f"{path}: no {key} score (not a deeper_joint evaluation?)")
    return float(value)


def check_fraction(value: Any, where: str) -> None:
    """A score is missing (None) or a number in [0, 1], as spaCy writes them."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise MetricsError(f"{where} must be a number, got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise MetricsError(f"{where} is {value!r}, not a fraction in [0, 1] (percentages?)")


def dataset_of(path: Path) -> Optional[str]:
    """`conll04` or `ade` from a file name such as `conll04_minilm.json` or `ade_fold3.json`."""
    stem = Path(path).stem.lower()
    for name in PAPER:
        if stem.startswith(name):
            return name
    return None


def pct(value: Optional[float]) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def rows_for(scores_by_name: Mapping[str, Scores], dataset: Optional[str]) -> List[List[str]]:
    """Table rows: micro and macro for NER and RE+, then each type."""
    paper = PAPER.get(dataset or "", {})
    rows = []
    for (task, average), keys in KEYS.items():
        row = [task, average]
        for scores in scores_by_name.values():
            row.extend(pct(scores.get(key)) for key in keys)
        paper_f = paper.get((task, average))
        row.append("-" if paper_f is None else f"{paper_f:.2f}")
        rows.append(row)
    for task, per_type_key in PER_TYPE.items():
        labels = sorted({label for s in scores_by_name.values() for label in (s.get(per_type_key) or {})})
        for label in labels:
            row = [task, label]
            for scores in scores_by_name.values():
                prf = (scores.get(per_type_key) or {}).get(label) or {}
                row.extend(pct(prf.get(part)) for part in ("p", "r", "f"))
            row.append("-")
            rows.append(row)
    return rows


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], n_left: int = 2) -> str:
    align = [":--"] * n_left + ["--:"] * (len(header) - n_left)
    lines = [header, align, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def named_metrics_files(folder: Path, name: "re.Pattern[str]", name_form: str, producer: str) -> List[Tuple[Path, "re.Match[str]"]]:
    """The metrics files in `folder`, each with the match of `name` on its stem; an error names a
    file whose name is not `name_form`, or says to run `producer` when there are none."""
    paths = sorted(Path(folder).glob("*.json"))
    if not paths:
        raise MetricsError(f"{folder}: no metrics files (run {producer} first)")
    files = []
    for path in paths:
        match = name.match(path.stem)
        if not match:
            raise MetricsError(f"{path}: the name is not {name_form}")
        files.append((path, match))
    return files


def table_script_parser(description: str, folder_help: str) -> argparse.ArgumentParser:
    """The command line the table scripts (bench.ablation_table, bench.tuning_table) share: a folder of
    metrics files, and where to write the table and its JSON record."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("folder", type=Path, help=folder_help)
    parser.add_argument("--markdown", type=Path, help="write the table here")
    parser.add_argument("--json", type=Path, help="write the scores here")
    parser.add_argument("--command", default="", help="the command that produced the metrics, for the record")
    return parser


def publish(text: str, args: argparse.Namespace, **record: Any) -> None:
    """Print a table script's markdown and write it, and its JSON record stamped with
    args.command and today's date, where args.markdown and args.json say."""
    print(text, end="")
    stamped = {"command": args.command, "date": datetime.date.today().isoformat(), **record}
    for path, content in ((args.markdown, text), (args.json, json.dumps(stamped, indent=2) + "\n")):
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf8")


def render(paths: Sequence[Path], dataset: Optional[str] = None) -> str:
    """The Markdown for `paths`: one table per dataset."""
    groups: Dict[Optional[str], Dict[str, Scores]] = {}
    for path in paths:
        name = Path(path).stem
        group = groups.setdefault(dataset or dataset_of(path), {})
        if name in group:
            raise MetricsError(f"{path}: two files named {name!r} in one table")
        group[name] = load_scores(Path(path))
    parts = []
    for group_dataset, scores_by_name in groups.items():
        single = len(scores_by_name) == 1
        header = ["Task", "Scope"]
        for name in scores_by_name:
            header.extend(part if single else f"{name} {part}" for part in ("P", "R", "F1"))
        header.append(f"{PAPER_NAME} F1")
        title = group_dataset or "unknown dataset (no paper numbers)"
        parts.append(
            f"### {title}: {', '.join(scores_by_name)}\n\n"
            + markdown_table(header, rows_for(scores_by_name, group_dataset))
        )
    return "\n\n".join(parts) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="metrics/<name>.json files from `spacy evaluate`")
    parser.add_argument(
        "--dataset",
        choices=sorted(PAPER),
        help="dataset of every file, for the paper's numbers (default: from each file name)",
    )
    parser.add_argument("--output", type=Path, help="also write the Markdown to this file")
    args = parser.parse_args(argv)
    try:
        text = render(args.paths, args.dataset)
    except MetricsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(text, end="")
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
