"""Exact-substring dedup: accuracy against a suffix array, throughput, shuffle volume, memory.

    python -m bench.bench_substring [--plants 2000] [--repeat 2] [--beam-mb 4]

Corpus: every document of the built-in sample (pipeline/sample/data/*.jsonl.gz, all sources), with
--plants spans of min_tokens..3x min_tokens words copied from one document into another
(substring_reference.planted_corpus, seed 0), on top of the repeats the sample already has.
Measured, at the default SubstringDedupConfig (k = 34 words, 8-word fingerprints):
  reference   one suffix array (pydivsufsort) over the word ids of the whole corpus: the words
              every later copy covers (untimed against the targets; its time is shown);
  accuracy    character precision / recall / F1 of what the core removes vs the reference;
  core        substring.find_cuts: steps 1 and 2 with dicts where the stage shuffles, one process
              (pure numpy + Python); and its fingerprint pass alone (the part every byte goes through);
  shuffle     the bytes each shuffle of the Beam stage carries, every element built by the stage's
              own functions and encoded with Beam's FastPrimitivesCoder (what the runners use for
              these tuples), per input text byte: fingerprint counts (one per distinct fingerprint
              of a batch), candidate values gathered into the candidate set, k-gram records, cuts,
              the cut documents' ids gathered for the routing, and the one join with documents (the
              documents that get cut, packed: pickle + zstd, substring_dedup.pack_document);
  side inputs the candidate set and the cut ids' hashes (8 bytes a value), which every worker holds
              whole: counted apart from the shuffles, not in them;
  memory      peak Python allocation (tracemalloc) of the fingerprint pass on one batch of 256
              documents, against that batch's text: a worker holds one batch, not the corpus;
  beam        the Beam stage (CutRepeatedSubstrings) on the DirectRunner, one worker, on the first
              --beam-mb MB of the corpus, minus the same pipeline without the stage (each the best
              of --repeat runs), in wall time and in the process's CPU time (steadier on a shared
              machine: other processes do not count); Beam's fixed costs cut as pipeline.run cuts them;
Writes bench/results/substring.md (git-ignored) and prints it.
"""

import argparse
import os
import time
import tracemalloc

from apache_beam.coders import coders

from bench.bench_minhash import sample_texts
from bench.common import RESULTS_DIR, best_of, command_line, header, write_report
from pipeline.config import DedupConfig
from pipeline.id_hashes import SortedHashes, id_hash
from pipeline.records import Document
from pipeline.text.dedup import substring
from pipeline.text.dedup.substring import SubstringDedupConfig
from pipeline.text.dedup.substring_reference import char_f1, planted_corpus, reference_removed

RESULTS = os.path.join(RESULTS_DIR, "substring.md")
CFG = SubstringDedupConfig()
K, G = CFG.min_tokens, CFG.fingerprint_words
CODER = coders.FastPrimitivesCoder()


def _size(element) -> int:
    return len(CODER.encode(element))


SHUFFLES = ("fingerprints", "candidate set", "kgrams", "cuts", "cut ids", "join cut documents")
SIDE_INPUTS = ("candidate set", "cut ids")


