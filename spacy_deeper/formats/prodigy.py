"""Prodigy's relation annotations: what `rel.manual` saves and `prodigy db-out` exports
(the input of spaCy's rel_component tutorial). One task a line::

    {"text": "Tim Cook leads Apple",
     "tokens": [{"text": "Tim", "start": 0, "end": 3, "id": 0, "ws": true}, ...],
     "spans": [{"start": 0, "end": 8, "token_start": 0, "token_end": 1, "label": "Peop"}, ...],
     "relations": [{"head": 1, "child": 3, "head_span": {...}, "child_span": {...}, "label": "Work_For"}],
     "answer": "accept"}

`token_end` is inclusive, and a relation's `head` and `child` are the `token_end`
of its two spans. Only accepted tasks are gold data: tasks answered "reject" or
"ignore" are skipped and reported, and so are relations whose head or child is
not the last token of a span (rel.manual allows relations between plain tokens).
The extractor writes tasks in the same shape, without an `answer`: load them
into `rel.manual` to correct the predictions, then convert the export back.
"""
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from ..corpus import make_doc
from ..files import DataError, iter_jsonl
from .jsonl import Context, line_writer
from .report import Report

ANSWERS = ("accept", "reject", "ignore")


def read(path: Path, vocab: Vocab, report: Report) -> Iterator[Doc]:
    """Gold Docs of the accepted tasks; a malformed task raises DataError with its line."""
    for line, task in iter_jsonl(path):
        try:
            answer = _answer(task)
            if answer != "accept":
                report.skip(f"tasks answered {answer!r}", path, line, f"answer {answer!r}")
                continue
            words, spaces = _tokens(task)
            entities = _spans(task, words, spaces)
            relations = []
            for i, rel in enumerate(_list(task, "relations")):
                row, problem = _relation(i, rel, entities)
                if problem:
                    report.skip("relations that are not between spans", path, line, problem)
                else:
                    relations.append(row)
            doc = make_doc(vocab, words, spaces, entities, relations)
        except ValueError as err:
            raise DataError(path, line, str(err)) from None
        yield doc


def _answer(task: Any) -> str:
    if not isinstance(task, dict):
        raise ValueError(f"a task must be a JSON object, got {type(task).__name__}")
    if "answer" not in task:
        raise ValueError("no 'answer' field: not a saved annotation (export the dataset with `prodigy db-out`)")
    if task["answer"] not in ANSWERS:
        raise ValueError(f"'answer' must be one of {', '.join(map(repr, ANSWERS))}, got {task['answer']!r}")
    return task["answer"]


def _list(task: Dict[str, Any], field: str) -> List[Any]:
    value = task.get(field, [])
    if not isinstance(value, list):
        raise ValueError(f"field {field!r} must be a list")
    return value


def _tokens(task: Dict[str, Any]) -> Tuple[List[str], List[bool]]:
    if "tokens" not in task:
        raise ValueError("missing field 'tokens'")
    tokens = _list(task, "tokens")
    if not tokens:
        raise ValueError("'tokens' is empty")
    for i, token in enumerate(tokens):
        if not (isinstance(token, dict) and isinstance(token.get("text"), str) and token["text"]):
            raise ValueError(f"token {i} must be an object with a non-empty 'text', got {token!r}")
        if not isinstance(token.get("ws"), bool):
            raise ValueError(f"token {i} must have 'ws' true or false, got {token!r}")
    words = [token["text"] for token in tokens]
    spaces = [token["ws"] for token in tokens]
    text = "".join(word + " " * space for word, space in zip(words, spaces))
    if "text" in task and task["text"] != text:
        raise ValueError(f"the tokens and their 'ws' make {text!r}, not the task's 'text' {task['text']!r}")
    return words, spaces


def _spans(task: Dict[str, Any], words: List[str], spaces: List[bool]) -> List[list]:
    """The spans as entities `[token_start, token_end + 1, label]`."""
    starts = [0]
    for word, space in zip(words, spaces):
        starts.append(starts[-1] + len(word) + space)
    entities = []
    for i, span in enumerate(_list(task, "spans")):
        fields = ("token_start", "token_end", "label")
        if not (isinstance(span, dict) and all(field in span for field in fields)):
            raise ValueError(f"span {i} must be an object with 'token_start', 'token_end' and 'label', got {span!r}")
        first, last, label = (span[field] for field in fields)
        if not all(isinstance(t, int) and not isinstance(t, bool) for t in (first, last)):
            raise ValueError(f"span {i}: 'token_start' and 'token_end' must be integers, got {span!r}")
        if not 0 <= first <= last < len(words):
            raise ValueError(
                f"span {i}: tokens {first}..{last} (token_end is inclusive) are not within the "
                f"task's {len(words)} tokens: {span!r}"
            )
        chars = (starts[first], starts[last] + len(words[last]))
        if (span.get("start", chars[0]), span.get("end", chars[1])) != chars:
            raise ValueError(
                f"span {i}: characters [{span.get('start')}, {span.get('end')}) are not those of its "
                f"tokens {first}..{last}, [{chars[0]}, {chars[1]})"
            )
        entities.append([first, last + 1, label])
    return entities


def _relation(i: int, rel: Any, entities: List[list]) -> Tuple[Optional[list], Optional[str]]:
    """The relation as a row over `entities`, or None and why it is skipped."""
    if not (isinstance(rel, dict) and all(field in rel for field in ("head", "child", "label"))):
        raise ValueError(f"relation {i} must be an object with 'head', 'child' and 'label', got {rel!r}")
    by_last_token = {end - 1: (start, end) for start, end, _ in entities}
    args = []
    for arg in ("head", "child"):
        token = rel[arg]
        if not isinstance(token, int) or isinstance(token, bool):
            raise ValueError(f"relation {i}: {arg!r} must be a token index, got {token!r}")
        if token not in by_last_token:
            return None, f"relation {i} {rel['label']!r}: its {arg} (token {token}) is not the last token of a span"
        args.extend(by_last_token[token])
    return [*args, rel["label"]], None


def to_task(doc: Doc, context: Context) -> Dict[str, Any]:
    """A rel.manual task with the doc's tokens, entities and relations (no `answer`)."""
    return {
        "text": doc.text,
        "tokens": [
            {"text": t.text, "start": t.idx, "end": t.idx + len(t.text), "id": t.i, "ws": bool(t.whitespace_)}
            for t in doc
        ],
        "spans": [_span(ent) for ent in doc.ents],
        "relations": [
            {
                "head": rel.head.end - 1,
                "child": rel.tail.end - 1,
                "head_span": _span(rel.head),
                "child_span": _span(rel.tail),
                "label": rel.label,
            }
            for rel in doc._.relations
        ],
        "meta": {"id": context["id"], **context["meta"]},
    }


def _span(span: Span) -> Dict[str, Any]:
    return {
        "start": span.start_char,
        "end": span.end_char,
        "token_start": span.start,
        "token_end": span.end - 1,
        "label": span.label_,
    }


writer = line_writer(to_task)
