"""BRAT standoff: a `.txt` file and its `.ann` file per document::

    T1	Peop 0 8	Tim Cook
    T2	Org 15 20	Apple
    R1	Work_For Arg1:T1 Arg2:T2

The converter reads one pair (the path of either file) or a folder of them,
recursively: every `.ann` file with the `.txt` file of the same name. Each pair
is one Doc, its text tokenized by spaCy's English tokenizer. `T` lines are
entities (character offsets, end exclusive), `R` lines relations from `Arg1`
to `Arg2`. An entity must start and end on spaCy token boundaries: offsets that
fall inside a token are an error naming the line (expanding them silently would
change the gold data). Discontinuous entities (`START END;START END`), events
(`E`), attributes (`A`, `M`), normalizations (`N`), equivalences (`*`), notes
(`#`), relations with a skipped argument and `.txt` files without an `.ann`
file are skipped and reported with their file and line.

The extractor writes a folder with `ID.txt` and `ID.ann` per document, the
format BRAT serves and saves, without scores.
"""
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from ..corpus import GoldError, make_doc
from ..files import DataError, PathLike, atomic_folder, iter_lines, read_text
from .jsonl import Context, DocWriter
from .report import Report

SKIPPED = {
    "E": "events",
    "A": "attributes",
    "M": "attributes",
    "N": "normalizations",
    "*": "equivalences",
    "#": "notes",
}


def read(path: Path, vocab: Vocab, report: Report) -> Iterator[Doc]:
    """Gold Docs of a file pair or a folder of pairs; a bad line raises DataError."""
    nlp = spacy.blank("en", vocab=vocab)
    for ann in _ann_files(path, report):
        yield _read_pair(ann, nlp, report)


def _ann_files(path: Path, report: Report) -> List[Path]:
    if path.is_dir():
        anns = sorted(path.rglob("*.ann"))
        if not anns:
            raise DataError(path, None, "no .ann files in this folder (or its subfolders)")
        for txt in sorted(set(path.rglob("*.txt")) - {ann.with_suffix(".txt") for ann in anns}):
            report.skip(".txt files without an .ann file", txt, None, "no .ann file of the same name")
        return anns
    if path.suffix not in (".ann", ".txt"):
        raise DataError(path, None, "a BRAT input is an .ann file, its .txt file or a folder of them")
    ann = path.with_suffix(".ann")
    if not ann.is_file():
        raise FileNotFoundError(f"BRAT annotation file not found: {ann}")
    return [ann]


def _read_pair(ann: Path, nlp: Language, report: Report) -> Doc:
    txt = ann.with_suffix(".txt")
    if not txt.is_file():
        raise FileNotFoundError(f"BRAT text file not found: {txt} (for {ann})")
    text = read_text(txt)
    doc = nlp.make_doc(text)
    entities: List[list] = []
    entity_lines: List[int] = []
    index: Dict[str, int] = {}  # T id -> position in entities
    skipped: Dict[str, str] = {}  # id of a skipped annotation -> what it is
    relations: List[Tuple[int, str, str, str, str]] = []  # line, id, label, Arg1, Arg2
    seen: Dict[str, int] = {}
    for line, content in iter_lines(ann):
        if not content.strip():
            continue
        ann_id, tab, rest = content.partition("\t")
        if not tab:
            raise DataError(ann, line, f"expected an id, a tab and the annotation, got {content!r}")
        if ann_id in seen and ann_id[0] not in "*#":
            raise DataError(ann, line, f"id {ann_id} is used twice (line {seen[ann_id]} and this one)")
        seen[ann_id] = line
        kind = ann_id[0]
        if kind == "T":
            span = _entity(ann, line, ann_id, rest, doc, report)
            if span is None:
                skipped[ann_id] = "a discontinuous entity"
            else:
                index[ann_id] = len(entities)
                entities.append([span.start, span.end, span.label_])
                entity_lines.append(line)
        elif kind == "R":
            relations.append((line, ann_id, *_relation_fields(ann, line, ann_id, rest)))
        elif kind in SKIPPED:
            report.skip(SKIPPED[kind], ann, line, content)
            skipped[ann_id] = f"an annotation of the kind {SKIPPED[kind]!r}"
        else:
            raise DataError(ann, line, f"unknown annotation id {ann_id!r} (expected T, R, E, A, M, N, * or #)")
    rows = []
    for line, rel_id, label, *args in relations:
        missing = [arg for arg in args if arg not in index]
        for arg in missing:
            if arg not in skipped:
                raise DataError(ann, line, f"{rel_id}: {arg} is not an entity of this file")
        if missing:
            report.skip("relations with a skipped argument", ann, line, f"{rel_id} {label}: {missing[0]} is {skipped[missing[0]]}")
            continue
        head, tail = (entities[index[arg]] for arg in args)
        rows.append([head[0], head[1], tail[0], tail[1], label])
    try:
        return make_doc(doc.vocab, [t.text for t in doc], [bool(t.whitespace_) for t in doc], entities, rows)
    except GoldError as err:
        raise DataError(ann, None if err.entity is None else entity_lines[err.entity], str(err)) from None


