"""`python -m spacy_deeper extract` end to end on the tiny trained pipeline."""
import json
import subprocess
import sys

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
