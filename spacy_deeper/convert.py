"""Converting annotated data to spaCy DocBins.

Command line::

    python -m spacy_deeper convert INPUT [INPUT ...] OUTPUT.spacy [--format FORMAT]
    python -m spacy_deeper convert assets/ade/ade.jsonl corpus/ade --ade-folds

The first form writes one DocBin with the docs of every input, in order (so
`train.jsonl dev.jsonl train_dev.spacy` gives CoNLL04's train+dev). An input is
the project's JSONL, Prodigy's relation annotations, BRAT standoff (a file pair
or a folder) or SpERT's JSON (see `spacy_deeper.formats` and docs/formats.md);
the format is detected from each input unless --format is given. The second
form writes `OUTPUT_DIR/fold{k}/{train,dev,test}.spacy` for the ADE
cross-validation protocol (see `ade_split`). DocBins keep user data, so
`doc._.relations` round-trips.

Every input is read and checked before anything is written: on a malformed
line the command prints `file:line: problem` to stderr, exits with 1 and leaves
no output file behind. An input without documents is an error too. What a
reader skips on purpose (rejected Prodigy tasks, BRAT events, ...) is counted
and listed on stderr with its file and line.
"""
import argparse
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from .corpus import record_to_doc
from .files import DataError, PathLike, atomic_write, iter_jsonl, sigterm_as_exit
from .formats import READERS, Report, read_docs

N_ADE_FOLDS = 10
SPLITS = ("train", "dev", "test")
Stats = Dict[str, int]


def count(docs: Iterable[Doc]) -> Stats:
    """Docs, entities and relations in `docs`."""
    stats = {"docs": 0, "entities": 0, "relations": 0}
    for doc in docs:
        stats["docs"] += 1
        stats["entities"] += len(doc.ents)
        stats["relations"] += len(doc._.relations)
    return stats


def format_stats(stats: Stats) -> str:
    return f"{stats['docs']} docs, {stats['entities']} entities, {stats['relations']} relations"


