"""WriteParquetShards: deterministic, atomic Parquet files from a PCollection.

Beam's own file sinks name and fill shards by bundle, so two runs (or two runners) write the
same rows into different files in different orders. Here each row's file is a function of its
key (hash mod shard count), rows are sorted within a file, and the file is written under a
temporary name and renamed into place: same input, same bytes; a crash leaves only `.tmp-`
files, which nothing reads as finished.

Rows travel to their file's worker packed: one zstd-compressed pickle each (PackedRows). The
runner of a group-by holds what it groups, and it decodes every value it receives: a row as a
dict of strings cost it the row's text several times over in Python objects, and its decoding
and encoding time; bytes cost it a copy, at a third of the text's size. The writer unpacks and
writes 10,000 rows (one row group) at a time, so a file's rows are never all a table at once.
"""

import hashlib
import itertools
import pickle
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard
from apache_beam.io.filesystems import FileSystems

# Fixed writer settings: the bytes of a file depend on them, so they are not left to defaults
# that a pyarrow upgrade could change silently.
_ROW_GROUP = 10_000  # rows per row group; the writer also converts and writes this many at a time
_PARQUET_OPTIONS = dict(compression="zstd", compression_level=3, write_statistics=True)


def stable_shard(key: str, num_shards: int) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big") % num_shards


@dataclass(frozen=True)
class WrittenFile:
    path: str  # relative to the run folder
    rows: int


def write_atomically(path: str, write: Callable[[object], None]) -> None:
    """Writes through `write(sink)` to a temporary name next to `path`, then renames it in place."""
    tmp = f"{path}.tmp-{uuid.uuid4().hex}"
    parent = path.rsplit("/", 1)[0]
    if not FileSystems.exists(parent):
        try:
            FileSystems.mkdirs(parent)
        except OSError:
            pass  # another worker made it first; object stores have no folders to make
    with FileSystems.create(tmp) as sink:
        write(sink)
    if FileSystems.exists(path):  # a retried bundle: same content, replace it
        FileSystems.delete([path])
    FileSystems.rename([tmp], [path])


class PackedRows:
    """Rows as zstd-compressed pickles. zstandard's (de)compressors are not safe to share
    between threads, and Beam runs bundles on several: one of each per thread."""

    _local = threading.local()

    @classmethod
    def pack(cls, row: dict) -> bytes:
        compressor = getattr(cls._local, "compressor", None)
        if compressor is None:
            compressor = cls._local.compressor = zstandard.ZstdCompressor(level=1)
        return compressor.compress(pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL))

    @classmethod
    def unpack(cls, packed: bytes) -> dict:
        decompressor = getattr(cls._local, "decompressor", None)
        if decompressor is None:
            decompressor = cls._local.decompressor = zstandard.ZstdDecompressor()
        return pickle.loads(decompressor.decompress(packed))


def ordered_rows(keyed_rows, content: Callable[[object], dict] = lambda row: row) -> list:
    """(sort key, row) pairs -> the rows by key. Ties (the same key twice, e.g. user ids repeated
    across files) are ordered by content (`content(row)`, the row as a dict), so the order never
    depends on the order the group arrived in. Only tied rows are rendered for that: rendering
    every row copied a file's whole text once more, in the bundle that holds the largest group."""
    rows: list = []
    for _, tied in itertools.groupby(sorted(keyed_rows, key=lambda kr: kr[0]), key=lambda kr: kr[0]):
        same_key = [row for _, row in tied]
        if len(same_key) > 1:
            same_key.sort(key=lambda row: repr(sorted(content(row).items())))
        rows.extend(same_key)
    return rows


def write_row_groups(sink, packed: list[bytes], schema: pa.Schema) -> None:
    """Packed rows -> one Parquet file, converted and written a row group at a time. The same
    bytes as pq.write_table(all rows, row_group_size=_ROW_GROUP) (tests/io/test_write.py)."""
    with pq.ParquetWriter(sink, schema, **_PARQUET_OPTIONS) as writer:
        if not packed:
            writer.write_table(schema.empty_table())
        for start in range(0, len(packed), _ROW_GROUP):
            rows = [PackedRows.unpack(p) for p in packed[start : start + _ROW_GROUP]]
            writer.write_table(pa.Table.from_pylist(rows, schema=schema), row_group_size=_ROW_GROUP)


class _WriteGroup(beam.DoFn):
    def __init__(self, out_dir: str, schema: pa.Schema):
        self._out_dir = out_dir
        self._schema = schema

    def process(self, group):
        (subdir, shard, num_shards), keyed_rows = group
        packed = ordered_rows(keyed_rows, PackedRows.unpack)
        rel = f"{subdir}/part-{shard:05d}-of-{num_shards:05d}.parquet"
        write_atomically(f"{self._out_dir}/{rel}", lambda sink: write_row_groups(sink, packed, self._schema))
        yield WrittenFile(path=rel, rows=len(packed))


class _WriteEmpty(beam.DoFn):
    """A folder that must exist but got no rows gets one file with the schema and no rows, so
    readers of `folder/*.parquet` find a table, not "no files"."""

    def __init__(self, out_dir: str, schema: pa.Schema):
        self._out_dir = out_dir
        self._schema = schema

    def process(self, folder: str, totals: dict):
        if folder in totals:
            return
        rel = f"{folder}/part-00000-of-00001.parquet"
        write_atomically(f"{self._out_dir}/{rel}", lambda sink: write_row_groups(sink, [], self._schema))
        yield WrittenFile(path=rel, rows=0)


class WriteParquetShards(beam.PTransform):
    """elements -> WrittenFile per file. `subdir(e)` names the file's folder, `sort_key(e)` orders
    rows and picks the file, `to_row(e)` gives a row of `schema`, `size(e)` estimates its bytes.
    Each folder in `required` exists afterwards, with an empty file when it got no rows.

    Each folder gets ceil(its total size / shard_bytes) files, from a global sum: the file count
    (and so the layout) depends only on the data, and one file's rows fit one worker's memory.
    """

    def __init__(
        self,
        out_dir: str,
        subdir: Callable,
        sort_key: Callable,
        to_row: Callable,
        size: Callable,
        schema: pa.Schema,
        shard_bytes: int,
        required: tuple[str, ...] = (),
    ):
        super().__init__()
        self._required = required
        self._out_dir = out_dir
        self._subdir = subdir
        self._sort_key = sort_key
        self._to_row = to_row
        self._size = size
        self._schema = schema
        self._shard_bytes = shard_bytes

    def expand(self, elements):
        subdir, sort_key, to_row, size, target = self._subdir, self._sort_key, self._to_row, self._size, self._shard_bytes
        totals = elements | "Sizes" >> beam.Map(lambda e: (subdir(e), size(e))) | "Total" >> beam.CombinePerKey(sum)

        def key(e, totals):
            folder = subdir(e)
            n = max(1, -(-totals[folder] // target))
            return (folder, stable_shard(sort_key(e), n), n), (sort_key(e), PackedRows.pack(to_row(e)))

        written = (
            elements
            | "Key" >> beam.Map(key, totals=beam.pvalue.AsDict(totals))
            | "Group" >> beam.GroupByKey()
            | "Write" >> beam.ParDo(_WriteGroup(self._out_dir, self._schema))
        )
        if not self._required:
            return written
        empty = (
            elements.pipeline
            | "Required" >> beam.Create(list(self._required))
            | "WriteEmpty" >> beam.ParDo(_WriteEmpty(self._out_dir, self._schema), totals=beam.pvalue.AsDict(totals))
        )
        return (written, empty) | "AllWritten" >> beam.Flatten()
