"""Exact-substring dedup: the winnowing guarantee, the numpy core and the Beam stage against a
suffix array over the whole corpus (pydivsufsort), on the sample's text with planted repeats."""

import functools
import gzip
import json
from pathlib import Path

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.util import assert_that, equal_to

from pipeline.config import ConfigError, DedupConfig, load_config
from pipeline.records import Document
from pipeline.stages.dedup import DedupReason
from pipeline.stages.substring_dedup import (
    CHARS_REMOVED,
    REMOVED_FRACTION,
    SPANS_REMOVED,
    SUBSTRING_STAGE,
    CutRepeatedSubstrings,
    pack_document,
    pack_runs,
    unpack_document,
    unpack_runs,
)
from pipeline.text.dedup import substring
from pipeline.text.dedup.substring import SubstringDedupConfig
from pipeline.text.dedup.substring_reference import char_f1, planted_corpus, reference_removed
from tests.local_beam import local_test_pipeline

pytest.importorskip("pydivsufsort", reason="the suffix-array reference needs pydivsufsort (pip install -e '.[dev]')")

SAMPLE = Path(__file__).resolve().parents[2] / "pipeline" / "sample" / "data"
K, G = SubstringDedupConfig().min_tokens, SubstringDedupConfig().fingerprint_words


@functools.cache
def sample_texts(name: str, n: int) -> tuple[str, ...]:
    with gzip.open(SAMPLE / f"{name}.jsonl.gz", "rt", encoding="utf-8") as f:
        return tuple(json.loads(line)["text"] for line, _ in zip(f, range(n)))


def corpus(n_wiki: int, n_books: int, plants: int, seed: int):
    return planted_corpus(list(sample_texts("wiki", n_wiki) + sample_texts("books", n_books)), plants, K, seed)


def masks_of(docs, cuts, k=K):
    texts = dict(docs)
    return {i: substring.removed_mask(len(substring.words(texts[i])), q, k) for i, q in cuts.items()}


def expected_texts(docs, k=K) -> dict[str, str]:
    ref = reference_removed(docs, k)
    return {i: substring.cut(t, substring.removed_ranges(t, ref[i])) if ref[i].any() else t for i, t in docs}


def test_winnowing_selects_in_every_window():
    rng = np.random.Generator(np.random.PCG64(3))
    for w in (1, 2, 5, 27, 40):
        h = rng.integers(1, 50, size=500, dtype=np.uint64)  # many ties
        selected = substring.winnow(h, w)
        chosen = np.zeros(len(h), dtype=bool)
        chosen[selected] = True
        for j in range(len(h) - w + 1):
            window = h[j : j + w]
            assert chosen[j : j + w][window == window.min()].all(), (w, j)  # every minimum of every window
        # and nothing else: a selected position is a minimum of some window holding it
        for i in selected:
            assert any(h[i] == h[j : j + w].min() for j in range(max(0, i - w + 1), min(i, len(h) - w) + 1))


def test_cuts_fall_on_word_boundaries():
    text = "Keep this. (Cut these three words!) and keep the rest"
    mask = np.array([w in {"Cut", "these", "three", "words"} for w in substring.words(text)])
    ranges = substring.removed_ranges(text, mask)
    assert [text[a:b] for a, b in ranges] == ["Cut these three words!) "]  # up to the next kept word
    assert substring.cut(text, ranges) == "Keep this. (and keep the rest"
    tail = substring.removed_ranges(text, np.array([w == "rest" for w in substring.words(text)]))
    assert substring.cut(text, tail) == "Keep this. (Cut these three words!) and keep the "


def test_batch_fingerprints_do_not_depend_on_the_batch():
    texts = list(sample_texts("wiki", 40))
    alone = [substring.batch_fingerprints([t], K, G)[0] for t in texts]
    together = substring.batch_fingerprints(texts, K, G)
    for (p1, h1), (p2, h2) in zip(alone, together):
        assert np.array_equal(p1, p2) and np.array_equal(h1, h2)


@pytest.mark.parametrize("k,g", [(K, G), (12, 4), (8, 8)])
def test_core_matches_the_suffix_array(k, g):
    docs, _ = planted_corpus(list(sample_texts("wiki", 500) + sample_texts("books", 10)), 150, k, seed=k)
    want = reference_removed(docs, k)
    got = masks_of(docs, substring.find_cuts(docs, k, g, batch_size=64), k)
    precision, recall, f1 = char_f1(docs, got, want)
    assert sum(m.sum() for m in want.values()) > 1000  # the corpus has repeats to find
    assert f1 >= 0.99, (precision, recall)


