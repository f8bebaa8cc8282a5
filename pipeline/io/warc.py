"""WARC and WET files in: HTML responses and WET conversion records become document candidates,
everything else a read-time rejection or a dead letter that says why. No Beam here.

Formats by extension: `.warc.gz` (every record its own gzip member, WARC/1.0 and 1.1),
`.warc` (uncompressed), `.warc.wet.gz` / `.wet.gz` (conversion records). ARC is not read: fastwarc
does not parse it and Common Crawl has written WARC since 2013.

Library: fastwarc (resiliparse's project) parses the records. bench/bench_warc.py, same files
(Debian HTML manuals, 1,792 records; 2 shared cores), whole-file read of every record and body:
  .warc.gz 9.3 MB: warcio 1.8.1 9.6k rec/s (50 MB/s), fastwarc 2.0.1 22.9k rec/s (119 MB/s, 2.4x);
  .warc 58.5 MB:   warcio 27k rec/s (892 MB/s),       fastwarc 131k rec/s (4.3 GB/s, 4.8x).
fastwarc alone is not enough for bad input: it raises and stops at a corrupt
gzip member and yields a record cut off by the end of the file as if it were whole. So for
.warc.gz we inflate member by member (pipeline.io.gzip_members) and give each member's bytes to
fastwarc: a broken member is one dead letter and reading resumes at the next member; the member's
compressed offset is the record's offset; and a byte range of the file is read by taking the
members that start in it (`read_warc(..., byte_range=(start, end))`), so one large WARC splits
across workers. The price: for .warc.gz our reader runs at 37 MB/s compressed (0.74x warcio,
0.31x fastwarc's whole-stream read; Python's zlib inflate is 60% of it), still far above what
HTML extraction consumes (bench_extract). A faster path (fastwarc over the whole stream, the
member reader only from the last good record after fastwarc raises) is left for later. For plain
.warc (2.5x warcio) a broken record is a dead letter and ends the file (there are no
member boundaries to resynchronise on).

Decisions:
- id: the WARC-Record-ID's UUID (`<urn:uuid:X>` -> `X`); other URN forms are kept whole.
- domain: the URL's host, lowercased, without port and without one leading "www.", so
  www.example.com and example.com count as one site in per-domain statistics.
- request, warcinfo, metadata, revisit and resource records are skipped and not counted: they
  carry no document (revisit records point at an earlier capture).
- a response's content type is the HTTP header's, else WARC-Identified-Payload-Type (Common
  Crawl's detected type).
"""

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal
from urllib.parse import urlsplit

from fastwarc.warc import ArchiveIterator, WarcRecordType

from pipeline.config import WarcConfig
from pipeline.io.gzip_members import iter_members
from pipeline.records import DeadLetter, Reason, Rejection
from pipeline.text.domains import domain_of

WARC_STAGE = "read.warc.v1"
_WANTED = WarcRecordType.response | WarcRecordType.conversion


class WarcReason(Reason):
    # read-time rejections (a well-formed record that is not a document)
    NOT_HTML = "warc_not_html"
    STATUS_NOT_200 = "warc_status_not_200"
    EMPTY_BODY = "warc_empty_body"
    NOT_HTTP = "warc_not_http"  # a response record without an HTTP message (dns:, ftp:)
    TOO_LARGE = "warc_too_large"
    # dead letters (a broken record)
    TRUNCATED = "warc_truncated"
    CORRUPT_GZIP = "warc_corrupt_gzip"
    BAD_HEADERS = "warc_bad_headers"
    UNKNOWN_FORMAT = "warc_unknown_format"


@dataclass(frozen=True, kw_only=True)
class WarcDocument:
    """A document candidate: an HTML response (`html` set) or a WET conversion (`text` set)."""

    id: str
    url: str
    domain: str
    date: str  # WARC-Date as written (ISO 8601)
    location: str  # "<rel_path>@<offset>"
    offset: int  # compressed offset of the record's gzip member (.gz), else the record's offset
    kind: Literal["html", "text"]
    charset: str | None  # from the HTTP Content-Type header, lowercased
    html: bytes | None = None
    text: str | None = None

    def metadata(self) -> dict[str, str]:
        return {"location": self.location, "domain": self.domain, "warc_date": self.date}


@dataclass(frozen=True, kw_only=True)
class ReadRejection:
    id: str
    url: str
    location: str
    reason: WarcReason
    detail: str

    def to_rejection(self, source: str) -> Rejection:
        return Rejection(
            doc_id=self.id, source=source, lang=None, stage=WARC_STAGE, reason=self.reason.value, detail=self.detail, url=self.url or None
        )


WarcItem = WarcDocument | ReadRejection | DeadLetter


def warc_format(path: str) -> Literal["warc.gz", "warc"] | None:
    lower = path.lower()
    if lower.endswith((".warc.gz", ".wet.gz")):
        return "warc.gz"
    if lower.endswith(".warc"):
        return "warc"
    return None


def record_uuid(record_id: str) -> str:
    rid = record_id.strip().strip("<>")
    return rid.removeprefix("urn:uuid:")


