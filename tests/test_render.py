"""The HTML visualization: markup on hand-made docs, and the page in a real headless browser.

The browser tests need Chromium (`sh .ci/install-browser.sh` installs Debian's) and
are skipped, saying so, without it. `DEEPER_UPDATE_SCREENSHOT=1 pytest
tests/test_render.py -k screenshot` also writes the screenshot to docs/visualizer.png.
"""
import os
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pytest
import spacy
from spacy.tokens import Doc, Span

import spacy_deeper  # noqa: F401  (registers doc._.relations)
from spacy_deeper.visualize import DEFAULT_WIDTH, HtmlWriter, entity_color, render, render_to_file
from spacy_deeper.visualize.layout import Layout

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"

Ent = Tuple[int, int, str]
Rel = Tuple[int, int, int, int, str, float]


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


def make_doc(nlp, words: Sequence[str], ents: Sequence[Ent] = (), rels: Sequence[Rel] = ()) -> Doc:
    doc = Doc(nlp.vocab, words=list(words))
    doc.ents = [Span(doc, s, e, label=label) for s, e, label in ents]
    doc._.relations = [list(rel) for rel in rels]
    return doc


def booth(nlp) -> Doc:
    words = "John Wilkes Booth , who assassinated President Lincoln , was an actor .".split()
    return make_doc(nlp, words, [(0, 3, "Peop"), (6, 8, "Peop")], [(0, 3, 6, 8, "Kill", 0.97)])


def perugia(nlp) -> Doc:
    return make_doc(
        nlp,
        "PERUGIA , Italy ( AP )".split(),
        [(0, 1, "Loc"), (2, 3, "Loc"), (4, 5, "Org")],
        [(0, 1, 2, 3, "Located_In", 0.91), (4, 5, 0, 1, "OrgBased_In", 0.84), (4, 5, 2, 3, "OrgBased_In", 0.77)],
    )


def crowded(nlp) -> Doc:
    """Eight entities and every ordered pair of neighbours related: many nested arcs."""
    words = "A met B and C in D , E , F told G about H today .".split()
    ents = [(i, i + 1, "Peop") for i in (0, 2, 4, 6, 8, 10, 12, 14)]
    rels = []
    for k, (s1, e1, _) in enumerate(ents):
        for s2, e2, _ in ents[k + 1 : k + 4]:
            rels.append((s1, e1, s2, e2, "Rel", 0.5))
            rels.append((s2, e2, s1, e1, "Back", 0.5))
    return make_doc(nlp, words, ents, rels)


class Elements(HTMLParser):
    """Start tags of a document: (tag, attributes)."""

    def __init__(self, markup: str):
        super().__init__()
        self.items: List[Tuple[str, Dict[str, Optional[str]]]] = []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.items.append((tag, dict(attrs)))

    def with_class(self, name: str) -> List[Tuple[str, Dict[str, Optional[str]]]]:
        return [(t, a) for t, a in self.items if name in (a.get("class") or "").split()]


def counts(markup: str) -> Tuple[int, int]:
    elements = Elements(markup)
    return len(elements.with_class("deeper-ent")), len(elements.with_class("deeper-arc"))


# --- markup -----------------------------------------------------------------------


def test_counts_match_entities_and_relations(nlp):
    for doc in (booth(nlp), perugia(nlp), crowded(nlp)):
        markup = render(doc)
        assert counts(markup) == (len(doc.ents), len(doc._.relations))


def test_arc_data_attributes_are_char_offsets(nlp):
    doc = booth(nlp)
    arcs = Elements(render(doc)).with_class("deeper-arc")
    assert len(arcs) == 1
    attrs = arcs[0][1]
    assert attrs["data-label"] == "Kill" and attrs["data-score"] == "0.9700"
    assert "<title>Kill (0.97): John Wilkes Booth" in render(doc)  # label and score on hover
    assert attrs["data-head"] == "0:17" and doc.text[0:17] == "John Wilkes Booth"
    tail_start, tail_end = map(int, attrs["data-tail"].split(":"))
    assert doc.text[tail_start:tail_end] == "President Lincoln"
    ents = Elements(render(doc)).with_class("deeper-ent")
    assert [a["data-label"] for _, a in ents] == ["Peop", "Peop"]
    assert [(a["data-start"], a["data-end"]) for _, a in ents] == [("0", "17"), ("37", "54")]


def test_text_and_labels_are_escaped(nlp):
    words = ["<script>alert(1)</script>", "&", "Bob", '"quoted"']
    doc = make_doc(nlp, words, [(2, 3, "<b>Peop</b>"), (3, 4, "Other")], [(2, 3, 3, 4, "<i>rel</i>", 1.0)])
    markup = render(doc)
    assert "<script>" not in markup and "<b>" not in markup and "<i>" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert "&amp;" in markup and "&quot;quoted&quot;" in markup
    assert counts(markup) == (2, 1)


