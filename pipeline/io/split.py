"""Cutting large input files into parts that several workers read, without changing a record's
id or location (pipeline.io.parse.InputFile).

Plain JSONL: parts are byte ranges that start right after a newline, about `split_bytes` long.
Records without an id get one from their line number, so the planner reads the file once,
counting newlines (bytes.count, ~GB/s), to give each part the number of lines before it. That
pass is sequential; the parsing it spreads out costs ~100x more per byte.
Parquet: parts are runs of whole row groups of about `split_bytes`, from the footer alone.
gzip and zstd: a stream cannot be entered in the middle; such a file is one part, whatever its
size (pipeline.run warns about large ones). Except .warc.gz, where every record is a gzip member
of its own: parts are plain byte ranges, and a part reads the members that start inside it
(pipeline.io.gzip_members).
"""

from collections.abc import Iterator

import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from pipeline.config import ReadConfig
from pipeline.io.decompress import READ_SIZE, compression_of
from pipeline.io.parse import InputFile, format_of


def splittable(path: str, cfg: ReadConfig) -> bool:
    fmt = format_of(path, cfg)
    if fmt == "warc":  # every record its own gzip member: ranges start at member boundaries
        return path.lower().endswith(".gz")
    return fmt in ("jsonl", "parquet") and compression_of(path) == "none"


def plan_parts(path: str, size: int, rel_path: str, cfg: ReadConfig) -> list[InputFile]:
    """The parts of one file: the whole file unless it is splittable and larger than split_bytes.
    A file the planner cannot read is one part, so the reader reports it as it would anyway."""
    whole = [InputFile(path=path, rel_path=rel_path)]
    if size <= cfg.split_bytes or not splittable(path, cfg):
        return whole
    if format_of(path, cfg) == "warc":  # plain byte ranges: the reader takes the members that start in its range
        return [InputFile(path=path, rel_path=rel_path, start=a, end=min(a + cfg.split_bytes, size)) for a in range(0, size, cfg.split_bytes)]
    try:
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
            if format_of(path, cfg) == "jsonl":
                bounds = list(_line_bounds(raw, cfg.split_bytes))
            else:
                bounds = _row_group_bounds(pq.ParquetFile(raw), cfg.split_bytes)
    except Exception:  # noqa: BLE001 - unreadable or not Parquet: the reader makes it a dead letter
        return whole
    return [InputFile(path=path, rel_path=rel_path, start=a, end=b, before=n) for a, b, n in bounds]


def _line_bounds(raw, split_bytes: int) -> Iterator[tuple[int, int, int]]:
    """(start, end, lines before start) of line-aligned ranges of about split_bytes."""
    start = lines_before = 0  # the current part's first byte, and the lines ahead of it
    offset = lines = 0  # bytes and newlines read so far
    target = split_bytes
    while data := raw.read(READ_SIZE):
        pos = 0
        while offset + len(data) > target:
            cut = data.find(b"\n", max(target - offset, pos))
            if cut < 0:
                break  # no newline left in this chunk: the line runs on, and so does the part
            lines += data.count(b"\n", pos, cut + 1)
            end = offset + cut + 1
            yield start, end, lines_before
            start, lines_before, pos = end, lines, cut + 1
            target = end + split_bytes
        lines += data.count(b"\n", pos)  # a line running past the target ends the part at its newline
        offset += len(data)
    if offset > start:
        yield start, offset, lines_before


def _row_group_bounds(pf: pq.ParquetFile, split_bytes: int) -> list[tuple[int, int, int]]:
    """(first row group, end row group, rows before) of runs of about split_bytes."""
    meta = pf.metadata
    bounds, start, rows, size, rows_before = [], 0, 0, 0, 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        size += group.total_byte_size
        rows += group.num_rows
        if size >= split_bytes or g == meta.num_row_groups - 1:
            bounds.append((start, g + 1, rows_before))
            start, rows_before, size = g + 1, rows, 0
    return bounds
