"""doc._.relations: plain storage that survives DocBin, to_bytes and to_json."""
import pytest
import spacy
from spacy.tokens import Doc, DocBin, Span

from spacy_deeper import Relation, register_extensions


@pytest.fixture
def doc():
    nlp = spacy.blank("en")
    doc = nlp("John Smith works for Acme Corp .")
    doc.ents = [Span(doc, 0, 2, label="Peop"), Span(doc, 4, 6, label="Org")]
    doc._.relations = [[0, 2, 4, 6, "Work_For", 0.75]]
    return doc


def check(doc):
    (rel,) = doc._.relations
    assert rel.head.text == "John Smith" and rel.head.label_ == "Peop"
    assert rel.tail.text == "Acme Corp" and rel.tail in doc.ents
    assert rel.label == "Work_For" and rel.score == pytest.approx(0.75)


def test_relation_objects(doc):
    check(doc)
    rel = doc._.relations[0]
    assert isinstance(rel, Relation)
    assert rel.to_dict() == {
        "head": {"start": 0, "end": 10, "label": "Peop", "text": "John Smith"},
        "tail": {"start": 21, "end": 30, "label": "Org", "text": "Acme Corp"},
        "label": "Work_For",
        "score": 0.75,
    }
    doc._.relations = doc._.relations  # objects can be assigned back
    check(doc)
    assert doc._.relations_data == [[0, 2, 4, 6, "Work_For", 0.75]]


def test_docbin_roundtrip(doc):
    data = DocBin(store_user_data=True, docs=[doc]).to_bytes()
    (loaded,) = DocBin().from_bytes(data).get_docs(spacy.blank("en").vocab)
    check(loaded)


def test_to_bytes_roundtrip(doc):
    check(Doc(doc.vocab).from_bytes(doc.to_bytes()))


def test_to_json_roundtrip(doc):
    data = doc.to_json(underscore=["relations_data"])
    assert data["_"]["relations_data"] == [[0, 2, 4, 6, "Work_For", 0.75]]
    check(Doc(doc.vocab).from_json(data))


def test_register_is_idempotent(doc):
    register_extensions()
    register_extensions()
    check(doc)


def test_setter_validates(doc):
    with pytest.raises(ValueError, match="outside the doc"):
        doc._.relations = [[0, 2, 4, 60, "Work_For"]]
    with pytest.raises(ValueError, match="label"):
        doc._.relations = [[0, 2, 4, 6, ""]]
    other = spacy.blank("en")("Another doc here")
    with pytest.raises(ValueError, match="another Doc"):
        doc._.relations = [Relation(other[0:1], doc[0:2], "X")]


def test_relations_survive_entity_changes_as_plain_spans(doc):
    doc.ents = []
    (rel,) = doc._.relations
    assert rel.head.text == "John Smith" and rel.head.label_ == ""
