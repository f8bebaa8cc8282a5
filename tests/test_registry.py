"""The stage registry against what it describes: the stage modules' ids, default.yaml, the
config's lists, the scores documents carry; and the report, which reads it without loading any
stage module."""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

import pipeline
from pipeline.config import DEDUP_METHODS, PipelineConfig
from pipeline.records import Reason
from pipeline.report import scores as sc
from pipeline.stages import registry
from pipeline.stages.spec import resolve, section_of
from pipeline.text.quality.config import QUALITY_FAMILIES

ROOT = Path(pipeline.__file__).parent.parent
DEFAULT_YAML = Path(pipeline.__file__).parent / "configs" / "default.yaml"
# Sections of the run that no registry stage owns: reading, and what comes after the filters.
NOT_STAGE_SECTIONS = {"seed", "read", "mixture", "tokenizer", "output"}
# Modules of pipeline.stages the report may load: the declarations and the chain's count format.
DECLARATIONS = {"pipeline.stages", "pipeline.stages.spec", "pipeline.stages.registry", "pipeline.stages.chain"}


def undeclared_scores(out) -> set[str]:
    """Score keys on a run's kept documents that no stage declares (the report would drop them)."""
    docs = pq.read_table(out / "documents", columns=["scores"]).to_pylist()
    return {k for d in docs for k, _ in d["scores"] if sc.spec_for(k) is None}


def _modules_loaded_by(imports: str, prefixes: tuple[str, ...]) -> set[str]:
    code = f"import sys, {imports}\nprint('\\n'.join(m for m in sys.modules if m.startswith({prefixes!r})))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return set(subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout.split())


def test_the_report_and_the_config_import_no_stage_module():
    loaded = _modules_loaded_by("pipeline.report, pipeline.report.scores, pipeline.config", ("pipeline.stages",))
    assert "pipeline.stages.registry" in loaded
    assert loaded <= DECLARATIONS, f"stage modules loaded by the report: {sorted(loaded - DECLARATIONS)}"


def test_the_config_sections_load_without_beam():
    """The stage families declare their config dataclasses in Beam-free modules (StageSpec.sections)."""
    assert not _modules_loaded_by("pipeline.config", ("apache_beam",))


def test_ids_are_unique_and_versioned():
    ids = [stage_id for spec in registry.STAGES for stage_id in spec.stage_ids]
    assert len(ids) == len(set(ids))
    assert all(stage_id.rsplit(".", 1)[-1].startswith("v") for stage_id in ids)
    names = [spec.name for spec in registry.STAGES]
    assert len(names) == len(set(names))


def _stage_ids_in(module) -> set[str]:
    """Ids a stage module writes: its *_STAGE / STAGE_ID constants and its steps' stage_id."""
    found = {v for k, v in vars(module).items() if isinstance(v, str) and (k.endswith("_STAGE") or k == "STAGE_ID")}
    found |= {v.stage_id for v in vars(module).values() if isinstance(v, type) and isinstance(getattr(v, "stage_id", None), str)}
    return found


@pytest.mark.parametrize("spec", registry.STAGES, ids=lambda s: s.name)
def test_each_declaration_matches_its_module(spec):
    build = resolve(spec.build)
    module = sys.modules[build.__module__]
    declared = {i for s in registry.STAGES for i in s.stage_ids}
    assert spec.stage_ids[0] in _stage_ids_in(module) | {getattr(build, "stage_id", None)} or spec.kind == "corpus"
    assert _stage_ids_in(module) <= declared, f"{module.__name__} writes ids the registry does not declare"
    for ref in spec.reasons:
        assert issubclass(resolve(ref), Reason)
    for ref in (spec.check, spec.reads_before):
        if ref:
            assert callable(resolve(ref))
    assert dataclasses.is_dataclass(section_of(PipelineConfig(), spec.config))
    for score in spec.scores:
        assert score.key.startswith(tuple(f"{i}:" for i in spec.stage_ids)) or score.key == sc.LANG_SCORE, score.key
        assert score.step in spec.stage_ids


def test_corpus_stages_name_the_id_their_transform_rejects_with():
    """A corpus stage's first id is its rejections' stage (graph records it so)."""
    for spec in registry.STAGES:
        if spec.kind == "corpus":
            assert len(spec.stage_ids) == 1, spec.name


