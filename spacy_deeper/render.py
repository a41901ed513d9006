"""HTML visualization of entities and relations, in the spirit of displaCy.

Each doc is drawn sentence by sentence as rows of inline SVG: entities are
coloured boxes with their label underneath (displaCy's colours where the label
or a common alias of it has one, a fixed pastel colour otherwise) and every
relation of `doc._.relations` is a labelled arc with an arrowhead from the head
entity to the tail entity, stacked by nesting level so that many relations stay
readable. Long sentences wrap into lines of limited width; a relation between
two lines (or two sentences) is listed under its sentence instead of drawn as
an arc. Everything is laid out here, in Python, so the output needs no script
and no external resource: the CSS is inline and text widths are estimated from
the metrics of DejaVu Sans / Verdana (the first fonts of the font stack).

Hooks for tests and styling: every entity is an element with class `deeper-ent`
and `data-label`, `data-start`, `data-end` (character offsets); every relation
is an element with class `deeper-arc` and `data-label`, `data-score`,
`data-head`, `data-tail` (character offsets as `start:end`).

    >>> from spacy_deeper.render import render, render_to_file, serve
    >>> html = render(nlp("John Wilkes Booth, who assassinated President Lincoln, was an actor."))
"""
import html
import io
import sys
import unicodedata
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, TextIO, Tuple, Union

from spacy.displacy.render import DEFAULT_ENTITY_COLOR, DEFAULT_LABEL_COLORS
from spacy.tokens import Doc, Span

from .relations import Relation, register_extensions

DocOrDocs = Union[Doc, Iterable[Doc]]

# --- look -----------------------------------------------------------------------

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
DEFAULT_WIDTH = 900  # the widest a line of tokens may be, in pixels
OPTIONS = ("colors", "arc_colors", "width", "title", "scores")

# Geometry in pixels.
TOKEN_SIZE = 16  # token font size
ENT_LABEL_SIZE = 10  # entity label font size (bold, upper case)
ARC_LABEL_SIZE = 12  # relation label font size
SPACE_GAP = 6.0  # between tokens separated by whitespace
TIGHT_GAP = 1.5  # between tokens with no whitespace in between
ENT_PAD = 5.0  # horizontal padding inside an entity box
MARGIN = 6.0  # left and right margin of a line
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

# Advance widths of DejaVu Sans for the characters 32..126, in 1/1000 em
# (measured with Chromium's canvas; Verdana's are close).
_ASCII_WIDTHS = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337,
    636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531,
    1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787,
    603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500,
    500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612,
    635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
)
_BOLD = 1.12  # bold is about this much wider
_SAFETY = 1.04  # err on the wide side: a little extra space never overlaps


