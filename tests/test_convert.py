"""Tests of `spacy_deeper.convert`: JSONL -> DocBin, error messages, ADE folds."""
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from spacy_deeper.convert import ade_split, convert_ade_folds, convert_file, main
from spacy_deeper.corpus import DataError
from spacy_deeper.relations import register_extensions

REPO = Path(__file__).resolve().parent.parent
ADE_JSONL = REPO / "assets" / "ade" / "ade.jsonl"

GOOD = [
    {
        "tokens": ["PERUGIA", ",", "Italy", "(", "AP", ")"],
        "entities": [[0, 1, "Loc"], [2, 3, "Loc"], [4, 5, "Org"]],
        "relations": [[0, 1, 2, 3, "Located_In"], [4, 5, 0, 1, "OrgBased_In"]],
    },
    {
        "tokens": ["John", "Smith", "works", "for", "Acme", "Corp", "."],
        "entities": [[4, 6, "Org"], [0, 2, "Peop"]],
        "relations": [[0, 2, 4, 6, "Work_For"]],
    },
    {"tokens": ["Nothing", "here", "."], "entities": [], "relations": []},
]


def write_jsonl(path: Path, lines: List[Any]) -> Path:
    """Write records (dicts, dumped as JSON) or raw strings, one a line."""
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
        encoding="utf8",
    )
    return path


def load_docs(path: Path) -> list:
    register_extensions()
    return list(DocBin().from_disk(path).get_docs(Vocab()))


def as_record(doc) -> Dict[str, Any]:
    """A doc back in the JSONL shape (entities sorted, relation scores dropped)."""
    return {
        "tokens": [t.text for t in doc],
        "entities": [[e.start, e.end, e.label_] for e in doc.ents],
        "relations": [list(row[:5]) for row in doc._.relations_data or []],
    }


def test_convert_round_trip(tmp_path):
    src = write_jsonl(tmp_path / "good.jsonl", GOOD)
    out = tmp_path / "out" / "good.spacy"
    stats = convert_file(src, out)
    assert stats["total"] == {"docs": 3, "entities": 5, "relations": 3}
    assert stats[str(src)] == stats["total"]
    docs = load_docs(out)
    assert [as_record(doc) for doc in docs] == [
        {**rec, "entities": sorted(rec["entities"])} for rec in GOOD
    ]
    # The rows keep their score and give Relation objects over the entities.
    assert [list(row) for row in docs[0]._.relations_data] == [
        [0, 1, 2, 3, "Located_In", 1.0],
        [4, 5, 0, 1, "OrgBased_In", 1.0],
    ]
    rel = docs[1]._.relations[0]
    assert (rel.head.text, rel.label, rel.tail.text) == ("John Smith", "Work_For", "Acme Corp")
    assert rel.head.label_ == "Peop" and rel.tail.label_ == "Org"


