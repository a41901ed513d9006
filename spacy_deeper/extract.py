"""`python -m spacy_deeper extract MODEL INPUT OUTPUT`: entities and relations of raw text.

INPUT is one of

* a `.txt` file: one document a line; blank lines are skipped, the id of a
  document is its line number (1-based);
* a folder: one document per `.txt` file in it (sorted, not recursive), the id
  is the file name;
* a `.jsonl` file: one JSON object a line with a string field `text`; its `id`
  field, if any, is the id (the line number otherwise) and the other fields are
  kept as `meta`;
* a `.parquet` file (needs pyarrow): one document a row, with a string column
  `text`, as a .jsonl file's objects (`id`, else the row number from 1; the
  other columns in `meta`, dates and times as ISO strings, decimals as strings).

Input files are UTF-8, with or without a BOM; an input without documents is
an error. OUTPUT is written in `--format` (see `spacy_deeper.formats`):

* jsonl (the default): one JSON object a line and document::

    {"id": 3, "text": "...", "entities": [{"start": 0, "end": 17, "label": "Peop", "text": "..."}],
     "relations": [{"head": {...}, "tail": {...}, "label": "Kill", "score": 0.97}], "meta": {}}

  with character offsets (end exclusive);
* prodigy: Prodigy `rel.manual` tasks, one a line, to correct in Prodigy;
* brat: a folder (new, or empty) with `ID.txt` and `ID.ann` per document.

OUTPUT (and the `--html` page) is written under a temporary name and renamed at
the end, so a failed, interrupted (Ctrl-C) or terminated (SIGTERM) run leaves
nothing half written and no temporary file. OUTPUT may not be INPUT. Errors are
one line on stderr and exit status 1 (2 for usage).

With `--engine ray` the documents are processed by Ray Data actors, on this
machine or a cluster (`--address`), and OUTPUT is a folder of JSONL shards with
the jsonl records, which a rerun resumes: see `spacy_deeper.distributed`.
"""
import argparse
import datetime
import decimal
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from .files import DataError, LineRange, atomic_write, iter_jsonl, iter_lines, iter_parquet, read_text, sigterm_as_exit
from .formats import WRITERS
from .relations import register_extensions

Record = Tuple[str, Dict[str, Any]]  # text, context: {"id": ..., "meta": {...}}
Part = Union[LineRange, Sequence[Path]]  # some lines (rows) of a .txt, .jsonl or .parquet INPUT, or some files of a folder
PROG = "python -m spacy_deeper extract"


class InputError(Exception):
    """An input problem, reported as one line and exit status 1."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run a spacy-deeper pipeline over raw text and write entities and "
        "relations as JSONL, Prodigy tasks or BRAT files.",
    )
    parser.add_argument("model", metavar="MODEL", help="installed pipeline package or path for spacy.load")
    parser.add_argument(
        "input",
        metavar="INPUT",
        type=Path,
        help=".txt file (one document a line), folder of .txt files (one document a file), "
        ".jsonl file (objects with a 'text' field) or .parquet file (a 'text' column)",
    )
    parser.add_argument(
        "output", metavar="OUTPUT", type=Path, help="file to write (a new or empty folder with --format brat)"
    )
    parser.add_argument(
        "--format",
        choices=list(WRITERS),
        default="jsonl",
        help="jsonl: entities and relations with character offsets (default); prodigy: rel.manual tasks; "
        "brat: a folder of .txt and .ann files",
    )
    parser.add_argument("--batch-size", type=_positive, default=64, help="documents a batch (default 64)")
    parser.add_argument("--n-process", type=_positive, default=1, help="processes (default 1)")
    parser.add_argument("--gpu-id", type=int, default=-1, help="GPU to use; -1 for the CPU (default)")
    parser.add_argument("--int8", action="store_true", help="predict with int8-quantized layers (CPU only)")
    parser.add_argument("--html", type=Path, metavar="PATH", help="also write a visualization to PATH")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="local: this process (default); ray: Ray Data actors, OUTPUT a folder of JSONL shards "
        "that a rerun resumes (docs/distributed.md)",
    )
    ray = parser.add_argument_group("--engine ray")
    ray.add_argument("--address", help="Ray cluster to join, e.g. HOST:6379 or auto (default: start Ray on this machine)")
    ray.add_argument("--num-actors", type=_positive, help="actors, each with the pipeline loaded once (default 2)")
    ray.add_argument("--shard-size", type=_positive, help="input lines (Parquet rows, files of a folder) a shard (default 1000)")
    ray.add_argument("--num-gpus-per-actor", type=float, help="GPUs an actor (default 0: CPU)")
    return parser


RAY_OPTIONS = ("address", "num_actors", "shard_size", "num_gpus_per_actor")


def _check_engine(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors (exit status 2) for options that the chosen engine does not take."""
    if args.engine == "local":
        given = [f"--{name.replace('_', '-')}" for name in RAY_OPTIONS if getattr(args, name) is not None]
        if given:
            parser.error(f"{', '.join(given)}: only with --engine ray")
        return
    local_only = {"--format": args.format != "jsonl", "--html": args.html is not None,
                  "--n-process": args.n_process != 1, "--gpu-id": args.gpu_id != -1}
    given = [name for name, is_given in local_only.items() if is_given]
    if given:
        parser.error(f"{', '.join(given)}: not with --engine ray (it writes JSONL shards; GPUs: --num-gpus-per-actor)")


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}")
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


