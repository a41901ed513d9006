"""`python -m spacy_deeper extract` end to end on the tiny trained pipeline."""
import json
import signal
import subprocess
import sys
import time

import pytest


def extract(*args):
    return subprocess.run([sys.executable, "-m", "spacy_deeper", "extract", *map(str, args), "--quiet"],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def texts(gold):
    return [doc.text for doc in gold[:4]]


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf8").splitlines()]


def test_txt_input_with_html(trained_path, trained_nlp, texts, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text(texts[0] + "\n\n" + "\n".join(texts[1:]) + "\n", encoding="utf8")
    out, page = tmp_path / "out.jsonl", tmp_path / "out.html"
    result = extract(trained_path, src, out, "--html", page)
    assert result.returncode == 0, result.stderr
    rows = read_jsonl(out)
    assert [row["id"] for row in rows] == [1, 3, 4, 5]  # line numbers, the blank line skipped
    doc = trained_nlp(texts[0])
    assert rows[0]["entities"] == [{"start": e.start_char, "end": e.end_char, "label": e.label_, "text": e.text} for e in doc.ents]
    assert [(r["head"]["start"], r["tail"]["start"], r["label"]) for r in rows[0]["relations"]] == [
        (r.head.start_char, r.tail.start_char, r.label) for r in doc._.relations
    ]
    assert page.read_text(encoding="utf8").count('class="deeper-ent"') == sum(len(r["entities"]) for r in rows)


def test_folder_and_jsonl_inputs(trained_path, texts, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for i, text in enumerate(texts[:2]):
        (folder / f"d{i}.txt").write_text(text, encoding="utf8")
    assert extract(trained_path, folder, tmp_path / "f.jsonl").returncode == 0
    assert [row["id"] for row in read_jsonl(tmp_path / "f.jsonl")] == ["d0.txt", "d1.txt"]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({"id": f"x{i}", "text": t, "source": "wire"}) for i, t in enumerate(texts)), encoding="utf8")
    assert extract(trained_path, src, tmp_path / "j.jsonl").returncode == 0
    rows = read_jsonl(tmp_path / "j.jsonl")
    assert [row["id"] for row in rows] == ["x0", "x1", "x2", "x3"] and rows[0]["meta"] == {"source": "wire"}


def test_errors(trained_path, texts, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text(texts[0], encoding="utf8")
    result = extract(tmp_path / "no-model", src, tmp_path / "o.jsonl")
    assert result.returncode == 1 and "cannot load model" in result.stderr and "Traceback" not in result.stderr
    result = extract(trained_path, tmp_path / "missing.txt", tmp_path / "o.jsonl")
    assert result.returncode == 1 and "missing.txt" in result.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "fine"}) + "\n" + "{oops\n", encoding="utf8")
    out = tmp_path / "bad_out.jsonl"
    result = extract(trained_path, bad, out)
    assert result.returncode == 1 and f"{bad}:2:" in result.stderr and not out.exists()
    assert extract(trained_path).returncode == 2  # usage


@pytest.mark.slow
def test_two_processes_give_the_same_output(trained_path, texts, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("\n".join(texts * 3), encoding="utf8")
    assert extract(trained_path, src, tmp_path / "one.jsonl").returncode == 0
    assert extract(trained_path, src, tmp_path / "two.jsonl", "--n-process", "2", "--batch-size", "2").returncode == 0
    assert (tmp_path / "one.jsonl").read_text() == (tmp_path / "two.jsonl").read_text()


# ---------------------------------------------------------------- output formats, paths, signals


def test_prodigy_and_brat_outputs_convert_back(trained_path, trained_nlp, texts, tmp_path):
    """Predictions written for correction in Prodigy or BRAT convert back to the same annotations."""
    from spacy.tokens import DocBin

    from spacy_deeper.convert import convert_file

    src = tmp_path / "in.txt"
    src.write_text("\n".join(texts) + "\n", encoding="utf8")
    expected = [
        ([(e.start_char, e.end_char, e.label_) for e in doc.ents],
         [(r.head.start_char, r.tail.start_char, r.label) for r in doc._.relations])
        for doc in trained_nlp.pipe(texts)
    ]
    assert any(rels for _, rels in expected)
    tasks, folder = tmp_path / "tasks.jsonl", tmp_path / "brat"
    assert extract(trained_path, src, tasks, "--format", "prodigy").returncode == 0
    assert extract(trained_path, src, folder, "--format", "brat").returncode == 0
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{i}.{s}" for i in range(1, 5) for s in ("ann", "txt"))
    accepted = tmp_path / "accepted.jsonl"  # what Prodigy exports once every task is accepted
    accepted.write_text("".join(json.dumps({**row, "answer": "accept"}) + "\n" for row in read_jsonl(tasks)), encoding="utf8")
    for data in (accepted, folder):
        convert_file(data, tmp_path / "back.spacy")
        docs = list(DocBin().from_disk(tmp_path / "back.spacy").get_docs(trained_nlp.vocab))
        docs.sort(key=lambda doc: texts.index(doc.text))  # the BRAT files are read in name order
        got = [([(e.start_char, e.end_char, e.label_) for e in doc.ents],
                [(r.head.start_char, r.tail.start_char, r.label) for r in doc._.relations]) for doc in docs]
        assert got == expected, data


def test_output_that_is_the_input_is_refused(tmp_path, capsys):
    from spacy_deeper.extract import main

    src = tmp_path / "in.txt"
    src.write_text("Tim Cook leads Apple.\n", encoding="utf8")
    assert main(["no-model", str(src), str(tmp_path / "." / "in.txt")]) == 1
    assert main(["no-model", str(src), str(tmp_path / "out.jsonl"), "--html", str(src)]) == 1
    err = capsys.readouterr().err
    assert f"OUTPUT {tmp_path / '.' / 'in.txt'} is the INPUT" in err and f"--html {src} is the INPUT" in err
    assert src.read_text(encoding="utf8") == "Tim Cook leads Apple.\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]


def test_empty_input_and_bad_bytes_are_errors(tmp_path, capsys):
    from spacy_deeper.extract import main

    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n", encoding="utf8")
    assert main(["no-model", str(blank), str(tmp_path / "out.jsonl")]) == 1
    assert f"{blank}: no documents" in capsys.readouterr().err
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"text": "fine"}\n' + '{"text": "caf\xe9"}\n'.encode("latin-1"))
    assert main(["no-model", str(latin), str(tmp_path / "out.jsonl")]) == 1
    assert f"{latin}:2: not UTF-8 text" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blank.txt", "latin.jsonl"]


