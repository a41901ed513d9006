"""The relation visualizer: HTML structure, and what a real headless browser draws."""
import re
import shutil
import subprocess

import pytest
import spacy
from spacy.tokens import Span

from spacy_deeper.render import render, render_to_file

ENT = re.compile(r'class="deeper-ent"')
ARC = re.compile(r'class="deeper-arc(?: deeper-far-arc)?"')


def make_doc(nlp, words, ents, rels):
    doc = spacy.tokens.Doc(nlp.vocab, words=words)
    doc.ents = [Span(doc, s, e, label=label) for s, e, label in ents]
    doc._.relations = rels
    return doc


@pytest.fixture
def docs():
    nlp = spacy.blank("en")
    booth = make_doc(
        nlp, "John Wilkes Booth , who assassinated President Lincoln , was an actor .".split(),
        [(0, 3, "Peop"), (7, 8, "Peop")], [[0, 3, 7, 8, "Kill", 0.97]],
    )
    perugia = make_doc(
        nlp, "PERUGIA , Italy ( AP ) -- the mayor of Perugia spoke .".split(),
        [(0, 1, "Loc"), (2, 3, "Loc"), (4, 5, "Org"), (10, 11, "Loc")],
        [[0, 1, 2, 3, "Located_In", 0.9], [4, 5, 0, 1, "OrgBased_In", 0.8], [4, 5, 2, 3, "OrgBased_In", 0.7]],
    )
    return [booth, perugia]


def test_every_entity_and_relation_is_drawn(docs):
    html = render(docs)
    assert html.lstrip().lower().startswith("<!doctype html")
    assert len(ENT.findall(html)) == sum(len(d.ents) for d in docs) == 6
    assert len(ARC.findall(html)) == sum(len(d._.relations) for d in docs) == 4
    assert 'data-label="Kill"' in html and 'data-label="OrgBased_In"' in html
    assert "<title>" in html and "0.97" in html  # the score on hover
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html  # no external resources


def test_fragment_and_file(docs, tmp_path):
    fragment = render(docs[0], page=False)
    assert "<html" not in fragment.lower() and len(ARC.findall(fragment)) == 1
    path = render_to_file(docs, tmp_path / "page.html")
    assert len(ENT.findall(path.read_text(encoding="utf8"))) == 6


def test_text_is_escaped():
    nlp = spacy.blank("en")
    doc = make_doc(nlp, ["<script>alert(1)</script>", "&", "Bob"], [(2, 3, "Peop")], [])
    html = render(doc)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_doc_without_entities_and_empty_doc():
    nlp = spacy.blank("en")
    html = render([nlp("nothing to see here ."), nlp("")])
    assert not ENT.findall(html) and not ARC.findall(html)


def test_long_sentence_wraps_and_keeps_every_relation():
    nlp = spacy.blank("en")
    words = [f"w{i}" for i in range(200)]
    ents = [(i, i + 1, "Loc") for i in range(0, 200, 10)]
    rels = [[s, s + 1, s + 10, s + 11, "Located_In", 0.9] for s in range(0, 190, 10)] + [[0, 1, 190, 191, "Located_In", 0.6]]
    html = render(make_doc(nlp, words, ents, rels))
    assert len(re.findall(r'class="deeper-line"', html)) > 2
    assert len(ENT.findall(html)) == 20 and len(ARC.findall(html)) == 20


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (bash .ci/install-browser.sh installs it)")
def test_headless_browser_draws_every_entity_and_arc(docs, tmp_path):
    page = render_to_file(docs, tmp_path / "page.html")
    base = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    assert len(ENT.findall(dom)) == 6 and len(ARC.findall(dom)) == 4
    paths = re.findall(r'<path class="deeper-arc-path" d="([^"]*)"', dom)
    assert len(paths) == 4 and all(re.search(r"\d", d) for d in paths)
    shot = tmp_path / "shot.png"
    subprocess.run([*base, f"--screenshot={shot}", "--window-size=1000,500", page.as_uri()], capture_output=True, timeout=120, check=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000  # a real picture, not a blank page
