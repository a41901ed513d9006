"""The PyTorch network of Crone (2020): shared BiRNN layers, then an NER head
(BiRNN layers, feed-forward, tag scores, CRF) and an RE head (BiRNN layers over the
shared output, an entity-tag embedding, and the multi-head selection scorer).

Inputs are the token vectors of all docs in a batch, flattened to (n_tokens, n_in),
and an index matrix (n_segments, width) that lays each segment (a sentence or a
bounded window) out as one padded row. Padding never reaches a token's output (see
BiRNN), so a segment's result does not depend on what else is in the batch.
"""
import os
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .crf import LinearChainCRF

RNN_TYPES = {"gru": nn.GRU, "lstm": nn.LSTM}


def _one_thread_after_fork() -> None:
    # OpenMP (libgomp) is not fork-safe: a child forked from a process whose torch
    # thread pool has run, e.g. a worker of nlp.pipe(n_process=2), deadlocks in its
    # first parallel op. One intra-op thread per child, as PyTorch's own DataLoader
    # workers do, avoids it; the processes are the parallelism there.
    torch.set_num_threads(1)


_fork_hook_registered = False


def _one_thread_in_forked_children() -> None:
    """Register _one_thread_after_fork, once, when this process builds its first network
    (before its layers are initialized or loaded, which can start the thread pool). A process
    that never builds one, such as any spaCy process that merely imports the installed
    package's entry points, keeps the threads of its children as they are."""
    global _fork_hook_registered
    if not _fork_hook_registered:
        os.register_at_fork(after_in_child=_one_thread_after_fork)
        _fork_hook_registered = True


class BiRNN(nn.Module):
    """`n_layers` stacked bidirectional RNN layers with dropout on their input.

    Each layer is a forward RNN over the padded rows and a backward RNN over the rows
    reversed within their lengths. Padding comes after a row's tokens in both, so it
    never reaches a token's output. With gradients (training) the RNNs run over the
    padded rows: packed sequences cost a third more in the backward pass on CPU.
    Without (prediction) they run packed, skipping the padding, which in a batch of
    docs of mixed lengths is most of the work: half the time on CoNLL04 test in
    batches of 64. Outputs at padding positions are meaningless (zeros when packed);
    everything downstream masks them. With n_layers=0 it is the
    identity (and applies no dropout).
    """

    def __init__(self, n_in: int, hidden: int, n_layers: int, cell: str, dropout: float):
        super().__init__()
        if cell not in RNN_TYPES:
            raise ValueError(f"Unknown rnn_type {cell!r}: use one of {sorted(RNN_TYPES)}.")
        self.n_layers = n_layers
        self.n_out = 2 * hidden if n_layers else n_in
        self.dropout = nn.Dropout(dropout)
        self.forward_rnns = nn.ModuleList()
        self.backward_rnns = nn.ModuleList()
        for layer in range(n_layers):
            width = n_in if layer == 0 else 2 * hidden
            self.forward_rnns.append(RNN_TYPES[cell](width, hidden, batch_first=True))
            self.backward_rnns.append(RNN_TYPES[cell](width, hidden, batch_first=True))

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        if not self.n_layers:
            return x
        # pack_padded_sequence wants lengths >= 1 on the CPU (taken before they move to
        # x's device, so a GPU pays no copy back); an empty row's output is padding anyway.
        packed_lengths = None if torch.is_grad_enabled() else lengths.clamp(min=1).cpu()
        steps = torch.arange(x.shape[1], device=x.device)[None, :]
        lengths = lengths.to(x.device)[:, None]
        # reverse[b, t]: the position read at step t of row b's backward pass (an involution).
        reverse = torch.where(steps < lengths, lengths - 1 - steps, steps)
        x = self.dropout(x)
        for forward_rnn, backward_rnn in zip(self.forward_rnns, self.backward_rnns):
            ahead = _run(forward_rnn, x, packed_lengths)
            behind = _run(backward_rnn, _reorder(x, reverse), packed_lengths)
            x = torch.cat([ahead, _reorder(behind, reverse)], dim=-1)
        return x


def _run(rnn: nn.Module, x: Tensor, packed_lengths: Optional[Tensor]) -> Tensor:
    """A unidirectional RNN over padded rows; over packed ones where lengths are given."""
    if packed_lengths is None:
        return rnn(x)[0]
    packed = pack_padded_sequence(x, packed_lengths, batch_first=True, enforce_sorted=False)
    return pad_packed_sequence(rnn(packed)[0], batch_first=True, total_length=x.shape[1])[0]


