"""Command line: `python -m spacy_deeper COMMAND ...`."""
import sys

COMMANDS = {
    "convert": "spacy_deeper.convert",
    "extract": "spacy_deeper.extract",
}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: python -m spacy_deeper {" + ",".join(COMMANDS) + "} [ARGS...]", file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    import importlib

    module = importlib.import_module(COMMANDS[argv[0]])
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
