"""The `deeper_joint` pipeline component: entities to `doc.ents`, relations to
`doc._.relations`."""
import inspect
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy
import srsly
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.util import logger
from spacy.vocab import Vocab
from thinc.api import Model, set_dropout_rate

from .embed import build_token_features
from .errors import ConfigError
from .model import DocGold, JointOutput, OutputLabels, build_deeper_joint, output_shape
from .relations import Relation, get_relations, register_extensions, set_relations
from .scorer import score_joint
from .tags import SCHEMES, TagSet


def _default_block(name: str, architecture: Callable) -> Dict[str, Any]:
    """The config block of a registered architecture with each argument that has a
    default set to it (in the order of the signature)."""
    block: Dict[str, Any] = {"@architectures": name}
    for arg, param in inspect.signature(architecture).parameters.items():
        if param.default is not param.empty:
            block[arg] = list(param.default) if isinstance(param.default, tuple) else param.default
    return block


# The whole default model, as spaCy shows it in a filled config, made from the defaults
# of the two architectures (the one place they are written).
DEFAULT_MODEL: Dict[str, Any] = {
    **_default_block("spacy_deeper.DeeperJoint.v1", build_deeper_joint),
    "tok2vec": _default_block("spacy_deeper.TokenFeatures.v1", build_token_features),
}
# Set by the config, not by the saved cfg: on loading, the config's values are kept.
SETTINGS = ("threshold", "lambda_r", "overwrite_ents")


@Language.factory(
    "deeper_joint",
    assigns=["doc.ents", "doc._.relations"],
    default_config={
        "model": DEFAULT_MODEL,
        "tag_scheme": "BIO",
        "threshold": 0.5,
        "lambda_r": 5.0,
        "overwrite_ents": True,
        "scorer": {"@scorers": "spacy_deeper.joint_scorer.v1"},
    },
    default_score_weights={
        "ents_f": 0.5,
        "rel_micro_f": 0.5,
        "ents_p": None,
        "ents_r": None,
        "ents_macro_f": None,
        "rel_micro_p": None,
        "rel_micro_r": None,
        "rel_macro_f": None,
    },
)
def make_deeper_joint(
    nlp: Language,
    name: str,
    model: Model,
    tag_scheme: str,
    threshold: float,
    lambda_r: float,
    overwrite_ents: bool,
    scorer: Optional[Callable],
) -> "DeeperJoint":
    return DeeperJoint(
        nlp.vocab, model, name, tag_scheme=tag_scheme, threshold=threshold, lambda_r=lambda_r,
        overwrite_ents=overwrite_ents, scorer=scorer,
    )