def shuffle_bytes(docs: list[tuple[str, str]]) -> tuple[dict[str, int], dict[str, int]]:
    """Every shuffle of the stage replayed with its own functions (the same elements, packed the
    same way), each element's encoded size summed: (bytes by shuffle, bytes by side input). The two
    CombineGlobally steps that build the side inputs are counted as shuffles of their inputs (each
    candidate value, each cut's id: no combiner lifting assumed); a side input's bytes are those of
    its array (8 per value), which every worker then holds, counted apart."""
    from pipeline.stages import substring_dedup as stage
    from pipeline.stages import value_counts

    cfg = DedupConfig(methods=["substring"])
    sizes = dict.fromkeys(SHUFFLES, 0)
    records = [Document(id=doc_id, text=text, source="web") for doc_id, text in docs]
    batches = [records[lo : lo + CFG.batch_size] for lo in range(0, len(records), CFG.batch_size)]
    counts: dict = {}
    for batch in batches:
        for key, n in stage.fingerprint_counts(batch, cfg):
            sizes["fingerprints"] += _size((key, n))
            counts.setdefault(key, []).append(n)
    values = [v for group in counts.items() for v in stage._candidates(group)]
    sizes["candidate set"] = sum(_size(v) for v in values)
    candidates = value_counts.SortedValues().extract_output(values)
    by_value: dict = {}
    for batch in batches:
        for key, record in stage.kgram_records(batch, candidates, cfg):
            sizes["kgrams"] += _size((key, record))
            by_value.setdefault(key, []).append(record)
    cut_ids = set()
    for group in by_value.values():
        for doc_id, later in substring.group_cuts(stage._Unpacked(group)):
            sizes["cuts"] += _size((doc_id, stage.pack_runs(later)))
            sizes["cut ids"] += _size(doc_id)
            cut_ids.add(doc_id)
    marked = SortedHashes().extract_output([id_hash(i) for i in cut_ids])
    for doc in records:
        if doc.id in cut_ids:
            sizes["join cut documents"] += _size((doc.id, stage.pack_document(doc)))
    return sizes, {"candidate set": candidates.nbytes, "cut ids": marked.nbytes}


def fingerprint_pass(docs):
    for lo in range(0, len(docs), CFG.batch_size):
        substring.batch_fingerprints([t for _, t in docs[lo : lo + CFG.batch_size]], K, G)


def batch_memory(docs) -> tuple[float, float]:
    """(peak MiB of the fingerprint pass on the largest batch, that batch's text in MiB)."""
    batches = [docs[lo : lo + CFG.batch_size] for lo in range(0, len(docs), CFG.batch_size)]
    batch = max(batches, key=lambda b: sum(len(t) for _, t in b))
    texts = [t for _, t in batch]
    tracemalloc.start()
    substring.batch_fingerprints(texts, K, G)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20, sum(len(t.encode()) for t in texts) / 2**20


