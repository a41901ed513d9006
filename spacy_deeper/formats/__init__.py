"""The annotation formats users have: read into gold Docs by `convert`, written
from predictions by `extract` (so they can be corrected in the tool and
converted back).

| format  | `convert` reads                            | `extract` writes                  |
| ------- | ------------------------------------------ | --------------------------------- |
| jsonl   | the project's JSONL (token offsets)        | JSONL with character offsets      |
| prodigy | `rel.manual` annotations (accepted tasks)  | `rel.manual` tasks                |
| brat    | `.txt` + `.ann` pairs, a pair or a folder  | a folder of `.txt` + `.ann` pairs |
| spert   | SpERT's JSON list of documents             |                                   |

Every reader builds its Docs with `corpus.make_doc`, so every format is held
to the same rules (no overlapping entities, none that starts or ends on
whitespace, relations between entities only), and raises `DataError` naming
the file and line; what a reader skips on purpose goes to a `Report`.
"""
from pathlib import Path
from typing import Callable, ContextManager, Dict, Iterator, Optional

from spacy.tokens import Doc
from spacy.vocab import Vocab

from ..files import DataError, PathLike, iter_jsonl
from . import brat, jsonl, prodigy, spert
from .jsonl import DocWriter
from .report import Report

Reader = Callable[[Path, Vocab, Report], Iterator[Doc]]
Writer = Callable[[PathLike], ContextManager[DocWriter]]

READERS: Dict[str, Reader] = {"jsonl": jsonl.read, "prodigy": prodigy.read, "brat": brat.read, "spert": spert.read}
WRITERS: Dict[str, Writer] = {"jsonl": jsonl.writer, "prodigy": prodigy.writer, "brat": brat.writer}


def detect_format(path: PathLike) -> str:
    """The format of an input, from its name and, for `.jsonl`, its first record:
    a folder, `.ann` or `.txt` is brat, `.json` spert; a `.jsonl` record with
    `spans` or `answer` is prodigy, one with `entities` the project's jsonl."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input not found: {path}")
    if path.is_dir() or path.suffix in (".ann", ".txt"):
        return "brat"
    if path.suffix == ".json":
        return "spert"
    if path.suffix != ".jsonl":
        raise DataError(path, None, "cannot tell the format from the name (.jsonl, .json, .ann, .txt or a folder); give --format")
    for line, record in iter_jsonl(path):
        keys = record.keys() if isinstance(record, dict) else set()
        if "spans" in keys or "answer" in keys:
            return "prodigy"
        if "entities" in keys:
            return "jsonl"
        raise DataError(path, line, "cannot tell the format: the record has neither 'entities' (jsonl) nor 'spans' (prodigy); give --format")
    return "jsonl"  # no records: the converter says the input is empty


def read_docs(path: PathLike, vocab: Vocab, report: Report, format: Optional[str] = None) -> Iterator[Doc]:
    """The gold Docs of one input in `format` (detected if None); skipped items go to `report`."""
    return READERS[format or detect_format(path)](Path(path), vocab, report)
