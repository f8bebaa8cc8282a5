"""Streaming decompression that tells a truncated stream apart from a finished one.

Python's gzip module and Beam's CompressedFile both read a cut-off gzip either as an exception
that loses the last decompressed block or, in Beam's case, as a silent early end. Feeding the
raw bytes through zlib/zstd decompression objects ourselves lets the reader keep every byte that
decompresses and still know, at the end, whether the stream stopped where it should.
"""

import zlib
from typing import BinaryIO, Iterator

import zstandard

READ_SIZE = 1 << 20  # raw bytes per read: large enough that per-call overhead vanishes


class TruncatedStream(Exception):
    """The compressed input ended in the middle of a member/frame."""


class CorruptStream(Exception):
    """The compressed input holds bytes that are not valid for its format."""


def _gzip_chunks(raw: BinaryIO) -> Iterator[bytes]:
    d = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer
    started = False  # inside a member: its end-of-member marker is still due
    while True:
        data = raw.read(READ_SIZE)
        if not data:
            break
        while data:
            if not started:
                # Zero bytes between or after members are padding (tape and block writers add
                # it); gzip(1) skips them too.
                data = data.lstrip(b"\0")
                if not data:
                    break
            started = True
            try:
                out = d.decompress(data)
            except zlib.error as e:
                raise CorruptStream(f"gzip: {e}") from None
            if out:
                yield out
            if d.eof:
                # Concatenated gzip members (as `cat a.gz b.gz` makes) are one valid stream.
                data = d.unused_data
                d = zlib.decompressobj(wbits=31)
                started = False
            else:
                data = b""
    if started and not d.eof:
        tail = d.flush()
        if tail:
            yield tail
        raise TruncatedStream("gzip stream ended before its end-of-member marker")


def _zstd_chunks(raw: BinaryIO) -> Iterator[bytes]:
    dctx = zstandard.ZstdDecompressor()
    d = dctx.decompressobj()
    started = False
    while True:
        data = raw.read(READ_SIZE)
        if not data:
            break
        while data:
            started = True
            try:
                out = d.decompress(data)
            except zstandard.ZstdError as e:
                raise CorruptStream(f"zstd: {e}") from None
            if out:
                yield out
            if d.eof:
                data = d.unused_data  # several frames in one file are one stream
                d = dctx.decompressobj()
                started = False
            else:
                data = b""
    if started and not d.eof:
        raise TruncatedStream("zstd stream ended before the end of its frame")


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
