"""Agreement of our quality rules with datatrove's, per signal, per rule, per family and chained.

    python -m bench.compare_quality_datatrove

Corpus: every document of the built-in sample's web, wiki, books, curated and academic sources
that our language ID reads as English with score >= 0.65 (datatrove's defaults are English).
Signals: datatrove's side is computed with its own helpers exactly as its filters do (spaCy
blank-"en" words, PUNCTUATION_SET, find_duplicates, get_n_grams, find_top_duplicate,
find_all_duplicate, its C4 line loop with split_into_sentences); ours with pipeline.text.quality.
FineWeb signals are compared STANDALONE: both sides get the original text (not C4-cleaned).
Decisions: datatrove's filters with default arguments vs our gates after our annotators, in the
order of pipeline.stages.quality.quality_steps, with default thresholds, each family alone on the original text (our config
applies just that family to every source), then chained in FineWeb's order.
Writes bench/results/quality_agreement.md (git-ignored) and prints it.
"""

import argparse
import dataclasses
import os
from collections import Counter, defaultdict
from dataclasses import replace

import numpy as np

from bench.common import require_peers

require_peers()  # one line naming the install, not an ImportError
# ruff: isort: split
from datatrove.data import Document as DTDocument
from datatrove.pipeline.filters import C4QualityFilter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter
from datatrove.pipeline.filters.gopher_quality_filter import STOP_WORDS as DT_STOP_WORDS
from datatrove.pipeline.filters.gopher_repetition_filter import find_all_duplicate, find_duplicates, find_top_duplicate, get_n_grams
from datatrove.utils.text import PUNCTUATION_SET, TERMINAL_PUNCTUATION, split_into_sentences, split_into_words

from bench.common import RESULTS_DIR, header, write_report
from bench.sample_english import SOURCES, english_docs
from pipeline.records import Document
from pipeline.stages.quality import quality_steps
from pipeline.text.quality import c4, code, fineweb, gopher_quality, gopher_repetition
from pipeline.text.quality.c4 import C4Config, count_sentences
from pipeline.text.quality.config import QualityConfig
from pipeline.text.quality.rules import evaluate
from pipeline.text.quality.view import TextView
from pipeline.text.words import tokenize

RESULTS = os.path.join(RESULTS_DIR, "quality_agreement.md")
FAMILIES = ("gopher_repetition", "gopher_quality", "c4", "fineweb")
FAMILY_OF_STAGE = {
    m.STAGE_ID: f
    for f, m in {"gopher_repetition": gopher_repetition, "gopher_quality": gopher_quality, "c4": c4, "fineweb": fineweb, "code": code}.items()
}
DT_FILTERS = {
    "gopher_repetition": GopherRepetitionFilter,
    "gopher_quality": GopherQualityFilter,
    "c4": C4QualityFilter,
    "fineweb": FineWebQualityFilter,
}
# datatrove's C4QualityFilter() keeps the paper's terminal-punctuation line rule, which our
# default turns off (as FineWeb did): switch it on here so C4 is compared one to one.
CFG = QualityConfig(c4=C4Config(drop_lines_without_terminal_punct=True))
REP_UNREPEATED = replace(CFG.gopher_repetition, top_ngram_counts_unrepeated=True)


# ---- datatrove's signals, computed as its filters compute them (no early exit) ----
def dt_gopher_quality(text: str) -> dict[str, float]:
    words = split_into_words(text)
    n, lines = max(len(words), 1), text.splitlines()
    non_symbol = [w for w in words if any(ch not in PUNCTUATION_SET for ch in w)]
    return {
        "word_count": len(non_symbol),
        "mean_word_length": float(np.mean([len(w) for w in non_symbol])) if non_symbol else 0.0,
        "hash_ratio": text.count("#") / n,
        "ellipsis_ratio": (text.count("...") + text.count("…")) / n,
        "bullet_lines": sum(s.lstrip().startswith("•") or s.lstrip().startswith("-") for s in lines) / max(len(lines), 1),
        "end_ellipsis_lines": sum(s.rstrip().endswith("...") or s.rstrip().endswith("…") for s in lines) / max(len(lines), 1),
        "alpha_words": sum(any(c.isalpha() for c in w) for w in words) / n,
        "stop_words": len(set(DT_STOP_WORDS).intersection(set(words))),
    }


