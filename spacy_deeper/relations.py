"""The `doc._.relations` extension: relation objects over plain stored values.

Relations are stored in `doc._.relations_data` as a list of plain rows
`[head_start, head_end, tail_start, tail_end, label, score]` (token offsets, end
exclusive), so `DocBin(store_user_data=True)`, `Doc.to_bytes` and
`Doc.to_json(underscore=["relations_data"])` round-trip them. `doc._.relations`
reads and writes those rows as `Relation` objects whose `.head` and `.tail` are
the matching spans of `doc.ents`.
"""
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from spacy.tokens import Doc, Span

RELATIONS = "relations"
RELATIONS_DATA = "relations_data"


@dataclass(frozen=True)
class Relation:
    """A directed, labelled relation between two entities of one doc."""

    head: Span
    tail: Span
    label: str
    score: float = 1.0

    def to_row(self) -> List[Any]:
        """The plain row stored in `doc._.relations_data`."""
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


def _to_row(doc: Doc, rel: RelationLike, index: int) -> List[Any]:
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


def set_relations(doc: Doc, relations: Optional[Iterable[RelationLike]]) -> None:
    """Setter of `doc._.relations`: stores plain rows in `doc._.relations_data`."""
    rows = [_to_row(doc, rel, i) for i, rel in enumerate(relations or [])]
    doc._.set(RELATIONS_DATA, rows)


def get_relations(doc: Doc) -> List[Relation]:
    """Getter of `doc._.relations`: builds Relation objects from the stored rows.

    Each argument is the entity of `doc.ents` with the stored offsets. Where the
    entities were changed after the relations were set and no entity matches,
    the argument is an unlabelled span over the stored offsets, so no relation
    is ever dropped silently.
    """
    rows = doc._.get(RELATIONS_DATA) or []
    ents = {(ent.start, ent.end): ent for ent in doc.ents}
    relations = []
    for hs, he, ts, te, label, score in rows:
        head = ents.get((hs, he)) or doc[hs:he]
        tail = ents.get((ts, te)) or doc[ts:te]
        relations.append(Relation(head, tail, label, float(score)))
    return relations


def register_extensions() -> None:
    """Register `doc._.relations` and its storage; safe to call more than once."""
    if not Doc.has_extension(RELATIONS_DATA):
        Doc.set_extension(RELATIONS_DATA, default=None)
    if not Doc.has_extension(RELATIONS):
        Doc.set_extension(RELATIONS, getter=get_relations, setter=set_relations)
