"""Token shards: Arrow IPC files, one row per document, that the trainer memory-maps.

A row holds one document's token ids, end-of-document token included, so a reader never has to
know the tokenizer to pack documents. The id type is the smallest that holds the vocabulary
(uint16 below 65,536 ids, else uint32) and is the same in every shard of a run.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pyarrow as pa

TOKEN_SHARD_SCHEMA_VERSION = 1


def token_dtype(vocab_size: int) -> np.dtype:
    """The narrowest unsigned type for ids in [0, vocab_size)."""
    if vocab_size <= 0:
        raise ValueError(f"vocab_size must be positive, got {vocab_size}")
    return np.dtype(np.uint16) if vocab_size <= 2**16 else np.dtype(np.uint32)


def token_shard_schema(vocab_size: int) -> pa.Schema:
    id_type = pa.from_numpy_dtype(token_dtype(vocab_size))
    return pa.schema(
        [
            pa.field("doc_id", pa.string(), nullable=False),
            pa.field("source", pa.string(), nullable=False),
            # 0 for the first occurrence; mixture up-sampling writes repeats as copies 1, 2, ...
            pa.field("copy", pa.int32(), nullable=False),
            pa.field("tokens", pa.list_(pa.field("item", id_type, nullable=False)), nullable=False),
        ],
        metadata={
            b"schema": b"token_shard",
            b"schema_version": str(TOKEN_SHARD_SCHEMA_VERSION).encode(),
            b"vocab_size": str(vocab_size).encode(),
        },
    )


@dataclass(frozen=True, kw_only=True)
class ShardRow:
    doc_id: str
    source: str
    tokens: Sequence[int]
    copy: int = 0


@dataclass(frozen=True, kw_only=True)
class WrittenShard:
    rows: int
    tokens: int
    sha256: str
    tokens_by_source: dict[str, int]


class _HashingWriter:
    """Passes bytes to a sink while hashing them, so the sha256 costs no second read."""

    def __init__(self, sink: BinaryIO):
        self._sink = sink
        self.sha256 = hashlib.sha256()

    def write(self, data) -> int:
        self.sha256.update(data)
        return self._sink.write(data)

    def flush(self) -> None:
        self._sink.flush()

    @property
    def closed(self) -> bool:
        return False


def write_token_shard(sink: BinaryIO, rows: Sequence[ShardRow], vocab_size: int) -> WrittenShard:
    """Writes rows, in the given order, as one Arrow IPC file to an open binary sink.

    The caller opens and closes the sink (a local file, or Beam's FileSystems.create for gs://).
    """
    schema = token_shard_schema(vocab_size)
    dtype = token_dtype(vocab_size)
    flat = np.concatenate([np.asarray(r.tokens, dtype=np.int64) for r in rows]) if rows else np.zeros(0, np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= vocab_size):
        raise ValueError(f"token id out of range [0, {vocab_size}) in shard")
    lengths = np.fromiter((len(r.tokens) for r in rows), dtype=np.int32, count=len(rows))
    offsets = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    tokens = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat.astype(dtype)))
    table = pa.table(
        {
            "doc_id": pa.array([r.doc_id for r in rows], pa.string()),
            "source": pa.array([r.source for r in rows], pa.string()),
            "copy": pa.array([r.copy for r in rows], pa.int32()),
            "tokens": tokens,
        }
    ).cast(schema)
    out = _HashingWriter(sink)
    with pa.ipc.new_file(out, schema) as writer:
        writer.write_table(table)
    by_source: dict[str, int] = {}
    for r in rows:
        by_source[r.source] = by_source.get(r.source, 0) + len(r.tokens)
    return WrittenShard(rows=len(rows), tokens=int(lengths.sum()), sha256=out.sha256.hexdigest(), tokens_by_source=by_source)


def read_token_shard(path: str) -> pa.Table:
    """Memory-maps a shard; the tokens column is zero-copy over the file."""
    source = pa.memory_map(path, "r")
    table = pa.ipc.open_file(source).read_all()
    version = (table.schema.metadata or {}).get(b"schema_version")
    if version != str(TOKEN_SHARD_SCHEMA_VERSION).encode():
        raise ValueError(f"{path}: token shard schema version {version!r}, expected {TOKEN_SHARD_SCHEMA_VERSION}")
    return table
