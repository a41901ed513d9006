"""Robust on real text and real loads (issue 5): raw text with a sentencizer, long input,
bad input, batching and processes, corrupt or mismatched model files, awkward training
batches, GPU against CPU, determinism."""
import importlib.util
import json
import logging
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
import torch
from spacy.tokens import Span
from spacy.training import Example

import spacy_deeper.model
from conftest import DATA, TINY_CONFIG, gold_docs, predictions, train_tiny
from spacy_deeper.corpus import record_to_doc
from spacy_deeper.segments import make_segments

BENCH = Path(__file__).resolve().parent.parent / "scripts" / "bench_long_docs.py"
sys.path.insert(0, str(BENCH.parent))

import bench_long_docs  # noqa: E402


def rows(docs):
    """Entities (token offsets, labels) and the stored relation rows (exact scores)."""
    return [([(e.start, e.end, e.label_) for e in doc.ents], doc._.relations_data or []) for doc in docs]


def assert_same(actual, expected, tol=1e-5):
    """The same rows, but scores within tol: a segment's scores can differ in the last
    bits with the shapes of the batch it is in."""
    assert len(actual) == len(expected)
    for (ents, rels), (expected_ents, expected_rels) in zip(actual, expected):
        assert ents == expected_ents
        assert [row[:5] for row in rels] == [row[:5] for row in expected_rels]
        assert all(abs(row[5] - other[5]) <= tol for row, other in zip(rels, expected_rels))


def texts_of(gold):
    return [doc.text for doc in gold]


@pytest.fixture(scope="module")
def sentencized(trained_path):
    nlp = spacy.load(trained_path)
    nlp.add_pipe("sentencizer", before="deeper_joint")
    return nlp


# 1. Raw text: sentences first ------------------------------------------------------------------


def test_sentencizer_before_the_component_predicts_per_sentence(sentencized, gold):
    single = [t for t in texts_of(gold) if len(list(sentencized(t).sents)) == 1 and t.endswith((".", "!", "?"))]
    assert len(single) >= 5
    doc = sentencized(" ".join(single))
    sents = list(doc.sents)
    assert [s.text for s in sents] == single
    assert doc._.relations
    for sent, text in zip(sents, single):
        alone = sentencized(text)
        shift = sent.start_char
        ents = [(e.start_char - shift, e.end_char - shift, e.label_) for e in doc.ents if e.sent == sent]
        rels = [
            [r.head.start_char - shift, r.head.end_char - shift, r.tail.start_char - shift, r.tail.end_char - shift,
             r.label, r.score]
            for r in doc._.relations
            if r.head.sent == sent
        ]
        expected_rels = [
            [r.head.start_char, r.head.end_char, r.tail.start_char, r.tail.end_char, r.label, r.score]
            for r in alone._.relations
        ]
        assert_same([(ents, rels)], [([(e.start_char, e.end_char, e.label_) for e in alone.ents], expected_rels)])
    for rel in doc._.relations:
        assert rel.head.sent == rel.tail.sent


def test_a_relation_across_sentences_is_not_predicted(trained_nlp, gold):
    pipe = trained_nlp.get_pipe("deeper_joint")
    for text in texts_of(gold):
        doc = trained_nlp(text)
        if doc._.relations:
            rel = doc._.relations[0]
            break
    else:
        pytest.fail("the tiny pipeline predicts no relation")
    first, second = sorted((rel.head, rel.tail), key=lambda span: span.start)
    split = first.end  # the second sentence starts right after the first argument
    assert split <= second.start
    key = (rel.head.start_char, rel.tail.start_char, rel.label)
    assert key in {(r.head.start_char, r.tail.start_char, r.label) for r in doc._.relations}

    doc = trained_nlp.make_doc(text)
    for token in doc:
        token.is_sent_start = token.i in (0, split)
    doc = pipe(doc)
    assert len(list(doc.sents)) == 2
    assert key not in {(r.head.start_char, r.tail.start_char, r.label) for r in doc._.relations}
    for r in doc._.relations:
        assert r.head.sent == r.tail.sent


