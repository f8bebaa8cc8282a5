"""The quality stage's config section: which rule families run on which source, and each
family's settings (declared beside its rules, e.g. C4Config in pipeline.text.quality.c4)."""

from dataclasses import dataclass, field

from pipeline.settings import check
from pipeline.stages import registry  # plain data: the family names
from pipeline.text.quality.c4 import C4Config
from pipeline.text.quality.code import CodeConfig
from pipeline.text.quality.fineweb import FineWebConfig
from pipeline.text.quality.gopher_quality import GopherQualityConfig
from pipeline.text.quality.gopher_repetition import GopherRepetitionConfig

QUALITY_FAMILIES = registry.QUALITY_FAMILIES


@dataclass(frozen=True, kw_only=True)
class QualityConfig:
    # Which families run on which source ("*": every other source), in this fixed order:
    # gopher_repetition, gopher_quality, c4 (cleaning, then its gate), fineweb, code. The
    # prose rules were made for web text; code gets code rules only; wiki gets none (a short
    # lead section that names its subject twice fails Table A1's top n-gram rule, which Gopher
    # only ever applied after dropping documents under 50 words); the other curated sources get
    # the repetition check.
    apply: dict[str, list[str]] = field(
        default_factory=lambda: {
            "web": ["gopher_repetition", "gopher_quality", "c4", "fineweb"],
            "code": ["code"],
            "wiki": [],
            "*": ["gopher_repetition"],
        }
    )
    batch_size: int = 64  # documents per signals call
    gopher_quality: GopherQualityConfig = field(default_factory=GopherQualityConfig)
    gopher_repetition: GopherRepetitionConfig = field(default_factory=GopherRepetitionConfig)
    c4: C4Config = field(default_factory=C4Config)
    fineweb: FineWebConfig = field(default_factory=FineWebConfig)
    code: CodeConfig = field(default_factory=CodeConfig)

    def __post_init__(self):
        for source, families in self.apply.items():
            for i, family in enumerate(families):
                check(family in QUALITY_FAMILIES, f"quality.apply.{source}[{i}]", f"unknown family {family!r} (known: {', '.join(QUALITY_FAMILIES)})")
        check(1 <= self.batch_size <= 100_000, "quality.batch_size", "must be in [1, 100000]")

    def families_for(self, source: str) -> frozenset[str]:
        return frozenset(self.apply.get(source, self.apply.get("*", [])))
