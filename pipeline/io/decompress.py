"""Streaming decompression that tells a truncated stream apart from a finished one.

Python's gzip module and Beam's CompressedFile both read a cut-off gzip either as an exception
that loses the last decompressed block or, in Beam's case, as a silent early end. Feeding the
raw bytes through zlib/zstd decompression objects ourselves lets the reader keep every byte that
decompresses and still know, at the end, whether the stream stopped where it should.
"""

import zlib
from collections.abc import Iterator
from typing import BinaryIO

import zstandard

READ_SIZE = 1 << 20  # raw bytes per read: large enough that per-call overhead vanishes


class TruncatedStream(Exception):
    """The compressed input ended in the middle of a member/frame."""


class CorruptStream(Exception):
    """The compressed input holds bytes that are not valid for its format."""


def _member_chunks(raw: BinaryIO, new_decompressor, errors, name: str, unit: str) -> Iterator[bytes]:
    """Decompresses a stream of concatenated members (gzip) or frames (zstd): `cat a.gz b.gz`
    is one valid stream. Zero bytes between or after members are padding that tape and block
    writers add; gzip(1) skips them, and so do we."""
    d = new_decompressor()
    started = False  # inside a member: its end marker is still due
    while data := raw.read(READ_SIZE):
        while data:
            if not started:
                data = data.lstrip(b"\0")
                if not data:
                    break
            started = True
            try:
                out = d.decompress(data)
            except errors as e:
                raise CorruptStream(f"{name}: {e}") from None
            if out:
                yield out
            if d.eof:
                data = d.unused_data
                d = new_decompressor()
                started = False
            else:
                data = b""
    if started and not d.eof:
        if tail := d.flush():
            yield tail
        raise TruncatedStream(f"{name} stream ended before the end of its {unit}")


def _gzip_chunks(raw: BinaryIO) -> Iterator[bytes]:
    # wbits=31: a gzip header and trailer around raw deflate data.
    return _member_chunks(raw, lambda: zlib.decompressobj(wbits=31), zlib.error, "gzip", "member")


def _zstd_chunks(raw: BinaryIO) -> Iterator[bytes]:
    dctx = zstandard.ZstdDecompressor()
    return _member_chunks(raw, dctx.decompressobj, zstandard.ZstdError, "zstd", "frame")


def _plain_chunks(raw: BinaryIO) -> Iterator[bytes]:
    while data := raw.read(READ_SIZE):
        yield data


def compression_of(path: str) -> str:
    lower = path.lower()
    if lower.endswith((".gz", ".gzip")):
        return "gzip"
    if lower.endswith((".zst", ".zstd")):
        return "zstd"
    return "none"


def decompressed_chunks(raw: BinaryIO, compression: str) -> Iterator[bytes]:
    """Yields the decompressed bytes; raises TruncatedStream/CorruptStream after the good part."""
    if compression == "gzip":
        return _gzip_chunks(raw)
    if compression == "zstd":
        return _zstd_chunks(raw)
    return _plain_chunks(raw)