def beam_seconds(docs, repeat: int = 1) -> tuple[float, float, float, float]:
    """Create -> stage -> count and Create -> count on the DirectRunner, one worker: (wall seconds
    with, without, CPU seconds of this process with, without), each the best of `repeat` runs
    (alternated). CPU time counts every thread of the process and not the other processes of a
    shared machine, so it is the steadier measure of the stage's cost per core."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.beam_fixes import direct_runner
    from pipeline.beam_overhead import cut_fixed_costs
    from pipeline.stages.substring_dedup import CutRepeatedSubstrings

    cut_fixed_costs()  # as pipeline.run does before it builds a graph
    records = [Document(id=i, text=t, source="web") for i, t in docs]

    def run(with_stage: bool) -> tuple[float, float]:
        start, cpu = time.perf_counter(), time.process_time()
        options = PipelineOptions(["--direct_num_workers=1"])
        with beam.Pipeline(runner=direct_runner(options), options=options) as p:
            pc = p | beam.Create(records, reshuffle=False)
            if with_stage:
                pc = (pc | CutRepeatedSubstrings(DedupConfig(methods=["substring"]), keep_text=False)).kept
            _ = pc | beam.combiners.Count.Globally()
        return time.perf_counter() - start, time.process_time() - cpu

    times = [(run(True), run(False)) for _ in range(repeat)]
    return (
        min(w[0] for w, _ in times),
        min(wo[0] for _, wo in times),
        min(w[1] for w, _ in times),
        min(wo[1] for _, wo in times),
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_substring", description=__doc__.split("\n")[0])
    parser.add_argument("--plants", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--beam-mb", type=float, default=4.0, help="MB of the corpus the Beam stage runs on (0: skip)")
    args = parser.parse_args()

    docs, _ = planted_corpus(sample_texts(), args.plants, K, seed=0)
    mb = sum(len(t.encode()) for _, t in docs) / 1e6
    n_words = sum(len(substring.words(t)) for _, t in docs)

    ref_s, want = best_of(1, lambda: reference_removed(docs, K))
    core_s, cuts = best_of(args.repeat, lambda: substring.find_cuts(docs, K, G, CFG.batch_size))
    fp_s, _ = best_of(args.repeat, lambda: fingerprint_pass(docs))
    texts = dict(docs)
    got = {i: substring.removed_mask(len(substring.words(texts[i])), q, K) for i, q in cuts.items()}
    precision, recall, f1 = char_f1(docs, got, want)
    removed_chars = sum(b - a for i, m in want.items() if m.any() for a, b in substring.removed_ranges(texts[i], m))
    sizes, side = shuffle_bytes(docs)
    own = sum(sizes[k] for k in SHUFFLES if k != "join cut documents")
    total = sum(sizes.values())
    peak_mib, batch_mib = batch_memory(docs)

    lines = header("Exact-substring dedup", command_line("bench.bench_substring", parser, args))
    lines += [
        f"- corpus: the sample + {args.plants} planted spans: {len(docs):,} documents, {mb:.2f} MB, {n_words:,} words; "
        f"k = {K} words, fingerprints of {G} words (window {K - G + 1})",
        f"- reference (suffix array over word ids, pydivsufsort): {ref_s:.2f} s; removes {removed_chars:,} characters "
        f"({removed_chars / (mb * 1e6):.1%} of the bytes) from {sum(m.any() for m in want.values()):,} documents",
        "",
        "| measure | value | target | ratio (value / target) |",
        "|---|---|---|---|",
        f"| character F1 vs suffix array (precision {precision:.4f}, recall {recall:.4f}) | {f1:.4f} | >= 0.99 | {f1 / 0.99:.3f} |",
        f"| core (find_cuts, 1 process), MB/s | {mb / core_s:.2f} | >= 5 | {mb / core_s / 5:.2f} |",
        f"| fingerprint pass alone (every byte), MB/s | {mb / fp_s:.2f} | >= 5 | {mb / fp_s / 5:.2f} |",
        f"| shuffled bytes per input byte, the stage's signals (every shuffle but the one with documents) | {own / (mb * 1e6):.3f} | <= 1 | {own / (mb * 1e6):.3f} |",
        f"| shuffled bytes per input byte, every shuffle (with the cut documents' join) | {total / (mb * 1e6):.3f} | <= 1 | {total / (mb * 1e6):.3f} |",
        f"| side inputs, bytes per input byte (held whole by every worker; not shuffled) | {sum(side.values()) / (mb * 1e6):.3f} | - | - |",
        f"| peak MiB of one batch's fingerprint pass / its text MiB | {peak_mib:.1f} / {batch_mib:.1f} | bounded by the batch | {peak_mib / batch_mib:.1f}x |",
    ]
    if args.beam_mb > 0:
        part, acc = [], 0
        for d in docs:
            if acc >= args.beam_mb * 1e6:
                break
            part.append(d)
            acc += len(d[1].encode())
        with_stage, without, cpu_with, cpu_without = beam_seconds(part, args.repeat)
        stage_s = max(with_stage - without, 1e-9)
        stage_cpu = max(cpu_with - cpu_without, 1e-9)
        lines.append(
            f"| Beam stage, DirectRunner 1 worker, {acc / 1e6:.1f} MB ({with_stage:.1f} s with, {without:.1f} s without), MB/s wall "
            f"| {acc / 1e6 / stage_s:.2f} | >= 5 | {acc / 1e6 / stage_s / 5:.2f} |"
        )
        lines.append(
            f"| the same, CPU time of the process ({cpu_with:.1f} s with, {cpu_without:.1f} s without), MB/s per core "
            f"| {acc / 1e6 / stage_cpu:.2f} | >= 5 | {acc / 1e6 / stage_cpu / 5:.2f} |"
        )
    lines += ["", "Shuffled bytes by shuffle (FastPrimitivesCoder encodings):", "", "| shuffle | bytes | per input byte |", "|---|---|---|"]
    lines += [f"| {name} | {value:,} | {value / (mb * 1e6):.3f} |" for name, value in sizes.items()]
    lines += [
        "",
        "Side inputs (the arrays every worker holds whole, 8 bytes a value):",
        "",
        "| side input | bytes | per input byte |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {value:,} | {value / (mb * 1e6):.4f} |" for name, value in side.items()]
    write_report(RESULTS, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
