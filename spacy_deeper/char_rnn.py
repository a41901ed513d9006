"""The paper's character BiRNN: each token's characters through a bidirectional RNN,
whose two final states are the token's character features (Lample et al. 2016;
Crone 2020 uses 32 units per direction).

`CharBiRNN` is plain torch; `build_char_birnn` is the Thinc layer from docs to one
array per doc. It runs the RNN once per distinct word form of a batch.
"""
from typing import Dict, List, Sequence, Tuple

import numpy
import torch
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import ArgsKwargs, Model, xp2torch
from thinc.layers.pytorchwrapper import convert_pytorch_default_outputs
from thinc.layers.pytorchwrapper import forward as pytorch_forward
from thinc.types import Floats2d
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from .shim import AveragingPyTorchShim
from .network import RNN_TYPES


class CharBiRNN(nn.Module):
    """(n_words, max_chars) character ids, 0 for padding, and their lengths ->
    (n_words, 2 * hidden): the forward RNN's last state and the backward RNN's first."""

    def __init__(self, n_rows: int, embed_size: int, hidden: int, cell: str):
        super().__init__()
        if cell not in RNN_TYPES:
            raise ValueError(f"Unknown rnn_type {cell!r}: use one of {sorted(RNN_TYPES)}.")
        self.embed = nn.Embedding(n_rows, embed_size, padding_idx=0)
        self.rnn = RNN_TYPES[cell](embed_size, hidden, batch_first=True, bidirectional=True)

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        packed = pack_padded_sequence(self.embed(ids), lengths, batch_first=True, enforce_sorted=False)
        final = self.rnn(packed)[1]
        if isinstance(final, tuple):  # an LSTM's (h, c)
            final = final[0]
        return torch.cat([final[0], final[1]], dim=-1)


def char_ids(words: Sequence[str], n_rows: int, max_chars: int) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """Character ids (1 + code point mod (n_rows - 1); 0 pads) and lengths. A word
    longer than max_chars keeps its first and last max_chars // 2 characters."""
    half = max_chars // 2
    words = [w if len(w) <= max_chars else w[:half] + w[-half:] for w in words]
    lengths = numpy.array([max(len(w), 1) for w in words], dtype="int64")
    ids = numpy.zeros((len(words), int(lengths.max(initial=1))), dtype="int64")
    for i, word in enumerate(words):
        ids[i, : len(word)] = [1 + ord(c) % (n_rows - 1) for c in word]
    return ids, lengths


@registry.architectures("spacy_deeper.CharBiRNN.v1")
def build_char_birnn(
    hidden: int = 32, embed_size: int = 25, rows: int = 256, max_chars: int = 20, rnn_type: str = "lstm"
) -> Model[List[Doc], List[Floats2d]]:
    """Character BiRNN features per token, 2 * hidden wide. Characters are cased;
    code points share rows modulo rows - 1 (rows = 256 keeps Latin-1 apart)."""
    if rows < 2 or max_chars < 2:
        raise ValueError(f"CharBiRNN needs rows >= 2 and max_chars >= 2, got {rows} and {max_chars}.")
    net = CharBiRNN(rows, embed_size, hidden, rnn_type)
    wrapped = Model(
        "char_birnn_torch",
        pytorch_forward,
        attrs={"convert_inputs": _convert_inputs, "convert_outputs": convert_pytorch_default_outputs},
        shims=[AveragingPyTorchShim(net)],
    )
    return Model(
        "char_birnn",
        _forward,
        layers=[wrapped],
        attrs={"rows": rows, "max_chars": max_chars},
        dims={"nO": 2 * hidden},
    )


def _forward(model: Model, docs: List[Doc], is_train: bool):
    n_out = model.get_dim("nO")
    forms: Dict[str, int] = {}
    inverse = [numpy.array([forms.setdefault(t.text, len(forms)) for t in doc], dtype="int32") for doc in docs]
    if not forms:
        return [model.ops.alloc2f(0, n_out) for _ in docs], lambda dYs: []
    ids, lengths = char_ids(list(forms), model.attrs["rows"], model.attrs["max_chars"])
    Y, backprop_net = model.layers[0]((ids, lengths), is_train)
    Ys = [Y[model.ops.asarray1i(inv)] for inv in inverse]

    def backprop(dYs: List[Floats2d]) -> List[Doc]:
        dY = model.ops.alloc2f(*Y.shape)
        for inv, d in zip(inverse, dYs):
            model.ops.scatter_add(dY, model.ops.asarray1i(inv), d)
        backprop_net(dY)
        return []

    return Ys, backprop


def _convert_inputs(model: Model, inputs, is_train: bool):
    ids, lengths = inputs
    # pack_padded_sequence wants the lengths on the CPU.
    return ArgsKwargs(args=(xp2torch(model.ops.asarray(ids)), torch.as_tensor(lengths)), kwargs={}), lambda d: None
