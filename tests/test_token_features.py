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
    net = layer.layers[0].shims[0]._model
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


def test_static_vectors_use_the_vectors_attribute():
    """Vectors made with `spacy init vectors --attr LOWER` are found for any casing;
    an unknown word gets zeros. The oracle is the projection computed by hand."""
    nlp = spacy.blank("en")
    data = numpy.array([[1.0, 2.0], [3.0, -1.0]], dtype="float32")
    nlp.vocab.vectors = Vectors(data=data, keys=[nlp.vocab.strings.add("apple"), nlp.vocab.strings.add("tim")], attr="LOWER")
    layer = registry.architectures.get("spacy_deeper.StaticVectors.v1")(width=3)
    doc = nlp("Tim likes APPLE")
    layer.initialize(X=[doc])
    W = layer.layers[0].get_param("W")
    (Y,), _ = layer([doc], is_train=False)
    numpy.testing.assert_allclose(Y, [W @ data[1], numpy.zeros(3), W @ data[0]], rtol=1e-6)