def test_convert_several_inputs_concatenates_in_order(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", GOOD[:2])
    b = write_jsonl(tmp_path / "b.jsonl", GOOD[2:])
    out = tmp_path / "ab.spacy"
    stats = convert_file([a, b], out)
    assert stats[str(a)] == {"docs": 2, "entities": 5, "relations": 3}
    assert stats[str(b)] == {"docs": 1, "entities": 0, "relations": 0}
    assert stats["total"] == {"docs": 3, "entities": 5, "relations": 3}
    assert [d.text for d in load_docs(out)] == [" ".join(rec["tokens"]) for rec in GOOD]


def test_convert_rejects_the_same_input_twice(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", GOOD)
    with pytest.raises(ValueError, match="more than once"):
        convert_file([a, a], tmp_path / "aa.spacy")


def _with(**changes: Any) -> Dict[str, Any]:
    return {**GOOD[1], **changes}


BAD_CASES = {
    "invalid JSON": ('{"tokens": ["a"], "entities": [', r"invalid JSON \("),
    "not an object": ("[1, 2]", r"must be a JSON object, got list"),
    "missing field": (
        {"tokens": ["a"], "entities": []},
        r"missing field 'relations'",
    ),
    "field not a list": (_with(entities={"a": 1}), r"field 'entities' must be a list"),
    "empty tokens": ({"tokens": [], "entities": [], "relations": []}, r"'tokens' is empty"),
    "blank token": (_with(tokens=["John", " ", "works", "for", "Acme", "Corp", "."]), r"token 1 must be"),
    "offset out of range": (
        _with(entities=[[4, 9, "Org"], [0, 2, "Peop"]], relations=[]),
        r"entity 0 has span \[4, 9\) outside the sentence's 7 tokens",
    ),
    "negative offset": (
        _with(entities=[[-1, 2, "Peop"]], relations=[]),
        r"entity 0 has span \[-1, 2\)",
    ),
    "start == end": (
        _with(entities=[[0, 2, "Peop"], [4, 4, "Org"]], relations=[]),
        r"entity 1 has an empty or reversed span \[4, 4\)",
    ),
    "start > end": (
        _with(entities=[[2, 0, "Peop"]], relations=[]),
        r"entity 0 has an empty or reversed span \[2, 0\)",
    ),
    "non-int offset": (
        _with(entities=[[0, 2.0, "Peop"]], relations=[]),
        r"entity 0 has offsets that are not integers",
    ),
    "string offset": (
        _with(entities=[["0", 2, "Peop"]], relations=[]),
        r"entity 0 has offsets that are not integers",
    ),
    "entity without label": (
        _with(entities=[[0, 2, ""]], relations=[]),
        r"entity 0 has no label",
    ),
    "entity wrong length": (
        _with(entities=[[0, 2]], relations=[]),
        r"entity 0 must be a list of 2 offsets and a label",
    ),
    "overlapping entities": (
        _with(entities=[[0, 2, "Peop"], [1, 3, "Org"]], relations=[]),
        r"entities \[0, 2, 'Peop'\] and \[1, 3, 'Org'\] overlap",
    ),
    "relation argument not an entity": (
        _with(relations=[[0, 2, 4, 5, "Work_For"]]),
        r"relation 0: its tail \[4, 5\) is not an entity",
    ),
    "relation offsets out of range": (
        _with(relations=[[0, 2, 4, 8, "Work_For"]]),
        r"relation 0 has span \[4, 8\) outside",
    ),
    "relation without label": (
        _with(relations=[[0, 2, 4, 6]]),
        r"relation 0 must be a list of 4 offsets and a label",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_malformed_line_names_file_line_and_problem(tmp_path, case):
    bad, expected = BAD_CASES[case]
    # Line 1 good, line 2 blank (skipped but counted), line 3 bad.
    src = write_jsonl(tmp_path / "bad.jsonl", [GOOD[0], "", bad, GOOD[1]])
    out = tmp_path / "bad.spacy"
    with pytest.raises(DataError, match=expected) as info:
        convert_file(src, out)
    assert (info.value.source, info.value.line) == (str(src), 3)
    assert str(info.value).startswith(f"{src}:3: ")
    assert not out.exists()


def test_malformed_messages_are_distinct(tmp_path):
    """No two kinds of problem share one message."""
    messages = set()
    for case, (bad, _) in BAD_CASES.items():
        src = write_jsonl(tmp_path / "bad.jsonl", [bad])
        with pytest.raises(DataError) as info:
            convert_file(src, tmp_path / "bad.spacy")
        messages.add(info.value.problem)
    assert len(messages) == len(BAD_CASES)


def test_reversed_span_message_says_so(tmp_path):
    src = write_jsonl(tmp_path / "bad.jsonl", [_with(entities=[[2, 0, "Peop"]], relations=[])])
    with pytest.raises(DataError) as info:
        convert_file(src, tmp_path / "bad.spacy")
    assert "outside" not in info.value.problem


def test_error_in_a_later_input_writes_nothing(tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", GOOD)
    bad = write_jsonl(tmp_path / "bad.jsonl", [GOOD[0], BAD_CASES["overlapping entities"][0]])
    out = tmp_path / "out.spacy"
    with pytest.raises(DataError, match=r"bad\.jsonl:2: entities"):
        convert_file([good, bad], out)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "good.jsonl"]


# ---------------------------------------------------------------- ADE folds


def ade_records(n: int = 40) -> List[Dict[str, Any]]:
    """Synthetic ADE-style sentences, each with a unique token `s{i}`."""
    records = []
    for i in range(n):
        fold = i % 10
        dev = sorted({(fold + 1 + i % 3) % 10, (fold + 4) % 10})[: i % 3]
        records.append(
            {
                "tokens": [f"s{i}", "caused", "by", "aspirin"],
                "entities": [[0, 1, "Adverse-Effect"], [3, 4, "Drug"]],
                "relations": [[0, 1, 3, 4, "Adverse-Effect"]],
                "fold": fold,
                "dev_in_folds": dev,
            }
        )
    return records


def test_ade_split_protocol():
    assert ade_split(3, [1, 5], 3) == "test"
    assert ade_split(3, [1, 5], 5) == "dev"
    assert ade_split(3, [1, 5], 0) == "train"
    assert ade_split(3, [], 4) == "train"


def test_ade_folds_are_disjoint_and_cover_the_data(tmp_path):
    records = ade_records()
    src = write_jsonl(tmp_path / "ade.jsonl", records)
    out = tmp_path / "ade"
    stats = convert_ade_folds(src, out)
    everyone = {f"s{i}" for i in range(len(records))}
    seen_in_test: List[str] = []
    for k in range(10):
        ids = {
            split: [doc[0].text for doc in load_docs(out / f"fold{k}" / f"{split}.spacy")]
            for split in ("train", "dev", "test")
        }
        for split, names in ids.items():
            assert stats[k][split]["docs"] == len(names)
            assert stats[k][split]["relations"] == len(names)
        train, dev, test = (set(ids[s]) for s in ("train", "dev", "test"))
        assert not (train & dev) and not (train & test) and not (dev & test)
        assert train | dev | test == everyone
        assert test == {f"s{i}" for i, r in enumerate(records) if r["fold"] == k}
        assert dev == {f"s{i}" for i, r in enumerate(records) if k in r["dev_in_folds"]}
        seen_in_test.extend(ids["test"])
    # Every sentence is in exactly one test fold.
    assert sorted(seen_in_test) == sorted(everyone)
    # Docs keep their relations through the split.
    doc = load_docs(out / "fold0" / "test.spacy")[0]
    assert [r.label for r in doc._.relations] == ["Adverse-Effect"]


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"fold": None}, r"missing field 'fold'"),
        ({"fold": 10}, r"field 'fold' must be an integer in 0\.\.9, got 10"),
        ({"fold": True}, r"field 'fold' must be an integer"),
        ({"dev_in_folds": 3}, r"field 'dev_in_folds' must be a list of integers"),
        ({"dev_in_folds": [1, 1]}, r"lists a fold twice"),
        ({"fold": 2, "dev_in_folds": [2]}, r"in the test set of fold 2 and in its dev set"),
        ({"entities": [[0, 2, "Drug"], [1, 3, "Drug"]], "relations": []}, r"overlap"),
    ],
)
def test_ade_bad_fold_fields(tmp_path, changes, expected):
    records = ade_records(5)
    bad = {**records[3], **changes}
    if changes.get("fold", 0) is None:
        del bad["fold"]
    src = write_jsonl(tmp_path / "ade.jsonl", records[:3] + [bad] + records[4:])
    out = tmp_path / "ade"
    with pytest.raises(DataError, match=expected) as info:
        convert_ade_folds(src, out)
    assert str(info.value).startswith(f"{src}:4: ")
    assert not out.exists()


