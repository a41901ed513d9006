"""Errors that spaCy's command line shows as a one-line message, not a traceback."""
import importlib
import sys
from typing import Tuple


def _click_exceptions() -> Tuple[type, ...]:
    """The exception types spaCy's CLI prints as "Error: message" with exit status 1: its
    commands run on click, or, from typer 0.2x, on typer's own copy of click (typer._click)."""
    found = []
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            found.append(importlib.import_module(module).ClickException)
        except (ImportError, AttributeError):
            pass
    return tuple(found)


class ConfigError(ValueError, *_click_exceptions()):  # type: ignore[misc]
    """A ValueError for a setting the user has to give. Called from Python it is raised as
    any other; under `spacy assemble`, `spacy train` etc. click catches it and prints the
    message alone."""

    exit_code = 1

    def __init__(self, message: str):
        ValueError.__init__(self, message)
        self.message = message
        self.show_color = None

    def __str__(self) -> str:
        return self.message

    def format_message(self) -> str:
        return self.message

    def show(self, file=None) -> None:
        print(f"Error: {self.message}", file=file if file is not None else sys.stderr)
