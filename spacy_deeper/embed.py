"""The paper's token representation without pretrained vectors: word embeddings,
character features and casing features, concatenated.

- words: spaCy's MultiHashEmbed over NORM, PREFIX, SUFFIX and SHAPE (hashed, so no
  vocabulary file and unseen words still share prefix/suffix/shape rows);
- characters: spaCy's CharacterEmbed, an embedding of the first and last characters
  of each token (cased), a cheap stand-in for the paper's character BiRNN;
- casing: the paper's one-hot casing feature, read from lexeme flags in one
  vectorized `doc.to_array` call.
There is no contextual encoder here: the BiRNN layers of the model are the encoder.
"""
from typing import List, Sequence

from spacy.attrs import IS_ALPHA, IS_DIGIT, IS_LOWER, IS_PUNCT, IS_TITLE, IS_UPPER, LIKE_NUM
from spacy.ml._character_embed import CharacterEmbed
from spacy.ml.models.tok2vec import MultiHashEmbed
from spacy.ml.staticvectors import StaticVectors
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model, chain, concatenate, ragged2list
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
def build_static_vectors(width: int = 50, dropout: float = 0.0) -> Model[List[Doc], List[Floats2d]]:
    """The vocab's static vectors (`[initialize] vectors`, looked up by the attribute
    they were made with, e.g. `spacy init vectors --attr LOWER`), through a learned
    linear projection to `width`, one array per doc."""
    return chain(StaticVectors(nO=width, dropout=dropout or None), ragged2list())
