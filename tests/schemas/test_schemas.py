"""Token shards, the manifest and the Arrow record schemas."""

import hashlib
import io
import json

import numpy as np
import pyarrow as pa
import pytest

from pipeline.records import DeadLetter, Document, Reason, Rejection
from schemas import (
    DEAD_LETTER_SCHEMA,
    DOCUMENT_SCHEMA,
    MANIFEST_SCHEMA_VERSION,
    RECORDS_SCHEMA_VERSION,
    REJECTION_SCHEMA,
    TOKEN_SHARD_SCHEMA_VERSION,
    Manifest,
    ManifestError,
    ShardInfo,
    ShardRow,
    SourceMixture,
    TokenizerInfo,
    config_sha256,
    read_token_shard,
    token_dtype,
    token_shard_schema,
    write_token_shard,
)

# ---------------------------------------------------------------- token shards

ROWS = [
    ShardRow(doc_id="d0", source="web", tokens=[1, 2, 3, 0]),
    ShardRow(doc_id="d1", source="books", tokens=[0]),
    ShardRow(doc_id="d2", source="web", tokens=[7, 8, 0], copy=1),
]


def _write(tmp_path, rows, vocab_size, name="shard.arrow"):
    path = tmp_path / name
    with open(path, "wb") as f:
        written = write_token_shard(f, rows, vocab_size)
    return path, written


@pytest.mark.parametrize("vocab_size, dtype", [(1, np.uint16), (50_000, np.uint16), (65_536, np.uint16), (65_537, np.uint32), (200_000, np.uint32)])
def test_token_dtype(vocab_size, dtype):
    assert token_dtype(vocab_size) == np.dtype(dtype)


@pytest.mark.parametrize("vocab_size", [0, -1])
def test_token_dtype_rejects_non_positive(vocab_size):
    with pytest.raises(ValueError, match="vocab_size must be positive"):
        token_dtype(vocab_size)


@pytest.mark.parametrize("vocab_size, arrow_type", [(65_536, pa.uint16()), (65_537, pa.uint32())])
def test_shard_round_trip(tmp_path, vocab_size, arrow_type):
    rows = ROWS + [ShardRow(doc_id="big", source="code", tokens=[vocab_size - 1, 0])]
    path, written = _write(tmp_path, rows, vocab_size)
    assert written.rows == 4
    assert written.tokens == 4 + 1 + 3 + 2
    assert written.tokens_by_source == {"web": 7, "books": 1, "code": 2}
    assert written.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()

    table = read_token_shard(str(path))
    assert table.schema == token_shard_schema(vocab_size)
    assert table.schema.field("tokens").type.value_type == arrow_type
    assert table.schema.metadata[b"vocab_size"] == str(vocab_size).encode()
    assert table.schema.metadata[b"schema_version"] == str(TOKEN_SHARD_SCHEMA_VERSION).encode()
    assert table.column("doc_id").to_pylist() == ["d0", "d1", "d2", "big"]
    assert table.column("source").to_pylist() == ["web", "books", "web", "code"]
    assert table.column("copy").to_pylist() == [0, 0, 1, 0]
    assert table.column("tokens").to_pylist() == [[1, 2, 3, 0], [0], [7, 8, 0], [vocab_size - 1, 0]]
    flat = table.column("tokens").combine_chunks().values.to_numpy()
    assert flat.dtype == token_dtype(vocab_size)
    assert flat.tolist() == [1, 2, 3, 0, 0, 7, 8, 0, vocab_size - 1, 0]


def test_shard_sha256_equals_hash_of_bytes_written_to_a_stream():
    buf = io.BytesIO()
    written = write_token_shard(buf, ROWS, 1000)
    assert written.sha256 == hashlib.sha256(buf.getvalue()).hexdigest()
    # the same rows written again give the same bytes
    buf2 = io.BytesIO()
    assert write_token_shard(buf2, ROWS, 1000).sha256 == written.sha256
    assert buf2.getvalue() == buf.getvalue()


def test_shard_empty_rows_and_empty_token_lists(tmp_path):
    path, written = _write(tmp_path, [], 100)
    assert (written.rows, written.tokens, written.tokens_by_source) == (0, 0, {})
    assert read_token_shard(str(path)).num_rows == 0
    path, written = _write(tmp_path, [ShardRow(doc_id="e", source="s", tokens=[])], 100, "b.arrow")
    assert (written.rows, written.tokens, written.tokens_by_source) == (1, 0, {"s": 0})
    assert read_token_shard(str(path)).column("tokens").to_pylist() == [[]]


def test_shard_accepts_numpy_tokens(tmp_path):
    rows = [ShardRow(doc_id="n", source="s", tokens=np.array([5, 6, 0], dtype=np.int32))]
    path, _written = _write(tmp_path, rows, 10)
    assert read_token_shard(str(path)).column("tokens").to_pylist() == [[5, 6, 0]]