def _reorder(x: Tensor, positions: Tensor) -> Tensor:
    """x[b, positions[b, t]] for every row b and step t."""
    return x.gather(1, positions[:, :, None].expand(-1, -1, x.shape[2]))


def pair_features(g: Tensor, distmult: Tensor) -> Tuple[Tensor, Tensor]:
    """Cosine similarity and per-relation DistMult scores of all token pairs.

    g: (batch, n, d) projected token vectors; distmult: (n_rels, d) diagonals m_k.
    Returns cos (batch, n, n) with cos[b, i, j] = cos(g_i, g_j), and
    dm (batch, n, n, n_rels) with dm[b, i, j, k] = g_i^T diag(m_k) g_j.
    """
    unit = F.normalize(g, dim=-1)
    cos = unit @ unit.transpose(1, 2)
    dm = torch.einsum("bid,kd,bjd->bijk", g, distmult, g)
    return cos, dm


class MultiHeadSelection(nn.Module):
    """Scores every (head, tail) pair of token vectors for every relation type.

    g = f(h) = tanh(W h + b) for each token; a pair's features are
    [g_i; g_j; cos(g_i, g_j); DistMult_1..R(g_i, g_j)], and one linear layer maps
    them to a logit per relation type. The linear layer is applied term by term
    (head part, tail part, cosine weight, DistMult mixing) so no (n, n, 2d) tensor
    is ever built; the result is the same as on the concatenation.

    bilinear (not in the paper): add a full bilinear term g_i^T U_k g_j per relation
    type, as a biaffine scorer has (Dozat & Manning 2017; Nguyen & Verspoor 2019).
    DistMult is symmetric in i and j; U_k is not, so the pair's direction can interact
    with what the two tokens are. U starts at zero: the scorer starts as the paper's.
    """

    def __init__(self, n_in: int, hidden: int, n_rels: int, dropout: float, bilinear: bool):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.project = nn.Linear(n_in, hidden)
        self.distmult = nn.Parameter(torch.empty(n_rels, hidden).uniform_(-0.1, 0.1))
        self.head_out = nn.Linear(hidden, n_rels)
        self.tail_out = nn.Linear(hidden, n_rels, bias=False)
        self.cos_out = nn.Parameter(torch.zeros(n_rels))
        self.dm_out = nn.Linear(n_rels, n_rels, bias=False)
        self.bilinear = nn.Parameter(torch.zeros(n_rels, hidden, hidden)) if bilinear else None

    def forward(self, h: Tensor) -> Tensor:
        """h: (batch, n, n_in) -> logits (batch, n, n, n_rels), [b, i, j] = head i, tail j."""
        g = torch.tanh(self.project(self.dropout(h)))
        cos, dm = pair_features(g, self.distmult)
        logits = (
            self.head_out(g)[:, :, None, :]
            + self.tail_out(g)[:, None, :, :]
            + cos[..., None] * self.cos_out
            + self.dm_out(dm)
        )
        if self.bilinear is not None:
            logits = logits + torch.einsum("bid,kde,bje->bijk", g, self.bilinear, g)
        return logits


CONTEXT_POOLS = ("none", "mean", "max")


def range_max(c: Tensor, first: Tensor, end: Tensor) -> Tensor:
    """max(c[b, first:end]) over the token axis for every row b and (first, end) pair,
    zeros where the range is empty, from a sparse table: level k holds the maxima of
    windows of 2^k tokens, and any range is covered by two windows of one level.

    c: (batch, width, d); first, end: (batch, n, n) -> (batch, n, n, d).
    """
    width = c.shape[1]
    levels = [c]
    while 2 ** len(levels) <= width:
        prev, half = levels[-1], 2 ** (len(levels) - 1)
        levels.append(torch.maximum(prev[:, :-half], prev[:, half:]))
    table = torch.stack([F.pad(level, (0, 0, 0, width - level.shape[1])) for level in levels])
    length = end - first
    k = sum((length >= 2 ** level).long() for level in range(1, len(levels)))  # floor(log2(length)), exactly
    rows = torch.arange(c.shape[0], device=c.device)[:, None, None]
    last = (end - (2 ** k)).clamp(min=0)  # the second window ends where the range does
    pooled = torch.maximum(table[k, rows, first], table[k, rows, last])
    return pooled * (length > 0)[..., None].to(c.dtype)


