"""The run's configuration: frozen, keyword-only dataclasses validated when they are built.

One YAML file (pipeline/configs/default.yaml holds every default, with its source) sets every
stage. Loading is strict: an unknown key, a value of the wrong type or out of range raises
ConfigError with the dotted key path, so a typo stops the run before any work instead of being
silently ignored.

Each stage family declares its own sections' dataclasses, beside the code they configure (e.g.
MinHashConfig in pipeline.text.dedup.minhash), and names them in its registry entry
(StageSpec.sections). PipelineConfig is assembled here from those declarations, in
registry order, between the sections of the run itself (seed, read; mixture, tokenizer,
output), which this module declares; so is a group of stage sections such as `dedup`, whose own
keys (methods, scope) are here and whose members come from the registry. tests/test_registry.py
checks default.yaml against the result.
"""

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from pipeline.settings import ConfigError, check
from pipeline.stages import registry  # plain data: the stage names config lists may use, and the sections
from pipeline.stages.spec import resolve


@dataclass(frozen=True, kw_only=True)
class WarcConfig:
    """WARC/WET input (pipeline.io.warc): which responses become documents."""

    html_types: list[str] = field(default_factory=lambda: ["text/html", "application/xhtml+xml"])
    # Common Crawl cuts payloads at 1 MiB; a record above this (decompressed) is rejected unread.
    max_record_bytes: int = 10_000_000
    excerpt_bytes: int = 200  # how much of a broken record the dead letter keeps

    def __post_init__(self):
        check(self.max_record_bytes >= 1, "read.warc.max_record_bytes", "must be >= 1")
        check(0 <= self.excerpt_bytes <= 65536, "read.warc.excerpt_bytes", "must be in [0, 65536]")
        check(
            bool(self.html_types) and all("/" in t for t in self.html_types),
            "read.warc.html_types",
            "must be a non-empty list of MIME types like text/html",
        )


@dataclass(frozen=True, kw_only=True)
class ReadConfig:
    format: Literal["auto", "jsonl", "parquet", "text", "warc"] = "auto"  # auto: by file extension
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
    # Uncompressed JSONL files larger than this are read as line-aligned byte ranges, Parquet
    # files as runs of row groups of about this size, by several workers. (gzip and zstd streams
    # cannot be entered in the middle: such a file is read by one worker, whatever its size.)
    split_bytes: int = 64 * 2**20
    warc: WarcConfig = field(default_factory=WarcConfig)

    def __post_init__(self):
        check(self.max_record_bytes >= 1, "read.max_record_bytes", "must be >= 1")
        check(self.split_bytes >= 1024, "read.split_bytes", "must be >= 1024")
        check(0 <= self.excerpt_bytes <= 65536, "read.excerpt_bytes", "must be in [0, 65536]")
        for key in ("text_field", "source_field", "default_source"):
            check(bool(getattr(self, key)), f"read.{key}", "must not be empty")


DEDUP_METHODS = registry.selectable("dedup.methods")


@dataclass(frozen=True, kw_only=True)
class _DedupKeys:
    """The dedup section's own keys; its members (dedup.exact, dedup.minhash, ...) are the
    sections the dedup methods declare in the registry (DedupConfig, assembled below)."""

    # Run in this order; each sees what the previous left. Empty: no deduplication.
    methods: list[str] = field(default_factory=lambda: ["exact", "paragraphs", "minhash"])
    scope: Literal["global", "source"] = "global"  # "source": duplicates only within one source

    def __post_init__(self):
        for i, method in enumerate(self.methods):
            check(method in DEDUP_METHODS, f"dedup.methods[{i}]", f"unknown method {method!r} (known: {', '.join(DEDUP_METHODS)})")
        check(len(set(self.methods)) == len(self.methods), "dedup.methods", "a method is listed twice")