def read_warc(raw: BinaryIO, path: str, rel_path: str, cfg: WarcConfig, byte_range: tuple[int, int | None] | None = None) -> Iterator[WarcItem]:
    """Every counted record of one opened file (raw bytes, seekable for .gz), in file order.
    byte_range=(start, end): only the records whose gzip member starts in [start, end)."""
    fmt = warc_format(path)
    if fmt == "warc.gz":
        start, end = byte_range or (0, None)
        for member in iter_members(raw, start, end, max_bytes=cfg.max_record_bytes):
            location = f"{rel_path}@{member.offset}"
            if member.error is not None:
                reason = WarcReason.TRUNCATED if member.error.startswith("truncated") else WarcReason.CORRUPT_GZIP
                yield _dead(location, reason, member.error, member.data, cfg)
            elif member.too_large:
                yield _too_large(member.data, location, cfg)
            else:
                yield from _parse(io.BytesIO(member.data), rel_path, member.offset, cfg)
    elif fmt == "warc":
        if byte_range not in (None, (0, None)):
            raise ValueError("byte ranges need member boundaries: only .warc.gz files can be split")
        yield from _parse(raw, rel_path, None, cfg)
    else:
        yield _dead(rel_path, WarcReason.UNKNOWN_FORMAT, "not .warc, .warc.gz or .wet.gz", b"", cfg)


def _parse(stream: BinaryIO, rel_path: str, member_offset: int | None, cfg: WarcConfig) -> Iterator[WarcItem]:
    """Records of one gzip member's bytes (member_offset set) or of a whole plain .warc."""
    pos = member_offset or 0
    try:
        for rec in ArchiveIterator(stream, record_types=_WANTED, parse_http=True):
            pos = rec.stream_pos if member_offset is None else member_offset
            yield _classify(rec, f"{rel_path}@{pos}", pos, cfg)
    except (OSError, ValueError) as e:  # fastwarc: "Invalid WARC header", bad Content-Length
        stream.seek(0 if member_offset is not None else pos)
        yield _dead(f"{rel_path}@{pos}", WarcReason.BAD_HEADERS, str(e).splitlines()[0], stream.read(cfg.excerpt_bytes), cfg)


def _classify(rec, location: str, offset: int, cfg: WarcConfig) -> WarcItem:
    headers = rec.headers
    url = headers.get("WARC-Target-URI", "") or ""
    rid = record_uuid(headers.get("WARC-Record-ID", "") or "") or location
    claimed = rec.content_length  # the payload length after the HTTP headers were parsed
    if claimed > cfg.max_record_bytes:  # plain .warc only: a .gz member that large never gets here
        return ReadRejection(
            id=rid,
            url=url,
            location=location,
            reason=WarcReason.TOO_LARGE,
            detail=f"body_bytes={claimed} > warc.max_record_bytes={cfg.max_record_bytes}",
        )
    body = rec.reader.read()
    if len(body) < claimed:
        return _dead(location, WarcReason.TRUNCATED, f"body has {len(body)} of {claimed} bytes", body, cfg)
    if rec.record_type == WarcRecordType.conversion:
        if not body.strip():
            return ReadRejection(id=rid, url=url, location=location, reason=WarcReason.EMPTY_BODY, detail="conversion_bytes=0")
        text = body.decode("utf-8", errors="replace")  # WET is written as UTF-8
        return _document(rid, url, headers, location, offset, "text", None, text=text)
    http = rec.http_headers
    if http is None:
        return ReadRejection(id=rid, url=url, location=location, reason=WarcReason.NOT_HTTP, detail=f"scheme={urlsplit(url).scheme}")
    if http.status_code != 200:
        return ReadRejection(id=rid, url=url, location=location, reason=WarcReason.STATUS_NOT_200, detail=f"status={http.status_code}")
    ctype = (rec.http_content_type or headers.get("WARC-Identified-Payload-Type", "") or "").lower()
    if ctype not in cfg.html_types:
        return ReadRejection(id=rid, url=url, location=location, reason=WarcReason.NOT_HTML, detail=f"content_type={ctype or 'none'}")
    if not body.strip():
        return ReadRejection(id=rid, url=url, location=location, reason=WarcReason.EMPTY_BODY, detail="body_bytes=0")
    charset = (rec.http_charset or "").lower() or None
    return _document(rid, url, headers, location, offset, "html", charset, html=body)


def _document(rid, url, headers, location, offset, kind, charset, html=None, text=None) -> WarcDocument:
    return WarcDocument(
        id=rid,
        url=url,
        domain=domain_of(url),
        date=headers.get("WARC-Date", "") or "",
        location=location,
        offset=offset,
        kind=kind,
        charset=charset,
        html=html,
        text=text,
    )


_HEADER = re.compile(rb"^(WARC-Target-URI|WARC-Record-ID):[ \t]*(\S*)", re.MULTILINE | re.IGNORECASE)


def _too_large(head: bytes, location: str, cfg: WarcConfig) -> WarcItem:
    """A record over max_record_bytes: rejected from its headers, the body is never held."""
    end = head.find(b"\r\n\r\n")
    found = {k.decode().lower(): v.decode("utf-8", "replace") for k, v in _HEADER.findall(head[: max(0, end)])}
    if not head.startswith(b"WARC/") or "warc-record-id" not in found:
        return _dead(location, WarcReason.BAD_HEADERS, "no WARC header in a record over max_record_bytes", head, cfg)
    return ReadRejection(
        id=record_uuid(found["warc-record-id"]),
        url=found.get("warc-target-uri", ""),
        location=location,
        reason=WarcReason.TOO_LARGE,
        detail=f"record_bytes > warc.max_record_bytes={cfg.max_record_bytes}",
    )


def _dead(location: str, reason: WarcReason, detail: str, raw: bytes, cfg: WarcConfig) -> DeadLetter:
    return DeadLetter(location=location, reason=reason.value, detail=detail, raw_excerpt=raw[: cfg.excerpt_bytes].decode("utf-8", "backslashreplace"))