def dt_gopher_repetition(text: str) -> dict[str, float]:
    f, n_chars, words = GopherRepetitionFilter(), max(len(text), 1), split_into_words(text)
    paragraphs, lines = f.paragraph_exp.split(text.strip()), f._line_splitter.split(text)
    (pd, pc), (ld, lc) = find_duplicates(paragraphs), find_duplicates(lines)
    out = {
        "dup_para_frac": pd / len(paragraphs),
        "dup_para_char_frac": pc / n_chars,
        "dup_line_frac": ld / len(lines),
        "dup_line_char_frac": lc / n_chars,
    }
    for n in CFG.gopher_repetition.max_top_ngram_char_frac:
        out[f"top_{n}gram_char_frac"] = find_top_duplicate(get_n_grams(words, n)) / n_chars if len(words) >= n else 0.0
    for n in CFG.gopher_repetition.max_dup_ngram_char_frac:
        out[f"dup_{n}gram_char_frac"] = find_all_duplicate(words, n) / n_chars
    return out


def dt_c4(text: str) -> tuple[str, dict[str, float]]:
    """C4QualityFilter.filter's line loop, recording lorem/curly instead of returning early."""
    f, kept, sentences, lorem, curly = C4QualityFilter(), [], 0, 0, 0
    lines = text.splitlines()
    for line in lines:
        line = line.strip()
        words = line.split()
        if any(len(w) > f.max_word_length for w in words):
            continue
        line = c4._CITATION.sub("", line)
        if not line.endswith(c4.END_PUNCTUATION) or line.endswith("..."):
            continue
        if len(words) < f.min_words_per_line:
            continue
        low = line.lower()
        lorem |= "lorem ipsum" in low
        if "javascript" in low:
            continue
        curly |= "{" in line
        if any(p in low for p in c4.POLICY_PHRASES):
            continue
        sentences += len(split_into_sentences(line))
        kept.append(line)
    cleaned = "\n".join(kept).strip()
    return cleaned, {
        "sentences": sentences,
        "lorem_ipsum": lorem,
        "curly_bracket": curly,
        "lines_removed": len(lines) - len(kept),
        "chars_removed": len(text) - len(cleaned),
    }


def dt_fineweb(text: str) -> dict[str, float]:
    lines = [line for line in text.split("\n") if line.strip() != ""]
    n = max(len(lines), 1)
    return {
        "line_punct_ratio": sum(1 for line in lines if line.endswith(tuple(TERMINAL_PUNCTUATION))) / n,
        "short_line_ratio": sum(1 for line in lines if len(line) <= 30) / n,
        "dup_line_char_ratio": find_duplicates(lines)[1] / max(len(text.replace("\n", "")), 1),
        "list_ratio": text.count("\n") / max(len(split_into_words(text)), 1),
    }


def ours(family: str, text: str, rep_cfg=CFG.gopher_repetition) -> dict[str, float]:
    view = TextView(text, "en")
    if family == "gopher_quality":
        return gopher_quality.signals(view)
    if family == "gopher_repetition":
        if hasattr(gopher_repetition, "signals_batch"):  # the batched API that replaced signals(view, cfg)
            return gopher_repetition.signals_batch([view], rep_cfg)[0]
        return gopher_repetition.signals(view, rep_cfg)
    if family == "c4":
        return c4.clean(view, CFG.c4)[1]
    return fineweb.signals(view, CFG.fineweb)


DT_SIGNALS = {"gopher_quality": dt_gopher_quality, "gopher_repetition": dt_gopher_repetition, "c4": lambda t: dt_c4(t)[1], "fineweb": dt_fineweb}


