"""Turning input bytes into Documents, or into DeadLetters that say why not. No Beam here.

Every record a file holds comes out as exactly one Document or one DeadLetter; that is what
lets the run check `read = kept + rejected + dead letters`. A file that cannot be opened at all,
or the unreadable rest of a cut-off file, counts as one record.
"""

import dataclasses
import fnmatch
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.config import ReadConfig
from pipeline.io.decompress import READ_SIZE, CorruptStream, TruncatedStream, compression_of, decompressed_chunks
from pipeline.records import DeadLetter, Document, Reason, Rejection

READER_STAGE = "read.v1"


class ReadReason(Reason):
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_TEXT = "missing_text"
    NULL_TEXT = "null_text"
    TEXT_NOT_STRING = "text_not_string"
    EMPTY_TEXT = "empty_text"
    UNDECODABLE_BYTES = "undecodable_bytes"  # not UTF-8
    INVALID_UNICODE = "invalid_unicode"  # e.g. a lone surrogate from a JSON \ud800 escape
    RECORD_TOO_LARGE = "record_too_large"
    TRUNCATED_STREAM = "truncated_stream"
    CORRUPT_STREAM = "corrupt_stream"
    UNREADABLE_FILE = "unreadable_file"
    UNKNOWN_FORMAT = "unknown_format"


class BadRecord(Exception):
    def __init__(self, reason: ReadReason, detail: str, source: str | None = None):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.source = source  # the record's own source field, when it has a usable one


@dataclass(frozen=True)
class InputFile:
    """One matched file, or one part of it: `path` to open, `rel_path` (relative to the inputs'
    common root) for ids. A part (pipeline.io.split) is a line-aligned byte range [start, end) of
    a JSONL file or a run [start, end) of a Parquet file's row groups, and `before` counts the
    file's lines or rows ahead of it, so its records get the ids and locations they get when
    the file is read whole."""

    path: str
    rel_path: str
    start: int = 0
    end: int | None = None  # None: the whole file
    before: int = 0


def make_doc_id(rel_path: str, ordinal: int | None) -> str:
    """A stable id from where the record lies; independent of runner, worker and run."""
    key = rel_path if ordinal is None else f"{rel_path}:{ordinal}"
    return hashlib.blake2b(key.encode("utf-8"), digest_size=12).hexdigest()


WARC_SUFFIXES = (".warc", ".warc.gz", ".wet.gz")  # ".warc.wet.gz" ends in ".wet.gz"


def format_of(path: str, cfg: ReadConfig) -> str | None:
    if cfg.format != "auto":
        return cfg.format
    lower = path.lower()
    if lower.endswith(WARC_SUFFIXES):
        return "warc"
    for suffix in (".gz", ".gzip", ".zst", ".zstd"):
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
    if lower.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    if lower.endswith((".txt", ".text", ".md")):
        return "text"
    return None


def path_matches(path: str, pattern: str) -> bool:
    """read.source_by_path's rule: fnmatch on the file's full path as matched (absolute for local
    files, "gs://bucket/..." on object stores), where `*` also crosses "/". A pattern that is not
    anchored (no leading "/", "*" or scheme) may start at any folder: "data/books/*" matches
    "/home/me/data/books/a.jsonl". So a label never depends on which other inputs were given."""
    if fnmatch.fnmatchcase(path, pattern):
        return True
    anchored = pattern.startswith(("/", "*")) or "://" in pattern
    return not anchored and fnmatch.fnmatchcase(path, "*/" + pattern)


def source_from_path(path: str, cfg: ReadConfig) -> str:
    for pattern, source in cfg.source_by_path.items():
        if path_matches(path, pattern):
            return source
    return cfg.default_source


def excerpt(data: bytes, limit: int) -> str:
    """The first bytes of a bad record, readable: undecodable bytes become \\x escapes."""
    return data[:limit].decode("utf-8", errors="backslashreplace")


