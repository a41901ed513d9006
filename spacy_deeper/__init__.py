"""spacy-deeper: joint NER and relation extraction for spaCy (Crone 2020)."""
from .relations import Relation, register_extensions

register_extensions()

__version__ = "0.1.0"
__all__ = ["Relation", "register_extensions", "__version__"]