# --- input ----------------------------------------------------------------------


def _read_txt(path: Path, lines: LineRange) -> Iterator[Record]:
    for number, line in iter_lines(path, lines):
        if line.strip():
            yield line, {"id": number, "meta": {}}


def _read_jsonl(path: Path, lines: LineRange) -> Iterator[Record]:
    for number, record in iter_jsonl(path, lines):
        if not isinstance(record, dict):
            raise DataError(path, number, f"expected a JSON object, got {type(record).__name__}")
        text = record.pop("text", None)
        if not isinstance(text, str):
            problem = "no 'text' field" if text is None else f"'text' must be a string, got {type(text).__name__}"
            raise DataError(path, number, problem)
        doc_id = record.pop("id", number)
        yield text, {"id": doc_id, "meta": record}


def _read_parquet(path: Path, rows: LineRange) -> Iterator[Record]:
    for number, row in iter_parquet(path, rows):
        if "text" not in row:
            raise DataError(path, None, f"no 'text' column (columns: {', '.join(row)})")
        text = row.pop("text")
        if not isinstance(text, str):
            problem = "is null" if text is None else f"must be a string, got {type(text).__name__}"
            raise DataError(path, None, f"row {number}: 'text' {problem}")
        doc_id = row.pop("id", number)
        yield text, {"id": _plain(doc_id, path, number, "id"), "meta": _plain(row, path, number, "")}


def _plain(value: Any, path: Path, number: int, column: str) -> Any:
    """A Parquet value as JSON can hold it: dates and times as ISO strings, decimals as strings."""
    if isinstance(value, dict):
        return {key: _plain(item, path, number, column or key) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item, path, number, column) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime.date, datetime.time)):  # datetime.datetime is a date
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, datetime.timedelta)):
        return str(value)
    raise DataError(path, None, f"row {number}: column {column!r} holds {type(value).__name__}, which JSON cannot hold")


def _read_folder(files: Sequence[Path]) -> Iterator[Record]:
    for file in files:
        yield read_text(file), {"id": file.name, "meta": {}}


def folder_files(path: Path) -> List[Path]:
    """The documents of a folder INPUT: its .txt files, sorted by name."""
    try:
        files = sorted(p for p in path.iterdir() if p.suffix == ".txt" and p.is_file())
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}")
    if not files:
        raise InputError(f"{path}: no .txt files in this folder")
    return files


def read_input(path: Path, part: Optional[Part] = None) -> Iterator[Record]:
    """The documents of INPUT (or of a `part` of it) as `(text, {"id": ..., "meta": ...})`, read lazily."""
    if path.is_dir():
        files = folder_files(path) if part is None else part
        assert not isinstance(files, LineRange), "a folder is read by files"
        return _read_folder(files)
    if not path.exists():
        raise InputError(f"input {path} does not exist")
    lines = LineRange() if part is None else part
    assert isinstance(lines, LineRange), "a file is read by lines"
    if path.suffix == ".jsonl":
        return _read_jsonl(path, lines)
    if path.suffix == ".txt":
        return _read_txt(path, lines)
    if path.suffix == ".parquet":
        return _read_parquet(path, lines)
    raise InputError(f"input {path}: expected a .txt file, a .jsonl file, a .parquet file or a folder")


