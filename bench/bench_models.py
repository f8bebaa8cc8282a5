"""The model stages' throughput on one worker, as a ratio to calling their raw libraries.

    python -m bench.bench_models [--scale 4] [--repeat 3] [--profile]

Input: the built-in sample (pipeline/sample/data/*.jsonl.gz) without source "code" (exempt in
both stages), each text's language read once by LanguageIdentifier (untimed), the list written
--scale times over (so Beam's fixed cost per run does not dominate). Documents
(pipeline.records.Document) and every raw variant's inputs are built before any timer. Each
timing is the best of --repeat runs in this one process, the variants of a table run in turns
(bench.common.best_of_each); batches of the stage's batch_size (64).

Perplexity, on the documents in a language with a shipped model (en, fr, es), each scored with
its language's model:
  raw A    kenlm.Model.score(line) for every "\\n"-separated line of the raw text (CCNet's
           per-line loop, without its normalization);
  raw B    kenlm.Model.score on the lines normalize_lines gives (normalized before the timer):
           the library's own cost for exactly the tokens we score;
  peer     CCNet's loop: its normalizer on each line (pipeline/text/perplexity/ccnet.py, the
           steps of cc_net/text_normalizer.py), Model.score, len(split) + 1 tokens;
  ours     ScorePerplexity(PerplexityConfig()).annotate per batch (setup() before the timer);
  Beam     the same annotator in the DirectRunner, one worker, in_memory running mode:
           from_memory(docs) | Annotate(ScorePerplexity) | Count.Globally, wall clock around
           building and running the pipeline (setup() included), nothing subtracted; "feed +
           count only" is the same pipeline without Annotate.
  Breakdown of ours: each step of LanguageModel.score timed alone over the same documents.

Toxicity, on the same documents:
  raw      profanity_check.predict_prob(batch) (the library's function), and its two joblib
           objects called directly: model.predict_proba(vectorizer.transform(batch))[:, 1];
  ours     ScoreToxicity.annotate per batch: classifier_mode="document" on the English
           documents (like for like with predict_prob, plus the English word list); the
           default (word list for every language with one + the classifier per paragraph on
           English), on the English documents and on all; the word lists alone
           (classifier_threshold=None); Beam as for perplexity.

The Beam variants read the documents with bench.common.from_memory, not beam.Create: Create
encodes, pickles and bz2-compresses its whole input into the pipeline graph (26 s for 33,000
of these documents, 50 MB, where the stages take 1-5 s), a cost no real source pays.
Peak memory: tracemalloc's peak (Python allocations only; KenLM's and scikit-learn's C buffers
are not traced) over one untimed run of each in-memory variant on one copy of the sample
(batches are independent: the peak does not grow with --scale).
Writes bench/results/models.md (git-ignored) and prints it.
"""

import argparse
import glob
import gzip
import json
import os
import re
import time

import apache_beam as beam
import kenlm
from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions

from bench.common import RESULTS_DIR, ROOT, best_of, best_of_each, command_line, from_memory, header, peak_mib, profile_top, write_report
from pipeline.beam_fixes import direct_runner
from pipeline.records import Document
from pipeline.stages.base import Annotate
from pipeline.stages.perplexity import PERPLEXITY, ScorePerplexity, shipped_models
from pipeline.stages.toxicity import DENSITY, MATCHES, PROB, ScoreToxicity
from pipeline.text.langid import LanguageIdentifier, default_model_path
from pipeline.text.perplexity import PerplexityConfig
from pipeline.text.perplexity.ccnet import ccnet_normalize_line
from pipeline.text.perplexity.normalize import normalize_lines, normalize_text
from pipeline.text.toxicity import ToxicityConfig
from pipeline.text.toxicity.classifier import ProfanityClassifier
from pipeline.text.toxicity.wordlists import load_matchers, word_count

SAMPLE_GLOB = os.path.join(ROOT, "pipeline", "sample", "data", "*.jsonl.gz")
RESULTS = os.path.join(RESULTS_DIR, "models.md")
TARGET = 0.8  # ours must reach this share of the raw library's docs/s
VERSIONS = ("kenlm", "scikit-learn", "alt-profanity-check", "apache-beam")
EXEMPT = "code"
PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")  # as pipeline.text.toxicity.classifier splits


# ---------------------------------------------------------------- input


