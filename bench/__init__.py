"""The project's benchmark and report code: not part of the spacy-deeper package (it is not
installed), run from the repository root as `python -m bench.NAME`:

- metrics_table: the NER / RE+ table of `spacy evaluate` outputs, next to the paper's numbers
  (and what the other tables share: reading metrics files, the paper's four F1 scores);
- cv_table: mean and std over ADE's cross-validation folds;
- ablation_table, tuning_table: the depth ablation and the dev search as one table each;
- benchmark: benchmarks/results.json and RESULTS.md (accuracy over runs, size, speed, training time);
- threshold_sweep: RE+ F1 on dev for several relation thresholds;
- raw_text_eval: raw text against pre-tokenized input, and the sentence splitter;
- profile_inference: where prediction time goes; long_docs: time and memory on long documents;
- unseen_entities: test mentions never seen in training; glove_text: GloVe as word2vec text.

The shell orchestration that calls them (training, seeds, folds) stays in scripts/.
"""
