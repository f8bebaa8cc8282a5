"""Unit tests of the pure readers in pipeline.io.parse (no Beam)."""

import gzip
import hashlib
import io
import json
import random
import string
import zlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

import pipeline.io.decompress as decompress
from pipeline.config import ReadConfig
from pipeline.io.parse import InputFile, ReadReason, make_doc_id, path_matches, read_file
from pipeline.records import DeadLetter, Document

DEFAULT = ReadConfig()


def read(data: bytes, rel_path: str = "in/a.jsonl", cfg: ReadConfig = DEFAULT, path: str | None = None):
    return list(read_file(io.BytesIO(data), InputFile(path=path or f"/data/{rel_path}", rel_path=rel_path), cfg))


def jl(*records) -> bytes:
    """JSONL bytes: dicts/values are json-dumped, bytes are taken as they are."""
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records)


def docs(out):
    return [x for x in out if isinstance(x, Document)]


def dead(out):
    return [x for x in out if isinstance(x, DeadLetter)]


def kinds(out):
    """A compact view: ('doc', text) or ('dead', reason, location)."""
    return [("doc", x.text) if isinstance(x, Document) else ("dead", x.reason, x.location) for x in out]


def blake(key: str) -> str:
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


def parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


# ---------------------------------------------------------------- one test per JSONL ReadReason


def _one_bad(bad: bytes, **kw):
    """A bad record between two good ones: returns the dead letter, checking the neighbours."""
    out = read(jl({"text": "before"}, bad, {"text": "after"}), **kw)
    assert kinds(out)[0] == ("doc", "before")
    assert kinds(out)[2] == ("doc", "after")
    assert len(out) == 3
    assert out[0].url == "in/a.jsonl:1" and out[2].url == "in/a.jsonl:3"
    (d,) = dead(out)
    assert d.location == "in/a.jsonl:2"
    assert d.source == "web"
    return d


def test_invalid_json():
    d = _one_bad(b'{"text": "oops"')
    assert d.reason == ReadReason.INVALID_JSON == "invalid_json"
    assert d.detail == "Expecting ',' delimiter: column 16"
    assert d.raw_excerpt == '{"text": "oops"'


@pytest.mark.parametrize("value, typename", [([1, 2], "list"), ("a string", "str"), (3, "int"), (None, "NoneType")])
def test_not_an_object(value, typename):
    d = _one_bad(json.dumps(value).encode())
    assert d.reason == "not_an_object"
    assert d.detail == f"expected a JSON object, got {typename}"
    assert d.raw_excerpt == json.dumps(value)


def test_missing_text():
    d = _one_bad(b'{"content": "x"}')
    assert (d.reason, d.detail) == ("missing_text", "no field 'text'")


def test_null_text():
    d = _one_bad(b'{"text": null}')
    assert (d.reason, d.detail) == ("null_text", "field 'text' is null")


@pytest.mark.parametrize("value, typename", [(42, "int"), (1.5, "float"), (["a", "b"], "list"), ({"a": 1}, "dict"), (True, "bool")])
def test_text_not_string(value, typename):
    d = _one_bad(json.dumps({"text": value}).encode())
    assert (d.reason, d.detail) == ("text_not_string", f"field 'text' is {typename}")


@pytest.mark.parametrize("value", ["", " ", "\n\t  \r\n", "\u3000\u00a0"])
def test_empty_or_whitespace_text(value):
    d = _one_bad(json.dumps({"text": value}).encode())
    assert (d.reason, d.detail) == ("empty_text", "field 'text' is empty or whitespace")


def test_undecodable_bytes_excerpt_has_x_escapes():
    d = _one_bad(b'{"text": "caf\xe9 \xff"}')
    assert d.reason == "undecodable_bytes"
    assert d.detail == "not UTF-8 at byte 13"
    assert d.raw_excerpt == '{"text": "caf\\xe9 \\xff"}'


def test_lone_surrogate_escape_is_invalid_unicode():
    d = _one_bad(b'{"text": "ab\\ud800cd"}')
    assert d.reason == "invalid_unicode"
    assert d.detail == "text holds surrogates not allowed at 2"
    assert d.raw_excerpt == '{"text": "ab\\ud800cd"}'


def test_surrogate_pair_escape_is_fine():
    (doc,) = read(jl(b'{"text": "smile \\ud83d\\ude00"}'))
    assert doc.text == "smile \U0001f600"


