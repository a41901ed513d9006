"""Shared fixtures: a tiny deeper_joint pipeline trained to overfit 10 CoNLL04 sentences."""
from pathlib import Path

import pytest
import spacy
from spacy.training import Example
from thinc.api import Adam, fix_random_seed

from spacy_deeper.corpus import read_jsonl

DATA = Path(__file__).parent / "data" / "conll04_10.jsonl"

# Small and without dropout, so a few dozen steps overfit the sentences.
TINY_CONFIG = {
    "model": {
        "hidden_size": 48,
        "ner_hidden": 48,
        "rel_hidden": 48,
        "rnn_dropout": 0.0,
        "rel_dropout": 0.0,
        "tok2vec": {"width": 48, "rows": 2000},
    }
}
TRAIN_STEPS = 80


def gold_docs(nlp):
    return list(read_jsonl(DATA, nlp.vocab))


def train_tiny(steps: int = TRAIN_STEPS, config=TINY_CONFIG, seed: int = 0):
    fix_random_seed(seed)
    nlp = spacy.blank("en")
    nlp.add_pipe("deeper_joint", config=config)
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in gold_docs(nlp)]
    nlp.initialize(lambda: examples)
    optimizer = Adam(0.01)
    for _ in range(steps):
        nlp.update(examples, sgd=optimizer)
    return nlp


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
