"""read_warc on the real-HTML fixtures: every counted record's outcome, id and offset, as the
fixture builder wrote them (tests/data/crawl/expectations.json), plus broken-input cases."""

import io
import itertools
import zlib

import pytest

from pipeline.config import ConfigError
from pipeline.io.warc import ReadRejection, WarcConfig, WarcDocument, WarcReason, domain_of, read_warc, record_uuid
from pipeline.records import DeadLetter
from tests.crawl.conftest import DATA

FILES = ["crawl.warc.gz", "crawl.warc", "crawl.warc.wet.gz"]


def read(name: str, data: bytes | None = None, cfg: WarcConfig | None = None, byte_range=None) -> list:
    raw = io.BytesIO(data if data is not None else (DATA / name).read_bytes())
    return list(read_warc(raw, name, name, cfg or WarcConfig(), byte_range=byte_range))


def kind(item) -> str:
    return {WarcDocument: "document", ReadRejection: "rejection", DeadLetter: "dead"}[type(item)]


@pytest.mark.parametrize("name", FILES)
def test_every_counted_record_has_its_expected_outcome(name, expectations):
    items = read(name)
    expected = expectations["records"][name]
    assert [kind(i) for i in items] == [e["kind"] for e in expected]
    for item, exp in zip(items, expected):
        if isinstance(item, DeadLetter):
            assert item.reason == exp["reason"]
            assert item.location == f"{name}@{exp['offset']}"
            continue
        assert item.id == exp["id"] and item.url == exp["url"]
        assert item.location == f"{name}@{exp['offset']}"
        if isinstance(item, ReadRejection):
            assert (item.reason.value, item.detail) == (exp["reason"], exp["detail"])


def test_documents_carry_url_domain_date_charset_and_body(expectations):
    docs = [i for i in read("crawl.warc.gz") if isinstance(i, WarcDocument)]
    first = docs[0]
    assert first.url == expectations["pages"][0]["url"]
    assert first.domain == "docs.example.org" and first.date == "2024-05-01T12:00:00Z"
    assert first.kind == "html" and first.charset == "utf-8" and first.html.lstrip().startswith(b"<")
    assert first.offset == expectations["records"]["crawl.warc.gz"][0]["offset"]
    by_url = {d.url: d for d in docs}
    assert by_url[expectations["charset_pages"]["header"]].charset == "iso-8859-1"
    assert by_url[expectations["charset_pages"]["meta"]].charset is None
    wet = [i for i in read("crawl.warc.wet.gz") if isinstance(i, WarcDocument)]
    assert all(d.kind == "text" and d.text and d.html is None for d in wet)
    assert len({d.id for d in docs}) == len(docs)
    assert [d.id for d in docs] == [d.id for d in read("crawl.warc.gz") if isinstance(d, WarcDocument)]  # stable


def test_rejection_converts_to_a_pipeline_rejection():
    rej = next(i for i in read("crawl.warc.gz") if isinstance(i, ReadRejection))
    row = rej.to_rejection("web")
    assert (row.doc_id, row.reason, row.stage, row.source) == (rej.id, rej.reason.value, "read.warc.v1", "web")


