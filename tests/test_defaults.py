"""One source for each default (issue 14): the architectures' signatures. The component's
default config, the torch net's settings and thinc's own config filling agree with them."""
import dataclasses
from pathlib import Path

import spacy
from spacy.util import registry
from thinc.api import Config

from spacy_deeper.model import get_net
from spacy_deeper.network import NetSettings

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def filled_default_model():
    """What thinc fills in from the registered functions' signatures."""
    bare = {"@architectures": "spacy_deeper.DeeperJoint.v1", "tok2vec": {"@architectures": "spacy_deeper.TokenFeatures.v1"}}
    return registry.fill(Config({"model": bare}))["model"]


def test_the_default_config_holds_the_whole_default_model():
    filled = filled_default_model()
    nlp = spacy.blank("en")
    nlp.add_pipe("deeper_joint")
    model = nlp.config["components"]["deeper_joint"]["model"]
    # As config text (thinc keeps a tuple default as a tuple; a config writes lists).
    assert Config({"model": model}).to_str() == Config({"model": filled}).to_str()
    assert set(model) == {
        "@architectures", "tok2vec", "rnn_type", "hidden_size", "n_shared", "n_ner", "n_re", "ner_hidden",
        "tag_embed_size", "rel_hidden", "rnn_dropout", "rel_dropout", "rel_bilinear", "rel_context", "rel_distance", "max_length", "int8",
    }
    assert model["tok2vec"]["attrs"] == ["NORM", "PREFIX", "SUFFIX", "SHAPE"]  # a list, as a config writes it


def test_the_net_takes_the_architectures_settings_and_has_no_defaults_of_its_own():
    filled = filled_default_model()
    nlp = spacy.blank("en")
    net = get_net(nlp.add_pipe("deeper_joint").model)
    settings = dataclasses.asdict(net.settings)
    assert settings == {name: filled[name] for name in settings}
    assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(NetSettings))
    # and a config's values reach it
    nlp = spacy.blank("en")
    net = get_net(nlp.add_pipe("deeper_joint", config={"model": {"hidden_size": 7, "rnn_type": "lstm"}}).model)
    assert (net.settings.hidden_size, net.settings.rnn_type, net.settings.n_re) == (7, "lstm", filled["n_re"])


def test_the_defaults_are_the_papers_settings():
    """configs/conll04.cfg writes out the paper's settings (Crone 2020) for the model and the
    component; its two changes, the bilinear relation scorer and BILUO tags, are off by default
    (the paper's scorer and BIO tags)."""
    component = Config().from_disk(CONFIGS / "conll04.cfg", interpolate=False)["components"]["deeper_joint"]
    paper = component["model"]
    filled = filled_default_model()
    beyond_the_paper = {"tok2vec", "rel_bilinear"}
    assert {name: value for name, value in paper.items() if name not in beyond_the_paper} == {
        name: filled[name] for name in paper if name not in beyond_the_paper
    }
    assert paper["rel_bilinear"] is True and filled["rel_bilinear"] is False
    factory = spacy.Language.get_factory_meta("deeper_joint").default_config
    assert {name: component[name] for name in ("lambda_r", "threshold")} == {name: factory[name] for name in ("lambda_r", "threshold")}
    assert component["tag_scheme"] == "BILUO" and factory["tag_scheme"] == "BIO"
