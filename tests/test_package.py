"""What a user does with the project's `package` step: its two wheels (the pipeline's,
built by `spacy package`, and spacy-deeper's, by scripts/build_wheels.sh) installed with
the README's one command into a fresh virtual environment, with no checkout in reach;
then `spacy.load` there predicts what the pipeline predicts here.

The environment is a plain `python -m venv` (no system site packages): pip fetches spaCy,
torch and the rest from the configured index. About 45 s on this project's 2-core
machine, where torch comes from a local wheel and the rest from a local mirror."""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import predictions

pytest.importorskip("build", reason="spacy package --build wheel needs the 'build' package (test extra)")

REPO = Path(__file__).resolve().parent.parent


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, args))}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow
def test_wheels_install_alone_in_a_fresh_venv(trained_nlp, trained_path, gold, tmp_path):
    packages, wheels = tmp_path / "packages", tmp_path / "wheels"
    packages.mkdir()
    run(sys.executable, "-m", "spacy", "package", trained_path, packages, "--name", "deeper_tiny",
        "--version", "0.0.1", "--build", "wheel", "--force")
    dist = packages / "en_deeper_tiny-0.0.1" / "dist"
    run("bash", REPO / "scripts" / "build_wheels.sh", wheels, dist, cwd=REPO,
        env={**os.environ, "PYTHON": sys.executable})
    assert sorted(p.name for p in wheels.iterdir()) == [
        "en_deeper_tiny-0.0.1-py3-none-any.whl", "spacy_deeper-0.1.0-py3-none-any.whl"]
    with zipfile.ZipFile(wheels / "en_deeper_tiny-0.0.1-py3-none-any.whl") as zf:
        metadata = zf.read(next(n for n in zf.namelist() if n.endswith("METADATA"))).decode()
    assert "Requires-Dist: spacy-deeper<0.2.0,>=0.1.0" in metadata

    # A fresh environment and the README's command, away from the checkout.
    venv, home = tmp_path / "venv", tmp_path / "elsewhere"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    run(sys.executable, "-m", "venv", venv, cwd=home, env=env)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "--find-links", wheels, "en_deeper_tiny", cwd=home, env=env, timeout=600)

    texts = [doc.text for doc in gold[:3]]
    code = (
        "import json, sys, spacy, spacy_deeper\n"
        "nlp = spacy.load('en_deeper_tiny')\n"
        "docs = list(nlp.pipe(json.load(sys.stdin)))\n"
        "print(json.dumps({'module': spacy_deeper.__file__, 'predictions': [([(e.start_char, e.end_char, e.label_)"
        " for e in d.ents], [(r.head.start_char, r.tail.start_char, r.label, round(r.score, 5))"
        " for r in d._.relations]) for d in docs]}))\n"
    )
    result = run(python, "-c", code, input=json.dumps(texts), cwd=home, env=env)
    out = json.loads(result.stdout)
    assert Path(out["module"]).is_relative_to(venv)  # the installed wheel, not the checkout
    loaded = [([tuple(e) for e in ents], [tuple(r) for r in rels]) for ents, rels in out["predictions"]]
    assert loaded == predictions(trained_nlp.pipe(texts))