# 2. Long input ---------------------------------------------------------------------------------


def test_one_sentence_of_5000_tokens_is_cut_into_windows(sentencized):
    text = bench_long_docs.make_text("sentence", 5000)
    doc = sentencized(text)
    assert len(doc) == 5000 and len(list(doc.sents)) == 1
    max_length = sentencized.get_pipe("deeper_joint").model.attrs["max_length"]
    segments = make_segments([doc], max_length)
    assert len(segments) == math.ceil(5000 / max_length)
    assert max(end - start for _, start, end in segments) == max_length
    assert doc.ents
    for rel in doc._.relations:  # both arguments in one window
        assert (rel.head.end - 1) // max_length == (rel.tail.end - 1) // max_length


def test_prediction_does_not_depend_on_the_grouping_of_segments(trained_nlp, gold, monkeypatch):
    texts = texts_of(gold) + [" ".join(texts_of(gold)), "", bench_long_docs.make_text("sentence", 700)]
    expected = rows(trained_nlp.pipe(texts, batch_size=len(texts)))
    for group_tokens in (1, 200, 10**9):  # one segment a group ... all in one group
        monkeypatch.setattr(spacy_deeper.model, "PREDICT_GROUP_TOKENS", group_tokens)
        assert_same(rows(trained_nlp.pipe(texts, batch_size=len(texts))), expected)


@pytest.mark.slow
@pytest.mark.parametrize("sentencizer", [False, True])
def test_100k_words_peak_memory_under_2gb(trained_path, sentencizer):
    """In a fresh process, as scripts/bench_long_docs.py measures it (benchmarks/long_docs.md)."""
    result = bench_long_docs.measure(trained_path, "words", 100_000, sentencizer)
    assert result["tokens"] > 100_000
    assert result["longest_segment"] <= 128
    assert result["peak_mb"] < 2000, result
    # Reading doc._.relations is linear in the doc: it costs less than predicting them
    # (once it joined doc.text per relation, 15 minutes for these 100k words).
    assert result["relations_seconds"] < result["seconds"], result


# 3. Bad input ----------------------------------------------------------------------------------

BAD_TEXTS = [
    "",
    " ",
    "\n\n\t  \r\n",
    "\x00\x01\x07\x1b[31m red \x7f",
    "\u200b\u200d\ufeff \u2028",
    "Hello 😀 👩‍👩‍👧 🇫🇷 world !",
    "北京是中国的首都。",
    "موسكو هي عاصمة روسيا .",
    "Москва — столица России .",
    "नमस्ते दुनिया",
    "x",
    ".",
    "😀",
    "a" * 10_000,
    "John Smith 😀 works for 北京 Acme Corp in Boston .\x00",
]


@pytest.mark.parametrize("text", BAD_TEXTS, ids=range(len(BAD_TEXTS)))
def test_bad_input_gives_a_valid_result(trained_nlp, text):
    doc = trained_nlp(text)
    assert doc.text == text
    for ent in doc.ents:
        assert ent.label_ in trained_nlp.get_pipe("deeper_joint").labels
    for rel in doc._.relations:
        assert rel.head in doc.ents and rel.tail in doc.ents and rel.head != rel.tail


def test_bad_input_in_one_batch_as_one_by_one(trained_nlp):
    texts = BAD_TEXTS + ["John Smith works for Acme Corp in Boston ."]
    assert_same(rows(trained_nlp.pipe(texts)), rows(trained_nlp(t) for t in texts))


def test_1000_identical_docs(trained_nlp, gold):
    text = gold[1].text
    alone = rows([trained_nlp(text)])[0]
    docs = list(trained_nlp.pipe([text] * 1000))
    assert len(docs) == 1000
    assert_same(rows(docs), [alone] * 1000)
    assert alone[1]  # with relations


