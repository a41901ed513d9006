"""Token features: the paper's token representation, as far as offline resources allow.

- `TokenFeatures.v1`: hashed embeddings (spaCy's MultiHashEmbed, by default over
  NORM, PREFIX, SUFFIX and SHAPE: no vocabulary file, and unseen words still share
  prefix / suffix / shape rows), spaCy's CharacterEmbed (the cased first and last
  characters) and the paper's casing one-hot, read from lexeme flags in one
  vectorized `doc.to_array` call;
- `StaticVectors.v1`: pretrained word vectors such as GloVe, frozen, projected;
- the character BiRNN is in `char_rnn.py`.
The configs concatenate these. There is no contextual encoder here: the BiRNN layers
of the model are the encoder.
"""
from typing import List, Optional, Sequence

import numpy

from spacy.attrs import IDS, IS_ALPHA, IS_DIGIT, IS_LOWER, IS_PUNCT, IS_TITLE, IS_UPPER, LIKE_NUM
from spacy.ml._character_embed import CharacterEmbed
from spacy.ml.models.tok2vec import MultiHashEmbed
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model, concatenate, glorot_uniform_init
from thinc.types import Floats2d

CASING_FLAGS = [IS_LOWER, IS_UPPER, IS_TITLE, IS_DIGIT, LIKE_NUM, IS_PUNCT, IS_ALPHA]


@registry.architectures("spacy_deeper.TokenFeatures.v1")
def build_token_features(
    width: int = 128,
    rows: int = 5000,
    attrs: Sequence[str] = ("NORM", "PREFIX", "SUFFIX", "SHAPE"),
    char_width: int = 16,
    n_chars: int = 8,
    include_casing: bool = True,
) -> Model[List[Doc], List[Floats2d]]:
    """Word, character and casing features; output width is
    width + char_width * n_chars (+ 7 with casing)."""
    layers = [MultiHashEmbed(width, attrs=list(attrs), rows=[rows] * len(attrs), include_static_vectors=False)]
    if n_chars:
        layers.append(CharacterEmbed(nM=char_width, nC=n_chars))
    if include_casing:
        layers.append(casing_features())
    return concatenate(*layers)


def casing_features() -> Model[List[Doc], List[Floats2d]]:
    """Binary casing and shape flags per token (no parameters)."""
    return Model("casing_features", _casing_forward, dims={"nO": len(CASING_FLAGS)})


def _casing_forward(model: Model, docs: List[Doc], is_train: bool):
    ops = model.ops
    Ys = [ops.asarray2f(doc.to_array(CASING_FLAGS).reshape(len(doc), len(CASING_FLAGS)), dtype="float32") for doc in docs]
    return Ys, lambda dYs: []



@registry.architectures("spacy_deeper.StaticVectors.v1")
def build_static_vectors(
    width: int = 50, attr: str = "LOWER", dropout: float = 0.0, word_dropout: float = 0.0
) -> Model[List[Doc], List[Floats2d]]:
    """The vocab's static vectors (`[initialize] vectors`), looked up by `attr`, frozen,
    through a learned linear projection to `width`; tokens without a vector get zeros.

    In training, `dropout` zeroes input dimensions and `word_dropout` whole tokens' vectors
    (Lample et al. 2016's word dropout): a dropped token looks like a word without a
    vector, as unseen words do at test time.

    The attribute is part of the layer's config, not read from the vectors table:
    spaCy 3.8 does not save the `--attr` of `spacy init vectors` with default-mode
    vectors (Vectors._get_cfg), so a table made with `--attr LOWER` is looked up by
    ORTH once loaded, and every capitalized word would find no vector.
    """
    if attr.upper() not in IDS:
        raise ValueError(f"StaticVectors: unknown token attribute {attr!r}.")
    return Model(
        "static_vectors",
        _static_vectors_forward,
        init=_static_vectors_init,
        params={"W": None},
        attrs={"attr": IDS[attr.upper()], "attr_name": attr.upper(), "dropout": dropout, "word_dropout": word_dropout},
        dims={"nO": width, "nM": None},
    )


def _static_vectors_init(model: Model, X: Optional[List[Doc]] = None, Y=None) -> Model:
    if X:
        vectors = X[0].vocab.vectors
        if vectors.shape[0] == 0 or vectors.shape[1] == 0:
            raise ValueError(
                "spacy_deeper.StaticVectors.v1: the vocab has no vectors. Set [initialize] vectors "
                "to a pipeline with word vectors (`spacy project run vectors` makes corpus/vectors/glove50)."
            )
        model.set_dim("nM", vectors.shape[1])
    if not model.has_dim("nM"):
        raise ValueError("spacy_deeper.StaticVectors.v1 needs docs with vectors to initialize.")
    model.set_param("W", glorot_uniform_init(model.ops, (model.get_dim("nO"), model.get_dim("nM"))))
    return model


def _static_vectors_forward(model: Model, docs: List[Doc], is_train: bool):
    ops, W = model.ops, model.get_param("W")
    lengths = [len(doc) for doc in docs]
    if not sum(lengths):
        return [ops.alloc2f(0, model.get_dim("nO")) for _ in docs], lambda dYs: []
    vectors = docs[0].vocab.vectors
    keys = numpy.concatenate([doc.to_array(model.attrs["attr"]) for doc in docs if len(doc)]).astype("uint64")
    rows = vectors.find(keys=keys)
    V = ops.asarray2f(vectors.data[numpy.maximum(rows, 0)])
    V[ops.asarray1i(rows) < 0] = 0.0
    if is_train and model.attrs["dropout"] > 0:
        V *= ops.get_dropout_mask((V.shape[1],), model.attrs["dropout"])
    if is_train and model.attrs["word_dropout"] > 0:
        # Not get_dropout_mask: it rescales the kept rows, and a kept word should look as at test time.
        V[ops.xp.random.uniform(size=V.shape[0]) < model.attrs["word_dropout"]] = 0.0
    Y = ops.gemm(V, W, trans2=True)

    def backprop(dYs: List[Floats2d]) -> List[Doc]:
        model.inc_grad("W", ops.gemm(ops.flatten([d for d in dYs if len(d)]), V, trans1=True))
        return []

    return ops.unflatten(Y, ops.asarray1i(lengths)), backprop
