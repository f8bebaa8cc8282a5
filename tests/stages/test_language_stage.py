"""The language stage through Beam: strict assert_that on both the kept and the rejected output."""

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.util import assert_that, equal_to

from pipeline.records import Document, Rejection
from pipeline.stages.base import Annotate, Filter
from pipeline.stages.language import FILTER_STAGE, IdentifyLanguage, KeepLanguages, LanguageReason
from pipeline.text.langid import LanguageConfig, LanguageIdentifier, default_model_path
from tests.local_beam import local_test_pipeline

TEXTS = {
    "en": ("web", "The committee published its annual report on the state of public libraries in the region."),
    "fr": ("wiki", "Le comité a publié son rapport annuel sur l'état des bibliothèques publiques de la région."),
    "de": ("books", "Der Ausschuss hat seinen Jahresbericht über den Zustand der öffentlichen Bibliotheken veröffentlicht."),
    "zh": ("web", "我们今天去公园散步了"),
    "sw": ("web", "Kamati imechapisha ripoti yake ya mwaka kuhusu hali ya maktaba za umma katika mkoa huo."),
    "low": ("web", "Hello there"),
    "code": ("code", "x = 1\nfor i in range(10):\n    x += i\n"),
}


def _docs():
    return [Document(id=name, text=text, source=source) for name, (source, text) in TEXTS.items()]


def test_language_stage_kept_and_rejected_are_exact():
    cfg = LanguageConfig(keep=["en", "fr", "de", "zh"], threshold=0.5, thresholds={"en": 0.65})
    model = LanguageIdentifier(default_model_path())
    predicted = dict(zip(TEXTS, model.predict([t for _, t in TEXTS.values()])))
    # The fixture only means something if the model sees these texts the way the test assumes.
    assert [predicted[k][0] for k in ("en", "fr", "de", "zh", "sw")] == ["en", "fr", "de", "zh", "sw"]
    assert predicted["low"][1] < cfg.thresholds.get(predicted["low"][0], cfg.threshold)

    def rejection(name, reason, detail):
        lang = predicted[name][0]
        source, text = TEXTS[name]
        return Rejection(doc_id=name, source=source, lang=lang, stage=FILTER_STAGE, reason=reason.value, detail=detail, text=text)

    low_lang, low_score = predicted["low"]
    expected_rejected = [
        rejection("sw", LanguageReason.LANGUAGE_NOT_KEPT, f"lang=sw score={predicted['sw'][1]:.3f}"),
    ]
    if low_lang in cfg.keep:
        threshold = cfg.thresholds.get(low_lang, cfg.threshold)
        expected_rejected.append(rejection("low", LanguageReason.LANGUAGE_LOW_CONFIDENCE, f"lang={low_lang} score={low_score:.3f} < {threshold}"))
    else:
        expected_rejected.append(rejection("low", LanguageReason.LANGUAGE_NOT_KEPT, f"lang={low_lang} score={low_score:.3f}"))

    p = local_test_pipeline()
    docs = p | beam.Create(_docs())
    result = docs | Annotate(IdentifyLanguage(cfg), batch_size=3) | Filter(KeepLanguages(cfg), keep_rejected_text=True)
    assert_that(
        result.kept | "KeptLang" >> beam.Map(lambda d: (d.id, d.lang, round(d.lang_score, 6))),
        equal_to([(k, predicted[k][0], round(predicted[k][1], 6)) for k in ("en", "fr", "de", "zh", "code")]),
        label="kept",
    )
    assert_that(result.rejected, equal_to(expected_rejected), label="rejected")
    run = p.run()
    run.wait_until_finish()

    counters = {
        (c.key.metric.namespace, c.key.metric.name): c.committed
        for c in run.metrics().query(MetricsFilter().with_namespace(FILTER_STAGE))["counters"]
    }
    reasons = [r.reason for r in expected_rejected]
    assert counters == {
        (FILTER_STAGE, "kept"): 5,
        **{(FILTER_STAGE, r): reasons.count(r) for r in set(reasons)},
    }


def test_code_is_exempt_but_still_annotated():
    cfg = LanguageConfig(keep=["en"])
    with local_test_pipeline() as p:
        out = p | beam.Create([Document(id="c", text=TEXTS["code"][1], source="code")]) | Annotate(IdentifyLanguage(cfg), 8)
        result = out | Filter(KeepLanguages(cfg), keep_rejected_text=False)
        assert_that(
            result.kept | beam.Map(lambda d: (d.id, d.lang is not None, d.lang_score is not None)), equal_to([("c", True, True)]), label="kept"
        )
        assert_that(result.rejected, equal_to([]), label="rejected")


def test_empty_keep_list_keeps_every_language_above_threshold():
    gate = KeepLanguages(LanguageConfig(keep=[], threshold=0.5, thresholds={}))
    assert gate.check(Document(id="a", text="x", source="web", lang="sw", lang_score=0.9)).reason is None
    reason, detail, _ = gate.check(Document(id="b", text="x", source="web", lang="sw", lang_score=0.4))
    assert reason is LanguageReason.LANGUAGE_LOW_CONFIDENCE and detail == "lang=sw score=0.400 < 0.5"
