"""spacy-deeper: joint NER and relation extraction for spaCy (Crone 2020)."""
from .relations import Relation, register_extensions
from .render import render, render_to_file, serve

register_extensions()

__version__ = "0.1.0"
__all__ = ["Relation", "register_extensions", "render", "render_to_file", "serve", "__version__"]
