"""spaCy's CLI accepts every shipped config as it is (issue 15: the configs are filled)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.cli.debug_config import debug_config
from spacy.tokens import DocBin
from spacy.training import Example
from spacy.training.initialize import init_nlp
from spacy.util import load_config, load_model_from_config
from thinc.api import Config

from conftest import gold_docs, tiny_vectors

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.cfg"))
DATA = Path(__file__).parent / "data"
CONLL04 = Path(__file__).resolve().parent.parent / "configs" / "conll04.cfg"


@pytest.mark.parametrize("config", CONFIGS, ids=lambda path: path.stem)
def test_spacy_debug_config_passes(config, tmp_path):
    # `spacy debug config` exits (SystemExit) on a config that does not validate unfilled.
    debug_config(config, overrides={"paths.train": str(tmp_path / "train.spacy"), "paths.dev": str(tmp_path / "dev.spacy")})


def with_labels_file(config: Path, labels: Path, out: Path) -> Path:
    """The config with [initialize.components.deeper_joint] labels read from `labels`."""
    cfg = Config().from_disk(config, interpolate=False)
    cfg["initialize"]["components"]["deeper_joint"] = {"labels": {"@readers": "spacy.read_labels.v1", "path": str(labels)}}
    cfg.to_disk(out)
    return out


def test_initialize_takes_the_labels_spacy_init_labels_writes(tmp_path):
    gold = gold_docs(spacy.blank("en"))
    expected = {
        "ent_labels": sorted({ent.label_ for doc in gold for ent in doc.ents}),
        "rel_labels": sorted({rel.label for doc in gold for rel in doc._.relations}),
    }
    assert len(expected["ent_labels"]) == 4 and len(expected["rel_labels"]) == 5
    DocBin(store_user_data=True, docs=gold).to_disk(tmp_path / "train.spacy")
    DocBin(store_user_data=True, docs=gold[:1]).to_disk(tmp_path / "one.spacy")  # has fewer labels than all ten
    assert {ent.label_ for ent in gold[0].ents} < set(expected["ent_labels"])
    paths = {"paths.vectors": str(tiny_vectors(tmp_path)), "paths.dev": str(tmp_path / "train.spacy")}
    args = [a for key, value in {**paths, "paths.train": str(tmp_path / "train.spacy")}.items() for a in (f"--{key}", value)]
    proc = subprocess.run(
        [sys.executable, "-m", "spacy", "init", "labels", str(CONLL04), str(tmp_path / "labels"), *args],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    written = json.loads((tmp_path / "labels" / "deeper_joint.json").read_text())
    assert written == expected
    config = with_labels_file(CONLL04, tmp_path / "labels" / "deeper_joint.json", tmp_path / "config.cfg")
    # `spacy init nlp` / `spacy train`: the labels come from the file, not the (one-doc) corpus.
    nlp = init_nlp(load_config(config, overrides={**paths, "paths.train": str(tmp_path / "one.spacy")}))
    assert nlp.get_pipe("deeper_joint").label_data == written
    # `spacy assemble`: no examples at all.
    nlp = load_model_from_config(load_config(config, overrides=paths), auto_fill=True)
    nlp.initialize()
    assert nlp.get_pipe("deeper_joint").label_data == written
    assert nlp("John Smith works for Acme Corp in Boston .").ents is not None  # it runs


def test_initialize_rejects_labels_of_another_shape():
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("deeper_joint")
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in gold_docs(nlp)]
    with pytest.raises(ValueError, match="label_data, a dict with the keys ent_labels and rel_labels"):
        pipe.initialize(lambda: examples, nlp=nlp, labels=["Peop", "Org"])


def test_assemble_without_labels_says_how_to_give_them(tmp_path):
    vectors = tiny_vectors(tmp_path)  # assemble loads [initialize] vectors before the components
    proc = subprocess.run(
        [sys.executable, "-m", "spacy", "assemble", str(CONLL04), str(tmp_path / "out"), "--paths.vectors", str(vectors)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env={**os.environ, "TYPER_USE_RICH": "0"},
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "Traceback" not in output
    message = output[output.index("Error: [deeper_joint] No entity labels") :]
    for hint in ("spacy train", "spacy init labels", "[initialize.components.deeper_joint] labels", "spacy.read_labels.v1"):
        assert hint in message
    assert not (tmp_path / "out").exists()