def count_documents(path: Path) -> int:
    """Read all of INPUT once, so that bad input fails before the model is loaded;
    an input without documents is an error."""
    n = len(folder_files(path)) if path.is_dir() else sum(1 for _ in read_input(path))
    if n == 0:
        raise InputError(f"{path}: no documents (the file is empty or has only blank lines)")
    return n


# --- output ---------------------------------------------------------------------


class Progress:
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

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
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


def load_pipeline(model: str, gpu_id: int, int8: bool = False) -> Any:
    import spacy

    if gpu_id >= 0:
        try:
            spacy.require_gpu(gpu_id)
        except Exception as err:
            raise InputError(f"cannot use GPU {gpu_id}: {err}") from None
    import spacy_deeper  # noqa: F401  (registers doc._.relations)

    if not int8:
        return spacy.load(model)
    if gpu_id >= 0:
        raise InputError("--int8 runs on the CPU only: leave out --gpu-id")
    # Load once to find the deeper_joint components, then again with their model's int8 set.
    plain = spacy.load(model)
    names = [name for name in plain.component_names if plain.get_pipe_meta(name).factory == "deeper_joint"]
    return spacy.load(model, config={"components": {name: {"model": {"int8": True}} for name in names}})


def _check_paths(input_path: Path, output: Path, html: Optional[Path], format: str) -> None:
    """Refuse outputs that cannot be written or would overwrite the input, before any work."""
    for path in (output, html):
        if path is not None and not path.parent.is_dir():
            raise InputError(f"cannot write {path}: folder {path.parent} does not exist")
    if html is not None and html.resolve() == output.resolve():
        raise InputError("--html and OUTPUT are the same file")
    for name, path in (("OUTPUT", output), ("--html", html)):
        if path is not None and path.resolve() == input_path.resolve():
            raise InputError(f"{name} {path} is the INPUT: writing it would destroy the input")
    if format != "brat" and output.is_dir():
        raise InputError(f"OUTPUT {output} is a folder (a folder is written with --format brat only)")


def run(
    model: str,
    input_path: Path,
    output: Path,
    *,
    format: str = "jsonl",
    batch_size: int = 64,
    n_process: int = 1,
    gpu_id: int = -1,
    int8: bool = False,
    html: Optional[Path] = None,
    quiet: bool = False,
) -> int:
    """Process INPUT with MODEL into OUTPUT in `format`; returns the number of documents."""
    register_extensions()
    _check_paths(input_path, output, html, format)
    total = count_documents(input_path)
    with WRITERS[format](output) as write, (atomic_write(html) if html else nullcontext()) as page:
        try:
            nlp = load_pipeline(model, gpu_id, int8)
        except InputError:
            raise
        except Exception as err:  # spaCy raises OSError, ValueError, KeyError, ... here
            raise InputError(f"cannot load model {model}: {err}") from None
        if page is not None:
            from .visualize import HtmlWriter

            html_writer = HtmlWriter(page, options={"title": f"{input_path.name}: {model}"})
        progress = Progress(total, enabled=not quiet)
        docs = nlp.pipe(read_input(input_path), as_tuples=True, batch_size=batch_size, n_process=n_process)
        try:
            for doc, context in docs:
                write(doc, context)
                if page is not None:
                    html_writer.write(doc, title=str(context["id"]))
                progress.update()
        finally:
            progress.close()
        if page is not None:
            html_writer.close()
    return progress.done


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of `python -m spacy_deeper extract`; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    _check_engine(parser, args)
    try:
        with sigterm_as_exit():  # SIGTERM exits with 143, removing the temporary files
            n = _run_ray(args) if args.engine == "ray" else run(
                args.model,
                args.input,
                args.output,
                format=args.format,
                batch_size=args.batch_size,
                n_process=args.n_process,
                gpu_id=args.gpu_id,
                int8=args.int8,
                html=args.html,
                quiet=args.quiet,
            )
    except (InputError, DataError, OSError) as err:
        return _fail(str(err))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    if not args.quiet:
        print(f"{n} documents -> {args.output}", file=sys.stderr)
    return 0


def _run_ray(args: argparse.Namespace) -> int:
    from .distributed import extract_ray

    given = {name: getattr(args, name) for name in RAY_OPTIONS if getattr(args, name) is not None}
    return extract_ray(args.model, args.input, args.output, batch_size=args.batch_size, int8=args.int8,
                       quiet=args.quiet, **given)
