"""The registered architecture: a Thinc model from docs to joint NER + RE outputs.

docs -> tok2vec (any spaCy token-to-vector layer) -> segments (sentences, or bounded
windows) -> the PyTorch `DeeperJointNet` through Thinc's PyTorchWrapper (with a shim
that also applies parameter averages).

Input: `(docs, gold)`, where gold is None at inference and, in training, one
`DocGold` per doc (tag ids per token and relations between entity-end tokens).
Output: `JointOutput`.
"""
import dataclasses
import io
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy
import srsly
import torch
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import ArgsKwargs, Model, torch2xp, xp2torch
from thinc.layers.pytorchwrapper import forward as pytorch_forward
from thinc.types import Floats2d

from .network import DeeperJointNet, NetSettings
from .segments import Segment, make_segments
from .shim import AveragingPyTorchShim

# At prediction the net runs over groups of segments of similar length, at most this
# many padded token positions a group, so memory stays bounded however many or long
# the docs of a batch are.
PREDICT_GROUP_TOKENS = 8192


@dataclass
class DocGold:
    """Training targets for one doc: a tag id per token, and relations as
    (head entity last token, tail entity last token, relation index)."""

    tags: numpy.ndarray
    relations: List[Tuple[int, int, int]] = field(default_factory=list)


@dataclass
class OutputLabels:
    """What the output layers depend on: the tag scheme's transitions ((n_tags, n_tags)
    nested lists of bools), which tags are entity tags and which continue an entity,
    and the number of relation labels. The `Y` of the model's initialize."""

    allowed: List[List[bool]]
    is_entity: List[bool]
    is_continuation: List[bool]
    n_rels: int


@dataclass
class JointOutput:
    segments: List[Segment]
    tags: Optional[numpy.ndarray] = None  # (n_segments, width) Viterbi tags
    lengths: Optional[numpy.ndarray] = None  # (n_segments,)
    pairs: Optional[numpy.ndarray] = None  # (n_pairs, 3): segment, head end, tail end (segment offsets)
    probs: Optional[numpy.ndarray] = None  # (n_pairs, n_rels)
    ner_loss: float = 0.0
    rel_loss: float = 0.0
    n_cross_segment: int = 0  # gold relations dropped because they cross segments


@registry.architectures("spacy_deeper.DeeperJoint.v1")
def build_deeper_joint(
    tok2vec: Model[List[Doc], List[Floats2d]],
    rnn_type: str = "gru",
    hidden_size: int = 256,
    n_shared: int = 1,
    n_ner: int = 1,
    n_re: int = 2,
    ner_hidden: int = 128,
    tag_embed_size: int = 25,
    rel_hidden: int = 128,
    rnn_dropout: float = 0.35,
    rel_dropout: float = 0.5,
    rel_bilinear: bool = False,
    rel_context: str = "none",
    rel_distance: bool = False,
    max_length: int = 128,
    int8: bool = False,
) -> Model:
    """Crone (2020): shared BiRNN layers, then NER-specific and RE-specific ones.

    These defaults are the only ones: the component's default config is made from them
    (spacy_deeper.pipe.DEFAULT_MODEL) and the torch net takes them as its NetSettings.

    n_shared, n_ner and n_re may each be 0. Sentences longer than max_length tokens
    are processed in windows of max_length tokens. rel_bilinear adds a full bilinear
    term to the relation scorer and rel_context ("mean" or "max") the pooled tokens
    between two entity ends (SpERT's localized context), and rel_distance a logit per type
    for the order and distance of the two entities, none of them in the paper. int8:
    predict on the CPU with the RNN and linear layers dynamically quantized to int8, and
    those of a frozen encoder in tok2vec (FrozenTransformer.v1) too (training is unchanged).
    """
    if max_length < 1:
        raise ValueError(f"max_length must be >= 1, got {max_length}.")
    settings = NetSettings(
        rnn_type=rnn_type, hidden_size=hidden_size, n_shared=n_shared, n_ner=n_ner, n_re=n_re,
        ner_hidden=ner_hidden, tag_embed_size=tag_embed_size, rel_hidden=rel_hidden,
        rnn_dropout=rnn_dropout, rel_dropout=rel_dropout, rel_bilinear=rel_bilinear,
        rel_context=rel_context, rel_distance=rel_distance,
    )
    net = DeeperJointNet(settings)
    # Token feature layers with an int8 mode (the frozen encoder of FrozenTransformer.v1) follow
    # the architecture's setting; it is kept on the encoder object, not in the saved attrs.
    for node in tok2vec.walk():
        if hasattr(node.attrs.get("encoder"), "int8"):
            node.attrs["encoder"].int8 = int8
    # PyTorchWrapper_v3, with a shim that also swaps in parameter averages.
    wrapped = Model(
        "pytorch",
        pytorch_forward,
        attrs={"convert_inputs": _convert_inputs, "convert_outputs": _convert_outputs},
        shims=[AveragingPyTorchShim(net, serialize_model=_serialize_net, deserialize_model=_deserialize_net, int8=int8)],
        dims={"nI": None, "nO": None},
    )
    return Model(
        "deeper_joint",
        _forward,
        init=_init,
        layers=[tok2vec, wrapped],
        refs={"tok2vec": tok2vec, "net": wrapped},
        attrs={"max_length": max_length},
        dims={"nI": None},
    )