@pytest.mark.parametrize("field", ["url", "source", "id"])
def test_lone_surrogate_in_other_used_field_is_invalid_unicode(field):
    d = _one_bad(json.dumps({"text": "fine", field: "x\ud800"}).encode())
    assert d.reason == "invalid_unicode"
    assert d.detail == f"{field} holds surrogates not allowed at 1"


def test_excerpt_is_cut_to_excerpt_bytes():
    cfg = ReadConfig(excerpt_bytes=5)
    d = _one_bad(b'{"text": 12345}', cfg=cfg)
    assert d.raw_excerpt == '{"tex'


# ---------------------------------------------------------------- record_too_large


def test_short_record_over_max_in_one_chunk():
    cfg = ReadConfig(max_record_bytes=40, excerpt_bytes=10)
    big = json.dumps({"text": "x" * 50}).encode()  # 62 bytes
    assert len(big) == 62
    out = read(jl({"text": "a"}, big, {"text": "b"}), cfg=cfg)
    assert kinds(out) == [("doc", "a"), ("dead", "record_too_large", "in/a.jsonl:2"), ("doc", "b")]
    d = out[1]
    assert d.detail == "62 bytes > read.max_record_bytes=40"
    assert d.raw_excerpt == '{"text": "'


def test_record_of_exactly_max_bytes_is_read():
    line = json.dumps({"text": "y" * 28}).encode()
    assert len(line) == 40
    out = read(jl(line), cfg=ReadConfig(max_record_bytes=40))
    assert kinds(out) == [("doc", "y" * 28)]
    out = read(jl(line), cfg=ReadConfig(max_record_bytes=39))
    assert kinds(out) == [("dead", "record_too_large", "in/a.jsonl:1")]
    assert out[0].detail == "40 bytes > read.max_record_bytes=39"


def test_long_line_spanning_many_chunks(monkeypatch):
    monkeypatch.setattr(decompress, "READ_SIZE", 64)
    cfg = ReadConfig(max_record_bytes=100)
    big = json.dumps({"text": "z" * 990}).encode()  # 1002 bytes: spans ~16 reads
    mid = json.dumps({"text": "m" * 70}).encode()  # 82 bytes: under the limit, spans two reads
    data = jl({"text": "first"}, big, {"text": "next"}, mid, big)
    out = read(data, cfg=cfg)
    assert kinds(out) == [
        ("doc", "first"),
        ("dead", "record_too_large", "in/a.jsonl:2"),
        ("doc", "next"),
        ("doc", "m" * 70),
        ("dead", "record_too_large", "in/a.jsonl:5"),
    ]
    assert out[1].detail == "1002 bytes > read.max_record_bytes=100"
    assert out[4].detail == "1002 bytes > read.max_record_bytes=100"
    assert out[1].raw_excerpt == big[:100].decode()


def test_long_final_line_without_newline(monkeypatch):
    monkeypatch.setattr(decompress, "READ_SIZE", 64)
    cfg = ReadConfig(max_record_bytes=100)
    big = json.dumps({"text": "z" * 290}).encode()  # 302 bytes
    out = read(jl({"text": "first"}) + big, cfg=cfg)
    assert kinds(out) == [("doc", "first"), ("dead", "record_too_large", "in/a.jsonl:2")]
    assert out[1].detail == "302 bytes > read.max_record_bytes=100"


def test_long_line_in_gzip_spanning_chunks(monkeypatch):
    monkeypatch.setattr(decompress, "READ_SIZE", 64)
    cfg = ReadConfig(max_record_bytes=100)
    rnd = random.Random(1)
    big = json.dumps({"text": "".join(rnd.choice(string.ascii_letters) for _ in range(2000))}).encode()
    data = gzip.compress(jl({"text": "a"}, big, {"text": "b"}))
    out = read(data, rel_path="a.jsonl.gz", cfg=cfg)
    assert kinds(out) == [("doc", "a"), ("dead", "record_too_large", "a.jsonl.gz:2"), ("doc", "b")]
    assert out[1].detail == f"{len(big)} bytes > read.max_record_bytes=100"


MESSY = (
    jl(
        {"text": "one", "id": "r1"},
        b"",
        b"not json",
        {"text": "x" * 140},
        b"   ",
        {"text": None},
        {"text": "two"},
        b'{"text": "caf\xe9"}',
        {"no_text": 1},
        {"text": "three " * 30},
        [1],
        {"text": "  "},
        b'{"text": "\\udfff"}',
        {"text": 7},
    )
    + json.dumps({"text": "last, no newline"}).encode()
)


