"""Shared fixtures: a tiny deeper_joint pipeline trained to overfit 10 CoNLL04 sentences."""
import pytest
import spacy

from bench.tiny import DATA, TINY_CONFIG, TRAIN_STEPS, gold_docs, train_tiny  # noqa: F401  (test modules import them from here)


@pytest.fixture(scope="session")
def trained_nlp():
    return train_tiny()


@pytest.fixture(scope="session")
def trained_path(trained_nlp, tmp_path_factory):
    path = tmp_path_factory.mktemp("pipeline") / "tiny"
    trained_nlp.to_disk(path)
    return path


@pytest.fixture(scope="session")
def gold():
    return gold_docs(spacy.blank("en"))


def predictions(docs):
    """Entities and relations (with scores rounded to 5 places) as plain values."""
    return [
        (
            [(e.start_char, e.end_char, e.label_) for e in doc.ents],
            [(r.head.start_char, r.tail.start_char, r.label, round(r.score, 5)) for r in doc._.relations],
        )
        for doc in docs
    ]


def tiny_vectors(folder):
    """A stand-in for corpus/vectors/glove50, which the configs with GloVe read: a pipeline
    folder with one 4-wide vector, keyed by LOWER."""
    import numpy
    from spacy.vectors import Vectors

    nlp = spacy.blank("en")
    nlp.vocab.vectors = Vectors(strings=nlp.vocab.strings, data=numpy.ones((1, 4), dtype="float32"), keys=["the"], attr="LOWER")
    nlp.to_disk(folder / "vectors")
    return folder / "vectors"