def read_file(raw: BinaryIO, f: InputFile, cfg: ReadConfig) -> Iterator[Document | DeadLetter | Rejection]:
    """All records of one opened file (raw, still compressed bytes). A Rejection is a record read
    and refused at once (a WARC response that is not an HTML page)."""
    fmt = format_of(f.path, cfg)
    path_source = source_from_path(f.path, cfg)
    if fmt == "warc":
        yield from _read_warc(raw, f, cfg, path_source)
    elif fmt == "jsonl":
        yield from _read_jsonl(raw, f, cfg, path_source)
    elif fmt == "parquet":
        yield from _read_parquet(raw, f, cfg, path_source)
    elif fmt == "text":
        yield from _read_text(raw, f, cfg, path_source)
    else:
        yield _dead(f.rel_path, ReadReason.UNKNOWN_FORMAT, "no reader for this file extension", b"", path_source)


def _dead(location: str, reason: ReadReason, detail: str, raw: bytes, source: str | None, limit: int = 200) -> DeadLetter:
    return DeadLetter(location=location, reason=reason.value, detail=detail, raw_excerpt=excerpt(raw, limit), source=source)


# ---------------------------------------------------------------- JSONL


def _lines(chunks: Iterator[bytes], max_bytes: int) -> Iterator[tuple[int, bytes, ReadReason | None, str]]:
    """(line number, bytes, problem, detail). Oversize lines are cut to max_bytes and skipped past."""
    line_no = 0
    pending = pending_head = b""  # pending_head: the first max_bytes of a line known to be too large
    oversize = 0  # bytes seen so far of a line already known to be too large
    try:
        for chunk in chunks:
            data = pending + chunk if pending else chunk
            start = 0
            while (nl := data.find(b"\n", start)) >= 0:
                line_no += 1
                if oversize:
                    size = oversize + nl - start
                    yield line_no, pending_head, ReadReason.RECORD_TOO_LARGE, f"{size} bytes > read.max_record_bytes={max_bytes}"
                    oversize = 0
                elif nl - start > max_bytes:
                    yield (
                        line_no,
                        data[start : start + max_bytes],
                        ReadReason.RECORD_TOO_LARGE,
                        (f"{nl - start} bytes > read.max_record_bytes={max_bytes}"),
                    )
                else:
                    yield line_no, data[start:nl], None, ""
                start = nl + 1
            rest = data[start:]
            if oversize:
                oversize += len(rest)
                pending = b""
            elif len(rest) > max_bytes:
                pending_head, oversize, pending = rest[:max_bytes], len(rest), b""
            else:
                pending = rest
    except TruncatedStream as e:
        yield line_no + 1, pending, ReadReason.TRUNCATED_STREAM, f"{e}; records before line {line_no + 1} were read"
        return
    except CorruptStream as e:
        yield line_no + 1, pending, ReadReason.CORRUPT_STREAM, f"{e}; records before line {line_no + 1} were read"
        return
    if oversize:
        yield line_no + 1, pending_head, ReadReason.RECORD_TOO_LARGE, f"{oversize} bytes > read.max_record_bytes={max_bytes}"
    elif pending:
        yield line_no + 1, pending, None, ""


def _range_chunks(raw: BinaryIO, start: int, end: int) -> Iterator[bytes]:
    raw.seek(start)
    left = end - start
    while left > 0 and (data := raw.read(min(READ_SIZE, left))):
        left -= len(data)
        yield data


def _read_jsonl(raw: BinaryIO, f: InputFile, cfg: ReadConfig, path_source: str) -> Iterator[Document | DeadLetter]:
    if f.end is None:
        chunks = decompressed_chunks(raw, compression_of(f.path))
    else:  # a part of an uncompressed file (pipeline.io.split)
        chunks = _range_chunks(raw, f.start, f.end)
    for line_no, data, problem, detail in _lines(chunks, cfg.max_record_bytes):
        line_no += f.before
        location = f"{f.rel_path}:{line_no}"
        if problem is not None:
            yield _dead(location, problem, detail, data, path_source, cfg.excerpt_bytes)
            continue
        if line_no == 1 and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]  # a UTF-8 byte-order mark, as some Windows tools write, is not content
        if not data.strip():
            continue  # blank lines separate nothing and hold no record
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            yield _dead(location, ReadReason.UNDECODABLE_BYTES, f"not UTF-8 at byte {e.start}", data, path_source, cfg.excerpt_bytes)
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as e:
            yield _dead(location, ReadReason.INVALID_JSON, f"{e.msg}: column {e.colno}", data, path_source, cfg.excerpt_bytes)
            continue
        try:
            yield record_to_document(record, f.rel_path, line_no, location, cfg, path_source)
        except BadRecord as e:
            yield _dead(location, e.reason, e.detail, data, e.source or path_source, cfg.excerpt_bytes)


