"""int8 prediction: a dynamically quantized copy of the joint network."""
import spacy
import torch
from spacy.training import Example

from conftest import gold_docs, predictions
from spacy_deeper.model import get_net


def load(path, int8):
    return spacy.load(path, config={"components": {"deeper_joint": {"model": {"int8": int8}}}})


def test_int8_is_chosen_at_load_and_predicts_like_float(trained_path, gold):
    float_nlp, int8_nlp = load(trained_path, False), load(trained_path, True)
    shim = int8_nlp.get_pipe("deeper_joint").model.get_ref("net").shims[0]
    assert shim.int8 and not float_nlp.get_pipe("deeper_joint").model.get_ref("net").shims[0].int8
    texts = [doc.text for doc in gold]
    expected = predictions(float_nlp.pipe(texts))
    got = predictions(int8_nlp.pipe(texts))
    # The quantized copy is a real int8 model: its GRUs and linear layers are replaced.
    kinds = {type(module).__module__ for module in shim.quantized_model().modules()}
    assert "torch.ao.nn.quantized.dynamic.modules.rnn" in kinds
    assert "torch.ao.nn.quantized.dynamic.modules.linear" in kinds
    ents = [e for doc_ents, _ in expected for e in doc_ents]
    same = [e for (doc_ents, _), (int8_ents, _) in zip(expected, got) for e in doc_ents if e in int8_ents]
    assert len(same) >= 0.9 * len(ents)
    scores = int8_nlp.get_pipe("deeper_joint").score(
        [Example(doc, g) for doc, g in zip(int8_nlp.pipe(texts), gold)]
    )
    assert scores["ents_f"] > 0.9


def test_int8_copy_follows_the_weights(trained_path):
    """After the float weights change, the next prediction quantizes them again."""
    nlp = load(trained_path, True)
    shim = nlp.get_pipe("deeper_joint").model.get_ref("net").shims[0]
    first = shim.quantized_model()
    assert shim.quantized_model() is first
    with torch.no_grad():
        get_net(nlp.get_pipe("deeper_joint").model).tag_scores.bias.add_(1.0)
    second = shim.quantized_model()
    assert second is not first
    torch.testing.assert_close(second.tag_scores.bias(), first.tag_scores.bias() + 1.0)


def test_int8_does_not_change_training(trained_path):
    nlp = load(trained_path, True)
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in gold_docs(nlp)]
    losses = nlp.update(examples)
    assert losses["deeper_joint"] > 0


def test_extract_int8_flag(trained_path, tmp_path):
    from spacy_deeper.extract import load_pipeline, main

    nlp = load_pipeline(str(trained_path), -1, int8=True)
    assert nlp.get_pipe("deeper_joint").model.get_ref("net").shims[0].int8
    source = tmp_path / "in.txt"
    source.write_text("John Wilkes Booth shot Lincoln in Washington .\n", encoding="utf8")
    assert main([str(trained_path), str(source), str(tmp_path / "out.jsonl"), "--int8", "--quiet"]) == 0
    assert (tmp_path / "out.jsonl").read_text(encoding="utf8").count("\n") == 1
