"""SpERT's JSON (Eberts & Ulges 2020, also used by many later models): one JSON
list of documents::

    [{"tokens": ["Tim", "Cook", "leads", "Apple"],
      "entities": [{"type": "Peop", "start": 0, "end": 2}, {"type": "Org", "start": 3, "end": 4}],
      "relations": [{"type": "Work_For", "head": 0, "tail": 1}]}]

Entities are token offsets (end exclusive), relations point at entities by
their index in `entities`. Other fields (`orig_id`, ...) are ignored. An error
names the line where its document starts.
"""
import json
import re
from pathlib import Path
from typing import Any, Iterator, List, Tuple

from spacy.tokens import Doc
from spacy.vocab import Vocab

from ..corpus import record_to_doc
from ..files import DataError, read_text
from .report import Report

FIELDS = ("tokens", "entities", "relations")
_SPACE = re.compile(r"[ \t\n\r]*")


def read(path: Path, vocab: Vocab, report: Report) -> Iterator[Doc]:
    """Gold Docs of a SpERT JSON file; a malformed document raises DataError with its line."""
    for line, document in _documents(path):
        try:
            doc = record_to_doc(vocab, _to_record(document))
        except ValueError as err:
            raise DataError(path, line, str(err)) from None
        yield doc


def _documents(path: Path) -> Iterator[Tuple[int, Any]]:
    """(line where it starts, value) for each item of the file's top-level JSON list."""
    text = read_text(path)
    decoder = json.JSONDecoder()

    def line_at(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    pos = _SPACE.match(text).end()
    if not text.startswith("[", pos):
        raise DataError(path, line_at(pos), "expected a JSON list of documents ('[' ...)")
    pos = _SPACE.match(text, pos + 1).end()
    line, counted = 1, 0
    while not text.startswith("]", pos):
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as err:
            raise DataError(path, err.lineno, f"invalid JSON ({err.msg} at column {err.colno})") from None
        line, counted = line + text.count("\n", counted, pos), pos
        yield line, value
        pos = _SPACE.match(text, end).end()
        if text.startswith(",", pos):
            pos = _SPACE.match(text, pos + 1).end()
        elif not text.startswith("]", pos):
            raise DataError(path, line_at(pos), "expected ',' or ']' after a document")
    if _SPACE.match(text, pos + 1).end() != len(text):
        raise DataError(path, line_at(pos + 1), "unexpected text after the list of documents")


def _to_record(document: Any) -> Any:
    """The document in the project's JSONL shape, which `record_to_doc` checks."""
    if not (isinstance(document, dict) and all(isinstance(document.get(f), list) for f in FIELDS)):
        return document  # record_to_doc says what is missing or wrong
    entities = [_entity(i, ent) for i, ent in enumerate(document["entities"])]
    relations = [_relation(i, rel, entities) for i, rel in enumerate(document["relations"])]
    return {"tokens": document["tokens"], "entities": entities, "relations": relations}


def _entity(i: int, ent: Any) -> List[Any]:
    if not (isinstance(ent, dict) and all(k in ent for k in ("type", "start", "end"))):
        raise ValueError(f"entity {i} must be an object with 'type', 'start' and 'end', got {ent!r}")
    return [ent["start"], ent["end"], ent["type"]]


def _relation(i: int, rel: Any, entities: List[List[Any]]) -> List[Any]:
    if not (isinstance(rel, dict) and all(k in rel for k in ("type", "head", "tail"))):
        raise ValueError(f"relation {i} must be an object with 'type', 'head' and 'tail', got {rel!r}")
    args: List[Any] = []
    for arg in ("head", "tail"):
        index = rel[arg]
        if not (isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(entities)):
            raise ValueError(
                f"relation {i}: its {arg} {index!r} is not an entity index (0..{len(entities) - 1})"
            )
        args.extend(entities[index][:2])
    return [*args, rel["type"]]
