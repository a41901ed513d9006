"""Where the RE+ errors come from: the entities or the relation scorer.

    python -m bench.relation_errors MODEL DEV.spacy

Predicts on the gold tokens (as `spacy evaluate --gold-preproc`) and splits RE+'s
errors under the strict criterion: a missed gold relation whose two arguments were
both predicted right (span and type) is the relation scorer's miss; one with an
argument missed or mistyped is NER's. Likewise a wrong predicted relation is the
scorer's when both its arguments are gold entities, NER's otherwise. Use dev data.
"""
import argparse
from typing import Dict, Iterable, Tuple

import spacy
from spacy.tokens import Doc, DocBin

from .gold import same_words

EntKey = Tuple[int, int, str]


def _ents(doc: Doc) -> set:
    return {(e.start, e.end, e.label_) for e in doc.ents}


def _rels(doc: Doc) -> set:
    return {((r.head.start, r.head.end, r.head.label_), (r.tail.start, r.tail.end, r.tail.label_), r.label) for r in doc._.relations}


def split_errors(pairs: Iterable[Tuple[Doc, Doc]]) -> Dict[str, int]:
    """Counts over (gold, predicted) doc pairs on the same tokens."""
    counts = dict(gold=0, correct=0, missed=0, missed_args_right=0, wrong=0, wrong_args_gold=0)
    for gold, pred in pairs:
        gold_rels, pred_rels = _rels(gold), _rels(pred)
        gold_ents, pred_ents = _ents(gold), _ents(pred)
        counts["gold"] += len(gold_rels)
        counts["correct"] += len(gold_rels & pred_rels)
        for head, tail, _ in gold_rels - pred_rels:
            counts["missed"] += 1
            counts["missed_args_right"] += head in pred_ents and tail in pred_ents
        for head, tail, _ in pred_rels - gold_rels:
            counts["wrong"] += 1
            counts["wrong_args_gold"] += head in gold_ents and tail in gold_ents
    return counts


def render(counts: Dict[str, int]) -> str:
    return "\n".join(
        [
            "| RE+ errors | count | of which the relation scorer's (arguments right) | of which NER's |",
            "| :-- | --: | --: | --: |",
            f"| missed gold relations (FN) | {counts['missed']} | {counts['missed_args_right']} | "
            f"{counts['missed'] - counts['missed_args_right']} |",
            f"| wrong predicted relations (FP) | {counts['wrong']} | {counts['wrong_args_gold']} | "
            f"{counts['wrong'] - counts['wrong_args_gold']} |",
            "",
            f"{counts['correct']} of {counts['gold']} gold relations found.",
        ]
    ) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="pipeline path or package")
    parser.add_argument("data", help="a DocBin with gold entities and relations (dev data)")
    args = parser.parse_args(argv)
    nlp = spacy.load(args.model)
    gold = list(DocBin().from_disk(args.data).get_docs(nlp.vocab))
    predicted = nlp.pipe(same_words(doc, nlp.vocab) for doc in gold)
    print(render(split_errors(zip(gold, predicted))), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
