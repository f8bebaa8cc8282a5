"""The dedup stages through Beam (strict assert_that on both kept and rejected) and through the
CLI (identical bytes whatever the worker count, and exactly the planted duplicates dropped)."""

import gzip
import hashlib
import json
import os
from pathlib import Path

import apache_beam as beam
import numpy as np
import pyarrow.parquet as pq
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.util import assert_that, equal_to

from pipeline import run
from pipeline.config import DedupConfig
from pipeline.records import Document, Rejection
from pipeline.stages.dedup import EXACT_STAGE, DedupReason, DropExactDuplicates
from pipeline.stages.near_dedup import MINHASH_STAGE, MinHashSketch, VerifyExactJaccard, _bucket_edges, drop_minhash_duplicates
from pipeline.text.dedup import minhash
from pipeline.text.dedup.exact import ExactDedupConfig, exact_key
from pipeline.text.dedup.minhash import MinHashConfig
from tests.local_beam import local_test_pipeline

SAMPLE = Path(__file__).resolve().parents[2] / "pipeline" / "sample" / "data"

LIBRARY = (
    "The county library board met on Tuesday evening to review the proposed budget for the coming year. "
    "Members heard from the director, who explained that rising energy costs and the expiry of a state grant "
    "would leave a gap of roughly forty thousand dollars unless the board either raised fees or reduced opening hours. "
    "Several residents spoke during the public comment period, most of them asking the board to protect weekend hours, "
    "which are heavily used by families and by students preparing for examinations. One speaker suggested that the "
    "library partner with the local historical society to apply for a heritage preservation grant that could cover "
    "part of the building maintenance. The board agreed to postpone a final vote until its next meeting, and asked "
    "the director to prepare two alternative budgets, one that keeps current hours and one that trims the schedule "
    "on weekday mornings, when attendance is lowest."
)
BREAD = (
    "To make a simple sourdough loaf, begin the evening before by feeding your starter with equal weights of flour "
    "and water, then leave it covered at room temperature overnight. In the morning, mix five hundred grams of bread "
    "flour with three hundred and fifty grams of lukewarm water and let the mixture rest for thirty minutes so the "
    "flour can hydrate. Add one hundred grams of active starter and ten grams of salt, squeezing the dough between "
    "your fingers until everything is fully combined. Over the next three hours, perform a set of stretches and folds "
    "every half hour, which builds strength without kneading. Once the dough has risen by about half, shape it into a "
    "tight round, place it seam side up in a floured basket, and refrigerate it overnight. Bake it in a preheated "
    "covered pot at a high temperature, removing the lid after twenty minutes so the crust can brown."
)
GLACIER = (
    "Researchers studying the retreat of mountain glaciers in the southern Alps have published a decade of "
    "measurements showing that the ice lost its mass faster in the last five summers than in any comparable period "
    "on record. The team combined satellite altimetry with stakes drilled into the ice and read by hand each autumn, "
    "an old method that remains the most reliable check on remote sensing. Their data suggest that warm nights, "
    "rather than record daytime temperatures, explain much of the acceleration, because the surface no longer "
    "refreezes after sunset. Meltwater now reaches the valleys earlier in the season, which matters for farmers who "
    "depend on it in late summer. The authors caution that smaller glaciers below three thousand metres may vanish "
    "within a few decades, and they call for a denser network of weather stations at high altitude."
)


def edit(text: str, *substitutions: tuple[str, str]) -> str:
    for old, new in substitutions:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def docs_of(texts: dict[str, str], source: str = "web") -> list[Document]:
    return [Document(id=doc_id, text=text, source=source) for doc_id, text in texts.items()]


def rejection(doc: Document, stage: str, reason: DedupReason, kept_id: str, keep_text: bool = True) -> Rejection:
    return Rejection.of(doc, stage, reason, f"duplicate of {kept_id}", keep_text)


