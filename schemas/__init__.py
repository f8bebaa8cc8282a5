"""Every column and file format the pipeline writes and the trainer reads, with its version."""

from schemas.manifest import (
    MANIFEST_SCHEMA_VERSION,
    Manifest,
    ManifestError,
    ShardInfo,
    SourceMixture,
    TokenizerInfo,
    config_sha256,
)
from schemas.records import (
    DEAD_LETTER_SCHEMA,
    DOCUMENT_SCHEMA,
    RECORDS_SCHEMA_VERSION,
    REJECTION_SCHEMA,
)
from schemas.tokens import (
    TOKEN_SHARD_SCHEMA_VERSION,
    ShardRow,
    WrittenShard,
    read_token_shard,
    token_dtype,
    token_shard_schema,
    write_token_shard,
)

__all__ = [
    "DEAD_LETTER_SCHEMA",
    "DOCUMENT_SCHEMA",
    "MANIFEST_SCHEMA_VERSION",
    "RECORDS_SCHEMA_VERSION",
    "REJECTION_SCHEMA",
    "TOKEN_SHARD_SCHEMA_VERSION",
    "Manifest",
    "ManifestError",
    "ShardInfo",
    "ShardRow",
    "SourceMixture",
    "TokenizerInfo",
    "WrittenShard",
    "config_sha256",
    "read_token_shard",
    "token_dtype",
    "token_shard_schema",
    "write_token_shard",
]
