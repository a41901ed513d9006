"""The converter's input formats (Prodigy, BRAT, SpERT, detection) and the extractor's
output formats, on small hand-written samples; round trips through the writers."""
import json
from pathlib import Path
from typing import Any, Dict, List

import pytest
import spacy
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from spacy_deeper.convert import convert_file, main
from spacy_deeper.files import DataError
from spacy_deeper.formats import WRITERS, Report, detect_format
from spacy_deeper.formats.brat import file_name
from spacy_deeper.relations import register_extensions


def load(path: Path) -> list:
    register_extensions()
    return list(DocBin().from_disk(path).get_docs(Vocab()))


def annotations(doc) -> tuple:
    """Entities and relations by character offsets: comparable across tokenizations."""
    return (
        doc.text,
        [(e.start_char, e.end_char, e.label_) for e in doc.ents],
        [(r.head.start_char, r.head.end_char, r.tail.start_char, r.tail.end_char, r.label) for r in doc._.relations],
    )


def convert(tmp_path: Path, *inputs: Path, format=None) -> tuple:
    report = Report()
    out = tmp_path / "out.spacy"
    stats = convert_file(list(inputs), out, format=format, report=report)
    return load(out), stats, report


def write_lines(path: Path, records: List[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf8")
    return path


# ---------------------------------------------------------------- Prodigy


def prodigy_task(words: List[str], ws: List[bool], spans, relations, answer="accept") -> Dict[str, Any]:
    """A rel.manual task: spans as (token_start, inclusive token_end, label), relations
    as (head token_end, child token_end, label)."""
    tokens, pos = [], 0
    for i, (word, space) in enumerate(zip(words, ws)):
        tokens.append({"text": word, "start": pos, "end": pos + len(word), "id": i, "ws": space})
        pos += len(word) + space

    def span(first, last, label):
        return {"start": tokens[first]["start"], "end": tokens[last]["end"], "token_start": first,
                "token_end": last, "label": label}

    spans_json = [span(*s) for s in spans]
    by_end = {s["token_end"]: s for s in spans_json}
    return {
        "text": "".join(w + " " * s for w, s in zip(words, ws)),
        "tokens": tokens,
        "spans": spans_json,
        "relations": [
            {"head": h, "child": c, "head_span": by_end.get(h), "child_span": by_end.get(c), "label": label}
            for h, c, label in relations
        ],
        "answer": answer,
    }


COOK = (["Tim", "Cook", "leads", "Apple", "."], [True, True, True, False, False])
ACCEPTED = prodigy_task(*COOK, spans=[(0, 1, "Peop"), (3, 3, "Org")], relations=[(1, 3, "Work_For")])


def test_prodigy_accepted_tasks_only_and_skips_reported(tmp_path, capsys):
    src = write_lines(tmp_path / "rel.jsonl", [
        ACCEPTED,
        {**ACCEPTED, "answer": "reject"},
        {**ACCEPTED, "answer": "ignore"},
        # a relation from a plain token ("leads", 2) is skipped, the span relation kept
        prodigy_task(*COOK, spans=[(0, 1, "Peop"), (3, 3, "Org")], relations=[(2, 3, "Work_For"), (3, 1, "Rev")]),
    ])
    docs, stats, report = convert(tmp_path, src)
    assert stats[str(src)] == {"docs": 2, "entities": 4, "relations": 2}
    assert annotations(docs[0]) == ("Tim Cook leads Apple.", [(0, 8, "Peop"), (15, 20, "Org")], [(0, 8, 15, 20, "Work_For")])
    assert annotations(docs[1])[2] == [(15, 20, 0, 8, "Rev")]
    assert report.counts() == {"tasks answered 'reject'": 1, "tasks answered 'ignore'": 1,
                               "relations that are not between spans": 1}
    assert main([str(src), str(tmp_path / "cli.spacy")]) == 0
    err = capsys.readouterr().err
    assert f"{src}:2: answer 'reject'" in err and f"{src}:3: answer 'ignore'" in err
    assert f"{src}:4: relation 0 'Work_For': its head (token 2) is not the last token of a span" in err


def test_prodigy_whitespace_tokens_kept_but_no_entity_on_them(tmp_path):
    words, ws = ["Tim", "Cook", "\n", "works", "."], [True, False, False, False, False]
    good = prodigy_task(words, ws, spans=[(0, 1, "Peop")], relations=[])
    docs, _, _ = convert(tmp_path, write_lines(tmp_path / "good.jsonl", [good]))
    assert docs[0].text == "Tim Cook\nworks." and annotations(docs[0])[1] == [(0, 8, "Peop")]
    bad = prodigy_task(words, ws, spans=[(0, 2, "Peop")], relations=[])
    src = write_lines(tmp_path / "bad.jsonl", [good, bad])
    with pytest.raises(DataError, match=r"ends on the whitespace token '\\n'") as info:
        convert(tmp_path, src)
    assert str(info.value).startswith(f"{src}:2: entity [0, 3, 'Peop'] 'Tim Cook\\n'")


PRODIGY_BAD = {
    "no answer": ({k: v for k, v in ACCEPTED.items() if k != "answer"}, r"no 'answer' field"),
    "bad answer": ({**ACCEPTED, "answer": "yes"}, r"'answer' must be one of"),
    "token without ws": ({**ACCEPTED, "tokens": [{"text": "Tim"}]}, r"token 0 must have 'ws'"),
    "text differs": ({**ACCEPTED, "text": "Tim Cook leads Apple!"}, r"not the task's 'text'"),
    "token_end out of range": (
        {**ACCEPTED, "spans": [{**ACCEPTED["spans"][1], "token_end": 5}]},
        r"span 0: tokens 3\.\.5 \(token_end is inclusive\) are not within the task's 5 tokens",
    ),
    "char offsets differ": (
        {**ACCEPTED, "spans": [{**ACCEPTED["spans"][1], "end": 19}]},
        r"span 0: characters \[15, 19\) are not those of its tokens 3\.\.3, \[15, 20\)",
    ),
    "span without label": ({**ACCEPTED, "spans": [{"token_start": 0, "token_end": 1}]}, r"span 0 must be an object"),
    "relation without child": ({**ACCEPTED, "relations": [{"head": 1, "label": "X"}]}, r"relation 0 must be an object"),
    "overlapping spans": (
        prodigy_task(*COOK, spans=[(0, 1, "Peop"), (1, 3, "Org")], relations=[]),
        r"entities \[0, 2, 'Peop'\] and \[1, 4, 'Org'\] overlap \('Tim Cook' and 'Cook leads Apple'\)",
    ),
}


@pytest.mark.parametrize("case", list(PRODIGY_BAD))
def test_prodigy_errors_name_file_and_line(tmp_path, case):
    bad, expected = PRODIGY_BAD[case]
    src = write_lines(tmp_path / "rel.jsonl", [ACCEPTED, "", bad])
    with pytest.raises(DataError, match=expected) as info:
        convert(tmp_path, src, format="prodigy")
    assert str(info.value).startswith(f"{src}:3: ")
    assert not (tmp_path / "out.spacy").exists()


def test_prodigy_all_rejected_is_an_error(tmp_path):
    src = write_lines(tmp_path / "rel.jsonl", [{**ACCEPTED, "answer": "reject"}] * 2)
    with pytest.raises(DataError, match=r"rel\.jsonl: no documents to convert \(skipped: 2 tasks answered 'reject'\)"):
        convert(tmp_path, src)


# ---------------------------------------------------------------- BRAT

BRAT_TEXT = "Tim Cook leads Apple.\nHe lives in Palo Alto, California.\n"
BRAT_ANN = """T1\tPeop 0 8\tTim Cook
T2\tOrg 15 20\tApple
T3\tLoc 34 43\tPalo Alto
T4\tLoc 45 55\tCalifornia
T5\tLoc 34 38;39 43\tPalo Alto
R1\tWork_For Arg1:T1 Arg2:T2
R2\tLocated_In Arg1:T3 Arg2:T4
R3\tLocated_In Arg1:T5 Arg2:T4
E1\tMove:T1 Dest:T3
A1\tNegated E1
N1\tReference T2 Wikidata:Q312\tApple
#1\tAnnotatorNotes T1\tCEO
"""


def brat_pair(folder: Path, name: str, text: str, ann: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.txt").write_text(text, encoding="utf8", newline="")
    (folder / f"{name}.ann").write_text(ann, encoding="utf8")
    return folder / f"{name}.ann"


def test_brat_folder_with_skipped_annotations_reported(tmp_path, capsys):
    folder = tmp_path / "brat"
    ann = brat_pair(folder, "a", BRAT_TEXT, BRAT_ANN)
    brat_pair(folder / "sub", "b", "Acme Corp is in Ohio", "T1\tOrg 0 9\tAcme Corp\nT2\tLoc 16 20\tOhio\nR1\tOrgBased_In Arg1:T1 Arg2:T2\n")
    (folder / "notes.txt").write_text("not a document", encoding="utf8")
    docs, stats, report = convert(tmp_path, folder)
    assert stats[str(folder)] == {"docs": 2, "entities": 6, "relations": 3}
    assert annotations(docs[0]) == (
        BRAT_TEXT,
        [(0, 8, "Peop"), (15, 20, "Org"), (34, 43, "Loc"), (45, 55, "Loc")],
        [(0, 8, 15, 20, "Work_For"), (34, 43, 45, 55, "Located_In")],
    )
    assert annotations(docs[1])[2] == [(0, 9, 16, 20, "OrgBased_In")]
    assert report.counts() == {
        "discontinuous entities": 1, "events": 1, "attributes": 1, "normalizations": 1, "notes": 1,
        "relations with a skipped argument": 1, ".txt files without an .ann file": 1,
    }
    assert main([str(folder), str(tmp_path / "cli.spacy")]) == 0
    err = capsys.readouterr().err
    for line, what in [(5, "T5\tLoc 34 38;39 43"), (8, "R3 Located_In: T5 is a discontinuous entity"), (9, "E1\tMove:T1")]:
        assert f"{ann}:{line}: {what}" in err
    assert f"{folder / 'notes.txt'}: no .ann file of the same name" in err


@pytest.mark.parametrize("suffix", [".ann", ".txt"])
def test_brat_single_pair_by_either_file(tmp_path, suffix):
    ann = brat_pair(tmp_path / "in", "a", "\ufeffTim Cook leads Apple.", "T1\tPeop 0 8\tTim Cook\n")
    docs, _, _ = convert(tmp_path, ann.with_suffix(suffix))  # the BOM is dropped before offsets count
    assert annotations(docs[0])[:2] == ("Tim Cook leads Apple.", [(0, 8, "Peop")])


BRAT_BAD = {
    "not on token boundaries": (
        "T1\tPeop 0 8\tTim Cook\nT2\tOrg 15 19\tAppl\n", 2,
        r"T2: \[15, 19\) 'Appl' does not fall on spaCy's token boundaries \(the tokens there: 'Apple'\)",
    ),
    "trailing space": (
        "T1\tPeop 0 9\tTim Cook\n", 1,
        r"T1: \[0, 9\) 'Tim Cook ' does not fall on spaCy's token boundaries \(the tokens there: 'Tim Cook'\)",
    ),
    "text differs": ("T1\tPeop 0 8\tTim Cool\n", 1, r"T1: its text 'Tim Cool' is not the text at \[0, 8\): 'Tim Cook'"),
    "outside the text": ("T1\tPeop 0 80\tTim\n", 1, r"T1: \[0, 80\) is not a span of the 22 characters"),
    "bad offsets": ("T1\tPeop 0\tTim\n", 1, r"T1: expected 'Label START END'"),
    "unknown argument": ("T1\tPeop 0 8\tTim Cook\nR1\tWork_For Arg1:T1 Arg2:T9\n", 2, r"R1: T9 is not an entity of this file"),
    "bad relation": ("T1\tPeop 0 8\tTim Cook\nR1\tWork_For T1 T1\n", 2, r"R1: expected 'Label Arg1:ID Arg2:ID'"),
    "id used twice": ("T1\tPeop 0 8\tTim Cook\nT1\tOrg 15 20\tApple\n", 2, r"id T1 is used twice \(line 1 and this one\)"),
    "unknown kind": ("T1\tPeop 0 8\tTim Cook\nX1\tfoo\n", 2, r"unknown annotation id 'X1'"),
    "overlap": (
        "T1\tPeop 0 8\tTim Cook\nT2\tPeop 4 14\tCook leads\n", 2,
        r"entities \[0, 2, 'Peop'\] and \[1, 3, 'Peop'\] overlap \('Tim Cook' and 'Cook leads'\)",
    ),
}


@pytest.mark.parametrize("case", list(BRAT_BAD))
def test_brat_errors_name_the_ann_line(tmp_path, case):
    ann_text, line, expected = BRAT_BAD[case]
    ann = brat_pair(tmp_path / "in", "a", "Tim Cook leads Apple.\n", ann_text)
    with pytest.raises(DataError, match=expected) as info:
        convert(tmp_path, ann)
    assert str(info.value).startswith(f"{ann}:{line}: ")


def test_brat_entity_over_a_newline_token_is_rejected(tmp_path):
    ann = brat_pair(tmp_path / "in", "a", "Tim Cook\nworks.", "T1\tPeop 0 9\tTim Cook\n")
    with pytest.raises(DataError, match=r"a\.ann:1: entity \[0, 3, 'Peop'\] 'Tim Cook\\n' ends on the whitespace token"):
        convert(tmp_path, ann)


def test_brat_missing_text_file_and_empty_folder(tmp_path):
    (tmp_path / "a.ann").write_text("", encoding="utf8")
    with pytest.raises(FileNotFoundError, match=r"BRAT text file not found: .*a\.txt"):
        convert(tmp_path, tmp_path / "a.ann")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: no \.ann files"):
        convert(tmp_path, tmp_path / "empty")


# ---------------------------------------------------------------- SpERT

SPERT = [
    {
        "tokens": ["Tim", "Cook", "leads", "Apple", "."],
        "entities": [{"type": "Peop", "start": 0, "end": 2}, {"type": "Org", "start": 3, "end": 4}],
        "relations": [{"type": "Work_For", "head": 0, "tail": 1}],
        "orig_id": 7,
    },
    {"tokens": ["Nothing", "here"], "entities": [], "relations": []},
]


def write_spert(path: Path, documents: List[Any]) -> Path:
    """One document per line after the opening bracket: document i starts on line i + 2."""
    path.write_text("[\n" + ",\n".join(json.dumps(d) for d in documents) + "\n]\n", encoding="utf8")
    return path


def test_spert(tmp_path):
    src = write_spert(tmp_path / "data.json", SPERT)
    docs, stats, _ = convert(tmp_path, src)
    assert stats["total"] == {"docs": 2, "entities": 2, "relations": 1}
    assert annotations(docs[0]) == ("Tim Cook leads Apple .", [(0, 8, "Peop"), (15, 20, "Org")], [(0, 8, 15, 20, "Work_For")])
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(SPERT, indent=2), encoding="utf8")
    assert [annotations(d) for d in convert(tmp_path, pretty)[0]] == [annotations(d) for d in docs]


SPERT_BAD = {
    "head not an entity index": ({**SPERT[0], "relations": [{"type": "X", "head": 0, "tail": 2}]}, r"relation 0: its tail 2 is not an entity index \(0\.\.1\)"),
    "entity without type": ({**SPERT[0], "entities": [{"start": 0, "end": 2}]}, r"entity 0 must be an object with 'type', 'start' and 'end'"),
    "entity out of range": ({**SPERT[0], "entities": [{"type": "Peop", "start": 3, "end": 9}], "relations": []}, r"entity 0 has span \[3, 9\) outside"),
    "missing field": ({"tokens": ["a"], "entities": []}, r"missing field 'relations'"),
    "blank token": ({**SPERT[0], "tokens": ["Tim", "Cook", " ", "Apple", "."]}, r"token 2 must be a non-empty, non-blank string"),
}


@pytest.mark.parametrize("case", list(SPERT_BAD))
def test_spert_errors_name_the_line_of_the_document(tmp_path, case):
    bad, expected = SPERT_BAD[case]
    src = write_spert(tmp_path / "data.json", [SPERT[0], SPERT[1], bad])
    with pytest.raises(DataError, match=expected) as info:
        convert(tmp_path, src)
    assert str(info.value).startswith(f"{src}:4: ")


@pytest.mark.parametrize(
    "text, expected",
    [("{}", r":1: expected a JSON list"), ("[\nDOC\nDOC]", r":3: expected ',' or ']'"), ("[DOC] x", r"unexpected text after"),
     ('[\n{"tokens": [}]', r":2: invalid JSON")],
)
def test_spert_malformed_json(tmp_path, text, expected):
    src = tmp_path / "data.json"
    src.write_text(text.replace("DOC", json.dumps(SPERT[1])), encoding="utf8")
    with pytest.raises(DataError, match=expected):
        convert(tmp_path, src)


def test_spert_empty_list_is_an_error(tmp_path):
    src = write_spert(tmp_path / "data.json", [])
    with pytest.raises(DataError, match=r"data\.json: no documents to convert \(the input is empty\)"):
        convert(tmp_path, src)


# ---------------------------------------------------------------- detection and the command line


def test_detect_format(tmp_path):
    project = write_lines(tmp_path / "p.jsonl", ["", {"tokens": ["a"], "entities": [], "relations": []}])
    prodigy = write_lines(tmp_path / "r.jsonl", [ACCEPTED])
    ann = brat_pair(tmp_path / "brat", "a", "x", "")
    spert = write_spert(tmp_path / "s.json", SPERT)
    assert [detect_format(p) for p in (project, prodigy, ann, ann.with_suffix(".txt"), ann.parent, spert)] == [
        "jsonl", "prodigy", "brat", "brat", "brat", "spert"]
    other = write_lines(tmp_path / "o.jsonl", [{"text": "no annotations"}])
    with pytest.raises(DataError, match=r"o\.jsonl:1: cannot tell the format.*give --format"):
        detect_format(other)
    (tmp_path / "x.csv").write_text("a,b\n", encoding="utf8")
    with pytest.raises(DataError, match=r"x\.csv: cannot tell the format from the name"):
        detect_format(tmp_path / "x.csv")


def test_cli_format_option(tmp_path, capsys):
    prodigy = write_lines(tmp_path / "r.jsonl", [ACCEPTED])
    assert main([str(prodigy), str(tmp_path / "a.spacy"), "--format", "jsonl"]) == 1
    assert f"{prodigy}:1: missing field 'entities'" in capsys.readouterr().err
    assert main([str(prodigy), str(tmp_path / "a.spacy"), "--format", "prodigy"]) == 0
    assert main([str(prodigy), str(tmp_path / "folds"), "--ade-folds", "--format", "prodigy"]) == 2
    assert main([str(prodigy), str(tmp_path / "a.spacy"), "--format", "conll"]) == 2


def test_mixed_formats_in_one_corpus(tmp_path):
    prodigy = write_lines(tmp_path / "r.jsonl", [ACCEPTED])
    spert = write_spert(tmp_path / "s.json", SPERT)
    ann = brat_pair(tmp_path / "brat", "a", BRAT_TEXT, BRAT_ANN)
    docs, stats, _ = convert(tmp_path, prodigy, spert, ann)
    assert [stats[str(p)]["docs"] for p in (prodigy, spert, ann)] == [1, 2, 1]
    assert len(docs) == 4


# ---------------------------------------------------------------- the way back: extract's writers


@pytest.fixture
def predicted():
    """Docs as the extractor's pipeline leaves them: spaCy's tokens, entities, relations with scores."""
    register_extensions()
    nlp = spacy.blank("en")
    texts = ["Tim Cook leads Apple.", "He lives in Palo Alto,\nCalifornia, says Acme today.", "Nothing here."]
    ents = [[(0, 8, "Peop"), (15, 20, "Org")], [(12, 21, "Loc"), (23, 33, "Loc"), (40, 44, "Org")], []]
    rels = [[(0, 1, "Work_For", 0.9)], [(0, 1, "Located_In", 0.8), (2, 0, "OrgBased_In", 0.7)], []]
    docs = []
    for text, spans, triples in zip(texts, ents, rels):
        doc = nlp(text)
        doc.ents = [doc.char_span(s, e, label=label) for s, e, label in spans]
        doc._.relations = [
            [doc.ents[h].start, doc.ents[h].end, doc.ents[t].start, doc.ents[t].end, label, score]
            for h, t, label, score in triples
        ]
        docs.append(doc)
    return docs


def write_with(format: str, path: Path, docs) -> None:
    with WRITERS[format](path) as write:
        for i, doc in enumerate(docs):
            write(doc, {"id": f"doc{i}.txt", "meta": {"source": "test"}})


def test_prodigy_round_trip(tmp_path, predicted):
    tasks = tmp_path / "tasks.jsonl"
    write_with("prodigy", tasks, predicted)
    rows = [json.loads(line) for line in tasks.read_text(encoding="utf8").splitlines()]
    assert "answer" not in rows[0] and rows[0]["meta"] == {"id": "doc0.txt", "source": "test"}
    assert rows[0]["relations"][0]["head"] == 1 and rows[0]["relations"][0]["child_span"]["token_end"] == 3
    # Accepting every task in Prodigy adds "answer": "accept"; `prodigy db-out` then exports them.
    accepted = write_lines(tmp_path / "accepted.jsonl", [{**row, "answer": "accept"} for row in rows])
    docs, _, report = convert(tmp_path, accepted)
    assert [annotations(d) for d in docs] == [annotations(d) for d in predicted]
    assert [[t.text for t in d] for d in docs] == [[t.text for t in d] for d in predicted]
    assert report.items == []


def test_brat_round_trip(tmp_path, predicted):
    folder = tmp_path / "brat"
    write_with("brat", folder, predicted)
    assert sorted(p.name for p in folder.iterdir()) == [f"doc{i}.{s}" for i in range(3) for s in ("ann", "txt")]
    assert (folder / "doc0.ann").read_text(encoding="utf8") == (
        "T1\tPeop 0 8\tTim Cook\nT2\tOrg 15 20\tApple\nR1\tWork_For Arg1:T1 Arg2:T2\n"
    )
    docs, _, report = convert(tmp_path, folder)
    assert [annotations(d) for d in docs] == [annotations(d) for d in predicted]
    assert report.items == []


def test_brat_writer_refuses_a_full_folder_and_clashing_ids(tmp_path, predicted):
    folder = tmp_path / "brat"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine", encoding="utf8")
    with pytest.raises(FileExistsError, match="not an empty folder"):
        write_with("brat", folder, predicted)
    with pytest.raises(FileExistsError, match=r"documents 'a/b' and 'a_b' would both be written to .*a_b\.txt"):
        with WRITERS["brat"](tmp_path / "new") as write:
            write(predicted[0], {"id": "a/b", "meta": {}})
            write(predicted[1], {"id": "a_b", "meta": {}})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brat"]  # no output, no temporary folder


def test_brat_file_names():
    assert [file_name(x) for x in (3, "d0.txt", "../x", ".hidden", "")] == ["3", "d0", "_.._x", "_.hidden", "_"]
