"""A tiny deeper_joint pipeline trained to overfit the 10 CoNLL04 sentences of
tests/data/conll04_10.jsonl: the test suite's fixture (tests/conftest.py) and the `tiny`
pipeline of bench.long_docs. Also builds the long-docs benchmark's default-size pipelines."""
from pathlib import Path
from typing import Any, Dict, List, Optional

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import Adam, fix_random_seed

from spacy_deeper.corpus import read_jsonl

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "conll04_10.jsonl"

# Small and without dropout, so a few dozen steps overfit the sentences.
TINY_CONFIG: Dict[str, Any] = {
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


def gold_docs(nlp: Language) -> List[Doc]:
    return list(read_jsonl(DATA, nlp.vocab))


def train(steps: int, config: Optional[Dict[str, Any]] = None, seed: int = 0) -> Language:
    """A blank English pipeline with deeper_joint (the component's defaults updated by
    `config`), initialized on the 10 sentences and trained `steps` steps on all of them."""
    fix_random_seed(seed)
    nlp = spacy.blank("en")
    nlp.add_pipe("deeper_joint", config=config or {})
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in gold_docs(nlp)]
    nlp.initialize(lambda: examples)
    optimizer = Adam(0.01)
    for _ in range(steps):
        nlp.update(examples, sgd=optimizer)
    return nlp


def train_tiny(steps: int = TRAIN_STEPS, config: Dict[str, Any] = TINY_CONFIG, seed: int = 0) -> Language:
    return train(steps, config, seed)