def test_several_docs_on_one_page(nlp):
    docs = [booth(nlp), perugia(nlp), crowded(nlp)]
    markup = render(docs)
    assert markup.startswith("<!DOCTYPE html>") and markup.count("<html") == 1
    assert len(Elements(markup).with_class("deeper-doc")) == 3
    assert counts(markup) == (sum(len(d.ents) for d in docs), sum(len(d._.relations) for d in docs))


def test_doc_without_entities_and_empty_doc(nlp):
    plain = make_doc(nlp, "Nothing to see here .".split())
    markup = render([plain, nlp("")])
    assert counts(markup) == (0, 0)
    assert "Nothing" in markup and "(empty document)" in markup


def test_fragment_minify_and_no_external_resources(nlp):
    fragment = render(perugia(nlp), page=False)
    assert fragment.startswith('<div class="deeper">') and "<html" not in fragment
    assert "<style>" in fragment
    minified = render(perugia(nlp), minify=True)
    assert "\n" not in minified and counts(minified) == (3, 3)
    for markup in (fragment, minified):
        assert not re.search(r"\b(src|href)\s*=|url\(|@import|<link|<script", markup)


def test_long_sentence_wraps_into_lines(nlp):
    words = [f"word{i}" for i in range(200)]
    ents = [(0, 2, "Peop"), (4, 5, "Loc"), (150, 152, "Org"), (190, 191, "Loc")]
    rels = [(0, 2, 4, 5, "Live_In", 0.9), (0, 2, 150, 152, "Work_For", 0.8), (150, 152, 190, 191, "OrgBased_In", 0.7)]
    doc = make_doc(nlp, words, ents, rels)
    markup = render(doc)
    elements = Elements(markup)
    lines = elements.with_class("deeper-line")
    assert len(elements.with_class("deeper-sent")) == 1
    assert len(lines) >= 5
    assert all(float(a["width"]) <= DEFAULT_WIDTH for _, a in lines)
    assert counts(markup) == (4, 3)
    # Live_In is within a line; Work_For spans lines so it is listed below the sentence.
    far = elements.with_class("deeper-far-arc")
    assert {a["data-label"] for _, a in far} >= {"Work_For"}
    assert "Live_In" not in {a["data-label"] for _, a in far}
    narrow = Elements(render(doc, options={"width": 400})).with_class("deeper-line")
    assert len(narrow) > len(lines) and all(float(a["width"]) <= 400 for _, a in narrow)


def test_sentences_are_drawn_one_by_one(nlp):
    nlp2 = spacy.blank("en")
    nlp2.add_pipe("sentencizer")
    doc = nlp2("Booth shot Lincoln. Lincoln died. Booth fled to Virginia.")
    doc.ents = [Span(doc, 0, 1, "Peop"), Span(doc, 2, 3, "Peop"), Span(doc, 11, 12, "Loc")]
    doc._.relations = [[0, 1, 2, 3, "Kill", 0.9], [0, 1, 11, 12, "Live_In", 0.4]]
    elements = Elements(render(doc))
    assert len(elements.with_class("deeper-sent")) == 3
    assert len(elements.with_class("deeper-arc")) == 2
    # A relation across sentences is listed, not drawn as an arc.
    assert [a["data-label"] for _, a in elements.with_class("deeper-far-arc")] == ["Live_In"]


def test_arcs_at_one_level_never_overlap(nlp):
    doc = crowded(nlp)
    layout = Layout(doc, DEFAULT_WIDTH, scores=False)
    arcs = [arc for line in layout.lines for arc in line.arcs]
    assert len(arcs) == len(doc._.relations)  # all on one line
    assert max(a.level for a in arcs) > 1
    for i, a in enumerate(arcs):
        for b in arcs[i + 1 :]:
            if a.level == b.level:
                (a0, a1), (b0, b1) = a.extent(), b.extent()
                assert a1 <= b0 or b1 <= a0, (a.rel, b.rel)
        lo, hi = sorted((a.xh, a.xt))
        for b in arcs:  # an arc nested in another is below it
            if b is not a and lo < min(b.xh, b.xt) and max(b.xh, b.xt) < hi:
                assert b.level < a.level


def test_colours(nlp):
    assert entity_color("Peop") == entity_color("PERSON")
    assert entity_color("Org") == entity_color("ORG")
    assert entity_color("Loc") == entity_color("LOC")
    assert entity_color("Other") == entity_color("Other")  # fixed, not random
    assert entity_color("Other").startswith("#")
    assert entity_color("Peop", {"Peop": "red"}) == "red"
    markup = render(booth(nlp), options={"colors": {"Peop": "#123456"}})
    assert 'fill="#123456"' in markup
    with pytest.raises(ValueError):
        render(booth(nlp), options={"colour": {}})


def test_writer_and_render_to_file(nlp, tmp_path):
    path = render_to_file([booth(nlp), perugia(nlp)], tmp_path / "page.html")
    assert counts(path.read_text(encoding="utf8")) == (5, 4)
    out = tmp_path / "stream.html"
    with out.open("w", encoding="utf8") as f, HtmlWriter(f) as writer:
        writer.write(booth(nlp), title="first <doc>")
    markup = out.read_text(encoding="utf8")
    assert "first &lt;doc&gt;" in markup and markup.rstrip().endswith("</html>")


