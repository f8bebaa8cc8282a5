"""WriteParquetShards: deterministic, atomic Parquet files from a PCollection.

Beam's own file sinks name and fill shards by bundle, so two runs (or two runners) write the
same rows into different files in different orders. Here each row's file is a function of its
key (hash mod shard count), rows are sorted within a file, and the file is written under a
temporary name and renamed into place: same input, same bytes; a crash leaves only `.tmp-`
files, which nothing reads as finished.

Rows travel to their file's writer as Arrow. The transform takes one collection or several
(every stage's rejections), and converts each where it is produced: a step fused into the
producing stage turns the rows a bundle holds for each folder into a compressed Arrow IPC batch
and sums their sizes (_ToArrowBatches). So no collection of Python rows is materialised, decoded
and re-encoded between the producers and the writer, the runner holds and copies compressed
bytes (it decodes every value it groups: a dict of strings per row cost it the text several
times over in Python objects, and serial decoding time), and the conversion runs on every worker
at once. Once the folder's total size (and so its file count) is known, a batch is split by file
only where the folder has more than one (_SplitByFile). The writer's work is Arrow's, in C++:
concatenate, sort by the key column, take and write a row group at a time.
"""

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms.window import GlobalWindows

# Fixed writer settings: the bytes of a file depend on them, so they are not left to defaults
# that a pyarrow upgrade could change silently.
_ROW_GROUP = 10_000  # rows per row group; the writer also takes and writes this many at a time
_BUFFER_BYTES = 16 * 2**20  # rows a bundle holds (by their size estimate) before it sends them as Arrow
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd")  # Arrow's own, in C++ (not in the file)
_SIZES = "sizes"  # _ToArrowBatches' output of (folder, bytes) per bundle
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


class _ToArrowBatches(beam.DoFn):
    """Elements -> (folder, Arrow IPC stream of rows), and (folder, summed size) on _SIZES: a
    bundle's rows for each folder are converted to an Arrow batch when the rows it holds pass
    _BUFFER_BYTES, and when it ends; its sizes are sent once, when it ends."""

    def __init__(self, subdir: Callable, to_row: Callable, size: Callable, schema: pa.Schema):
        self._subdir, self._to_row, self._size, self._schema = subdir, to_row, size, schema

    def start_bundle(self):
        self._rows: dict[str, list[dict]] = {}
        self._sizes: dict[str, int] = {}
        self._held = 0

    def process(self, element):
        folder, size = self._subdir(element), self._size(element)
        self._rows.setdefault(folder, []).append(self._to_row(element))
        self._sizes[folder] = self._sizes.get(folder, 0) + size
        self._held += size
        if self._held >= _BUFFER_BYTES:
            yield from self._batches()

    def finish_bundle(self):
        for folder_and_batch in self._batches():
            yield GlobalWindows.windowed_value(folder_and_batch)
        sizes, self._sizes = self._sizes, {}
        for folder_and_size in sorted(sizes.items()):
            yield beam.pvalue.TaggedOutput(_SIZES, GlobalWindows.windowed_value(folder_and_size))

    def _batches(self):
        rows, self._rows, self._held = self._rows, {}, 0
        for folder, folder_rows in rows.items():
            yield folder, arrow_stream(folder_rows, self._schema)


