"""The multi-head selection scorer against its formula on a hand-made example."""
import math

import pytest
import torch

from spacy_deeper.network import MultiHeadSelection, pair_features


def test_pair_features_by_hand():
    g = torch.tensor([[[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]])  # 3 tokens, d = 2
    m = torch.tensor([[1.0, 1.0], [2.0, -1.0]])  # 2 relation diagonals
    cos, dm = pair_features(g, m)
    assert cos.shape == (1, 3, 3) and dm.shape == (1, 3, 3, 2)
    assert cos[0, 0, 1].item() == pytest.approx(1 / math.sqrt(2))
    assert cos[0, 0, 2].item() == pytest.approx(0.0)
    assert cos[0, 1, 1].item() == pytest.approx(1.0)
    # g_i^T diag(m_k) g_j
    assert dm[0, 0, 1].tolist() == pytest.approx([1.0, 2.0])  # (1*1*1 + 0), (1*2*1 + 0)
    assert dm[0, 1, 2].tolist() == pytest.approx([2.0, -2.0])  # (0 + 1*1*2), (0 + 1*-1*2)
    assert dm[0, 2, 1].tolist() == dm[0, 1, 2].tolist()  # DistMult is symmetric


def test_scorer_equals_one_linear_layer_over_the_concatenation():
    torch.manual_seed(0)
    scorer = MultiHeadSelection(n_in=5, hidden=4, n_rels=3, dropout=0.0, bilinear=False).eval()
    with torch.no_grad():
        scorer.cos_out.normal_()
    h = torch.randn(2, 6, 5)
    logits = scorer(h)
    assert logits.shape == (2, 6, 6, 3)
    g = torch.tanh(scorer.project(h))
    cos, dm = pair_features(g, scorer.distmult)
    b, i, j = 1, 2, 4
    z = torch.cat([g[b, i], g[b, j], cos[b, i, j].reshape(1), dm[b, i, j]])
    weight = torch.cat(
        [scorer.head_out.weight, scorer.tail_out.weight, scorer.cos_out[:, None], scorer.dm_out.weight], dim=1
    )
    expected = weight @ z + scorer.head_out.bias
    assert logits[b, i, j].tolist() == pytest.approx(expected.tolist(), abs=1e-5)
    # Direction matters: (i, j) and (j, i) differ.
    assert not torch.allclose(logits[b, i, j], logits[b, j, i])


def test_bilinear_term_by_loop_and_its_zero_start():
    torch.manual_seed(1)
    plain = MultiHeadSelection(n_in=5, hidden=4, n_rels=3, dropout=0.0, bilinear=False).eval()
    scorer = MultiHeadSelection(n_in=5, hidden=4, n_rels=3, dropout=0.0, bilinear=True).eval()
    # The same weights as `plain` but for U, which keeps the value the constructor gave it.
    missing = scorer.load_state_dict(plain.state_dict(), strict=False).missing_keys
    assert missing == ["bilinear"]
    h = torch.randn(2, 6, 5)
    # U starts at zero, so the scorer starts as the paper's.
    assert torch.equal(scorer.bilinear, torch.zeros(3, 4, 4))
    assert torch.equal(scorer(h), plain(h))
    with torch.no_grad():
        scorer.bilinear.normal_()
    logits = scorer(h)
    g = torch.tanh(scorer.project(h))
    for b, i, j in [(0, 0, 1), (1, 2, 4), (1, 4, 2)]:
        extra = [sum(g[b, i, d] * scorer.bilinear[k, d, e] * g[b, j, e] for d in range(4) for e in range(4)).item()
                 for k in range(3)]
        expected = [p + x for p, x in zip(plain(h)[b, i, j].tolist(), extra)]
        assert logits[b, i, j].tolist() == pytest.approx(expected, abs=1e-5)
    # Unlike DistMult, the bilinear term tells (i, j) from (j, i) beyond the head / tail parts.
    sym = (logits - plain(h)) - (logits - plain(h)).transpose(1, 2)
    assert sym.abs().max() > 1e-3
