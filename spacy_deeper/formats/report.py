"""What a reader leaves out on purpose, by kind, with the file and line of each item."""
from collections import Counter
from typing import Dict, List, NamedTuple, Optional


class Skipped(NamedTuple):
    kind: str  # e.g. "discontinuous entities": the heading it is counted under
    source: str
    line: Optional[int]  # None: about the whole file
    detail: str


class Report:
    """Collects the annotations a reader skips (rejected examples, events, ...),
    so that nothing is dropped silently: the converter prints them."""

    def __init__(self) -> None:
        self.items: List[Skipped] = []

    def skip(self, kind: str, source: object, line: Optional[int], detail: str) -> None:
        self.items.append(Skipped(kind, str(source), line, detail))

    def counts(self, since: int = 0) -> Dict[str, int]:
        """Skipped items per kind, from item number `since` on (`len(report.items)` before a read)."""
        return dict(Counter(item.kind for item in self.items[since:]))

    def lines(self, examples: int = 5) -> List[str]:
        """One line per kind with its count, each followed by its first `examples` items as `file:line: detail`."""
        out = []
        for kind, n in self.counts().items():
            out.append(f"skipped {n} {kind}:")
            shown = [item for item in self.items if item.kind == kind][:examples]
            out.extend(f"  {_where(item)}: {item.detail}" for item in shown)
            if n > len(shown):
                out.append(f"  ... and {n - len(shown)} more")
        return out


def _where(item: Skipped) -> str:
    return item.source if item.line is None else f"{item.source}:{item.line}"
