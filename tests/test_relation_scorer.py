"""The multi-head selection scorer against its formula on a hand-made example."""
import math

import pytest
import torch

from spacy_deeper.network import (
    DeeperJointNet, MultiHeadSelection, NetSettings, PairContext, PairDistance, pair_features, range_max,
)


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


@pytest.mark.parametrize("pool", ["mean", "max"])
def test_pair_context_by_loop_and_its_zero_start(pool):
    torch.manual_seed(2)
    context = PairContext(n_in=5, hidden=4, n_rels=3, dropout=0.0, pool=pool).eval()
    h = torch.randn(2, 13, 5)
    # Entity-end positions; a pad repeats one. Ranges of 0 to 11 tokens cross every level of the max's table.
    slot = torch.tensor([[1, 6, 2, 3, 12], [8, 0, 4, 4, 11]])
    # The map starts at zero: the scorer starts as the paper's.
    assert torch.equal(context(h, slot), torch.zeros(2, 5, 5, 3))
    with torch.no_grad():
        context.out.weight.normal_()
    logits = context(h, slot)
    assert logits.shape == (2, 5, 5, 3)
    c = torch.tanh(context.project(h))
    for b in range(2):
        for i in range(5):
            for j in range(5):
                lo, hi = sorted((int(slot[b, i]), int(slot[b, j])))
                between = [c[b, t] for t in range(lo + 1, hi)]
                if not between:
                    pooled = torch.zeros(4)
                elif pool == "mean":
                    pooled = torch.stack(between).mean(0)
                else:
                    pooled = torch.stack(between).max(0).values
                assert logits[b, i, j].tolist() == pytest.approx((context.out.weight @ pooled).tolist(), abs=1e-5)
    # Symmetric in the pair by construction, and zero for adjacent ends (2, 3) and for (i, i).
    assert torch.allclose(logits, logits.transpose(1, 2))
    assert torch.equal(logits[0, 2, 3], torch.zeros(3)) and torch.equal(logits[1, 2, 3], torch.zeros(3))


def test_range_max_gradient_reaches_only_the_maxima():
    c = torch.tensor([[[0.0], [3.0], [1.0], [2.0], [5.0]]], requires_grad=True)
    first, end = torch.tensor([[[1, 1]]]), torch.tensor([[[4, 2]]])
    out = range_max(c, first, end)
    assert out.flatten().tolist() == [3.0, 3.0]  # max(c[1:4]), max(c[1:2])
    out.sum().backward()
    assert c.grad.flatten().tolist() == [0.0, 2.0, 0.0, 0.0, 0.0]  # the maximum of both ranges, once for each


# A small net with neither optional relation term; the tests below change one setting of it.
PLAIN = dict(rnn_type="gru", hidden_size=4, n_shared=1, n_ner=0, n_re=1, ner_hidden=4, tag_embed_size=3, rel_hidden=4,
             rnn_dropout=0.0, rel_dropout=0.0, rel_bilinear=False, rel_context="none", rel_distance=False)


def _net(**change) -> DeeperJointNet:
    torch.manual_seed(3)
    net = DeeperJointNet(NetSettings(**{**PLAIN, **change}))
    allowed = [[True] * 3] * 3  # O, B, I
    net.configure(n_in=5, n_rels=2, allowed=allowed, is_entity=[False, True, True], is_continuation=[False, False, True])
    return net.eval()


@pytest.mark.parametrize(
    "change, term, weights",
    [
        ({"rel_context": "max"}, "pair_context",
         ["pair_context.out.weight", "pair_context.project.bias", "pair_context.project.weight"]),
        ({"rel_distance": True}, "pair_distance", ["pair_distance.out.weight"]),
    ],
)
def test_the_net_adds_a_relation_term_only_when_asked(change, term, weights):
    plain, net = _net(), _net(**change)
    assert getattr(plain, term) is None
    # The same weights but for the term's, whose map starts at zero: the same predictions.
    missing = net.load_state_dict(plain.state_dict(), strict=False).missing_keys
    assert sorted(missing) == weights
    X = torch.randn(7, 5)
    index, lengths = torch.tensor([[0, 1, 2, 3, 4, 5, 6]]), torch.tensor([7])
    tags = torch.tensor([[1, 0, 0, 1, 2, 0, 1]])  # entities end at 0, 4 and 6
    with torch.no_grad():
        rel_loss = plain(X, index, lengths, gold_tags=tags)[1]
        assert torch.allclose(net(X, index, lengths, gold_tags=tags)[1], rel_loss)
        getattr(net, term).out.weight.normal_()
        assert not torch.allclose(net(X, index, lengths, gold_tags=tags)[1], rel_loss)


def test_an_unknown_context_pooling_is_refused():
    with pytest.raises(ValueError, match="Unknown rel_context 'sum'"):
        NetSettings(**{**PLAIN, "rel_context": "sum"})


def test_pair_distance_buckets_by_hand_and_its_zero_start():
    distance = PairDistance(n_rels=2, n_buckets=4)  # 1, 2, 3-4, 5+ either way, and 0
    signed = torch.tensor([0, 1, 2, 3, 4, 5, 8, 100, -1, -2, -3, -4, -5, -100])
    assert distance.bucket(signed).tolist() == [4, 5, 6, 7, 7, 8, 8, 8, 3, 2, 1, 1, 0, 0]
    slot = torch.tensor([[2, 0, 9]])
    assert torch.equal(distance(slot), torch.zeros(1, 3, 3, 2))  # it starts at zero
    with torch.no_grad():
        distance.out.weight.copy_(torch.arange(18.0).reshape(9, 2))
    logits = distance(slot)
    # [0, i, j] is head i, tail j: the tail's end minus the head's.
    for i in range(3):
        for j in range(3):
            b = int(distance.bucket(torch.tensor(int(slot[0, j]) - int(slot[0, i]))))
            assert logits[0, i, j].tolist() == [2.0 * b, 2.0 * b + 1]
    assert logits[0, 0, 1].tolist() == [4.0, 5.0]  # 0 - 2 = -2: bucket 2
    assert logits[0, 1, 0].tolist() == [12.0, 13.0]  # +2: bucket 6
