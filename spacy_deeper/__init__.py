"""spacy-deeper: joint NER and relation extraction for spaCy (Crone 2020)."""
import contextlib

from .relations import ExtensionClash, Relation, register_extensions
from .render import render, render_to_file, serve

# spaCy imports every installed package's factories whenever it builds a pipeline, so a
# clash with another package's doc._.relations is an error only where spacy_deeper is used.
with contextlib.suppress(ExtensionClash):
    register_extensions()

__version__ = "0.1.0"
__all__ = ["ExtensionClash", "Relation", "register_extensions", "render", "render_to_file", "serve", "__version__"]
