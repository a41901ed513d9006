"""Markup of the visualization: the CSS, the colours of labels, and the HTML and inline SVG
drawn from a Layout. Hooks for tests and styling: every entity is an element with class
`deeper-ent` and `data-label`, `data-start`, `data-end` (character offsets); every relation
is an element with class `deeper-arc` and `data-label`, `data-score`, `data-head`,
`data-tail` (character offsets as `start:end`).
"""
import html
import zlib
from typing import Any, Dict, Optional, Sequence, Tuple

from spacy.displacy.render import DEFAULT_ENTITY_COLOR, DEFAULT_LABEL_COLORS
from spacy.tokens import Doc, Span

from ..relations import Relation, register_extensions
from .layout import ARC_LABEL_SIZE, DEFAULT_WIDTH, ENT_LABEL_SIZE, MARGIN, TOKEN_SIZE, Arc, Layout, Line, Piece

#: Entity labels of common corpora drawn with the displaCy colour of a spaCy label.
LABEL_ALIASES: Dict[str, str] = {
    "PEOP": "PERSON",
    "PER": "PERSON",
    "PERS": "PERSON",
    "PEOPLE": "PERSON",
    "LOCATION": "LOC",
    "ORGANIZATION": "ORG",
    "ORGANISATION": "ORG",
}
#: Pastel colours for entity labels displaCy has no colour for (chosen by a hash of the label).
FALLBACK_ENTITY_COLORS: Tuple[str, ...] = (
    "#f6c1d2", "#c9e4a6", "#b9dcf5", "#f9d9a8", "#d7c8f2", "#a8e6cf", "#f2e394", "#e0c3a8",
)
#: Darker colours for relation arcs (chosen by a hash of the label; CoNLL04's five differ).
ARC_COLORS: Tuple[str, ...] = (
    "#8c564b", "#0f7c8a", "#5658b8", "#7a7a12", "#1f6fb4", "#ad494a",
    "#5b7a2a", "#a55194", "#23892a", "#d35a00", "#7b4fb0", "#c8201f",
)
FONT_FAMILY = "Verdana, 'DejaVu Sans', 'Bitstream Vera Sans', Geneva, sans-serif"
OPTIONS = ("colors", "arc_colors", "width", "title", "scores")

# Vertical geometry in pixels.
BOX_H = 26.0  # height of the token row (entity boxes)
BASELINE = 18.0  # token baseline below the top of the row
TOP_PAD = 4.0
ARC_BASE = 18.0  # from the top of the row up to the first arc level
LEVEL_H = 20.0  # between two arc levels
ARROW_LEN, ARROW_HALF = 7.0, 4.0
CORNER = 6.0

CSS = f"""
.deeper {{ font-family: {FONT_FAMILY}; color: #222; line-height: 1.4; }}
.deeper-doc {{ margin: 0 0 1.5em; padding: 0.75em 1em; border: 1px solid #e2e2e2; border-radius: 6px; background: #fff; }}
.deeper-title {{ margin: 0 0 0.5em; font-size: 0.95em; font-weight: bold; color: #555; }}
.deeper-sent {{ margin: 0 0 0.75em; }}
.deeper-sent:last-child {{ margin-bottom: 0; }}
.deeper svg.deeper-line {{ display: block; overflow: visible; max-width: none; }}
.deeper-tok {{ font-size: {TOKEN_SIZE}px; fill: #222; }}
.deeper-ent rect {{ stroke: rgba(0, 0, 0, 0.12); stroke-width: 1px; }}
.deeper-ent-label {{ font-size: {ENT_LABEL_SIZE}px; font-weight: bold; fill: #555; letter-spacing: 0.02em; }}
.deeper-arc-path {{ fill: none; stroke-width: 1.5px; }}
.deeper-arc-label {{ font-size: {ARC_LABEL_SIZE}px; font-weight: bold; }}
.deeper-arc-bg {{ fill: #fff; }}
.deeper-arc:hover .deeper-arc-path {{ stroke-width: 3px; }}
.deeper-far {{ margin: 0.25em 0 0; padding-left: 1.5em; font-size: 0.85em; }}
.deeper-far li {{ margin: 0.2em 0; }}
.deeper-chip {{ padding: 0.05em 0.35em; border-radius: 4px; }}
.deeper-chip small {{ font-size: 0.75em; font-weight: bold; color: #555; margin-left: 0.3em; }}
.deeper-far-label {{ font-weight: bold; margin: 0 0.4em; }}
.deeper-empty {{ color: #999; font-style: italic; }}
body.deeper-page {{ margin: 0; padding: 2rem; background: #fafafa; }}
"""