def _valid_str(value: str, what: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise BadRecord(ReadReason.INVALID_UNICODE, f"{what} holds {e.reason} at {e.start}") from None
    return value


def record_to_document(record: Any, rel_path: str, ordinal: int, location: str, cfg: ReadConfig, path_source: str) -> Document:
    """A parsed record (JSON object or Parquet row) to a Document; raises BadRecord, which carries
    the record's own source label when it has one, so a dead letter is labelled as its record."""
    if not isinstance(record, dict):
        raise BadRecord(ReadReason.NOT_AN_OBJECT, f"expected a JSON object, got {type(record).__name__}")
    source = record.get(cfg.source_field)
    source = _valid_str(source, cfg.source_field) if isinstance(source, str) and source else path_source
    try:
        return _to_document(record, rel_path, ordinal, location, cfg, source)
    except BadRecord as e:
        e.source = source
        raise


def _to_document(record: dict, rel_path: str, ordinal: int, location: str, cfg: ReadConfig, source: str) -> Document:
    if cfg.text_field not in record:
        raise BadRecord(ReadReason.MISSING_TEXT, f"no field {cfg.text_field!r}")
    text = record[cfg.text_field]
    if text is None:
        raise BadRecord(ReadReason.NULL_TEXT, f"field {cfg.text_field!r} is null")
    if not isinstance(text, str):
        raise BadRecord(ReadReason.TEXT_NOT_STRING, f"field {cfg.text_field!r} is {type(text).__name__}")
    if not text.strip():
        raise BadRecord(ReadReason.EMPTY_TEXT, f"field {cfg.text_field!r} is empty or whitespace")
    _valid_str(text, cfg.text_field)
    # A character is 1 to 4 UTF-8 bytes: encode only when the character count cannot decide it.
    if len(text) > cfg.max_record_bytes or (4 * len(text) > cfg.max_record_bytes and len(text.encode("utf-8")) > cfg.max_record_bytes):
        raise BadRecord(ReadReason.RECORD_TOO_LARGE, f"text > read.max_record_bytes={cfg.max_record_bytes}")

    rec_id = record.get(cfg.id_field)
    record_id = None
    if isinstance(rec_id, (str, int)) and not isinstance(rec_id, bool) and str(rec_id):
        doc_id = record_id = _valid_str(str(rec_id), cfg.id_field)
    else:
        doc_id = make_doc_id(rel_path, ordinal)
    url = record.get(cfg.url_field)
    url = _valid_str(url, cfg.url_field) if isinstance(url, str) and url else location
    metadata = {"location": location}
    for name in cfg.carry_fields:
        if name in record and record[name] is not None:
            value = record[name]
            metadata[name] = _valid_str(value if isinstance(value, str) else json.dumps(value, sort_keys=True), name)
    return Document(id=doc_id, text=text, source=source, url=url, metadata=metadata, record_id=record_id)


# ---------------------------------------------------------------- Parquet


def _read_parquet(raw: BinaryIO, f: InputFile, cfg: ReadConfig, path_source: str) -> Iterator[Document | DeadLetter]:
    try:
        pf = pq.ParquetFile(raw)
    except (pa.ArrowException, OSError, ValueError) as e:
        yield _dead(f.rel_path, ReadReason.UNREADABLE_FILE, f"not a readable Parquet file: {e}", b"", path_source)
        return
    names = set(pf.schema_arrow.names)
    wanted = [cfg.text_field, cfg.id_field, cfg.source_field, cfg.url_field, *cfg.carry_fields]
    columns = sorted({c for c in wanted if c in names})
    row = f.before
    groups = None if f.end is None else list(range(f.start, f.end))  # a part: its row groups only
    try:
        for batch in pf.iter_batches(batch_size=1024, columns=columns, row_groups=groups):
            for record in _batch_rows(batch):
                location = f"{f.rel_path}#row={row}"
                if isinstance(record, UnicodeDecodeError):
                    detail = f"a string column is not UTF-8 at byte {record.start}"
                    yield _dead(location, ReadReason.UNDECODABLE_BYTES, detail, b"", path_source)
                    row += 1
                    continue
                try:
                    yield record_to_document(record, f.rel_path, row, location, cfg, path_source)
                except BadRecord as e:
                    yield _dead(location, e.reason, e.detail, repr(record).encode()[: cfg.excerpt_bytes], e.source or path_source, cfg.excerpt_bytes)
                row += 1
    except (pa.ArrowException, OSError) as e:
        yield _dead(f"{f.rel_path}#row={row}", ReadReason.CORRUPT_STREAM, f"{e}; rows before {row} were read", b"", path_source)


def _batch_rows(batch: pa.RecordBatch) -> Iterator[dict | UnicodeDecodeError]:
    """The batch's rows; a row whose string column holds bytes that are not UTF-8 (Parquet writers
    need not check) comes out as its UnicodeDecodeError instead of failing the whole file."""
    try:
        rows = batch.to_pylist()
    except UnicodeDecodeError:
        rows = None
    if rows is not None:
        yield from rows
        return
    for i in range(batch.num_rows):
        try:
            yield batch.slice(i, 1).to_pylist()[0]
        except UnicodeDecodeError as e:
            yield e


# ---------------------------------------------------------------- WARC and WET


def _read_warc(raw: BinaryIO, f: InputFile, cfg: ReadConfig, path_source: str) -> Iterator[Document | DeadLetter | Rejection]:
    """Status-200 HTML responses (their body kept for the extract stage) and WET conversions
    become documents with the record's id; other responses, rejections; broken records, dead letters."""
    from pipeline.io.warc import ReadRejection, WarcDocument, read_warc  # fastwarc, only for crawl inputs

    byte_range = None if f.end is None else (f.start, f.end)
    for item in read_warc(raw, f.path, f.rel_path, cfg.warc, byte_range=byte_range):
        if isinstance(item, WarcDocument):
            meta = item.metadata() | ({"http_charset": item.charset} if item.charset else {})
            yield Document(
                id=item.id, text=item.text or "", source=path_source, url=item.url or item.location, metadata=meta, record_id=item.id, html=item.html
            )
        elif isinstance(item, ReadRejection):
            yield item.to_rejection(path_source)
        else:
            yield dataclasses.replace(item, source=item.source or path_source)


# ---------------------------------------------------------------- plain text files


def _read_text(raw: BinaryIO, f: InputFile, cfg: ReadConfig, path_source: str) -> Iterator[Document | DeadLetter]:
    """A text file is one document; its id comes from its path."""
    parts, size = [], 0
    try:
        for chunk in decompressed_chunks(raw, compression_of(f.path)):
            size += len(chunk)
            if size > cfg.max_record_bytes:
                head = b"".join([*parts, chunk])[: cfg.excerpt_bytes]
                yield _dead(
                    f.rel_path,
                    ReadReason.RECORD_TOO_LARGE,
                    f"file > read.max_record_bytes={cfg.max_record_bytes}",
                    head,
                    path_source,
                    cfg.excerpt_bytes,
                )
                return
            parts.append(chunk)
    except (TruncatedStream, CorruptStream) as e:
        reason = ReadReason.TRUNCATED_STREAM if isinstance(e, TruncatedStream) else ReadReason.CORRUPT_STREAM
        yield _dead(f.rel_path, reason, str(e), b"".join(parts), path_source, cfg.excerpt_bytes)
        return
    data = b"".join(parts)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        yield _dead(f.rel_path, ReadReason.UNDECODABLE_BYTES, f"not UTF-8 at byte {e.start}", data, path_source, cfg.excerpt_bytes)
        return
    try:
        yield record_to_document({cfg.text_field: text}, f.rel_path, None, f.rel_path, cfg, path_source)  # type: ignore[arg-type]
    except BadRecord as e:
        yield _dead(f.rel_path, e.reason, e.detail, data, path_source, cfg.excerpt_bytes)
