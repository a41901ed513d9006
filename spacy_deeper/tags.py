"""Entity tag schemes (BIO, BILUO): encoding spans to tag ids and decoding them back.

Decoding is vectorized over a whole batch of segments and lenient at segment
boundaries: a continuation tag at the start of a segment begins an entity and an
entity still open at the end of a segment ends there, so a sentence split into
windows never loses an entity.
"""
from typing import Iterable, List, Sequence, Tuple

import numpy

SCHEMES = ("BIO", "BILUO")

Spans = List[Tuple[int, int, int]]  # (start, end, label index), end exclusive


class TagSet:
    """The tags of a scheme over entity labels, with the tables the model needs."""

    def __init__(self, labels: Sequence[str], scheme: str = "BIO"):
        if scheme not in SCHEMES:
            raise ValueError(f"Unknown tag scheme {scheme!r}: use one of {SCHEMES}.")
        self.labels = list(labels)
        self.scheme = scheme
        prefixes = "BI" if scheme == "BIO" else "BILU"
        self.tags = ["O"] + [f"{p}-{label}" for label in self.labels for p in prefixes]
        n = len(self.tags)
        self.label_of = numpy.full(n, -1, dtype="int64")  # label index per tag, -1 for O
        self.prefix_of = numpy.array(["O"] + [p for _ in self.labels for p in prefixes])
        for i, tag in enumerate(self.tags[1:], start=1):
            self.label_of[i] = self.labels.index(tag[2:])
        self.is_entity = self.label_of >= 0
        # A continuation tag extends the entity of the previous token.
        self.is_continuation = numpy.isin(self.prefix_of, ["I", "L"])

    def __len__(self) -> int:
        return len(self.tags)

    def tag_id(self, prefix: str, label_index: int) -> int:
        return self.tags.index(f"{prefix}-{self.labels[label_index]}")

    def allowed_transitions(self) -> numpy.ndarray:
        """Boolean (n_tags, n_tags) matrix: may tag j follow tag i."""
        n = len(self)
        allowed = numpy.zeros((n, n), dtype=bool)
        for i in range(n):
            for j in range(n):
                allowed[i, j] = self._allowed(i, j)
        return allowed

    def _allowed(self, i: int, j: int) -> bool:
        same_label = bool(self.is_entity[i]) and self.label_of[i] == self.label_of[j]
        if self.scheme == "BIO":
            # I-X only continues B-X or I-X.
            return self.prefix_of[j] != "I" or same_label
        # BILUO: B-X and I-X must be followed by I-X or L-X, which follow nothing else.
        if self.prefix_of[i] in ("B", "I"):
            return self.prefix_of[j] in ("I", "L") and same_label
        return self.prefix_of[j] not in ("I", "L")

    def encode(self, length: int, spans: Iterable[Tuple[int, int, int]]) -> numpy.ndarray:
        """Tag ids for a sequence of `length` tokens with non-overlapping spans."""
        tags = numpy.zeros(length, dtype="int64")
        for start, end, label in spans:
            if self.scheme == "BILUO" and end - start == 1:
                tags[start] = self.tag_id("U", label)
                continue
            tags[start] = self.tag_id("B", label)
            inside = self.tag_id("I", label)
            tags[start + 1 : end] = inside
            if self.scheme == "BILUO":
                tags[end - 1] = self.tag_id("L", label)
        return tags

    def boundaries(self, tags: numpy.ndarray, lengths: numpy.ndarray) -> Tuple[numpy.ndarray, numpy.ndarray]:
        """Entity start and end (last token) masks of padded tag rows (n_rows, width)."""
        width = tags.shape[1]
        valid = numpy.arange(width)[None, :] < lengths[:, None]
        entity = self.is_entity[tags] & valid
        cont = self.is_continuation[tags] & valid
        prev_entity = numpy.zeros_like(entity)
        prev_entity[:, 1:] = entity[:, :-1]
        starts = entity & ~(cont & prev_entity)
        next_cont = numpy.zeros_like(cont)
        next_cont[:, :-1] = cont[:, 1:] & entity[:, :-1]
        ends = entity & ~next_cont
        return starts, ends

    def decode(self, tags: numpy.ndarray, lengths: numpy.ndarray) -> List[Spans]:
        """Spans (start, end, label index) per padded row of tag ids."""
        starts, ends = self.boundaries(tags, lengths)
        start_rows, start_cols = numpy.nonzero(starts)
        _, end_cols = numpy.nonzero(ends)  # starts and ends alternate within a row
        labels = self.label_of[tags[start_rows, start_cols]]
        spans: List[Spans] = [[] for _ in range(tags.shape[0])]
        for row, s, e, label in zip(start_rows.tolist(), start_cols.tolist(), end_cols.tolist(), labels.tolist()):
            spans[row].append((s, e + 1, label))
        return spans
