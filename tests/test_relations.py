"""doc._.relations: plain storage by character offsets that stays right under spaCy's doc
operations (retokenization, Doc.from_docs, Span.as_doc, entity changes) and serialization,
or says what it left out; and no clash with another package's doc._.relations."""
import pickle
import subprocess
import sys
import warnings

import pytest
import spacy
from spacy.language import Language
from spacy.pipeline.functions import merge_entities, merge_noun_chunks
from spacy.tokens import Doc, DocBin, Span

from spacy_deeper import ExtensionClash, Relation, register_extensions
from spacy_deeper.relations import get_relations

# John Smith , the new director , works for Acme Corp in Boston .
# 0    5     11 13  17  21       30 32    38  42   47   52 55     62
WORDS = "John Smith , the new director , works for Acme Corp in Boston .".split()
POS = "PROPN PROPN PUNCT DET ADJ NOUN PUNCT VERB ADP PROPN PROPN ADP PROPN PUNCT".split()
HEADS = [1, 7, 1, 5, 5, 1, 1, 7, 7, 10, 8, 7, 11, 7]
DEPS = "compound nsubj punct det amod appos punct ROOT prep compound pobj prep pobj punct".split()
ENTS = [(0, 2, "Peop"), (9, 11, "Org"), (12, 13, "Loc")]
ROWS = [[0, 2, 9, 11, "Work_For", 0.75], [0, 2, 12, 13, "Live_In", 0.25], [9, 11, 12, 13, "OrgBased_In", 0.5]]
# The oracle: head text and first character, label, tail text and first character, score.
WORK = ("John Smith", 0, "Work_For", "Acme Corp", 42, 0.75)
ORG_IN = ("Acme Corp", 42, "OrgBased_In", "Boston", 55, 0.5)
LIVE = ("John Smith", 0, "Live_In", "Boston", 55, 0.25)
EXPECTED = [WORK, LIVE, ORG_IN]  # by head, then tail


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


def annotate(doc, ents=ENTS, rows=ROWS):
    doc.ents = [Span(doc, start, end, label=label) for start, end, label in ents]
    doc._.relations = rows
    return doc


@pytest.fixture
def doc(nlp):
    """A parsed doc (by hand, so it has noun chunks) with three entities and three relations."""
    return annotate(Doc(nlp.vocab, words=WORDS, pos=POS, heads=HEADS, deps=DEPS))


def relations_of(doc):
    """The oracle's view of doc._.relations, checking that every argument is in doc.ents."""
    found = []
    for rel in doc._.relations:
        assert isinstance(rel, Relation)
        assert rel.head in doc.ents and rel.tail in doc.ents
        assert doc.text[rel.head.start_char : rel.head.end_char] == rel.head.text
        found.append((rel.head.text, rel.head.start_char, rel.label, rel.tail.text, rel.tail.start_char, rel.score))
    return found


def test_relation_objects_and_rows(doc):
    assert relations_of(doc) == EXPECTED
    rel = doc._.relations[0]
    assert rel.head.label_ == "Peop" and rel.tail.label_ == "Org"
    assert rel.to_dict() == {
        "head": {"start": 0, "end": 10, "label": "Peop", "text": "John Smith"},
        "tail": {"start": 42, "end": 51, "label": "Org", "text": "Acme Corp"},
        "label": "Work_For",
        "score": 0.75,
    }
    doc._.relations = doc._.relations  # objects can be assigned back
    assert relations_of(doc) == EXPECTED
    assert doc._.relations_data == ROWS
    doc._.relations_data = ROWS[::-1]  # kept in the order of the text
    assert relations_of(doc) == EXPECTED
    doc._.relations_data = ROWS[:1]
    assert relations_of(doc) == [WORK]


def test_register_is_idempotent(doc):
    register_extensions()
    register_extensions()
    assert relations_of(doc) == EXPECTED


def test_setter_validates(doc):
    with pytest.raises(ValueError, match="outside the doc"):
        doc._.relations = [[0, 2, 9, 60, "Work_For"]]
    with pytest.raises(ValueError, match="label"):
        doc._.relations = [[0, 2, 9, 11, ""]]
    with pytest.raises(ValueError, match=r"its tail \[7, 8\) 'works' is not an entity of doc.ents"):
        doc._.relations = [[0, 2, 7, 8, "Work_For"]]
    other = spacy.blank("en")("Another doc here")
    with pytest.raises(ValueError, match="another Doc"):
        doc._.relations = [Relation(other[0:1], doc[0:2], "X")]
    assert relations_of(doc) == EXPECTED  # a failed assignment changes nothing


# Retokenization: character offsets stay, token offsets do not ------------------------------------


def test_merge_entities(doc):
    doc = merge_entities(doc)
    assert len(doc) == 12
    assert relations_of(doc) == EXPECTED
    assert all(len(rel.head) == 1 for rel in doc._.relations)