def test_output_is_the_same_whatever_the_read_size(monkeypatch):
    cfg = ReadConfig(max_record_bytes=160)
    expected = read(MESSY, cfg=cfg)
    for size in (1, 2, 7, 64, 159, 160, 161, 4096):
        monkeypatch.setattr(decompress, "READ_SIZE", size)
        assert read(MESSY, cfg=cfg) == expected, size
        assert read(gzip.compress(MESSY), rel_path="in/a.jsonl", path="/d/in/a.jsonl.gz", cfg=cfg) == expected, size


def test_exact_accounting_on_a_messy_file():
    cfg = ReadConfig(max_record_bytes=160)
    n_records = sum(1 for line in MESSY.split(b"\n") if line.strip())
    assert n_records == 13
    out = read(MESSY, cfg=cfg)
    assert len(out) == n_records
    assert kinds(out) == [
        ("doc", "one"),
        ("dead", "invalid_json", "in/a.jsonl:3"),
        ("doc", "x" * 140),
        ("dead", "null_text", "in/a.jsonl:6"),
        ("doc", "two"),
        ("dead", "undecodable_bytes", "in/a.jsonl:8"),
        ("dead", "missing_text", "in/a.jsonl:9"),
        ("dead", "record_too_large", "in/a.jsonl:10"),
        ("dead", "not_an_object", "in/a.jsonl:11"),
        ("dead", "empty_text", "in/a.jsonl:12"),
        ("dead", "invalid_unicode", "in/a.jsonl:13"),
        ("dead", "text_not_string", "in/a.jsonl:14"),
        ("doc", "last, no newline"),
    ]
    assert out[0].id == "r1"
    assert out[7].detail == "192 bytes > read.max_record_bytes=160"


# ---------------------------------------------------------------- line handling


def test_blank_lines_are_skipped_not_records():
    out = read(b"\n\n" + jl({"text": "a"}) + b"  \n\t\n\r\n" + jl({"text": "b"}) + b"\n")
    assert kinds(out) == [("doc", "a"), ("doc", "b")]
    assert [d.url for d in out] == ["in/a.jsonl:3", "in/a.jsonl:7"]


def test_final_line_without_newline():
    out = read(jl({"text": "a"}) + b'{"text": "b"}')
    assert kinds(out) == [("doc", "a"), ("doc", "b")]
    assert out[1].metadata["location"] == "in/a.jsonl:2"


def test_crlf_line_endings():
    data = b'{"text": "a\\r\\nb"}\r\n{"text": "c"}\r\n{"text": "d"}'
    out = read(data)
    assert kinds(out) == [("doc", "a\r\nb"), ("doc", "c"), ("doc", "d")]
    assert [d.url for d in out] == ["in/a.jsonl:1", "in/a.jsonl:2", "in/a.jsonl:3"]


def test_empty_files_give_nothing():
    assert read(b"") == []
    assert read(b"", rel_path="a.jsonl.gz") == []
    assert read(b"", rel_path="a.jsonl.zst") == []
    assert read(b"\n\n", rel_path="a.jsonl") == []


# ---------------------------------------------------------------- gzip


def _text_lines(n: int, seed: int = 0) -> bytes:
    rnd = random.Random(seed)
    return jl(*({"text": "".join(rnd.choice(string.ascii_letters + " ") for _ in range(80))} for _ in range(n)))


def test_gzip_good():
    plain = _text_lines(50)
    out = read(gzip.compress(plain), rel_path="d/a.jsonl.gz")
    assert len(out) == 50 and not dead(out)
    assert [d.text for d in out] == [json.loads(line)["text"] for line in plain.splitlines()]
    assert out[49].url == "d/a.jsonl.gz:50"


