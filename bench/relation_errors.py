"""Where the RE+ errors come from: the entities or the relation scorer.

    python -m bench.relation_errors MODEL DEV.spacy

Predicts on the gold tokens (as `spacy evaluate --gold-preproc`) and splits RE+'s
errors under the strict criterion: a missed gold relation whose two arguments were
both predicted right (span and type) is the relation scorer's miss; one with an
argument missed or mistyped is NER's. Likewise a wrong predicted relation is the
scorer's when both its arguments are gold entities, NER's otherwise. Then NER's own
errors, by kind: an entity with a gold span but another type, one that overlaps a
gold entity with other bounds, and one that overlaps none (each way round). Use dev data.
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


ENTITY_KINDS = ("type", "boundary", "none")


def _kind(ent: EntKey, others: set) -> str:
    """How an entity that is not in `others` misses them: the same span with another
    type, an overlap with other bounds, or no overlap at all."""
    start, end, _ = ent
    if any((o_start, o_end) == (start, end) for o_start, o_end, _ in others):
        return "type"
    if any(o_start < end and start < o_end for o_start, o_end, _ in others):
        return "boundary"
    return "none"


def entity_errors(pairs: Iterable[Tuple[Doc, Doc]]) -> Dict[str, Dict[str, int]]:
    """NER's errors by kind over (gold, predicted) doc pairs on the same tokens: the
    wrong predicted entities and the missed gold ones."""
    counts = {side: dict.fromkeys(ENTITY_KINDS, 0) for side in ("wrong", "missed")}
    for gold, pred in pairs:
        gold_ents, pred_ents = _ents(gold), _ents(pred)
        for ent in pred_ents - gold_ents:
            counts["wrong"][_kind(ent, gold_ents)] += 1
        for ent in gold_ents - pred_ents:
            counts["missed"][_kind(ent, pred_ents)] += 1
    return counts


def render_entities(counts: Dict[str, Dict[str, int]]) -> str:
    wrong, missed = counts["wrong"], counts["missed"]
    return "\n".join(
        [
            "| NER errors | count | a gold span, another type | other bounds than an overlapping entity | no overlap |",
            "| :-- | --: | --: | --: | --: |",
            f"| wrong predicted entities | {sum(wrong.values())} | {wrong['type']} | {wrong['boundary']} | {wrong['none']} |",
            f"| missed gold entities | {sum(missed.values())} | {missed['type']} | {missed['boundary']} | {missed['none']} |",
        ]
    ) + "\n"


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
    pairs = list(zip(gold, nlp.pipe(same_words(doc, nlp.vocab) for doc in gold)))
    print(render(split_errors(pairs)) + "\n" + render_entities(entity_errors(pairs)), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
