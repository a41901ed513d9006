"""What importing the package does, and does not do, to the process: spaCy imports it for every
pipeline it builds once spacy-deeper is installed (through the entry points)."""
import subprocess
import sys
import textwrap


def run_python(code: str) -> str:
    """The last line `code` prints in a fresh interpreter."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def test_the_visualizer_is_imported_on_first_use():
    out = run_python(
        """
        import sys
        import spacy_deeper
        before = "spacy_deeper.visualize" in sys.modules
        render = spacy_deeper.render
        from spacy_deeper import serve
        print(before, "spacy_deeper.visualize" in sys.modules, render.__module__, serve.__module__)
        """
    )
    assert out == "False True spacy_deeper.visualize spacy_deeper.visualize"


def test_forked_children_get_one_torch_thread_only_once_a_network_is_built():
    out = run_python(
        """
        import os
        import torch

        def threads_in_a_forked_child():
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.write(write, str(torch.get_num_threads()).encode())
                os._exit(0)
            os.waitpid(pid, 0)
            return int(os.read(read, 16))

        torch.set_num_threads(3)
        import spacy
        import spacy_deeper.network
        spacy.blank("en")  # loads every installed package's factories
        imported = threads_in_a_forked_child()
        spacy_deeper.network.DeeperJointNet(spacy_deeper.network.NetSettings("gru", 8, 1, 1, 1, 8, 4, 8, 0.0, 0.0, False, "none", False))
        built = threads_in_a_forked_child()
        print(imported, built, torch.get_num_threads())
        """
    )
    assert out == "3 1 3"