@pytest.mark.skipif(not ADE_JSONL.exists(), reason="assets/ade/ade.jsonl not present")
def test_real_ade_fold_sizes():
    """Fold membership of the real file (JSON only, no DocBins, for speed)."""
    records = [json.loads(line) for line in ADE_JSONL.open(encoding="utf8") if line.strip()]
    assert len(records) == 4153
    test_sizes = []
    for k in range(10):
        sizes = {"train": 0, "dev": 0, "test": 0}
        for rec in records:
            sizes[ade_split(rec["fold"], rec["dev_in_folds"], k)] += 1
        assert sum(sizes.values()) == 4153
        assert min(sizes.values()) > 0
        test_sizes.append(sizes["test"])
    assert sum(test_sizes) == 4153


# ---------------------------------------------------------------- command line


def test_main_usage_errors(tmp_path, capsys):
    src = write_jsonl(tmp_path / "good.jsonl", GOOD)
    assert main([str(src)]) == 2
    assert main([str(src), str(tmp_path / "out.jsonl")]) == 2  # would overwrite a JSONL
    assert "must end in .spacy" in capsys.readouterr().err
    assert main([str(src), str(src), str(tmp_path / "ade"), "--ade-folds"]) == 2
    assert main([str(src), str(tmp_path / "x.spacy"), "--ade-folds"]) == 2
    assert main([str(tmp_path / "missing.jsonl"), str(tmp_path / "x.spacy")]) == 1
    assert "input not found" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [src]


