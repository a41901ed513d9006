"""bench.relation_errors against counts made by hand."""
from spacy.lang.en import English
from spacy.tokens import Span

import spacy_deeper  # noqa: F401  (registers doc._.relations)
from bench.relation_errors import entity_errors, render, render_entities, split_errors

WORDS = "Ann Lee works for Acme in Paris and Bob for Zed".split()


def doc_with(nlp, ents, rels):
    doc = nlp.make_doc(" ".join(WORDS))
    doc.ents = [Span(doc, s, e, label=l) for s, e, l in ents]
    doc._.relations = [[hs, he, ts, te, label] for (hs, he), (ts, te), label in rels]
    return doc


def test_errors_are_split_between_ner_and_the_relation_scorer():
    nlp = English()
    gold = doc_with(
        nlp,
        [(0, 2, "Peop"), (4, 5, "Org"), (6, 7, "Loc"), (8, 9, "Peop"), (10, 11, "Org")],
        [((0, 2), (4, 5), "Work_For"), ((4, 5), (6, 7), "OrgBased_In"), ((8, 9), (10, 11), "Work_For")],
    )
    pred = doc_with(
        nlp,
        # "Ann Lee" cut to "Lee"; Zed typed Loc; Acme and Paris right
        [(1, 2, "Peop"), (4, 5, "Org"), (6, 7, "Loc"), (8, 9, "Peop"), (10, 11, "Loc")],
        [((1, 2), (4, 5), "Work_For"), ((6, 7), (4, 5), "OrgBased_In"), ((8, 9), (10, 11), "Work_For")],
    )
    counts = split_errors([(gold, pred)])
    # By hand: no relation is right. Missed: Ann Lee->Acme (head cut: NER's), Acme->Paris
    # (both arguments right, direction wrong: the scorer's), Bob->Zed (Zed mistyped: NER's).
    # Wrong: Lee->Acme (Lee is no gold entity: NER's), Paris->Acme (both gold: the scorer's),
    # Bob->Zed/Loc (NER's).
    assert counts == dict(gold=3, correct=0, missed=3, missed_args_right=1, wrong=3, wrong_args_gold=1)
    assert "| missed gold relations (FN) | 3 | 1 | 2 |" in render(counts)


def test_entity_errors_by_kind():
    nlp = English()
    gold = doc_with(nlp, [(0, 2, "Peop"), (4, 5, "Org"), (6, 7, "Loc"), (8, 9, "Peop"), (10, 11, "Org")], [])
    # "Ann Lee" cut to "Lee", Zed typed Loc, "works" made up; Paris and Bob missed, Acme right.
    pred = doc_with(nlp, [(1, 2, "Peop"), (2, 3, "Other"), (4, 5, "Org"), (10, 11, "Loc")], [])
    counts = entity_errors([(gold, pred)])
    # By hand. Wrong: Lee (overlaps Ann Lee: bounds), works (overlaps nothing), Zed/Loc (gold span: type).
    # Missed: Ann Lee (overlapped by Lee: bounds), Paris and Bob (nothing overlaps), Zed/Org (type).
    assert counts == {"wrong": {"type": 1, "boundary": 1, "none": 1}, "missed": {"type": 1, "boundary": 1, "none": 2}}
    assert "| missed gold entities | 4 | 1 | 1 | 2 |" in render_entities(counts)
