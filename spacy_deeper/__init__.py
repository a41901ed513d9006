"""spacy-deeper: joint NER and relation extraction for spaCy (Crone 2020)."""
from .relations import Relation, register_extensions

register_extensions()

__version__ = "0.1.0"

# The visualizer (spacy_deeper.visualize) is imported on first use of one of its entry points.
_VISUALIZE = ("render", "render_to_file", "serve")


def __getattr__(name: str):
    if name in _VISUALIZE:
        from . import visualize

        return getattr(visualize, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_VISUALIZE])


__all__ = ["Relation", "register_extensions", "render", "render_to_file", "serve", "__version__"]
