"""Precision and recall of the toxicity signals on the labelled set, per language, and their speed.

    python -m bench.toxicity_eval [--repeat 3]

Set: bench/results/toxicity_labels.jsonl.gz (built by bench.toxicity_labels first if missing):
offensive fortunes vs ordinary fortunes of the same collections, plus benign prose that
mentions sex, drugs, breasts and the like (see that module). Rules, each flagging a text:
  word list, any match   C4's rule: at least one entry of the language's LDNOOBW list;
  word list, count >= n  at least n matches;
  word list, density >= d matches / words (pipeline.text.toxicity.wordlists.word_count) >= d;
  classifier >= t        alt-profanity-check P(offensive) >= t, scoring the text whole
                         ("document"), as the max over its paragraphs (blank-line separated,
                         "max_paragraph"), or, for comparison, the max over its lines;
  union                  density >= d or classifier (max_paragraph) >= t.
Columns: precision, recall, F1 of "offensive" on the set; the share of ordinary fortunes and of
the benign prose flagged (what a filter would throw away); then, on 500 long texts per language
(neutral prose of the sample corpus, Austen's chapters, Debian Reference sections and man pages,
joined to >= 1000 words), the share flagged as they are and the share
flagged once one offensive fortune is inserted as a paragraph (a long page with one offensive
passage: the case where scoring the whole text dilutes it). The labels are per collection, so
no rule reaches full recall: many offensive fortunes hold no offensive word.
Speed (one core, best of --repeat): the word-list matcher (its token-set path and the regex
alone) on the sample corpus' books, wiki, web and academic texts, and on its Chinese and
Japanese texts; the classifier on the set.
Writes bench/results/toxicity_eval.md (git-ignored) and prints it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random

import numpy as np

from bench import toxicity_labels
from bench.common import RESULTS_DIR, best_of, command_line, header, write_report
from pipeline.text.toxicity.classifier import _PARAGRAPH_BREAK, ProfanityClassifier
from pipeline.text.toxicity.wordlists import load_matchers, word_count

RESULTS = os.path.join(RESULTS_DIR, "toxicity_eval.md")
LANGS = ("en", "es", "it")
DENSITIES = (0.005, 0.01, 0.02, 0.05)
COUNTS = (2, 3, 5)
THRESHOLDS = (0.5, 0.7, 0.9)
UNION = [(d, t) for d in (0.005, 0.01, 0.02) for t in THRESHOLDS]
SPEED_SOURCES = ("books", "wiki", "web", "academic")
CJK_SOURCES = {"zh": ("deb:manpages-zh/", "deb:debian-reference-zh-cn/", "deb:fortunes-zh/"), "ja": ("deb:manpages-ja/", "deb:debian-reference-ja/")}
N_EMBEDDED = 500  # long texts per language
# Neutral long prose of the sample corpus (urls) that the long texts are made of.
HOSTS = {
    "en": ("deb:r-cran-janeaustenr/", "deb:debian-reference-en/"),
    "es": ("deb:debian-reference-es/", "deb:manpages-es/"),
    "it": ("deb:debian-reference-it/", "deb:manpages-it/"),
}
LONG_WORDS = 1000
SEED = 11


def max_over(clf: ProfanityClassifier, texts: list[str], split) -> np.ndarray:
    """Max P(offensive) over the pieces split(text) gives (the whole text if none)."""
    pieces, starts = [], []
    for text in texts:
        starts.append(len(pieces))
        pieces += [p for p in split(text) if p.strip()] or [text]
    return np.maximum.reduceat(clf.predict_prob(pieces), starts)


class Scorer:
    """The signals every rule reads, for a list of (text, language)."""

    def __init__(self):
        self.matchers = load_matchers(list(LANGS))
        self.document = ProfanityClassifier("document")
        self.max_paragraph = ProfanityClassifier("max_paragraph")

    def __call__(self, texts: list[str], langs: list[str]) -> dict[str, np.ndarray]:
        return {
            "matches": np.array([self.matchers[lang].matches(t) for t, lang in zip(texts, langs)]),
            "words": np.array([max(1, word_count(t, lang)) for t, lang in zip(texts, langs)]),
            "p_document": self.document.predict_prob(texts),
            "p_max_paragraph": self.max_paragraph.predict_prob(texts),
            "p_max_line": max_over(self.document, texts, str.splitlines),
        }


def rules(s: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray]]:
    density = s["matches"] / s["words"]
    out = [("word list, any match (C4)", s["matches"] >= 1)]
    out += [(f"word list, count >= {n}", s["matches"] >= n) for n in COUNTS]
    out += [(f"word list, density >= {d}", (s["matches"] >= 1) & (density >= d)) for d in DENSITIES]
    for mode in ("document", "max_paragraph", "max_line"):
        out += [(f"classifier {mode} >= {t}", s[f"p_{mode}"] >= t) for t in THRESHOLDS]
    out += [
        (f"union: density >= {d} or max_paragraph >= {t}", ((s["matches"] >= 1) & (density >= d)) | (s["p_max_paragraph"] >= t)) for d, t in UNION
    ]
    out.append(("union: any match or max_paragraph >= 0.9", (s["matches"] >= 1) | (s["p_max_paragraph"] >= 0.9)))
    return out


def long_documents(records: list[dict], lang: str, rng: random.Random) -> tuple[list[str], list[str]]:
    """(hosts, hosts with one offensive fortune inserted): neutral long prose of the language
    from the sample corpus (HOSTS), texts joined until LONG_WORDS words, with an offensive
    fortune as one more paragraph at a random paragraph break: a long page with one offensive
    passage, where scoring the whole text dilutes it."""
    prose = [t for t, _ in toxicity_labels.sample_prose(HOSTS[lang])]
    offensive = [r["text"] for r in records if r["lang"] == lang and r["offensive"]]
    hosts, embedded = [], []
    for fortune in rng.sample(offensive, min(N_EMBEDDED, len(offensive))):
        paragraphs: list[str] = []
        while sum(len(p.split()) for p in paragraphs) < LONG_WORDS:
            paragraphs += [p for p in _PARAGRAPH_BREAK.split(rng.choice(prose)) if p.strip()]
        at = rng.randrange(len(paragraphs) + 1)
        hosts.append("\n\n".join(paragraphs))
        embedded.append("\n\n".join(paragraphs[:at] + [fortune] + paragraphs[at:]))
    return hosts, embedded


def table(
    labelled: list[tuple[str, np.ndarray]],
    y: np.ndarray,
    prose: np.ndarray,
    hosts: list[tuple[str, np.ndarray]],
    embedded: list[tuple[str, np.ndarray]],
) -> list[str]:
    fortune_ordinary = ~y & ~prose
    lines = [
        "| rule | precision | recall | F1 | ordinary fortunes flagged | benign prose flagged "
        "| long benign prose flagged | offensive fortune found in long prose |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (name, f), (_, fh), (_, fe) in zip(labelled, hosts, embedded):
        tp, fp = int((f & y).sum()), int((f & ~y).sum())
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / int(y.sum()) if y.sum() else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        lines.append(
            f"| {name} | {p:.3f} | {r:.3f} | {f1:.3f} | {100 * f[fortune_ordinary].mean():.1f}% | "
            f"{100 * f[prose].mean():.1f}% | {100 * fh.mean():.1f}% | {100 * fe.mean():.1f}% |"
        )
    return lines


def speed(records: list[dict], repeat: int) -> list[str]:
    docs = []
    for name in SPEED_SOURCES:
        with gzip.open(os.path.join(toxicity_labels.SAMPLE, f"{name}.jsonl.gz"), "rt", encoding="utf-8") as f:
            docs += [json.loads(line)["text"] for line in f]
    mb = sum(len(d.encode()) for d in docs) / 1e6
    lines = [
        f"Word-list matcher on {len(docs)} sample documents ({mb:.1f} MB: {', '.join(SPEED_SOURCES)}):",
        "",
        "| list | matches() (token set, regex where needed) | regex alone | documents with a match |",
        "|---|---:|---:|---:|",
    ]
    for lang, matcher in load_matchers(["en", "es", "it", "de", "fr"]).items():
        t_set, counts = best_of(repeat, lambda: [matcher.matches(d) for d in docs])
        t_re, counts_re = best_of(repeat, lambda: [matcher.regex_matches(d) for d in docs])
        assert counts == counts_re, lang  # the token-set path is exact
        lines.append(f"| {lang} | {mb / t_set:.1f} MB/s | {mb / t_re:.1f} MB/s | {sum(c > 0 for c in counts)} |")
    lines += [
        "",
        "Chinese and Japanese (substring matching, the regex alone) on the sample's texts in them:",
        "",
        "| list | texts | MB | MB/s | texts with a match |",
        "|---|---:|---:|---:|---:|",
    ]
    for lang, urls in CJK_SOURCES.items():
        texts = []
        for name in ("curated", "web"):
            with gzip.open(os.path.join(toxicity_labels.SAMPLE, f"{name}.jsonl.gz"), "rt", encoding="utf-8") as f:
                texts += [r["text"] for r in map(json.loads, f) if r["url"].startswith(urls)]
        matcher = load_matchers([lang])[lang]
        cmb = sum(len(t.encode()) for t in texts) / 1e6
        t, counts = best_of(repeat, lambda: [matcher.matches(d) for d in texts])
        lines.append(f"| {lang} | {len(texts)} | {cmb:.2f} | {cmb / t:.1f} | {sum(c > 0 for c in counts)} |")
    texts = [r["text"] for r in records]
    tmb = sum(len(t.encode()) for t in texts) / 1e6
    lines += [
        "",
        f"Classifier on the labelled set ({len(texts)} texts, {tmb:.1f} MB), one predict_prob call per 256 texts:",
        "",
        "| mode | texts/s | MB/s |",
        "|---|---:|---:|",
    ]
    for mode in ("document", "max_paragraph"):
        clf = ProfanityClassifier(mode)
        t, _ = best_of(repeat, lambda: [clf.predict_prob(texts[i : i + 256]) for i in range(0, len(texts), 256)])
        lines.append(f"| {mode} | {len(texts) / t:.0f} | {tmb / t:.2f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not os.path.exists(toxicity_labels.OUT):
        toxicity_labels.write(toxicity_labels.build("/tmp/llm-sample-build"))
    records = toxicity_labels.load()
    scorer = Scorer()
    rng = random.Random(SEED)
    out = header(
        "Toxicity signals: word lists and classifier on labelled fortunes and prose",
        command_line("bench.toxicity_eval", parser, args),
        versions=("alt-profanity-check", "scikit-learn", "numpy"),
    )
    for lang in LANGS:
        mine = [r for r in records if r["lang"] == lang]
        y = np.array([r["offensive"] for r in mine])
        prose = np.array([r["kind"] == "prose" for r in mine])
        labelled = rules(scorer([r["text"] for r in mine], [lang] * len(mine)))
        hosts, embedded = long_documents(records, lang, rng)
        out += [
            "",
            f"## {lang}: {int(y.sum())} offensive fortunes, {int((~y & ~prose).sum())} ordinary fortunes, "
            f"{int(prose.sum())} benign prose texts; {len(hosts)} long texts",
            "",
        ]
        out += table(labelled, y, prose, rules(scorer(hosts, [lang] * len(hosts))), rules(scorer(embedded, [lang] * len(embedded))))
    out += ["", "## Speed", ""] + speed(records, args.repeat)
    write_report(RESULTS, "\n".join(out) + "\n")


if __name__ == "__main__":
    main()
