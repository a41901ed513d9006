"""The deeper_joint component end to end: training, prediction, serialization, edge cases."""
import json
import subprocess
import sys

import numpy
import pytest
import spacy
from spacy.tokens import DocBin, Span
from spacy.vectors import Vectors
from spacy.training import Example

from conftest import DATA, TINY_CONFIG, gold_docs, predictions
from spacy_deeper.model import JointOutput, get_net


def test_overfits_ten_sentences(trained_nlp, gold):
    texts = [doc.text for doc in gold]
    for docs in ([trained_nlp(t) for t in texts], list(trained_nlp.pipe(texts, batch_size=3))):
        scores = trained_nlp.get_pipe("deeper_joint").score([Example(p, g) for p, g in zip(docs, gold)])
        assert scores["ents_f"] == 1.0
        assert scores["rel_micro_f"] >= 0.95
        for doc in docs:
            for rel in doc._.relations:
                assert rel.head in doc.ents and rel.tail in doc.ents
                assert 0.5 <= rel.score <= 1.0


def test_nlp_evaluate_reports_the_scorer(trained_nlp, gold):
    examples = [Example(trained_nlp.make_doc(g.text), g) for g in gold]
    scores = trained_nlp.evaluate(examples)
    for key in ("ents_f", "ents_macro_f", "rel_micro_f", "rel_macro_f", "ents_per_type", "rel_per_type"):
        assert key in scores
    assert set(scores["rel_per_type"]) <= {"Work_For", "Kill", "OrgBased_In", "Live_In", "Located_In"}


def test_to_disk_and_load_same_process(trained_nlp, trained_path, gold):
    texts = [doc.text for doc in gold]
    loaded = spacy.load(trained_path)
    assert loaded.get_pipe("deeper_joint").labels == trained_nlp.get_pipe("deeper_joint").labels
    assert predictions(loaded.pipe(texts)) == predictions(trained_nlp.pipe(texts))


def test_load_in_a_new_process(trained_nlp, trained_path, gold):
    texts = [doc.text for doc in gold]
    code = (
        "import json, sys, spacy\n"
        f"nlp = spacy.load({str(trained_path)!r})\n"
        "texts = json.load(sys.stdin)\n"
        "out = [([(e.start_char, e.end_char, e.label_) for e in d.ents],"
        " [(r.head.start_char, r.tail.start_char, r.label, round(r.score, 5)) for r in d._.relations])"
        " for d in nlp.pipe(texts)]\n"
        "print(json.dumps(out))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], input=json.dumps(texts), capture_output=True, text=True, check=True)
    fresh = [([tuple(e) for e in ents], [tuple(r) for r in rels]) for ents, rels in json.loads(result.stdout)]
    assert fresh == predictions(trained_nlp.pipe(texts))


def test_to_bytes_from_bytes(trained_nlp, gold):
    texts = [doc.text for doc in gold]
    copy = spacy.util.load_model_from_config(trained_nlp.config, auto_fill=True)
    copy.from_bytes(trained_nlp.to_bytes())
    assert predictions(copy.pipe(texts)) == predictions(trained_nlp.pipe(texts))


def test_predicted_docs_survive_docbin(trained_nlp, gold):
    docs = list(trained_nlp.pipe(doc.text for doc in gold))
    data = DocBin(store_user_data=True, docs=docs).to_bytes()
    assert predictions(DocBin().from_bytes(data).get_docs(trained_nlp.vocab)) == predictions(docs)


def test_batch_invariance(trained_nlp, gold):
    short = min(gold, key=len).text
    longer = [doc.text for doc in sorted(gold, key=len, reverse=True)[:4]]
    alone = predictions([trained_nlp(short)])[0]
    for batch in ([short] + longer, longer + [short], longer[:2] + [short] + longer[2:]):
        docs = list(trained_nlp.pipe(batch, batch_size=len(batch)))
        assert predictions([docs[batch.index(short)]])[0] == alone


def test_long_sentence_is_split_into_windows(trained_nlp, gold):
    pipe = trained_nlp.get_pipe("deeper_joint")
    text = " ".join(doc.text for doc in gold)  # ~340 tokens, no sentence boundaries set
    doc = trained_nlp(text)
    assert len(doc) > trained_nlp.get_pipe("deeper_joint").model.attrs["max_length"]
    assert len(doc.ents) > 0
    for rel in doc._.relations:
        assert rel.head in doc.ents and rel.tail in doc.ents
    assert pipe.labels


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "Hello", "the the the .", "!!!"])
def test_edge_cases(trained_nlp, text):
    doc = trained_nlp(text)
    assert doc.text == text
    for rel in doc._.relations:
        assert rel.head in doc.ents
    docs = list(trained_nlp.pipe([text, "", text]))
    assert [d.text for d in docs] == [text, "", text]


