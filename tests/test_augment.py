"""Mention replacement (spacy_deeper.augment) against hand-built sentences and copies."""
import random
from collections import Counter

import pytest
import spacy
from spacy.tokens import DocBin
from spacy.training import Corpus

from conftest import run_python
from spacy_deeper.augment import create_mention_replacement, replace_mentions
from spacy_deeper.corpus import make_doc

WORDS = ["Smith", "works", "for", "Acme", "Corp", "in", "Paris", "."]
ENTS = [[0, 1, "Peop"], [3, 5, "Org"], [6, 7, "Loc"]]
RELS = [[0, 1, 3, 5, "Work_For"], [3, 5, 6, 7, "OrgBased_In"]]


def sentence(vocab):
    return make_doc(vocab, WORDS, [True] * 6 + [False, False], ENTS, RELS)


class Draws:
    """A stand-in for `random`: given draws for .random(), each mention's first for .choice()."""

    def __init__(self, draws):
        self.draws = list(draws)

    def random(self):
        return self.draws.pop(0)

    def choice(self, options):
        return options[0]


POOL = {
    "Peop": [(("Mary", "Ann", "Lee"), (True, True))],
    "Org": [(("Acme", "-", "Co"), (False, False))],
    "Loc": [(("New", "York"), (True,))],
}


def annotations(doc):
    return (
        [token.text for token in doc],
        doc.text,
        [(ent.start, ent.end, ent.label_) for ent in doc.ents],
        [rel.to_row() for rel in doc._.relations],
    )


def test_every_entity_replaced_by_hand():
    vocab = spacy.blank("en").vocab
    copy = replace_mentions(vocab, sentence(vocab), POOL, 1.0, Draws([0.0, 0.0, 0.0]))
    assert annotations(copy) == (
        ["Mary", "Ann", "Lee", "works", "for", "Acme", "-", "Co", "in", "New", "York", "."],
        "Mary Ann Lee works for Acme-Co in New York.",
        [(0, 3, "Peop"), (5, 8, "Org"), (9, 11, "Loc")],
        [[0, 3, 5, 8, "Work_For", 1.0], [5, 8, 9, 11, "OrgBased_In", 1.0]],
    )


def test_only_the_drawn_entity_moves_and_the_others_shift():
    vocab = spacy.blank("en").vocab
    # prob 0.5: the draws 0.9, 0.1, 0.7 replace the Org only.
    copy = replace_mentions(vocab, sentence(vocab), POOL, 0.5, Draws([0.9, 0.1, 0.7]))
    assert annotations(copy) == (
        ["Smith", "works", "for", "Acme", "-", "Co", "in", "Paris", "."],
        "Smith works for Acme-Co in Paris.",
        [(0, 1, "Peop"), (3, 6, "Org"), (7, 8, "Loc")],
        [[0, 1, 3, 6, "Work_For", 1.0], [3, 6, 7, 8, "OrgBased_In", 1.0]],
    )


def test_no_copy_when_nothing_is_drawn_or_no_mention_has_the_label():
    vocab = spacy.blank("en").vocab
    assert replace_mentions(vocab, sentence(vocab), POOL, 0.5, Draws([0.6, 0.6, 0.6])) is None
    assert replace_mentions(vocab, sentence(vocab), {"Misc": POOL["Loc"]}, 1.0, Draws([])) is None


def write_corpus(path, docs):
    DocBin(docs=docs, store_user_data=True).to_disk(path)
    return path


def context(doc):
    """The words outside the entities, with a placeholder per entity: what replacement keeps."""
    out, pos = [], 0
    for ent in doc.ents:
        out += [t.text for t in doc[pos:ent.start]] + [f"<{ent.label_}>"]
        pos = ent.end
    return out + [t.text for t in doc[pos:]]


def relation_shapes(doc):
    """Each relation as (label, index of its head among the entities, index of its tail)."""
    index = {(ent.start, ent.end): i for i, ent in enumerate(doc.ents)}
    return sorted((r.label, index[r.head.start, r.head.end], index[r.tail.start, r.tail.end]) for r in doc._.relations)


