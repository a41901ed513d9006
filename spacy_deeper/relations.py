"""The `doc._.relations` extension: relation objects over plain stored values.

A relation is stored in `doc.user_data` as a span extension value of its head
entity would be, under the key `("._.", "deeper_relations", head.start_char,
head.end_char)`: a list of rows `[tail.start_char - head.start_char,
tail.end_char - head.start_char, label, score]`, one per relation of that head.
Character offsets do not change when tokens are merged or split, and spaCy itself
shifts span keys in `Doc.from_docs` and `Span.as_doc(copy_user_data=True)`; the
tail, relative to the head, moves with it. Only plain values are stored, so
`DocBin(store_user_data=True)`, `Doc.to_bytes`, pickling and `doc.copy()` keep
them (a `DocBin` without user data does not).

`doc._.relations` reads them as `Relation` objects over the entities of `doc.ents`
with those offsets, in the order of their heads, then tails, in the text. A relation whose head or tail is no longer such an entity
(the entities were replaced, or a merge cut one) is left out with a warning that
names it. `doc._.relations_data` gives the same relations as token rows
`[head_start, head_end, tail_start, tail_end, label, score]` of the doc's present
tokens, for JSON: `doc.to_json(underscore=["relations_data"])`. Both accept rows
or `Relation` objects.
"""
import sys
import warnings
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from spacy.tokens import Doc, Span

RELATIONS = "relations"
RELATIONS_DATA = "relations_data"
STORE = "deeper_relations"
# Where spacy_deeper 0.1 kept token rows (a plain doc extension): converted on first use.
OLD_ROWS_KEY = ("._.", RELATIONS_DATA, None, None)
# Packages known to register a plain `doc._.relations` of their own.
OTHER_HOLDERS = ("glirel", "zshot", "medcat")

CharRow = Tuple[int, int, int, int, str, float]


@dataclass(frozen=True)
class Relation:
    """A directed, labelled relation between two entities of one doc."""

    head: Span
    tail: Span
    label: str
    score: float = 1.0

    def to_row(self) -> List[Any]:
        """The token row of `doc._.relations_data`."""
        return [
            int(self.head.start),
            int(self.head.end),
            int(self.tail.start),
            int(self.tail.end),
            str(self.label),
            float(self.score),
        ]

    def to_dict(self) -> Dict[str, Any]:
        """Character offsets, labels and score: what an application writes out."""
        return {
            "head": _span_dict(self.head),
            "tail": _span_dict(self.tail),
            "label": self.label,
            "score": self.score,
        }

    def __repr__(self) -> str:
        return (
            f"Relation({self.head.text!r} -[{self.label} {self.score:.3f}]-> "
            f"{self.tail.text!r})"
        )


def _span_dict(span: Span) -> Dict[str, Any]:
    return {
        "start": span.start_char,
        "end": span.end_char,
        "label": span.label_,
        "text": span.text,
    }


RelationLike = Union[Relation, Sequence[Any]]


class ExtensionClash(RuntimeError):
    """Another package holds `doc._.relations` or `doc._.relations_data`."""


def _token_row(doc: Doc, rel: RelationLike, index: int) -> List[Any]:
    if isinstance(rel, Relation):
        if rel.head.doc is not doc or rel.tail.doc is not doc:
            raise ValueError(
                f"Relation {index} ({rel!r}) has a head or tail span from another Doc."
            )
        return rel.to_row()
    if not isinstance(rel, (list, tuple)) or len(rel) not in (5, 6):
        raise ValueError(
            f"Relation {index} must be a Relation or a row [head_start, head_end, "
            f"tail_start, tail_end, label(, score)], got {rel!r}."
        )
    hs, he, ts, te, label = rel[:5]
    score = rel[5] if len(rel) == 6 else 1.0
    for name, value in (("head", (hs, he)), ("tail", (ts, te))):
        start, end = value
        if not (isinstance(start, int) and isinstance(end, int)):
            raise ValueError(f"Relation {index}: {name} offsets must be ints, got {value!r}.")
        if not 0 <= start < end <= len(doc):
            raise ValueError(
                f"Relation {index}: {name} span [{start}, {end}) is outside the doc "
                f"of {len(doc)} tokens."
            )
    if not isinstance(label, str) or not label:
        raise ValueError(f"Relation {index}: label must be a non-empty string, got {label!r}.")
    return [int(hs), int(he), int(ts), int(te), label, float(score)]


def _char_row(doc: Doc, row: Sequence[Any]) -> CharRow:
    hs, he, ts, te, label, score = row
    head, tail = doc[hs:he], doc[ts:te]
    return head.start_char, head.end_char, tail.start_char, tail.end_char, label, score


def _is_stored(key: Any) -> bool:
    return isinstance(key, tuple) and len(key) == 4 and key[:2] == ("._.", STORE)