def test_doc_without_entities_has_no_relations(trained_nlp):
    doc = trained_nlp("the the the the .")
    assert doc.ents == () and doc._.relations == []


def test_predicted_entities_do_not_start_or_end_on_whitespace(trained_nlp):
    """Hand-made model output: whitespace is stripped from the entities' ends, an entity of
    whitespace only is dropped, and its relations with it."""
    pipe = trained_nlp.get_pipe("deeper_joint")
    doc = trained_nlp.make_doc("\nTim Cook\nworks for  Apple in \t Cupertino .\n")
    # tokens: 0 "\n", 1 Tim, 2 Cook, 3 "\n", 4 works, 5 for, 6 " ", 7 Apple, 8 in, 9 "\t ", 10 Cupertino, 11 ., 12 "\n"
    spans = [(0, 4, "Peop"), (6, 7, "Loc"), (7, 8, "Org"), (9, 11, "Loc"), (12, 13, "Other")]
    tags = pipe.tagset.encode(len(doc), [(start, end, pipe.labels.index(label)) for start, end, label in spans])
    pairs = [(3, 7, "Work_For"), (6, 7, "Located_In"), (7, 10, "OrgBased_In"), (12, 3, "Kill")]  # last tokens
    probs = numpy.zeros((len(pairs), len(pipe.rel_labels)), dtype="float32")
    for p, (_, _, label) in enumerate(pairs):
        probs[p, pipe.rel_labels.index(label)] = 0.9
    output = JointOutput(
        [(0, 0, len(doc))], tags=tags[None, :], lengths=numpy.array([len(doc)]),
        pairs=numpy.array([(0, head, tail) for head, tail, _ in pairs]), probs=probs,
    )
    pipe.set_annotations([doc], output)
    assert [(e.text, e.label_) for e in doc.ents] == [("Tim Cook", "Peop"), ("Apple", "Org"), ("Cupertino", "Loc")]
    assert [(r.head.text, r.label, r.tail.text) for r in doc._.relations] == [
        ("Tim Cook", "Work_For", "Apple"),
        ("Apple", "OrgBased_In", "Cupertino"),
    ]


def test_no_whitespace_entities_on_text_with_whitespace(trained_nlp, gold):
    texts = ["   \n\t  ", "John Smith works for Acme Corp.\n", "Tim Cook\nworks for Apple in\tCupertino ."]
    for doc in gold:  # whitespace next to every gold entity, where the tiny model stretches entities over it
        for ent in doc.ents:
            for space in ("\n", "\t", " \n "):
                texts += [doc.text[: ent.end_char] + space + doc.text[ent.end_char :],
                          doc.text[: ent.start_char] + space + doc.text[ent.start_char :]]
    for doc in trained_nlp.pipe(texts):
        assert all(not ent[0].is_space and not ent[-1].is_space for ent in doc.ents), (doc.text, doc.ents)
        for rel in doc._.relations:
            assert rel.head in doc.ents and rel.tail in doc.ents
    assert trained_nlp("   \n\t  ").ents == ()