def test_the_registered_augmenter_in_a_corpus(tmp_path):
    nlp = spacy.blank("en")
    other = make_doc(nlp.vocab, ["Jones", "of", "Bell", "Labs", "left", "Rome"], [True] * 5 + [False],
                     [[0, 1, "Peop"], [2, 4, "Org"], [5, 6, "Loc"]], [[0, 1, 2, 4, "Work_For"]])
    path = write_corpus(tmp_path / "train.spacy", [sentence(nlp.vocab), other])
    source_mentions = {(ent.label_, ent.text) for doc in (sentence(nlp.vocab), other) for ent in doc.ents}
    augmenter = spacy.registry.augmenters.get("spacy_deeper.mention_replacement.v1")(
        source=str(path), prob=1.0, copies=3
    )
    random.seed(0)
    examples = list(Corpus(path, gold_preproc=True, augmenter=augmenter)(nlp))
    originals = [eg for eg in examples if eg.reference.text in ("Smith works for Acme Corp in Paris.", "Jones of Bell Labs left Rome")]
    assert len(originals) == 2 and len(examples) == 2 + 2 * 3
    by_context = {tuple(context(eg.reference)): eg.reference for eg in originals}
    for eg in examples:
        original = by_context[tuple(context(eg.reference))]
        assert relation_shapes(eg.reference) == relation_shapes(original)
        assert {(ent.label_, ent.text) for ent in eg.reference.ents} <= source_mentions
        # gold_preproc: the predicted doc has the reference's words.
        assert [t.text for t in eg.predicted] == [t.text for t in eg.reference]
    # With prob 1 and two mentions per label, some copy differs from its original.
    assert len({eg.reference.text for eg in examples}) > 2


def test_labels_limit_what_is_replaced(tmp_path):
    nlp = spacy.blank("en")
    path = write_corpus(tmp_path / "train.spacy", [sentence(nlp.vocab)])
    augmenter = create_mention_replacement(source=str(path), prob=1.0, copies=1, labels=["Loc"])
    examples = list(Corpus(path, gold_preproc=True, augmenter=augmenter)(nlp))
    # The only Loc mention is Paris itself: the copy is the original, Peop and Org untouched.
    assert Counter(eg.reference.text for eg in examples) == Counter({"Smith works for Acme Corp in Paris.": 2})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"prob": 0.0}, "prob must be in (0, 1]"),
        ({"copies": 0}, "copies must be an integer >= 1"),
        ({"source": None}, "`source` (the training corpus) is not set"),
    ],
)
def test_bad_settings(kwargs, message):
    with pytest.raises(ValueError) as err:
        create_mention_replacement(**{"source": "train.spacy", **kwargs})
    assert message in str(err.value)


def test_a_label_without_mentions_and_a_missing_source(tmp_path):
    nlp = spacy.blank("en")
    path = write_corpus(tmp_path / "train.spacy", [sentence(nlp.vocab)])
    augmenter = create_mention_replacement(source=str(path), labels=["Loc", "Drug"])
    with pytest.raises(ValueError, match=r"no mention of \['Drug'\]"):
        list(Corpus(path, gold_preproc=True, augmenter=augmenter)(nlp))
    augmenter = create_mention_replacement(source=str(tmp_path / "nowhere"))
    with pytest.warns(UserWarning, match="W090"), pytest.raises(ValueError, match="no .spacy file at"):
        list(Corpus(path, gold_preproc=True, augmenter=augmenter)(nlp))


def test_annotation_a_copy_would_lose_is_an_error(tmp_path):
    nlp = spacy.blank("en")
    doc = sentence(nlp.vocab)
    doc[1].tag_ = "VBZ"
    path = write_corpus(tmp_path / "train.spacy", [doc])
    augmenter = create_mention_replacement(source=str(path), prob=1.0)
    with pytest.raises(ValueError, match="has TAG annotation, which its copies would not carry"):
        list(Corpus(path, gold_preproc=True, augmenter=augmenter)(nlp))


def test_sentence_starts_are_carried():
    vocab = spacy.blank("en").vocab
    doc = sentence(vocab)
    for token in doc:
        token.is_sent_start = token.i in (0, 6)
    copy = replace_mentions(vocab, doc, POOL, 1.0, Draws([0.0, 0.0, 0.0]))
    assert [sent.text for sent in copy.sents] == ["Mary Ann Lee works for Acme-Co in", "New York."]


def test_a_fresh_process_finds_the_augmenter_by_its_entry_point():
    out = run_python(
        """
        import spacy
        print(spacy.registry.augmenters.get("spacy_deeper.mention_replacement.v1").__module__)
        """
    )
    assert out == "spacy_deeper.augment"
