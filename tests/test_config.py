"""Strict config loading: defaults, partial YAML, unknown keys, types and ranges."""

import dataclasses
from pathlib import Path

import pytest

import pipeline
from pipeline.config import ConfigError, OutputConfig, PipelineConfig, ReadConfig, load_config
from pipeline.text.langid import LanguageConfig

DEFAULT_YAML = Path(pipeline.__file__).parent / "configs" / "default.yaml"


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as e:
        load_config(text=text)
    return str(e.value)


def test_defaults_build():
    cfg = PipelineConfig()
    assert cfg.seed == 0
    assert cfg.read == ReadConfig()
    assert cfg.read.format == "auto"
    assert cfg.read.max_record_bytes == 10_000_000
    assert cfg.read.excerpt_bytes == 200
    assert cfg.read.source_by_path == {} and cfg.read.carry_fields == []
    assert cfg.language.threshold == 0.5
    assert cfg.language.thresholds == {"en": 0.65}
    assert cfg.language.keep == ["de", "en", "es", "fr", "it", "ja", "pt", "ru", "zh"]
    assert cfg.language.exempt_sources == ["code"]
    assert cfg.output == OutputConfig()
    assert cfg.to_dict()["read"]["text_field"] == "text"


@pytest.mark.parametrize("text", [None, "", "   \n", "# only a comment\n", "{}"])
def test_empty_config_is_the_defaults(text):
    assert load_config(text=text) == PipelineConfig()


def test_default_yaml_matches_the_dataclass_defaults():
    assert load_config(path=str(DEFAULT_YAML)) == PipelineConfig()
    assert load_config(text=DEFAULT_YAML.read_text()) == PipelineConfig()


def test_partial_yaml_keeps_other_defaults():
    cfg = load_config(
        text="""
seed: 7
read:
  text_field: content
  source_by_path: {"*/github/*": code, "wiki/*": wiki}
language:
  threshold: 1          # an int where a float is wanted is fine
  thresholds: {de: 0.7}
"""
    )
    assert cfg.seed == 7
    assert cfg.read == ReadConfig(text_field="content", source_by_path={"*/github/*": "code", "wiki/*": "wiki"})
    assert list(cfg.read.source_by_path) == ["*/github/*", "wiki/*"]  # order kept: first match wins
    assert cfg.language.threshold == 1.0 and isinstance(cfg.language.threshold, float)
    assert cfg.language.thresholds == {"de": 0.7}  # a given mapping replaces the default, not merges
    assert cfg.language.keep == LanguageConfig().keep
    assert cfg.output == OutputConfig()


def test_unknown_top_level_key():
    msg = error_of("sede: 1\n")
    assert msg.startswith("sede: unknown key (known: ")
    assert (
        msg
        == "sede: unknown key (known: decontamination, dedup, extract, language, mixture, output, perplexity, pii, quality, quality_classifier, read, seed, tokenizer, toxicity, url_filter)"
    )


def test_unknown_nested_key():
    msg = error_of("language:\n  treshold: 0.4\n")
    assert msg.startswith("language.treshold: unknown key")
    assert "threshold" in msg.split("known:")[1]
    assert error_of("output:\n  document_shards: 2\n").startswith("output.document_shards: unknown key")


@pytest.mark.parametrize(
    "text, message",
    [
        ("language:\n  threshold: high\n", "language.threshold: expected a number, got 'high'"),
        ("language:\n  threshold: '0.5'\n", "language.threshold: expected a number, got '0.5'"),
        ("language:\n  threshold: true\n", "language.threshold: expected a number, got True"),
        ("read:\n  max_record_bytes: 1.5\n", "read.max_record_bytes: expected an integer, got 1.5"),
        ("read:\n  max_record_bytes: 1000.0\n", "read.max_record_bytes: expected an integer, got 1000.0"),
        ("seed: true\n", "seed: expected an integer, got True"),
        ("seed: '3'\n", "seed: expected an integer, got '3'"),
        ("language:\n  thresholds: [en, 0.5]\n", "language.thresholds: expected a mapping, got list"),
        ("read:\n  source_by_path: [a, b]\n", "read.source_by_path: expected a mapping, got list"),
        ("language:\n  keep: en\n", "language.keep: expected a list, got str"),
        ("language:\n  keep: [en, 3]\n", "language.keep[1]: expected a string, got 3"),
        ("language:\n  thresholds: {en: x}\n", "language.thresholds.en: expected a number, got 'x'"),
        ("language:\n  space_han: 1\n", "language.space_han: expected true or false, got 1"),
        ("language:\n  space_han: 'yes'\n", "language.space_han: expected true or false, got 'yes'"),
        ("read:\n  text_field: 5\n", "read.text_field: expected a string, got 5"),
        ("read: [1, 2]\n", "read: expected a mapping, got list"),
        ("read:\n", "read: expected a mapping, got NoneType"),
        ("- a\n- b\n", "config: expected a mapping, got list"),
        ("just a string\n", "config: expected a mapping, got str"),
    ],
)
def test_wrong_types(text, message):
    assert error_of(text) == message