def run_stage(transform, docs, expected_kept_ids, expected_rejected):
    p = local_test_pipeline()
    result = p | beam.Create(docs) | transform
    assert_that(result.kept | beam.Map(lambda d: d.id), equal_to(expected_kept_ids), label="kept")
    assert_that(result.rejected, equal_to(expected_rejected), label="rejected")
    assert_that(result.skipped, equal_to([]), label="skipped")
    outcome = p.run()
    outcome.wait_until_finish()
    return outcome


def counters(outcome, stage: str) -> dict[str, int]:
    found = outcome.metrics().query(MetricsFilter().with_namespace(stage))["counters"]
    return {c.key.metric.name: c.committed for c in found}


def minhash_view(a: str, b: str, cfg: MinHashConfig | None = None) -> tuple[float, bool]:
    """(estimated Jaccard, shares an LSH band) of two texts, as DropNearDuplicates sees them."""
    cfg = cfg or MinHashConfig()
    shingles = minhash.shingle_hashes([a, b], minhash.Shingling(unit=cfg.shingle, n=cfg.ngram))
    sigs = minhash.signatures(shingles, *minhash.permutations(cfg.num_perm, cfg.seed))
    keys = minhash.band_keys(sigs, *minhash.lsh_params(cfg.threshold, cfg.num_perm))
    return minhash.estimated_jaccard(sigs[0], sigs[1]), bool((keys[0] == keys[1]).any())


# --- exact --------------------------------------------------------------------------------------

NOTICE = "The museum opens at nine.\nTickets are free on the first Sunday of every month."


def test_exact_case_and_whitespace_variants_keep_the_smallest_id():
    docs = docs_of(
        {
            "m2": NOTICE,
            "m1": "THE MUSEUM OPENS AT NINE.\nTickets are FREE on the first Sunday of every month.",
            "m3": "  The museum   opens at nine.\n\n\tTickets are free on the first Sunday of every month.  ",
            "m4": "The museum opens at nine. Tickets are free on the first Sunday of every month!",  # other punctuation
            "c2": "Caf\u00e9 hours: 8 to 18.",  # composed é
            "c1": "Cafe\u0301 hours: 8 to 18.",  # e + combining acute: the same text after NFC
            "other": "The museum closes at five.",
        }
    )
    by_id = {d.id: d for d in docs}
    outcome = run_stage(
        DropExactDuplicates(DedupConfig(), keep_text=True),
        docs,
        ["m1", "m4", "c1", "other"],
        [
            rejection(by_id["m2"], EXACT_STAGE, DedupReason.EXACT_DUPLICATE, "m1"),
            rejection(by_id["m3"], EXACT_STAGE, DedupReason.EXACT_DUPLICATE, "m1"),
            rejection(by_id["c2"], EXACT_STAGE, DedupReason.EXACT_DUPLICATE, "c1"),
        ],
    )
    assert counters(outcome, EXACT_STAGE) == {"kept": 4, "exact_duplicate": 3}


def test_exact_is_case_sensitive_when_lowercase_is_off():
    docs = docs_of({"a": NOTICE, "b": NOTICE.upper(), "c": NOTICE + "  "})
    cfg = DedupConfig(exact=ExactDedupConfig(lowercase=False))
    run_stage(
        DropExactDuplicates(cfg, keep_text=False),
        docs,
        ["a", "b"],
        [rejection(docs[2], EXACT_STAGE, DedupReason.EXACT_DUPLICATE, "a", keep_text=False)],
    )


def test_exact_strip_punctuation_makes_punctuation_variants_duplicates():
    texts = {
        "p1": "Tickets are free on Sundays!",
        "p2": "Tickets are free on Sundays.",
        "p3": "Tickets -- are free, on Sundays",
        "p4": "Tickets are free on Saturdays.",
    }
    assert len({exact_key(t, ExactDedupConfig()) for t in texts.values()}) == 4
    docs = docs_of(texts)
    cfg = DedupConfig(exact=ExactDedupConfig(strip_punctuation=True))
    expected = [rejection(d, EXACT_STAGE, DedupReason.EXACT_DUPLICATE, "p1") for d in docs[1:3]]
    run_stage(DropExactDuplicates(cfg, keep_text=True), docs, ["p1", "p4"], expected)


