import numpy
import pytest

from spacy_deeper.tags import TagSet


@pytest.mark.parametrize("scheme", ["BIO", "BILUO"])
def test_encode_decode_roundtrip(scheme):
    tags = TagSet(["Loc", "Peop"], scheme)
    spans = [(0, 1, 0), (2, 5, 1), (5, 6, 1), (7, 9, 0)]
    encoded = tags.encode(10, spans)
    assert tags.decode(encoded[None, :], numpy.array([10])) == [spans]
    for a, b in zip(encoded, encoded[1:]):
        assert tags.allowed_transitions()[a, b]


def test_bio_and_biluo_tags():
    assert TagSet(["X"], "BIO").tags == ["O", "B-X", "I-X"]
    assert TagSet(["X"], "BILUO").tags == ["O", "B-X", "I-X", "L-X", "U-X"]
    with pytest.raises(ValueError, match="tag scheme"):
        TagSet(["X"], "IOB2")


def test_decode_is_lenient_at_window_boundaries():
    tags = TagSet(["X"], "BIO")
    # A window that starts inside an entity, and one that ends inside one.
    rows = numpy.array([[2, 2, 0, 1], [0, 1, 2, 0]])
    assert tags.decode(rows, numpy.array([4, 3])) == [[(0, 2, 0), (3, 4, 0)], [(1, 3, 0)]]


def test_allowed_transitions_bio():
    tags = TagSet(["X", "Y"], "BIO")  # O B-X I-X B-Y I-Y
    allowed = tags.allowed_transitions()
    assert not allowed[0, 2]  # O -> I-X
    assert allowed[1, 2] and allowed[2, 2]  # B-X -> I-X, I-X -> I-X
    assert not allowed[1, 4]  # B-X -> I-Y
    assert allowed[2, 3]  # I-X -> B-Y
