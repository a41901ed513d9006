"""`spacy package` builds a wheel that requires spacy-deeper and loads with spacy.load
after `pip install` elsewhere (here: a throwaway --target folder, in a fresh process)."""
import json
import os
import subprocess
import sys
import zipfile

import pytest

from conftest import predictions

pytest.importorskip("build", reason="spacy package --build wheel needs the 'build' package (test extra)")


@pytest.mark.slow
def test_wheel_installs_and_loads(trained_nlp, trained_path, gold, tmp_path):
    out = tmp_path / "packages"
    out.mkdir()
    subprocess.run(
        [sys.executable, "-m", "spacy", "package", str(trained_path), str(out), "--name", "deeper_tiny",
         "--version", "0.0.1", "--build", "wheel", "--force"],
        check=True, capture_output=True,
    )
    (wheel,) = (out / "en_deeper_tiny-0.0.1" / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        metadata = zf.read(next(n for n in zf.namelist() if n.endswith("METADATA"))).decode()
    assert "Requires-Dist: spacy-deeper" in metadata
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    texts = [doc.text for doc in gold[:3]]
    code = (
        "import json, sys, spacy\n"
        "nlp = spacy.load('en_deeper_tiny')\n"
        "docs = list(nlp.pipe(json.load(sys.stdin)))\n"
        "print(json.dumps([([(e.start_char, e.end_char, e.label_) for e in d.ents],"
        " [(r.head.start_char, r.tail.start_char, r.label, round(r.score, 5)) for r in d._.relations]) for d in docs]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run([sys.executable, "-c", code], input=json.dumps(texts), capture_output=True,
                            text=True, check=True, env=env, cwd=tmp_path)
    loaded = [([tuple(e) for e in ents], [tuple(r) for r in rels]) for ents, rels in json.loads(result.stdout)]
    assert loaded == predictions(trained_nlp.pipe(texts))