def test_yaml_boolean_words_are_not_language_codes():
    # YAML 1.1 reads a bare `no` (Norwegian) as false: that must fail loudly, not pass as a code.
    assert error_of("language:\n  keep: [en, no]\n") == "language.keep[1]: expected a string, got False"
    assert load_config(text="language:\n  keep: [en, 'no']\n").language.keep == ["en", "no"]


@pytest.mark.parametrize(
    "text, prefix",
    [
        ("language:\n  threshold: 1.5\n", "language.threshold: must be in [0, 1], got 1.5"),
        ("language:\n  threshold: -0.01\n", "language.threshold: must be in [0, 1], got -0.01"),
        ("language:\n  thresholds: {en: -0.1}\n", "language.thresholds.en: must be in [0, 1], got -0.1"),
        ("language:\n  thresholds: {en: 0.5, fr: 2}\n", "language.thresholds.fr: must be in [0, 1], got 2.0"),
        ("language:\n  batch_size: 0\n", "language.batch_size: must be in [1, 100000]"),
        ("read:\n  max_record_bytes: 0\n", "read.max_record_bytes: must be >= 1"),
        ("read:\n  max_record_bytes: -5\n", "read.max_record_bytes: must be >= 1"),
        ("read:\n  excerpt_bytes: 65537\n", "read.excerpt_bytes: must be in [0, 65536]"),
        ("read:\n  excerpt_bytes: -1\n", "read.excerpt_bytes: must be in [0, 65536]"),
        ("read:\n  text_field: ''\n", "read.text_field: must not be empty"),
        ("read:\n  default_source: ''\n", "read.default_source: must not be empty"),
        ("output:\n  shard_bytes: 1023\n", "output.shard_bytes: must be in [1 KiB, 16 GiB]"),
        ("output:\n  shard_bytes: 17179869185\n", "output.shard_bytes: must be in [1 KiB, 16 GiB]"),
    ],
)
def test_out_of_range(text, prefix):
    assert error_of(text).startswith(prefix)


def test_range_edges_are_accepted():
    cfg = load_config(text="language:\n  threshold: 0\n  thresholds: {en: 1.0}\nread:\n  max_record_bytes: 1\n  excerpt_bytes: 0\n")
    assert (cfg.language.threshold, cfg.language.thresholds, cfg.read.max_record_bytes, cfg.read.excerpt_bytes) == (
        0.0,
        {"en": 1.0},
        1,
        0,
    )


def test_shard_bytes_edges_are_accepted():
    assert load_config(text="output:\n  shard_bytes: 1024\n").output.shard_bytes == 1024
    assert load_config(text="output:\n  shard_bytes: 17179869184\n").output.shard_bytes == 2**34


def test_direct_construction_validates_too():
    with pytest.raises(ConfigError, match=r"^language\.threshold: must be in \[0, 1\], got 1\.5$"):
        LanguageConfig(threshold=1.5)
    with pytest.raises(ConfigError, match=r"^read\.max_record_bytes: must be >= 1$"):
        ReadConfig(max_record_bytes=0)


@pytest.mark.parametrize("text", ["read: {format: jsonl\n", "a: b: c\n", "read:\n  - x\n y: 2\n", "\t seed: 1\n"])
def test_invalid_yaml(text):
    msg = error_of(text)
    assert msg.startswith("config is not valid YAML: ")
    assert "\n" not in msg


def test_format_literal():
    for fmt in ("auto", "jsonl", "parquet", "text", "warc"):
        assert load_config(text=f"read:\n  format: {fmt}\n").read.format == fmt
    assert error_of("read:\n  format: csv\n") == ("read.format: must be one of ['auto', 'jsonl', 'parquet', 'text', 'warc'], got 'csv'")
    assert error_of("read:\n  format: JSONL\n").startswith("read.format: must be one of")


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_unreadable_config_path(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as e:
        load_config(path=str(missing))
    assert str(e.value).startswith(f"--config: cannot read {missing}: ")


def test_config_from_a_file(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("seed: 3\noutput:\n  shard_bytes: 1024\n")
    cfg = load_config(path=str(p))
    assert (cfg.seed, cfg.output.shard_bytes, cfg.output.write_documents) == (3, 1024, True)


def test_configs_are_frozen():
    cfg = load_config(text="seed: 1\n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.seed = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.read = ReadConfig()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.language.threshold = 0.1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.read.max_record_bytes = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.output.shard_bytes = 5  # type: ignore[misc]
    assert cfg.seed == 1


def test_keyword_only():
    with pytest.raises(TypeError):
        ReadConfig("jsonl")  # type: ignore[misc]
