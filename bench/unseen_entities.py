"""How many test entity mentions have a surface string never seen as an entity in training.

    python -m bench.unseen_entities assets/conll04/test.jsonl assets/conll04/train.jsonl assets/conll04/dev.jsonl

Reads the JSONL format of assets/ with the project's own reader, so bad lines stop
with file:line.
"""
import argparse
import sys
from collections import Counter
from typing import List, Optional, Sequence, Tuple

from spacy.vocab import Vocab

from spacy_deeper.corpus import read_jsonl


def mentions(path: str) -> List[Tuple[str, str]]:
    """(surface string, type) of every entity in a JSONL file."""
    vocab = Vocab()
    return [(" ".join(token.text for token in ent), ent.label_) for doc in read_jsonl(path, vocab) for ent in doc.ents]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("test")
    parser.add_argument("train", nargs="+")
    args = parser.parse_args(argv)
    seen = {text for path in args.train for text, _ in mentions(path)}
    total: Counter = Counter()
    unseen: Counter = Counter()
    for text, label in mentions(args.test):
        total[label] += 1
        unseen[label] += text not in seen
    n, u = sum(total.values()), sum(unseen.values())
    print(f"unseen test mentions: {u} of {n} ({100 * u / n:.1f}%)")
    for label in sorted(total):
        print(f"  {label}: {unseen[label]} of {total[label]} ({100 * unseen[label] / total[label]:.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
