"""`python -m spacy_deeper extract MODEL INPUT OUTPUT`: entities and relations of raw text.

INPUT is one of

* a `.txt` file: one document a line; blank lines are skipped, the id of a
  document is its line number (1-based);
* a folder: one document per `.txt` file in it (sorted, not recursive), the id
  is the file name;
* a `.jsonl` file: one JSON object a line with a string field `text`; its `id`
  field, if any, is the id (the line number otherwise) and the other fields are
  kept as `meta`.

OUTPUT gets one JSON object a line and document::

    {"id": 3, "text": "...", "entities": [{"start": 0, "end": 17, "label": "Peop", "text": "..."}],
     "relations": [{"head": {...}, "tail": {...}, "label": "Kill", "score": 0.97}], "meta": {}}

with character offsets (end exclusive). OUTPUT (and the `--html` page) is
written to a temporary file renamed at the end, so a failed run leaves nothing
half written. Errors are one line on stderr and exit status 1 (2 for usage).
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, TextIO, Tuple

from .relations import register_extensions

Record = Tuple[str, Dict[str, Any]]  # text, context: {"id": ..., "meta": {...}}
PROG = "python -m spacy_deeper extract"


class InputError(Exception):
    """An input problem, reported as one line and exit status 1."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run a spacy-deeper pipeline over raw text and write entities and "
        "relations as JSONL.",
    )
    parser.add_argument("model", metavar="MODEL", help="installed pipeline package or path for spacy.load")
    parser.add_argument(
        "input",
        metavar="INPUT",
        type=Path,
        help=".txt file (one document a line), folder of .txt files (one document a file) "
        "or .jsonl file (objects with a 'text' field)",
    )
    parser.add_argument("output", metavar="OUTPUT", type=Path, help="JSONL file to write")
    parser.add_argument("--batch-size", type=_positive, default=64, help="documents a batch (default 64)")
    parser.add_argument("--n-process", type=_positive, default=1, help="processes (default 1)")
    parser.add_argument("--gpu-id", type=int, default=-1, help="GPU to use; -1 for the CPU (default)")
    parser.add_argument("--html", type=Path, metavar="PATH", help="also write a visualization to PATH")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}")
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


# --- input ----------------------------------------------------------------------


def _lines(path: Path) -> Iterator[Tuple[int, str]]:
    """(line number, line without its line break); UTF-8 (a BOM is dropped)."""
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as f:
            for number, line in enumerate(f, 1):
                yield number, line.rstrip("\r\n")
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})")
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}")


def _read_txt(path: Path) -> Iterator[Record]:
    for number, line in _lines(path):
        if line.strip():
            yield line, {"id": number, "meta": {}}


def _read_jsonl(path: Path) -> Iterator[Record]:
    for number, line in _lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{path}:{number}: invalid JSON: {err.msg} (column {err.colno})")
        if not isinstance(record, dict):
            raise InputError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
        text = record.pop("text", None)
        if not isinstance(text, str):
            problem = "no 'text' field" if text is None else f"'text' must be a string, got {type(text).__name__}"
            raise InputError(f"{path}:{number}: {problem}")
        doc_id = record.pop("id", number)
        yield text, {"id": doc_id, "meta": record}


def _read_folder(path: Path) -> Iterator[Record]:
    for file in _folder_files(path):
        try:
            text = file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as err:
            raise InputError(f"{file}: not UTF-8 text ({err.reason} at byte {err.start})")
        except OSError as err:
            raise InputError(f"cannot read {file}: {err.strerror or err}")
        yield text, {"id": file.name, "meta": {}}


def _folder_files(path: Path) -> List[Path]:
    try:
        files = sorted(p for p in path.iterdir() if p.suffix == ".txt" and p.is_file())
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}")
    if not files:
        raise InputError(f"{path}: no .txt files in this folder")
    return files


def read_input(path: Path) -> Iterator[Record]:
    """The documents of INPUT as `(text, {"id": ..., "meta": ...})`, read lazily."""
    if path.is_dir():
        return _read_folder(path)
    if not path.exists():
        raise InputError(f"input {path} does not exist")
    if path.suffix == ".jsonl":
        return _read_jsonl(path)
    if path.suffix == ".txt":
        return _read_txt(path)
    raise InputError(f"input {path}: expected a .txt file, a .jsonl file or a folder")