def test_merge_noun_chunks(doc):
    assert [chunk.text for chunk in doc.noun_chunks] == ["John Smith", "the new director", "Acme Corp", "Boston"]
    doc = merge_noun_chunks(doc)
    assert [t.text for t in doc][:4] == ["John Smith", ",", "the new director", ","]
    assert relations_of(doc) == EXPECTED


def test_retokenize_merge(doc):
    with doc.retokenize() as retokenizer:
        retokenizer.merge(doc[7:9])  # "works for"
    assert doc[7].text == "works for"
    assert relations_of(doc) == EXPECTED
    # A merge across an entity's edge changes the entity: its relations are left out, with a warning.
    with doc.retokenize() as retokenizer:
        retokenizer.merge(doc[1:3])  # "Smith ,"
    assert [ent.text for ent in doc.ents][0] == "John Smith ,"
    with pytest.warns(UserWarning) as record:
        assert relations_of(doc) == [ORG_IN]
    assert [str(w.message).split(" is left out")[0] for w in record] == [
        "[spacy_deeper] The relation 'John Smith' [0:10] -Work_For-> 'Acme Corp' [42:51]",
        "[spacy_deeper] The relation 'John Smith' [0:10] -Live_In-> 'Boston' [55:61]",
    ]
    assert "its head is no longer in doc.ents" in str(record[0].message)


def test_retokenize_split(doc):
    with doc.retokenize() as retokenizer:
        retokenizer.split(doc[1], ["Sm", "ith"], heads=[(doc[1], 1), doc[1]])  # inside an entity
        retokenizer.split(doc[5], ["direc", "tor"], heads=[(doc[5], 1), doc[5]])
    assert len(doc) == 16 and doc.ents[0].text == "John Smith" and len(doc.ents[0]) == 3
    assert relations_of(doc) == EXPECTED


# Combining and cutting docs -------------------------------------------------------------------------


