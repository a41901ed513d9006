"""Text widths, estimated without a browser from the metrics of DejaVu Sans / Verdana (the
first fonts of the visualizer's font stack), so that the layout is done in Python."""
import unicodedata
from functools import lru_cache

# Advance widths of DejaVu Sans for the characters 32..126, in 1/1000 em
# (measured with Chromium's canvas; Verdana's are close).
_ASCII_WIDTHS = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337,
    636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531,
    1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787,
    603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500,
    500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612,
    635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
)
_BOLD = 1.12  # bold is about this much wider
_SAFETY = 1.04  # err on the wide side: a little extra space never overlaps


@lru_cache(maxsize=4096)
def _char_width(char: str) -> int:
    code = ord(char)
    if 32 <= code < 127:
        return _ASCII_WIDTHS[code - 32]
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 1000
    base = unicodedata.normalize("NFKD", char)[:1]
    if base and 32 <= ord(base) < 127:
        return _ASCII_WIDTHS[ord(base) - 32]
    return 700


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Estimated width in pixels of `text` at font size `size`."""
    em = sum(_char_width(c) for c in text) / 1000.0
    return em * size * (_BOLD if bold else 1.0) * _SAFETY


def is_space(text: str) -> bool:
    """A token that is drawn as nothing (whitespace, or empty)."""
    return not text or text.isspace()