def test_planted_repeats_survive_once_and_single_sentences_survive():
    texts = list(sample_texts("wiki", 1000) + sample_texts("books", 10))
    docs, planted = planted_corpus(texts, 80, K, seed=1, disjoint=True)
    natural = reference_removed(planted_corpus(texts, 0, K, seed=1)[0], K)  # repeats the sample already has
    masks = masks_of(docs, substring.find_cuts(docs, K, G))
    kept = {i: substring.cut(t, substring.removed_ranges(t, masks[i])) if i in masks else t for i, t in docs}
    joined = {i: " " + " ".join(substring.words(t)) + " " for i, t in kept.items()}
    clean = 0
    for src, dst, span in planted:
        needle = " " + " ".join(substring.words(span)) + " "
        holders = [i for i, t in joined.items() if needle in t]
        assert len(holders) <= 1, (span[:60], holders)  # never two copies left
        if not natural[src].any() and not natural[dst].any():
            assert holders == [min(src, dst)], (span[:60], src, dst, holders)  # the first copy stays
            clean += 1
    assert clean >= 60
    # a document none of whose k-grams occurs elsewhere comes back untouched
    untouched = [i for i, _ in docs if i not in masks]
    assert len(untouched) > 700 and all(kept[i] == t for i, t in docs if i in untouched)


def run_stage(docs, cfg, check):
    """Runs the Beam stage on (id, text) docs; check(kept {id: Document}, rejections) runs on its
    output (inside the pipeline: the runner pickles matchers, so nothing comes back by closure)."""

    def matcher(items):
        kept = {d.id: d for tag, d in items if tag == "kept"}
        assert len(kept) == sum(tag == "kept" for tag, _ in items)  # each document once
        check(kept, [r for tag, r in items if tag == "rejected"])

    p = local_test_pipeline()
    result = p | beam.Create([Document(id=i, text=t, source="web") for i, t in docs]) | CutRepeatedSubstrings(cfg, keep_text=True)
    tagged = (
        result.kept | "TagKept" >> beam.Map(lambda d: ("kept", d)),
        result.rejected | "TagRejected" >> beam.Map(lambda r: ("rejected", r)),
    ) | beam.Flatten()
    assert_that(tagged, matcher, label="output")
    assert_that(result.skipped, equal_to([]), label="skipped")
    p.run().wait_until_finish()


@pytest.mark.parametrize("batch_size", [256, 7])  # one batch; many (fingerprints counted per batch)
def test_stage_cuts_what_the_suffix_array_finds(batch_size):
    docs, _ = corpus(200, 6, 60, seed=2)
    sub = SubstringDedupConfig(min_chars_left=0, max_removed_fraction=1.0, batch_size=batch_size)
    cfg = DedupConfig(methods=["substring"], substring=sub)
    want = expected_texts(docs)
    changed = {i for i, t in docs if want[i] != t}
    assert len(changed) >= 20

    def check(kept, rejected):
        assert rejected == [] and sorted(kept) == [i for i, _ in docs]
        for i, t in docs:
            assert kept[i].text == want[i], i
            if i in changed:
                assert kept[i].scores[CHARS_REMOVED] == len(t) - len(want[i]) and kept[i].scores[SPANS_REMOVED] >= 1
            else:
                assert CHARS_REMOVED not in kept[i].scores

    run_stage(docs, cfg, check)


def test_stage_regroups_a_fingerprint_past_the_group_limit():
    docs, _ = corpus(120, 4, 40, seed=4)
    sub = SubstringDedupConfig(min_chars_left=0, max_removed_fraction=1.0, group_limit=1)  # every group overflows
    want = expected_texts(docs)
    assert sum(want[i] != t for i, t in docs) >= 10

    def check(kept, rejected):
        assert rejected == [] and all(kept[i].text == want[i] for i, _ in docs)

    run_stage(docs, DedupConfig(methods=["substring"], substring=sub), check)