@lru_cache(maxsize=4096)
def _char_width(char: str) -> int:
    code = ord(char)
    if 32 <= code < 127:
        return _ASCII_WIDTHS[code - 32]
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 1000
    base = unicodedata.normalize("NFKD", char)[:1]
    if base and 32 <= ord(base) < 127:
        return _ASCII_WIDTHS[ord(base) - 32]
    return 700


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Estimated width in pixels of `text` at font size `size`."""
    em = sum(_char_width(c) for c in text) / 1000.0
    return em * size * (_BOLD if bold else 1.0) * _SAFETY


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


# --- layout ---------------------------------------------------------------------


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _offsets(span: Span) -> str:
    return f"{span.start_char}:{span.end_char}"


@dataclass
class _Atom:
    """What line breaking moves as one: a token, or a whole entity."""

    start: int
    end: int
    width: float
    gap: float  # after it, before the next atom
    breakable: bool  # a line may start with it
    forced: bool = False  # a line must start with it (after a newline token)


@dataclass
class _Piece:
    """An entity, or the part of one on a line, as drawn."""

    ent: Span
    start: int  # token range of the part
    end: int
    x0: float = 0.0
    x1: float = 0.0


@dataclass
class _Arc:
    rel: Relation
    head: Tuple[int, int]  # box keys: (token start, token end) of the span
    tail: Tuple[int, int]
    xh: float = 0.0
    xt: float = 0.0
    level: int = 0
    mid: float = 0.0
    label_w: float = 0.0

    @property
    def text(self) -> str:
        return self.rel.label

    def extent(self) -> Tuple[float, float]:
        lo, hi = sorted((self.xh, self.xt))
        half = self.label_w / 2 + 3
        return min(lo, self.mid - half), max(hi, self.mid + half)


@dataclass
class _Line:
    tokens: List[Tuple[int, float]] = field(default_factory=list)  # (index, x)
    pieces: List[_Piece] = field(default_factory=list)
    arcs: List[_Arc] = field(default_factory=list)
    width: float = 0.0


def _is_space(text: str) -> bool:
    return not text or text.isspace()


class _Layout:
    """Lines of one doc, and which relations are arcs in a line and which are listed."""

    def __init__(self, doc: Doc, max_width: float, scores: bool):
        self.doc = doc
        self.max_width = max_width
        self.scores = scores
        self.tok_width = [0.0 if _is_space(t.text) else text_width(t.text, TOKEN_SIZE) for t in doc]
        self.ent_at: Dict[int, Span] = {}
        for ent in doc.ents:
            for i in range(ent.start, ent.end):
                self.ent_at[i] = ent
        self.tok_line: Dict[int, int] = {}
        self.tok_x: Dict[int, Tuple[float, float]] = {}
        self.boxes: Dict[Tuple[int, int], Tuple[int, float, float]] = {}  # whole ents on one line
        self.lines: List[_Line] = []
        self.groups: List[Tuple[int, int, List[int]]] = []  # sentence range, its line indices
        for start, end in self._sentences():
            first = len(self.lines)
            for atoms in self._break(self._atoms(start, end)):
                self._place(atoms)
            self.groups.append((start, end, list(range(first, len(self.lines)))))
        self.far: Dict[int, List[Relation]] = {}  # group index -> relations listed below it
        self._arcs()

    def _gap(self, i: int) -> float:
        token = self.doc[i]
        if _is_space(token.text):
            return 0.0
        return SPACE_GAP if token.whitespace_ else TIGHT_GAP

    def _label_width(self, ent: Span) -> float:
        return text_width(ent.label_.upper(), ENT_LABEL_SIZE, bold=True) + 6

    def _sentences(self) -> List[Tuple[int, int]]:
        """Sentence token ranges, merged where an entity crosses a boundary."""
        doc = self.doc
        if not len(doc):
            return []
        if doc.has_annotation("SENT_START"):
            bounds = [(s.start, s.end) for s in doc.sents]
        else:
            bounds = [(0, len(doc))]
        merged: List[Tuple[int, int]] = []
        for start, end in bounds:
            prev = self.ent_at.get(start - 1) if merged else None
            if prev is not None and prev.end > start:
                merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        return merged

    def _ent_width(self, ent: Span, start: int, end: int) -> Tuple[float, float]:
        """Natural width of tokens start..end of `ent`, and the padding on each side."""
        natural = sum(self.tok_width[i] for i in range(start, end))
        natural += sum(self._gap(i) for i in range(start, end - 1))
        extra = max(0.0, self._label_width(ent) - natural - 2 * ENT_PAD)
        return natural, ENT_PAD + extra / 2

    def _atoms(self, start: int, end: int) -> List[_Atom]:
        atoms: List[_Atom] = []
        i = start
        while i < end:
            ent = self.ent_at.get(i)
            prev_gap = self._gap(i - 1) if i > start else SPACE_GAP
            breakable = i == start or prev_gap != TIGHT_GAP
            forced = i > start and "\n" in self.doc[i - 1].text
            if ent is not None and ent.start == i:
                natural, pad = self._ent_width(ent, ent.start, ent.end)
                if natural + 2 * pad <= self.max_width - 2 * MARGIN:
                    width = natural + 2 * pad
                    atoms.append(_Atom(i, ent.end, width, self._gap(ent.end - 1), breakable, forced))
                    i = ent.end
                    continue
            # A plain token, or a token of an entity too wide for a line.
            width = self.tok_width[i] + (2 * ENT_PAD if ent is not None else 0.0)
            atoms.append(_Atom(i, i + 1, width, self._gap(i), breakable, forced))
            i += 1
        return atoms

    def _break(self, atoms: List[_Atom]) -> List[List[_Atom]]:
        """Greedy line breaking, only where there is whitespace when possible."""
        limit = self.max_width - 2 * MARGIN
        lines: List[List[_Atom]] = []
        current: List[_Atom] = []
        used = 0.0
        for atom in atoms:
            if current and atom.forced:
                lines.append(current)
                current, used = [], 0.0
            needed = (used + current[-1].gap if current else 0.0) + atom.width
            if current and needed > limit:
                back = [k for k in range(1, len(current)) if current[k].breakable]
                if not atom.breakable and back:
                    k = back[-1]
                    lines.append(current[:k])
                    current = current[k:]
                else:
                    lines.append(current)
                    current = []
                used = sum(a.width + a.gap for a in current)
                needed = used + atom.width
            current.append(atom)
            used = needed
        if current:
            lines.append(current)
        return lines

    def _place(self, atoms: List[_Atom]) -> None:
        """Give every token of one line its x position, and every entity part its box."""
        line_no = len(self.lines)
        line = _Line()
        x = MARGIN
        i, end = atoms[0].start, atoms[-1].end
        while i < end:
            ent = self.ent_at.get(i)
            if ent is None:
                line.tokens.append((i, x))
                self.tok_line[i] = line_no
                self.tok_x[i] = (x, x + self.tok_width[i])
                x += self.tok_width[i] + (self._gap(i) if i < end - 1 else 0.0)
                i += 1
                continue
            stop = min(ent.end, end)
            natural, pad = self._ent_width(ent, i, stop)
            piece = _Piece(ent, i, stop, x0=x)
            x += pad
            for j in range(i, stop):
                line.tokens.append((j, x))
                self.tok_line[j] = line_no
                self.tok_x[j] = (x, x + self.tok_width[j])
                x += self.tok_width[j] + (self._gap(j) if j < stop - 1 else 0.0)
            x += pad
            piece.x1 = x
            line.pieces.append(piece)
            if piece.start == ent.start and piece.end == ent.end:
                self.boxes[(ent.start, ent.end)] = (line_no, piece.x0, piece.x1)
            x += self._gap(stop - 1) if stop < end else 0.0
            i = stop
        line.width = x + MARGIN
        self.lines.append(line)

    def _box(self, span: Span) -> Optional[Tuple[int, float, float]]:
        """Line and horizontal extent of a relation argument, if on one line."""
        box = self.boxes.get((span.start, span.end))
        if box is not None:
            return box
        lines = {self.tok_line.get(i) for i in range(span.start, span.end)}
        if len(lines) != 1 or None in lines:
            return None
        return (
            lines.pop(),
            self.tok_x[span.start][0] - ENT_PAD,
            self.tok_x[span.end - 1][1] + ENT_PAD,
        )

    def _group_of(self, token: int) -> int:
        for g, (start, end, _) in enumerate(self.groups):
            if start <= token < end:
                return g
        return 0

    def _arcs(self) -> None:
        """Sort relations into arcs of a line and listed ones; anchor and stack the arcs."""
        boxes: Dict[Tuple[int, int], Tuple[int, float, float]] = {}
        for rel in self.doc._.relations:
            head, tail = self._box(rel.head), self._box(rel.tail)
            hkey, tkey = (rel.head.start, rel.head.end), (rel.tail.start, rel.tail.end)
            if head is None or tail is None or head[0] != tail[0] or hkey == tkey:
                self.far.setdefault(self._group_of(rel.head.start), []).append(rel)
                continue
            boxes[hkey], boxes[tkey] = head, tail
            arc = _Arc(rel, hkey, tkey)
            arc.label_w = text_width(self._arc_text(rel), ARC_LABEL_SIZE, bold=True)
            self.lines[head[0]].arcs.append(arc)
        for line in self.lines:
            self._anchor(line.arcs, boxes)
            self._stack(line.arcs)

    def _arc_text(self, rel: Relation) -> str:
        return f"{rel.label} {rel.score:.2f}" if self.scores else rel.label

    @staticmethod
    def _anchor(arcs: List[_Arc], boxes: Dict[Tuple[int, int], Tuple[int, float, float]]) -> None:
        """Spread the ends of arcs over each box, ordered by where the other end is."""
        centre = {key: (box[1] + box[2]) / 2 for key, box in boxes.items()}
        ends: Dict[Tuple[int, int], List[Tuple[float, int, str]]] = {}
        for n, arc in enumerate(arcs):
            ends.setdefault(arc.head, []).append((centre[arc.tail], n, "h"))
            ends.setdefault(arc.tail, []).append((centre[arc.head], n, "t"))
        for key, items in ends.items():
            _, x0, x1 = boxes[key]
            inner = max(0.0, x1 - x0 - 2 * ENT_PAD)
            # Arcs to the left leave from the left part, arcs to the right from the
            # right part; on each side the farther (higher) arcs are outside the
            # nearer ones, so that arcs from one box do not cross.
            items.sort(key=lambda item: (item[0] > centre[key], -item[0], item[1]))
            for k, (_, n, role) in enumerate(items):
                x = x0 + ENT_PAD + inner * (k + 1) / (len(items) + 1)
                if role == "h":
                    arcs[n].xh = x
                else:
                    arcs[n].xt = x
        for arc in arcs:
            arc.mid = max((arc.xh + arc.xt) / 2, arc.label_w / 2 + 3)

    @staticmethod
    def _stack(arcs: List[_Arc]) -> None:
        """Nesting levels: never two overlapping arcs at one level, and an arc above
        every arc nested in it. Arcs whose span (label included) covers fewer ends of
        other arcs are placed first, hence lower, so few ends cross a line or a label.
        """

        def covered(arc: _Arc) -> int:
            lo, hi = arc.extent()
            return sum(lo < x < hi for other in arcs if other is not arc for x in (other.xh, other.xt))

        placed: List[_Arc] = []
        order = sorted(arcs, key=lambda a: (covered(a), abs(a.xt - a.xh), min(a.xh, a.xt)))
        for arc in order:
            lo, hi = arc.extent()
            inside = [p.level for p in placed if lo <= min(p.xh, p.xt) and max(p.xh, p.xt) <= hi]
            level = max(inside, default=0) + 1
            while any(
                p.level == level and lo < p.extent()[1] + 2 and p.extent()[0] < hi + 2 for p in placed
            ):
                level += 1
            arc.level = level
            placed.append(arc)


# --- markup ---------------------------------------------------------------------


class _Painter:
    """Markup for docs, with the options of one render."""

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
        layout = _Layout(doc, self.width, self.scores)
        title = title if title is not None else doc.user_data.get("title")
        out = ['<div class="deeper-doc">']
        if title:
            out.append(f'<div class="deeper-title">{_esc(title)}</div>')
        if not layout.groups:
            out.append('<div class="deeper-empty">(empty document)</div>')
        for g, (_, _, line_nos) in enumerate(layout.groups):
            out.append('<div class="deeper-sent">')
            out.extend(self._line(layout, layout.lines[n]) for n in line_nos)
            if layout.far.get(g):
                out.append('<ul class="deeper-far">')
                out.extend(self._far(rel) for rel in layout.far[g])
                out.append("</ul>")
            out.append("</div>")
        out.append("</div>")
        return "\n".join(out)

    def _line(self, layout: _Layout, line: _Line) -> str:
        doc = layout.doc
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
            parts.append(self._piece(layout, p, top))
        for i, x in line.tokens:
            if i not in in_ents and not _is_space(doc[i].text):
                parts.append(self._token(doc[i].text, x, top))
        for arc in sorted(line.arcs, key=lambda a: -a.level):
            parts.append(self._arc(layout, arc, top))
        parts.append("</svg>")
        return "".join(parts)

    @staticmethod
    def _token(text: str, x: float, top: float) -> str:
        return f'<text class="deeper-tok" x="{_num(x)}" y="{_num(top + BASELINE)}">{_esc(text)}</text>'

    def _piece(self, layout: _Layout, piece: _Piece, top: float) -> str:
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
        for i, x in layout.lines[layout.tok_line[piece.start]].tokens:
            if piece.start <= i < piece.end and not _is_space(layout.doc[i].text):
                parts.append(self._token(layout.doc[i].text, x, top))
        parts.append(
            f'<text class="deeper-ent-label" x="{_num((piece.x0 + piece.x1) / 2)}" '
            f'y="{_num(top + BOX_H + ENT_LABEL_SIZE + 1)}" text-anchor="middle">'
            f"{_esc(label.upper())}</text></g>"
        )
        return "".join(parts)

    def _arc(self, layout: _Layout, arc: _Arc, top: float) -> str:
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
            f'text-anchor="middle" fill="{colour}">{_esc(layout._arc_text(rel))}</text></g>'
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
        self.painter = _Painter(options)
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
