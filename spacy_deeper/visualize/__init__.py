"""HTML visualization of entities and relations, in the spirit of displaCy.

Each doc is drawn sentence by sentence as rows of inline SVG: entities are
coloured boxes with their label underneath (displaCy's colours where the label
or a common alias of it has one, a fixed pastel colour otherwise) and every
relation of `doc._.relations` is a labelled arc with an arrowhead from the head
entity to the tail entity, stacked by nesting level so that many relations stay
readable. Long sentences wrap into lines of limited width; a relation between
two lines (or two sentences) is listed under its sentence instead of drawn as
an arc. Everything is laid out in Python, so the output needs no script and no
external resource: the CSS is inline and text widths are estimated from font
metrics.

- text.py: text widths; layout.py: lines, boxes and arcs in pixels;
- templates.py: the markup (CSS, colours, HTML and SVG) drawn from a layout;
- here: the entry points, `render`, `render_to_file`, `serve` and `HtmlWriter`.

    >>> import spacy_deeper
    >>> html = spacy_deeper.render(nlp("John Wilkes Booth, who assassinated President Lincoln, was an actor."))
"""
import io
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, TextIO, Union

from spacy.tokens import Doc

from .layout import DEFAULT_WIDTH
from .templates import Painter, arc_color, entity_color

DocOrDocs = Union[Doc, Iterable[Doc]]

__all__ = ["DEFAULT_WIDTH", "HtmlWriter", "arc_color", "entity_color", "render", "render_to_file", "serve"]


def _minify(markup: str) -> str:
    return "".join(line.strip() for line in markup.splitlines())


class HtmlWriter:
    """Write a visualization doc by doc, without holding the docs in memory.

        with open(path, "w", encoding="utf8") as f, HtmlWriter(f) as writer:
            for doc in nlp.pipe(texts):
                writer.write(doc, title="...")
    """

    def __init__(
        self,
        file: TextIO,
        *,
        page: bool = True,
        minify: bool = False,
        options: Optional[Dict[str, Any]] = None,
    ):
        self.file, self.page, self.minify = file, page, minify
        self.painter = Painter(options)
        self._emit(self.painter.open(page))

    def _emit(self, markup: str) -> None:
        self.file.write(_minify(markup) if self.minify else markup + "\n")

    def write(self, doc: Doc, title: Optional[str] = None) -> None:
        """Add one doc; `title` (default: `doc.user_data["title"]`) is shown above it."""
        if not isinstance(doc, Doc):
            raise TypeError(f"expected a spaCy Doc, got {type(doc).__name__}")
        self._emit(self.painter.doc(doc, title))

    def close(self) -> None:
        """Finish the markup (the file stays open)."""
        self._emit(self.painter.close(self.page))

    def __enter__(self) -> "HtmlWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is None:
            self.close()


def _as_docs(docs: DocOrDocs) -> Iterable[Doc]:
    return [docs] if isinstance(docs, Doc) else docs


def render(
    docs: DocOrDocs,
    *,
    page: bool = True,
    minify: bool = False,
    options: Optional[Dict[str, Any]] = None,
) -> str:
    """HTML showing the entities and relations of a Doc or of several Docs.

    page: a standalone HTML page, or else a `<div>` to embed (with its own CSS).
    minify: no line breaks in the markup.
    options: `colors` (entity label -> CSS colour), `arc_colors` (relation label
        -> CSS colour), `width` (the widest a line may be, in pixels; default 900),
        `scores` (show scores on the arcs), `title` (of the page).
    """
    buffer = io.StringIO()
    with HtmlWriter(buffer, page=page, minify=minify, options=options) as writer:
        for doc in _as_docs(docs):
            writer.write(doc)
    return buffer.getvalue()


def render_to_file(docs: DocOrDocs, path: Union[str, Path], **kwargs: Any) -> Path:
    """Write `render(docs, **kwargs)` to `path` (UTF-8); returns the path."""
    path = Path(path)
    path.write_text(render(docs, **kwargs), encoding="utf8")
    return path


def serve(
    docs: DocOrDocs,
    port: int = 5000,
    host: str = "0.0.0.0",
    *,
    options: Optional[Dict[str, Any]] = None,
) -> None:
    """Serve the visualization at http://host:port until interrupted (like `displacy.serve`)."""
    from wsgiref import simple_server

    body = render(docs, page=True, options=options).encode("utf8")

    def app(environ: Dict[str, Any], start_response: Any) -> List[bytes]:
        start_response("200 OK", [("Content-type", "text/html; charset=utf-8")])
        return [body]

    httpd = simple_server.make_server(host, port, app)
    print(f"Serving on http://{host}:{port} ...", file=sys.stderr)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        print(f"Shutting down server on port {port}.", file=sys.stderr)
    finally:
        httpd.server_close()