def test_sigterm_removes_the_temporary_files(trained_path, texts, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("\n".join(texts * 2000) + "\n", encoding="utf8")
    out, page = tmp_path / "out.jsonl", tmp_path / "out.html"
    args = [sys.executable, "-m", "spacy_deeper", "extract", str(trained_path), str(src), str(out), "--html", str(page), "--quiet"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while len(list(tmp_path.glob(".*.tmp"))) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(list(tmp_path.glob(".*.tmp"))) == 2, proc.poll()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]


# ---------------------------------------------------------------- Parquet input


def write_parquet(path, columns, row_group_size=3):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), path, row_group_size=row_group_size)
    return path


def test_parquet_row_ranges_read_what_slicing_reads(tmp_path):
    """Every range of rows, across row groups of 3 and record batches of 2, holds the rows
    that slicing the whole column gives (the oracle), numbered from 1."""
    from spacy_deeper.files import LineRange, iter_parquet, parquet_row_ranges

    path = write_parquet(tmp_path / "rows.parquet", {"text": [f"t{i}" for i in range(10)]})
    for first in range(1, 12):
        for count in (1, 2, 4, 7, None):
            got = [(n, row["text"]) for n, row in iter_parquet(path, LineRange(first, 0, count), batch_size=2)]
            stop = None if count is None else first - 1 + count
            assert got == [(n, f"t{n - 1}") for n in range(1, 11)][first - 1 : stop]
    ranges = parquet_row_ranges(path, 4)
    assert [(r.first, r.count) for r in ranges] == [(1, 4), (5, 4), (9, 4)]


def test_parquet_input_gives_the_records_of_the_same_jsonl(trained_path, texts, tmp_path):
    """The second implementation is the JSONL reader: the same documents, ids and meta
    as a .jsonl file make; dates come out as ISO strings, a missing id as the row number."""
    import datetime

    ids, days = [f"x{i}" for i in range(len(texts))], [datetime.date(2020, 1, i + 1) for i in range(len(texts))]
    src = write_parquet(tmp_path / "in.parquet", {"id": ids, "text": texts, "day": days})
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("".join(json.dumps({"id": i, "text": t, "day": d.isoformat()}) + "\n" for i, t, d in zip(ids, texts, days)),
                     encoding="utf8")
    assert extract(trained_path, src, tmp_path / "p.jsonl").returncode == 0
    assert extract(trained_path, jsonl, tmp_path / "j.jsonl").returncode == 0
    assert (tmp_path / "p.jsonl").read_text(encoding="utf8") == (tmp_path / "j.jsonl").read_text(encoding="utf8")
    assert read_jsonl(tmp_path / "p.jsonl")[1]["meta"] == {"day": "2020-01-02"}
    src = write_parquet(tmp_path / "no_ids.parquet", {"text": texts})
    assert extract(trained_path, src, tmp_path / "n.jsonl").returncode == 0
    assert [row["id"] for row in read_jsonl(tmp_path / "n.jsonl")] == [1, 2, 3, 4]


def test_bad_parquet_input_names_the_file_and_row(tmp_path, capsys):
    from spacy_deeper.extract import main

    cases = [
        (write_parquet(tmp_path / "null.parquet", {"text": ["Fine.", "Fine.", "Fine.", None]}), "row 4: 'text' is null"),
        (write_parquet(tmp_path / "int.parquet", {"text": [1, 2]}), "row 1: 'text' must be a string, got int"),
        (write_parquet(tmp_path / "none.parquet", {"body": ["Fine."]}), "no 'text' column (columns: body)"),
        (write_parquet(tmp_path / "bytes.parquet", {"text": ["Fine."], "raw": [b"\x00"]}), "row 1: column 'raw' holds bytes"),
    ]
    broken = tmp_path / "broken.parquet"
    broken.write_text("not parquet", encoding="utf8")
    cases.append((broken, "not a readable Parquet file"))
    for src, message in cases:
        out = tmp_path / "out.jsonl"
        assert main(["no-model-needed", str(src), str(out), "--quiet"]) == 1
        assert f"{src}: {message}" in capsys.readouterr().err and not out.exists()