def rules_of(family: str):
    if family == "gopher_repetition":
        return gopher_repetition.rules(CFG.gopher_repetition), gopher_repetition.Thresholds(CFG.gopher_repetition)
    module = {"gopher_quality": gopher_quality, "c4": c4, "fineweb": fineweb}[family]
    return module.RULES, getattr(CFG, family)


def fails(rule, thresholds, value) -> bool:
    return evaluate([rule], "s", {f"s:{rule.signal}": value}, thresholds)[0] is not None


def rel(a: float, b: float) -> float:
    return 0.0 if a == b else abs(a - b) / max(abs(a), abs(b))


def pct(k: int, n: int) -> str:
    return f"{100 * k / max(n, 1):.1f}% ({k}/{n})"


CLITICS = {"n't", "'s", "'re", "'ll", "'ve", "'m", "'d", "’s", "n’t", "’re", "’ll", "’ve", "’m", "’d"}


def token_cause(text: str) -> tuple[str, str]:
    """Which kind of token boundary makes most of the difference, and the tokens only one side has."""
    theirs, mine = Counter(split_into_words(text)), Counter(tokenize(text))
    kinds = Counter()
    for tok, count in (theirs - mine).items():
        if tok.lower() in CLITICS:
            kinds["contractions (spaCy: do n't, it 's)"] += count
        elif len(tok) > 1 and tok.endswith(".") and any(c.isalnum() for c in tok):
            kinds["abbreviations keep their period in spaCy (Mr., U.S., e.g.)"] += count
        elif not any(c.isalnum() for c in tok):
            kinds["punctuation: spaCy splits runs and attached symbols ('====', '™.', 'Niger–Congo')"] += count
        elif not tok.isalnum():  # plain words only show what else was split: not a kind of their own
            kinds["other boundaries (paths, URLs, symbols inside words)"] += count
    only = lambda a, b: ", ".join(repr(t[:25]) for t, _ in (a - b).most_common(3))
    kind = kinds.most_common(1)[0][0] if kinds else "other boundaries (paths, URLs, symbols inside words)"
    return f"tokenization: {kind}", f"theirs only: {only(theirs, mine)}; ours only: {only(mine, theirs)}"


def cause(family: str, rule, text: str, dt_sig: dict, our_sig: dict) -> tuple[str, str]:
    """(why one rule decided differently on this text, a short hint)."""
    s = rule.signal
    if s == "stop_words" and len(set(DT_STOP_WORDS) & {w.lower() for w in split_into_words(text)}) != dt_sig[s]:
        return "stop words: ours lower-cased, datatrove's case-sensitive", ""
    if s == "bullet_lines":
        return "bullet set: ours 7 bullets, datatrove '•' and '-' only", ""
    if s.startswith("top_") and fails(rule, rules_of(family)[1], ours(family, text, REP_UNREPEATED)[s]) == fails(
        rule, rules_of(family)[1], dt_sig[s]
    ):
        return "top n-gram: ours counts it only when repeated (>= 2)", ""
    if s == "sentences":
        line = next((l for l in dt_c4(text)[0].split("\n") if len(split_into_sentences(l)) != count_sentences(l)[0]), None)
        if line is None:
            return "C4 line cleaning differs", ""
        return "sentence count: spaCy sentencizer vs ours", f"{line[:80]!r}: {len(split_into_sentences(line))} vs {count_sentences(line)[0]}"
    if s == "line_punct_ratio":
        return "terminal punctuation set", ""
    if s in ("word_count", "mean_word_length", "alpha_words", "hash_ratio", "ellipsis_ratio", "list_ratio") or "gram" in s:
        return token_cause(text)
    return "other", ""


