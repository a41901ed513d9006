"""Peak memory and time of `deeper_joint` on long documents, written as a Markdown table.

    OMP_NUM_THREADS=1 python -m bench.long_docs [--sizes 10000 50000 100000] [--output benchmarks/long_docs.md]

Pipelines (built in a temporary folder first):

- `tiny`: the test suite's pipeline (bench.tiny: TINY_CONFIG trained 80 steps on the 10
  sentences of tests/data/conll04_10.jsonl);
- `default`: the component's default config (hidden 256, 1 shared + 1 NER + 2 RE GRU
  layers, tok2vec width 128), initialized on the 10 sentences, weights untrained;
- `default-fit`: the same, trained 60 steps on the 10 sentences, so that it predicts
  about as many entities and relations as a trained model does. Untrained weights
  tag most tokens as entities and put about half of all entity pairs above the
  threshold: the time and memory then go to building millions of relations.

Each pipeline runs with and without a `sentencizer` before `deeper_joint` on:

- `N words`: the 10 sentences' tokens repeated to N whitespace-separated words
  (so about 40 tokens a sentence where a sentencizer splits them; one segment cut into
  windows of max_length tokens where none does);
- `one sentence`: 5,000 alphabetic tokens with no punctuation, one sentence for the
  sentencizer.

Every measurement is a fresh process (`--child`): it loads the pipeline, runs a warm-up
doc, then times `nlp(text)` once. `base` is the resident memory just before `nlp(text)`
(interpreter, torch, spaCy, the pipeline and the text: VmRSS in /proc/self/status);
`peak` the process's peak resident memory while it ran (VmHWM, reset just before
through /proc/self/clear_refs); `peak - base` what processing the document added.
`s/10k words` should be about constant if time is linear in length.
"""
import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

from .tiny import DATA, train, train_tiny

ROOT = Path(__file__).resolve().parent.parent
ONE_SENTENCE = 5000
FIT_STEPS = 60

NOTES = """\
Pipelines: `tiny` is the test suite's pipeline (hidden size 48, trained on the 10 sentences of
tests/data/conll04_10.jsonl); `default` the component's default config (hidden 256, 1 shared + 1 NER
+ 2 RE GRU layers, tok2vec width 128) with untrained weights; `default-fit` the same trained 60 steps
on the 10 sentences. Documents: the 10 sentences repeated to N words (about 40 tokens a sentence; one
segment cut into 128-token windows without a sentencizer), and 5,000 alphabetic tokens with no
punctuation (one sentence, cut into windows). One fresh process a row; `base` is the resident memory
before `nlp(text)` (Python, torch, spaCy, the pipeline), `peak` the peak resident memory while it ran.

- Time is linear in length: seconds per 10k words stay about constant from 10k to 100k words.
- Memory: at prediction the network runs over groups of at most 8,192 padded tokens
  (`PREDICT_GROUP_TOKENS` in spacy_deeper/model.py), so what grows with the document is its token
  vectors (the tok2vec runs over the whole doc), the Doc and the predictions: about 7 MB per 1,000
  words with the default model size.
- `default` (untrained) is a stress case, not a realistic one: it tags most tokens as entities and
  puts about half of all entity pairs of a window above the threshold, 11 million relations for
  100,000 words. Its time and memory go to building those relations (Python rows in
  `doc._.relations_data`, about 400 bytes each at the peak), which is why it passes 2 GB. A trained
  model predicts about one relation a sentence (`default-fit`, `tiny`).
- spaCy refuses a text longer than `nlp.max_length` (1,000,000 characters by default, error E088);
  the 100,000-word text here has 522,344 characters.
"""


def sentence_tokens() -> List[List[str]]:
    return [json.loads(line)["tokens"] for line in DATA.read_text(encoding="utf8").splitlines() if line.strip()]


def make_text(kind: str, n: int) -> str:
    """`words`: the test sentences repeated to n words; `sentence`: n alphabetic
    tokens, no punctuation."""
    words = [w for tokens in sentence_tokens() for w in tokens]
    if kind == "sentence":
        words = [w for w in words if w.isalpha()]
    return " ".join(words[i % len(words)] for i in range(n))