def test_doc_from_another_vocab_gets_the_same_result(trained_nlp, gold):
    text = gold[8].text
    doc = spacy.blank("en").make_doc(text)
    assert doc.vocab is not trained_nlp.vocab
    assert predictions([trained_nlp(doc)]) == predictions([trained_nlp(text)])
    other = spacy.blank("en").make_doc(text)
    assert predictions(trained_nlp.pipe([other, text])) == predictions([trained_nlp(text)] * 2)


def _with_mine(nlp, text):
    doc = nlp.make_doc(text)
    doc.ents = [Span(doc, 0, 1, label="MINE")]
    return doc


def test_existing_ents_through_pipe_overwritten_or_kept_by_config(trained_path, trained_nlp, gold):
    texts = texts_of(gold)[:4]
    predicted = list(trained_nlp.pipe(texts))
    overwriting = spacy.load(trained_path)
    keeping = spacy.load(trained_path, config={"components": {"deeper_joint": {"overwrite_ents": False}}})
    assert keeping.get_pipe("deeper_joint").cfg["overwrite_ents"] is False
    docs = list(overwriting.pipe([_with_mine(overwriting, t) for t in texts] + texts))
    assert_same(rows(docs), rows(predicted + predicted))
    docs = list(keeping.pipe([_with_mine(keeping, t) for t in texts], batch_size=2))
    for doc, pred in zip(docs, predicted):
        assert [(e.start, e.end, e.label_) for e in doc.ents[:1]] == [(0, 1, "MINE")]
        assert [(e.start, e.end, e.label_) for e in doc.ents[1:]] == [
            (e.start, e.end, e.label_) for e in pred.ents if e.start >= 1
        ]
        kept = {(e.start, e.end) for e in doc.ents[1:]}
        expected = [r for r in pred._.relations_data if (r[0], r[1]) in kept and (r[2], r[3]) in kept]
        assert_same([([], doc._.relations_data)], [([], expected)])
    # Without entities of its own, a doc gets the same as when overwriting.
    assert_same(rows(keeping.pipe(texts)), rows(predicted))


def test_config_overrides_hold_when_loading(trained_path):
    settings = {"overwrite_ents": False, "threshold": 0.9, "lambda_r": 2.0}
    nlp = spacy.load(trained_path, config={"components": {"deeper_joint": settings}})
    cfg = nlp.get_pipe("deeper_joint").cfg
    assert {key: cfg[key] for key in settings} == settings
    doc = nlp("John Wilkes Booth , who assassinated President Abraham Lincoln , was an actor .")
    assert all(rel.score >= 0.9 for rel in doc._.relations)


# 4. Batching and processes ----------------------------------------------------------------------


def _mixed_texts(gold):
    return texts_of(gold) + ["", "x", " ".join(texts_of(gold))] + texts_of(gold)[::-1]


@pytest.mark.parametrize("batch_size", [1, 8, 1000])
def test_pipe_batch_size_gives_the_same_as_one_by_one(trained_nlp, gold, batch_size):
    texts = _mixed_texts(gold)
    assert_same(rows(trained_nlp.pipe(texts, batch_size=batch_size)), rows(trained_nlp(t) for t in texts))


def test_pipe_with_two_processes_and_contexts(trained_nlp, gold):
    texts = _mixed_texts(gold)
    expected = rows(trained_nlp(t) for t in texts)
    assert_same(rows(trained_nlp.pipe(texts, n_process=2, batch_size=4)), expected)
    for n_process in (1, 2):
        pairs = [(text, {"id": i}) for i, text in enumerate(texts)]
        out = list(trained_nlp.pipe(pairs, as_tuples=True, n_process=n_process, batch_size=3))
        assert [context for _, context in out] == [{"id": i} for i in range(len(texts))]
        assert [doc.text for doc, _ in out] == texts
        assert_same(rows(doc for doc, _ in out), expected)