def load_sample(scale: int) -> list[Document]:
    """The sample's non-code documents, language-labelled once, repeated `scale` times."""
    records = []
    for path in sorted(glob.glob(SAMPLE_GLOB)):
        name = os.path.basename(path).split(".")[0]
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for i, line in enumerate(f):
                if line.strip():
                    row = json.loads(line)
                    if row.get("source", name) != EXEMPT:
                        records.append((f"{name}:{i}", row["text"], row.get("source", name)))
    ident = LanguageIdentifier(default_model_path())
    langs = []
    for i in range(0, len(records), 256):
        langs += [lang for lang, _ in ident.predict([text for _, text, _ in records[i : i + 256]])]
    return [
        Document(id=f"{copy}:{rid}", text=text, source=source, lang=lang)
        for copy in range(scale)
        for (rid, text, source), lang in zip(records, langs)
    ]


def megabytes(docs: list[Document]) -> float:
    return sum(len(d.text.encode("utf-8")) for d in docs) / 1e6


def batches(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


# ---------------------------------------------------------------- runners


def run_annotator(annotator, docs: list[Document], size: int) -> int:
    """annotate() per batch, as _AnnotateBatch calls it; returns the documents out."""
    return sum(len(annotator.annotate(batch)) for batch in batches(docs, size))


def run_beam(make_annotator, docs: list[Document], size: int) -> int:
    """docs -> Annotate(make_annotator()) -> count on the DirectRunner, one worker, in this
    process; make_annotator None: feed and count only. Returns the documents counted."""
    options = PipelineOptions(["--runner=DirectRunner", "--direct_num_workers=1", "--direct_running_mode=in_memory"])
    p = beam.Pipeline(runner=direct_runner(options), options=options)
    pcoll = from_memory(p, docs)
    if make_annotator is not None:
        pcoll = pcoll | Annotate(make_annotator(), batch_size=size)
    _ = pcoll | "Count" >> beam.combiners.Count.Globally() | "Report" >> beam.Map(lambda n: Metrics.counter("bench", "docs").inc(n))
    outcome = p.run()
    outcome.wait_until_finish()
    counters = outcome.metrics().query(MetricsFilter().with_namespace("bench"))["counters"]
    counted = sum(c.committed for c in counters)
    assert counted == len(docs), f"Beam counted {counted} of {len(docs)} documents"
    return counted


def raw_kenlm_text_lines(jobs: list[tuple[kenlm.Model, str]]) -> float:
    """Raw A: Model.score per raw line, as CCNet's loop (without its normalization)."""
    total = 0.0
    for model, text in jobs:
        score = model.score
        for line in text.split("\n"):
            total += score(line)
    return total


def ccnet_loop(jobs: list[tuple[kenlm.Model, str]]) -> float:
    """CCNet's own loop, the peer: its normalizer per line (cc_net/text_normalizer.py's steps,
    pipeline/text/perplexity/ccnet.py), Model.score, len(line.split()) + 1 tokens. (CCNet also
    cuts lines into SentencePiece pieces, which this leaves out: it would only cost more.)"""
    log10 = 0.0
    tokens = 0
    for model, text in jobs:
        score = model.score
        for line in text.split("\n"):
            line = ccnet_normalize_line(line)
            log10 += score(line)
            tokens += len(line.split()) + 1
    return log10 / max(tokens, 1)


def raw_kenlm_lines(jobs: list[tuple[kenlm.Model, list[str]]]) -> float:
    """Raw B: Model.score per already-normalized line."""
    total = 0.0
    for model, lines in jobs:
        score = model.score
        for line in lines:
            total += score(line)
    return total


def raw_predict_prob(texts: list[str], size: int) -> int:
    import profanity_check

    return sum(len(profanity_check.predict_prob(batch)) for batch in batches(texts, size))


def raw_joblib(texts: list[str], size: int) -> int:
    from profanity_check import profanity_check as pc

    model, vectorizer = pc.model, pc.vectorizer
    return sum(len(model.predict_proba(vectorizer.transform(batch))[:, 1]) for batch in batches(texts, size))


def run_classifier(classifier: ProfanityClassifier, texts: list[str], size: int) -> int:
    return sum(len(classifier.predict_prob(batch)) for batch in batches(texts, size))


def run_wordlists(matchers, docs: list[Document]) -> int:
    total = 0
    for doc in docs:
        matcher = matchers.get(doc.lang or "")
        if matcher is not None:
            total += matcher.matches(doc.text) + word_count(doc.text, doc.lang)
    return total


def setup_seconds(make_annotator, repeat: int) -> float:
    """A fresh annotator's setup(): what each Beam run pays once (its worker loads the models)."""
    return best_of(repeat, lambda: make_annotator().setup())[0]


# ---------------------------------------------------------------- perplexity


PPL_RAW_A = "raw A: kenlm `Model.score` per raw line"
PPL_RAW_B = "raw B: kenlm `Model.score` per normalized line"
PPL_CCNET = "peer: CCNet's loop (its normalizer per line + `Model.score`)"
PPL_OURS = "ours, in memory: `ScorePerplexity.annotate`"
PPL_FEED = "Beam (1 worker): feed + count only"
PPL_BEAM = "ours, Beam (1 worker): feed + `Annotate[ScorePerplexity]` + count"


def perplexity_breakdown(docs, kenlm_models, ours_seconds: float, repeat: int) -> list[tuple[str, float]]:
    """LanguageModel.score's steps (pipeline/text/perplexity/model.py), each timed alone over
    all documents on inputs prepared outside its timer; the rest is ours minus their sum."""
    texts = [d.text for d in docs]
    normalized = [normalize_text(t) for t in texts]
    lines = [[line for line in n.split("\n") if line and not line.isspace()] for n in normalized]
    jobs = [(kenlm_models[d.lang], ls) for d, ls in zip(docs, lines)]
    scores = [{PERPLEXITY: 100.0}] * len(docs)

    def kenlm_calls():
        total = 0.0
        for model, ls in jobs:
            score = model.score
            for line in ls:
                total += score(line, bos=True, eos=True)
        return total

    steps = {
        "`normalize_text` (lower, NFD, accents, translate)": lambda: [normalize_text(t) for t in texts],
        "KenLM `Model.score` calls, one per non-blank line": kenlm_calls,
        "token count: `len(normalized.split())`": lambda: [len(n.split()) for n in normalized],
        "line split + blank-line filter": lambda: [[x for x in n.split("\n") if x and not x.isspace()] for n in normalized],
        "`Document.with_scores`": lambda: [d.with_scores(s) for d, s in zip(docs, scores)],
    }
    out = list(best_of_each(repeat, steps).items())
    out.append(("rest: ours minus the steps above (loops, lookups, DocumentScore, batching)", ours_seconds - sum(s for _, s in out)))
    return out


def bench_perplexity(all_docs: list[Document], args) -> dict:
    cfg = PerplexityConfig()
    size = cfg.batch_size
    paths = shipped_models()
    docs = [d for d in all_docs if d.lang in paths]
    one_copy = docs[: len(docs) // args.scale]
    kenlm_models = {lang: kenlm.Model(path) for lang, path in paths.items()}
    ours = ScorePerplexity(cfg)
    ours.setup()

    def variants(subset: list[Document]) -> dict:
        raw_a = [(kenlm_models[d.lang], d.text) for d in subset]
        raw_b = [(kenlm_models[d.lang], normalize_lines(d.text)) for d in subset]
        return {
            PPL_RAW_A: lambda: raw_kenlm_text_lines(raw_a),
            PPL_RAW_B: lambda: raw_kenlm_lines(raw_b),
            PPL_CCNET: lambda: ccnet_loop(raw_a),
            PPL_OURS: lambda: run_annotator(ours, subset, size),
            PPL_FEED: lambda: run_beam(None, subset, size),
            PPL_BEAM: lambda: run_beam(lambda: ScorePerplexity(cfg), subset, size),
        }

    for fn in variants(one_copy[:500]).values():  # warm-up: imports, Beam's first-run costs
        fn()
    timings = best_of_each(args.repeat, variants(docs))
    small = variants(one_copy)
    memory = {name: peak_mib(small[name]) for name in (PPL_RAW_A, PPL_RAW_B, PPL_OURS)}
    scored = sum(PERPLEXITY in d.scores for d in ours.annotate(one_copy))
    return {
        "docs": docs,
        "mb": megabytes(docs),
        "timings": timings,
        "memory": memory,
        "setup": setup_seconds(lambda: ScorePerplexity(cfg), args.repeat),
        "breakdown": perplexity_breakdown(docs, kenlm_models, timings[PPL_OURS], args.repeat),
        "scored": scored * args.scale,
        "raw_lines": sum(d.text.count("\n") + 1 for d in one_copy) * args.scale,
        "lines": sum(len(normalize_lines(d.text)) for d in one_copy) * args.scale,
        "profile": lambda: run_annotator(ours, docs, size),
    }


# ---------------------------------------------------------------- toxicity


TOX_RAW = "raw: `profanity_check.predict_prob`"
TOX_RAW_ALL = "raw: `profanity_check.predict_prob` (on every text, any language)"
TOX_JOBLIB = "raw: `model.predict_proba(vectorizer.transform(batch))[:, 1]`"
TOX_DOC = "ours, in memory: `ScoreToxicity` document mode"
TOX_DEFAULT = "ours, in memory: `ScoreToxicity` default (max_paragraph)"
TOX_LISTS = "ours, in memory: word lists alone (classifier off)"
TOX_FEED = "Beam (1 worker): feed + count only"
TOX_BEAM_DOC = "ours, Beam (1 worker): feed + `Annotate[ScoreToxicity]` document mode + count"
TOX_BEAM_DEFAULT = "ours, Beam (1 worker): feed + `Annotate[ScoreToxicity]` default + count"


def toxicity_breakdown(en_docs, timings, repeat) -> dict[str, list[tuple[str, float]]]:
    """The English in-memory rows' steps, each timed alone over the same documents; the rest
    is ours minus their sum."""
    from profanity_check import profanity_check as pc

    size = ToxicityConfig().batch_size
    texts = [d.text for d in en_docs]
    matchers = load_matchers(["en"])
    document = ProfanityClassifier("document")
    pieces = [[p for t in batch for p in ([q for q in PARAGRAPH_BREAK.split(t) if q.strip()] or [t])] for batch in batches(texts, size)]
    vectors = [pc.vectorizer.transform(b) for b in pieces]
    scores = [{MATCHES: 0.0, DENSITY: 0.0, PROB: 0.5}] * len(en_docs)
    steps = best_of_each(
        repeat,
        {
            "word list: `WordListMatcher.matches`": lambda: [matchers["en"].matches(t) for t in texts],
            "word list: `word_count`": lambda: [word_count(t, "en") for t in texts],
            "`Document.with_scores`": lambda: [d.with_scores(s) for d, s in zip(en_docs, scores)],
            "classifier: `ProfanityClassifier('document').predict_prob`": lambda: run_classifier(document, texts, size),
            "classifier: paragraph split": lambda: [[p for p in PARAGRAPH_BREAK.split(t) if p.strip()] for t in texts],
            "classifier: `vectorizer.transform` of the paragraphs": lambda: [pc.vectorizer.transform(b) for b in pieces],
            "classifier: `model.predict_proba` of the paragraphs": lambda: [pc.model.predict_proba(x) for x in vectors],
        },
    )
    common = ["word list: `WordListMatcher.matches`", "word list: `word_count`", "`Document.with_scores`"]
    modes = {
        "document": (TOX_DOC, common + ["classifier: `ProfanityClassifier('document').predict_prob`"]),
        "max_paragraph": (
            TOX_DEFAULT,
            common
            + [
                "classifier: paragraph split",
                "classifier: `vectorizer.transform` of the paragraphs",
                "classifier: `model.predict_proba` of the paragraphs",
            ],
        ),
    }
    out = {}
    for mode, (row, names) in modes.items():
        rows = [(name, steps[name]) for name in names]
        rest = timings[("en", row)] - sum(s for _, s in rows)
        out[mode] = rows + [("rest: ours minus the steps above (loops, dicts, batching, `np.maximum.reduceat`)", rest)]
    return out


def bench_toxicity(docs: list[Document], args) -> dict:
    default = ToxicityConfig()
    size = default.batch_size
    configs = {
        "document": ToxicityConfig(classifier_mode="document"),
        "default": default,
        "wordlists": ToxicityConfig(classifier_threshold=None),
    }
    ours = {name: ScoreToxicity(cfg) for name, cfg in configs.items()}
    for annotator in ours.values():
        annotator.setup()
    en_docs = [d for d in docs if d.lang in default.classifier_languages]
    import profanity_check  # noqa: F401  (loads its model on import: before any timer)

    def variants(en: list[Document], every: list[Document]) -> dict:
        en_texts, all_texts = [d.text for d in en], [d.text for d in every]
        return {
            ("en", TOX_RAW): lambda: raw_predict_prob(en_texts, size),
            ("en", TOX_JOBLIB): lambda: raw_joblib(en_texts, size),
            ("en", TOX_DOC): lambda: run_annotator(ours["document"], en, size),
            ("en", TOX_DEFAULT): lambda: run_annotator(ours["default"], en, size),
            ("en", TOX_LISTS): lambda: run_annotator(ours["wordlists"], en, size),
            ("en", TOX_FEED): lambda: run_beam(None, en, size),
            ("en", TOX_BEAM_DOC): lambda: run_beam(lambda: ScoreToxicity(configs["document"]), en, size),
            ("all", TOX_RAW_ALL): lambda: raw_predict_prob(all_texts, size),
            ("all", TOX_DEFAULT): lambda: run_annotator(ours["default"], every, size),
            ("all", TOX_LISTS): lambda: run_annotator(ours["wordlists"], every, size),
            ("all", TOX_FEED): lambda: run_beam(None, every, size),
            ("all", TOX_BEAM_DEFAULT): lambda: run_beam(lambda: ScoreToxicity(default), every, size),
        }

    one_en, one_all = en_docs[: len(en_docs) // args.scale], docs[: len(docs) // args.scale]
    for fn in variants(one_en[:300], one_all[:300]).values():  # warm-up
        fn()
    timings = best_of_each(args.repeat, variants(en_docs, docs))
    small = variants(one_en, one_all)
    memory = {key: peak_mib(fn) for key, fn in small.items() if "Beam" not in key[1]}
    return {
        "sets": {"en": (en_docs, megabytes(en_docs)), "all": (docs, megabytes(docs))},
        "timings": timings,
        "memory": memory,
        "setup": {mode: setup_seconds(lambda cfg=cfg: ScoreToxicity(cfg), args.repeat) for mode, cfg in configs.items() if mode != "wordlists"},
        "breakdown": toxicity_breakdown(en_docs, timings, args.repeat),
        "with_list": sum(d.lang in ours["default"]._matchers.get() for d in one_all) * args.scale,
        "profiles": {
            "ScoreToxicity document mode, English documents": lambda: run_annotator(ours["document"], en_docs, size),
            "ScoreToxicity default, all documents": lambda: run_annotator(ours["default"], docs, size),
        },
    }


# ---------------------------------------------------------------- report


def _row(name: str, n: int, mb: float, seconds: float, anchors: list[float], memory: float | None) -> str:
    ratios = " | ".join(f"{a / seconds:.2f}" for a in anchors)
    mem = f"{memory:.1f}" if memory is not None else "-"
    return f"| {name} | {n:,} | {seconds:.3f} | {n / seconds:,.0f} | {mb / seconds:.2f} | {ratios} | {mem} |"


def _steps(title: str, steps: list[tuple[str, float]], total: float) -> list[str]:
    out = ["", title, "", "| step | seconds | share of ours |", "|---|---:|---:|"]
    return out + [f"| {name} | {s:.3f} | {100 * s / total:.0f}% |" for name, s in steps]


def report(ppl: dict, tox: dict, args, command: str) -> str:
    out = header("Model stages vs their raw libraries, one worker", command, versions=VERSIONS)
    all_docs, all_mb = tox["sets"]["all"]
    out += [
        f'- input: the built-in sample without source "code", x{args.scale}: {len(all_docs):,} documents, {all_mb:.1f} MB '
        f"of text (UTF-8); languages read once by lid.176 (untimed); best of {args.repeat}, variants in turns",
        "- Beam rows: DirectRunner, --direct_num_workers=1, --direct_running_mode=in_memory; wall clock around building and "
        "running the pipeline (the annotator's setup() included), nothing subtracted; documents fed by "
        "bench.common.from_memory (beam.Create would pickle and bz2-compress the whole input: tens of seconds)",
        "- peak MiB: tracemalloc's peak over one untimed run on one copy of the sample (Python allocations only)",
        "",
        "## Perplexity (KenLM)",
        "",
        f"Documents: the {len(ppl['docs']):,} in en, fr or es (a shipped model), {ppl['mb']:.1f} MB; {ppl['scored']:,} get a "
        f"score (the others have no words); {ppl['raw_lines']:,} raw lines (raw A), {ppl['lines']:,} non-blank normalized "
        f"lines (raw B and ours). Batches of {PerplexityConfig().batch_size}.",
        "",
        "| variant | docs | seconds | docs/s | MB/s | x raw A | x raw B | peak MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    t = ppl["timings"]
    n, mb = len(ppl["docs"]), ppl["mb"]
    out += [_row(name, n, mb, seconds, [t[PPL_RAW_A], t[PPL_RAW_B]], ppl["memory"].get(name)) for name, seconds in t.items()]
    steps = dict(ppl["breakdown"])
    floor = steps["KenLM `Model.score` calls, one per non-blank line"] + steps["`normalize_text` (lower, NFD, accents, translate)"]
    out += _steps("Where ours (in memory) spends its time, each step timed alone over the same documents:", ppl["breakdown"], t[PPL_OURS])
    out += [
        "",
        f"KenLM calls + `normalize_text` alone take {floor:.3f} s: no implementation that normalizes in a separate pass and "
        f"calls `Model.score` per line can beat that, {t[PPL_RAW_A] / floor:.2f} x raw A, {t[PPL_RAW_B] / floor:.2f} x raw B; "
        f"ours runs at {floor / t[PPL_OURS]:.2f} x that floor in memory, {floor / t[PPL_BEAM]:.2f} x through Beam. "
        f"A fresh ScorePerplexity's setup() (mmap of three binaries): {ppl['setup']:.3f} s.",
        "",
        "## Toxicity (word lists + alt-profanity-check)",
        "",
        f"Documents: **en** = the {len(tox['sets']['en'][0]):,} English documents ({tox['sets']['en'][1]:.1f} MB), the "
        f"classifier's language; **all** = all {len(all_docs):,} ({all_mb:.1f} MB), {tox['with_list']:,} of them in a "
        f"language with a word list. Ratios are to raw `predict_prob` on the same documents (on **all** it classifies "
        f"every text, where ours classifies the English ones and runs the word lists on every one). Batches of "
        f"{ToxicityConfig().batch_size}.",
        "",
        "| docs | variant | n | seconds | docs/s | MB/s | x raw predict_prob | peak MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    tt = tox["timings"]
    anchors = {"en": tt[("en", TOX_RAW)], "all": tt[("all", TOX_RAW_ALL)]}
    for (subset, name), seconds in tt.items():
        docs, mb = tox["sets"][subset]
        out.append(f"| {subset} " + _row(name, len(docs), mb, seconds, [anchors[subset]], tox["memory"].get((subset, name))))
    for mode, steps in tox["breakdown"].items():
        row = TOX_DOC if mode == "document" else TOX_DEFAULT
        out += _steps(f"Where ours (in memory) spends its time on **en**, {mode} mode, each step timed alone:", steps, tt[("en", row)])
    out += [
        "",
        "A fresh ScoreToxicity's setup() (word lists compiled, classifier unpickled; paid once by each Beam run): "
        + ", ".join(f"{mode} {s:.3f} s" for mode, s in tox["setup"].items())
        + ".",
    ]

    checks = [
        ("perplexity, ours in memory / raw A", t[PPL_RAW_A] / t[PPL_OURS]),
        ("perplexity, ours in memory / raw B", t[PPL_RAW_B] / t[PPL_OURS]),
        ("perplexity, ours through Beam / raw A", t[PPL_RAW_A] / t[PPL_BEAM]),
        ("perplexity, ours through Beam / raw B", t[PPL_RAW_B] / t[PPL_BEAM]),
        ("toxicity (en), ours document mode in memory / predict_prob", anchors["en"] / tt[("en", TOX_DOC)]),
        ("toxicity (en), ours document mode through Beam / predict_prob", anchors["en"] / tt[("en", TOX_BEAM_DOC)]),
        ("toxicity (en), ours default in memory / predict_prob", anchors["en"] / tt[("en", TOX_DEFAULT)]),
        ("toxicity (all), ours default in memory / predict_prob", anchors["all"] / tt[("all", TOX_DEFAULT)]),
        ("toxicity (all), ours default through Beam / predict_prob", anchors["all"] / tt[("all", TOX_BEAM_DEFAULT)]),
    ]
    out += ["", f"## Target: ours >= {TARGET} x the raw library's docs/s", ""]
    out += [f"- {name}: {ratio:.2f} ({'met' if ratio >= TARGET else 'NOT met'})" for name, ratio in checks]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=4, help="copies of the sample in the input (default 4, ~40 MB)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="append cProfile's top functions of the in-memory ours runs")
    args = parser.parse_args()

    start = time.perf_counter()
    docs = load_sample(args.scale)
    ppl = bench_perplexity(docs, args)
    tox = bench_toxicity(docs, args)
    text = report(ppl, tox, args, command_line("bench.bench_models", parser, args))
    if args.profile:
        runs = {"ScorePerplexity.annotate": ppl["profile"], **tox["profiles"]}
        for name, fn in runs.items():
            text += f"\n## cProfile, ours in memory: {name}\n\n```\n{profile_top(fn, 20, sort=('tottime', 'cumulative')).strip()}\n```\n"
    text += f"\n(benchmark wall time {time.perf_counter() - start:.0f} s)\n"
    write_report(RESULTS, text)


if __name__ == "__main__":
    main()
