"""Strict scoring of entities and relations (RE+), micro and macro, per type.

An entity is correct when its character span and label match a gold entity; a
relation is correct when its label and both arguments (span and label) match a
gold relation. Every gold item not predicted is a false negative, including
relations whose entities were missed. Macro scores average the per-type F1 (and
P, R) over every type seen in the gold or the predictions.
"""
from collections import Counter
from typing import Any, Callable, Dict, Iterable, Set, Tuple

from spacy.training import Example
from spacy.util import registry

from .relations import register_extensions

EntKey = Tuple[int, int, str]
RelKey = Tuple[EntKey, EntKey, str]


def span_key(span) -> EntKey:
    """What an entity is compared by: its character span and label."""
    return (span.start_char, span.end_char, span.label_)


def _prf(tp: int, n_pred: int, n_gold: int) -> Dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": p, "r": r, "f": f}


def prf_by_type(pairs: Iterable[Tuple[Set[Any], Set[Any]]], type_of: Callable[[Any], str]) -> Dict[str, Any]:
    """Micro, macro and per-type P/R/F over (gold set, predicted set) pairs."""
    tp, n_pred, n_gold = Counter(), Counter(), Counter()
    for gold, pred in pairs:
        for key in gold:
            n_gold[type_of(key)] += 1
        for key in pred:
            n_pred[type_of(key)] += 1
        for key in gold & pred:
            tp[type_of(key)] += 1
    types = sorted(set(n_gold) | set(n_pred))
    per_type = {t: _prf(tp[t], n_pred[t], n_gold[t]) for t in types}
    micro = _prf(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values()))
    macro = {m: sum(s[m] for s in per_type.values()) / len(types) if types else 0.0 for m in "prf"}
    return {"micro": micro, "macro": macro, "per_type": per_type}


def score_joint(
    examples: Iterable[Example], ent_key: Callable[[Any], EntKey] = span_key, **kwargs
) -> Dict[str, Any]:
    """The scores of `deeper_joint`: spaCy's names where they exist
    (ents_p/r/f, ents_per_type), plus ents_macro_*, rel_micro_*, rel_macro_*,
    rel_per_type. Values are fractions, as spaCy's own scorers give them.
    `ent_key` maps an entity (a Span) to what it is compared by, in the gold
    and the predicted docs alike (a looser match, for analysis)."""
    register_extensions()
    ent_pairs, rel_pairs = [], []
    for eg in examples:
        gold_doc, pred_doc = eg.reference, eg.predicted
        ent_pairs.append(({ent_key(e) for e in gold_doc.ents}, {ent_key(e) for e in pred_doc.ents}))
        rel_pairs.append(
            (
                {(ent_key(r.head), ent_key(r.tail), r.label) for r in gold_doc._.relations},
                {(ent_key(r.head), ent_key(r.tail), r.label) for r in pred_doc._.relations},
            )
        )
    ents = prf_by_type(ent_pairs, lambda key: key[2])
    rels = prf_by_type(rel_pairs, lambda key: key[2])
    scores: Dict[str, Any] = {
        "ents_p": ents["micro"]["p"],
        "ents_r": ents["micro"]["r"],
        "ents_f": ents["micro"]["f"],
        "ents_macro_p": ents["macro"]["p"],
        "ents_macro_r": ents["macro"]["r"],
        "ents_macro_f": ents["macro"]["f"],
        "ents_per_type": ents["per_type"],
    }
    for avg in ("micro", "macro"):
        for m in "prf":
            scores[f"rel_{avg}_{m}"] = rels[avg][m]
    scores["rel_per_type"] = rels["per_type"]
    return scores


@registry.scorers("spacy_deeper.joint_scorer.v1")
def make_joint_scorer() -> Callable[..., Dict[str, Any]]:
    return score_joint