@pytest.mark.parametrize("tokens, vocab_size", [([0, 65_536], 65_536), ([-1], 100), ([100], 100), ([2**32], 70_000), ([70_000], 70_000)])
def test_shard_out_of_range_ids_raise(tokens, vocab_size):
    buf = io.BytesIO()
    with pytest.raises(ValueError, match=rf"token id out of range \[0, {vocab_size}\) in shard"):
        write_token_shard(buf, [ShardRow(doc_id="x", source="s", tokens=tokens)], vocab_size)
    assert buf.getvalue() == b""  # nothing half-written


def test_read_token_shard_rejects_other_schema_versions(tmp_path):
    table = pa.table({"doc_id": ["a"]}).replace_schema_metadata({b"schema_version": b"999"})
    path = tmp_path / "old.arrow"
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table)
    with pytest.raises(ValueError, match=r"token shard schema version b'999', expected 1"):
        read_token_shard(str(path))


# ---------------------------------------------------------------- manifest

CONFIG = {"seed": 1, "mixture": {"web": 0.7, "books": 0.3}}


def make_manifest(**overrides) -> Manifest:
    values = {
        "tokenizer": TokenizerInfo(
            file="tokenizer.json", sha256="ab" * 32, vocab_size=32_000, eod_id=0, token_dtype="uint16", special_tokens={"<eod>": 0}
        ),
        "shards": [
            ShardInfo(path="shards/0.arrow", rows=2, tokens=10, sha256="cd" * 32, tokens_by_source={"web": 7, "books": 3}),
            ShardInfo(path="shards/1.arrow", rows=1, tokens=5, sha256="ef" * 32),
        ],
        "mixture_unit": "tokens",
        "sources": {
            "web": SourceMixture(
                target_share=0.7, achieved_share=0.6667, available_tokens=100, rate=0.1, epochs=0.1, tokens_written=10, documents_written=2
            ),
            "books": SourceMixture(
                target_share=0.3, achieved_share=0.3333, available_tokens=2, rate=2.5, epochs=2.5, tokens_written=5, documents_written=1
            ),
        },
        "config": CONFIG,
        "config_sha256": config_sha256(CONFIG),
    }
    values.update(overrides)
    return Manifest(**values)


def test_manifest_round_trip():
    m = make_manifest()
    text = m.to_json()
    assert text.endswith("}\n")
    back = Manifest.from_json(text)
    assert back == m
    assert back.total_tokens == 15
    assert isinstance(back.tokenizer, TokenizerInfo)
    assert all(isinstance(s, ShardInfo) for s in back.shards)
    assert isinstance(back.sources["books"], SourceMixture)
    assert back.to_json() == text  # byte-stable
    raw = json.loads(text)
    assert raw["format"] == "corpus-token-manifest"
    assert raw["schema_version"] == MANIFEST_SCHEMA_VERSION == 1
    assert list(raw) == sorted(raw)


def test_config_sha256_is_key_order_independent():
    assert config_sha256({"a": 1, "b": {"c": 2, "d": 3}}) == config_sha256({"b": {"d": 3, "c": 2}, "a": 1})
    assert config_sha256({"a": 1}) != config_sha256({"a": 2})
    assert config_sha256({"a": 1}) == hashlib.sha256(b'{"a":1}').hexdigest()


def _edited(edit) -> str:
    raw = json.loads(make_manifest().to_json())
    edit(raw)
    return json.dumps(raw)


def _manifest_error(text: str) -> str:
    with pytest.raises(ManifestError) as e:
        Manifest.from_json(text)
    return str(e.value)


def test_manifest_rejects_invalid_json():
    assert _manifest_error("{not json").startswith("manifest is not valid JSON: ")


def test_manifest_rejects_wrong_format():
    assert _manifest_error(_edited(lambda r: r.update(format="something-else"))) == ("not a token manifest: format='something-else'")
    assert _manifest_error(_edited(lambda r: r.pop("format"))) == "not a token manifest: format=None"


def test_manifest_rejects_wrong_schema_version():
    assert _manifest_error(_edited(lambda r: r.update(schema_version=2))) == ("manifest schema_version 2; this code reads 1")
    assert _manifest_error(_edited(lambda r: r.update(schema_version="1"))) == ("manifest schema_version '1'; this code reads 1")


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda r: r.pop("tokenizer"), "manifest: missing field 'tokenizer'"),
        (lambda r: r.pop("config_sha256"), "manifest: missing field 'config_sha256'"),
        (lambda r: r["tokenizer"].pop("eod_id"), "manifest.tokenizer: missing field 'eod_id'"),
        (lambda r: r["shards"][1].pop("sha256"), "manifest.shards[1]: missing field 'sha256'"),
        (lambda r: r["sources"]["books"].pop("rate"), "manifest.sources.books: missing field 'rate'"),
    ],
)
def test_manifest_missing_field_is_named(edit, message):
    assert _manifest_error(_edited(edit)) == message


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda r: r.update(extra=1), "manifest: unknown field 'extra'"),
        (lambda r: r["tokenizer"].update(merges=1), "manifest.tokenizer: unknown field 'merges'"),
        (lambda r: r["shards"][0].update(bytes=1), "manifest.shards[0]: unknown field 'bytes'"),
        (lambda r: r["sources"]["web"].update(weight=1), "manifest.sources.web: unknown field 'weight'"),
    ],
)
def test_manifest_unknown_field_is_named(edit, message):
    assert _manifest_error(_edited(edit)) == message


