"""RE+ F1 on a dev set for several relation thresholds, from one prediction pass.

    python -m bench.threshold_sweep training/conll04/model-best corpus/conll04/dev.spacy \
        --thresholds 0.3 0.4 0.5 0.6 0.7 0.8 0.9 [--output sweep.json]

The pipeline predicts once with the lowest threshold, on the gold tokens (as
`spacy evaluate --gold-preproc`); each threshold then keeps the relations whose score
reaches it. Entities do not depend on the threshold. Use dev data only: the chosen
threshold goes into the config, and test stays untouched.
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List

import spacy
from spacy.tokens import DocBin
from spacy.training import Example

from spacy_deeper.relations import RELATIONS_DATA

from .gold import same_words
from .metrics_table import METRIC_KEYS


def sweep(model: str, data: str, thresholds: List[float], component: str = "deeper_joint") -> Dict[float, Dict[str, float]]:
    lowest = min(thresholds)
    nlp = spacy.load(model, config={"components": {component: {"threshold": lowest}}})
    gold = list(DocBin(store_user_data=True).from_disk(data).get_docs(nlp.vocab))
    inputs = [same_words(doc, nlp.vocab) for doc in gold]
    predicted = list(nlp.pipe(inputs))
    rows = [list(doc._.get(RELATIONS_DATA)) for doc in predicted]
    results = {}
    for threshold in sorted(thresholds):
        for doc, doc_rows in zip(predicted, rows):
            doc._.set(RELATIONS_DATA, [row for row in doc_rows if row[5] >= threshold])
        scores = nlp.get_pipe(component).score([Example(p, g) for p, g in zip(predicted, gold)])
        results[threshold] = {key: round(100 * scores[key], 2) for key in METRIC_KEYS.values()}
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("data", help="a dev .spacy DocBin with gold entities and relations")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    parser.add_argument("--output", help="write the scores per threshold as JSON")
    args = parser.parse_args(argv)
    if not all(0.0 < t < 1.0 for t in args.thresholds):
        parser.error("thresholds must be between 0 and 1")
    results = sweep(args.model, args.data, args.thresholds)
    print("| threshold | NER micro F1 | RE+ micro F1 | RE+ macro F1 |")
    print("| --: | --: | --: | --: |")
    for threshold, s in results.items():
        print(f"| {threshold:.2f} | {s['ents_f']:.2f} | {s['rel_micro_f']:.2f} | {s['rel_macro_f']:.2f} |")
    best = max(results, key=lambda t: (results[t]["rel_micro_f"], -abs(t - 0.5)))
    print(f"best RE+ micro F1 on {args.data}: threshold {best}")
    if args.output:
        Path(args.output).write_text(json.dumps({"model": args.model, "data": args.data, "best": best, "scores": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