def _pick(label: str, palette: Sequence[str]) -> str:
    return palette[zlib.crc32(label.encode("utf8")) % len(palette)]


def entity_color(label: str, colors: Optional[Dict[str, str]] = None) -> str:
    """The colour of an entity label: `colors`, displaCy's, an alias's, or a fixed pastel."""
    if colors and label in colors:
        return colors[label]
    for key in (label, label.upper(), LABEL_ALIASES.get(label.upper(), "")):
        if key in DEFAULT_LABEL_COLORS:
            return DEFAULT_LABEL_COLORS[key]
    return _pick(label, FALLBACK_ENTITY_COLORS) if label else DEFAULT_ENTITY_COLOR


def arc_color(label: str, colors: Optional[Dict[str, str]] = None) -> str:
    """The colour of a relation label: `colors` or a fixed dark colour."""
    if colors and label in colors:
        return colors[label]
    return _pick(label, ARC_COLORS)



def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _offsets(span: Span) -> str:
    return f"{span.start_char}:{span.end_char}"


class Painter:
    """Markup for docs, with the options of one render: open(), then doc() for each doc, close()."""

    def __init__(self, options: Optional[Dict[str, Any]] = None):
        options = dict(options or {})
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise ValueError(f"unknown render options {unknown}; known: {list(OPTIONS)}")
        self.colors: Dict[str, str] = dict(options.get("colors") or {})
        self.arc_colors: Dict[str, str] = dict(options.get("arc_colors") or {})
        self.width = float(options.get("width", DEFAULT_WIDTH))
        if self.width < 200:
            raise ValueError(f"render option 'width' must be at least 200 pixels, got {self.width}")
        self.scores = bool(options.get("scores", False))
        self.title = str(options.get("title", "spacy-deeper"))

    def doc(self, doc: Doc, title: Optional[str] = None) -> str:
        register_extensions()
        layout = Layout(doc, self.width, self.scores)
        title = title if title is not None else doc.user_data.get("title")
        out = ['<div class="deeper-doc">']
        if title:
            out.append(f'<div class="deeper-title">{_esc(title)}</div>')
        if not layout.groups:
            out.append('<div class="deeper-empty">(empty document)</div>')
        for g, (_, _, line_nos) in enumerate(layout.groups):
            out.append('<div class="deeper-sent">')
            out.extend(self._line(doc, layout.lines[n]) for n in line_nos)
            if layout.far.get(g):
                out.append('<ul class="deeper-far">')
                out.extend(self._far(rel) for rel in layout.far[g])
                out.append("</ul>")
            out.append("</div>")
        out.append("</div>")
        return "\n".join(out)

    def _line(self, doc: Doc, line: Line) -> str:
        levels = max((a.level for a in line.arcs), default=0)
        top = TOP_PAD + (ARC_LABEL_SIZE + 2 + ARC_BASE + (levels - 1) * LEVEL_H if levels else 0.0)
        height = top + BOX_H + ENT_LABEL_SIZE + 6
        right = max([line.width] + [a.extent()[1] + MARGIN for a in line.arcs])
        parts = [
            f'<svg class="deeper-line" xmlns="http://www.w3.org/2000/svg" width="{_num(right)}" '
            f'height="{_num(height)}" viewBox="0 0 {_num(right)} {_num(height)}">'
        ]
        in_ents = {j for p in line.pieces for j in range(p.start, p.end)}
        for p in line.pieces:
            parts.append(self._piece(doc, line, p, top))
        for i, x in line.tokens:
            if i not in in_ents:
                parts.append(self._token(doc[i].text, x, top))
        for arc in sorted(line.arcs, key=lambda a: -a.level):
            parts.append(self._arc(arc, top))
        parts.append("</svg>")
        return "".join(parts)

    @staticmethod
    def _token(text: str, x: float, top: float) -> str:
        return f'<text class="deeper-tok" x="{_num(x)}" y="{_num(top + BASELINE)}">{_esc(text)}</text>'

    def _piece(self, doc: Doc, line: Line, piece: Piece, top: float) -> str:
        ent = piece.ent
        whole = piece.start == ent.start
        cls = "deeper-ent" if whole else "deeper-ent-cont"
        label = ent.label_
        parts = [
            f'<g class="{cls}" data-label="{_esc(label)}" data-start="{ent.start_char}" '
            f'data-end="{ent.end_char}"><title>{_esc(label)}: {_esc(ent.text)}</title>',
            f'<rect x="{_num(piece.x0)}" y="{_num(top)}" width="{_num(piece.x1 - piece.x0)}" '
            f'height="{_num(BOX_H)}" rx="5" fill="{_esc(entity_color(label, self.colors))}"/>',
        ]
        for i, x in line.tokens:
            if piece.start <= i < piece.end:
                parts.append(self._token(doc[i].text, x, top))
        parts.append(
            f'<text class="deeper-ent-label" x="{_num((piece.x0 + piece.x1) / 2)}" '
            f'y="{_num(top + BOX_H + ENT_LABEL_SIZE + 1)}" text-anchor="middle">'
            f"{_esc(label.upper())}</text></g>"
        )
        return "".join(parts)

    def _arc(self, arc: Arc, top: float) -> str:
        rel = arc.rel
        colour = _esc(arc_color(rel.label, self.arc_colors))
        tip = top - 1
        y = top - ARC_BASE - (arc.level - 1) * LEVEL_H
        xh, xt = arc.xh, arc.xt
        step = 1 if xt > xh else -1
        r = min(CORNER, abs(xt - xh) / 2)
        d = (
            f"M{_num(xh)},{_num(tip)} V{_num(y + r)} Q{_num(xh)},{_num(y)} {_num(xh + step * r)},{_num(y)} "
            f"H{_num(xt - step * r)} Q{_num(xt)},{_num(y)} {_num(xt)},{_num(y + r)} "
            f"V{_num(tip - ARROW_LEN + 1)}"
        )
        arrow = (
            f"M{_num(xt - ARROW_HALF)},{_num(tip - ARROW_LEN)} L{_num(xt)},{_num(tip)} "
            f"L{_num(xt + ARROW_HALF)},{_num(tip - ARROW_LEN)} Z"
        )
        hover = f"{rel.label} ({rel.score:.2f}): {rel.head.text} \u2192 {rel.tail.text}"
        return (
            f'<g class="deeper-arc" {self._arc_data(rel)}><title>{_esc(hover)}</title>'
            f'<path class="deeper-arc-path" d="{d}" stroke="{colour}"/>'
            f'<path class="deeper-arrow" d="{arrow}" fill="{colour}"/>'
            f'<rect class="deeper-arc-bg" x="{_num(arc.mid - arc.label_w / 2 - 2)}" '
            f'y="{_num(y - ARC_LABEL_SIZE - 2)}" width="{_num(arc.label_w + 4)}" '
            f'height="{_num(ARC_LABEL_SIZE + 1)}" rx="2"/>'
            f'<text class="deeper-arc-label" x="{_num(arc.mid)}" y="{_num(y - 4)}" '
            f'text-anchor="middle" fill="{colour}">{_esc(arc.label)}</text></g>'
        )

    @staticmethod
    def _arc_data(rel: Relation) -> str:
        return (
            f'data-label="{_esc(rel.label)}" data-score="{rel.score:.4f}" '
            f'data-head="{_offsets(rel.head)}" data-tail="{_offsets(rel.tail)}"'
        )

    def _chip(self, span: Span) -> str:
        colour = entity_color(span.label_, self.colors)
        return (
            f'<span class="deeper-chip" style="background: {_esc(colour)}">{_esc(span.text)}'
            f"<small>{_esc(span.label_.upper())}</small></span>"
        )

    def _far(self, rel: Relation) -> str:
        """A relation between two lines: an item of the list under its sentence."""
        colour = _esc(arc_color(rel.label, self.arc_colors))
        return (
            f'<li class="deeper-arc deeper-far-arc" {self._arc_data(rel)} '
            f'title="{_esc(f"{rel.label} ({rel.score:.2f})")}">{self._chip(rel.head)}'
            f'<span class="deeper-far-label" style="color: {colour}">\u2014{_esc(rel.label)}\u2192</span>'
            f"{self._chip(rel.tail)}</li>"
        )

    def open(self, page: bool) -> str:
        head = f'<div class="deeper"><style>{CSS}</style>'
        if not page:
            return head
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_esc(self.title)}</title>\n</head>\n"
            f'<body class="deeper-page">\n{head}'
        )

    @staticmethod
    def close(page: bool) -> str:
        return "</div>\n</body>\n</html>\n" if page else "</div>"