# 5. Corrupt or mismatched model files -----------------------------------------------------------


@pytest.fixture
def saved_copy(trained_path, tmp_path):
    path = tmp_path / "copy"
    shutil.copytree(trained_path, path)
    return path


@pytest.mark.parametrize("keep", [0.0, 0.5, 0.999])
def test_truncated_model_file_is_a_clear_error(saved_copy, keep):
    model = saved_copy / "deeper_joint" / "model"
    data = model.read_bytes()
    model.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match=r"\[deeper_joint\] Cannot load .*model: the file is truncated or corrupt"):
        spacy.load(saved_copy)


@pytest.mark.parametrize("part", ["model", "cfg"])
def test_missing_file_is_a_clear_error(saved_copy, part):
    (saved_copy / "deeper_joint" / part).unlink()
    with pytest.raises(ValueError, match=rf"\[deeper_joint\] Cannot load the component: .*{part} is missing"):
        spacy.load(saved_copy)


def test_corrupt_cfg_is_a_clear_error(saved_copy):
    cfg = saved_copy / "deeper_joint" / "cfg"
    cfg.write_text(cfg.read_text()[:20])
    with pytest.raises(ValueError, match=r"\[deeper_joint\] Cannot load .*cfg: the file is truncated or corrupt"):
        spacy.load(saved_copy)


@pytest.mark.parametrize(
    "change",
    [
        lambda cfg: cfg["ent_labels"].append("Extra"),
        lambda cfg: cfg["ent_labels"].pop(),
        lambda cfg: cfg["rel_labels"].append("Extra"),
        lambda cfg: cfg["rel_labels"].pop(),
        lambda cfg: cfg["ent_labels"].__setitem__(0, "Place"),  # same count, another name
        lambda cfg: cfg.__setitem__("tag_scheme", "BILUO"),
    ],
    ids=["add-ent", "remove-ent", "add-rel", "remove-rel", "rename-ent", "scheme"],
)
def test_cfg_labels_the_weights_do_not_have_is_a_clear_error(saved_copy, change):
    path = saved_copy / "deeper_joint" / "cfg"
    cfg = json.loads(path.read_text())
    change(cfg)
    path.write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match=r"\[deeper_joint\] The labels do not match the weights"):
        spacy.load(saved_copy)


def test_config_the_weights_do_not_fit_is_a_clear_error(saved_copy):
    config = saved_copy / "config.cfg"
    text = config.read_text()
    assert "\nhidden_size = 48\n" in text
    config.write_text(text.replace("\nhidden_size = 48\n", "\nhidden_size = 64\n"))
    with pytest.raises(ValueError, match=r"(?s)\[deeper_joint\] Cannot load .*model: .*does not fit .*size mismatch"):
        spacy.load(saved_copy)


