"""Decontamination: normalised 13-gram matching, the Beam stage in both modes, eval-set files."""

import gzip
import json

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.util import assert_that

from pipeline.config import ConfigError, load_config
from pipeline.records import Document
from pipeline.stages.decontaminate import CHARS_REMOVED, DECONTAM_STAGE, Decontaminate, DecontamReason, check_eval_sets, read_eval_texts
from pipeline.text import decontam
from pipeline.text.decontam import DecontaminationConfig
from pipeline.text.dedup.substring import words
from tests.local_beam import local_test_pipeline

QUESTION = (
    "Which of the following best explains why the surface of the ice no longer refreezes after sunset in "
    "late summer, according to the measurements taken by hand each autumn?"
)
STORY = (
    "The county library board met on Tuesday evening to review the proposed budget for the coming year. "
    "Members heard from the director, who explained that rising energy costs and the expiry of a state grant "
    "would leave a gap of roughly forty thousand dollars unless the board either raised fees or reduced opening hours."
)
OTHER = (
    "To make a simple sourdough loaf, begin the evening before by feeding your starter with equal weights of flour "
    "and water, then leave it covered at room temperature overnight, and bake it in a covered pot the next day."
)


def write_jsonl_gz(path, texts, field="text"):
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({field: t, "answer": "B"}) + "\n")
    return str(path)


def test_matching_is_case_and_punctuation_blind():
    index = decontam.EvalIndex.build([("qa", decontam.set_hashes([QUESTION], 13))])
    shouted = "Intro text here. " + QUESTION.upper().replace(",", " ;").replace("?", "!!") + " And more."
    positions, sets = index.matches(decontam.ngram_hashes(shouted, 13))
    assert len(positions) == len(words(QUESTION)) - 12 and set(sets.tolist()) == {0}
    assert decontam.ngram_text(shouted, int(positions[0]), 13) == " ".join(words(QUESTION.lower())[:13])
    # one word changed breaks the 13-grams that hold it, not the others
    changed = QUESTION.replace("refreezes", "melts")
    p2, _ = index.matches(decontam.ngram_hashes(changed, 13))
    assert 0 < len(p2) < len(positions)
    assert len(index.matches(decontam.ngram_hashes(STORY, 13))[0]) == 0
    short = decontam.set_hashes(["only five words are here"], 13)
    assert len(short) == 0  # shorter than n: no n-gram


def test_index_names_the_first_set_holding_an_ngram():
    a, b = decontam.set_hashes([QUESTION], 13), decontam.set_hashes([QUESTION, STORY], 13)
    index = decontam.EvalIndex.build([("a", a), ("b", b)])
    assert np.all(np.diff(index.hashes.astype(np.float64)) > 0) or len(index.hashes) < 2
    _, sets = index.matches(decontam.ngram_hashes(QUESTION + " " + STORY, 13))
    assert set(sets.tolist()) == {0, 1} and index.ngrams == (len(a), len(b))


def test_eval_sets_read_from_jsonl_gz_and_parquet(tmp_path):
    j = write_jsonl_gz(tmp_path / "qa.jsonl.gz", [QUESTION, STORY])
    with open(j.replace(".gz", ""), "w") as f:
        f.write(json.dumps({"text": QUESTION}) + "\n" + json.dumps({"text": 3}) + "\nnot json\n")
    pq.write_table(pa.table({"passage": [OTHER, None]}), tmp_path / "p.parquet")
    assert read_eval_texts(j, "text") == ([QUESTION, STORY], 0)
    assert read_eval_texts(j.replace(".gz", ""), "text") == ([QUESTION], 2)
    assert read_eval_texts(str(tmp_path / "p.parquet"), "passage") == ([OTHER], 1)


def test_missing_eval_set_stops_the_run_naming_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"^decontamination\.eval_sets\[0\]: no file at "):
        check_eval_sets(DecontaminationConfig(enabled=True, eval_sets=[str(tmp_path / "nope.jsonl")]))
    with pytest.raises(ConfigError, match=r"^decontamination\.eval_sets: must list at least one file when enabled$"):
        load_config(text="decontamination:\n  enabled: true\n")


def run_stage(docs, cfg, check):
    def matcher(items):
        check(
            {d.id: d for tag, d in items if tag == "kept"},
            [r for tag, r in items if tag == "rejected"],
            next(f for tag, f in items if tag == "facts"),
        )

    p = local_test_pipeline()
    result = p | beam.Create(docs) | Decontaminate(cfg, keep_text=True)
    tagged = (
        result.kept | "K" >> beam.Map(lambda d: ("kept", d)),
        result.rejected | "R" >> beam.Map(lambda r: ("rejected", r)),
        result.facts | "F" >> beam.Map(lambda f: ("facts", f)),
    ) | beam.Flatten()
    assert_that(tagged, matcher)
    p.run().wait_until_finish()


def test_stage_rejects_contaminated_documents_and_counts_per_set(tmp_path):
    qa = write_jsonl_gz(tmp_path / "qa.jsonl.gz", [QUESTION])
    pq.write_table(pa.table({"text": [STORY]}), tmp_path / "story.parquet")
    story = str(tmp_path / "story.parquet")
    cfg = DecontaminationConfig(enabled=True, eval_sets=[qa, story])
    docs = [
        Document(id="leak", text="Exam prep. " + QUESTION.lower() + " Answer: B.", source="web"),
        Document(id="story", text=STORY + " " + OTHER, source="books"),
        Document(id="clean", text=OTHER, source="web"),
    ]

    def check(kept, rejected, facts):
        assert sorted(kept) == ["clean"] and kept["clean"] == docs[2]
        by_id = {r.doc_id: r for r in rejected}
        assert sorted(by_id) == ["leak", "story"]
        assert {r.stage for r in rejected} == {DECONTAM_STAGE} and {r.reason for r in rejected} == {DecontamReason.CONTAMINATED.value}
        assert qa in by_id["leak"].detail and "'which of the following best explains why the surface of the ice no'" in by_id["leak"].detail
        assert story in by_id["story"].detail
        assert facts[qa]["documents_rejected"] == 1 and facts[story]["documents_rejected"] == 1
        assert facts[qa]["passages"] == 1 and facts[qa]["ngrams"] == len(words(QUESTION)) - 12
        assert facts[qa]["ngrams_matched"] == len(words(QUESTION)) - 12

    run_stage(docs, cfg, check)


def test_cut_mode_leaves_no_trace_of_the_passage(tmp_path):
    qa = write_jsonl_gz(tmp_path / "qa.jsonl.gz", [QUESTION])
    cfg = DecontaminationConfig(enabled=True, eval_sets=[qa], mode="cut", min_chars_left=50)
    docs = [
        Document(id="quotes", text=STORY + "\n" + QUESTION + "\n" + OTHER, source="web"),
        Document(id="only", text="Q1. " + QUESTION, source="web"),
    ]
    eval_hashes = decontam.set_hashes([QUESTION], 13)

    def check(kept, rejected, facts):
        assert sorted(kept) == ["quotes"] and [r.doc_id for r in rejected] == ["only"]
        text = kept["quotes"].text
        assert not np.isin(decontam.ngram_hashes(text, 13), eval_hashes).any()
        assert STORY in text and OTHER in text and "refreezes" not in text
        assert kept["quotes"].scores[CHARS_REMOVED] == len(docs[0].text) - len(text) > len(QUESTION) - 5
        assert facts[qa]["documents_cut"] == 1 and facts[qa]["documents_rejected"] == 1

    run_stage(docs, cfg, check)