def test_doc_from_docs_keeps_every_docs_relations(nlp, doc):
    other = annotate(nlp.make_doc("Mary Jones lives in Paris ."), [(0, 2, "Peop"), (4, 5, "Loc")],
                     [[0, 2, 4, 5, "Live_In", 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no W101: nothing of ours is skipped
        merged = Doc.from_docs([doc, other])
    assert merged.text.startswith(doc.text) and merged.text[64:74] == "Mary Jones"
    assert relations_of(merged) == EXPECTED + [("Mary Jones", 64, "Live_In", "Paris", 84, 0.5)]
    assert Doc.from_docs([doc, other], exclude=["user_data"])._.relations == []


def test_span_as_doc_keeps_the_relations_inside(doc):
    tail_part = doc[7:14].as_doc(copy_user_data=True)  # "works for Acme Corp in Boston ."
    assert relations_of(tail_part) == [("Acme Corp", 10, "OrgBased_In", "Boston", 23, 0.5)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # relations reaching outside the span are not part of it
        head_part = doc[0:11].as_doc(copy_user_data=True)  # "John Smith ... Acme Corp"
        assert relations_of(head_part) == [WORK]
    assert doc[7:14].as_doc()._.relations == []  # spaCy copies no user data by default


# Entities replaced afterwards --------------------------------------------------------------------------


def test_doc_ents_replaced(doc):
    john, acme, boston = doc.ents
    doc.ents = [Span(doc, 0, 2, label="Org"), boston]  # relabelled, and Acme Corp gone
    with pytest.warns(UserWarning) as record:
        (rel,) = doc._.relations
    assert (rel.head.text, rel.head.label_, rel.label, rel.tail.text) == ("John Smith", "Org", "Live_In", "Boston")
    assert rel.head in doc.ents and rel.tail in doc.ents
    messages = [str(w.message) for w in record]
    assert len(messages) == 2
    assert messages[0].startswith("[spacy_deeper] The relation 'John Smith' [0:10] -Work_For-> 'Acme Corp' [42:51] "
                                  "is left out of doc._.relations: its tail is no longer in doc.ents")
    assert messages[1].startswith("[spacy_deeper] The relation 'Acme Corp' [42:51] -OrgBased_In-> 'Boston' [55:61] "
                                  "is left out of doc._.relations: its head is no longer in doc.ents")
    doc.ents = [john, acme, boston]
    assert relations_of(doc) == EXPECTED  # nothing was deleted


# Copies and serialization, after merge_entities --------------------------------------------------------

ROUND_TRIPS = {
    "copy": lambda doc: doc.copy(),
    "pickle": lambda doc: pickle.loads(pickle.dumps(doc)),
    "to_bytes": lambda doc: Doc(doc.vocab).from_bytes(doc.to_bytes()),
    "docbin": lambda doc: next(
        DocBin(store_user_data=True, docs=[doc]).get_docs(spacy.blank("en").vocab)
    ),
    "docbin_bytes": lambda doc: next(
        DocBin().from_bytes(DocBin(store_user_data=True, docs=[doc]).to_bytes()).get_docs(spacy.blank("en").vocab)
    ),
    "json": lambda doc: Doc(doc.vocab).from_json(doc.to_json(underscore=["relations_data"])),
}


@pytest.mark.parametrize("round_trip", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_round_trip_after_merge_entities(doc, round_trip):
    copy = round_trip(merge_entities(doc))
    assert [t.text for t in copy][:3] == ["John Smith", ",", "the"]
    assert relations_of(copy) == EXPECTED


def test_json_gives_token_rows_of_the_present_tokens(doc):
    data = merge_entities(doc).to_json(underscore=["relations_data"])
    assert data["_"]["relations_data"] == [[0, 1, 8, 9, "Work_For", 0.75], [0, 1, 10, 11, "Live_In", 0.25],
                                           [8, 9, 10, 11, "OrgBased_In", 0.5]]


def test_docbin_without_user_data_has_no_relations(doc):
    (loaded,) = DocBin(docs=[doc]).get_docs(spacy.blank("en").vocab)
    assert [e.text for e in loaded.ents] == ["John Smith", "Acme Corp", "Boston"]
    assert loaded._.relations == []


@Language.component("test_annotate_relations")
def annotate_relations(doc):
    return annotate(doc) if doc.text == " ".join(WORDS) else doc


def test_pipe_in_two_processes_after_merge_entities():
    nlp = spacy.blank("en")
    nlp.add_pipe("test_annotate_relations")
    nlp.add_pipe("merge_entities")
    texts = [" ".join(WORDS), "Nothing here .", " ".join(WORDS)]
    docs = list(nlp.pipe(texts, n_process=2, batch_size=1))
    assert [relations_of(doc) for doc in docs] == [EXPECTED, [], EXPECTED]


def test_token_rows_of_spacy_deeper_0_1_are_converted(nlp):
    """Corpora saved before character offsets hold token rows in doc._.relations_data."""
    doc = annotate(nlp.make_doc(" ".join(WORDS)), rows=[])
    doc.user_data[("._.", "relations_data", None, None)] = ROWS
    (loaded,) = DocBin(store_user_data=True, docs=[doc]).get_docs(nlp.vocab)
    assert relations_of(loaded) == EXPECTED
    assert ("._.", "relations_data", None, None) not in loaded.user_data
    old_json = {**nlp.make_doc(" ".join(WORDS)).to_json(), "ents": doc.to_json()["ents"], "_": {"relations_data": ROWS}}
    assert relations_of(Doc(nlp.vocab).from_json(old_json)) == EXPECTED


# Another package's doc._.relations ---------------------------------------------------------------------


@pytest.fixture
def restore_ours():
    yield
    Doc.remove_extension("relations")
    register_extensions()


def test_a_foreign_relations_extension_registered_first_is_an_error(nlp, restore_ours):
    Doc.remove_extension("relations")
    Doc.set_extension("relations", default=None)  # as zshot and GLiREL do
    with pytest.raises(ExtensionClash, match=r"doc\._\.relations is registered by another package \(with "
                                             r"default=None\).*Doc\.remove_extension\('relations'\)"):
        register_extensions()
    with pytest.raises(ExtensionClash):
        nlp.add_pipe("deeper_joint", name="clashing")


def test_a_foreign_relations_extension_registered_after_ours(trained_nlp, restore_ours):
    text = " ".join(WORDS)
    doc = trained_nlp(text)
    ours = [rel.to_row() for rel in doc._.relations]
    Doc.set_extension("relations", default=None, force=True)  # as GLiREL does, each time it runs
    doc._.relations = [{"head_text": "John Smith", "tail_text": "Boston", "label": "theirs"}]
    assert [rel.to_row() for rel in get_relations(doc)] == ours  # never their values
    with pytest.raises(ExtensionClash, match=r"doc\._\.relations is registered by another package"):
        trained_nlp(text)
    with pytest.raises(ExtensionClash):
        register_extensions()


def test_importing_after_a_foreign_extension_does_not_break_spacy():
    """spaCy imports every installed factory whenever it builds a pipeline."""
    script = (
        "import spacy\n"
        "from spacy.tokens import Doc\n"
        "Doc.set_extension('relations', getter=lambda doc: 'theirs')\n"
        "nlp = spacy.blank('en')\n"
        "import spacy_deeper\n"
        "assert nlp('a b')._.relations == 'theirs'\n"
        "try:\n"
        "    nlp.add_pipe('deeper_joint')\n"
        "except spacy_deeper.ExtensionClash as err:\n"
        "    print(err)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("doc._.relations is registered by another package (by __main__)")
