"""Throughput of `extract` on one machine: the local engine, and the Ray engine with 1 and 2 actors.

    python -m bench.ray_scaling MODEL INPUT [--repeat 3] [--shard-size 100]

INPUT is an extract input (.txt, .jsonl, folder) or a .spacy DocBin, whose texts
are used (`--repeat` times, one a line). Every engine runs on the same documents
in one process with one thread a worker (OMP_NUM_THREADS=1), Ray on one local
instance with 2 CPUs started once, its workers at nice 0 (Ray's default is 15;
this benchmark compares engines, not priorities). Each engine also runs on the
first two documents alone (for Ray in two shards, so that both actors start):
that is its start-up (loading the pipeline; for Ray, also starting the actors),
taken off the wall time in the last column.
"""
import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Callable, List, Optional, Sequence

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("RAY_worker_niceness", "0")


def texts_of(path: Path, repeat: int) -> List[str]:
    """The documents of INPUT as texts, `repeat` times over."""
    if path.suffix == ".spacy":
        import spacy
        from spacy.tokens import DocBin

        texts = [doc.text for doc in DocBin().from_disk(path).get_docs(spacy.blank("en").vocab)]
    else:
        from spacy_deeper.extract import read_input

        texts = [text for text, _ in read_input(path)]
    return [" ".join(text.split()) for text in texts] * repeat


def timed(run: Callable[[], int]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a trained pipeline")
    parser.add_argument("input", type=Path, help="an extract input or a .spacy DocBin")
    parser.add_argument("--repeat", type=int, default=3, help="times the input's texts are repeated (default 3)")
    parser.add_argument("--shard-size", type=int, default=100, help="documents a shard (default 100)")
    parser.add_argument("--batch-size", type=int, default=64, help="nlp.pipe's batch size (default 64)")
    args = parser.parse_args(argv)
    import ray

    from spacy_deeper.distributed import extract_ray
    from spacy_deeper.extract import run

    texts = texts_of(args.input, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "all.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
        (work / "two.txt").write_text("\n".join(texts[:2]) + "\n", encoding="utf-8")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        engines = {
            "local (1 process)": lambda src, out, shard_size: run(args.model, src, out.with_suffix(".jsonl"),
                                                                  batch_size=args.batch_size, quiet=True),
            **{
                f"ray, {n} actor{'s' if n > 1 else ''}": (
                    lambda src, out, shard_size, n=n: extract_ray(args.model, src, out, num_actors=n, shard_size=shard_size,
                                                                  batch_size=args.batch_size, quiet=True)
                )
                for n in (1, 2)
            },
        }
        print(f"| engine ({len(texts)} docs) | wall s | docs/s | start-up s | docs/s after start-up |")
        print("| :-- | --: | --: | --: | --: |")
        for i, (name, engine) in enumerate(engines.items()):
            start_up = timed(lambda: engine(work / "two.txt", work / f"two{i}", 1))
            wall = timed(lambda: engine(work / "all.txt", work / f"all{i}", args.shard_size))
            print(f"| {name} | {wall:.1f} | {len(texts) / wall:.1f} | {start_up:.1f} | {len(texts) / max(wall - start_up, 1e-9):.1f} |",
                  flush=True)
        ray.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