def count_documents(path: Path) -> int:
    """Read all of INPUT once, so that bad input fails before the model is loaded."""
    if path.is_dir():
        return len(_folder_files(path))
    return sum(1 for _ in read_input(path))


# --- output ---------------------------------------------------------------------


def doc_to_json(doc: Any, context: Dict[str, Any]) -> Dict[str, Any]:
    """The output object of one processed document."""
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


class _AtomicFile:
    """A text file written under a temporary name and renamed on `commit()`."""

    def __init__(self, path: Path):
        self.path = path
        try:
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
        except OSError as err:
            raise InputError(f"cannot write {path}: {err.strerror or err}")
        self.tmp = Path(name)
        self.file: TextIO = os.fdopen(fd, "w", encoding="utf-8", newline="\n")

    def commit(self) -> None:
        self.file.close()
        umask = os.umask(0)  # mkstemp makes the file private; give it the usual mode
        os.umask(umask)
        os.chmod(self.tmp, 0o666 & ~umask)
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        self.file.close()
        self.tmp.unlink(missing_ok=True)


class _Progress:
    """Documents done and documents a second on stderr: tqdm if present, else one line."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled, self.done = total, enabled, 0
        self.start = time.monotonic()
        self.bar: Any = None
        if enabled:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit="doc", file=sys.stderr, dynamic_ncols=True)
            except ImportError:
                pass
        self.last = 0.0

    def update(self) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        elif self.enabled and (time.monotonic() - self.last > 0.2 or self.done == self.total):
            self.last = time.monotonic()
            rate = self.done / max(self.last - self.start, 1e-9)
            print(f"\r{self.done}/{self.total} docs, {rate:.1f} docs/s", end="", file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            print(file=sys.stderr)


# --- command --------------------------------------------------------------------


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 1


def _load(model: str, gpu_id: int) -> Any:
    import spacy

    if gpu_id >= 0:
        try:
            spacy.require_gpu(gpu_id)
        except Exception as err:
            raise InputError(f"cannot use GPU {gpu_id}: {err}") from None
    import spacy_deeper  # noqa: F401  (registers doc._.relations)

    return spacy.load(model)


def run(
    model: str,
    input_path: Path,
    output: Path,
    *,
    batch_size: int = 64,
    n_process: int = 1,
    gpu_id: int = -1,
    html: Optional[Path] = None,
    quiet: bool = False,
) -> int:
    """Process INPUT with MODEL into OUTPUT; returns the number of documents."""
    register_extensions()
    total = count_documents(input_path)
    try:
        nlp = _load(model, gpu_id)
    except InputError:
        raise
    except Exception as err:  # spaCy raises OSError, ValueError, KeyError, ... here
        raise InputError(f"cannot load model {model}: {err}") from None
    out = _AtomicFile(output)
    page = None
    try:
        if html is not None:
            from .render import HtmlWriter

            page = _AtomicFile(html)
            writer = HtmlWriter(page.file, options={"title": f"{input_path.name}: {model}"})
        progress = _Progress(total, enabled=not quiet)
        docs = nlp.pipe(read_input(input_path), as_tuples=True, batch_size=batch_size, n_process=n_process)
        try:
            for doc, context in docs:
                out.file.write(json.dumps(doc_to_json(doc, context), ensure_ascii=False) + "\n")
                if page is not None:
                    writer.write(doc, title=str(context["id"]))
                progress.update()
        finally:
            progress.close()
        if page is not None:
            writer.close()
            page.commit()
        out.commit()
    except BaseException:
        out.discard()
        if page is not None:
            page.discard()
        raise
    return progress.done


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of `python -m spacy_deeper extract`; returns the exit status."""
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    for path in (args.output, args.html):
        if path is not None and not path.parent.is_dir():
            return _fail(f"cannot write {path}: folder {path.parent} does not exist")
    if args.html is not None and args.html.resolve() == args.output.resolve():
        return _fail("--html and OUTPUT are the same file")
    try:
        n = run(
            args.model,
            args.input,
            args.output,
            batch_size=args.batch_size,
            n_process=args.n_process,
            gpu_id=args.gpu_id,
            html=args.html,
            quiet=args.quiet,
        )
    except InputError as err:
        return _fail(str(err))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    if not args.quiet:
        print(f"{n} documents -> {args.output}", file=sys.stderr)
    return 0
