"""bench.dev_curves against a console log written by hand."""
from bench import dev_curves

LOG = """\
E    #       LOSS DEEPE...  ENTS_F  REL_MICRO_F  SCORE
---  ------  -------------  ------  -----------  ------
  0       0         979.71    1.05         0.00    0.01
  1     200       13264.98   61.81         0.00    0.31
  2     400        5856.51   70.29        27.24    0.49
  3     600        5168.99   73.85        37.05    0.55
  5     800        3583.61   72.90        37.20    0.55
"""


def test_best_is_the_first_top_score_and_the_mean_is_over_seeds(tmp_path):
    for seed, log in (("s0", LOG), ("s1", LOG.replace("73.85        37.05", "75.85        39.05"))):
        (tmp_path / seed).mkdir()
        (tmp_path / seed / "train.log").write_text(log, encoding="utf8")
    curve = dev_curves.read_curve(tmp_path / "s0" / "train.log")
    assert [row[0] for row in curve] == [0, 200, 400, 600, 800]
    # 800 ties with 600 at the printed 0.55, but 600's score is 0.5545, 800's 0.5505.
    assert dev_curves.best(curve) == (600, 73.85, 37.05, 0.55)
    # An exact tie keeps the first, as spaCy does; a later row that the rounding hides wins (0.7146 > 0.7064).
    rows = [(2000, 80.0, 60.0, 0.70), (2200, 81.0, 59.0, 0.70), (2400, 81.49, 59.78, 0.71), (2600, 82.09, 60.82, 0.71)]
    assert dev_curves.best(rows[:2]) == rows[0]
    assert dev_curves.best(rows) == rows[3]
    table = dev_curves.render({"v": [tmp_path / "s0", tmp_path / "s1"]})
    # means of the best: (73.85 + 75.85) / 2 and (37.05 + 39.05) / 2
    assert "| v | 2 | 600, 600 | 73.85, 75.85 | 37.05, 39.05 | 74.85 | 38.05 |" in table


def test_a_file_without_rows_is_an_error(tmp_path, capsys):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "train.log").write_text("no table here\n", encoding="utf8")
    assert dev_curves.main([f"x={tmp_path / 'r'}"]) == 1
    assert "no evaluation rows" in capsys.readouterr().err


def test_a_transformer_adds_a_loss_column(tmp_path):
    log = (
        "E    #       LOSS TRANS...  LOSS DEEPE...  ENTS_F  REL_MICRO_F  SCORE\n"
        "  1     200        2296.72       34842.44   37.43         0.00    0.19\n"
        " 10    1600         430.01        1658.40   81.44        60.68    0.71\n"
    )
    (tmp_path / "train.log").write_text(log, encoding="utf8")
    assert dev_curves.read_curve(tmp_path / "train.log") == [(200, 37.43, 0.0, 0.19), (1600, 81.44, 60.68, 0.71)]


def test_the_window_mean_is_over_the_steps_in_it_then_over_the_runs(tmp_path, capsys):
    for seed, log in (("s0", LOG), ("s1", LOG.replace("72.90        37.20", "74.90        41.20"))):
        (tmp_path / seed).mkdir()
        (tmp_path / seed / "train.log").write_text(log, encoding="utf8")
    assert dev_curves.main(["v=" + ",".join(str(tmp_path / s) for s in ("s0", "s1")), "--window", "600", "800"]) == 0
    out = capsys.readouterr().out
    # steps 600 and 800: s0 (73.85 + 72.90) / 2 = 73.375, s1 (73.85 + 74.90) / 2 = 74.375, mean 73.875;
    # RE+ s0 (37.05 + 37.20) / 2 = 37.125, s1 (37.05 + 41.20) / 2 = 39.125, mean 38.125
    assert "mean over steps 600-800: NER | RE+ |" in out
    assert out.splitlines()[2].endswith(" 73.88 | 38.12 |")
    assert dev_curves.main([f"v={tmp_path / 's0'}", "--window", "900", "1000"]) == 1
    assert "no evaluation between steps 900 and 1000" in capsys.readouterr().err