class PairContext(nn.Module):
    """Localized context for the relation scorer (not in the paper; SpERT's, Eberts and
    Ulges 2020): the tokens strictly between two entity ends, each projected as
    c = tanh(W h + b) and pooled (`pool`: "mean" or "max"), and a linear map of that to a
    logit per relation type, added to the pair's. Adjacent ends have no context (zeros).
    The map starts at zero, so the scorer starts as the paper's. The mean comes from
    prefix sums and the max from a sparse table: memory grows with the pairs times
    `hidden` (and the tokens times `hidden` times log2 of the width), not with the tokens
    between each pair.
    """

    def __init__(self, n_in: int, hidden: int, n_rels: int, dropout: float, pool: str):
        super().__init__()
        if pool not in CONTEXT_POOLS[1:]:
            raise ValueError(f"Unknown context pooling {pool!r}: use 'mean' or 'max'.")
        self.pool = pool
        self.dropout = nn.Dropout(dropout)
        self.project = nn.Linear(n_in, hidden)
        self.out = nn.Linear(hidden, n_rels, bias=False)
        nn.init.zeros_(self.out.weight)

    def forward(self, h: Tensor, slot: Tensor) -> Tensor:
        """h: (batch, width, n_in) every token's RE vector; slot: (batch, n) the token
        positions of the entity ends -> logits (batch, n, n, n_rels)."""
        c = torch.tanh(self.project(self.dropout(h)))
        lo = torch.minimum(slot[:, :, None], slot[:, None, :])
        end = torch.maximum(slot[:, :, None], slot[:, None, :])
        first = torch.minimum(lo + 1, end)  # the range [lo + 1, end), empty where end <= lo + 1
        if self.pool == "max":
            return self.out(range_max(c, first, end))
        prefix = torch.cat([c.new_zeros(c.shape[0], 1, c.shape[2]), c.cumsum(1)], dim=1)  # prefix[t] = sum c[:t]
        rows = torch.arange(c.shape[0], device=c.device)[:, None, None]
        count = (end - first).clamp(min=1)[..., None].to(c.dtype)
        return self.out((prefix[rows, end] - prefix[rows, first]) / count)


class PairDistance(nn.Module):
    """The order and distance of two entity ends as a logit per relation type (not in
    the paper; position features as relation classifiers have long used them, e.g. Zeng
    et al. 2014). The rest of the scorer sees the two entities, not which comes first in
    the sentence nor how far apart they are. The signed distance, tail end minus head end,
    falls in one of `2 * n_buckets + 1` buckets: 1, 2, 3-4, 5-8, ... tokens (each bucket
    doubling, the last open-ended) either way, and 0. Each bucket's logits start at zero,
    so the scorer starts as the paper's."""

    def __init__(self, n_rels: int, n_buckets: int = 7):
        super().__init__()
        self.n_buckets = n_buckets
        self.out = nn.Embedding(2 * n_buckets + 1, n_rels)
        nn.init.zeros_(self.out.weight)

    def bucket(self, distance: Tensor) -> Tensor:
        """The bucket of each signed distance, 0 to 2 * n_buckets (n_buckets for 0)."""
        size = distance.abs()
        # 1 -> 1, 2 -> 2, 3-4 -> 3, 5-8 -> 4, ...: 1 + ceil(log2(size)), by integer comparisons.
        level = (size > 0).long() + sum((size > 2 ** k).long() for k in range(self.n_buckets - 1))
        return self.n_buckets + distance.sign() * level.clamp(max=self.n_buckets)

    def forward(self, slot: Tensor) -> Tensor:
        """slot: (batch, n) the token positions of the entity ends -> logits (batch, n, n, n_rels)."""
        return self.out(self.bucket(slot[:, None, :] - slot[:, :, None]))