def memory_mb(field: str) -> float:
    """VmRSS (resident now) or VmHWM (peak resident since the last reset) from /proc;
    ru_maxrss where there is no /proc (it also counts what a parent held before exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as file_:
            for line in file_:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def reset_peak() -> None:
    """Restart VmHWM from the current resident size (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as file_:
            file_.write("5")
    except OSError:
        pass


def child(path: str, kind: str, n: int, sentencizer: bool) -> Dict[str, Any]:
    """One measurement, in this (fresh) process."""
    import spacy

    from spacy_deeper.segments import make_segments

    nlp = spacy.load(path)
    if sentencizer:
        nlp.add_pipe("sentencizer", before="deeper_joint")
    nlp("John Smith works for Acme Corp in Boston .")
    text = make_text(kind, n)
    reset_peak()
    base = memory_mb("VmRSS")
    start = time.perf_counter()
    doc = nlp(text)
    seconds = time.perf_counter() - start
    peak = memory_mb("VmHWM")
    start = time.perf_counter()
    n_rels = len(doc._.relations)
    relations_seconds = time.perf_counter() - start
    max_length = nlp.get_pipe("deeper_joint").model.attrs["max_length"]
    segments = make_segments([doc], max_length)
    return {
        "words": n, "tokens": len(doc), "segments": len(segments),
        "longest_segment": max(end - start for _, start, end in segments),
        "ents": len(doc.ents), "rels": n_rels,
        "seconds": seconds, "relations_seconds": relations_seconds, "base_mb": base, "peak_mb": peak,
    }


def build_pipelines(folder: Path, names: List[str]) -> Dict[str, Path]:
    paths = {name: folder / name for name in names}
    if "tiny" in names:
        train_tiny().to_disk(paths["tiny"])
    for name, steps in (("default", 0), ("default-fit", FIT_STEPS)):
        if name in names:
            train(steps).to_disk(paths[name])
    return paths


def measure(path: Path, kind: str, n: int, sentencizer: bool) -> Dict[str, Any]:
    args = [sys.executable, "-m", "bench.long_docs", "--child", str(Path(path).resolve()), kind, str(n), str(int(sentencizer))]
    result = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    if result.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def table(rows: List[Dict[str, Any]]) -> str:
    head = ("| pipeline | sentencizer | document | tokens | segments (longest) | ents | rels | seconds "
            "| s/10k words | base MB | peak MB | peak - base MB |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        doc = f"{r['words']:,} words" if r["kind"] == "words" else f"one sentence, {r['words']:,} tokens"
        lines.append(
            f"| {r['pipeline']} | {'yes' if r['sentencizer'] else 'no'} | {doc} | {r['tokens']:,} "
            f"| {r['segments']:,} ({r['longest_segment']}) | {r['ents']:,} | {r['rels']:,} | {r['seconds']:.2f} "
            f"| {r['seconds'] / r['words'] * 10000:.2f} | {r['base_mb']:.0f} | {r['peak_mb']:.0f} "
            f"| {r['peak_mb'] - r['base_mb']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 50000, 100000])
    parser.add_argument("--pipelines", nargs="+", choices=["tiny", "default", "default-fit"],
                        default=["tiny", "default", "default-fit"])
    parser.add_argument("--output", type=Path, default=None, help="Markdown file to write (default: print only)")
    parser.add_argument("--child", nargs=4, metavar=("PATH", "KIND", "N", "SENTENCIZER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        path, kind, n, sentencizer = args.child
        print(json.dumps(child(path, kind, int(n), sentencizer == "1")))
        return
    import spacy
    import torch

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = build_pipelines(Path(tmp), args.pipelines)
        for name in args.pipelines:
            for sentencizer in (False, True):
                docs = [("words", n) for n in args.sizes] + [("sentence", ONE_SENTENCE)]
                for kind, n in docs:
                    row = {"pipeline": name, "sentencizer": sentencizer, "kind": kind,
                           **measure(paths[name], kind, n, sentencizer)}
                    print(json.dumps(row), file=sys.stderr)
                    rows.append(row)
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    report = "\n".join([
        "# Long documents: time and peak memory of `deeper_joint`",
        "",
        f"Recorded with `OMP_NUM_THREADS={threads} python -m bench.long_docs --output benchmarks/long_docs.md` "
        f"on {time.strftime('%Y-%m-%d')}: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, torch {torch.__version__} (torch threads: {torch.get_num_threads()}), "
        f"spaCy {spacy.__version__}.",
        "",
        table(rows),
        "",
        NOTES,
    ])
    print(report)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report, encoding="utf8")


if __name__ == "__main__":
    main()
