"""BiRNN against torch's own bidirectional RNN over packed sequences, with the same weights."""
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from spacy_deeper.network import BiRNN


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_matches_packed_bidirectional_rnn(cell):
    torch.manual_seed(0)
    ours = BiRNN(5, 4, n_layers=2, cell=cell, dropout=0.0).eval()
    reference = getattr(torch.nn, cell.upper())(5, 4, num_layers=2, bidirectional=True, batch_first=True)
    with torch.no_grad():
        for layer in range(2):
            for rnn, suffix in ((ours.forward_rnns[layer], ""), (ours.backward_rnns[layer], "_reverse")):
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(reference, f"{name}_l{layer}{suffix}").copy_(getattr(rnn, f"{name}_l0"))
    lengths = torch.tensor([6, 2, 4, 1])
    x = torch.randn(4, 6, 5)
    x[torch.arange(6)[None, :] >= lengths[:, None]] = 100.0  # padding must not leak into real tokens
    expected, _ = reference(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
    expected, _ = pad_packed_sequence(expected, batch_first=True)
    padded = ours(x, lengths)  # with gradients, as in training: over the padded rows
    with torch.no_grad():
        packed = ours(x, lengths)  # without, as in prediction: packed
    for got in (padded, packed):
        assert got.shape == (4, 6, 8)
        for row, n in enumerate(lengths.tolist()):
            torch.testing.assert_close(got[row, :n], expected[row, :n], atol=1e-5, rtol=1e-5)


def test_prediction_handles_empty_rows():
    torch.manual_seed(0)
    stack = BiRNN(3, 2, n_layers=1, cell="gru", dropout=0.0).eval()
    x = torch.randn(2, 3, 3)
    with torch.no_grad():
        out = stack(x, torch.tensor([3, 0]))
        assert out.shape == (2, 3, 4)
        torch.testing.assert_close(out[0], stack(x[:1], torch.tensor([3]))[0])


def test_zero_layers_is_the_identity():
    stack = BiRNN(5, 4, n_layers=0, cell="gru", dropout=0.5)
    x = torch.randn(2, 3, 5)
    assert stack.n_out == 5 and stack(x, torch.tensor([3, 1])) is x

