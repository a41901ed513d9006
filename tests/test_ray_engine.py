"""`extract --engine ray` on a local Ray cluster (2 CPUs, 2 actors) with the tiny trained pipeline:
the same records as the local engine, resuming a killed run, surviving a killed actor, input errors."""
import json
import logging
import os
import signal
import subprocess
import sys
import time

import pytest

ray = pytest.importorskip("ray", reason="the Ray engine needs Ray: pip install 'spacy-deeper[ray]'")
pytest.importorskip("ray.data", reason="the Ray engine needs Ray Data: pip install 'spacy-deeper[ray]'")

from spacy_deeper.distributed import ShardExtractor, extract_ray  # noqa: E402
from spacy_deeper.extract import InputError, main  # noqa: E402
from spacy_deeper.extract import run as run_local  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    """A local Ray instance for the module; its GCS address, for a second driver."""
    # Ray starts workers at nice 15; on a machine busy with other work they would hardly run.
    previous = os.environ.get("RAY_worker_niceness")
    os.environ["RAY_worker_niceness"] = "0"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        if previous is None:
            del os.environ["RAY_worker_niceness"]
        else:
            os.environ["RAY_worker_niceness"] = previous


@pytest.fixture(scope="module")
def texts(gold):
    return [doc.text for doc in gold]


def local_lines(model, src, tmp_path):
    out = tmp_path / "local.jsonl"
    run_local(str(model), src, out, quiet=True)
    return out.read_text(encoding="utf8").splitlines()


def shard_lines(output):
    assert not list(output.glob(".*.tmp"))
    return [line for path in sorted(output.glob("shard-*.jsonl")) for line in path.read_text(encoding="utf8").splitlines()]


def test_folder_input_gives_the_local_records(cluster, trained_path, texts, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for i, text in enumerate(texts):
        (folder / f"d{i:02d}.txt").write_text(text, encoding="utf8")
    out = tmp_path / "out"
    assert extract_ray(str(trained_path), folder, out, num_actors=2, shard_size=3, quiet=True) == 10
    assert sorted(p.name for p in out.glob("shard-*")) == [f"shard-{k:05d}.jsonl" for k in range(4)]
    assert shard_lines(out) == local_lines(trained_path, folder, tmp_path)
    assert json.loads((out / "shard-00001.jsonl").read_text().splitlines()[0])["id"] == "d03.txt"
    # Complete: a rerun does nothing; other settings on the same OUTPUT are refused.
    assert extract_ray(str(trained_path), folder, out, shard_size=3, quiet=True) == 0
    with pytest.raises(InputError, match="shard_size 3 -> 4"):
        extract_ray(str(trained_path), folder, out, shard_size=4, quiet=True)


def test_parquet_input_gives_the_local_records(cluster, trained_path, texts, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": texts, "n": list(range(len(texts)))}), src, row_group_size=4)
    out = tmp_path / "out"
    assert extract_ray(str(trained_path), src, out, num_actors=2, shard_size=3, quiet=True) == 10
    assert sorted(path.name for path in out.glob("shard-*.jsonl")) == [f"shard-0000{i}.jsonl" for i in range(4)]
    assert shard_lines(out) == local_lines(trained_path, src, tmp_path)


def test_a_killed_run_resumes(cluster, trained_path, texts, tmp_path):
    """Kill the driver (kill -9) once some shards are written, then run again: every
    document exactly once, as the local engine writes it; finished shards are not redone."""
    src = tmp_path / "in.txt"
    lines = [text if i % 7 else "" for i, text in enumerate(texts * 40)]  # blank lines are skipped
    src.write_text("\n".join(lines) + "\n", encoding="utf8")
    out = tmp_path / "out"
    args = [sys.executable, "-m", "spacy_deeper", "extract", str(trained_path), str(src), str(out), "--engine", "ray",
            "--address", cluster, "--num-actors", "2", "--shard-size", "10", "--quiet"]
    with (tmp_path / "log").open("w") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=log)
        deadline = time.monotonic() + 120
        while not list(out.glob("shard-*.jsonl")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    done = {path.name: path.stat().st_mtime_ns for path in out.glob("shard-*.jsonl")}
    assert 0 < len(done) < 40, (tmp_path / "log").read_text()
    (out / ".shard-00039.jsonl.abc123.tmp").write_text('{"id": 1, "text": "half a rec', encoding="utf8")
    n = extract_ray(str(trained_path), src, out, num_actors=2, shard_size=10, quiet=True)
    assert {name: (out / name).stat().st_mtime_ns for name in done} == done
    expected = local_lines(trained_path, src, tmp_path)
    assert shard_lines(out) == expected and n == len(expected) - sum(len((out / name).read_text().splitlines()) for name in done)
    ids = [json.loads(line)["id"] for line in shard_lines(out)]
    assert ids == [i + 1 for i, line in enumerate(lines) if line]  # each document once, in input order


class CrashOnce(ShardExtractor):
    """Exits its actor process on shard 2 the first time (a marker file says it did)."""

    marker = ""

    def extract(self, shard, part):
        if shard == 2 and not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os._exit(1)
        return super().extract(shard, part)


def test_a_killed_actor_loses_nothing(cluster, trained_path, texts, tmp_path):
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the actors cannot import this module
    CrashOnce.marker = str(tmp_path / "crashed")
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"x{i}", "text": t, "source": "wire"}) + "\n" for i, t in enumerate(texts * 2)),
                   encoding="utf8")
    out = tmp_path / "out"
    assert extract_ray(str(trained_path), src, out, num_actors=2, shard_size=4, quiet=True, extractor=CrashOnce) == 20
    assert os.path.exists(CrashOnce.marker)
    rows = shard_lines(out)
    assert rows == local_lines(trained_path, src, tmp_path)
    assert [json.loads(row)["id"] for row in rows] == [f"x{i}" for i in range(20)]


def test_a_bad_line_is_reported_with_its_file_line_and_shard(trained_path, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(json.dumps({"text": f"Text {i}."}) + "\n" for i in range(6)) + "{oops\n", encoding="utf8")
    out = tmp_path / "out"
    assert main([str(trained_path), str(bad), str(tmp_path / "local.jsonl"), "--quiet"]) == 1
    local_error = capsys.readouterr().err.strip()
    assert f"{bad}:7: invalid JSON" in local_error
    assert main([str(trained_path), str(bad), str(out), "--engine", "ray", "--shard-size", "5", "--quiet"]) == 1
    assert capsys.readouterr().err.strip() == f"{local_error} (in shard-00001.jsonl)"
    assert not out.exists()
    bad.write_text(json.dumps({"text": "Fine."}) + "\n", encoding="utf8")
    assert main([str(tmp_path / "no-model"), str(bad), str(out), "--engine", "ray", "--quiet"]) == 1
    assert "cannot load model" in capsys.readouterr().err and not out.exists()


def test_without_ray_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(InputError, match=r"pip install \"spacy-deeper\[ray\]\""):
        extract_ray("model", tmp_path / "in.txt", tmp_path / "out")


def test_options_of_the_other_engine_are_usage_errors(tmp_path, capsys):
    for args in (["--num-actors", "2"], ["--engine", "ray", "--format", "brat"], ["--engine", "ray", "--html", "x.html"]):
        with pytest.raises(SystemExit) as exit_:
            main(["model", "in.txt", str(tmp_path / "out"), *args])
        assert exit_.value.code == 2
    assert "--num-actors: only with --engine ray" in capsys.readouterr().err
