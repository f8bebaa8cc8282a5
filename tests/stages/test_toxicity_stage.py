"""The toxicity stage through Beam: scores, exact kept and rejected sets, skipped-rule counts."""

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from pipeline.config import ConfigError
from pipeline.records import Document
from pipeline.stages.base import Annotate, Filter
from pipeline.stages.toxicity import FILTER_STAGE, MATCHES, PROB, ScoreToxicity, ToxicityGate
from pipeline.text.toxicity import ToxicityConfig
from tests.local_beam import local_test_pipeline

CALM = "The people of Scunthorpe met the class assistant at the library to discuss the new timetable for the buses. " * 3
DOCS = [
    # id, source, lang, text
    ("insult", "web", "en", "You are a fucking idiot and a moron."),  # the classifier fires first
    ("dense", "web", "es", "El mercado abre temprano y vende pescado fresco, pero aquel cabrón grita mierda."),
    ("one_in_many", "web", "en", CALM + "Then someone shouted bastard at the driver."),  # 1 match / ~70 words
    ("scunthorpe", "web", "en", CALM),
    ("medical", "wiki", "en", "The clitoris is a female sex organ; sexual health education covers it."),  # not gated
    ("code", "code", "en", "def kill(pid):\n    os.kill(pid, 9)  # fucking zombies\n"),  # exempt: not scored
    ("swahili", "web", "sw", "Kamati imechapisha ripoti yake ya mwaka kuhusu hali ya maktaba."),  # no list
]


def _run(cfg):
    p = local_test_pipeline()
    docs = p | beam.Create([Document(id=i, text=t, source=s, lang=l) for i, s, l, t in DOCS])
    result = docs | Annotate(ScoreToxicity(cfg), batch_size=3) | Filter(ToxicityGate(cfg), keep_rejected_text=False)
    return p, result


def test_default_gate_rejects_exactly_and_counts_unlisted_languages():
    p, result = _run(ToxicityConfig())
    assert_that(result.kept | "K" >> beam.Map(lambda d: d.id), equal_to(["one_in_many", "scunthorpe", "medical", "code", "swahili"]), label="kept")
    assert_that(
        result.rejected | "R" >> beam.Map(lambda r: (r.doc_id, r.stage, r.reason)),
        equal_to([("insult", FILTER_STAGE, "toxicity_classifier"), ("dense", FILTER_STAGE, "toxicity_word_density")]),
        label="rejected",
    )
    assert_that(result.skipped, equal_to([(FILTER_STAGE, "no_word_list", "sw")]), label="skipped")
    p.run()


def test_scores_are_recorded_for_kept_documents():
    p, result = _run(ToxicityConfig())
    assert_that(
        result.kept | "S" >> beam.Map(lambda d: (d.id, d.scores.get(MATCHES), PROB in d.scores)),
        equal_to(
            [
                ("one_in_many", 1.0, True),
                ("scunthorpe", 0.0, True),  # "Scunthorpe", "class", "assistant": no match
                ("medical", 3.0, True),  # "clitoris", "sex", "sexual": scored even where not gated
                ("code", None, False),
                ("swahili", None, False),
            ]
        ),
        label="scores",
    )
    p.run()


def test_c4_rule_drops_on_any_match():
    cfg = ToxicityConfig(count_threshold=1, density_threshold=None, classifier_threshold=None)
    p, result = _run(cfg)
    assert_that(
        result.rejected | "R" >> beam.Map(lambda r: (r.doc_id, r.reason)),
        equal_to([("insult", "toxicity_word_count"), ("dense", "toxicity_word_count"), ("one_in_many", "toxicity_word_count")]),
    )
    p.run()


def test_bad_thresholds_name_the_key():
    with pytest.raises(ConfigError, match=r"^toxicity.density_threshold: must be in \(0, 1\]"):
        ToxicityConfig(density_threshold=0.0)
    with pytest.raises(ConfigError, match=r"^toxicity.count_threshold: must be >= 1"):
        ToxicityConfig(count_threshold=0)
