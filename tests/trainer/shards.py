"""Small, deterministic token shards and a valid manifest for the trainer tests.

    manifest = write_test_shards(tmp_path)                     # uint16 ids, random tokens
    manifest = write_test_shards(tmp_path, identifiable=True)  # uint32 ids, each token names its row
    rows = read_rows(manifest)                                 # what was written, in shard order

Documents have random lengths: some are one token plus the end-of-document id, most are short,
some are longer than a typical test window. A fraction of the documents (``copies``) is written
again as copy 1 (and some as copy 2) with the same doc_id, as the pipeline's mixture
up-sampling does. Rows are shuffled across shards, so copies of a document land apart.

With ``identifiable=True`` the ids are wide (uint32) and every non-end-of-document token is
unique in the whole set: row ``r`` (its index in ``read_rows``) holds, at position ``p``, the id
``eod_id + 1 + r * stride + p``; ``token_rows(rows)`` maps ids back to rows. Copies then differ
in their tokens (unlike real data) so that a test can tell which copy a window came from.
"""

import hashlib
import json
import os
from dataclasses import dataclass

import numpy as np

from schemas.manifest import (
    Manifest,
    ShardInfo,
    SourceMixture,
    TokenizerInfo,
    config_sha256,
)
from schemas.reader import TokenData
from schemas.tokens import ShardRow, token_dtype, write_token_shard


@dataclass(frozen=True)
class Row:
    doc_id: str
    source: str
    copy: int
    tokens: np.ndarray  # ends with eod_id
    shard: int


def write_test_shards(
    out_dir,
    *,
    vocab_size: int = 300,
    eod_id: int = 0,
    docs: int = 160,
    rows_per_shard: int = 60,
    sources: tuple[str, ...] = ("web", "books"),
    seed: int = 0,
    copies: float = 0.2,
    max_doc_len: int = 300,
    identifiable: bool = False,
) -> str:
    """Writes shards, tokenizer.json and manifest.json into out_dir; returns the manifest's path."""
    out_dir = str(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    kind = rng.random(docs)
    lengths = np.where(
        kind < 0.1, 1, np.where(kind < 0.75, rng.integers(2, 41, docs), rng.integers(41, max_doc_len + 1, docs))
    )  # content tokens; the eod makes each row one longer
    doc_source = [sources[i] for i in rng.integers(0, len(sources), docs)]
    extra = np.where(rng.random(docs) < copies, 1 + (rng.random(docs) < 0.3), 0)
    plan = [(d, c) for d in range(docs) for c in range(1 + int(extra[d]))]
    stride = max_doc_len + 1
    if identifiable:
        vocab_size = max(vocab_size, eod_id + 1 + len(plan) * stride, 2**16 + 1)
    if not 0 <= eod_id < vocab_size:
        raise ValueError(f"eod_id {eod_id} outside the vocabulary of {vocab_size}")

    content: dict[int, np.ndarray] = {}
    rows: list[ShardRow] = []
    for serial, (d, c) in enumerate(plan):
        n = int(lengths[d])
        if identifiable:
            body = eod_id + 1 + serial * stride + np.arange(n, dtype=np.int64)
        else:
            if d not in content:
                drawn = rng.integers(0, vocab_size - 1, n)
                content[d] = drawn + (drawn >= eod_id)  # every id but the eod
            body = content[d]
        rows.append(ShardRow(doc_id=f"doc-{seed}-{d:06d}", source=doc_source[d], copy=c, tokens=np.append(body, eod_id)))
    rows = [rows[i] for i in rng.permutation(len(rows))]

    shard_infos = []
    for index, begin in enumerate(range(0, len(rows), rows_per_shard)):
        name = f"shard-{index:05d}.arrow"
        with open(os.path.join(out_dir, name), "wb") as sink:
            written = write_token_shard(sink, rows[begin : begin + rows_per_shard], vocab_size)
        shard_infos.append(
            ShardInfo(
                path=name,
                rows=written.rows,
                tokens=written.tokens,
                sha256=written.sha256,
                tokens_by_source=dict(sorted(written.tokens_by_source.items())),
            )
        )

    tokenizer = json.dumps({"placeholder": "test tokenizer", "vocab_size": vocab_size, "eod_id": eod_id}).encode()
    with open(os.path.join(out_dir, "tokenizer.json"), "wb") as f:
        f.write(tokenizer)

    total = sum(len(r.tokens) for r in rows)
    mixture = {}
    for name in sorted(set(sources)):
        mine = [r for r in rows if r.source == name]
        written_tokens = sum(len(r.tokens) for r in mine)
        available = sum(len(r.tokens) for r in mine if r.copy == 0)
        share = written_tokens / total if total else 0.0
        mixture[name] = SourceMixture(
            target_share=share,
            achieved_share=share,
            available_tokens=available,
            rate=written_tokens / available if available else 0.0,
            epochs=written_tokens / available if available else 0.0,
            tokens_written=written_tokens,
            documents_written=len(mine),
        )
    config = {"test_shards": {"docs": docs, "seed": seed, "copies": copies, "identifiable": identifiable}}
    manifest = Manifest(
        tokenizer=TokenizerInfo(
            file="tokenizer.json",
            sha256=hashlib.sha256(tokenizer).hexdigest(),
            vocab_size=vocab_size,
            eod_id=eod_id,
            token_dtype=token_dtype(vocab_size).name,
            special_tokens={"<|endoftext|>": eod_id},
        ),
        shards=shard_infos,
        mixture_unit="tokens",
        sources=mixture,
        config=config,
        config_sha256=config_sha256(config),
    )
    path = os.path.join(out_dir, "manifest.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(manifest.to_json())
    return path


def read_rows(manifest_path: str) -> list[Row]:
    """Every row of every shard, in shard order, tokens as int64 arrays."""
    data = TokenData(manifest_path)
    out = []
    for index in range(len(data.shards)):
        for r in data.open_shard(index).to_pylist():
            out.append(Row(r["doc_id"], r["source"], r["copy"], np.asarray(r["tokens"], dtype=np.int64), index))
    return out


def token_rows(rows: list[Row], vocab_size: int, eod_id: int = 0) -> np.ndarray:
    """For identifiable shards: an array mapping each id to the index in rows of the row that holds
    it (-1 for the eod and unused ids)."""
    owner = np.full(vocab_size, -1, dtype=np.int64)
    for i, row in enumerate(rows):
        body = row.tokens[:-1]
        if (owner[body] != -1).any():
            raise ValueError("these shards are not identifiable: a token id appears in two rows")
        owner[body] = i
    owner[eod_id] = -1
    return owner