@dataclass(frozen=True)
class NetSettings:
    """The network's hyperparameters. Their defaults are those of the registered
    architecture, spacy_deeper.DeeperJoint.v1 (spacy_deeper.model.build_deeper_joint)."""

    rnn_type: str  # "gru" or "lstm"
    hidden_size: int  # units per direction of every BiRNN layer
    n_shared: int  # BiRNN layers shared by both tasks (each depth may be 0)
    n_ner: int  # BiRNN layers of the NER head
    n_re: int  # BiRNN layers of the RE head
    ner_hidden: int  # the NER feed-forward layer
    tag_embed_size: int  # the entity-tag embedding fed to the RE head
    rel_hidden: int  # the relation scorer's projection
    rnn_dropout: float  # before each BiRNN stack
    rel_dropout: float  # before the relation scorer
    rel_bilinear: bool  # add a bilinear (biaffine) term to the relation scorer
    rel_context: str  # pool the tokens between two entity ends into the relation scorer: none, mean, max
    rel_distance: bool  # add a logit per relation type for the order and distance of the two entity ends

    def __post_init__(self):
        for name in ("n_shared", "n_ner", "n_re"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}.")
        if self.rel_context not in CONTEXT_POOLS:
            raise ValueError(f"Unknown rel_context {self.rel_context!r}: use one of {list(CONTEXT_POOLS)}.")
        if self.rnn_type not in RNN_TYPES:
            raise ValueError(f"Unknown rnn_type {self.rnn_type!r}: use one of {sorted(RNN_TYPES)}.")