def get_net(model: Model) -> DeeperJointNet:
    """The torch module inside the model's PyTorchWrapper."""
    return model.get_ref("net").shims[0].net


def output_shape(model: Model) -> Optional[Tuple[int, int]]:
    """(n_tags, n_rels): the tag count and relation count the model's output layers
    are built for (by initialize, or loaded with the weights); None before either."""
    net = get_net(model)
    return (len(net.shape["allowed"]), net.shape["n_rels"]) if net.is_configured else None


def _init(model: Model, X=None, Y: Optional[OutputLabels] = None) -> Model:
    """X: (docs, None), a sample to find the token vectors' width; Y: the labels, to
    build (or rebuild) the output layers for."""
    tok2vec = model.get_ref("tok2vec")
    docs = X[0] if X is not None else None
    tok2vec.initialize(X=docs)
    if tok2vec.has_dim("nO"):
        model.set_dim("nI", tok2vec.get_dim("nO"))
    elif docs:
        model.set_dim("nI", tok2vec.predict(docs[:1])[0].shape[1])
    if Y is not None:
        get_net(model).configure(n_in=model.get_dim("nI"), **dataclasses.asdict(Y))
    return model


def _forward(model: Model, inputs, is_train: bool):
    docs, gold = inputs
    segments = make_segments(docs, model.attrs["max_length"])
    Xs, backprop_tok2vec = model.get_ref("tok2vec")(docs, is_train)

    def backprop_zeros(d_loss):
        return backprop_tok2vec([model.ops.alloc2f(*X.shape) for X in Xs])

    if not segments:
        output = JointOutput(segments, numpy.zeros((0, 0), dtype="int64"), numpy.zeros(0, dtype="int64"))
        return output, backprop_zeros
    if gold is None:
        return _predict(model, Xs, segments), backprop_zeros
    targets = SegmentTargets.build(docs, gold, segments)
    output, backprop_net = model.get_ref("net")((Xs, segments, targets), is_train)
    output.n_cross_segment = targets.n_cross_segment
    return output, lambda d_loss: backprop_tok2vec(backprop_net(d_loss))


def _predict(model: Model, Xs: List[Floats2d], segments: List[Segment]) -> JointOutput:
    """Inference over groups of segments sorted by length (PREDICT_GROUP_TOKENS padded
    positions at most a group), each segment passed as its own sequence. A segment's
    result does not depend on its group (padding never reaches a token's output)."""
    net = model.get_ref("net")
    lengths = numpy.array([end - start for _, start, end in segments], dtype="int64")
    groups: List[List[int]] = [[]]
    for s in numpy.argsort(lengths, kind="stable").tolist():
        if groups[-1] and (len(groups[-1]) + 1) * lengths[s] > PREDICT_GROUP_TOKENS:
            groups.append([])
        groups[-1].append(s)
    tags = numpy.zeros((len(segments), int(lengths.max())), dtype="int64")
    pairs, probs = [], []
    for group in groups:
        seg_Xs = [Xs[segments[s][0]][segments[s][1] : segments[s][2]] for s in group]
        out, _ = net((seg_Xs, [(k, 0, len(X)) for k, X in enumerate(seg_Xs)], None), False)
        tags[group, : out.tags.shape[1]] = out.tags
        pairs.append(numpy.concatenate([numpy.asarray(group)[out.pairs[:, :1]], out.pairs[:, 1:]], axis=1))
        probs.append(out.probs)
    pairs, probs = numpy.concatenate(pairs), numpy.concatenate(probs)
    order = numpy.lexsort((pairs[:, 2], pairs[:, 1], pairs[:, 0]))  # by segment, head, tail
    return JointOutput(segments, tags=tags, lengths=lengths, pairs=pairs[order], probs=probs[order])