def _entity(ann: Path, line: int, ann_id: str, rest: str, doc: Doc, report: Report) -> Optional[Span]:
    """The entity of a T line as a span of `doc`, or None for a discontinuous one (reported)."""
    fields, tab, ann_text = rest.partition("\t")
    label, _, offsets = fields.partition(" ")
    if ";" in offsets:
        report.skip("discontinuous entities", ann, line, f"{ann_id}\t{rest}")
        return None
    match = re.fullmatch(r"(\d+) (\d+)", offsets)
    if not label or match is None:
        raise DataError(ann, line, f"{ann_id}: expected 'Label START END', got {fields!r}")
    start, end = int(match[1]), int(match[2])
    text = doc.text
    if not start < end <= len(text):
        raise DataError(ann, line, f"{ann_id}: [{start}, {end}) is not a span of the {len(text)} characters of the text")
    if tab and ann_text.split() != text[start:end].split():
        raise DataError(ann, line, f"{ann_id}: its text {ann_text!r} is not the text at [{start}, {end}): {text[start:end]!r}")
    span = doc.char_span(start, end, label=label)
    if span is None:
        tokens = doc.char_span(start, end, alignment_mode="expand")
        raise DataError(
            ann,
            line,
            f"{ann_id}: [{start}, {end}) {text[start:end]!r} does not fall on spaCy's token boundaries "
            f"(the tokens there: {tokens.text!r}); correct the offsets",
        )
    return span


def _relation_fields(ann: Path, line: int, rel_id: str, rest: str) -> Tuple[str, str, str]:
    match = re.fullmatch(r"(\S+) Arg1:(\S+) Arg2:(\S+)\s*", rest)
    if match is None:
        raise DataError(ann, line, f"{rel_id}: expected 'Label Arg1:ID Arg2:ID', got {rest!r}")
    return match[1], match[2], match[3]


def to_ann(doc: Doc) -> str:
    """The .ann text of a doc: a T line per entity, an R line per relation."""
    lines: List[str] = []
    ids: Dict[Tuple[int, int, str], str] = {}

    def entity_id(span: Span) -> str:
        key = (span.start_char, span.end_char, span.label_)
        if key not in ids:
            ids[key] = f"T{len(ids) + 1}"
            lines.append(f"{ids[key]}\t{span.label_} {span.start_char} {span.end_char}\t{' '.join(span.text.split())}")
        return ids[key]

    for ent in doc.ents:
        entity_id(ent)
    for i, rel in enumerate(doc._.relations, start=1):
        lines.append(f"R{i}\t{rel.label} Arg1:{entity_id(rel.head)} Arg2:{entity_id(rel.tail)}")
    return "".join(line + "\n" for line in lines)


def file_name(doc_id: object) -> str:
    """A safe file name (without suffix) for a document id: `d0.txt` -> `d0`, `3` -> `3`."""
    name = re.sub(r"[^\w.-]", "_", str(doc_id))
    name = name[: -len(".txt")] if name.endswith(".txt") else name
    return "_" + name if name.startswith(".") or not name else name


@contextmanager
def writer(path: PathLike) -> Iterator[DocWriter]:
    """Write each doc as `ID.txt` and `ID.ann` into the folder `path` (new, or empty)."""
    with atomic_folder(path) as folder:
        names: Dict[str, object] = {}

        def write(doc: Doc, context: Context) -> None:
            name = file_name(context["id"])
            if name in names:
                raise FileExistsError(
                    f"documents {names[name]!r} and {context['id']!r} would both be written to {path}/{name}.txt"
                )
            names[name] = context["id"]
            with open(folder / f"{name}.txt", "w", encoding="utf-8", newline="") as txt:
                txt.write(doc.text)
            with open(folder / f"{name}.ann", "w", encoding="utf-8", newline="\n") as ann:
                ann.write(to_ann(doc))

        yield write