def test_exact_scope_source_keeps_the_same_text_once_per_source():
    docs = [
        Document(id="w1", text=NOTICE, source="web"),
        Document(id="w2", text=NOTICE.lower(), source="web"),
        Document(id="b1", text=NOTICE, source="books"),
        Document(id="a9", text=NOTICE, source="academic"),
    ]
    expected = [rejection(docs[1], EXACT_STAGE, DedupReason.EXACT_DUPLICATE, "w1")]
    run_stage(DropExactDuplicates(DedupConfig(scope="source"), keep_text=True), docs, ["w1", "b1", "a9"], expected)
    # Globally, the smallest id of the four wins whatever its source.
    expected = [rejection(d, EXACT_STAGE, DedupReason.EXACT_DUPLICATE, "a9") for d in docs[:3]]
    run_stage(DropExactDuplicates(DedupConfig(), keep_text=True), docs, ["a9"], expected)


# --- near ---------------------------------------------------------------------------------------

LIBRARY_COPIES = {
    "lib-3": LIBRARY,
    "lib-1": edit(LIBRARY, ("forty", "fifty"), ("protect weekend", "protect Sunday")),  # smallest id: kept
    "lib-5": edit(LIBRARY, ("Tuesday", "Wednesday")),
    "lib-7": edit(LIBRARY, ("rising energy costs", "higher heating bills")),  # three words in a row
}
# A ~ B ~ C, but A and C are too far apart to be near duplicates of each other.
BREAD_B = edit(BREAD, ("lukewarm", "warm"), ("twenty minutes", "fifteen minutes"))
BREAD_C = edit(BREAD_B, ("fully combined", "evenly combined"), ("high temperature", "very high heat"))


def test_near_duplicates_keep_the_smallest_id_and_name_it():
    for doc_id in ("lib-1", "lib-5", "lib-7"):
        similarity, shares_band = minhash_view(LIBRARY, LIBRARY_COPIES[doc_id])
        assert similarity >= 0.8 and shares_band, doc_id  # what the fixture is for
    docs = docs_of({**LIBRARY_COPIES, "glacier": GLACIER})
    by_id = {d.id: d for d in docs}
    expected = [rejection(by_id[i], MINHASH_STAGE, DedupReason.NEAR_DUPLICATE, "lib-1") for i in ("lib-3", "lib-5", "lib-7")]
    outcome = run_stage(drop_minhash_duplicates(DedupConfig(), keep_text=True), docs, ["lib-1", "glacier"], expected)
    assert counters(outcome, MINHASH_STAGE) == {"sketched": 5, "kept": 2, "near_duplicate": 3}


def test_near_duplicates_are_transitive_through_a_chain():
    ab, ab_band = minhash_view(BREAD, BREAD_B)
    bc, bc_band = minhash_view(BREAD_B, BREAD_C)
    ac, _ = minhash_view(BREAD, BREAD_C)
    assert ab >= 0.8 and bc >= 0.8 and ab_band and bc_band and ac < 0.8
    docs = docs_of({"bread-a": BREAD, "bread-b": BREAD_B, "bread-c": BREAD_C})
    # bread-c is no near duplicate of bread-a, yet it is dropped as one: components are transitive.
    expected = [rejection(d, MINHASH_STAGE, DedupReason.NEAR_DUPLICATE, "bread-a") for d in docs[1:]]
    run_stage(drop_minhash_duplicates(DedupConfig(), keep_text=True), docs, ["bread-a"], expected)


def test_bucket_edges_connect_a_chain_inside_one_bucket():
    a = np.zeros(128, dtype=np.uint32)
    b = a.copy()
    b[:19] = 1  # agrees with a in 109/128 = 0.85 of positions
    c = b.copy()
    c[19:38] = 2  # agrees with b in 0.85, with a in only 90/128 = 0.70
    sketcher = MinHashSketch(MinHashConfig())
    bucket = (("", 0, 42), [("a", a.tobytes()), ("b", b.tobytes()), ("c", c.tobytes())])
    edges = list(_bucket_edges(sketcher)(bucket))
    assert {"a", "b", "c"} == {n for e in edges for n in e}, edges