def file_count(total_bytes: int, shard_bytes: int) -> int:
    return max(1, -(-total_bytes // shard_bytes))


class _SplitByFile(beam.DoFn):
    """(folder, Arrow stream) -> ((folder, file, file count), Arrow stream): each row goes to
    file stable_shard(key, count); a folder with one file takes its batches as they are."""

    def __init__(self, sort_column: str, shard_bytes: int):
        self._sort_column, self._shard_bytes = sort_column, shard_bytes

    def process(self, folder_and_batch, totals):
        folder, stream = folder_and_batch
        n = file_count(totals[folder], self._shard_bytes)
        if n == 1:
            yield (folder, 0, 1), stream
            return
        table = pa.ipc.open_stream(stream).read_all()
        keys = table[self._sort_column].to_pylist()
        files = np.fromiter((stable_shard(key, n) for key in keys), dtype=np.int64, count=len(keys))
        for file in np.unique(files).tolist():
            yield (folder, file, n), arrow_stream(table.take(np.flatnonzero(files == file)), table.schema)


def arrow_stream(rows: list[dict] | pa.Table, schema: pa.Schema) -> bytes:
    """Rows (dicts, or a table) as one compressed Arrow IPC stream."""
    table = rows if isinstance(rows, pa.Table) else pa.Table.from_batches([pa.RecordBatch.from_pylist(rows, schema=schema)])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema, options=_IPC_OPTIONS) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def sorted_order(keys: pa.ChunkedArray, content: Callable[[int], dict]) -> np.ndarray:
    """Row positions ordered by key; rows with equal keys (e.g. user ids repeated across files)
    ordered by content (`content(i)`, row i as a dict), so the order never depends on the order
    rows arrived in. Arrow orders UTF-8 by bytes, which is Python's order of the strings."""
    order = pc.sort_indices(keys).to_numpy()
    ordered = keys.take(order).to_numpy(zero_copy_only=False)
    tied = np.flatnonzero(ordered[1:] == ordered[:-1])
    if tied.size == 0:
        return order
    order = order.copy()
    # Runs of equal keys: rendered and sorted in Python, only these rows.
    starts = tied[np.r_[True, np.diff(tied) > 1]]
    for start in starts.tolist():
        end = start + 1
        while end < len(ordered) and ordered[end] == ordered[start]:
            end += 1
        run = order[start:end].tolist()
        order[start:end] = sorted(run, key=lambda i: repr(sorted(content(i).items())))
    return order


def read_streams(parts: list[bytes], schema: pa.Schema) -> pa.Table:
    tables = [pa.ipc.open_stream(part).read_all() for part in parts]
    return pa.concat_tables(tables) if tables else schema.empty_table()


def write_in_order(sink, table: pa.Table, order: np.ndarray) -> None:
    """One Parquet file of `table`'s rows in `order`, taken and written a row group at a time:
    the same bytes as pq.write_table(table.take(order), row_group_size=_ROW_GROUP)."""
    with pq.ParquetWriter(sink, table.schema, **_PARQUET_OPTIONS) as writer:
        if table.num_rows == 0:
            writer.write_table(table)
        for start in range(0, table.num_rows, _ROW_GROUP):
            writer.write_table(table.take(order[start : start + _ROW_GROUP]), row_group_size=_ROW_GROUP)


class _WriteGroup(beam.DoFn):
    def __init__(self, out_dir: str, sort_column: str, schema: pa.Schema):
        self._out_dir = out_dir
        self._sort_column = sort_column
        self._schema = schema

    def process(self, group):
        (subdir, shard, num_shards), parts = group
        table = read_streams(list(parts), self._schema)
        order = sorted_order(table[self._sort_column], lambda i: table.slice(i, 1).to_pylist()[0])
        rel = f"{subdir}/part-{shard:05d}-of-{num_shards:05d}.parquet"
        write_atomically(f"{self._out_dir}/{rel}", lambda sink: write_in_order(sink, table, order))
        yield WrittenFile(path=rel, rows=table.num_rows)


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
        empty = self._schema.empty_table()
        write_atomically(f"{self._out_dir}/{rel}", lambda sink: write_in_order(sink, empty, np.arange(0)))
        yield WrittenFile(path=rel, rows=0)


class WriteParquetShards(beam.PTransform):
    """elements (one collection, or a tuple of them) -> WrittenFile per file. `subdir(e)` names
    the file's folder, `to_row(e)` gives a row of `schema`, whose `sort_column` (a string) orders
    rows and picks the file, and `size(e)` estimates its bytes. Each folder in `required` exists
    afterwards, with an empty file when it got no rows.

    Each folder gets ceil(its total size / shard_bytes) files, from a global sum: the file count
    (and so the layout) depends only on the data, and one file's rows fit one worker's memory.
    Several input collections are each converted to Arrow where they are produced (see above).
    """

    def __init__(
        self,
        out_dir: str,
        subdir: Callable,
        sort_column: str,
        to_row: Callable,
        size: Callable,
        schema: pa.Schema,
        shard_bytes: int,
        required: tuple[str, ...] = (),
    ):
        super().__init__()
        self._required = required
        self._out_dir = out_dir
        self._sort_column = sort_column
        self._schema = schema
        self._shard_bytes = shard_bytes
        self._to_batches = _ToArrowBatches(subdir, to_row, size, schema)

    def expand(self, elements):
        parts = list(elements) if isinstance(elements, (list, tuple)) else [elements]
        converted = [part | f"ToArrow[{i}]" >> beam.ParDo(self._to_batches).with_outputs(_SIZES, main="batches") for i, part in enumerate(parts)]
        totals = [c[_SIZES] for c in converted] | "AllSizes" >> beam.Flatten() | "Total" >> beam.CombinePerKey(sum)
        written = (
            [c.batches for c in converted]
            | "AllBatches" >> beam.Flatten()
            | "SplitByFile" >> beam.ParDo(_SplitByFile(self._sort_column, self._shard_bytes), totals=beam.pvalue.AsDict(totals))
            | "Group" >> beam.GroupByKey()
            | "Write" >> beam.ParDo(_WriteGroup(self._out_dir, self._sort_column, self._schema))
        )
        if not self._required:
            return written
        empty = (
            parts[0].pipeline
            | "Required" >> beam.Create(list(self._required))
            | "WriteEmpty" >> beam.ParDo(_WriteEmpty(self._out_dir, self._schema), totals=beam.pvalue.AsDict(totals))
        )
        return (written, empty) | "AllWritten" >> beam.Flatten()