@dataclass(frozen=True, kw_only=True)
class MixtureConfig:
    """Target shares of the shards per source. Sources with more than their share are
    down-sampled; sources with less are repeated, at most max_epochs times (Muennighoff et al.
    2023: up to ~4 epochs of repeated data are about as good as new data)."""

    # The common pretraining mix; any source names may be used, the shares must sum to 1.
    shares: dict[str, float] = field(
        default_factory=lambda: {"web": 0.60, "books": 0.08, "academic": 0.05, "code": 0.10, "wiki": 0.03, "curated": 0.14}
    )
    unit: Literal["tokens", "bytes"] = "tokens"  # what the shares count (bytes: UTF-8 of the text)
    max_epochs: float = 4.0
    max_epochs_by_source: dict[str, float] = field(default_factory=dict)  # overrides per source
    # Units in all the shards; null: the largest total the epoch caps allow.
    target_total: int | None = None

    def __post_init__(self):
        key = "mixture"
        check(bool(self.shares), f"{key}.shares", "must name at least one source")
        for source, share in self.shares.items():
            check(0.0 <= share <= 1.0, f"{key}.shares.{source}", f"must be in [0, 1], got {share}")
        total = sum(self.shares.values())
        check(abs(total - 1.0) <= 1e-6, f"{key}.shares", f"must sum to 1, got {total:.6g}")
        check(self.max_epochs > 0, f"{key}.max_epochs", f"must be > 0, got {self.max_epochs}")
        for source, epochs in self.max_epochs_by_source.items():
            check(epochs > 0, f"{key}.max_epochs_by_source.{source}", f"must be > 0, got {epochs}")
        check(self.target_total is None or self.target_total >= 1, f"{key}.target_total", "must be >= 1")

    def epochs_for(self, source: str) -> float:
        return self.max_epochs_by_source.get(source, self.max_epochs)


@dataclass(frozen=True, kw_only=True)
class TokenizerConfig:
    # A tokenizer.json (GPT-2, Llama-3, ...; local or any Beam filesystem path). Empty: train a
    # byte-level BPE on a sample of this run's documents, drawn by id hash in the mixture's shares.
    path: str = ""
    vocab_size: int = 32_000
    special_tokens: list[str] = field(default_factory=lambda: ["<|endoftext|>"])
    end_of_document: str = "<|endoftext|>"  # appended to every document
    train_bytes: int = 200_000_000  # the training sample's size (one worker trains on it)
    min_frequency: int = 2
    chunk_chars: int = 32_768  # longer documents are cut, where ids cannot change, before encoding
    batch_size: int = 256  # documents per encode_batch call

    def __post_init__(self):
        key = "tokenizer"
        check(300 <= self.vocab_size <= 2**32, f"{key}.vocab_size", "must be in [300, 2^32]")
        check(self.end_of_document in self.special_tokens or bool(self.path), f"{key}.end_of_document", "must be one of tokenizer.special_tokens")
        check(self.train_bytes >= 2**16, f"{key}.train_bytes", "must be >= 65536")
        check(self.min_frequency >= 1, f"{key}.min_frequency", "must be >= 1")
        check(self.chunk_chars >= 256, f"{key}.chunk_chars", "must be >= 256")
        check(1 <= self.batch_size <= 100_000, f"{key}.batch_size", "must be in [1, 100000]")


@dataclass(frozen=True, kw_only=True)
class OutputConfig:
    write_documents: bool = True  # kept documents as Parquet under documents/
    rejected_text: bool = True  # keep each rejected document's text in rejections/
    # Uncompressed bytes per Parquet file (about 1/3 of that on disk); a folder of N bytes gets
    # ceil(N / shard_bytes) files. One file's rows are sorted in one worker's memory.
    shard_bytes: int = 256 * 2**20
    write_tokens: bool = True  # mixture, tokenization and token shards + manifest.json under tokens/
    # Tokens per Arrow shard (about: rows go to shards by hash). One shard is sorted in memory by
    # one worker: 2^26 uint16 tokens are 128 MiB.
    tokens_per_shard: int = 2**26

    def __post_init__(self):
        check(2**10 <= self.shard_bytes <= 2**34, "output.shard_bytes", "must be in [1 KiB, 16 GiB]")
        check(2**10 <= self.tokens_per_shard <= 2**32, "output.tokens_per_shard", "must be in [1024, 2^32]")


