"""Reading and writing files for the converter and the extractor.

One policy for both: input is UTF-8, with or without a byte order mark at the
start of the file; bytes that are not UTF-8 raise `DataError` naming the file
and line. Output is written under a hidden temporary name next to it and
renamed at the end, so an interrupted run (an exception, Ctrl-C, or SIGTERM
inside `sigterm_as_exit`) leaves neither a half-written output nor the
temporary file.
"""
import json
import os
import shutil
import signal
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

PathLike = Union[str, Path]
BOM = b"\xef\xbb\xbf"


class DataError(ValueError):
    """A problem in an input file, with the file and (where there is one) the line."""

    def __init__(self, source: PathLike, line: Optional[int], problem: str):
        self.source, self.line, self.problem = str(source), line, problem
        where = self.source if line is None else f"{self.source}:{line}"
        super().__init__(f"{where}: {problem}")


def _decode(data: bytes, path: PathLike, line: int, offset: int = 0) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line += data.count(b"\n", 0, err.start)
        line_start = data.rfind(b"\n", 0, err.start) + 1
        column = err.start - line_start + 1 + (offset if line_start == 0 else 0)
        raise DataError(path, line, f"not UTF-8 text ({err.reason}, byte {column} of the line)") from None


def _existing(path: PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}" if not path.exists() else f"not a file: {path}")
    return path


def read_text(path: PathLike) -> str:
    """The whole text of a UTF-8 file (a leading BOM dropped, line ends kept as they are)."""
    data = _existing(path).read_bytes()
    start = len(BOM) if data.startswith(BOM) else 0
    return _decode(data[start:], path, 1, offset=start)


@dataclass(frozen=True)
class LineRange:
    """Lines `first` to `first + count - 1` of a file (to its end if `count` is None);
    line `first` starts at byte `offset`. The default is the whole file. For a Parquet
    file the lines are its rows, counted from 1 (`offset` is unused)."""

    first: int = 1
    offset: int = 0
    count: Optional[int] = None


def line_ranges(path: PathLike, size: int) -> List[LineRange]:
    """The lines of a file in consecutive ranges of `size` lines (the last may be shorter)."""
    ranges, offset = [], 0
    with _existing(path).open("rb") as file_:
        for number, data in enumerate(file_, start=1):
            if (number - 1) % size == 0:
                ranges.append(LineRange(number, offset, size))
            offset += len(data)
    return ranges


def iter_lines(path: PathLike, lines: LineRange = LineRange()) -> Iterator[Tuple[int, str]]:
    """(line number, text without the line break) for each line of a UTF-8 file
    (or of its `lines`), read lazily."""
    with _existing(path).open("rb") as file_:
        file_.seek(lines.offset)
        for number, data in islice(enumerate(file_, start=lines.first), lines.count):
            offset = len(BOM) if number == 1 and data.startswith(BOM) else 0
            yield number, _decode(data[offset:], path, number, offset).rstrip("\r\n")


def iter_jsonl(path: PathLike, lines: LineRange = LineRange()) -> Iterator[Tuple[int, Any]]:
    """(line number, parsed value) for each non-blank line of a JSONL file (or of its `lines`).

    Invalid JSON raises DataError with the file and line."""
    for number, line in iter_lines(path, lines):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(path, number, f"invalid JSON ({err.msg} at column {err.colno})") from None
        yield number, value


def _parquet_file(path: PathLike) -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(path, None, 'reading Parquet needs pyarrow: python -m pip install "spacy-deeper[parquet]"') from None
    try:
        return pq.ParquetFile(_existing(path))
    except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
        raise DataError(path, None, f"not a readable Parquet file ({err})") from None


def parquet_row_ranges(path: PathLike, size: int) -> List[LineRange]:
    """The rows of a Parquet file in consecutive ranges of `size` rows (the last may be shorter)."""
    n_rows = _parquet_file(path).metadata.num_rows
    return [LineRange(first, 0, size) for first in range(1, n_rows + 1, size)]


def iter_parquet(path: PathLike, rows: LineRange = LineRange(), batch_size: int = 1024) -> Iterator[Tuple[int, Dict[str, Any]]]:
    """(row number from 1, the row as a dict of plain Python values) for each row of a
    Parquet file (or of its `rows`), read lazily, one record batch of the row groups that
    hold the range at a time."""
    file_ = _parquet_file(path)
    first, last = rows.first, float("inf") if rows.count is None else rows.first + rows.count - 1
    groups, number, start = [], 1, 1  # the row groups that overlap [first, last]; the first row of the first
    for index in range(file_.metadata.num_row_groups):
        end = start + file_.metadata.row_group(index).num_rows - 1
        if end >= first and start <= last:
            if not groups:
                number = start
            groups.append(index)
        start = end + 1
    if not groups:
        return
    for batch in file_.iter_batches(batch_size=batch_size, row_groups=groups):
        for row in batch.to_pylist():
            if number > last:
                return
            if number >= first:
                yield number, row
            number += 1


def _hidden_next_to(path: Path) -> Dict[str, str]:
    """mkstemp/mkdtemp arguments for a hidden temporary name in the folder of `path`."""
    return {"prefix": f".{path.name}.", "suffix": ".tmp", "dir": str(path.parent)}


def _publish(tmp: Path, path: Path, mode: int) -> None:
    umask = os.umask(0)  # mkstemp/mkdtemp make private files; give the usual mode
    os.umask(umask)
    os.chmod(tmp, mode & ~umask)
    os.replace(tmp, path)


@contextmanager
def atomic_write(path: PathLike, binary: bool = False) -> Iterator[IO]:
    """A file opened for writing (UTF-8 text, "\\n" line ends, or bytes) that
    appears at `path` only when the block ends without an exception."""
    path = Path(path)
    fd, name = tempfile.mkstemp(**_hidden_next_to(path))
    tmp = Path(name)
    try:
        mode = "wb" if binary else "w"
        with os.fdopen(fd, mode, **({} if binary else {"encoding": "utf-8", "newline": "\n"})) as file_:
            yield file_
        _publish(tmp, path, 0o666)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(path: PathLike) -> Iterator[Path]:
    """A new folder to fill that appears at `path` only when the block ends
    without an exception. `path` must not exist, or be an empty folder."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(f"{path} exists and is not an empty folder")
    tmp = Path(tempfile.mkdtemp(**_hidden_next_to(path)))
    try:
        yield tmp
        _publish(tmp, path, 0o777)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def json_line(value: Any) -> str:
    """One line of JSONL output: UTF-8 text, not ASCII-escaped, with its line break."""
    return json.dumps(value, ensure_ascii=False) + "\n"


@contextmanager
def jsonl_writer(path: PathLike) -> Iterator[Callable[[Any], None]]:
    """`write(value)` appends one JSON line (see `json_line`) to an atomic file."""
    with atomic_write(path) as file_:
        yield lambda value: file_.write(json_line(value))


@contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Within the block, SIGTERM raises SystemExit(143) (as Ctrl-C raises
    KeyboardInterrupt), so the atomic writers above remove their temporary files."""

    def terminate(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
