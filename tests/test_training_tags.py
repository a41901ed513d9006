"""rel_predicted: the relation head trained on the CRF's predicted entities."""
import random

import pytest
import torch

from spacy_deeper.network import DeeperJointNet, NetSettings
from spacy_deeper.tags import TagSet

LABELS = ["A", "B"]


def make_net(scheme: str, rel_predicted: float) -> DeeperJointNet:
    tags = TagSet(LABELS, scheme)
    net = DeeperJointNet(NetSettings("gru", 6, 1, 1, 1, 8, 4, 8, 0.0, 0.0, False, rel_predicted))
    net.configure(
        n_in=5, n_rels=2, allowed=tags.allowed_transitions().tolist(),
        is_entity=tags.is_entity.tolist(), is_continuation=tags.is_continuation.tolist(),
    )
    return net


def random_spans(rng: random.Random, length: int):
    """Non-overlapping (start, end exclusive, label index) spans."""
    spans, position = [], 0
    while position < length:
        if rng.random() < 0.4:
            end = min(length, position + rng.randint(1, 3))
            spans.append((position, end, rng.randrange(len(LABELS))))
            position = end
        else:
            position += 1
    return spans


@pytest.mark.parametrize("scheme", ["BIO", "BILUO"])
def test_gold_entity_ends_match_the_spans_by_brute_force(scheme):
    """An end is marked exactly where the predicted entity (span and type) is a gold entity."""
    tags, net, rng = TagSet(LABELS, scheme), make_net(scheme, 1.0), random.Random(0)
    for _ in range(300):
        length = rng.randint(1, 9)
        gold = random_spans(rng, length)
        # Predictions keep some gold entities and add others of their own.
        predicted = [span for span in gold if rng.random() < 0.5]
        for span in random_spans(rng, length):
            if all(span[1] <= kept[0] or span[0] >= kept[1] for kept in predicted):
                predicted.append(span)
        width = length + 2  # padding after the row
        pred_tags = torch.zeros(1, width, dtype=torch.long)
        gold_tags = torch.zeros(1, width, dtype=torch.long)
        pred_tags[0, :length] = torch.as_tensor(tags.encode(length, predicted))
        gold_tags[0, :length] = torch.as_tensor(tags.encode(length, gold))
        found = net._gold_entity_ends(pred_tags, gold_tags, torch.tensor([length]))
        expected = torch.zeros(1, width, dtype=torch.bool)
        for start, end, label in predicted:
            expected[0, end - 1] = (start, end, label) in gold
        assert torch.equal(found, expected), (predicted, gold)


def losses(net: DeeperJointNet, predicted_tags, gold_tags, gold_pairs):
    torch.manual_seed(0)
    X = torch.randn(6, 5)
    index, lengths = torch.arange(6)[None, :], torch.tensor([6])
    net.crf.viterbi = lambda emissions, lengths: torch.tensor([predicted_tags])
    net.train()
    return net(X, index, lengths, torch.tensor([gold_tags]), torch.tensor(gold_pairs, dtype=torch.long).reshape(-1, 4))


def test_a_relation_over_a_wrongly_typed_entity_is_a_negative():
    tags = TagSet(LABELS, "BILUO")
    gold = tags.encode(6, [(0, 1, 0), (2, 4, 1), (5, 6, 0)]).tolist()
    # The tail of the gold relation (2-4, B) is predicted with the wrong type.
    wrong_tail = tags.encode(6, [(0, 1, 0), (2, 4, 0), (5, 6, 0)]).tolist()
    # Only the unrelated entity (5-6) is wrong.
    wrong_other = tags.encode(6, [(0, 1, 0), (2, 4, 1), (5, 6, 1)]).tolist()
    relation = [[0, 0, 3, 1]]  # segment 0, head ends at 0, tail ends at 3, relation 1
    torch.manual_seed(1)
    net = make_net("BILUO", 1.0)
    ner, rel = losses(net, wrong_tail, gold, relation)
    ner_none, rel_none = losses(net, wrong_tail, gold, [])
    assert ner == ner_none and rel == rel_none
    _, rel = losses(net, wrong_other, gold, relation)
    _, rel_none = losses(net, wrong_other, gold, [])
    assert rel != rel_none


def test_predicted_tags_equal_to_gold_give_the_gold_loss():
    """rel_predicted=1 with a CRF that predicts the gold tags trains as rel_predicted=0 does."""
    tags = TagSet(LABELS, "BIO")
    gold = tags.encode(6, [(0, 2, 0), (3, 4, 1), (4, 6, 0)]).tolist()
    relations = [[0, 1, 3, 0], [0, 5, 1, 1]]
    torch.manual_seed(2)
    teacher = make_net("BIO", 0.0)
    student = make_net("BIO", 1.0)
    student.load_state_dict(teacher.state_dict())
    assert losses(student, gold, gold, relations) == losses(teacher, [0] * 6, gold, relations)
    # In eval mode rel_predicted is off: the patched CRF output is not read.
    student.eval()
    lengths = torch.tensor([6])
    assert student._training_tags(torch.zeros(1, 6, len(tags)), torch.tensor([gold]), lengths)[1] is None


def test_rel_predicted_must_be_a_share():
    with pytest.raises(ValueError, match="rel_predicted"):
        make_net("BIO", 1.5)