def test_main_prints_counts(tmp_path, capsys):
    src = write_jsonl(tmp_path / "good.jsonl", GOOD)
    out = tmp_path / "good.spacy"
    assert main([str(src), str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{src}: 3 docs, 5 entities, 3 relations",
        f"{out}: 3 docs, 5 entities, 3 relations",
    ]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "spacy_deeper", "convert", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dispatch_through_package_main(tmp_path, capsys):
    """`python -m spacy_deeper convert ...` without the cost of a subprocess."""
    from spacy_deeper.__main__ import main as package_main

    src = write_jsonl(tmp_path / "good.jsonl", GOOD)
    out = tmp_path / "good.spacy"
    assert package_main(["convert", str(src), str(out)]) == 0
    assert f"{out}: 3 docs, 5 entities, 3 relations" in capsys.readouterr().out
    assert len(load_docs(out)) == 3


def test_cli_bad_data_exits_1_with_file_and_line(tmp_path):
    """The one subprocess test (importing spaCy takes most of its 2-4 s)."""
    src = write_jsonl(tmp_path / "bad.jsonl", [GOOD[0], BAD_CASES["relation argument not an entity"][0]])
    out = tmp_path / "bad.spacy"
    proc = run_cli(str(src), str(out))
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"{src}:2: relation 0: its tail [4, 5) is not an entity: [0, 2, 4, 5, 'Work_For']"
    )
    assert "Traceback" not in proc.stderr
    assert not out.exists()


# ---------------------------------------------------------------- encodings and empty input


def test_utf8_bom_at_the_start_is_accepted(tmp_path):
    """One BOM policy with the extractor: a UTF-8 BOM at the start of a file is dropped."""
    src = tmp_path / "bom.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(r) + "\n" for r in GOOD).encode("utf8"))
    assert convert_file(src, tmp_path / "bom.spacy")["total"]["docs"] == 3


def test_non_utf8_bytes_name_file_and_line(tmp_path, capsys):
    src = tmp_path / "latin1.jsonl"
    src.write_bytes(json.dumps(GOOD[0]).encode() + b"\n" + '{"tokens": ["Caf\xe9"]}\n'.encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1\.jsonl:2: not UTF-8 text \(invalid continuation byte, byte 17 of the line\)"):
        convert_file(src, tmp_path / "out.spacy")
    assert main([str(src), str(tmp_path / "out.spacy")]) == 1
    assert capsys.readouterr().err.startswith(f"{src}:2: not UTF-8 text")


def test_empty_input_is_an_error(tmp_path, capsys):
    good = write_jsonl(tmp_path / "good.jsonl", GOOD)
    blank = write_jsonl(tmp_path / "blank.jsonl", ["", "  "])
    out = tmp_path / "out.spacy"
    assert main([str(good), str(blank), str(out)]) == 1
    assert capsys.readouterr().err == f"{blank}: no documents to convert (the input is empty)\n"
    assert not out.exists()
    with pytest.raises(DataError, match=r"blank\.jsonl: no documents"):
        convert_ade_folds(blank, tmp_path / "ade")
