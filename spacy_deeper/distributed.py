"""`extract --engine ray`: the extractor on Ray Data, on this machine or a cluster.

INPUT is what the local engine reads (a .txt file, a folder of .txt files, a
.jsonl or a .parquet file), cut into shards: shard k is lines (rows of a Parquet
file) `k*S+1` to `(k+1)*S` of a file (blank lines of a .txt are skipped, as by
the local engine), or files `k*S` to
`(k+1)*S - 1` of a folder in name order, S being `shard_size`. OUTPUT is a
folder::

    OUTPUT/job.json             the job: input, model, shard size, shards, documents
    OUTPUT/shard-00000.jsonl    the local engine's JSONL records of shard 0, in input order
    OUTPUT/shard-00001.jsonl    ...

so the shards, in name order, hold exactly the lines the local engine writes.
A Ray Data actor pool (`num_actors` actors, the pipeline loaded once per actor)
turns one shard into its JSONL text; the driver (this process) writes each shard
under a temporary name and renames it when complete. A shard file that exists is
therefore done: a run started again with the same OUTPUT (after a crash, Ctrl-C
or `kill -9`) removes the temporary files and does only the missing shards. A
dead actor is restarted by Ray and its shard retried; a shard answered twice is
written once. The actors read INPUT themselves, so on a cluster it must be at
the same path on every node (a shared file system); OUTPUT is written by the
driver only. See docs/distributed.md.
"""
import fcntl
import json
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Type

import numpy

from .extract import InputError, Part, load_pipeline, Progress, folder_files, read_input
from .files import DataError, LineRange, atomic_write, json_line, line_ranges, parquet_row_ranges
from .formats.jsonl import to_record

JOB_FILE = "job.json"


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise InputError('--engine ray needs Ray Data: python -m pip install "spacy-deeper[ray]"') from None
    return ray


# --- shards ---------------------------------------------------------------------


def plan_shards(input_path: Path, shard_size: int) -> List[Part]:
    """The parts of INPUT, shard by shard: line ranges of a file, lists of files of a folder."""
    if input_path.is_dir():
        files = folder_files(input_path)
        return [files[start : start + shard_size] for start in range(0, len(files), shard_size)]
    read_input(input_path)  # the local engine's checks of the path
    if input_path.suffix == ".parquet":
        return parquet_row_ranges(input_path, shard_size)
    return line_ranges(input_path, shard_size)


def shard_name(index: int, n_shards: int) -> str:
    return f"shard-{index:0{max(5, len(str(n_shards - 1)))}d}.jsonl"


def count_shard(input_path: Path, part: Part, name: str) -> int:
    """The documents of one shard; a bad line raises DataError with the shard's name."""
    if input_path.is_dir():
        return len(part)
    try:
        return sum(1 for _ in read_input(input_path, part))
    except DataError as err:
        raise DataError(err.source, err.line, f"{err.problem} (in {name})") from None


def _part_to_json(part: Part) -> str:
    if isinstance(part, LineRange):
        return json.dumps({"first": part.first, "offset": part.offset, "count": part.count})
    return json.dumps({"files": [path.name for path in part]})


def _part_from_json(input_path: Path, text: str) -> Part:
    spec = json.loads(text)
    return [input_path / name for name in spec["files"]] if "files" in spec else LineRange(**spec)


class ShardExtractor:
    """The Ray Data actor: loads the pipeline once, then turns each shard of a batch
    into its JSONL text (or the message of its input error)."""

    def __init__(self, model: str, input_path: str, batch_size: int, gpu: bool, int8: bool) -> None:
        self.nlp = load_pipeline(model, 0 if gpu else -1, int8)  # Ray shows an actor its GPUs from 0
        self.input_path, self.batch_size = Path(input_path), batch_size

    def __call__(self, batch: Dict[str, numpy.ndarray]) -> Dict[str, numpy.ndarray]:
        texts, errors = [], []
        for shard, part in zip(batch["shard"], batch["part"]):
            try:
                texts.append(self.extract(int(shard), _part_from_json(self.input_path, str(part))))
                errors.append("")
            except DataError as err:
                texts.append("")
                errors.append(str(err))
        return {"shard": batch["shard"], "text": numpy.array(texts, dtype=object), "error": numpy.array(errors, dtype=object)}

    def extract(self, shard: int, part: Part) -> str:
        """The JSONL lines of one shard, exactly as the local engine writes them."""
        docs = self.nlp.pipe(read_input(self.input_path, part), as_tuples=True, batch_size=self.batch_size)
        return "".join(json_line(to_record(doc, context)) for doc, context in docs)


# --- the job --------------------------------------------------------------------


def _model_ref(model: str) -> str:
    """MODEL as the actors get it: a package name or an absolute path (checked here,
    as the local engine's loading would, so that no actor fails to start on it)."""
    import spacy

    if Path(model).exists():
        return str(Path(model).resolve())
    if not spacy.util.is_package(model):
        raise InputError(f"cannot load model {model}: not an installed package or a path")
    return model