def _store(doc: Doc, rows: Iterable[CharRow]) -> None:
    """Replace the stored relations with these character rows, in the order of their
    heads and tails in the text."""
    for key in [key for key in doc.user_data if _is_stored(key)]:
        del doc.user_data[key]
    for hs, he, ts, te, label, score in sorted(rows, key=lambda row: row[:5]):
        doc.user_data.setdefault(("._.", STORE, hs, he), []).append([ts - hs, te - hs, label, score])


def _stored(doc: Doc) -> Iterator[CharRow]:
    """The stored relations as character rows (token rows of spacy_deeper 0.1 are
    converted first, on the tokens they were saved with)."""
    old_rows = doc.user_data.pop(OLD_ROWS_KEY, None)
    if old_rows:
        _store(doc, [_char_row(doc, row) for row in old_rows])
    for key, rows in doc.user_data.items():
        if _is_stored(key):
            _, _, hs, he = key
            for ts, te, label, score in rows:
                yield hs, he, hs + ts, hs + te, label, float(score)


def set_relations(doc: Doc, relations: Optional[Iterable[RelationLike]]) -> None:
    """Setter of `doc._.relations` and `doc._.relations_data`: Relation objects or
    token rows whose head and tail are entities of `doc.ents`."""
    ents = {(ent.start, ent.end) for ent in doc.ents}
    rows = []
    for i, rel in enumerate(relations or []):
        row = _token_row(doc, rel, i)
        for name, (start, end) in (("head", row[0:2]), ("tail", row[2:4])):
            if (start, end) not in ents:
                raise ValueError(
                    f"Relation {i}: its {name} [{start}, {end}) {doc[start:end].text!r} is not an "
                    f"entity of doc.ents: set doc.ents first."
                )
        rows.append(_char_row(doc, row))
    doc.user_data.pop(OLD_ROWS_KEY, None)
    _store(doc, rows)


def get_relations(doc: Doc) -> List[Relation]:
    """Getter of `doc._.relations`: the stored relations over entities of `doc.ents`.

    A relation reaching outside the doc (cut off by `Span.as_doc`) is not part of
    it. One whose head or tail is no longer an entity is left out with a warning.
    """
    ents = {(ent.start_char, ent.end_char): ent for ent in doc.ents}
    n_chars = len(doc.text)  # doc.text joins every token: once, not per relation
    relations = []
    for hs, he, ts, te, label, score in _stored(doc):
        if min(hs, ts) < 0 or max(he, te) > n_chars:
            continue
        head, tail = ents.get((hs, he)), ents.get((ts, te))
        if head is None or tail is None:
            lost = [name for name, arg in (("head", head), ("tail", tail)) if arg is None]
            warnings.warn(
                f"[spacy_deeper] The relation {doc.text[hs:he]!r} [{hs}:{he}] -{label}-> "
                f"{doc.text[ts:te]!r} [{ts}:{te}] is left out of doc._.relations: its {' and '.join(lost)} "
                f"{'is' if len(lost) == 1 else 'are'} no longer in doc.ents (the entities were changed, or "
                f"tokens merged across one)."
            )
            continue
        relations.append(Relation(head, tail, label, score))
    return relations


def get_relation_rows(doc: Doc) -> List[List[Any]]:
    """Getter of `doc._.relations_data`: `doc._.relations` as token rows."""
    return [rel.to_row() for rel in get_relations(doc)]


OURS = {RELATIONS: get_relations, RELATIONS_DATA: get_relation_rows}


def _holder(name: str) -> str:
    default, method, getter, setter = Doc.get_extension(name)
    functions = [f for f in (getter, setter, method) if f is not None]
    if functions:
        return f"by {functions[0].__module__}"
    imported = [package for package in OTHER_HOLDERS if package in sys.modules]
    return f"with default={default!r}" + (f", probably by {' or '.join(imported)}" if imported else "")


def register_extensions() -> None:
    """Register `doc._.relations` and `doc._.relations_data`; safe to call more than once.

    Raises ExtensionClash where another package holds either name (registered first,
    or with force=True after spacy_deeper): spacy_deeper neither writes there nor
    reads that package's values as relations of its own.
    """
    for name, getter in OURS.items():
        if not Doc.has_extension(name):
            Doc.set_extension(name, getter=getter, setter=set_relations)
        elif Doc.get_extension(name)[2] is not getter:
            raise ExtensionClash(
                f"doc._.{name} is registered by another package ({_holder(name)}), and spacy_deeper "
                f"needs it for its relations. The two cannot share it in one process: run them in "
                f"separate processes, or, if you do not need the other package's doc._.{name}, call "
                f"spacy.tokens.Doc.remove_extension({name!r}) and spacy_deeper.register_extensions() "
                f"before using spacy_deeper (GLiREL registers doc._.relations again each time its "
                f"component runs, so it cannot share a pipeline with deeper_joint)."
            )
