"""build_stats: the accounting identity, the funnel, and the printed lines."""

import pytest

from pipeline.stats import STATS_SCHEMA_VERSION, accounting_line, build_stats, summary

STAGES = ["language.fasttext.v1", "quality.gopher.v1"]
IDENTITY = "records_read = kept + rejected + dead_letters"


def consistent_counts():
    # 12 records: 10 documents (7 web, 3 books) + 2 dead letters; 3 rejected, 7 kept.
    return [
        (("read", "web"), 7),
        (("read", "books"), 3),
        (("dead", "invalid_json", "web"), 1),
        (("dead", "truncated_stream", None), 1),
        (("rejected", "language.fasttext.v1", "low_confidence", "web", None), 1),
        (("rejected", "language.fasttext.v1", "not_kept_language", "web", "sv"), 1),
        (("rejected", "quality.gopher.v1", "too_short", "books", "en"), 1),
        (("kept", "web", "en"), 4),
        (("kept", "web", "de"), 1),
        (("kept", "books", "en"), 2),
    ]


FILES = {
    "documents": [{"path": "documents/b.parquet", "rows": 3}, {"path": "documents/a.parquet", "rows": 4}],
    "rejections": [{"path": "rejections/x.parquet", "rows": 3}],
    "dead_letters": [{"path": "dead_letters/d.parquet", "rows": 2}],
}


def test_identity_holds_on_consistent_counts():
    stats = build_stats(consistent_counts(), STAGES, FILES, {"runner": "DirectRunner"})
    assert stats["stats_schema_version"] == STATS_SCHEMA_VERSION == 1
    assert stats["run"] == {"runner": "DirectRunner"}
    assert stats["accounting"] == {
        "records_read": 12,
        "documents_read": 10,
        "kept": 7,
        "rejected": 3,
        "dead_letters": 2,
        "checks": {
            IDENTITY: True,
            "funnel ends at kept": True,
            "documents written = kept": True,
            "rejections written = rejected": True,
            "dead letters written = dead_letters": True,
        },
        "holds": True,
    }
    assert stats["rejections"] == {
        "language.fasttext.v1": {"low_confidence": 1, "not_kept_language": 1},
        "quality.gopher.v1": {"too_short": 1},
    }
    assert stats["rejections_by_source"] == {
        "language.fasttext.v1": {"low_confidence": {"web": 1}, "not_kept_language": {"web": 1}},
        "quality.gopher.v1": {"too_short": {"books": 1}},
    }
    assert stats["rejections_by_language"] == {
        "language.fasttext.v1": {"low_confidence": {"unknown": 1}, "not_kept_language": {"sv": 1}},
        "quality.gopher.v1": {"too_short": {"en": 1}},
    }
    assert stats["dead_letters"] == {"invalid_json": 1, "truncated_stream": 1}
    assert stats["sources"] == {"books": {"read": 3, "kept": 2}, "web": {"read": 7, "kept": 5}}
    assert list(stats["kept_by_language"].items()) == [("en", 6), ("de", 1)]
    assert [f["path"] for f in stats["files"]["documents"]] == ["documents/a.parquet", "documents/b.parquet"]


def test_counts_for_the_same_key_add_up():
    counts = [(("read", "web"), 2), (("read", "web"), 3), (("kept", "web", None), 5)]
    stats = build_stats(counts, [], {}, {})
    assert stats["accounting"]["documents_read"] == 5
    assert stats["kept_by_language"] == {"unknown": 5}
    assert stats["accounting"]["checks"] == {IDENTITY: True, "funnel ends at kept": True}
    assert stats["accounting"]["holds"] is True


def test_lost_document_fails_the_identity():
    counts = [
        (("read", "web"), 10),
        (("kept", "web", "en"), 8),
        (("rejected", "language.fasttext.v1", "low_confidence", "web", "en"), 1),
    ]
    stats = build_stats(counts, STAGES, {}, {})
    a = stats["accounting"]
    assert (a["records_read"], a["kept"], a["rejected"], a["dead_letters"]) == (10, 8, 1, 0)
    assert a["holds"] is False
    assert a["checks"] == {IDENTITY: False, "funnel ends at kept": False}
    assert accounting_line(stats) == (f"accounting: read 10 = kept 8 + rejected 1 + dead letters 0 (DOES NOT HOLD: {IDENTITY}, funnel ends at kept)")