def test_truncated_bytes_are_a_clear_error(trained_path):
    nlp = spacy.load(trained_path)
    pipe = nlp.get_pipe("deeper_joint")
    data = pipe.to_bytes()
    with pytest.raises(ValueError, match=r"\[deeper_joint\] Cannot load the component from bytes"):
        pipe.from_bytes(data[: len(data) // 2])


# 6. Training data -------------------------------------------------------------------------------


def _listener_nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("tok2vec", config={"model": {
        "@architectures": "spacy.HashEmbedCNN.v2", "width": 32, "depth": 1, "embed_size": 500, "window_size": 1,
        "maxout_pieces": 2, "subword_features": True, "pretrained_vectors": None,
    }})
    listener = {"@architectures": "spacy.Tok2VecListener.v1", "width": 32, "upstream": "*"}
    nlp.add_pipe("deeper_joint", config={"model": {**TINY_CONFIG["model"], "tok2vec": listener}})
    return nlp


def test_batches_without_entities_or_pairs_backprop_into_a_shared_tok2vec():
    nlp = _listener_nlp()
    gold = gold_docs(nlp)
    optimizer = nlp.initialize(lambda: [Example(nlp.make_doc(d.text), d) for d in gold])
    no_entities = [Example(nlp.make_doc(t), nlp.make_doc(t)) for t in ("nothing to see here .", "or here")]
    one_entity = record_to_doc(nlp.vocab, {"tokens": ["John", "slept", "."], "entities": [[0, 1, "Peop"]], "relations": []})
    no_pairs = [Example(nlp.make_doc(one_entity.text), one_entity)]
    with_empty = no_entities + [Example(nlp.make_doc(""), nlp.make_doc(""))]
    tok2vec = nlp.get_pipe("tok2vec").model
    for batch in (no_entities, no_pairs, with_empty):
        losses = nlp.update(batch, sgd=optimizer)
        assert losses["deeper_joint"] > 0 and math.isfinite(losses["deeper_joint"])
        assert losses["tok2vec"] > 0  # the listener passed a gradient back
        # spaCy applies a shared tok2vec's gradient at the next step: here it is this batch's.
        grads = [node.get_grad(name) for node in tok2vec.walk() for name in node.param_names if node.has_grad(name)]
        assert sum(float(abs(grad).sum()) for grad in grads) > 0
    empty_only = [Example(nlp.make_doc(""), nlp.make_doc(""))]
    assert nlp.update(empty_only, sgd=optimizer)["deeper_joint"] == 0.0


def _two_sentences(nlp):
    """A relation inside the first sentence and one across the two."""
    record = {
        "tokens": "John Smith lives in Boston . He works for Acme Corp .".split(),
        "entities": [[0, 2, "Peop"], [4, 5, "Loc"], [9, 11, "Org"]],
        "relations": [[0, 2, 4, 5, "Live_In"], [0, 2, 9, 11, "Work_For"]],
    }
    ref = record_to_doc(nlp.vocab, record)
    pred = nlp.make_doc(ref.text)
    for token in pred:
        token.is_sent_start = token.i in (0, 6)
    return Example(pred, ref)


def test_relations_across_sentences_are_counted_and_reported_once(caplog):
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("deeper_joint", config=TINY_CONFIG)
    gold = gold_docs(nlp)
    optimizer = nlp.initialize(lambda: [Example(nlp.make_doc(d.text), d) for d in gold])
    assert pipe.n_cross_segment_relations == 0
    nlp.update([Example(nlp.make_doc(d.text), d) for d in gold], sgd=optimizer)
    assert pipe.n_cross_segment_relations == 0
    with caplog.at_level(logging.WARNING, logger="spacy"):
        for expected in (1, 2):
            losses = nlp.update([_two_sentences(nlp)], sgd=optimizer)
            assert math.isfinite(losses["deeper_joint"])
            assert pipe.n_cross_segment_relations == expected
    warnings = [r.getMessage() for r in caplog.records if "different sentences" in r.getMessage()]
    assert len(warnings) == 1 and "[deeper_joint] 1 gold relation(s)" in warnings[0]


def test_relations_across_gold_sentences_are_left_out_counted_and_reported_once(caplog):
    """Training docs made from text have no sentence boundaries: the gold doc's sentences
    are the segments. A relation across them changes nothing in the loss, and is counted."""
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("deeper_joint", config=TINY_CONFIG)
    gold = gold_docs(nlp)
    nlp.initialize(lambda: [Example(nlp.make_doc(d.text), d) for d in gold])
    two_sentences = _two_sentences(nlp).reference
    within, across = [0, 2, 4, 5, "Live_In"], [0, 2, 9, 11, "Work_For"]

    def loss(relations):
        ref = two_sentences.copy()
        ref._.relations = relations
        for token in ref:
            token.is_sent_start = token.i in (0, 6)
        return pipe.update([Example(nlp.make_doc(ref.text), ref)])["deeper_joint"]  # no sgd: same weights

    with caplog.at_level(logging.WARNING, logger="spacy"):
        only_within = loss([within])
        assert pipe.n_cross_segment_relations == 0
        assert loss([]) != pytest.approx(only_within)  # the loss does see the relations
        assert loss([within, across]) == pytest.approx(only_within, rel=1e-9)  # not used ...
        assert pipe.n_cross_segment_relations == 1  # ... and not dropped silently
        loss([within, across])
        assert pipe.n_cross_segment_relations == 2
    warnings = [r.getMessage() for r in caplog.records if "different sentences" in r.getMessage()]
    assert len(warnings) == 1 and "[deeper_joint] 1 gold relation(s)" in warnings[0]


def test_relations_across_windows_are_counted():
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("deeper_joint", config={"model": {**TINY_CONFIG["model"], "max_length": 6}})
    gold = gold_docs(nlp)
    nlp.initialize(lambda: [Example(nlp.make_doc(d.text), d) for d in gold])
    example = _two_sentences(nlp)
    pred = nlp.make_doc(example.reference.text)  # no sentence starts: windows [0, 6) and [6, 12)
    nlp.update([Example(pred, example.reference)])
    assert pipe.n_cross_segment_relations == 1


# 7. GPU -----------------------------------------------------------------------------------------

GPU_SCRIPT = r"""
import json, math, sys
import spacy
from spacy.training import Example
from spacy_deeper.corpus import read_jsonl

spacy.require_gpu()
path, data = sys.argv[1], sys.argv[2]
nlp = spacy.load(path)
gold = list(read_jsonl(data, nlp.vocab))
texts = json.load(sys.stdin)
docs = list(nlp.pipe(texts, batch_size=4))
out = [([(e.start_char, e.end_char, e.label_) for e in d.ents],
        [(r.head.start_char, r.tail.start_char, r.label, r.score) for r in d._.relations]) for d in docs]
loss = nlp.update([Example(nlp.make_doc(d.text), d) for d in gold])["deeper_joint"]
print(json.dumps({"predictions": out, "loss": loss}))
"""


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_predictions_agree_with_cpu(trained_nlp, trained_path, gold):
    if importlib.util.find_spec("cupy") is None:
        pytest.fail("CUDA is present but cupy is not installed (pip install cupy-cuda12x): thinc needs it for the GPU")
    texts = _mixed_texts(gold)
    result = subprocess.run(
        [sys.executable, "-c", GPU_SCRIPT, str(trained_path), str(DATA)],
        input=json.dumps(texts), capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert math.isfinite(out["loss"]) and out["loss"] > 0
    cpu = list(trained_nlp.pipe(texts, batch_size=4))
    for doc, (ents, rels) in zip(cpu, out["predictions"]):
        assert [tuple(e) for e in ents] == [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        on_cpu = {(r.head.start_char, r.tail.start_char, r.label): r.score for r in doc._.relations}
        on_gpu = {tuple(r[:3]): r[3] for r in rels}
        assert on_gpu.keys() == on_cpu.keys()
        for key, score in on_gpu.items():
            assert score == pytest.approx(on_cpu[key], abs=1e-3)


# 8. Determinism ----------------------------------------------------------------------------------


def test_training_with_a_fixed_seed_is_deterministic():
    first = train_tiny(steps=5, seed=7).get_pipe("deeper_joint").model.to_bytes()
    second = train_tiny(steps=5, seed=7).get_pipe("deeper_joint").model.to_bytes()
    assert first == second
    assert train_tiny(steps=5, seed=8).get_pipe("deeper_joint").model.to_bytes() != first


def test_inference_is_deterministic(trained_nlp, trained_path, gold):
    texts = _mixed_texts(gold)
    first = rows(trained_nlp.pipe(texts))
    assert rows(trained_nlp.pipe(texts)) == first
    assert rows(spacy.load(trained_path).pipe(texts)) == first