def explain(family: str, text: str, dt_sig: dict, our_sig: dict, dt_keep: bool) -> list[tuple]:
    """The rules that fail on the dropping side only: (rule signal, cause, hint, theirs, ours)."""
    rules, th = rules_of(family)
    out = []
    for r in rules:
        if (
            r.signal in dt_sig
            and r.signal in our_sig
            and fails(r, th, dt_sig[r.signal]) != fails(r, th, our_sig[r.signal])
            and fails(r, th, (our_sig if dt_keep else dt_sig)[r.signal])
        ):
            out.append((r.signal, *cause(family, r, text, dt_sig, our_sig), dt_sig[r.signal], our_sig[r.signal]))
    return out or [("?", "other (no single rule differs)", "", float("nan"), float("nan"))]


def run_chain(doc: Document, families, cfg: QualityConfig) -> tuple[dict, dict]:
    """(datatrove's, our) keep per family, in order, stopping at each side's first drop; the
    text each side ends with is under '_text'."""
    d, theirs = DTDocument(text=doc.text, id=doc.id), {}
    for family in families:
        result = DT_FILTERS[family]().filter(d)
        theirs[family] = result[0] if isinstance(result, tuple) else bool(result)
        if not theirs[family]:
            break
    theirs["_text"] = d.text
    mine = {}
    for step in quality_steps(cfg):  # the pipeline's own order of annotators and gates
        if hasattr(step, "annotate"):
            doc = step.annotate([doc])[0]
            continue
        family = FAMILY_OF_STAGE[step.stage_id]
        if family not in families:
            continue
        mine[family] = step.check(doc).reason is None
        if not mine[family]:
            break
    mine["_text"] = doc.text
    return theirs, mine


