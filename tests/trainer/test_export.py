"""trainer.export --format megatron: the .bin/.idx pair read back by a reader written here from the
format's description (numpy memmap), and by megatron-core's own IndexedDataset where it is installed."""

import json
import os
import pathlib
import struct
import subprocess
import sys
import warnings

import numpy as np
import pytest

from tests.trainer.shards import read_rows, write_test_shards
from trainer.export import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DTYPES = {8: np.uint16, 4: np.int32}


def read_megatron(prefix: str) -> tuple[np.dtype, list[np.ndarray], np.ndarray]:
    """(dtype, sequences, doc_idx) of a Megatron MMIDIDX pair, read independently of trainer.export."""
    with open(prefix + ".idx", "rb") as f:
        assert f.read(9) == b"MMIDIDX\x00\x00"
        version, code, sequences, documents = struct.unpack("<QBQQ", f.read(25))
        header = f.tell()
    assert version == 1 and header == 34
    dtype = np.dtype(DTYPES[code])
    index = np.memmap(prefix + ".idx", mode="r", offset=header)
    sizes = np.frombuffer(index, dtype="<i4", count=sequences)
    pointers = np.frombuffer(index, dtype="<i8", count=sequences, offset=sizes.nbytes)
    doc_idx = np.frombuffer(index, dtype="<i8", count=documents, offset=sizes.nbytes + pointers.nbytes)
    assert index.size == sizes.nbytes + pointers.nbytes + doc_idx.nbytes  # nothing after doc_idx
    tokens = np.memmap(prefix + ".bin", mode="r", dtype=dtype)
    assert tokens.size == int(sizes.sum())
    return dtype, [tokens[p // dtype.itemsize : p // dtype.itemsize + n] for p, n in zip(pointers, sizes)], doc_idx


@pytest.fixture(scope="module", params=["uint16", "uint32"])
def manifest(request, tmp_path_factory) -> str:
    # identifiable=True writes uint32 ids above 2**16: the int32 path
    return write_test_shards(tmp_path_factory.mktemp(request.param), docs=50, rows_per_shard=20, identifiable=request.param == "uint32")


def test_round_trip(manifest, tmp_path, capsys):
    prefix = str(tmp_path / "corpus_text_document")
    assert main(["--format", "megatron", "--data", manifest, "--out", prefix]) == 0
    rows = read_rows(manifest)  # shard order, row order
    assert f"{len(rows):,} documents" in capsys.readouterr().out
    dtype, sequences, doc_idx = read_megatron(prefix)
    with open(manifest) as f:
        shard_dtype = json.load(f)["tokenizer"]["token_dtype"]
    assert dtype == {"uint16": np.uint16, "uint32": np.int32}[shard_dtype]  # Megatron has no uint32
    assert len(sequences) == len(rows) and np.array_equal(doc_idx, np.arange(len(rows) + 1))
    for seq, row in zip(sequences, rows):
        assert np.array_equal(seq, row.tokens) and seq[-1] == 0  # every document with its end-of-document id

    again = str(tmp_path / "again")
    assert main(["--format", "megatron", "--data", manifest, "--out", again]) == 0
    for suffix in (".bin", ".idx"):  # deterministic: the same manifest, the same bytes
        assert pathlib.Path(prefix + suffix).read_bytes() == pathlib.Path(again + suffix).read_bytes()
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


def test_megatron_cores_own_reader_reads_it(manifest, tmp_path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Transformer Engine and Apex are not installed": not needed to read data
            from megatron.core.datasets.indexed_dataset import IndexedDataset
    except ImportError:
        pytest.skip("megatron-core is not installed (pip install --no-deps megatron-core: it needs only torch, numpy, packaging)")
    prefix = str(tmp_path / "corpus_text_document")
    assert main(["--format", "megatron", "--data", manifest, "--out", prefix]) == 0
    rows = read_rows(manifest)
    dataset = IndexedDataset(prefix)
    assert len(dataset) == len(rows) and np.array_equal(dataset.document_indices, np.arange(len(rows) + 1))
    for i, row in enumerate(rows):
        assert np.array_equal(dataset[i], row.tokens), i
    assert np.array_equal(dataset.get(3, offset=1, length=2), rows[3].tokens[1:3])


def test_bad_options_are_one_line_with_status_2(manifest, tmp_path):
    def run(*args):
        done = subprocess.run([sys.executable, "-m", "trainer.export", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        assert done.returncode == 2 and done.stdout == "" and len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr, done.stderr
        return done.stderr

    assert "invalid choice: 'nemo'" in run("--format", "nemo", "--data", manifest, "--out", str(tmp_path / "x"))
    assert "the following arguments are required: --out" in run("--format", "megatron", "--data", manifest)
    assert "cannot read" in run("--format", "megatron", "--data", str(tmp_path / "nope.json"), "--out", str(tmp_path / "x"))
    assert "does not exist" in run("--format", "megatron", "--data", manifest, "--out", str(tmp_path / "no" / "x"))
    (tmp_path / "x.idx").write_bytes(b"")
    assert "x.idx exists: pass --overwrite" in run("--format", "megatron", "--data", manifest, "--out", str(tmp_path / "x"))
    helped = subprocess.run([sys.executable, "-m", "trainer.export", "--help"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert helped.returncode == 0 and helped.stdout.startswith("usage: python -m trainer.export") and "--format" in helped.stdout
