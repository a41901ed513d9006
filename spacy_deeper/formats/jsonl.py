"""The project's own JSONL: gold data with token offsets in, predictions with
character offsets out.

The converter reads the training format of `spacy_deeper.corpus` (one sentence
a line: `tokens`, `entities` and `relations` as token offsets). The extractor
writes one object a document::

    {"id": 3, "text": "...", "entities": [{"start": 0, "end": 17, "label": "Peop", "text": "..."}],
     "relations": [{"head": {...}, "tail": {...}, "label": "Kill", "score": 0.97}], "meta": {}}

with character offsets (end exclusive).
"""
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, ContextManager, Dict, Iterator

from spacy.tokens import Doc
from spacy.vocab import Vocab

from ..corpus import read_jsonl
from ..files import PathLike, jsonl_writer
from .report import Report

Context = Dict[str, Any]  # {"id": ..., "meta": {...}}: where a document came from
DocWriter = Callable[[Doc, Context], None]


def read(path: Path, vocab: Vocab, report: Report) -> Iterator[Doc]:
    """Gold Docs of the project's JSONL; nothing in it is ever skipped."""
    return read_jsonl(path, vocab)


def to_record(doc: Doc, context: Context) -> Dict[str, Any]:
    """The extractor's output object of one processed document."""
    return {
        "id": context["id"],
        "text": doc.text,
        "entities": [
            {"start": ent.start_char, "end": ent.end_char, "label": ent.label_, "text": ent.text}
            for ent in doc.ents
        ],
        "relations": [rel.to_dict() for rel in doc._.relations],
        "meta": context["meta"],
    }


def line_writer(
    to_line: Callable[[Doc, Context], Any]
) -> Callable[[PathLike], ContextManager[DocWriter]]:
    """A writer of one JSON line a document, `to_line(doc, context)`, to an atomic file."""

    @contextmanager
    def writer(path: PathLike) -> Iterator[DocWriter]:
        with jsonl_writer(path) as write:
            yield lambda doc, context: write(to_line(doc, context))

    return writer


writer = line_writer(to_record)
