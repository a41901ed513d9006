"""spacy-deeper: joint NER and relation extraction for spaCy (Crone 2020)."""
import contextlib

from .relations import ExtensionClash, Relation, register_extensions

# spaCy imports every installed package's factories whenever it builds a pipeline, so a
# clash with another package's doc._.relations is an error only where spacy_deeper is used.
with contextlib.suppress(ExtensionClash):
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


__all__ = ["ExtensionClash", "Relation", "register_extensions", "render", "render_to_file", "serve", "__version__"]