@contextmanager
def _locked(output: Path) -> Iterator[None]:
    """One run at a time on OUTPUT (the lock goes with the process, however it ends)."""
    with (output / ".lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"another run is writing {output}") from None
        yield


def _check_output(output: Path, input_path: Path) -> None:
    """OUTPUT must be new, an empty folder or a job's folder (with its job.json)."""
    if output.exists() and not output.is_dir():
        raise InputError(f"OUTPUT {output} is a file (--engine ray writes a folder of shards)")
    if not output.parent.is_dir():
        raise InputError(f"cannot write {output}: folder {output.parent} does not exist")
    if input_path.resolve() in (output.resolve(), *output.resolve().parents):
        raise InputError(f"OUTPUT {output} is the INPUT or inside it")
    if output.is_dir() and not (output / JOB_FILE).exists():
        if any(path.name != ".lock" and path.suffix != ".tmp" for path in output.iterdir()):
            raise InputError(f"OUTPUT {output} is not empty and holds no {JOB_FILE}: give a new or empty folder")


def _prepare_output(output: Path, job: Dict[str, Any]) -> None:
    """Check that OUTPUT holds this job, if any; write job.json; remove the temporary
    files a killed run left."""
    job_file = output / JOB_FILE
    if job_file.exists():
        old = json.loads(job_file.read_text(encoding="utf-8"))
        if old != job:
            changed = ", ".join(f"{key} {old.get(key)!r} -> {value!r}" for key, value in job.items() if old.get(key) != value)
            raise InputError(f"OUTPUT {output} holds another job ({changed}): give a new OUTPUT folder")
    for tmp in output.glob(".*.tmp"):
        tmp.unlink()
    if not job_file.exists():
        with atomic_write(job_file) as file_:
            json.dump(job, file_, indent=1)


@contextmanager
def _connected(ray: Any, address: Optional[str], num_cpus: int) -> Iterator[None]:
    """Ray for the block: the Ray of this process, the cluster at `address`, or a new
    local instance with `num_cpus` CPUs (shut down at the end)."""
    if ray.is_initialized():
        yield
        return
    options: Dict[str, Any] = {"address": address} if address else {"num_cpus": num_cpus, "include_dashboard": False}
    ray.init(**options, log_to_driver=False, logging_level=logging.WARNING)
    try:
        yield
    finally:
        ray.shutdown()


def _dataset(ray: Any, job: Dict[str, Any], shards: Dict[int, Part], extractor: Type[ShardExtractor], *,
             num_actors: int, batch_size: int, num_gpus_per_actor: float, int8: bool) -> Any:
    """The Ray Dataset of one row a shard, `{"shard", "text", "error"}`, made by `num_actors` extractors."""
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # its full log: the Ray session's ray-data.log
    ray.data.DataContext.get_current().enable_progress_bars = False  # the extractor's own bar instead
    rows = [{"shard": index, "part": _part_to_json(part)} for index, part in shards.items()]
    return ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
        extractor,
        fn_constructor_kwargs={"model": job["model"], "input_path": job["input"], "batch_size": batch_size,
                               "gpu": num_gpus_per_actor > 0, "int8": int8},
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=min(num_actors, len(rows))),  # no idle actors
        num_gpus=num_gpus_per_actor or None,
    )


def _write_shards(dataset: Any, output: Path, names: List[str], counts: Dict[int, int], quiet: bool) -> None:
    """Write each shard as its row comes back (once, should a retried shard come twice)."""
    progress = Progress(sum(counts.values()), enabled=not quiet)
    done = set()
    try:
        for row in dataset.iter_rows():
            index = int(row["shard"])
            if row["error"]:
                raise InputError(f"{row['error']} (in {names[index]})")
            if index not in done:
                _write_shard(output / names[index], row["text"], counts[index])
                done.add(index)
                progress.update(counts[index])
    finally:
        progress.close()
    missing = sorted(set(counts) - done)
    if missing:
        raise RuntimeError(f"Ray returned no result for {len(missing)} shards, {names[missing[0]]} first")


def _write_shard(path: Path, text: str, expected: int) -> None:
    records = text.count("\n")  # json_line escapes the line breaks in a record
    if records != expected:
        raise RuntimeError(f"{path.name}: {records} records for {expected} documents")
    with atomic_write(path) as file_:
        file_.write(text)


def extract_ray(
    model: str,
    input_path: Path,
    output: Path,
    *,
    address: Optional[str] = None,
    num_actors: int = 2,
    shard_size: int = 1000,
    batch_size: int = 64,
    num_gpus_per_actor: float = 0.0,
    int8: bool = False,
    quiet: bool = False,
    extractor: Type[ShardExtractor] = ShardExtractor,
) -> int:
    """Process INPUT with MODEL into the folder OUTPUT of JSONL shards on Ray Data;
    returns the number of documents done by this call (0 when OUTPUT was complete).

    `address`: a running cluster ("HOST:6379", or "auto" on one of its nodes); None joins the
    Ray already initialized in this process, or starts a local instance with one CPU
    an actor. `num_actors` actors each load MODEL once, with `num_gpus_per_actor`
    GPUs; `batch_size` is nlp.pipe's. `extractor`: the actor class, ShardExtractor
    or a subclass (the tests inject a fault this way)."""
    input_path, output = Path(input_path), Path(output)
    ray = _import_ray()
    _check_output(output, input_path)
    parts = plan_shards(input_path, shard_size)
    names = [shard_name(index, len(parts)) for index in range(len(parts))]
    counts = [count_shard(input_path, part, name) for part, name in zip(parts, names)]
    if sum(counts) == 0:
        raise InputError(f"{input_path}: no documents (the file is empty or has only blank lines)")
    model_ref = _model_ref(model)
    job = {"input": str(input_path.resolve()), "model": model_ref, "shard_size": shard_size,
           "shards": len(parts), "documents": sum(counts)}
    output.mkdir(exist_ok=True)
    with _locked(output):
        _prepare_output(output, job)
        pending = [index for index, name in enumerate(names) if not (output / name).exists()]
        if pending:
            with _connected(ray, address, num_cpus=num_actors):
                dataset = _dataset(ray, job, {index: parts[index] for index in pending}, extractor, num_actors=num_actors,
                                   batch_size=batch_size, num_gpus_per_actor=num_gpus_per_actor, int8=int8)
                _write_shards(dataset, output, names, {index: counts[index] for index in pending}, quiet)
    return sum(counts[index] for index in pending)