def test_near_scope_source_only_compares_within_a_source():
    docs = [Document(id="x1", text=LIBRARY, source="web"), Document(id="x2", text=LIBRARY_COPIES["lib-5"], source="wiki")]
    cfg = DedupConfig(scope="source")
    run_stage(drop_minhash_duplicates(cfg, keep_text=True), docs, ["x1", "x2"], [])


def test_verify_false_keeps_band_collisions_without_checking_them():
    # Two signatures that collide in one band but agree in only 13/128 positions (J ~ 0.1).
    a = np.arange(128, dtype=np.uint32)
    b = a + 1000
    b[:13] = a[:13]
    bucket = (("", 0, 99), [("doc-a", a.tobytes()), ("doc-b", b.tobytes())])
    assert list(_bucket_edges(MinHashSketch(MinHashConfig()))(bucket)) == []
    assert list(_bucket_edges(MinHashSketch(MinHashConfig(verify=False)))(bucket)) == [("doc-a", "doc-b")]
    # Through the stage, with verification, the planted copies still go and nothing else does.
    docs = docs_of(LIBRARY_COPIES)
    by_id = {d.id: d for d in docs}
    library_drops = [rejection(by_id[i], MINHASH_STAGE, DedupReason.NEAR_DUPLICATE, "lib-1", False) for i in ("lib-3", "lib-5", "lib-7")]
    run_stage(drop_minhash_duplicates(DedupConfig(), keep_text=False), docs, ["lib-1"], library_drops)


# --- determinism through the CLI ----------------------------------------------------------------

NO_FILTERS = """\
language:
  keep: []
  threshold: 0.0
  thresholds: {}
quality:
  apply: {"*": []}
dedup:
  methods: [exact, minhash]
"""


def _sample_paragraphs(limit: int) -> list[dict]:
    """Web and curated sample documents of 60-400 words that are no near duplicates of each
    other (estimated Jaccard < 0.5), so the planted ones are the only duplicates."""
    records = []
    for name in ("web", "curated"):
        with gzip.open(SAMPLE / f"{name}.jsonl.gz", "rt", encoding="utf-8") as f:
            records += [r for r in map(json.loads, f) if 60 <= len(r["text"].split()) <= 400][:limit]
    cfg = MinHashConfig()
    shingles = minhash.shingle_hashes([r["text"] for r in records], minhash.Shingling(n=cfg.ngram))
    sigs = minhash.signatures(shingles, *minhash.permutations(cfg.num_perm, cfg.seed))
    chosen, exact_keys = [], set()
    for i, r in enumerate(records):
        key = exact_key(r["text"], ExactDedupConfig())
        if key not in exact_keys and all(minhash.estimated_jaccard(sigs[i], sigs[j]) < 0.5 for j in chosen):
            chosen.append(i)
            exact_keys.add(key)
    return [records[i] for i in chosen]


def _planted_corpus() -> tuple[list[dict], dict[str, tuple[str, str, str]]]:
    """130 sample documents, 10 exact and 10 near duplicates of some of them: (records, expected
    rejections by id as (stage, reason, detail))."""
    originals = [{"id": f"doc-{i:03d}", "text": r["text"], "source": r["source"]} for i, r in enumerate(_sample_paragraphs(100))][:130]
    assert len(originals) == 130
    planted, expected = [], {}
    for n, doc in enumerate(originals[::13][:10]):  # doc-000, doc-013, ...
        copy = "  " + doc["text"].upper().replace(" ", "  \n") if n % 2 else doc["text"].lower() + "\n"
        planted.append({"id": f"{doc['id']}-exact", "text": copy, "source": doc["source"]})
        expected[f"{doc['id']}-exact"] = (EXACT_STAGE, "exact_duplicate", f"duplicate of {doc['id']}")
    near = [d for d in originals[5::3] if len(d["text"].split()) >= 150 and f"{d['id']}-exact" not in expected]
    for n, doc in enumerate(near):
        words = doc["text"].split(" ")
        for k in range(1 + n % 2):  # one or two words changed, far apart
            at = (k + 1) * len(words) // 3
            words[at] = "harbour" if words[at] != "harbour" else "granite"
        text = " ".join(words)
        similarity, shares_band = minhash_view(doc["text"], text)
        if similarity >= 0.85 and shares_band and len(expected) < 20:  # LSH finds the pair for sure
            planted.append({"id": f"{doc['id']}-near", "text": text, "source": doc["source"]})
            expected[f"{doc['id']}-near"] = (MINHASH_STAGE, "near_duplicate", f"duplicate of {doc['id']}")
    assert len(expected) == 20
    records = originals + planted
    records.sort(key=lambda r: hashlib.sha256(r["id"].encode()).hexdigest())  # duplicates spread over the file
    return records, expected


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        os.path.relpath(os.path.join(d, name), root): hashlib.sha256(Path(d, name).read_bytes()).hexdigest()
        for d, _, names in os.walk(root)
        for name in names
    }


