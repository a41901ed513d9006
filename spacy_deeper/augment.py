"""Mention replacement: training copies with entities swapped for others of their type.

`spacy_deeper.mention_replacement.v1` is a spaCy augmenter (Dai and Adel 2020's
mention replacement). For each training example it yields the example itself and
up to `copies` copies in which each entity (of `labels`; null: of every label),
with probability `prob`, is replaced
by a mention of the same label drawn from the training corpus `source`; the
relations move with their entities. A copy that replaces nothing is not yielded.
Draws use Python's `random`, which `spacy train` seeds from `[training] seed`::

    [corpora.train.augmenter]
    @augmenters = "spacy_deeper.mention_replacement.v1"
    source = ${paths.train}
    prob = 0.3
    copies = 1
    labels = null

spaCy builds the training examples once when `[training] max_epochs` >= 0, so the
copies are drawn once and reshuffled each epoch with the rest. A copy carries the
words, entities, relations and sentence starts of its example and nothing else, so
an example with other annotation (tags, lemmas, parses, span groups) is an error,
not a copy that silently loses it.
"""
import random
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.training.corpus import walk_corpus
from spacy.util import registry
from spacy.vocab import Vocab

from .corpus import make_doc
from .relations import get_relations

# A mention: its words and the spaces after each word but the last.
Mention = Tuple[Tuple[str, ...], Tuple[bool, ...]]
Augmenter = Callable[[Language, Example], Iterator[Example]]
# Annotation a copy would not carry.
NOT_COPIED = ("TAG", "POS", "MORPH", "LEMMA", "DEP")


def read_mentions(path: Union[str, Path], vocab: Vocab) -> Dict[str, List[Mention]]:
    """Every entity of the .spacy file(s) at `path` by label, once per occurrence
    (a frequent mention is drawn more often)."""
    mentions: Dict[str, List[Mention]] = {}
    locs = walk_corpus(path, ".spacy")
    if not locs:
        raise ValueError(f"mention_replacement: no .spacy file at {path} (its `source`)")
    for loc in locs:
        for doc in DocBin().from_disk(loc).get_docs(vocab):
            for ent in doc.ents:
                words = tuple(token.text for token in ent)
                spaces = tuple(bool(token.whitespace_) for token in ent[:-1])
                mentions.setdefault(ent.label_, []).append((words, spaces))
    return mentions


def replace_mentions(
    vocab: Vocab, reference: Doc, mentions: Dict[str, List[Mention]], prob: float, rng: Any = random
) -> Optional[Doc]:
    """A copy of the gold `reference` with each entity replaced, with probability
    `prob`, by a mention of its label; None where no entity was replaced."""
    ents = list(reference.ents)
    drawn = {i: rng.choice(mentions[ent.label_]) for i, ent in enumerate(ents)
             if mentions.get(ent.label_) and rng.random() < prob}
    if not drawn:
        return None
    words: List[str] = []
    spaces: List[bool] = []
    sent_starts: List[Optional[bool]] = []
    moved: Dict[Tuple[int, int], Tuple[int, int]] = {}
    entities = []

    def keep(start: int, end: int) -> None:
        for token in reference[start:end]:
            words.append(token.text)
            spaces.append(bool(token.whitespace_))
            sent_starts.append(token.is_sent_start)

    pos = 0
    for i, ent in enumerate(ents):
        keep(pos, ent.start)
        start = len(words)
        if i in drawn:
            new_words, inner_spaces = drawn[i]
            words.extend(new_words)
            spaces.extend([*inner_spaces, bool(ent[-1].whitespace_)])
            sent_starts.extend([ent[0].is_sent_start] + [False] * (len(new_words) - 1))
        else:
            keep(ent.start, ent.end)
        moved[ent.start, ent.end] = (start, len(words))
        entities.append([start, len(words), ent.label_])
        pos = ent.end
    keep(pos, len(reference))
    relations = [
        [*moved[rel.head.start, rel.head.end], *moved[rel.tail.start, rel.tail.end], rel.label]
        for rel in get_relations(reference)
    ]
    doc = make_doc(vocab, words, spaces, entities, relations)
    if reference.has_annotation("SENT_START"):
        for token, sent_start in zip(doc, sent_starts):
            token.is_sent_start = sent_start
    return doc


def _check_copyable(reference: Doc) -> None:
    lost = [attr for attr in NOT_COPIED if reference.has_annotation(attr)]
    lost += [f"span group {key!r}" for key in reference.spans]
    if lost:
        raise ValueError(
            f"mention_replacement: the example {reference.text[:60]!r} has {', '.join(lost)} annotation, "
            f"which its copies would not carry (they keep words, entities, relations and sentence starts). "
            f"Remove the augmenter, or that annotation from the training corpus."
        )


@registry.augmenters("spacy_deeper.mention_replacement.v1")
def create_mention_replacement(
    source: Union[str, Path], prob: float = 0.3, copies: int = 1, labels: Optional[List[str]] = None
) -> Augmenter:
    """Yield each example and up to `copies` copies with mentions replaced (see the module)."""
    if not 0.0 < prob <= 1.0:
        raise ValueError(f"mention_replacement: prob must be in (0, 1], got {prob!r}")
    if not (isinstance(copies, int) and copies >= 1):
        raise ValueError(f"mention_replacement: copies must be an integer >= 1, got {copies!r}")
    if source is None:
        raise ValueError("mention_replacement: `source` (the training corpus) is not set")
    read: Dict[str, Dict[str, List[Mention]]] = {}  # the pool, read on first use

    def augment(nlp: Language, example: Example) -> Iterator[Example]:
        yield example
        reference = example.reference
        if not reference.ents:
            return
        _check_copyable(reference)
        if "pool" not in read:
            mentions = read_mentions(source, nlp.vocab)
            missing = sorted(set(labels or ()) - set(mentions))
            if missing:
                raise ValueError(f"mention_replacement: no mention of {missing} in {source} (its `labels`)")
            read["pool"] = {label: m for label, m in mentions.items() if labels is None or label in labels}
        gold_words = [token.text for token in example.predicted] == [token.text for token in reference]
        for _ in range(copies):
            doc = replace_mentions(nlp.vocab, reference, read["pool"], prob, random)
            if doc is not None:
                words = [token.text for token in doc]
                spaces = [bool(token.whitespace_) for token in doc]
                predicted = Doc(nlp.vocab, words=words, spaces=spaces) if gold_words else nlp.make_doc(doc.text)
                yield Example(predicted, doc)

    return augment