def test_manifest_optional_fields_default():
    text = _edited(lambda r: (r["tokenizer"].pop("special_tokens"), r["shards"][0].pop("tokens_by_source")))
    m = Manifest.from_json(text)
    assert m.tokenizer.special_tokens == {}
    assert m.shards[0].tokens_by_source == {}


def test_manifest_rejects_mismatched_config_sha256():
    assert _manifest_error(_edited(lambda r: r.update(config_sha256="0" * 64))) == ("manifest config_sha256 does not match its config")
    assert _manifest_error(_edited(lambda r: r["config"].update(seed=2))) == ("manifest config_sha256 does not match its config")


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda r: r.update(shards={"a": 1}), "manifest.shards: expected a list"),
        (lambda r: r.update(sources=[1]), "manifest.sources: expected an object"),
        (lambda r: r.update(tokenizer=[]), "manifest.tokenizer: expected an object, got list"),
        (lambda r: r["shards"].__setitem__(0, 3), "manifest.shards[0]: expected an object, got int"),
    ],
)
def test_manifest_wrong_nested_shapes(edit, message):
    assert _manifest_error(_edited(edit)) == message


@pytest.mark.parametrize("text", ["[]", "3", '"manifest"', "null"])
def test_manifest_that_is_not_an_object(text):
    assert _manifest_error(text) == f"manifest: expected a JSON object, got {type(json.loads(text)).__name__}"


# ---------------------------------------------------------------- Arrow record schemas


@pytest.mark.parametrize("schema, kind", [(DOCUMENT_SCHEMA, b"document"), (REJECTION_SCHEMA, b"rejection"), (DEAD_LETTER_SCHEMA, b"dead_letter")])
def test_record_schemas_carry_their_version(schema, kind):
    assert schema.metadata == {b"schema": kind, b"schema_version": str(RECORDS_SCHEMA_VERSION).encode()}
    assert RECORDS_SCHEMA_VERSION == 2  # 2: score keys all "<stage id>:<signal>"


def test_document_row_builds_a_table():
    doc = Document(
        id="d1",
        text="hello",
        source="web",
        url="http://x",
        lang="en",
        lang_score=0.9,
        scores={"b.v1.x": 2.0, "a.v1.y": 1.0},
        metadata={"location": "a.jsonl:1", "lic": "cc"},
    )
    table = pa.Table.from_pylist([doc.to_row()], schema=DOCUMENT_SCHEMA)
    assert table.num_rows == 1
    assert table.schema == DOCUMENT_SCHEMA
    assert table.schema.metadata == DOCUMENT_SCHEMA.metadata
    row = table.to_pylist()[0]
    assert row == {
        "id": "d1",
        "text": "hello",
        "source": "web",
        "url": "http://x",
        "lang": "en",
        "lang_score": 0.9,
        "scores": [("a.v1.y", 1.0), ("b.v1.x", 2.0)],
        "metadata": [("lic", "cc"), ("location", "a.jsonl:1")],
        "record_id": None,
    }


def test_fresh_document_row_has_nulls_and_empty_maps():
    table = pa.Table.from_pylist([Document(id="d", text="t", source="s").to_row()], schema=DOCUMENT_SCHEMA)
    assert table.to_pylist() == [
        {"id": "d", "text": "t", "source": "s", "url": None, "lang": None, "lang_score": None, "scores": [], "metadata": [], "record_id": None}
    ]


class _R(Reason):
    TOO_SHORT = "too_short"


def test_rejection_row_builds_a_table():
    doc = Document(id="d", text="tx", source="books", lang="fr")
    for keep_text, text in ((True, "tx"), (False, None)):
        r = Rejection.of(doc, "quality.v1", _R.TOO_SHORT, "2 words", keep_text=keep_text)
        table = pa.Table.from_pylist([r.to_row()], schema=REJECTION_SCHEMA)
        assert table.schema == REJECTION_SCHEMA
        assert table.to_pylist() == [
            {
                "doc_id": "d",
                "source": "books",
                "lang": "fr",
                "stage": "quality.v1",
                "reason": "too_short",
                "detail": "2 words",
                "text": text,
                "url": None,
            }
        ]
    assert list(REJECTION_SCHEMA.names) == list(r.to_row())


def test_dead_letter_row_builds_a_table():
    dl = DeadLetter(location="a.jsonl:3", reason="invalid_json", detail="bad", raw_excerpt="{x", source=None)
    table = pa.Table.from_pylist([dl.to_row()], schema=DEAD_LETTER_SCHEMA)
    assert table.schema == DEAD_LETTER_SCHEMA
    assert table.to_pylist() == [{"location": "a.jsonl:3", "reason": "invalid_json", "detail": "bad", "raw_excerpt": "{x", "source": None}]
    assert list(DEAD_LETTER_SCHEMA.names) == list(dl.to_row())
    assert list(DOCUMENT_SCHEMA.names) == list(Document(id="d", text="t", source="s").to_row())