def signal_section(docs, sig, unrep) -> list[str]:
    out = [
        "## (a) Signal agreement per rule",
        "",
        "within 1%: docs with |ours - theirs| <= 1% relative (or both 0); rel. diff = |ours - theirs| / max(|ours|, |theirs|); "
        "same outcome: docs where the rule passes/fails alike on both sides (default thresholds). FineWeb: both sides on the "
        "ORIGINAL text (standalone, not after C4 cleaning).",
        "",
        "| family | rule (signal) | within 1% | median rel. diff | p95 rel. diff | same outcome |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for family in FAMILIES:
        rules, th = rules_of(family)
        for r in rules:
            variants = [("", [s[family][1] for s in sig])] + ([(" (ours unrepeated=True)", unrep)] if r.signal.startswith("top_") else [])
            for label, mine in variants:
                pairs = [(s[family][0][r.signal], m[r.signal]) for s, m in zip(sig, mine) if r.signal in m]
                diffs = np.array([rel(a, b) for a, b in pairs])
                same = sum(fails(r, th, a) == fails(r, th, b) for a, b in pairs)
                out.append(
                    f"| {family} | {r.setting} ({r.signal}){label} | {pct(int((diffs <= 0.01).sum()), len(pairs))} | "
                    f"{np.median(diffs):.4f} | {np.percentile(diffs, 95):.4f} | {pct(same, len(pairs))} |"
                )
    same_text = sum(dt_c4(d.text)[0] == c4.clean(TextView(d.text, "en"), CFG.c4)[0] for d in docs)
    return out + [f"| c4 | cleaned text identical (not a rule) | {pct(same_text, len(docs))} | | | |"]


def decision_section(docs, sig, unrep) -> list[str]:
    out = [
        "",
        "## (b) Decision agreement (keep/drop), default thresholds",
        "",
        "Each family alone on the original text (ours: our config with apply={'*': [family]} and C4's terminal-punctuation rule on, as datatrove's default), then the four "
        "chained in FineWeb's order (C4 rewrites the text on both sides before FineWeb). datatrove's filters use default "
        "arguments: C4QualityFilter() drops lines without terminal punctuation (FineWeb's own pipeline set filter_no_terminal_punct=False).",
        "",
        "| run | agree | datatrove drops | ours drops | dt drops, ours keeps | dt keeps, ours drops |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    runs = [(f, dataclasses.replace(CFG, apply={"*": [f]}), [f]) for f in FAMILIES]
    runs.insert(
        1,
        (
            "gopher_repetition (ours unrepeated=True)",
            dataclasses.replace(CFG, apply={"*": ["gopher_repetition"]}, gopher_repetition=REP_UNREPEATED),
            ["gopher_repetition"],
        ),
    )
    runs.append(("chain (all four)", dataclasses.replace(CFG, apply={"*": list(FAMILIES)}), list(FAMILIES)))
    classes, inconsistent = defaultdict(list), 0
    for label, cfg, families in runs:
        counts = Counter()
        for i, d in enumerate(docs):
            theirs, mine = run_chain(d, families, cfg)
            keep_t, keep_o = all(theirs.get(f, False) for f in families), all(mine.get(f, False) for f in families)
            counts.update(
                {
                    "agree": keep_t == keep_o,
                    "dt": not keep_t,
                    "ours": not keep_o,
                    "dt_only": keep_o and not keep_t,
                    "ours_only": keep_t and not keep_o,
                }
            )
            if len(families) == 1:  # datatrove's verdict must be its own signals read against the rules
                rules, th = rules_of(families[0])
                inconsistent += keep_t == any(fails(r, th, sig[i][families[0]][0][r.signal]) for r in rules)
            if keep_t == keep_o:
                continue
            at = next(f for f in families if theirs.get(f) != mine.get(f))  # first family that decided differently
            dt_sig, our_sig, text = sig[i][at][0], unrep[i] if "unrepeated" in label else sig[i][at][1], d.text
            if at == "fineweb" and len(families) > 1:  # chained: each side's own C4-cleaned text
                dt_sig, our_sig, text = dt_fineweb(theirs["_text"]), fineweb.signals(TextView(mine["_text"], "en"), CFG.fineweb), mine["_text"]
            for rule, why, hint, a, b in explain(at, text, dt_sig, our_sig, keep_t):
                classes[(label, at, rule, why, "dt drops, ours keeps" if keep_o else "dt keeps, ours drops")].append((d, a, b, hint))
        out.append(
            f"| {label} | {pct(counts['agree'], len(docs))} | {counts['dt']} | {counts['ours']} | {counts['dt_only']} | {counts['ours_only']} |"
        )
    out += [
        "",
        f"Sanity: datatrove verdicts that differ from its own signals read against the rules: {inconsistent} (must be 0).",
        "",
        "## Disagreement classes",
        "",
        "Every document on which a run's decisions differ, classed by the rule(s) that failed on the dropping side only and why; "
        "a document counts once per such rule. Example: url, theirs vs ours signal, tokens only one side has.",
        "",
        "| run | family | rule | cause | direction | docs | example |",
        "|---|---|---|---|---|---:|---|",
    ]
    for (label, at, rule, why, direction), hits in sorted(classes.items(), key=lambda kv: (kv[0][0] != "chain (all four)", -len(kv[1]))):
        d, a, b, hint = hits[0]
        out.append(
            f"| {label} | {at} | {rule} | {why} | {direction} | {len(hits)} | {d.url or d.id}: {a:.4g} vs {b:.4g}{'; ' + hint if hint else ''} |"
        )
    return out


def main() -> None:
    # No options; --help says what it measures and writes.
    argparse.ArgumentParser(
        prog="python -m bench.compare_quality_datatrove", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    docs = english_docs()
    sig = [{f: (DT_SIGNALS[f](d.text), ours(f, d.text)) for f in FAMILIES} for d in docs]
    unrep = [ours("gopher_repetition", d.text, REP_UNREPEATED) for d in docs]
    by_source = Counter(d.source for d in docs)
    out = header("Quality rules: agreement with datatrove", "python -m bench.compare_quality_datatrove") + [
        f"- corpus: {len(docs)} documents ({', '.join(f'{s} {by_source[s]}' for s in SOURCES)}), {sum(len(d.text) for d in docs) / 1e6:.2f} M chars: "
        "the sample's web/wiki/books/curated/academic documents our language ID reads as English with score >= 0.65",
        "",
    ]
    write_report(RESULTS, "\n".join(out + signal_section(docs, sig, unrep) + decision_section(docs, sig, unrep)) + "\n")


if __name__ == "__main__":
    main()
