"""Layout of the visualization: each doc as sentences of wrapped lines, every token and entity
box with its x position, every relation either an arc within a line (anchored on its boxes and
stacked by nesting level) or listed under its sentence. Pure geometry, in pixels: the markup is
drawn from it by templates.py.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from spacy.tokens import Doc, Span

from ..relations import Relation
from .text import is_space, text_width

DEFAULT_WIDTH = 900  # the widest a line of tokens may be, in pixels

# Font sizes in pixels (the CSS of templates.py uses them too).
TOKEN_SIZE = 16  # tokens
ENT_LABEL_SIZE = 10  # entity labels (bold, upper case)
ARC_LABEL_SIZE = 12  # relation labels (bold)
# Horizontal geometry in pixels.
SPACE_GAP = 6.0  # between tokens separated by whitespace
TIGHT_GAP = 1.5  # between tokens with no whitespace in between
ENT_PAD = 5.0  # horizontal padding inside an entity box
MARGIN = 6.0  # left and right margin of a line


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
class Piece:
    """An entity, or the part of one on a line, as drawn."""

    ent: Span
    start: int  # token range of the part
    end: int
    x0: float = 0.0
    x1: float = 0.0


@dataclass
class Arc:
    """A relation drawn within a line: from x `xh` on its head's box to `xt` on its tail's,
    at nesting `level` (1 lowest), with `label` (of width `label_w`) centred at `mid`."""

    rel: Relation
    head: Tuple[int, int]  # box keys: (token start, token end) of the span
    tail: Tuple[int, int]
    label: str
    label_w: float
    xh: float = 0.0
    xt: float = 0.0
    level: int = 0
    mid: float = 0.0

    def extent(self) -> Tuple[float, float]:
        lo, hi = sorted((self.xh, self.xt))
        half = self.label_w / 2 + 3
        return min(lo, self.mid - half), max(hi, self.mid + half)


@dataclass
class Line:
    tokens: List[Tuple[int, float]] = field(default_factory=list)  # (index, x) of the tokens drawn (not whitespace)
    pieces: List[Piece] = field(default_factory=list)
    arcs: List[Arc] = field(default_factory=list)
    width: float = 0.0


class Layout:
    """Lines of one doc, and which relations are arcs in a line and which are listed.

    lines: every line of the doc; groups: (start, end, line numbers) of each sentence (merged
    where an entity crosses a boundary); far: group number -> the relations listed under it.
    `scores` puts each relation's score after its label on the arc.
    """

    def __init__(self, doc: Doc, max_width: float, scores: bool):
        self.doc = doc
        self.max_width = max_width
        self.scores = scores
        self.tok_width = [0.0 if is_space(t.text) else text_width(t.text, TOKEN_SIZE) for t in doc]
        self.ent_at: Dict[int, Span] = {}
        for ent in doc.ents:
            for i in range(ent.start, ent.end):
                self.ent_at[i] = ent
        self.tok_line: Dict[int, int] = {}
        self.tok_x: Dict[int, Tuple[float, float]] = {}
        self.boxes: Dict[Tuple[int, int], Tuple[int, float, float]] = {}  # whole ents on one line
        self.lines: List[Line] = []
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
        if is_space(token.text):
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
        line = Line()
        x = MARGIN
        i, end = atoms[0].start, atoms[-1].end
        while i < end:
            ent = self.ent_at.get(i)
            if ent is None:
                x = self._put(line, line_no, i, x, last=i == end - 1)
                i += 1
                continue
            stop = min(ent.end, end)
            natural, pad = self._ent_width(ent, i, stop)
            piece = Piece(ent, i, stop, x0=x)
            x += pad
            for j in range(i, stop):
                x = self._put(line, line_no, j, x, last=j == stop - 1)
            x += pad
            piece.x1 = x
            line.pieces.append(piece)
            if piece.start == ent.start and piece.end == ent.end:
                self.boxes[(ent.start, ent.end)] = (line_no, piece.x0, piece.x1)
            x += self._gap(stop - 1) if stop < end else 0.0
            i = stop
        line.width = x + MARGIN
        self.lines.append(line)

    def _put(self, line: Line, line_no: int, i: int, x: float, last: bool) -> float:
        """Token i at x on a line; returns where what follows it starts."""
        if not is_space(self.doc[i].text):
            line.tokens.append((i, x))
        self.tok_line[i] = line_no
        self.tok_x[i] = (x, x + self.tok_width[i])
        return x + (self.tok_width[i] + (0.0 if last else self._gap(i)))

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
            label = f"{rel.label} {rel.score:.2f}" if self.scores else rel.label
            arc = Arc(rel, hkey, tkey, label, text_width(label, ARC_LABEL_SIZE, bold=True))
            self.lines[head[0]].arcs.append(arc)
        for line in self.lines:
            self._anchor(line.arcs, boxes)
            self._stack(line.arcs)

    @staticmethod
    def _anchor(arcs: List[Arc], boxes: Dict[Tuple[int, int], Tuple[int, float, float]]) -> None:
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
    def _stack(arcs: List[Arc]) -> None:
        """Nesting levels: never two overlapping arcs at one level, and an arc above
        every arc nested in it. Arcs whose span (label included) covers fewer ends of
        other arcs are placed first, hence lower, so few ends cross a line or a label.
        """

        def covered(arc: Arc) -> int:
            lo, hi = arc.extent()
            return sum(lo < x < hi for other in arcs if other is not arc for x in (other.xh, other.xt))

        placed: List[Arc] = []
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