def write_docbin(docs: Union[DocBin, Sequence[Doc]], output: PathLike) -> None:
    """Write a DocBin (or docs, as a DocBin with user data) atomically: an
    interrupted run leaves no truncated `output`."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    doc_bin = docs if isinstance(docs, DocBin) else DocBin(docs=docs, store_user_data=True)
    data = doc_bin.to_bytes()
    with atomic_write(output, binary=True) as file_:
        file_.write(data)


def no_documents(path: PathLike, skipped: Dict[str, int]) -> DataError:
    """The error for an input without documents, with what was skipped in it."""
    why = ", ".join(f"{n} {kind}" for kind, n in skipped.items())
    return DataError(path, None, f"no documents to convert ({'skipped: ' + why if why else 'the input is empty'})")


def convert_file(
    inputs: Union[PathLike, Sequence[PathLike]],
    output: PathLike,
    vocab: Optional[Vocab] = None,
    format: Optional[str] = None,
    report: Optional[Report] = None,
) -> Dict[str, Stats]:
    """Convert one or more inputs in `format` (detected per input if None) into one DocBin at `output`.

    Returns the counts per input path and under "total"; what the readers skip
    is added to `report`. Raises DataError (and writes nothing) if any input is
    malformed or holds no documents.
    """
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    if not inputs:
        raise ValueError("convert_file needs at least one input file")
    repeated = sorted({str(p) for p in inputs if [str(q) for q in inputs].count(str(p)) > 1})
    if repeated:
        raise ValueError(f"input file given more than once: {', '.join(repeated)}")
    vocab = vocab if vocab is not None else Vocab()
    report = report if report is not None else Report()
    stats: Dict[str, Stats] = {}
    docs: List[Doc] = []
    for path in inputs:
        before = len(report.items)
        file_docs = list(read_docs(path, vocab, report, format))
        if not file_docs:
            raise no_documents(path, report.counts(since=before))
        stats[str(path)] = count(file_docs)
        docs.extend(file_docs)
    stats["total"] = count(docs)
    write_docbin(docs, output)
    return stats


def ade_split(fold: int, dev_in_folds: Iterable[int], k: int) -> str:
    """The split of fold `k` that holds a sentence: "test", "dev" or "train".

    The protocol of the data README: test = `fold == k`; dev = `k in dev_in_folds`;
    train = all the others.
    """
    if fold == k:
        return "test"
    if k in dev_in_folds:
        return "dev"
    return "train"


def _fold_fields(record: Any, n_folds: int) -> Tuple[int, Tuple[int, ...]]:
    """Check and return a record's `fold` and `dev_in_folds`; raise ValueError if malformed."""
    if not isinstance(record, dict):
        raise ValueError(f"a record must be a JSON object, got {type(record).__name__}")
    for field in ("fold", "dev_in_folds"):
        if field not in record:
            raise ValueError(f"missing field {field!r} (needed for --ade-folds)")

    def is_fold(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < n_folds

    fold, dev = record["fold"], record["dev_in_folds"]
    if not is_fold(fold):
        raise ValueError(f"field 'fold' must be an integer in 0..{n_folds - 1}, got {fold!r}")
    if not isinstance(dev, list) or not all(is_fold(k) for k in dev):
        raise ValueError(
            f"field 'dev_in_folds' must be a list of integers in 0..{n_folds - 1}, got {dev!r}"
        )
    if len(set(dev)) != len(dev):
        raise ValueError(f"field 'dev_in_folds' lists a fold twice: {dev!r}")
    if fold in dev:
        raise ValueError(
            f"the sentence is in the test set of fold {fold} and in its dev set: "
            f"'fold' {fold}, 'dev_in_folds' {dev!r}"
        )
    return fold, tuple(dev)


def read_ade(
    path: PathLike, vocab: Vocab, n_folds: int = N_ADE_FOLDS
) -> List[Tuple[Doc, int, Tuple[int, ...]]]:
    """Read an ADE-style JSONL file: (doc, fold, dev_in_folds) per line.

    As `read_jsonl`, blank lines are skipped and a malformed line raises
    DataError; the fold fields are checked too, and an empty file is an error.
    """
    rows = []
    for line_no, record in iter_jsonl(path):
        try:
            fold, dev = _fold_fields(record, n_folds)
            rows.append((record_to_doc(vocab, record), fold, dev))
        except ValueError as err:
            raise DataError(path, line_no, str(err)) from None
    if not rows:
        raise no_documents(path, {})
    return rows


def convert_ade_folds(
    input: PathLike,
    output_dir: PathLike,
    vocab: Optional[Vocab] = None,
    n_folds: int = N_ADE_FOLDS,
) -> Dict[int, Dict[str, Stats]]:
    """Write `output_dir/fold{k}/{train,dev,test}.spacy` for k in 0..n_folds-1.

    Returns the counts per fold and split. Raises DataError (and writes
    nothing) if any line is malformed.
    """
    vocab = vocab if vocab is not None else Vocab()
    rows = read_ade(input, vocab, n_folds)
    # Serialize each doc once (packing user data is the slow part of DocBin.add)
    # and merge the one-doc bins into the 3 * n_folds split bins.
    single_bins = [DocBin(docs=[doc], store_user_data=True) for doc, _, _ in rows]
    stats: Dict[int, Dict[str, Stats]] = {}
    for k in range(n_folds):
        bins = {split: DocBin(store_user_data=True) for split in SPLITS}
        docs: Dict[str, List[Doc]] = {split: [] for split in SPLITS}
        for (doc, fold, dev), single in zip(rows, single_bins):
            split = ade_split(fold, dev, k)
            bins[split].merge(single)
            docs[split].append(doc)
        stats[k] = {}
        for split in SPLITS:
            write_docbin(bins[split], Path(output_dir) / f"fold{k}" / f"{split}.spacy")
            stats[k][split] = count(docs[split])
    return stats


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m spacy_deeper convert",
        description="Convert annotated data (the project's JSONL, Prodigy, BRAT or SpERT) to spaCy DocBins.",
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="INPUT [INPUT ...] OUTPUT.spacy (several inputs are concatenated into one DocBin), "
        "or with --ade-folds: INPUT.jsonl OUTPUT_DIR",
    )
    parser.add_argument(
        "--format",
        choices=list(READERS),
        help="the format of the inputs; by default detected for each: a folder, .ann or .txt is brat, "
        ".json spert, .jsonl prodigy if its first record has 'spans' or 'answer', else jsonl",
    )
    parser.add_argument(
        "--ade-folds",
        action="store_true",
        help="write OUTPUT_DIR/fold{k}/{train,dev,test}.spacy from the 'fold' and "
        "'dev_in_folds' fields (test: fold == k; dev: k in dev_in_folds; train: the rest)",
    )
    parser.add_argument(
        "--n-folds", type=int, default=N_ADE_FOLDS, help="number of folds for --ade-folds (default: 10)"
    )
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the `convert` command; returns the exit status (0 ok, 1 bad data, 2 bad usage)."""
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
        if len(args.paths) < 2:
            parser.error("give at least one INPUT and an OUTPUT")
        *inputs, output = [Path(p) for p in args.paths]
        if args.ade_folds:
            if len(inputs) != 1:
                parser.error("--ade-folds takes exactly one INPUT and an OUTPUT_DIR")
            if output.suffix:
                parser.error(f"with --ade-folds the output is a directory, got {output}")
            if args.n_folds < 1:
                parser.error(f"--n-folds must be at least 1, got {args.n_folds}")
            if args.format not in (None, "jsonl"):
                parser.error("--ade-folds reads the project's JSONL only")
        else:
            if output.suffix != ".spacy":
                parser.error(f"the last PATH is the output and must end in .spacy, got {output}")
    except SystemExit as exit_:  # argparse exits on bad usage and --help
        return exit_.code if isinstance(exit_.code, int) else 2
    report = Report()
    try:
        with sigterm_as_exit():
            if args.ade_folds:
                fold_stats = convert_ade_folds(inputs[0], output, n_folds=args.n_folds)
                for k, splits in fold_stats.items():
                    for split, stats in splits.items():
                        print(f"{output / f'fold{k}' / f'{split}.spacy'}: {format_stats(stats)}")
            else:
                file_stats = convert_file(inputs, output, format=args.format, report=report)
                for path in inputs:
                    print(f"{path}: {format_stats(file_stats[str(path)])}")
                print(f"{output}: {format_stats(file_stats['total'])}")
    except (OSError, ValueError) as err:  # DataError is a ValueError
        print(str(err), file=sys.stderr)
        return 1
    for line in report.lines():
        print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
