"""The joint scorer on hand-made gold and predicted docs."""
import pytest
import spacy
from spacy.tokens import Span
from spacy.training import Example

from spacy_deeper.scorer import score_joint

TEXT = "John Smith works for Acme Corp in Boston ."


def make_doc(nlp, ents, rels):
    doc = nlp.make_doc(TEXT)  # John Smith works for Acme Corp in Boston .
    doc.ents = [Span(doc, s, e, label=label) for s, e, label in ents]
    doc._.relations = rels
    return doc


def test_micro_macro_by_hand():
    nlp = spacy.blank("en")
    gold = make_doc(
        nlp,
        [(0, 2, "Peop"), (4, 6, "Org"), (7, 8, "Loc")],
        [[0, 2, 4, 6, "Work_For"], [4, 6, 7, 8, "OrgBased_In"], [0, 2, 7, 8, "Live_In"]],
    )
    pred = make_doc(
        nlp,
        [(0, 2, "Peop"), (4, 5, "Org"), (7, 8, "Loc")],  # Org span is wrong
        [[0, 2, 4, 5, "Work_For", 0.9], [0, 2, 7, 8, "Live_In", 0.8], [7, 8, 0, 2, "Live_In", 0.7]],
    )
    scores = score_joint([Example(pred, gold)])
    # Entities: 2 of 3 correct, 3 predicted. P = R = F = 2/3.
    assert scores["ents_p"] == pytest.approx(2 / 3)
    assert scores["ents_r"] == pytest.approx(2 / 3)
    assert scores["ents_f"] == pytest.approx(2 / 3)
    # Per type: Peop 1/1, Loc 1/1, Org 0 -> macro F = 2/3.
    assert scores["ents_per_type"]["Org"] == {"p": 0.0, "r": 0.0, "f": 0.0}
    assert scores["ents_macro_f"] == pytest.approx(2 / 3)
    # Relations: only Live_In (John -> Boston) is right: tp 1, 3 predicted, 3 gold.
    assert scores["rel_micro_p"] == pytest.approx(1 / 3)
    assert scores["rel_micro_r"] == pytest.approx(1 / 3)
    assert scores["rel_micro_f"] == pytest.approx(1 / 3)
    # Per type: Work_For P0 R0; OrgBased_In P0 (none predicted) R0; Live_In P 1/2, R 1/1, F 2/3.
    live = scores["rel_per_type"]["Live_In"]
    assert (live["p"], live["r"], live["f"]) == pytest.approx((0.5, 1.0, 2 / 3))
    assert scores["rel_macro_f"] == pytest.approx((0 + 0 + 2 / 3) / 3)
    assert scores["rel_macro_p"] == pytest.approx(0.5 / 3)


def test_missed_entities_make_their_relations_false_negatives():
    nlp = spacy.blank("en")
    gold = make_doc(nlp, [(0, 2, "Peop"), (4, 6, "Org")], [[0, 2, 4, 6, "Work_For"]])
    pred = make_doc(nlp, [], [])
    scores = score_joint([Example(pred, gold)])
    assert scores["rel_micro_r"] == 0.0 and scores["ents_r"] == 0.0
    assert scores["rel_per_type"] == {"Work_For": {"p": 0.0, "r": 0.0, "f": 0.0}}


def test_relation_with_wrong_argument_type_is_wrong():
    nlp = spacy.blank("en")
    gold = make_doc(nlp, [(0, 2, "Peop"), (4, 6, "Org")], [[0, 2, 4, 6, "Work_For"]])
    pred = make_doc(nlp, [(0, 2, "Org"), (4, 6, "Org")], [[0, 2, 4, 6, "Work_For", 1.0]])
    assert score_joint([Example(pred, gold)])["rel_micro_f"] == 0.0


def test_perfect_and_empty():
    nlp = spacy.blank("en")
    gold = make_doc(nlp, [(0, 2, "Peop"), (4, 6, "Org")], [[0, 2, 4, 6, "Work_For"]])
    perfect = score_joint([Example(make_doc(nlp, [(0, 2, "Peop"), (4, 6, "Org")], [[0, 2, 4, 6, "Work_For"]]), gold)])
    assert perfect["ents_f"] == perfect["rel_micro_f"] == perfect["rel_macro_f"] == 1.0
    empty = score_joint([Example(make_doc(nlp, [], []), make_doc(nlp, [], []))])
    assert empty["ents_f"] == 0.0 and empty["rel_per_type"] == {}


def test_ent_key_decides_what_an_entity_is_compared_by():
    nlp = spacy.blank("en")
    gold = make_doc(nlp, [(0, 2, "Peop"), (4, 6, "Org")], [[0, 2, 4, 6, "Work_For"]])
    pred = make_doc(nlp, [(0, 2, "Org"), (4, 6, "Org")], [[0, 2, 4, 6, "Work_For", 1.0]])
    strict = score_joint([Example(pred, gold)])
    assert (strict["ents_f"], strict["rel_micro_f"]) == (0.5, 0.0)
    # Compared by span alone, John Smith's wrong type no longer counts: everything is right.
    blind = score_joint([Example(pred, gold)], ent_key=lambda span: (span.start_char, span.end_char, ""))
    assert (blind["ents_f"], blind["rel_micro_f"]) == (1.0, 1.0)