def test_cli_dedup_is_deterministic_across_reruns_and_workers(tmp_path):
    records, expected = _planted_corpus()
    corpus = tmp_path / "in" / "corpus.jsonl"
    corpus.parent.mkdir()
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    cfg = tmp_path / "dedup_only.yaml"
    cfg.write_text(NO_FILTERS)

    digests = []
    workers = [["--direct_num_workers=1"], ["--direct_num_workers=1"], ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]]
    for i, flags in enumerate(workers):
        out = tmp_path / f"out{i}"
        args = ["--runner=DirectRunner", "--input", str(corpus), "--output", str(out), "--config", str(cfg), *flags]
        assert run.main(args) == 0
        digests.append(_tree_digest(out))
    assert digests[0] == digests[1] == digests[2]
    assert {p.split("/")[0] for p in digests[0]} >= {"documents", "rejections", "stats.json"}

    out = tmp_path / "out0"
    rejected = pq.read_table(out / "rejections").to_pylist()
    assert {r["doc_id"]: (r["stage"], r["reason"], r["detail"]) for r in rejected} == expected
    assert len(rejected) == len(expected)
    kept = pq.read_table(out / "documents", columns=["id"]).column("id").to_pylist()
    assert sorted(kept) == sorted(r["id"] for r in records if r["id"] not in expected)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["accounting"]["holds"] and stats["rejections"] == {
        EXACT_STAGE: {"exact_duplicate": 10},
        MINHASH_STAGE: {"near_duplicate": 10},
    }


def test_bucket_of_many_copies_costs_one_comparison_per_member():
    sig = np.arange(128, dtype=np.uint32)
    calls = []

    class Counting(MinHashSketch):
        def similar_to_earlier(self, sketches, i):
            calls.append(i)
            return super().similar_to_earlier(sketches, i)

    bucket = (("", 0, 7), [(f"copy-{k:04d}", sig.tobytes()) for k in range(500)])
    edges = list(_bucket_edges(Counting(MinHashConfig()))(bucket))
    assert len(edges) == 499 and all(a == "copy-0000" for a, _ in edges)
    assert len(calls) == 499 and set(calls) == {1}  # each new copy against one group root


def test_exact_verification_keeps_only_pairs_whose_shingle_sets_reach_the_threshold():
    base = np.arange(100, dtype=np.uint32)
    sets = {
        "a": base,
        "b": np.concatenate([base[:90], np.arange(1000, 1010, dtype=np.uint32)]),  # J(a, b) = 90/110 = 0.82
        "c": np.concatenate([base[:60], np.arange(2000, 2040, dtype=np.uint32)]),  # J(a, c) = 60/140 = 0.43
    }
    with local_test_pipeline() as p:
        shingles = p | "Sets" >> beam.Create([(k, np.sort(v).tobytes()) for k, v in sets.items()])
        edges = p | "Edges" >> beam.Create([("a", "b"), ("a", "c")])
        assert_that(edges | VerifyExactJaccard(shingles, 0.8), equal_to([("a", "b")]))