def test_a_gold_entity_on_whitespace_is_an_error(trained_nlp):
    ref = trained_nlp.make_doc("Tim Cook\nworks for Apple .")
    ref.ents = [Span(ref, 0, 3, label="Peop"), Span(ref, 6, 7, label="Org")]  # "Tim Cook\n"
    example = Example(trained_nlp.make_doc(ref.text), ref)
    message = (
        r"\[deeper_joint\] The gold entity 'Tim Cook\\n' \(Peop, characters 0-9\) of the training doc "
        r"beginning 'Tim Cook\\nworks for Apple .' starts or ends on whitespace"
    )
    with pytest.raises(ValueError, match=message):
        trained_nlp.get_pipe("deeper_joint").update([example])


def test_use_before_initialize_is_a_clear_error():
    nlp = spacy.blank("en")
    nlp.add_pipe("deeper_joint", config=TINY_CONFIG)
    with pytest.raises(ValueError, match="not initialized"):
        nlp("John Smith works for Acme .")
    example = Example(nlp.make_doc("John ."), gold_docs(nlp)[0])
    with pytest.raises(ValueError, match="not initialized"):
        nlp.update([example])


def test_update_survives_batches_without_entities_or_pairs(trained_nlp):
    nlp = spacy.blank("en")
    nlp.add_pipe("deeper_joint", config=TINY_CONFIG)
    gold = gold_docs(nlp)
    nlp.initialize(lambda: [Example(nlp.make_doc(d.text), d) for d in gold])
    plain = nlp.make_doc("nothing to see here .")
    empty = nlp.make_doc("")
    losses = nlp.update([Example(plain, nlp.make_doc(plain.text)), Example(empty, nlp.make_doc(""))])
    assert losses["deeper_joint"] > 0


def test_spacy_train_cli_from_the_config(tmp_path):
    """`spacy train` with configs/conll04.cfg (made small) on DocBins, no --code."""
    nlp = spacy.blank("en")
    corpus = tmp_path / "train.spacy"
    DocBin(store_user_data=True, docs=gold_docs(nlp)).to_disk(corpus)
    config = DATA.parents[2] / "configs" / "conll04.cfg"
    # A tiny stand-in for corpus/vectors/glove50 (GloVe, made by `spacy project run vectors`).
    vectors = spacy.blank("en")
    vectors.vocab.vectors = Vectors(strings=vectors.vocab.strings, data=numpy.ones((1, 4), dtype="float32"), keys=["the"], attr="LOWER")
    vectors.to_disk(tmp_path / "vectors")
    overrides = {
        "paths.train": corpus, "paths.dev": corpus, "paths.vectors": tmp_path / "vectors", "training.max_steps": 6,
        "training.eval_frequency": 3, "components.deeper_joint.model.hidden_size": 16, "components.deeper_joint.model.n_re": 1,
    }
    args = [a for key, value in overrides.items() for a in (f"--{key}", str(value))]
    output = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "spacy", "train", str(config), "--output", str(output), *args], check=True, capture_output=True)
    loaded = spacy.load(output / "model-last")
    doc = loaded("John Smith works for Acme Corp in Boston .")
    assert isinstance(doc._.relations, list)
    subprocess.run(
        [sys.executable, "-m", "spacy", "evaluate", str(output / "model-last"), str(corpus), "--output", str(tmp_path / "m.json")],
        check=True, capture_output=True, text=True,
    )
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert "rel_micro_f" in metrics and "ents_macro_f" in metrics


@pytest.mark.parametrize("depths", [(0, 0, 0), (0, 1, 1), (2, 0, 0), (1, 2, 0)])
def test_any_depth_may_be_zero(depths):
    n_shared, n_ner, n_re = depths
    config = {"model": {**TINY_CONFIG["model"], "n_shared": n_shared, "n_ner": n_ner, "n_re": n_re}}
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("deeper_joint", config=config)
    gold = gold_docs(nlp)
    examples = [Example(nlp.make_doc(d.text), d) for d in gold]
    optimizer = nlp.initialize(lambda: examples)
    first = nlp.update(examples, sgd=optimizer)["deeper_joint"]
    for _ in range(4):
        last = nlp.update(examples, sgd=optimizer)["deeper_joint"]
    assert last < first
    net = get_net(pipe.model)
    for stack, depth in ((net.shared, n_shared), (net.ner_rnn, n_ner), (net.re_rnn, n_re)):
        assert stack.n_layers == depth == len(stack.forward_rnns) == len(stack.backward_rnns)
    nlp(gold[0].text)