def test_stage_rejects_documents_left_mostly_cut():
    wiki = sample_texts("wiki", 60)
    base = " ".join(sample_texts("books", 2)[1].split()[:400])
    own_b, own_c = [t for t in wiki if 150 < len(substring.words(t)) < 300][:2]
    docs = [
        ("a-original", base),
        ("b-mostly-copy", base[: len(base) * 9 // 10] + "\n" + own_b),  # over half cut
        ("c-quotes", own_c + "\n" + base[:400]),  # a long quote, mostly its own text
    ]
    cfg = DedupConfig(methods=["substring"], substring=SubstringDedupConfig(min_chars_left=50, max_removed_fraction=0.5))

    def check(kept, rejected):
        assert sorted(kept) == ["a-original", "c-quotes"] and kept["a-original"].text == base
        assert kept["c-quotes"].text != docs[2][1] and kept["c-quotes"].scores[CHARS_REMOVED] > 0
        (r,) = rejected
        assert (r.doc_id, r.stage, r.reason) == ("b-mostly-copy", SUBSTRING_STAGE, DedupReason.SUBSTRING_DUPLICATE.value)
        assert "characters" in r.detail and r.text == docs[1][1]

    run_stage(docs, cfg, check)


def test_a_span_on_many_pages_is_kept_once():
    own = [t for t in sample_texts("wiki", 200) if len(substring.words(t)) > 80][:30]
    footer = " ".join(sample_texts("books", 1)[0].split()[:120])
    docs = [(f"p{i:02d}", t + "\n" + footer) for i, t in enumerate(own)]
    cfg = DedupConfig(methods=["substring"], substring=SubstringDedupConfig(min_chars_left=0, max_removed_fraction=1.0))
    needle = " ".join(substring.words(footer))
    assert len(needle.split()) > 100

    def check(kept, rejected):
        assert rejected == [] and len(kept) == 30
        assert kept["p00"].text == docs[0][1]
        assert [i for i, d in sorted(kept.items()) if needle in " ".join(substring.words(d.text))] == ["p00"]
        assert all(own[int(i[1:])].strip() in d.text for i, d in kept.items())  # each page's own text stays

    run_stage(docs, cfg, check)


def test_scope_source_keeps_a_span_once_per_source():
    own = [t for t in sample_texts("wiki", 200) if len(substring.words(t)) > 80][:3]
    shared = " ".join(sample_texts("books", 1)[0].split()[:60])
    docs = [Document(id=f"d{i}", text=t + "\n" + shared, source=src) for i, (t, src) in enumerate(zip(own, ["web", "books", "web"]))]
    cfg = DedupConfig(methods=["substring"], scope="source", substring=SubstringDedupConfig(min_chars_left=0, max_removed_fraction=1.0))
    needle = " ".join(substring.words(shared))

    def check(items):
        holders = sorted(d.id for d in items if needle in " ".join(substring.words(d.text)))
        assert holders == ["d0", "d1"], holders  # d2 repeats d0 within web; d1 is the only books copy

    p = local_test_pipeline()
    result = p | beam.Create(docs) | CutRepeatedSubstrings(cfg, keep_text=True)
    assert_that(result.kept, check)
    p.run().wait_until_finish()


def test_stage_without_repeats_keeps_every_document_as_it_is():
    docs = [(f"d{i}", t) for i, t in enumerate(sample_texts("wiki", 5))] + [("short", "a few words")]
    cfg = DedupConfig(methods=["substring"], substring=SubstringDedupConfig(min_chars_left=0))

    def check(kept, rejected):
        assert rejected == [] and {i: d.text for i, d in kept.items()} == dict(docs)
        assert all(CHARS_REMOVED not in d.scores for d in kept.values())

    run_stage(docs, cfg, check)


def test_config_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"^dedup\.substring\.fingerprint_words: must be in \[1, min_tokens \(10\)\]$"):
        load_config(text="dedup:\n  substring:\n    min_tokens: 10\n    fingerprint_words: 11\n")
    with pytest.raises(ConfigError, match=r"^dedup\.substring\.max_removed_fraction: "):
        load_config(text="dedup:\n  substring:\n    max_removed_fraction: 0\n")
    assert load_config(text="dedup:\n  methods: [exact, substring]\n").dedup.methods == ["exact", "substring"]


def test_packed_positions_and_documents_come_back_as_they_were():
    rng = np.random.Generator(np.random.PCG64(5))
    for _ in range(500):
        starts = np.unique(rng.integers(0, 80, size=rng.integers(0, 40)))
        assert np.array_equal(unpack_runs(pack_runs(starts)), starts)
    assert len(pack_runs(np.arange(100, 140))) == 8  # one run: one pair, whatever its length
    doc = Document(id="a", text="some text", source="web", lang="en", scores={"s": 1.5}, metadata={"m": "v"}, html=b"<p>")
    assert unpack_document(pack_document(doc)) == doc
    assert pack_document(doc) == pack_document(doc)  # deterministic bytes


def test_scored_output_holds_every_cut_document_kept_or_rejected():
    wiki = sample_texts("wiki", 60)
    base = " ".join(sample_texts("books", 2)[1].split()[:400])
    own_b, own_c = [t for t in wiki if 150 < len(substring.words(t)) < 300][:2]
    docs = [Document(id="a", text=base, source="web"), Document(id="b", text=base[: len(base) * 9 // 10] + "\n" + own_b, source="web")]
    docs.append(Document(id="c", text=own_c + "\n" + base[:400], source="web"))
    cfg = DedupConfig(methods=["substring"], substring=SubstringDedupConfig(min_chars_left=50, max_removed_fraction=0.5))

    def check(scored):
        by_id = {d.id: d.scores for d in scored}
        assert sorted(by_id) == ["b", "c"]  # "a" holds the first copy: not cut, not scored
        assert by_id["b"][REMOVED_FRACTION] > 0.5 >= by_id["c"][REMOVED_FRACTION] > 0
        assert all(s[CHARS_REMOVED] > 0 for s in by_id.values())

    p = local_test_pipeline()
    result = p | beam.Create(docs) | CutRepeatedSubstrings(cfg, keep_text=True)
    assert_that(result.scored, check)
    p.run().wait_until_finish()


def test_word_offsets_match_the_regex():
    import re

    word = re.compile(r"\w")
    # the table behind word_starts_ends: \w is [0-9A-Za-z_] and what str.isalnum() accepts
    assert all(bool(word.match(chr(c))) == (chr(c).isalnum() or c == 95) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    rng = np.random.Generator(np.random.PCG64(7))
    texts = list(sample_texts("wiki", 50)) + ["", " ", "_a", "a\ud800b c", "é-ü ﬁ x²3 ٣"]
    texts += ["".join(map(chr, rng.choice([32, 46, 97, 95, 233, 0x660, 0x2003, 0x1F600, 0x4E00], size=40))) for _ in range(200)]
    for text in texts:
        spans = np.array([m.span() for m in re.finditer(r"\w+", text)], dtype=np.int64).reshape(-1, 2)
        starts, ends = substring.word_starts_ends(text)
        assert np.array_equal(starts, spans[:, 0]) and np.array_equal(ends, spans[:, 1]), text[:40]


def test_candidate_kgrams_do_not_depend_on_the_batch():
    texts = list(sample_texts("wiki", 60)) + [sample_texts("wiki", 60)[3]]  # one repeat at least
    counts = {}
    for _, fp in substring.batch_fingerprints(texts, K, G):
        for v in fp.tolist():
            counts[v] = counts.get(v, 0) + 1
    candidates = substring.candidate_set(np.array([v for v, n in counts.items() if n > 1], dtype=np.uint64))
    together = substring.batch_candidate_kgrams(texts, candidates, K, G)
    assert any(together)
    for text, found in zip(texts, together):
        (alone,) = substring.batch_candidate_kgrams([text], candidates, K, G)
        assert len(alone) == len(found)
        for (v1, s1, h1), (v2, s2, h2) in zip(alone, found):
            assert v1 == v2 and np.array_equal(s1, s2) and np.array_equal(h1, h2)


def test_batch_word_hashes_are_the_hashes_of_the_words():
    from pipeline.text.dedup.minhash import unit_hashes

    rng = np.random.Generator(np.random.PCG64(8))
    mixed = ["".join(map(chr, rng.choice([32, 0, 46, 97, 95, 233, 0x660, 0x2003, 0x1F600, 0x4E00], size=30))) for _ in range(100)]
    batches = [list(sample_texts("wiki", 100)), list(sample_texts("books", 3)), mixed, [""], ["", "a b"], ["x\ud800 y", "z"]]
    for texts in batches:
        hashes, offsets = substring.batch_word_hashes(texts)
        per_text = [substring.words(t) for t in texts]
        assert offsets.tolist() == np.cumsum([0] + [len(w) for w in per_text]).tolist()
        assert np.array_equal(hashes, unit_hashes([w for ws in per_text for w in ws]))