@dataclass
class SegmentTargets:
    """Gold tags for all tokens of a batch (flattened, plus one padding 0) and
    gold relations as (segment, head end, tail end, relation) in segment offsets."""

    tags: numpy.ndarray
    pairs: numpy.ndarray
    n_cross_segment: int  # relations whose entities fall in different segments

    @classmethod
    def build(cls, docs: Sequence[Doc], gold: Sequence[DocGold], segments: List[Segment]) -> "SegmentTargets":
        doc_offsets = _offsets([len(doc) for doc in docs])
        n_tokens = sum(len(doc) for doc in docs)
        segment_of = numpy.full(n_tokens, -1, dtype="int64")
        for s, (doc_i, start, end) in enumerate(segments):
            segment_of[doc_offsets[doc_i] + start : doc_offsets[doc_i] + end] = s
        rows, n_cross = [], 0
        for doc_i, doc_gold in enumerate(gold):
            for head, tail, rel in doc_gold.relations:
                s = segment_of[doc_offsets[doc_i] + head]
                if s != segment_of[doc_offsets[doc_i] + tail]:
                    n_cross += 1
                    continue
                seg_start = segments[s][1]
                rows.append((s, head - seg_start, tail - seg_start, rel))
        tags = numpy.concatenate([g.tags for g in gold] + [numpy.zeros(1, dtype="int64")])
        return cls(tags, numpy.array(rows, dtype="int64").reshape(-1, 4), n_cross)


def _offsets(lengths: Sequence[int]) -> numpy.ndarray:
    return numpy.concatenate([[0], numpy.cumsum(lengths)[:-1]]).astype("int64")


def _convert_inputs(model: Model, inputs, is_train: bool):
    Xs, segments, targets = inputs
    doc_lengths = [X.shape[0] for X in Xs]
    n_tokens = sum(doc_lengths)
    seg_array = numpy.array(segments, dtype="int64")
    starts = _offsets(doc_lengths)[seg_array[:, 0]] + seg_array[:, 1]
    lengths = seg_array[:, 2] - seg_array[:, 1]
    steps = numpy.arange(int(lengths.max()))
    index = numpy.where(steps[None, :] < lengths[:, None], starts[:, None] + steps[None, :], n_tokens)
    X = xp2torch(model.ops.flatten(Xs), requires_grad=is_train)
    kwargs = {"index": torch.as_tensor(index, device=X.device), "lengths": torch.as_tensor(lengths)}
    if targets is not None:
        kwargs["gold_tags"] = torch.as_tensor(targets.tags[index], device=X.device)
        kwargs["gold_pairs"] = torch.as_tensor(targets.pairs, device=X.device)

    def convert_back(d_inputs: ArgsKwargs) -> List[Floats2d]:
        dX = d_inputs.args[0]
        dX = model.ops.alloc2f(*X.shape) if dX is None else torch2xp(dX)
        return model.ops.unflatten(dX, model.ops.asarray1i(doc_lengths))

    return ArgsKwargs(args=(X,), kwargs=kwargs), convert_back


def _convert_outputs(model: Model, inputs_outputs, is_train: bool):
    (Xs, segments, targets), Y = inputs_outputs
    if is_train:
        ner_loss, rel_loss = Y
        output = JointOutput(segments, ner_loss=float(ner_loss.detach()), rel_loss=float(rel_loss.detach()))

        def backprop(d_loss: Tuple[float, float]) -> ArgsKwargs:
            live = [(loss, d) for loss, d in zip((ner_loss, rel_loss), d_loss) if loss.requires_grad]
            grads = [torch.tensor(d, dtype=loss.dtype, device=loss.device) for loss, d in live]
            return ArgsKwargs(args=([loss for loss, _ in live],), kwargs={"grad_tensors": grads})

        return output, backprop
    tags, pairs, probs = Y
    lengths = numpy.array([end - start for _, start, end in segments], dtype="int64")
    output = JointOutput(
        segments, tags=tags.cpu().numpy(), lengths=lengths, pairs=pairs.cpu().numpy(), probs=probs.float().cpu().numpy()
    )
    return output, lambda d: None


def _serialize_net(net: DeeperJointNet) -> bytes:
    """The weights and the configuration they were built for, so that loading
    rebuilds every label-dependent shape before the weights go in."""
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    return srsly.msgpack_dumps({"shape": net.shape, "state": buffer.getvalue()})


def _deserialize_net(net: DeeperJointNet, data: bytes, device) -> DeeperJointNet:
    msg = srsly.msgpack_loads(data)
    if msg["shape"] is not None:
        net.configure(**msg["shape"])
    state = torch.load(io.BytesIO(msg["state"]), map_location=device)
    net.load_state_dict(state)
    net.to(device)
    return net
