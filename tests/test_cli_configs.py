"""spaCy's CLI accepts every shipped config as it is (issue 15: the configs are filled)."""
from pathlib import Path

import pytest
from spacy.cli.debug_config import debug_config

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.cfg"))
DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("config", CONFIGS, ids=lambda path: path.stem)
def test_spacy_debug_config_passes(config, tmp_path):
    # `spacy debug config` exits (SystemExit) on a config that does not validate unfilled.
    debug_config(config, overrides={"paths.train": str(tmp_path / "train.spacy"), "paths.dev": str(tmp_path / "dev.spacy")})
