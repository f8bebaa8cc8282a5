"""Write a run's token shards in another trainer's format.

    python -m trainer.export --format megatron --data OUT/tokens/manifest.json --out data/corpus_text_document

megatron: Megatron-LM's indexed dataset, the PREFIX.bin / PREFIX.idx pair its GPTDataset reads
(`--data-path data/corpus_text_document`). Each shard row (one document copy, end-of-document id
included, as Megatron's preprocess_data.py --append-eod writes them) is one sequence and one
document, in manifest shard order and row order, so the same manifest always gives the same bytes.
The layout, read from megatron-core's megatron/core/datasets/indexed_dataset.py (0.16):

    PREFIX.bin   the token ids of every sequence, back to back, in the index's dtype
    PREFIX.idx   b"MMIDIDX\\x00\\x00"          9 bytes, the magic
                 version                     uint64 little-endian, 1
                 dtype code                  uint8: 8 uint16 (ids below 2**16), 4 int32 (wider ids)
                 sequence count              uint64
                 document count              uint64: len(doc_idx) = documents + 1
                 sizes                       int32[sequences]: tokens per sequence
                 pointers                    int64[sequences]: byte offset of each sequence in PREFIX.bin
                 doc_idx                     int64[documents + 1]: 0, then the sequence index ending each document

Shards are checked against their sha256 first; the files are written under a temporary name and
renamed into place. Megatron has no uint32 code: wider ids are written as int32, which holds
every id of a vocabulary below 2**31.
"""

import os
import struct
import sys

import numpy as np

from schemas.manifest import ManifestError
from schemas.reader import TokenData
from trainer.cli import OneLineParser

MEGATRON_MAGIC = b"MMIDIDX\x00\x00"
MEGATRON_VERSION = 1
MEGATRON_DTYPE_CODES = {np.dtype(np.uint16): 8, np.dtype(np.int32): 4}


def megatron_dtype(vocab_size: int) -> np.dtype:
    if vocab_size <= 2**16:
        return np.dtype(np.uint16)
    if vocab_size <= 2**31:
        return np.dtype(np.int32)
    raise ValueError(f"vocab_size {vocab_size} does not fit Megatron's widest id type, int32")


def export_megatron(data: TokenData, prefix: str) -> tuple[int, int]:
    """Writes prefix.bin and prefix.idx; returns (sequences, tokens)."""
    dtype = megatron_dtype(data.manifest.tokenizer.vocab_size)
    lengths = []
    tmp_bin, tmp_idx = prefix + ".bin.tmp", prefix + ".idx.tmp"
    with open(tmp_bin, "wb") as out:
        for tokens in _chunks(data):  # one Arrow chunk at a time: memory stays flat whatever the corpus size
            lengths.append(tokens[1])
            out.write(np.ascontiguousarray(tokens[0], dtype=dtype).tobytes())
    sizes = np.concatenate(lengths).astype(np.int32) if lengths else np.zeros(0, np.int32)
    pointers = np.zeros(sizes.size, dtype=np.int64)
    np.cumsum(sizes[:-1].astype(np.int64) * dtype.itemsize, out=pointers[1:])
    doc_idx = np.arange(sizes.size + 1, dtype=np.int64)  # every sequence is a whole document
    with open(tmp_idx, "wb") as out:
        out.write(MEGATRON_MAGIC)
        out.write(struct.pack("<Q", MEGATRON_VERSION))
        out.write(struct.pack("<B", MEGATRON_DTYPE_CODES[dtype]))
        out.write(struct.pack("<Q", sizes.size))
        out.write(struct.pack("<Q", doc_idx.size))
        out.writelines(array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes() for array in (sizes, pointers, doc_idx))
    os.replace(tmp_bin, prefix + ".bin")
    os.replace(tmp_idx, prefix + ".idx")
    return int(sizes.size), int(sizes.sum(dtype=np.int64))


def _chunks(data: TokenData):
    """(flat token ids, lengths) per Arrow chunk of every shard, in manifest order."""
    for index in range(len(data.shards)):
        for chunk in data.open_shard(index).column("tokens").chunks:
            offsets = chunk.offsets.to_numpy()
            values = chunk.values.to_numpy(zero_copy_only=True)[offsets[0] : offsets[-1]]
            yield values, np.diff(offsets)


FORMATS = {"megatron": (export_megatron, (".bin", ".idx"))}


def _parser() -> OneLineParser:
    p = OneLineParser(prog="python -m trainer.export", description=__doc__.split("\n\n")[0])
    p.add_argument("--format", required=True, choices=sorted(FORMATS), help="megatron: Megatron-LM's indexed dataset (.bin/.idx)")
    p.add_argument("--data", required=True, help="a run's tokens/manifest.json")
    p.add_argument("--out", required=True, help="the output prefix: PREFIX.bin and PREFIX.idx are written")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    write, suffixes = FORMATS[args.format]
    problem = None
    existing = [args.out + s for s in suffixes if os.path.exists(args.out + s)]
    if existing and not args.overwrite:
        problem = f"--out: {existing[0]} exists: pass --overwrite to replace it, or choose another prefix"
    elif not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
        problem = f"--out: the folder of {args.out} does not exist"
    if problem is None:
        try:
            data = TokenData(args.data)
            sequences, tokens = write(data, args.out)
        except (ManifestError, ValueError) as e:
            problem = f"--data: {e}"
    if problem:
        print(f"export: {problem}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}{suffixes[0]} and {args.out}{suffixes[1]}: {sequences:,} documents, {tokens:,} tokens ({args.format})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