@pytest.mark.parametrize("read_size", [1 << 20, 64])
def test_truncated_gzip_keeps_everything_zlib_recovers(monkeypatch, read_size):
    monkeypatch.setattr(decompress, "READ_SIZE", read_size)
    plain = _text_lines(200)
    packed = gzip.compress(plain)
    cut = packed[: len(packed) // 2]
    d = zlib.decompressobj(wbits=31)
    recovered = d.decompress(cut) + d.flush()
    assert not d.eof
    n_full = recovered.count(b"\n")
    partial = recovered[recovered.rfind(b"\n") + 1 :]
    assert 50 < n_full < 200  # the cut is mid-stream, mid-line

    out = read(cut, rel_path="a.jsonl.gz")
    assert len(docs(out)) == n_full
    assert [x.text for x in out[:n_full]] == [json.loads(line)["text"] for line in plain.splitlines()[:n_full]]
    assert len(out) == n_full + 1
    last = out[-1]
    assert isinstance(last, DeadLetter)
    assert last.reason == "truncated_stream"
    assert last.location == f"a.jsonl.gz:{n_full + 1}"
    assert last.detail == f"gzip stream ended before the end of its member; records before line {n_full + 1} were read"
    assert last.raw_excerpt == partial[:200].decode()


def test_gzip_cut_in_its_header():
    out = read(gzip.compress(jl({"text": "a"}))[:5], rel_path="a.jsonl.gz")
    assert kinds(out) == [("dead", "truncated_stream", "a.jsonl.gz:1")]


def test_gzip_cut_after_last_newline_is_still_truncated():
    packed = gzip.compress(jl({"text": "a"}, {"text": "b"}))
    out = read(packed[:-8], rel_path="a.jsonl.gz")  # the trailer (CRC, size) is missing
    assert kinds(out) == [("doc", "a"), ("doc", "b"), ("dead", "truncated_stream", "a.jsonl.gz:3")]
    assert out[2].raw_excerpt == ""


def test_corrupt_gzip():
    out = read(b"this is not gzip at all\n" * 3, rel_path="a.jsonl.gz")
    assert kinds(out) == [("dead", "corrupt_stream", "a.jsonl.gz:1")]
    assert out[0].detail == "gzip: Error -3 while decompressing data: incorrect header check; records before line 1 were read"


def test_gzip_with_garbage_after_a_member():
    out = read(gzip.compress(jl({"text": "a"})) + b"garbage!", rel_path="a.jsonl.gz")
    assert kinds(out) == [("doc", "a"), ("dead", "corrupt_stream", "a.jsonl.gz:2")]


@pytest.mark.parametrize("read_size", [1 << 20, 7])
def test_multi_member_gzip_is_read_fully(monkeypatch, read_size):
    monkeypatch.setattr(decompress, "READ_SIZE", read_size)
    data = (
        gzip.compress(jl({"text": "a"}, {"text": "b"}))
        + gzip.compress(b'{"text": "sp')  # a line split across two members
        + gzip.compress(b'lit"}\n' + jl({"text": "c"}))
        + gzip.compress(b"")  # an empty member
        + gzip.compress(jl({"text": "d"}))
    )
    out = read(data, rel_path="a.jsonl.gz")
    assert kinds(out) == [("doc", "a"), ("doc", "b"), ("doc", "split"), ("doc", "c"), ("doc", "d")]
    assert out[4].url == "a.jsonl.gz:5"


# ---------------------------------------------------------------- zstd


def test_zstd_good_and_multi_frame():
    c = zstandard.ZstdCompressor()
    one = c.compress(jl({"text": "a"}, {"text": "b"}))
    assert kinds(read(one, rel_path="a.jsonl.zst")) == [("doc", "a"), ("doc", "b")]
    multi = one + c.compress(b'{"text": "sp') + c.compress(b'lit"}\n' + jl({"text": "c"}))
    out = read(multi, rel_path="a.jsonl.zstd")
    assert kinds(out) == [("doc", "a"), ("doc", "b"), ("doc", "split"), ("doc", "c")]


@pytest.mark.parametrize("read_size", [1 << 20, 16])
def test_zstd_multi_frame_small_reads(monkeypatch, read_size):
    monkeypatch.setattr(decompress, "READ_SIZE", read_size)
    c = zstandard.ZstdCompressor()
    plain = _text_lines(30)
    data = b"".join(c.compress(line + b"\n") for line in plain.splitlines())
    out = read(data, rel_path="a.jsonl.zst")
    assert len(out) == 30 and not dead(out)


def test_truncated_zstd():
    plain = _text_lines(100)
    cobj = zstandard.ZstdCompressor().compressobj()
    lines = plain.splitlines(keepends=True)
    packed = (
        b"".join(cobj.compress(b"".join(lines[i : i + 10])) + cobj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK) for i in range(0, 100, 10)) + cobj.flush()
    )
    assert zstandard.ZstdDecompressor().decompressobj().decompress(packed) == plain
    cut = packed[: len(packed) // 2]
    recovered = zstandard.ZstdDecompressor().decompressobj().decompress(cut)
    n_full = recovered.count(b"\n")
    assert 0 < n_full < 100
    out = read(cut, rel_path="a.jsonl.zst")
    assert len(out) == n_full + 1
    assert len(docs(out)) == n_full
    assert out[-1].reason == "truncated_stream"
    assert out[-1].location == f"a.jsonl.zst:{n_full + 1}"
    assert out[-1].detail == f"zstd stream ended before the end of its frame; records before line {n_full + 1} were read"


def test_corrupt_zstd():
    out = read(b"definitely not zstd", rel_path="a.jsonl.zst")
    assert kinds(out) == [("dead", "corrupt_stream", "a.jsonl.zst:1")]
    assert out[0].detail.startswith("zstd: ")


# ---------------------------------------------------------------- Parquet


def test_parquet_good_and_bad_rows():
    table = pa.table(
        {
            "text": ["alpha", None, "   ", "delta"],
            "id": ["i0", None, "i2", None],
            "source": [None, "books", None, "wiki"],
            "url": ["http://a", None, None, ""],
            "ignored": [1, 2, 3, 4],
        }
    )
    out = read(parquet_bytes(table), rel_path="p/x.parquet")
    assert kinds(out) == [
        ("doc", "alpha"),
        ("dead", "null_text", "p/x.parquet#row=1"),
        ("dead", "empty_text", "p/x.parquet#row=2"),
        ("doc", "delta"),
    ]
    a, nul, _, d = out
    assert (a.id, a.source, a.url, dict(a.metadata)) == ("i0", "web", "http://a", {"location": "p/x.parquet#row=0"})
    assert (d.id, d.source, d.url) == (blake("p/x.parquet:3"), "wiki", "p/x.parquet#row=3")
    assert nul.source == "books"  # the row's own label, though its text is null
    assert (a.record_id, d.record_id) == ("i0", None)
    assert nul.raw_excerpt == repr({"id": None, "source": "books", "text": None, "url": None})


def test_parquet_non_string_text_column():
    out = read(parquet_bytes(pa.table({"text": pa.array([1, 2], pa.int64())})), rel_path="x.pq")
    assert kinds(out) == [("dead", "text_not_string", "x.pq#row=0"), ("dead", "text_not_string", "x.pq#row=1")]
    assert out[0].detail == "field 'text' is int"


def test_parquet_without_the_text_column():
    out = read(parquet_bytes(pa.table({"other": [1, 2]})), rel_path="x.parquet")
    assert kinds(out) == [("dead", "missing_text", "x.parquet#row=0"), ("dead", "missing_text", "x.parquet#row=1")]


def test_parquet_text_over_max_record_bytes():
    table = pa.table({"text": ["short", "é" * 30]})  # 60 bytes, 30 characters
    out = read(parquet_bytes(table), rel_path="x.parquet", cfg=ReadConfig(max_record_bytes=40))
    assert kinds(out) == [("doc", "short"), ("dead", "record_too_large", "x.parquet#row=1")]
    assert out[1].detail == "text > read.max_record_bytes=40"
    exact = pa.table({"text": ["é" * 20, "\U0001f600" * 10, "\U0001f600" * 11, "a" * 41]})  # 40, 40, 44, 41 bytes
    out = read(parquet_bytes(exact), rel_path="x.parquet", cfg=ReadConfig(max_record_bytes=40))
    assert kinds(out) == [
        ("doc", "é" * 20),
        ("doc", "\U0001f600" * 10),
        ("dead", "record_too_large", "x.parquet#row=2"),
        ("dead", "record_too_large", "x.parquet#row=3"),
    ]


def test_parquet_many_rows_spanning_batches():
    n = 2500
    out = read(parquet_bytes(pa.table({"text": [f"doc {i}" for i in range(n)]})), rel_path="x.parquet")
    assert len(out) == n
    assert out[-1].url == f"x.parquet#row={n - 1}"
    assert out[-1].text == f"doc {n - 1}"


@pytest.mark.parametrize("data", [b"", b"not a parquet file at all", b"PAR1garbagePAR1"])
def test_not_parquet_is_unreadable_file(data):
    out = read(data, rel_path="x.parquet")
    assert kinds(out) == [("dead", "unreadable_file", "x.parquet")]
    assert out[0].detail.startswith("not a readable Parquet file: ")
    assert out[0].raw_excerpt == ""


def test_cut_parquet_is_unreadable_file():
    data = parquet_bytes(pa.table({"text": ["a", "b"]}))
    out = read(data[: len(data) // 2], rel_path="x.parquet")
    assert kinds(out) == [("dead", "unreadable_file", "x.parquet")]


def test_parquet_custom_field_names():
    cfg = ReadConfig(text_field="content", id_field="doc_id", source_field="src", url_field="link", carry_fields=["lic", "n"])
    table = pa.table(
        {
            "content": ["hello", "world"],
            "doc_id": ["D1", None],
            "src": ["books", None],
            "link": ["http://x", None],
            "lic": ["cc-by", None],
            "n": [3, 4],
            "text": ["not me", "not me"],
        }
    )
    out = read(parquet_bytes(table), rel_path="x.parquet", cfg=cfg)
    assert [(d.id, d.text, d.source, d.url, dict(d.metadata)) for d in out] == [
        ("D1", "hello", "books", "http://x", {"location": "x.parquet#row=0", "lic": "cc-by", "n": "3"}),
        (blake("x.parquet:1"), "world", "web", "x.parquet#row=1", {"location": "x.parquet#row=1", "n": "4"}),
    ]


def test_jsonl_custom_field_names():
    cfg = ReadConfig(text_field="content", id_field="doc_id", source_field="src", url_field="link")
    out = read(jl({"content": "c", "doc_id": "D", "src": "code", "link": "u", "text": "no"}, {"text": "t"}), cfg=cfg)
    assert (out[0].id, out[0].text, out[0].source, out[0].url) == ("D", "c", "code", "u")
    assert (out[1].reason, out[1].detail) == ("missing_text", "no field 'content'")


# ---------------------------------------------------------------- plain text files


def test_text_file_is_one_document():
    out = read("Hello\nwörld\n".encode(), rel_path="books/b.txt")
    (d,) = out
    assert d.text == "Hello\nwörld\n"
    assert d.id == blake("books/b.txt") == make_doc_id("books/b.txt", None)
    assert d.url == "books/b.txt"
    assert dict(d.metadata) == {"location": "books/b.txt"}
    assert d.source == "web"


def test_text_file_compressed_and_other_extensions():
    assert read(gzip.compress(b"abc"), rel_path="b.txt.gz")[0].text == "abc"
    assert read(zstandard.ZstdCompressor().compress(b"abc"), rel_path="b.md.zst")[0].text == "abc"
    assert read(b"abc", rel_path="b.TEXT")[0].text == "abc"


def test_text_file_undecodable():
    out = read(b"ok \xff\xfe bad", rel_path="b.txt")
    assert kinds(out) == [("dead", "undecodable_bytes", "b.txt")]
    assert out[0].detail == "not UTF-8 at byte 3"
    assert out[0].raw_excerpt == "ok \\xff\\xfe bad"


@pytest.mark.parametrize("data", [b"", b" \n\t\n"])
def test_text_file_empty(data):
    out = read(data, rel_path="b.txt")
    assert kinds(out) == [("dead", "empty_text", "b.txt")]


def test_text_file_oversize(monkeypatch):
    cfg = ReadConfig(max_record_bytes=100, excerpt_bytes=8)
    out = read(b"a" * 101, rel_path="b.txt", cfg=cfg)
    assert kinds(out) == [("dead", "record_too_large", "b.txt")]
    assert out[0].detail == "file > read.max_record_bytes=100"
    assert out[0].raw_excerpt == "a" * 8
    assert kinds(read(b"a" * 100, rel_path="b.txt", cfg=cfg)) == [("doc", "a" * 100)]
    monkeypatch.setattr(decompress, "READ_SIZE", 16)
    out = read(b"0123456789" * 20, rel_path="b.txt", cfg=cfg)
    assert kinds(out) == [("dead", "record_too_large", "b.txt")]
    assert out[0].raw_excerpt == "01234567"


def test_text_file_truncated_gzip():
    out = read(gzip.compress(b"some text " * 100)[:-10], rel_path="b.txt.gz")
    assert kinds(out) == [("dead", "truncated_stream", "b.txt.gz")]


# ---------------------------------------------------------------- formats


@pytest.mark.parametrize("rel_path", ["a.csv", "a.gz", "noext", "a.jsonl.bz2"])
def test_unknown_format(rel_path):
    out = read(jl({"text": "a"}), rel_path=rel_path)
    assert kinds(out) == [("dead", "unknown_format", rel_path)]
    assert out[0].detail == "no reader for this file extension"
    assert out[0].raw_excerpt == ""
    assert out[0].source == "web"


@pytest.mark.parametrize("rel_path", ["a.json", "a.NDJSON", "a.jsonl.gzip", "a.JSONL.GZ", "a.jsonl.zstd"])
def test_jsonl_extensions(rel_path):
    data = jl({"text": "a"})
    if rel_path.lower().endswith(("gz", "gzip")):
        data = gzip.compress(data)
    elif rel_path.endswith("zstd"):
        data = zstandard.ZstdCompressor().compress(data)
    assert kinds(read(data, rel_path=rel_path)) == [("doc", "a")]


def test_format_override():
    assert kinds(read(jl({"text": "a"}), rel_path="a.txt", cfg=ReadConfig(format="jsonl"))) == [("doc", "a")]
    assert kinds(read(jl({"text": "a"}), rel_path="a.jsonl", cfg=ReadConfig(format="text"))) == [("doc", '{"text": "a"}\n')]


# ---------------------------------------------------------------- source labels


def test_source_from_record_field_wins():
    cfg = ReadConfig(source_by_path={"*": "books"})
    out = read(jl({"text": "a", "source": "wiki"}, {"text": "b", "source": ""}, {"text": "c", "source": 3}), cfg=cfg)
    assert [d.source for d in out] == ["wiki", "books", "books"]


def test_source_from_path_globs_first_match_wins():
    cfg = ReadConfig(source_by_path={"wiki/*": "wiki", "*/books/*": "books", "*": "other"}, default_source="dflt")
    assert read(jl({"text": "a"}), rel_path="wiki/x.jsonl", cfg=cfg)[0].source == "wiki"
    assert read(jl({"text": "a"}), rel_path="en/books/x.jsonl", cfg=cfg)[0].source == "books"
    assert read(jl({"text": "a"}), rel_path="web/x.jsonl", cfg=cfg)[0].source == "other"
    cfg2 = ReadConfig(source_by_path={"*": "other", "wiki/*": "wiki"})
    assert read(jl({"text": "a"}), rel_path="wiki/x.jsonl", cfg=cfg2)[0].source == "other"


def test_source_from_path_matches_the_full_path_not_the_one_relative_to_the_other_inputs():
    # --input in/zst_nosrc/books/ alone: the path relative to the inputs' common folder is just
    # the file name, and the README's rule must still match.
    cfg = ReadConfig(source_by_path={"*/books/*": "books", "*/txt/*": "curated"})
    assert read(jl({"text": "a"}), rel_path="part1.jsonl", path="/w/in/zst_nosrc/books/part1.jsonl", cfg=cfg)[0].source == "books"
    assert read(b"hello", rel_path="a.txt", path="/w/in/txt/a.txt", cfg=cfg)[0].source == "curated"
    assert read(jl({"text": "a"}), rel_path="x.jsonl", path="gs://bucket/books/x.jsonl", cfg=cfg)[0].source == "books"
    assert read(jl({"text": "a"}), rel_path="x.jsonl", path="/w/bookshelf/x.jsonl", cfg=cfg)[0].source == "web"


@pytest.mark.parametrize(
    "pattern, path, matches",
    [
        ("data/books/*", "/home/me/data/books/a.jsonl", True),  # relative: starts at any folder
        ("data/books/*", "/home/me/olddata/books/a.jsonl", False),  # ...but at a folder boundary
        ("/home/me/data/*", "/home/me/data/books/a.jsonl", True),  # "*" crosses "/"
        ("/data/*", "/home/me/data/a.jsonl", False),  # anchored at the root
        ("gs://b/books/*", "gs://b/books/a.jsonl", True),
        ("*.parquet", "/x/y.parquet", True),
        ("*/Books/*", "/x/books/a.jsonl", False),  # case matters on every filesystem alike
    ],
)
def test_path_rule_semantics(pattern, path, matches):
    assert path_matches(path, pattern) is matches


def test_source_default_and_on_dead_letters():
    cfg = ReadConfig(source_by_path={"wiki/*": "wiki"}, default_source="dflt")
    assert read(jl({"text": "a"}), rel_path="web/x.jsonl", cfg=cfg)[0].source == "dflt"
    assert read(b"bad\n", rel_path="wiki/x.jsonl", cfg=cfg)[0].source == "wiki"
    assert read(b"bad\n", rel_path="web/x.jsonl", cfg=cfg)[0].source == "dflt"
    # a record's own source field labels its dead letter, as it would have labelled its document
    assert read(jl({"text": None, "source": "code"}), rel_path="web/x.jsonl", cfg=cfg)[0].source == "code"
    books = parquet_bytes(pa.table({"text": pa.array([None, "ok"], pa.string()), "source": ["books", "books"]}))
    assert [r.source for r in read(books, rel_path="web/x.parquet", cfg=cfg)] == ["books", "books"]


# ---------------------------------------------------------------- ids, urls and metadata


def test_ids_are_stable_and_come_from_the_location():
    data = jl({"text": "same"}, {"text": "same"})
    a = read(data, rel_path="d/x.jsonl")
    b = read(data, rel_path="d/x.jsonl")
    assert a == b
    assert a[0].id == blake("d/x.jsonl:1") and a[1].id == blake("d/x.jsonl:2")
    assert a[0].id != a[1].id
    assert len(a[0].id) == 24
    other = read(data, rel_path="d/y.jsonl")
    assert other[0].id != a[0].id
    # the id depends on rel_path, not on where the file was opened from
    assert read(data, rel_path="d/x.jsonl", path="/elsewhere/x.jsonl")[0].id == a[0].id


def test_records_own_id_is_used():
    out = read(
        jl(
            {"text": "a", "id": "own-1"},
            {"text": "b", "id": 17},
            {"text": "c", "id": ""},
            {"text": "d", "id": True},
            {"text": "e", "id": None},
            {"text": "f", "id": [1]},
        )
    )
    assert [d.id for d in out] == ["own-1", "17", blake("in/a.jsonl:3"), blake("in/a.jsonl:4"), blake("in/a.jsonl:5"), blake("in/a.jsonl:6")]


def test_url_from_record_else_location():
    out = read(jl({"text": "a", "url": "https://e.x/1"}, {"text": "b", "url": ""}, {"text": "c", "url": 5}))
    assert [d.url for d in out] == ["https://e.x/1", "in/a.jsonl:2", "in/a.jsonl:3"]


def test_carry_fields_go_into_metadata():
    cfg = ReadConfig(carry_fields=["license", "meta", "n", "absent", "nul", "empty"])
    out = read(
        jl({"text": "a", "license": "cc-by", "meta": {"b": 1, "a": [2, "x"]}, "n": 1.5, "nul": None, "empty": "", "other": "x"}),
        cfg=cfg,
    )
    assert out[0].metadata == {
        "location": "in/a.jsonl:1",
        "license": "cc-by",
        "meta": '{"a": [2, "x"], "b": 1}',
        "n": "1.5",
        "empty": "",
    }
    assert "other" not in out[0].metadata
    assert (out[0].lang, out[0].lang_score, dict(out[0].scores)) == (None, None, {})


def test_parquet_string_column_with_bytes_that_are_not_utf8():
    # Parquet writers need not validate UTF-8: one bad row must not fail the file.
    text = pa.array([b"good 0", b"bad \xff", b"good 2"] + [b"x"] * 1100, pa.binary()).view(pa.string())
    ids = pa.array([b"i0", b"i1", b"\xfei2"] + [b"i"] * 1100, pa.binary()).view(pa.string())
    out = read(parquet_bytes(pa.table({"text": text, "id": ids})), rel_path="x.parquet")
    assert len(out) == 1103
    assert kinds(out)[:4] == [
        ("doc", "good 0"),
        ("dead", "undecodable_bytes", "x.parquet#row=1"),
        ("dead", "undecodable_bytes", "x.parquet#row=2"),
        ("doc", "x"),
    ]
    assert out[1].detail == "a string column is not UTF-8 at byte 4"
    assert out[2].detail == "a string column is not UTF-8 at byte 0"
    assert out[-1].url == "x.parquet#row=1102"
    assert len(docs(out)) == 1101


def test_zero_padding_after_gzip_members_is_skipped():
    body = gzip.compress(b'{"text": "one"}\n', mtime=0) + b"\0" * 300 + gzip.compress(b'{"text": "two"}\n', mtime=0) + b"\0" * 70
    out = list(read_file(io.BytesIO(body), InputFile(path="p.jsonl.gz", rel_path="p.jsonl.gz"), ReadConfig()))
    assert all(isinstance(r, Document) for r in out) and [r.text for r in out] == ["one", "two"]


def test_utf8_bom_on_the_first_line_is_not_content():
    raw = io.BytesIO(b'\xef\xbb\xbf{"text": "one"}\n{"text": "two"}\n')
    out = list(read_file(raw, InputFile(path="b.jsonl", rel_path="b.jsonl"), ReadConfig()))
    assert [r.text for r in out] == ["one", "two"]
