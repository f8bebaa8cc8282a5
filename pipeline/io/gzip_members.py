"""Gzip members of a multi-member file (.warc.gz): where each starts, its bytes, or why not.

A WARC writer compresses every record as its own gzip member, so member starts are record
boundaries: a file can be split across workers at any byte by letting each worker take the
members that *start* in its range, and a corrupt member costs one record, not the rest of the
file. We decompress member by member with zlib (C speed) so we always know each member's
compressed offset and whether it ended cleanly; neither fastwarc nor warcio report that (fastwarc
raises and stops at a corrupt member, and yields a truncated last record as if it were whole).

No Beam here.
"""

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b\x08"  # ID1 ID2 and CM=deflate (RFC 1952); every real member starts so
_CHUNK = 1 << 18  # compressed bytes read per refill
_PROBE = 1 << 16  # compressed bytes tried when validating a candidate member start


@dataclass(frozen=True)
class Member:
    """One gzip member: its compressed offset and size, and its data, or what went wrong."""

    offset: int
    size: int  # compressed bytes (to the next member start, or to where we resynchronised)
    data: bytes  # decompressed bytes (cut at max_bytes when too_large)
    error: str | None = None  # "truncated: ...", "corrupt: ...": data then holds the raw head
    too_large: bool = False  # decompressed size passed max_bytes; data holds the first max_bytes


def _looks_like_member(raw: BinaryIO, pos: int, expect_prefix: bytes) -> bool:
    """A candidate start is real if its header is valid and the member inflates to bytes that
    begin like a record (b"WARC/"): a chance match of the 3-byte magic inside compressed data
    passes both with negligible probability."""
    raw.seek(pos)
    head = raw.read(_PROBE)
    if len(head) < 10 or head[:3] != GZIP_MAGIC or head[3] & 0xE0:  # FLG's reserved bits must be 0
        return False
    d = zlib.decompressobj(31)
    try:
        out = d.decompress(head, len(expect_prefix) + 64)
    except zlib.error:
        return False
    return out.startswith(expect_prefix)


def next_member_start(raw: BinaryIO, pos: int, end: int | None, expect_prefix: bytes = b"WARC/") -> int | None:
    """The first valid member start at or after `pos` and before `end` (None: to EOF)."""
    while end is None or pos < end:
        raw.seek(pos)
        window = raw.read(_CHUNK + len(GZIP_MAGIC) - 1)
        if len(window) < len(GZIP_MAGIC):
            return None
        at = 0
        while (hit := window.find(GZIP_MAGIC, at)) >= 0:
            cand = pos + hit
            if end is not None and cand >= end:
                return None
            if _looks_like_member(raw, cand, expect_prefix):
                return cand
            at = hit + 1
        pos += _CHUNK
    return None


def iter_members(
    raw: BinaryIO, start: int = 0, end: int | None = None, max_bytes: int = 64 << 20, expect_prefix: bytes = b"WARC/"
) -> Iterator[Member]:
    """The members that start in [start, end) of a seekable stream, in file order.

    A member that fails to inflate is yielded with `error` and we resynchronise at the next
    valid member start; a member cut off by the end of the file is yielded with `error` last.
    Ownership rule, so that reading [0, size) in any number of consecutive ranges yields exactly
    the members of one read: a range starts at its first *valid-looking* member start (a chain
    start at 0 is always taken), and it ends before the first valid-looking start at or past
    `end`. A broken member whose start no scan would accept belongs to the range whose chain
    reaches it, even when it starts past `end`.
    """
    pos = 0 if start == 0 else next_member_start(raw, start, end, expect_prefix)
    buf = b""  # bytes from `pos` on that were already read (the last member's unused tail)
    while pos is not None:
        if end is not None and pos >= end and _looks_like_member(raw, pos, expect_prefix):
            return
        if not buf:
            raw.seek(pos)
            buf = raw.read(_CHUNK)
            if not buf:
                return
        member, buf = _inflate_one(raw, pos, buf, max_bytes)
        yield member
        if member.error is None:
            pos += member.size
        elif member.error.startswith("truncated"):
            return
        else:
            pos, buf = next_member_start(raw, pos + 1, None, expect_prefix), b""


def _inflate_one(raw: BinaryIO, pos: int, buf: bytes, max_bytes: int) -> tuple[Member, bytes]:
    """The member at `pos`, whose first bytes are `buf` (the stream is positioned after them),
    and the bytes read past its end."""
    d = zlib.decompressobj(31)
    out: list[bytes] = []
    kept = 0
    fed = 0
    first = buf[:200]
    chunk = buf
    while True:
        fed += len(chunk)
        try:
            piece = d.decompress(chunk)
        except zlib.error as e:
            return Member(offset=pos, size=fed, data=first, error=f"corrupt: {e}"), b""
        if kept < max_bytes:
            out.append(piece[: max_bytes - kept])
        kept += len(piece)
        if d.eof:
            break
        chunk = raw.read(_CHUNK)
        if not chunk:
            return Member(offset=pos, size=fed, data=first, error=f"truncated: gzip member ends after {fed} bytes"), b""
    rest = d.unused_data
    return Member(offset=pos, size=fed - len(rest), data=b"".join(out), too_large=kept > max_bytes), rest