# --- in a browser -----------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH; install it with `sh .ci/install-browser.sh`"
)

# Run in the browser before the DOM is dumped: real text sizes, checked against the layout.
CHECK_SCRIPT = """<script>
(function () {
  var problems = [];
  document.querySelectorAll("svg.deeper-line").forEach(function (svg, n) {
    var width = svg.width.baseVal.value, boxes = [];
    svg.querySelectorAll("text.deeper-tok").forEach(function (t) {
      var b = t.getBBox();
      if (b.width <= 0) problems.push("line " + n + ": empty token " + t.textContent);
      if (b.x + b.width > width + 0.5) problems.push("line " + n + ": " + t.textContent + " overflows");
      boxes.push([b.x, b.x + b.width, t.textContent]);
    });
    boxes.sort(function (a, b) { return a[0] - b[0]; });
    for (var i = 1; i < boxes.length; i++) {
      if (boxes[i][0] < boxes[i - 1][1] - 0.5) problems.push("line " + n + ": " + boxes[i - 1][2] + " overlaps " + boxes[i][2]);
    }
    svg.querySelectorAll(".deeper-ent").forEach(function (g) {
      var r = g.querySelector("rect").getBBox();
      g.querySelectorAll("text.deeper-tok").forEach(function (t) {
        var b = t.getBBox();
        if (b.x < r.x || b.x + b.width > r.x + r.width + 0.5) problems.push("line " + n + ": " + t.textContent + " sticks out of its box");
      });
    });
  });
  var out = document.createElement("pre");
  out.id = "layout-check";
  out.textContent = problems.length ? problems.join("\\n") : "OK";
  document.body.appendChild(out);
})();
</script>"""


def chromium(tmp_path: Path, *args: str) -> str:
    """Run headless Chromium with `args`; its stdout."""
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--hide-scrollbars", f"--user-data-dir={tmp_path / 'chromium-profile'}", *args,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@needs_browser
def test_page_in_browser(nlp, tmp_path):
    words = [f"w{i}" for i in range(120)]
    long_doc = make_doc(
        nlp, words, [(5, 7, "Peop"), (9, 10, "Loc"), (100, 102, "Org")],
        [(5, 7, 9, 10, "Live_In", 0.9), (100, 102, 5, 7, "Employs", 0.6)],
    )  # fmt: skip
    escaped = make_doc(nlp, ["<script>document.title='x'</script>", "Bob"], [(1, 2, "Peop")])
    docs = [booth(nlp), perugia(nlp), crowded(nlp), long_doc, escaped, make_doc(nlp, ["none"])]
    page = tmp_path / "page.html"
    render_to_file(docs, page)
    page.write_text(page.read_text(encoding="utf8").replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf8")

    dom = chromium(tmp_path, "--dump-dom", page.as_uri())

    elements = Elements(dom)
    assert len(elements.with_class("deeper-ent")) == sum(len(d.ents) for d in docs)
    arcs = elements.with_class("deeper-arc")
    assert len(arcs) == sum(len(d._.relations) for d in docs)
    drawn = [a for t, a in arcs if t == "g"]
    listed = [a for t, a in arcs if t == "li"]
    assert len(drawn) + len(listed) == len(arcs) and listed  # the long doc's Employs is listed
    paths = [a for _, a in elements.with_class("deeper-arc-path")]
    assert len(paths) == len(drawn)
    assert all(re.match(r"M[\d.]+,[\d.]+ V", a.get("d") or "") for a in paths)
    assert len(elements.with_class("deeper-arrow")) == len(drawn)
    # The injected text was not run as a script, and the layout fits real text sizes.
    assert "<title>x</title>" not in dom
    check = re.search(r'<pre id="layout-check">(.*?)</pre>', dom, re.S)
    assert check is not None and check.group(1) == "OK", check and check.group(1)


def png_size(data: bytes) -> Tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def png_colours(data: bytes) -> int:
    """How many distinct byte values the image data has: 1-2 for a blank image."""
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            chunks.append(data[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return len(set(zlib.decompress(b"".join(chunks))))


@needs_browser
def test_screenshot(nlp, tmp_path):
    page = tmp_path / "conll04.html"
    booth_doc, perugia_doc = booth(nlp), perugia(nlp)
    booth_doc.user_data["title"] = "CoNLL04: Kill"
    perugia_doc.user_data["title"] = "CoNLL04: Located_In, OrgBased_In"
    render_to_file([booth_doc, perugia_doc], page, options={"title": "spacy-deeper"})
    png = tmp_path / "visualizer.png"

    chromium(tmp_path, f"--screenshot={png}", "--window-size=860,420", page.as_uri())

    data = png.read_bytes()
    assert png_size(data) == (860, 420)
    assert png_colours(data) > 50
    if os.environ.get("DEEPER_UPDATE_SCREENSHOT"):
        DOCS_DIR.mkdir(exist_ok=True)
        shutil.copyfile(png, DOCS_DIR / "visualizer.png")
