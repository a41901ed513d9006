"""Moved to bench/long_docs.py (`python -m bench.long_docs`). Only tests/test_robustness.py
still imports this name, through sys.path; delete this file once it imports bench.long_docs."""
from bench.long_docs import make_text, measure  # noqa: F401