def test_written_files_that_disagree_fail_their_check():
    files = {**FILES, "documents": [{"path": "documents/a.parquet", "rows": 6}]}
    stats = build_stats(consistent_counts(), STAGES, files, {})
    checks = stats["accounting"]["checks"]
    assert checks[IDENTITY] is True
    assert checks["documents written = kept"] is False
    assert [k for k, ok in checks.items() if not ok] == ["documents written = kept"]
    assert stats["accounting"]["holds"] is False
    assert accounting_line(stats).endswith("(DOES NOT HOLD: documents written = kept)")


def test_funnel_per_stage_in_order():
    stats = build_stats(consistent_counts(), STAGES, FILES, {})
    assert stats["funnel"] == [
        {"stage": "language.fasttext.v1", "in": 10, "rejected": 2, "out": 8},
        {"stage": "quality.gopher.v1", "in": 8, "rejected": 1, "out": 7},
    ]
    # a stage with no rejections still appears, passing everything through, in graph order
    stats = build_stats(consistent_counts(), ["dedup.v1", *STAGES], FILES, {})
    assert [(s["stage"], s["in"], s["rejected"], s["out"]) for s in stats["funnel"]] == [
        ("dedup.v1", 10, 0, 10),
        ("language.fasttext.v1", 10, 2, 8),
        ("quality.gopher.v1", 8, 1, 7),
    ]


def test_rejection_from_a_stage_not_in_the_list_raises():
    with pytest.raises(ValueError, match=r"rejections from stages not in the graph: \['quality.gopher.v1'\]"):
        build_stats(consistent_counts(), ["language.fasttext.v1"], FILES, {})


def test_unknown_count_key_raises():
    with pytest.raises(ValueError, match=r"unknown count key \('typo', 'web'\)"):
        build_stats([(("typo", "web"), 1)], [], {}, {})


def test_empty_run():
    stats = build_stats([], STAGES, {}, {})
    assert stats["accounting"]["records_read"] == 0
    assert stats["accounting"]["holds"] is True
    assert stats["funnel"] == [
        {"stage": "language.fasttext.v1", "in": 0, "rejected": 0, "out": 0},
        {"stage": "quality.gopher.v1", "in": 0, "rejected": 0, "out": 0},
    ]


def test_accounting_line_holds():
    counts = [(("read", "web"), 1_234_567), (("kept", "web", "en"), 1_234_000), (("dead", "invalid_json", "web"), 3)]
    counts.append((("rejected", "language.fasttext.v1", "low_confidence", "web", "en"), 567))
    stats = build_stats(counts, STAGES, {}, {})
    assert accounting_line(stats) == ("accounting: read 1,234,570 = kept 1,234,000 + rejected 567 + dead letters 3 (holds)")


def test_summary_contains_the_numbers():
    stats = build_stats(consistent_counts(), STAGES, FILES, {})
    lines = summary(stats).splitlines()
    assert lines[0] == f"read        {12:>10,} records (10 documents, 2 dead letters)"
    assert lines[1] == f"  dead letter {'invalid_json':<32} {1:>10,}"
    assert lines[2] == f"  dead letter {'truncated_stream':<32} {1:>10,}"
    assert lines[3] == f"{'language.fasttext.v1':<28} in {10:>10,}  rejected {2:>10,}  out {8:>10,}"
    assert lines[4] == f"  {'low_confidence':<42} {1:>10,}   (web 1)"
    assert lines[5] == f"  {'not_kept_language':<42} {1:>10,}   (web 1)"
    assert lines[6] == f"{'quality.gopher.v1':<28} in {8:>10,}  rejected {1:>10,}  out {7:>10,}"
    assert lines[7] == f"  {'too_short':<42} {1:>10,}   (books 1)"
    assert lines[8] == "documents per source label, kept/read: books 2/3, web 5/7"
    assert lines[9] == "kept by language: en 6, de 1"
    assert lines[10] == "accounting: read 12 = kept 7 + rejected 3 + dead letters 2 (holds)"
    assert len(lines) == 11


def test_skipped_rules_are_counted_per_stage_rule_and_language():
    counts = [
        (("read", "web"), 3),
        (("kept", "web", "zh"), 3),
        (("skipped", "quality.gopher_quality.v1", "min_mean_word_length", "zh"), 3),
        (("skipped", "quality.gopher_quality.v1", "stop_words", "sw"), 1),
    ]
    stats = build_stats(counts, ["quality.gopher_quality.v1"], {}, {})
    assert stats["skipped_rules"] == {"quality.gopher_quality.v1": {"min_mean_word_length": {"zh": 3}, "stop_words": {"sw": 1}}}
    assert stats["accounting"]["holds"]
    assert "  skipped min_mean_word_length (no definition for: zh 3)" in summary(stats).splitlines()
