"""A linear-chain CRF in PyTorch: log-partition, gold path score and Viterbi decoding.

Batched over padded sequences with a length per row; every row must have at
least one token. Transitions that the tag scheme forbids (e.g. O -> I-X in BIO)
get a large negative penalty, so neither training nor decoding uses them.
"""
from typing import Optional

import torch
from torch import Tensor, nn

FORBIDDEN = -1e4


class LinearChainCRF(nn.Module):
    def __init__(self, n_tags: int, allowed: Optional[Tensor] = None):
        super().__init__()
        self.n_tags = n_tags
        self.transitions = nn.Parameter(torch.zeros(n_tags, n_tags))
        self.start = nn.Parameter(torch.zeros(n_tags))
        self.end = nn.Parameter(torch.zeros(n_tags))
        if allowed is None:
            allowed = torch.ones(n_tags, n_tags, dtype=torch.bool)
        penalty = torch.where(allowed.bool(), 0.0, FORBIDDEN)
        self.register_buffer("penalty", penalty.float())

    def transition_scores(self) -> Tensor:
        """(n_tags, n_tags): the learned transition scores, forbidden ones pushed down."""
        return self.transitions + self.penalty

    @staticmethod
    def _mask(emissions: Tensor, lengths: Tensor) -> Tensor:
        steps = torch.arange(emissions.shape[1], device=emissions.device)
        return steps[None, :] < lengths[:, None]

    def log_partition(self, emissions: Tensor, lengths: Tensor) -> Tensor:
        """log Z per row of emissions (batch, time, n_tags)."""
        mask = self._mask(emissions, lengths)
        trans = self.transition_scores()
        alpha = self.start + emissions[:, 0]
        for t in range(1, emissions.shape[1]):
            step = torch.logsumexp(alpha[:, :, None] + trans[None], dim=1) + emissions[:, t]
            alpha = torch.where(mask[:, t, None], step, alpha)
        return torch.logsumexp(alpha + self.end, dim=1)

    def path_score(self, emissions: Tensor, tags: Tensor, lengths: Tensor) -> Tensor:
        """The unnormalized score of the given tag paths (batch, time)."""
        mask = self._mask(emissions, lengths)
        trans = self.transition_scores()
        emitted = emissions.gather(2, tags[:, :, None]).squeeze(2)
        score = self.start[tags[:, 0]] + (emitted * mask).sum(1)
        moves = trans[tags[:, :-1], tags[:, 1:]]
        score = score + (moves * mask[:, 1:]).sum(1)
        last = tags.gather(1, (lengths - 1)[:, None]).squeeze(1)
        return score + self.end[last]

    def neg_log_likelihood(self, emissions: Tensor, tags: Tensor, lengths: Tensor) -> Tensor:
        """-log p(tags | emissions) per row."""
        return self.log_partition(emissions, lengths) - self.path_score(emissions, tags, lengths)

    def viterbi(self, emissions: Tensor, lengths: Tensor) -> Tensor:
        """The best tag path per row (batch, time); padding positions hold 0."""
        mask = self._mask(emissions, lengths)
        trans = self.transition_scores()
        n_rows, n_steps, _ = emissions.shape
        score = self.start + emissions[:, 0]
        history = []
        for t in range(1, n_steps):
            best, argbest = (score[:, :, None] + trans[None]).max(dim=1)
            history.append(argbest)
            score = torch.where(mask[:, t, None], best + emissions[:, t], score)
        current = (score + self.end).argmax(dim=1)
        tags = torch.zeros(n_rows, n_steps, dtype=torch.long, device=emissions.device)
        for t in range(n_steps - 1, -1, -1):
            inside = t < lengths
            tags[:, t] = torch.where(inside, current, tags[:, t])
            if t > 0:
                previous = history[t - 1].gather(1, current[:, None]).squeeze(1)
                current = torch.where(inside, previous, current)
        return tags