class DeeperJointNet(nn.Module):
    """The joint network. Its layers are built by `configure`, once the input width,
    the tag set and the relation labels are known (and again when a saved model is
    loaded, from the configuration stored with its weights)."""

    def __init__(self, settings: NetSettings):
        super().__init__()
        _one_thread_in_forked_children()
        self.settings = settings
        self.shape: Optional[Dict[str, Any]] = None
        # Moves with .to(device), so layers built later land on the same device.
        self.register_buffer("_anchor", torch.zeros(0), persistent=False)

    @property
    def is_configured(self) -> bool:
        return self.shape is not None

    def configure(self, n_in: int, n_rels: int, allowed: list, is_entity: list, is_continuation: list) -> None:
        """Build (or rebuild) every layer for this input width, tag set and relation count.

        allowed: (n_tags, n_tags) nested list of bools, the tag scheme's transitions;
        is_entity / is_continuation: per-tag flags used to find entity ends.
        """
        hp = self.settings
        n_tags = len(allowed)
        self.shape = dict(n_in=n_in, n_rels=n_rels, allowed=allowed, is_entity=is_entity, is_continuation=is_continuation)
        cell, hidden, drop = hp.rnn_type, hp.hidden_size, hp.rnn_dropout
        self.shared = BiRNN(n_in, hidden, hp.n_shared, cell, drop)
        self.ner_rnn = BiRNN(self.shared.n_out, hidden, hp.n_ner, cell, drop)
        self.ner_ff = nn.Sequential(nn.Linear(self.ner_rnn.n_out, hp.ner_hidden), nn.ReLU())
        self.tag_scores = nn.Linear(hp.ner_hidden, n_tags)
        self.crf = LinearChainCRF(n_tags, torch.tensor(allowed, dtype=torch.bool))
        self.re_rnn = BiRNN(self.shared.n_out, hidden, hp.n_re, cell, drop)
        self.tag_embed = nn.Embedding(n_tags, hp.tag_embed_size)
        # Both relation terms read the RE vectors with the tag embedding and give a logit per type.
        rel_shape = (self.re_rnn.n_out + hp.tag_embed_size, hp.rel_hidden, max(n_rels, 1), hp.rel_dropout)
        self.relations = MultiHeadSelection(*rel_shape, hp.rel_bilinear)
        self.pair_context = PairContext(*rel_shape, hp.rel_context) if hp.rel_context != "none" else None
        self.pair_distance = PairDistance(rel_shape[2]) if hp.rel_distance else None  # a logit per type
        self.register_buffer("is_entity", torch.tensor(is_entity, dtype=torch.bool), persistent=False)
        self.register_buffer("is_continuation", torch.tensor(is_continuation, dtype=torch.bool), persistent=False)
        self.to(self._anchor.device)

    def forward(
        self,
        X: Tensor,
        index: Tensor,
        lengths: Tensor,
        gold_tags: Optional[Tensor] = None,
        gold_pairs: Optional[Tensor] = None,
    ):
        """X: (n_tokens, n_in); index: (n_segments, width) rows of token indices,
        padded with n_tokens; lengths: (n_segments,).

        Training (gold_tags given): returns (ner_loss, rel_loss), each a mean per
        segment; gold_pairs is (n_pairs, 4): segment, head end token, tail end
        token, relation index. Inference: returns (tags, pairs, probs), the Viterbi
        tags (n_segments, width), the candidate pairs (n_pairs, 3): segment, head end
        token, tail end token, and their probabilities (n_pairs, n_rels).
        """
        if not self.is_configured:
            raise RuntimeError("DeeperJointNet.configure() must be called before use.")
        padded = torch.cat([X, X.new_zeros(1, X.shape[1])])[index]
        shared = self.shared(padded, lengths)
        emissions = self.tag_scores(self.ner_ff(self.ner_rnn(shared, lengths)))
        training = gold_tags is not None
        tags = gold_tags if training else self.crf.viterbi(emissions, lengths)
        re_input = torch.cat([self.re_rnn(shared, lengths), self.tag_embed(tags)], dim=-1)
        ends = self._entity_ends(tags, lengths)
        seg, pos = ends.nonzero(as_tuple=True)
        n_seg = index.shape[0]
        if training:
            ner_loss = self.crf.neg_log_likelihood(emissions, tags, lengths).sum() / n_seg
            rel_loss = self._relation_loss(re_input, ends, seg, pos, gold_pairs) / n_seg
            return ner_loss, rel_loss
        if seg.numel() == 0 or self.shape["n_rels"] == 0:
            n_rels = self.shape["n_rels"]
            return tags, index.new_zeros(0, 3), X.new_zeros(0, n_rels)
        logits, slot, valid = self._pair_logits(re_input, ends, seg, pos)
        seg_i, head_i, tail_i = valid.nonzero(as_tuple=True)
        pairs = torch.stack([seg_i, slot[seg_i, head_i], slot[seg_i, tail_i]], dim=1)
        return tags, pairs, torch.sigmoid(logits[seg_i, head_i, tail_i])

    def _entity_ends(self, tags: Tensor, lengths: Tensor) -> Tensor:
        """(n_segments, width) mask of the last tokens of entities."""
        valid = torch.arange(tags.shape[1], device=tags.device)[None, :] < lengths[:, None]
        entity = self.is_entity[tags] & valid
        continues = self.is_continuation[tags] & valid
        next_continues = torch.zeros_like(continues)
        next_continues[:, :-1] = continues[:, 1:] & entity[:, :-1]
        return entity & ~next_continues

    @staticmethod
    def _ranks(ends: Tensor, seg: Tensor) -> Tensor:
        """The rank of each entity end (from `ends.nonzero()`) within its segment."""
        counts = ends.sum(1)
        offsets = torch.cumsum(counts, 0) - counts
        return torch.arange(seg.shape[0], device=seg.device) - offsets[seg]

    def _pair_logits(self, re_input: Tensor, ends: Tensor, seg: Tensor, pos: Tensor):
        """Logits over all ordered pairs of distinct entity ends within each segment.

        Returns logits (n_seg, n_max, n_max, n_rels), slot (n_seg, n_max): the token
        position of each entity end (padded), and valid (n_seg, n_max, n_max).
        """
        counts = ends.sum(1)
        n_max = int(counts.max())
        slot = torch.zeros(ends.shape[0], n_max, dtype=torch.long, device=ends.device)
        slot[seg, self._ranks(ends, seg)] = pos
        filled = torch.arange(n_max, device=ends.device)[None, :] < counts[:, None]
        rows = torch.arange(ends.shape[0], device=ends.device)[:, None]
        logits = self.relations(re_input[rows, slot])
        if self.pair_context is not None:
            logits = logits + self.pair_context(re_input, slot)
        if self.pair_distance is not None:
            logits = logits + self.pair_distance(slot)
        eye = torch.eye(n_max, dtype=torch.bool, device=ends.device)
        valid = filled[:, :, None] & filled[:, None, :] & ~eye
        return logits, slot, valid

    def _relation_loss(self, re_input, ends, seg, pos, gold_pairs) -> Tensor:
        """Binary cross-entropy summed over all candidate pairs and relation types."""
        if seg.numel() < 2 or self.shape["n_rels"] == 0:
            return re_input.sum() * 0.0
        logits, slot, valid = self._pair_logits(re_input, ends, seg, pos)
        target = torch.zeros_like(logits)
        if gold_pairs is not None and gold_pairs.numel():
            # Map each gold (segment, token) to its slot among the segment's entity ends.
            slot_of = torch.full(ends.shape, -1, dtype=torch.long, device=ends.device)
            slot_of[seg, pos] = self._ranks(ends, seg)
            s, h, t, k = gold_pairs.unbind(1)
            head, tail = slot_of[s, h], slot_of[s, t]
            known = (head >= 0) & (tail >= 0)
            target[s[known], head[known], tail[known], k[known]] = 1.0
        return F.binary_cross_entropy_with_logits(logits[valid], target[valid], reduction="sum")