def test_config_lists_come_from_the_registry():
    assert DEDUP_METHODS == ("exact", "paragraphs", "minhash", "simhash", "substring")
    assert QUALITY_FAMILIES == registry.QUALITY_FAMILIES
    assert {f"quality.{f}.v1" for f in QUALITY_FAMILIES} <= set(registry.QUALITY.stage_ids)


def test_pipeline_config_has_a_section_per_declaration_and_nothing_else():
    top = {f.name for f in dataclasses.fields(PipelineConfig)}
    declared = {path.split(".")[0] for path, _ in registry.config_sections()}
    assert top == declared | NOT_STAGE_SECTIONS
    cfg = PipelineConfig()
    for path, ref in registry.config_sections():
        assert type(section_of(cfg, path)) is resolve(ref), path


@dataclasses.dataclass(frozen=True, kw_only=True)
class _NewMethodConfig:
    window: int = 3


def test_a_stage_declares_its_config_in_its_registry_entry_alone(monkeypatch):
    """What a new stage costs the config: its dataclass, named in its StageSpec. The assembled
    config then has the section, in registry order, loads it from YAML and checks its keys."""
    new = registry.StageSpec(
        name="new_method",
        stage_ids=("dedup.new_method.v1",),
        reasons=(),
        sections=(("dedup.new_method", f"{__name__}:_NewMethodConfig"),),
        build="pipeline.stages.dedup:DropExactDuplicates",
        kind="corpus",
        selected_by="dedup.methods",
    )
    monkeypatch.setattr(registry, "STAGES", (*registry.STAGES, new))
    from pipeline import config

    dedup = config._assemble("DedupConfig", config._DedupKeys, "dedup", {})
    assert [f.name for f in dataclasses.fields(dedup)][-2:] == ["substring", "new_method"]
    whole = config._assemble("PipelineConfig", None, "", {"dedup": dedup})
    loaded = config.from_dict(whole, {"dedup": {"new_method": {"window": 5}}}, "")
    assert loaded.dedup.new_method == _NewMethodConfig(window=5)
    with pytest.raises(config.ConfigError, match="dedup.new_method.size: unknown key"):
        config.from_dict(whole, {"dedup": {"new_method": {"size": 5}}}, "")


def _yaml_keys_match(node: dict, config, path: str) -> list[str]:
    """Keys missing from or unknown to default.yaml below `path`, compared with the dataclass."""
    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    problems = [f"{path}.{k}: not in default.yaml" for k in fields if k not in node]
    problems += [f"{path}.{k}: in default.yaml, not declared" for k in node if k not in fields]
    for k, value in fields.items():
        if dataclasses.is_dataclass(value) and isinstance(node.get(k), dict):
            problems += _yaml_keys_match(node[k], value, f"{path}.{k}")
    return problems


def test_default_yaml_documents_every_declared_section_and_key_and_no_other():
    raw = yaml.safe_load(DEFAULT_YAML.read_text())
    cfg = PipelineConfig()
    for section, _ in registry.config_sections():
        node = raw
        for part in section.split("."):
            assert isinstance(node.get(part), dict), f"default.yaml has no section {section}"
            node = node[part]
        assert not _yaml_keys_match(node, section_of(cfg, section), section)
    assert not _yaml_keys_match(raw, cfg, "")


def test_every_declared_score_is_drawn_or_says_why_not():
    for score in registry.scores():
        assert sc.spec_for(score.key.replace("{n}", "2")) == (score, {"n": "2"} if "{n}" in score.key else {})
        assert score.bins is not None or score.title, score.key
    keys = [s.key for s in registry.scores()]
    assert len(keys) == len(set(keys))
    sections = [prefix for prefix, _ in registry.report_sections()]
    for score in registry.scores():
        if score.bins is not None:
            assert any(score.key.startswith(p) for p in sections), f"{score.key} has no report section"


def test_every_score_key_is_a_stage_id_and_a_signal():
    ids = {i for spec in registry.STAGES for i in spec.stage_ids}
    for score in registry.scores():
        if score.key != sc.LANG_SCORE:
            stage_id, _, signal = score.key.partition(":")
            assert stage_id in ids and signal, score.key
