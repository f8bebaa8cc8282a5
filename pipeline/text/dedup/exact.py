"""Exact deduplication's key (no Beam): a hash of the text after the normalisation its config asks for."""

import hashlib
from dataclasses import dataclass

from pipeline.text.dedup import minhash


@dataclass(frozen=True, kw_only=True)
class ExactDedupConfig:
    lowercase: bool = True  # the hash is of the text NFC-normalised, case-folded,
    strip_punctuation: bool = False  # optionally without punctuation, whitespace collapsed


def exact_key(text: str, cfg: ExactDedupConfig) -> str:
    norm = minhash.normalize(text, lowercase=cfg.lowercase, strip_punctuation=cfg.strip_punctuation)
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=16).hexdigest()
