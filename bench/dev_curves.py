"""Dev curves from `spacy train` console logs: NER and RE+ micro F1 at every evaluation,
the best step per run and the mean of the best over the seeds of each variant; with
`--window FIRST LAST`, also the mean over the evaluations at steps FIRST to LAST (of each
run, then over the runs), which is less at the mercy of one lucky evaluation than the best.

    python -m bench.dev_curves VARIANT=RUN_DIR[,RUN_DIR...] [...] [--window FIRST LAST] [--markdown FILE]

Each RUN_DIR holds the `train.log` that scripts/train.sh writes (spaCy's console table:
epoch, step, one loss column per trained component, ENTS_F, REL_MICRO_F, SCORE). The score is spaCy's weighted score
(0.5 NER + 0.5 RE+ micro F1), the one model-best is chosen by.
"""
import argparse
import re
import statistics
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

# Epoch, step, the losses (one column per trained component: a transformer adds one), then the
# last three columns: ENTS_F, REL_MICRO_F, SCORE.
ROW = re.compile(r"^\s*\d+\s+(\d+)\s+(?:[\d.]+\s+)+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")

Curve = List[Tuple[int, float, float, float]]  # (step, NER micro F1, RE+ micro F1, score)


def read_curve(log: Path) -> Curve:
    curve = [
        (int(m[1]), float(m[2]), float(m[3]), float(m[4]))
        for m in (ROW.match(line) for line in log.read_text(encoding="utf8").splitlines())
        if m
    ]
    if not curve:
        raise ValueError(f"{log}: no evaluation rows (is it a spacy train console log?)")
    return curve


def best(curve: Curve) -> Tuple[int, float, float, float]:
    """The first evaluation with the highest score, as spaCy picks model-best. The log
    prints the score to two decimals, so rows that tie there are told apart by the sum of
    the two F1 scores (printed to two decimals of a percent): the unrounded score's order
    under the configs' equal weights."""
    return max(curve, key=lambda row: (row[3], row[1] + row[2], -row[0]))


def window_mean(curve: Curve, first: int, last: int) -> Tuple[float, float]:
    """NER and RE+ micro F1 averaged over the evaluations at steps first to last."""
    rows = [row for row in curve if first <= row[0] <= last]
    if not rows:
        raise ValueError(f"no evaluation between steps {first} and {last}")
    return statistics.mean(row[1] for row in rows), statistics.mean(row[2] for row in rows)


def render(variants: Dict[str, List[Path]], window: Optional[Tuple[int, int]] = None) -> str:
    curves = {name: [(run, read_curve(run / "train.log")) for run in runs] for name, runs in variants.items()}
    header = "| variant | runs | best step | NER micro | RE+ micro | mean of the best: NER | RE+ |"
    rule = "| :-- | :-- | :-- | --: | --: | --: | --: |"
    if window:
        header += f" mean over steps {window[0]}-{window[1]}: NER | RE+ |"
        rule += " --: | --: |"
    lines = [header, rule]
    for name, runs in curves.items():
        bests = [best(curve) for _, curve in runs]
        steps = ", ".join(str(b[0]) for b in bests)
        ner = ", ".join(f"{b[1]:.2f}" for b in bests)
        rel = ", ".join(f"{b[2]:.2f}" for b in bests)
        line = (
            f"| {name} | {len(runs)} | {steps} | {ner} | {rel} | "
            f"{statistics.mean(b[1] for b in bests):.2f} | {statistics.mean(b[2] for b in bests):.2f} |"
        )
        if window:
            means = [window_mean(curve, *window) for _, curve in runs]
            line += f" {statistics.mean(m[0] for m in means):.2f} | {statistics.mean(m[1] for m in means):.2f} |"
        lines.append(line)
    lines += ["", "Curves (NER / RE+ micro F1 on dev at each evaluation):", ""]
    for name, runs in curves.items():
        for run, curve in runs:
            points = "; ".join(f"{step}: {ner:.1f} / {rel:.1f}" for step, ner, rel, _ in curve if step)
            lines.append(f"- {name}, `{run}`: {points}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variants", nargs="+", help="NAME=RUN_DIR[,RUN_DIR...]")
    parser.add_argument("--window", type=int, nargs=2, metavar=("FIRST", "LAST"),
                        help="also the mean F1 over the evaluations at steps FIRST to LAST")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    variants: Dict[str, List[Path]] = {}
    for spec in args.variants:
        name, sep, runs = spec.partition("=")
        if not sep or not runs:
            parser.error(f"expected NAME=RUN_DIR[,RUN_DIR...], got {spec!r}")
        variants[name] = [Path(run) for run in runs.split(",")]
    try:
        text = render(variants, tuple(args.window) if args.window else None)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(text, end="")
    if args.markdown:
        args.markdown.write_text(text, encoding="utf8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
