"""Repeated-paragraph removal through Beam, against the rule computed directly: a line whose hash
is in more than max_docs documents (of its scope, among the configured sources) goes everywhere."""

from collections import Counter

import apache_beam as beam
import numpy as np
from apache_beam.testing.util import assert_that, equal_to

from pipeline.config import DedupConfig
from pipeline.records import Document
from pipeline.stages import value_counts
from pipeline.stages.paragraph_dedup import CHARS_REMOVED, LINES_REMOVED, PARAGRAPHS_STAGE, RemoveRepeatedParagraphs
from pipeline.text.dedup.paragraphs import ParagraphDedupConfig, line_hashes, paragraph_hashes, remove_paragraphs
from tests.local_beam import local_test_pipeline

FOOTER = "© 2024 Harbour Gazette. All rights reserved."
MENU = "Home | News | Sport | Contact"
QUOTE = "A quote that three pages share and no more."


_WORDS = "harbour granite council meadow lantern orchard ferry quarry violin thistle".split()


def _article(i: int) -> str:
    """Four lines no other article has (digits would all normalise to 0, so words tell them apart)."""
    return "\n".join(f"The {_WORDS[i % 10]} {_WORDS[i // 10]} report, part {_WORDS[k]}: residents discussed it at length." for k in range(4))


def _corpus() -> list[Document]:
    docs = []
    for i in range(40):
        lines = [_article(i)]
        if i % 2 == 0:
            lines.append(FOOTER if i % 4 else FOOTER.upper())  # the same paragraph once normalised
        if i < 3:
            lines.append(QUOTE)  # in 3 documents: at max_docs = 3, not boilerplate
        if i < 12:
            lines.insert(0, MENU)
        source = "web" if i < 30 else "books"
        docs.append(Document(id=f"d{i:02d}", text="\n".join(lines), source=source))
    docs.append(Document(id="short", text=f"{MENU}\n{FOOTER}\nTiny.", source="web"))  # left too short
    return docs


def _expected(docs: list[Document], cfg: DedupConfig) -> tuple[dict[str, str], set[str]]:
    """(kept id -> text, rejected ids) by the rule itself."""
    p = cfg.paragraphs

    def scope(d):
        return d.source if cfg.scope == "source" else ""

    counted = [d for d in docs if not p.sources or d.source in p.sources]
    counts = Counter((scope(d), h) for d in counted for h in paragraph_hashes(d.text))
    kept, rejected = {}, set()
    for d in docs:
        drop = {h for (s, h), n in counts.items() if n > p.max_docs and s == scope(d)} if d in counted else set()
        text, _, _ = remove_paragraphs(d.text, drop)
        if text != d.text and len(text.strip()) < p.min_chars_left:
            rejected.add(d.id)
        else:
            kept[d.id] = text
    return kept, rejected


def _run(docs: list[Document], cfg: DedupConfig):
    kept, rejected = _expected(docs, cfg)
    with local_test_pipeline() as p:
        result = p | beam.Create(docs) | RemoveRepeatedParagraphs(cfg, keep_text=True)
        assert_that(result.kept | "KeptTexts" >> beam.Map(lambda d: (d.id, d.text)), equal_to(sorted(kept.items())), label="kept")
        assert_that(
            result.rejected | beam.Map(lambda r: (r.doc_id, r.stage, r.reason)),
            equal_to([(i, PARAGRAPHS_STAGE, "boilerplate_only") for i in rejected]),
            label="rejected",
        )
    return kept, rejected


def test_lines_in_more_than_max_docs_documents_go_everywhere():
    cfg = DedupConfig(methods=["paragraphs"], paragraphs=ParagraphDedupConfig(max_docs=3, min_chars_left=20, sources=["web"]))
    kept, rejected = _run(_corpus(), cfg)
    assert rejected == {"short"}
    assert all(FOOTER not in t and FOOTER.upper() not in t and MENU not in t for i, t in kept.items() if int(i[1:]) < 30)
    assert sum(QUOTE in t for t in kept.values()) == 3  # in exactly max_docs documents: kept
    assert FOOTER in kept["d30"] or FOOTER.upper() in kept["d30"]  # books: not a configured source, untouched


def test_scope_source_counts_each_source_apart():
    cfg = DedupConfig(methods=["paragraphs"], scope="source", paragraphs=ParagraphDedupConfig(max_docs=6, min_chars_left=20, sources=[]))
    kept, _ = _run(_corpus(), cfg)
    # The footer is on 15 web pages and 5 book documents: gone from the web, kept in books.
    assert not any(FOOTER.lower() in t.lower() for i, t in kept.items() if i != "short" and int(i[1:]) < 30)
    assert all(FOOTER.lower() in t.lower() for i, t in kept.items() if i != "short" and int(i[1:]) >= 30 and int(i[1:]) % 2 == 0)


def test_cleaned_documents_carry_what_was_removed():
    cfg = DedupConfig(methods=["paragraphs"], paragraphs=ParagraphDedupConfig(max_docs=3, min_chars_left=20, sources=["web"]))
    with local_test_pipeline() as p:
        result = p | beam.Create(_corpus()) | RemoveRepeatedParagraphs(cfg, keep_text=True)
        scored = result.kept | beam.Filter(lambda d: d.id == "d00") | beam.Map(lambda d: (d.scores[LINES_REMOVED], d.scores[CHARS_REMOVED] > 0))
        assert_that(scored, equal_to([(2.0, True)]))


def test_no_boilerplate_keeps_every_document_as_it_is():
    docs = [Document(id=f"u{i}", text=_article(i), source="web") for i in range(5)]
    cfg = DedupConfig(methods=["paragraphs"])
    with local_test_pipeline() as p:
        result = p | beam.Create(docs) | RemoveRepeatedParagraphs(cfg, keep_text=True)
        assert_that(result.kept, equal_to(docs))


def test_value_counts_sum_across_batches_and_shards():
    rng = np.random.default_rng(0)
    batches = [np.unique(rng.integers(0, 2**64, size=300, dtype=np.uint64) | np.uint64(1)) for _ in range(5)]
    batches.append(batches[0][:50])  # repeats across batches
    parts: dict[int, list] = {}
    for b in batches:
        for shard, part in value_counts.by_shard(*np.unique(b, return_counts=True)):
            parts.setdefault(shard, []).append(part)
    summed = {}
    for shard_parts in parts.values():
        values, counts = value_counts.totals(shard_parts)
        summed.update(zip(values.tolist(), counts.tolist()))
    assert summed == dict(Counter(v for b in batches for v in b.tolist()))
    found = value_counts.SortedValues().extract_output([batches[0][:10].tobytes(), batches[1][:5].tobytes()])
    probe = np.concatenate([batches[0][:3], batches[2][:3]])
    assert value_counts.holding(probe, found).tolist() == [True] * 3 + [False] * 3


def test_line_hashes_are_the_lines_hashed_one_by_one():
    from pipeline.text.dedup.paragraphs import line_hash

    text = "Café\u0301 ٣\r\n\n  \u00a9 2024  Straße\u200b\n\tTAB\x0bline\u2028x\n"
    assert line_hashes(text) == [line_hash(line) for line in text.split("\n")]
