"""manifest.json: what a run wrote, so a trainer can trust and stream it without the pipeline.

The manifest is the contract between the tokenizer stage and the trainer. It is plain JSON
(sorted keys, so identical runs write identical bytes) and is validated on load: a trainer
reading a manifest from another version, or a hand-edited one with a missing field, fails with
the field's name instead of mid-run.
"""

import hashlib
import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

MANIFEST_FORMAT = "corpus-token-manifest"
MANIFEST_SCHEMA_VERSION = 1


class ManifestError(ValueError):
    pass


@dataclass(frozen=True, kw_only=True)
class TokenizerInfo:
    file: str  # path relative to the manifest, e.g. "tokenizer.json"
    sha256: str
    vocab_size: int
    eod_id: int  # end-of-document token appended to every row
    token_dtype: str  # "uint16" or "uint32"
    special_tokens: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ShardInfo:
    path: str  # relative to the manifest
    rows: int
    tokens: int
    sha256: str
    tokens_by_source: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SourceMixture:
    target_share: float
    achieved_share: float
    available_tokens: int  # after filtering, before sampling
    rate: float  # expected copies per document (<1 down-samples, >1 repeats)
    epochs: float  # tokens written / available tokens
    tokens_written: int
    documents_written: int  # rows: a repeated document counts once per copy
    warning: str = ""  # why the target share was not reached, when it was not


@dataclass(frozen=True, kw_only=True)
class Manifest:
    tokenizer: TokenizerInfo
    shards: list[ShardInfo]
    mixture_unit: str  # "tokens" or "bytes"
    sources: dict[str, SourceMixture]
    config: dict[str, Any]
    config_sha256: str
    format: str = MANIFEST_FORMAT
    schema_version: int = MANIFEST_SCHEMA_VERSION

    @property
    def total_tokens(self) -> int:
        return sum(s.tokens for s in self.shards)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as e:
            raise ManifestError(f"manifest is not valid JSON: {e}") from None
        if not isinstance(raw, dict):
            raise ManifestError(f"manifest: expected a JSON object, got {type(raw).__name__}")
        if raw.get("format") != MANIFEST_FORMAT:
            raise ManifestError(f"not a token manifest: format={raw.get('format')!r}")
        if raw.get("schema_version") != MANIFEST_SCHEMA_VERSION:
            raise ManifestError(f"manifest schema_version {raw.get('schema_version')!r}; this code reads {MANIFEST_SCHEMA_VERSION}")
        manifest = _build(cls, raw, "manifest")
        validate_paths(manifest)
        if config_sha256(manifest.config) != manifest.config_sha256:
            raise ManifestError("manifest config_sha256 does not match its config")
        return manifest


def _check_relative(path: str, where: str) -> None:
    """Paths in a manifest are relative to its folder and stay inside it."""
    parts = path.replace("\\", "/").split("/")
    if not path or path.startswith("/") or "://" in path or ":" in parts[0] or any(p in ("", ".", "..") for p in parts):
        raise ManifestError(f"{where}: path {path!r} must be relative to the manifest's folder and stay inside it")


def validate_paths(manifest: "Manifest") -> None:
    _check_relative(manifest.tokenizer.file, "manifest.tokenizer.file")
    for i, shard in enumerate(manifest.shards):
        _check_relative(shard.path, f"manifest.shards[{i}].path")


def config_sha256(config: dict[str, Any]) -> str:
    """Hash of a config's canonical JSON: equal configs hash equal whatever their key order, and
    a config hashes the same before and after a trip through JSON (which turns int keys into
    strings, and so reorders them)."""
    canonical = json.dumps(json_config(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def json_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config as it reads back from JSON."""
    return json.loads(json.dumps(config))


_NESTED = {"tokenizer": TokenizerInfo, "shards": ShardInfo, "sources": SourceMixture}


def _build(cls, raw: Any, where: str):
    if not isinstance(raw, dict):
        raise ManifestError(f"{where}: expected an object, got {type(raw).__name__}")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ManifestError(f"{where}: unknown field {unknown[0]!r}")
    values = {}
    for f in fields(cls):
        if f.name not in raw:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ManifestError(f"{where}: missing field {f.name!r}")
            continue
        value = raw[f.name]
        nested = _NESTED.get(f.name) if cls is Manifest else None
        if nested is ShardInfo:
            if not isinstance(value, list):
                raise ManifestError(f"{where}.shards: expected a list")
            value = [_build(ShardInfo, v, f"{where}.shards[{i}]") for i, v in enumerate(value)]
        elif nested is SourceMixture:
            if not isinstance(value, dict):
                raise ManifestError(f"{where}.sources: expected an object")
            value = {k: _build(SourceMixture, v, f"{where}.sources.{k}") for k, v in value.items()}
        elif nested is TokenizerInfo:
            value = _build(TokenizerInfo, value, f"{where}.tokenizer")
        values[f.name] = value
    return cls(**values)