def _declared(group: str, groups: dict[str, type]) -> list[tuple[str, type, Any]]:
    """The fields for the stage sections the registry declares directly under `group` ("": the
    top level), in registry order: (key, dataclass, its default). At the top level a group of
    sections (dedup) stands where its first member is declared."""
    out: list[tuple[str, type, Any]] = []
    for path, ref in registry.config_sections():
        parent, _, key = path.rpartition(".")
        if parent == group:
            cls = resolve(ref)
        elif not group and "." in path:
            key = path.split(".")[0]
            if key not in groups:
                raise TypeError(f"the registry declares config section {path}, but pipeline.config has no group {key!r}")
            cls = groups[key]
        else:
            continue
        if key not in (name for name, _, _ in out):
            out.append((key, cls, field(default_factory=cls)))
    return out


def _assemble(name: str, own: type | None, group: str, groups: dict[str, type], before=(), after=(), doc: str = "", **methods) -> type:
    """A frozen, keyword-only dataclass `name` in this module: `own`'s keys (its base) or `before`,
    then the stage sections declared under `group`, then `after`."""
    fields = [*before, *_declared(group, groups), *after]
    namespace = {"__doc__": doc, **methods}
    bases = (own,) if own is not None else ()
    cls = dataclasses.make_dataclass(name, fields, bases=bases, namespace=namespace, frozen=True, kw_only=True)
    cls.__module__ = __name__  # so that pickle finds it here (make_dataclass takes `module` only from Python 3.12)
    return cls


DedupConfig = _assemble("DedupConfig", _DedupKeys, "dedup", {}, doc=_DedupKeys.__doc__)


def _to_dict(self) -> dict[str, Any]:
    return dataclasses.asdict(self)


PipelineConfig = _assemble(
    "PipelineConfig",
    None,
    "",
    {"dedup": DedupConfig},
    before=[
        ("seed", int, field(default=0)),  # everything random is a function of (seed, document id)
        ("read", ReadConfig, field(default_factory=ReadConfig)),
    ],
    after=[
        ("mixture", MixtureConfig, field(default_factory=MixtureConfig)),
        ("tokenizer", TokenizerConfig, field(default_factory=TokenizerConfig)),
        ("output", OutputConfig, field(default_factory=OutputConfig)),
    ],
    doc="The whole run's configuration: the run's own sections and every stage's, in pipeline order.",
    to_dict=_to_dict,
)


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
        check(value in typing.get_args(tp), key, f"must be one of {list(typing.get_args(tp))}, got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else _coerce(args[0], value, key)
    if origin is list:
        check(isinstance(value, list), key, f"expected a list, got {type(value).__name__}")
        (item,) = typing.get_args(tp)
        return [_coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        check(isinstance(value, dict), key, f"expected a mapping, got {type(value).__name__}")
        k_tp, v_tp = typing.get_args(tp)
        return {_coerce(k_tp, k, key): _coerce(v_tp, v, f"{key}.{k}") for k, v in value.items()}
    if tp is bool:
        check(isinstance(value, bool), key, f"expected true or false, got {value!r}")
        return value
    if tp is int:
        check(isinstance(value, int) and not isinstance(value, bool), key, f"expected an integer, got {value!r}")
        return value
    if tp is float:
        check(isinstance(value, (int, float)) and not isinstance(value, bool), key, f"expected a number, got {value!r}")
        return float(value)
    if tp is str:
        check(isinstance(value, str), key, f"expected a string, got {value!r}")
        return value
    raise TypeError(f"config field {key} has unsupported type {tp}")  # a bug in this module, not user input