class DeeperJoint(TrainablePipe):
    """Joint NER (BiRNN + CRF) and relation extraction (multi-head selection)."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "deeper_joint",
        *,
        tag_scheme: str = "BIO",
        threshold: float = 0.5,
        lambda_r: float = 5.0,
        overwrite_ents: bool = True,
        scorer: Optional[Callable] = score_joint,
    ):
        """overwrite_ents: replace entities already on the doc (True), or keep them
        and add only predicted entities that do not overlap them (False); relations
        are only set between predicted entities that end up in doc.ents."""
        if tag_scheme not in SCHEMES:
            raise ValueError(f"[{name}] Unknown tag_scheme {tag_scheme!r}: use one of {SCHEMES}.")
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"[{name}] threshold must be between 0 and 1, got {threshold}.")
        register_extensions()
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        self.cfg: Dict[str, Any] = {
            "ent_labels": [],
            "rel_labels": [],
            "tag_scheme": tag_scheme,
            "threshold": threshold,
            "lambda_r": lambda_r,
            "overwrite_ents": overwrite_ents,
        }
        self._tagset: Optional[TagSet] = None
        # Gold relations left out of training because their entities fall in different
        # segments (sentences or max_length windows), summed over all updates.
        self.n_cross_segment_relations = 0

    # Labels ------------------------------------------------------------------
    @property
    def labels(self) -> Tuple[str, ...]:
        """The entity labels."""
        return tuple(self.cfg["ent_labels"])

    @property
    def rel_labels(self) -> Tuple[str, ...]:
        return tuple(self.cfg["rel_labels"])

    @property
    def label_data(self) -> Dict[str, List[str]]:
        return {"ent_labels": list(self.labels), "rel_labels": list(self.rel_labels)}

    def _label_key(self) -> Dict[str, Any]:
        return {**self.label_data, "tag_scheme": self.cfg["tag_scheme"]}

    @property
    def tagset(self) -> TagSet:
        key = (self.labels, self.cfg["tag_scheme"])
        if self._tagset is None or (tuple(self._tagset.labels), self._tagset.scheme) != key:
            self._tagset = TagSet(self.labels, self.cfg["tag_scheme"])
        return self._tagset

    # Initialization ------------------------------------------------------------
    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[Dict[str, List[str]]] = None,
        ent_labels: Optional[Sequence[str]] = None,
        rel_labels: Optional[Sequence[str]] = None,
    ) -> None:
        """Collect the labels (unless given), initialize the model on a sample and
        build every shape that depends on the labels.

        labels: the component's `label_data`, {"ent_labels": [...], "rel_labels": [...]},
        as `spacy init labels` writes it, for [initialize.components.NAME] labels = ...;
        ent_labels / rel_labels, where given, take precedence over it."""
        validate_get_examples(get_examples, "DeeperJoint.initialize")
        if labels is not None:
            if not isinstance(labels, dict) or set(labels) != {"ent_labels", "rel_labels"}:
                raise ConfigError(
                    f"[{self.name}] labels must be the component's label_data, a dict with the keys ent_labels "
                    f"and rel_labels (the file `spacy init labels` writes), got {str(labels)[:200]}."
                )
            ent_labels = labels["ent_labels"] if ent_labels is None else ent_labels
            rel_labels = labels["rel_labels"] if rel_labels is None else rel_labels
        if ent_labels is None or rel_labels is None:
            found_ents, found_rels = set(), set()
            for eg in get_examples():
                found_ents.update(ent.label_ for ent in eg.reference.ents)
                found_rels.update(rel.label for rel in get_relations(eg.reference))
            ent_labels = sorted(found_ents) if ent_labels is None else ent_labels
            rel_labels = sorted(found_rels) if rel_labels is None else rel_labels
        if not ent_labels:
            raise ConfigError(
                f"[{self.name}] No entity labels: none were given and the examples have no doc.ents, so they "
                f"cannot be inferred (`spacy assemble` has no examples). Train with `spacy train`, or write the "
                f"labels of your training data with `spacy init labels CONFIG LABELS_DIR --paths.train TRAIN` "
                f"and give them in the config: [initialize.components.{self.name}] labels = "
                f'{{"@readers":"spacy.read_labels.v1","path":"LABELS_DIR/{self.name}.json"}} (from Python: '
                f"initialize(get_examples, labels={{'ent_labels': [...], 'rel_labels': [...]}}))."
            )
        self.cfg["ent_labels"] = list(ent_labels)
        self.cfg["rel_labels"] = list(rel_labels)
        docs = [eg.predicted for eg in islice(get_examples(), 10)]
        tags = self.tagset
        labels = OutputLabels(
            allowed=tags.allowed_transitions().tolist(),
            is_entity=tags.is_entity.tolist(),
            is_continuation=tags.is_continuation.tolist(),
            n_rels=len(self.rel_labels),
        )
        self.model.initialize(X=(docs, None), Y=labels)
        self.model.attrs["labels"] = self._label_key()  # saved with the weights

    def _check_ready(self) -> None:
        shape = output_shape(self.model)
        if shape is None:
            raise ValueError(
                f"[{self.name}] The component is not initialized: call nlp.initialize() "
                f"(or train it) first, or load a trained pipeline with spacy.load()."
            )
        trained = self.model.attrs.get("labels")  # None in pipelines saved before it was kept
        if trained is not None and trained != self._label_key():
            raise ValueError(
                f"[{self.name}] The labels do not match the weights: the weights were trained for the entity "
                f"labels {trained['ent_labels']} ({trained['tag_scheme']}) and the relation labels "
                f"{trained['rel_labels']}, the component's cfg names {list(self.labels)} "
                f"({self.cfg['tag_scheme']}) and {list(self.rel_labels)}."
            )
        n_tags, n_rels = shape
        if n_tags != len(self.tagset) or n_rels != len(self.rel_labels):
            raise ValueError(
                f"[{self.name}] The weights do not match the labels: the weights have {n_tags} tags and "
                f"{n_rels} relation types, the labels {list(self.labels)} ({self.cfg['tag_scheme']}) give "
                f"{len(self.tagset)} tags and {list(self.rel_labels)} give {len(self.rel_labels)}."
            )

    # Prediction ------------------------------------------------------------------
    def predict(self, docs: Iterable[Doc]) -> JointOutput:
        docs = list(docs)
        self._check_ready()
        return self.model.predict((docs, None))

    def set_annotations(self, docs: Iterable[Doc], output: JointOutput) -> None:
        """Entities without whitespace tokens at either end (one of whitespace only is
        dropped, with its relations), and the relations above the threshold."""
        register_extensions()  # another package may have taken doc._.relations since
        docs = list(docs)
        labels, rel_labels = self.labels, self.rel_labels
        ents: List[List[Span]] = [[] for _ in docs]
        last_token: Dict[Tuple[int, int], Optional[Span]] = {}  # (segment, end token in segment) -> entity
        spans = self.tagset.decode(output.tags, output.lengths) if output.segments else []
        for s, (doc_i, offset, _) in enumerate(output.segments):
            for start, end, label in spans[s]:
                span = _strip_space(docs[doc_i], offset + start, offset + end, labels[label])
                if span is not None:
                    ents[doc_i].append(span)
                last_token[(s, end - 1)] = span
        rels: List[List[Relation]] = [[] for _ in docs]
        if output.pairs is not None and len(output.pairs):
            for p, k in numpy.argwhere(output.probs >= self.cfg["threshold"]).tolist():
                s, head_end, tail_end = output.pairs[p].tolist()
                head, tail = last_token[(s, head_end)], last_token[(s, tail_end)]
                if head is not None and tail is not None:
                    rels[output.segments[s][0]].append(Relation(head, tail, rel_labels[k], float(output.probs[p, k])))
        for doc, doc_ents, doc_rels in zip(docs, ents, rels):
            if not self.cfg["overwrite_ents"] and doc.ents:
                doc_ents, doc_rels = _keep_existing(doc, doc_ents, doc_rels)
            doc.ents = doc_ents
            set_relations(doc, doc_rels)

    # Training ----------------------------------------------------------------------
    def _doc_gold(self, eg: Example) -> DocGold:
        """Gold tags and relations on the predicted doc's tokens (aligned by characters)."""
        pred, ref = eg.predicted, eg.reference
        label_index = {label: i for i, label in enumerate(self.labels)}
        rel_index = {label: i for i, label in enumerate(self.rel_labels)}
        aligned: Dict[Tuple[int, int], Span] = {}
        spans = []
        for ent in ref.ents:
            if ent.label_ not in label_index:
                raise ValueError(
                    f"[{self.name}] Entity label {ent.label_!r} in the training data is not among the "
                    f"component's labels {list(self.labels)}: re-initialize the component."
                )
            if ent[0].is_space or ent[-1].is_space:
                raise ValueError(
                    f"[{self.name}] The gold entity {ent.text!r} ({ent.label_}, characters "
                    f"{ent.start_char}-{ent.end_char}) of the training doc beginning {ref.text[:60]!r} starts "
                    f"or ends on whitespace: entities must start and end on a word."
                )
            span = pred.char_span(ent.start_char, ent.end_char)
            if span is not None:  # None: the predicted tokens cut through the entity
                aligned[(ent.start, ent.end)] = span
                spans.append((span.start, span.end, label_index[ent.label_]))
        relations = []
        for rel in get_relations(ref):
            if rel.label not in rel_index:
                raise ValueError(
                    f"[{self.name}] Relation label {rel.label!r} in the training data is not among the "
                    f"component's relation labels {list(self.rel_labels)}: re-initialize the component."
                )
            head = aligned.get((rel.head.start, rel.head.end))
            tail = aligned.get((rel.tail.start, rel.tail.end))
            if head is not None and tail is not None:
                relations.append((head.end - 1, tail.end - 1, rel_index[rel.label]))
        return DocGold(self.tagset.encode(len(pred), spans), relations)

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd=None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, "DeeperJoint.update")
        self._check_ready()
        if not any(len(eg.predicted) for eg in examples):
            return losses
        for eg in examples:  # a training doc's segments are the sentences its gold doc gives
            if eg.reference.has_annotation("SENT_START") and not eg.predicted.has_annotation("SENT_START"):
                for token, sent_start in zip(eg.predicted, eg.get_aligned_sent_starts()):
                    token.is_sent_start = sent_start
        docs = [eg.predicted for eg in examples]
        gold = [self._doc_gold(eg) for eg in examples]
        set_dropout_rate(self.model, drop)
        output, backprop = self.model.begin_update((docs, gold))
        loss, d_loss = self.get_loss(examples, output)
        backprop(d_loss)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        if output.n_cross_segment:
            if not self.n_cross_segment_relations:
                logger.warning(
                    f"[{self.name}] {output.n_cross_segment} gold relation(s) in this batch join entities in "
                    f"different sentences or {self.model.attrs['max_length']}-token windows: they are left out "
                    f"of the loss and cannot be predicted. The count so far is in the component's "
                    f"n_cross_segment_relations (this warning is given once)."
                )
            self.n_cross_segment_relations += output.n_cross_segment
        return losses

    def get_loss(self, examples: Iterable[Example], output: JointOutput) -> Tuple[float, Tuple[float, float]]:
        """L = L_NER + lambda_r * L_RE, and its gradient with respect to the two
        terms the model computed (the CRF negative log-likelihood and the binary
        cross-entropy over entity pairs, given the examples' gold annotations)."""
        lambda_r = self.cfg["lambda_r"]
        return output.ner_loss + lambda_r * output.rel_loss, (1.0, lambda_r)

    # Serialization ---------------------------------------------------------------------
    # The saved cfg gives the labels and tag scheme of the weights; the SETTINGS stay as
    # the config set them. A missing, truncated or corrupt file, or weights that do not
    # fit the config, stop with an error naming the component (and the file).
    def from_bytes(self, bytes_data, *, exclude=tuple()):
        settings = {key: self.cfg[key] for key in SETTINGS}
        try:
            super().from_bytes(bytes_data, exclude=exclude)
        except Exception as err:
            raise ValueError(
                f"[{self.name}] Cannot load the component from bytes: they are truncated or corrupt, or do not "
                f"fit the component's config ({type(err).__name__}: {err})"
            ) from err
        self.cfg.update(settings)
        self._check_ready()
        return self

    def from_disk(self, path, *, exclude=tuple()):
        path = Path(path)
        settings = {key: self.cfg[key] for key in SETTINGS}
        readers = {
            "cfg": lambda p: self.cfg.update(srsly.read_json(p)),
            "vocab": lambda p: self.vocab.from_disk(p, exclude=exclude),
            "model": lambda p: self.model.from_bytes(p.read_bytes()),
        }
        for part, read in readers.items():
            if part in exclude or (part == "vocab" and not (path / part).exists()):
                continue
            if not (path / part).exists():
                raise ValueError(f"[{self.name}] Cannot load the component: {path / part} is missing.")
            try:
                read(path / part)
            except Exception as err:
                raise ValueError(
                    f"[{self.name}] Cannot load {path / part}: the file is truncated or corrupt, or does not "
                    f"fit the component's config ({type(err).__name__}: {err})"
                ) from err
        self.cfg.update(settings)
        self._check_ready()
        return self


def _strip_space(doc: Doc, start: int, end: int, label: str) -> Optional[Span]:
    """The entity without whitespace tokens at either end; None if nothing else is left."""
    while start < end and doc[start].is_space:
        start += 1
    while end > start and doc[end - 1].is_space:
        end -= 1
    return Span(doc, start, end, label=label) if start < end else None


def _keep_existing(doc: Doc, predicted: List[Span], relations: List[Relation]) -> Tuple[List[Span], List[Relation]]:
    """Existing entities plus the predicted ones that overlap none of them; only
    relations whose two arguments were kept."""
    taken = numpy.zeros(len(doc), dtype=bool)
    for ent in doc.ents:
        taken[ent.start : ent.end] = True
    added = [span for span in predicted if not taken[span.start : span.end].any()]
    kept = {(span.start, span.end) for span in added}
    relations = [
        rel for rel in relations if (rel.head.start, rel.head.end) in kept and (rel.tail.start, rel.tail.end) in kept
    ]
    return sorted(list(doc.ents) + added, key=lambda span: span.start), relations
