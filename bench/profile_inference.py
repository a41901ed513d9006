"""Where prediction time goes, stage by stage.

    python -m bench.profile_inference training/conll04/model-best corpus/conll04/test.spacy [--repeat 3]

Runs the pipeline over a DocBin's texts one component at a time (tokenizer, then each
component's `pipe` over all docs), and inside `deeper_joint` times its stages with
wrappers: the token vectors (the tok2vec layer), the BiRNN layers, the CRF's Viterbi
decoding, the relation scorer and set_annotations. Prints a Markdown table of seconds
and shares of the total, and the words per second of the whole.
"""
import argparse
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Callable, Dict, Iterator

import spacy
from spacy.tokens import DocBin
from thinc.api import Model

from spacy_deeper import crf, network, pipe

SECONDS: Dict[str, float] = defaultdict(float)


def timed(stage: str, function: Callable) -> Callable:
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            SECONDS[stage] += time.perf_counter() - start

    return wrapper


@contextmanager
def stage_timers(nlp) -> Iterator[None]:
    """Wrap the stages of deeper_joint (and restore them afterwards)."""
    patches = [
        (network.BiRNN, "forward", "deeper_joint: BiRNN layers"),
        (crf.LinearChainCRF, "viterbi", "deeper_joint: CRF Viterbi"),
        (network.DeeperJointNet, "_pair_logits", "deeper_joint: relation scorer (pairs)"),
        (pipe.DeeperJoint, "set_annotations", "deeper_joint: set_annotations"),
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, stage in patches:
        setattr(owner, name, timed(stage, getattr(owner, name)))
    # The token vectors: a timed layer around the tok2vec, in its place in the model tree.
    model = nlp.get_pipe("deeper_joint").model
    tok2vec = model.get_ref("tok2vec")
    stage = "deeper_joint: token vectors (its tok2vec)"
    wrapper = Model("timed_tok2vec", timed(stage, lambda layer, X, is_train: layer.layers[0](X, is_train)), layers=[tok2vec])
    position = model.layers.index(tok2vec)
    model.layers[position] = wrapper
    model.set_ref("tok2vec", wrapper)
    try:
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
        model.layers[position] = tok2vec
        model.set_ref("tok2vec", tok2vec)


def profile(nlp, texts, batch_size: int) -> int:
    start = time.perf_counter()
    docs = [nlp.make_doc(text) for text in texts]
    SECONDS["tokenizer"] += time.perf_counter() - start
    for name, component in nlp.pipeline:
        start = time.perf_counter()
        docs = list(component.pipe(docs, batch_size=batch_size))
        SECONDS[f"component {name}"] += time.perf_counter() - start
    return sum(len(doc) for doc in docs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("data", help="a .spacy DocBin whose texts are processed")
    parser.add_argument("--repeat", type=int, default=3, help="how many times the texts are processed")
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args(argv)
    nlp = spacy.load(args.model)
    texts = [doc.text for doc in DocBin().from_disk(args.data).get_docs(nlp.vocab)] * args.repeat
    list(nlp.pipe(texts[:64], batch_size=args.batch_size))  # warm up: lazy loading, first calls
    with stage_timers(nlp):
        n_words = profile(nlp, texts, args.batch_size)
    total = SECONDS["tokenizer"] + sum(v for k, v in SECONDS.items() if k.startswith("component "))
    print(f"{args.model}: {n_words:,} words in {total:.1f} s, {n_words / total:,.0f} words/s\n")
    print("| stage | seconds | share of the whole |")
    print("| :-- | --: | --: |")
    for stage, value in SECONDS.items():
        print(f"| {stage} | {value:.2f} | {100 * value / total:.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
