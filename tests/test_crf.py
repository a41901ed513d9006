"""The CRF against brute-force enumeration of every tag path."""
import itertools

import pytest
import torch

from spacy_deeper.crf import LinearChainCRF
from spacy_deeper.tags import TagSet


def brute_force(crf, emissions, length):
    """log Z and the best path of one row, by enumerating all paths."""
    trans = crf.transition_scores()
    scores = {}
    for path in itertools.product(range(crf.n_tags), repeat=length):
        s = crf.start[path[0]] + crf.end[path[-1]]
        s = s + sum(emissions[t, tag] for t, tag in enumerate(path))
        s = s + sum(trans[a, b] for a, b in zip(path, path[1:]))
        scores[path] = s
    log_z = torch.logsumexp(torch.stack(list(scores.values())), 0)
    best = max(scores, key=lambda p: scores[p].item())
    return log_z, list(best), scores


def random_crf(n_tags, allowed=None, seed=0):
    torch.manual_seed(seed)
    crf = LinearChainCRF(n_tags, allowed)
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    return crf


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_log_partition_and_viterbi_match_brute_force(seed):
    crf = random_crf(3, seed=seed)
    lengths = torch.tensor([4, 1, 3])
    emissions = torch.randn(3, 4, 3)
    log_z = crf.log_partition(emissions, lengths)
    paths = crf.viterbi(emissions, lengths)
    for row, length in enumerate(lengths.tolist()):
        expected_z, expected_path, scores = brute_force(crf, emissions[row], length)
        assert log_z[row].item() == pytest.approx(expected_z.item(), abs=1e-4)
        assert paths[row, :length].tolist() == expected_path
        assert paths[row, length:].tolist() == [0] * (4 - length)
        # The gold path score and the NLL of a random path.
        path = torch.randint(0, 3, (1, 4))
        path[0, length:] = 0
        score = crf.path_score(emissions[row : row + 1], path, lengths[row : row + 1])
        assert score.item() == pytest.approx(scores[tuple(path[0, :length].tolist())].item(), abs=1e-4)
        nll = crf.neg_log_likelihood(emissions[row : row + 1], path, lengths[row : row + 1])
        assert nll.item() == pytest.approx((expected_z - score).item(), abs=1e-4)


def test_constrained_viterbi_never_uses_forbidden_transitions():
    tags = TagSet(["Loc"], "BIO")  # O, B-Loc, I-Loc
    allowed = torch.tensor(tags.allowed_transitions())
    crf = random_crf(len(tags), allowed, seed=3)
    emissions = torch.randn(20, 5, len(tags))
    emissions[:, :, 2] += 3.0  # push hard towards I-Loc everywhere
    paths = crf.viterbi(emissions, torch.full((20,), 5))
    for path in paths.tolist():
        for a, b in zip(path, path[1:]):
            assert allowed[a, b], path
    # Brute force agrees once forbidden paths are penalized.
    log_z = crf.log_partition(emissions[:1], torch.tensor([5]))
    expected_z, expected_path, _ = brute_force(crf, emissions[0], 5)
    assert log_z.item() == pytest.approx(expected_z.item(), abs=1e-4)
    assert paths[0].tolist() == expected_path


def test_nll_is_positive_and_differentiable():
    crf = random_crf(4)
    emissions = torch.randn(2, 6, 4, requires_grad=True)
    nll = crf.neg_log_likelihood(emissions, torch.randint(0, 4, (2, 6)), torch.tensor([6, 2])).sum()
    assert nll.item() > 0
    nll.backward()
    assert emissions.grad[1, 2:].abs().sum() == 0  # padding gets no gradient
    assert crf.transitions.grad is not None
