"""Reading the JSONL benchmark format into gold Docs.

One sentence a line::

    {"tokens": ["PERUGIA", ",", "Italy"], "entities": [[0, 1, "Loc"], [2, 3, "Loc"]],
     "relations": [[0, 1, 2, 3, "Located_In"]]}

Entities are `[start, end, label]` token offsets (end exclusive); relations are
`[head_start, head_end, tail_start, tail_end, label]` over entities of the same line.
Every malformed line raises `DataError` naming the file, the line and the problem.
`make_doc` builds the gold Doc of every input format (see `spacy_deeper.formats`).
"""
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence, Union

from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from .files import DataError, iter_jsonl
from .relations import register_extensions


class GoldError(ValueError):
    """Gold annotations that make no valid Doc; `entity` is the index of the
    entity the problem is about, if it is about one (so a reader can name its line)."""

    def __init__(self, problem: str, entity: Optional[int] = None):
        super().__init__(problem)
        self.entity = entity


def _check_offsets(item: Any, n_offsets: int, what: str, n_tokens: int) -> None:
    if not isinstance(item, list) or len(item) != n_offsets + 1:
        raise ValueError(f"{what} must be a list of {n_offsets} offsets and a label, got {item!r}")
    *offsets, label = item
    if not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets):
        raise ValueError(f"{what} has offsets that are not integers: {item!r}")
    if not isinstance(label, str) or not label:
        raise ValueError(f"{what} has no label (a non-empty string): {item!r}")
    for start, end in zip(offsets[::2], offsets[1::2]):
        if start >= end:
            raise ValueError(f"{what} has an empty or reversed span [{start}, {end}): {item!r}")
        if not 0 <= start < end <= n_tokens:
            raise ValueError(
                f"{what} has span [{start}, {end}) outside the sentence's {n_tokens} tokens: {item!r}"
            )


def make_doc(
    vocab: Vocab, words: Sequence[str], spaces: Sequence[bool], entities: Sequence[list], relations: Sequence[list]
) -> Doc:
    """A gold Doc with `doc.ents` and `doc._.relations`: the one builder behind every format.

    `entities` are `[start, end, label]` token offsets (end exclusive) and
    `relations` `[head_start, head_end, tail_start, tail_end, label]` over those
    entities. Raises GoldError if an offset is out of range, two entities
    overlap, an entity starts or ends on a whitespace token, or a relation's
    argument is not an entity.
    """
    n = len(words)
    for i, ent in enumerate(entities):
        try:
            _check_offsets(ent, 2, f"entity {i}", n)
        except ValueError as err:
            raise GoldError(str(err), entity=i) from None
    doc = Doc(vocab, words=list(words), spaces=list(spaces))
    order = sorted(range(len(entities)), key=lambda i: entities[i])
    for a, b in zip(order, order[1:]):
        (s1, e1, l1), (s2, e2, l2) = entities[a], entities[b]
        if s2 < e1:
            raise GoldError(
                f"entities [{s1}, {e1}, {l1!r}] and [{s2}, {e2}, {l2!r}] overlap "
                f"({doc[s1:e1].text!r} and {doc[s2:e2].text!r})",
                entity=b,
            )
    for i, (start, end, label) in enumerate(entities):
        for edge, token in (("starts", doc[start]), ("ends", doc[end - 1])):
            if token.text.isspace():
                raise GoldError(
                    f"entity [{start}, {end}, {label!r}] {doc[start:end].text!r} {edge} on the "
                    f"whitespace token {token.text!r}: entities must start and end on a word",
                    entity=i,
                )
    known = {(s, e) for s, e, _ in entities}
    for i, rel in enumerate(relations):
        _check_offsets(rel, 4, f"relation {i}", n)
        for arg, (s, e) in (("head", rel[0:2]), ("tail", rel[2:4])):
            if (s, e) not in known:
                raise GoldError(f"relation {i}: its {arg} [{s}, {e}) is not an entity: {rel!r}")
    doc.ents = [Span(doc, s, e, label=label) for s, e, label in sorted(entities)]
    register_extensions()
    doc._.relations = [list(rel) for rel in relations]
    return doc


def record_to_doc(vocab: Vocab, record: Any) -> Doc:
    """Build a gold Doc from one parsed JSONL record; raise ValueError on malformed input."""
    if not isinstance(record, dict):
        raise ValueError(f"a record must be a JSON object, got {type(record).__name__}")
    for field in ("tokens", "entities", "relations"):
        if field not in record:
            raise ValueError(f"missing field {field!r}")
        if not isinstance(record[field], list):
            raise ValueError(f"field {field!r} must be a list")
    tokens = record["tokens"]
    if not tokens:
        raise ValueError("'tokens' is empty")
    for i, token in enumerate(tokens):
        if not isinstance(token, str) or not token or token.isspace():
            raise ValueError(f"token {i} must be a non-empty, non-blank string, got {token!r}")
    spaces = [True] * (len(tokens) - 1) + [False]
    return make_doc(vocab, tokens, spaces, record["entities"], record["relations"])


def read_jsonl(path: Union[str, Path], vocab: Vocab) -> Iterator[Doc]:
    """Yield one gold Doc per line of a JSONL file (blank lines are skipped).
    A malformed line raises DataError with the file and line number."""
    for line_no, record in iter_jsonl(path):
        try:
            doc = record_to_doc(vocab, record)
        except ValueError as err:
            raise DataError(path, line_no, str(err)) from None
        yield doc

