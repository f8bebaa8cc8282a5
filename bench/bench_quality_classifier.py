"""The quality classifier: scoring throughput against fastText's own predict, and the in-run
classifier's held-out figures on the built-in sample.

    python -m bench.bench_quality_classifier [--scale 4] [--repeat 3]

1. Trains the classifier as a run does (stages/quality_classifier_train.train_and_validate with
   the default settings: reference sources vs web, balanced, hash split, one fastText thread) on
   the whole sample, and reports its precision, recall and ROC AUC on the held-out split.
2. Times, on the sample's web pages --scale times over, each the best of --repeat turns taken
   alternately (bench.common.best_of_each):
     raw   fastText's `predict(batch, k=-1)` on texts in memory, newlines replaced inside the
           timed part (every caller has to), the positive label's probability read out;
     ours  the ScoreQuality Annotator on the same Documents: setup() once, annotate(batch)
           (source check, preprocessing, predict, new Documents with the score).
   Batches of the default quality_classifier.batch_size. Target: ours >= 0.8 x raw.
Writes bench/results/quality_classifier.md (git-ignored) and prints the same table.
"""

import argparse
import gzip
import json
import os
import tempfile
import time

import fasttext

from bench.common import RESULTS_DIR, ROOT, best_of_each, command_line, header, write_report
from pipeline.mixture import doc_hash
from pipeline.records import Document
from pipeline.stages.quality_classifier import SCORE, ScoreQuality
from pipeline.stages.quality_classifier_train import HELDOUT, TRAIN, train_and_validate
from pipeline.text.quality_classifier import QualityClassifierConfig
from pipeline.text.quality_classifier.selection import HELDOUT_SALT, TRAIN_ORDER_SALT, uniform

SAMPLE = os.path.join(ROOT, "pipeline", "sample", "data")
RESULTS = os.path.join(RESULTS_DIR, "quality_classifier.md")
TARGET = 0.8
SEED = 0


def load(source: str) -> list[Document]:
    with gzip.open(os.path.join(SAMPLE, f"{source}.jsonl.gz"), "rt", encoding="utf-8") as f:
        return [Document(id=f"{source}:{i}", text=json.loads(line)["text"], source=source) for i, line in enumerate(f)]


def training_groups(docs: list[Document], cfg: QualityClassifierConfig) -> list:
    """What TrainingExamples + CapPerClass hand the training step in a run (seed 0)."""
    t = cfg.train
    label_of = {**{s: cfg.label for s in t.positive_sources}, **{s: t.negative_label for s in t.negative_sources}}
    groups: dict = {}
    for d in docs:
        label = label_of.get(d.source)
        if label is not None:
            split = HELDOUT if uniform(SEED, d.id, HELDOUT_SALT) < t.heldout_fraction else TRAIN
            groups.setdefault((label, split), []).append((doc_hash(SEED, d.id, TRAIN_ORDER_SALT), d.text))
    return [(k, sorted(v)[: t.max_per_class]) for k, v in groups.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=int, default=4, help="copies of the sample's web pages scored (default 4)")
    args = parser.parse_args()

    cfg = QualityClassifierConfig(enabled=True)
    docs = [d for s in ("web", "wiki", "books", "curated", "academic") for d in load(s)]
    start = time.perf_counter()
    model_bytes, facts = train_and_validate(training_groups(docs, cfg), cfg)
    train_seconds = time.perf_counter() - start
    assert model_bytes, facts.get("reason")

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "quality_classifier.bin")
        with open(path, "wb") as f:
            f.write(model_bytes)
        web = [d for d in docs if d.source == "web"] * args.scale
        texts = [d.text for d in web]
        batch = cfg.batch_size
        fasttext.FastText.eprint = lambda *a, **k: None
        model = fasttext.load_model(path)
        ours = ScoreQuality(QualityClassifierConfig(enabled=True, model=path))
        ours.setup()

        def raw():
            out = []
            for i in range(0, len(texts), batch):
                labels, probs = model.predict([t.replace("\n", " ") for t in texts[i : i + batch]], k=-1)
                out += [float(p[ls.index(cfg.label)]) for ls, p in zip(labels, probs)]
            return out

        def annotator():
            out = []
            for i in range(0, len(web), batch):
                out += ours.annotate(web[i : i + batch])
            return out

        assert [d.scores[SCORE] for d in annotator()] == raw()  # the same numbers, exactly, before timing
        timings = best_of_each(args.repeat, {"raw fastText predict(k=-1)": raw, "ours: ScoreQuality.annotate": annotator})

    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    raw_rate = len(texts) / timings["raw fastText predict(k=-1)"]
    h = facts["heldout"]
    lines = header(
        "Quality classifier: scoring throughput and held-out figures",
        command_line("bench.bench_quality_classifier", parser, args),
        versions=("fasttext", "numpy", "apache-beam"),
    )
    lines += [
        (
            f"- model: trained as a run trains it (default settings: dim {cfg.train.dim}, word_ngrams {cfg.train.word_ngrams}, epoch {cfg.train.epoch}, "
            f"lr {facts['lr']:g}, one thread), {facts['train_per_class']:,} documents per class "
            f"({', '.join(cfg.train.positive_sources)} vs {', '.join(cfg.train.negative_sources)}), {len(model_bytes) / 2**20:.1f} MiB, trained in {train_seconds:.1f} s"
        ),
        f"- scored: the sample's web pages x{args.scale}, {len(texts):,} docs, {mb:.2f} MB of text; batches of {batch}; best of {args.repeat}",
        "",
        "| variant | seconds | docs/s | MB/s | ratio to raw |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, seconds in timings.items():
        rate = len(texts) / seconds
        lines.append(f"| {name} | {seconds:.3f} | {rate:,.0f} | {mb / seconds:.1f} | {rate / raw_rate:.2f} |")
    ratio = timings["raw fastText predict(k=-1)"] / timings["ours: ScoreQuality.annotate"]
    lines += [
        "",
        f"Target: ours >= {TARGET} x raw: {'met' if ratio >= TARGET else 'NOT met'} ({ratio:.2f}).",
        "",
        "Held-out split (by id hash, never trained on; classes balanced):",
        "",
        "| positives | negatives | precision @0.5 | recall @0.5 | ROC AUC |",
        "|---:|---:|---:|---:|---:|",
        f"| {h['positives']:,} | {h['negatives']:,} | {h['precision']} | {h['recall']} | {h['roc_auc']} |",
    ]
    write_report(RESULTS, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