def _ranges(size: int, n: int) -> list[tuple[int, int]]:
    cuts = [size * k // n for k in range(n + 1)]
    return list(itertools.pairwise(cuts))


def _signature(items) -> list[tuple]:
    return [(type(i).__name__, getattr(i, "location", None), getattr(i, "reason", None), getattr(i, "id", None)) for i in items]


def _corrupted() -> bytes:
    """The fixture with one member in the middle broken inside its deflate data."""
    data = bytearray((DATA / "crawl.warc.gz").read_bytes())
    offsets = [r["offset"] for r in read_expectations()["records"]["crawl.warc.gz"]]
    start = offsets[5]
    data[start + 40 : start + 80] = bytes(40)
    return bytes(data)


def read_expectations():
    import json

    return json.loads((DATA / "expectations.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("n", [2, 3, 7, 50])
@pytest.mark.parametrize("corrupt", [False, True])
def test_reading_in_ranges_equals_reading_whole(n, corrupt):
    data = _corrupted() if corrupt else (DATA / "crawl.warc.gz").read_bytes()
    whole = _signature(read("crawl.warc.gz", data))
    parts = []
    for r in _ranges(len(data), n):
        parts += _signature(read("crawl.warc.gz", data, byte_range=r))
    assert parts == whole


def test_a_corrupt_member_is_one_dead_letter_and_reading_continues(expectations):
    clean = read("crawl.warc.gz")
    broken = read("crawl.warc.gz", _corrupted())
    offset = expectations["records"]["crawl.warc.gz"][5]["offset"]
    dead = [i for i in broken if isinstance(i, DeadLetter) and i.reason == WarcReason.CORRUPT_GZIP.value]
    assert [d.location for d in dead] == [f"crawl.warc.gz@{offset}"]
    assert len(broken) == len(clean)  # the broken record is counted once, nothing after it lost
    assert _signature(broken[6:]) == _signature(clean[6:])


def _member(block: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, 31)
    return c.compress(block) + c.flush()


def test_bad_warc_headers_in_a_good_member_are_a_dead_letter_and_reading_continues():
    data = (DATA / "crawl.warc.gz").read_bytes()
    first_end = read_expectations()["records"]["crawl.warc.gz"][1]["offset"]
    bad = _member(b"WARC/1.1\r\nthis is no header\r\nContent-Length: zz\r\n\r\nxx\r\n\r\n")
    items = read("crawl.warc.gz", data[:first_end] + bad + data[first_end:])
    dead = [i for i in items if isinstance(i, DeadLetter) and i.reason == WarcReason.BAD_HEADERS.value]
    assert len(dead) == 1 and dead[0].location == f"crawl.warc.gz@{first_end}"
    assert len(items) == len(read("crawl.warc.gz")) + 1


def test_a_file_that_is_not_gzip_is_one_dead_letter():
    items = read("x.warc.gz", b"plain text, not a gzip member at all\n" * 10)
    assert [(kind(i), i.reason) for i in items] == [("dead", WarcReason.CORRUPT_GZIP.value)]
    assert "plain text" in items[0].raw_excerpt


def test_records_over_the_size_limit_are_rejected_with_their_url():
    items = read("crawl.warc.gz", cfg=WarcConfig(max_record_bytes=5000))
    too_large = [i for i in items if isinstance(i, ReadRejection) and i.reason == WarcReason.TOO_LARGE]
    assert too_large and all(r.url.startswith("https://docs.example.org/") for r in too_large)
    plain = read("crawl.warc", cfg=WarcConfig(max_record_bytes=5000))
    assert any(isinstance(i, ReadRejection) and i.reason == WarcReason.TOO_LARGE for i in plain)


def test_plain_warc_cannot_be_split_and_unknown_extensions_are_dead_letters():
    with pytest.raises(ValueError):
        read("crawl.warc", byte_range=(10, 100))
    assert [i.reason for i in read("crawl.arc.gz", b"x")] == [WarcReason.UNKNOWN_FORMAT.value]


def test_ids_and_domains():
    assert record_uuid("<urn:uuid:1234-abcd>") == "1234-abcd"
    assert record_uuid("<urn:x:9>") == "urn:x:9"
    assert domain_of("http://WWW.Example.COM:8080/a?b") == "example.com"
    assert domain_of("https://[2001:db8::1]:443/") == "2001:db8::1"
    assert domain_of("not a url") == ""


def test_config_is_validated():
    with pytest.raises(ConfigError, match="warc.max_record_bytes"):
        WarcConfig(max_record_bytes=0)
    with pytest.raises(ConfigError, match="warc.html_types"):
        WarcConfig(html_types=("html",))