def test_shared_tok2vec_through_a_listener():
    """A tok2vec component upstream, the model listening to it, as spaCy's own pipes do."""
    nlp = spacy.blank("en")
    nlp.add_pipe("tok2vec", config={"model": {"@architectures": "spacy.HashEmbedCNN.v2", "width": 32, "depth": 1, "embed_size": 500,
                                                "window_size": 1, "maxout_pieces": 2, "subword_features": True, "pretrained_vectors": None}})
    listener = {"@architectures": "spacy.Tok2VecListener.v1", "width": 32, "upstream": "*"}
    nlp.add_pipe("deeper_joint", config={"model": {**TINY_CONFIG["model"], "tok2vec": listener}})
    gold = gold_docs(nlp)
    examples = [Example(nlp.make_doc(d.text), d) for d in gold]
    optimizer = nlp.initialize(lambda: examples)
    tok2vec = nlp.get_pipe("tok2vec")
    assert tok2vec.listening_components == ["deeper_joint"]
    losses = [nlp.update(examples, sgd=optimizer)["deeper_joint"] for _ in range(5)]
    assert losses[-1] < losses[0]
    assert nlp.update(examples, sgd=optimizer)["tok2vec"] > 0  # the listener backpropagated into tok2vec
    doc = nlp(gold[0].text)
    assert isinstance(doc._.relations, list)


def test_existing_entities_overwritten_or_kept(trained_nlp, gold):
    from spacy.tokens import Span

    pipe = trained_nlp.get_pipe("deeper_joint")
    text = gold[0].text
    predicted = trained_nlp(text)
    assert predicted.ents
    doc = trained_nlp.make_doc(text)
    doc.ents = [Span(doc, 0, 1, label="MINE")]
    as_tuples = lambda ents: [(e.start, e.end, e.label_) for e in ents]
    assert as_tuples(pipe(doc).ents) == as_tuples(predicted.ents)  # overwrite (the default)
    pipe.cfg["overwrite_ents"] = False
    try:
        doc = trained_nlp.make_doc(text)
        doc.ents = [Span(doc, 0, 1, label="MINE")]
        doc = pipe(doc)
        assert (doc.ents[0].start, doc.ents[0].end, doc.ents[0].label_) == (0, 1, "MINE")
        kept = [e for e in predicted.ents if e.start >= 1]
        assert as_tuples(doc.ents[1:]) == as_tuples(kept)
        for rel in doc._.relations:
            assert rel.head in doc.ents and rel.tail in doc.ents and rel.head.label_ != "MINE"
    finally:
        pipe.cfg["overwrite_ents"] = True


def test_parameter_averages_reach_the_torch_net():
    """Adam(use_averages=True) keeps averages of the torch weights; use_params (what
    spaCy's training loop uses to evaluate and save) must swap them in, then back."""
    import torch
    from thinc.api import Adam

    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("deeper_joint", config=TINY_CONFIG)
    examples = [Example(nlp.make_doc(d.text), d) for d in gold_docs(nlp)]
    nlp.initialize(lambda: examples)
    optimizer = Adam(0.01, use_averages=True)
    for _ in range(5):
        nlp.update(examples, sgd=optimizer)
    net = get_net(pipe.model)
    shim_id = pipe.model.get_ref("net").shims[0].id
    name = "shared.forward_rnns.0.weight_hh_l0"
    current = dict(net.named_parameters())[name].detach().clone()
    average = torch.as_tensor(optimizer.averages[(shim_id, name)])
    assert not torch.allclose(current, average)
    with nlp.use_params(optimizer.averages):
        torch.testing.assert_close(dict(net.named_parameters())[name].detach(), average)
    torch.testing.assert_close(dict(net.named_parameters())[name].detach(), current)
