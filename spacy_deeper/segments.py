"""Segments: the units the joint network and the frozen encoder read a doc in.

A segment is a sentence where sentence boundaries are set, else the whole doc, and
anything longer than max_length tokens is cut into consecutive windows.
"""
from typing import List, Sequence, Tuple

from spacy.tokens import Doc

Segment = Tuple[int, int, int]  # (doc index, start token, end token)


def make_segments(docs: Sequence[Doc], max_length: int) -> List[Segment]:
    """Split docs into sentences (where sentence boundaries are set), and anything
    longer than max_length into consecutive windows of at most max_length tokens.
    Empty docs give no segment."""
    segments = []
    for i, doc in enumerate(docs):
        if len(doc) == 0:
            continue
        if doc.has_annotation("SENT_START"):
            bounds = [(sent.start, sent.end) for sent in doc.sents]
        else:
            bounds = [(0, len(doc))]
        for start, end in bounds:
            for window in range(start, end, max_length):
                segments.append((i, window, min(window + max_length, end)))
    return segments
