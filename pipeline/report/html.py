"""report.html: one self-contained page (inline CSS and SVG, no script, no network) from stats.json's
content and the pipeline's ReportData. Deterministic: no clock, no random ids, sorted keys and
fixed number formats, so the same run gives the same bytes."""

import re
from collections import defaultdict
from html import escape
from typing import Any

import yaml

from pipeline.report import scores as sc
from pipeline.report import svg
from pipeline.report.collect import DEAD_LETTERS, EXAMPLES_PER_REASON, EXCERPT_CHARS, ReportData
from pipeline.stages.registry import PERPLEXITY_KEY
from pipeline.stats import accounting_line

REPORT_FILE = "report.html"
MAX_LANGUAGES = 9  # rejections by language: the most rejected, then "other"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#222;margin:0;background:#eef0f3}
main{max-width:1140px;margin:0 auto;padding:20px 28px 48px;background:#fff}
h1{font-size:24px;margin:4px 0 6px}h2{font-size:19px;border-bottom:2px solid #4e79a7;padding-bottom:4px;margin:34px 0 10px}
h3{font-size:15px;margin:22px 0 8px}h4{font-size:13px;margin:0 0 2px}
nav a{margin-right:14px}a{color:#2b5d8f}code{font-size:12px;background:#f3f3f3;padding:0 3px;border-radius:3px}
.meta{color:#555;font-size:13px}.note{color:#666;font-size:12px;margin:4px 0}
.accounting{font:600 14px/1.5 ui-monospace,"DejaVu Sans Mono",monospace;padding:8px 12px;border-radius:4px;margin:10px 0}
.ok{background:#e8f5e9;color:#1b5e20}.bad{background:#ffebee;color:#b71c1c}
.grid{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:12px}
figure{margin:0 0 12px;border:1px solid #e2e4e8;border-radius:5px;padding:8px 8px 4px;background:#fff}
figure.wide{padding:10px}figcaption{font-size:12px;color:#444;margin-bottom:2px}
svg.plot{display:block;max-width:100%;height:auto}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0 12px}th,td{padding:3px 9px;border-bottom:1px solid #eceef1;text-align:right;vertical-align:top}
th{background:#f5f6f8;font-weight:600}td.l,th.l{text-align:left}
pre{white-space:pre-wrap;word-break:break-word;max-height:12em;overflow:auto;background:#f6f7f9;border:1px solid #eceef1;border-radius:4px;padding:6px 9px;font-size:12px;margin:2px 0 8px}
.example{margin:0 0 10px}.example .head{font-size:12.5px}.example .detail{color:#8a2a1b}
details>summary{cursor:pointer;font-weight:600;margin:6px 0}
"""


def clean(s: str) -> str:
    """Escaped for HTML, control characters and lone surrogates shown as U+FFFD."""
    return escape(_CONTROL.sub("\ufffd", s))


def render(stats: dict[str, Any], data: ReportData) -> str:
    facts = stats.get("facts", {})
    config = stats["run"]["config"]
    sections = [
        ("funnel", "Funnel", _funnel(stats, data)),
        ("rejections", "Rejections", _rejections(stats)),
        *([("sites", "Sites", _sites(stats))] if stats.get("domains") else []),
        ("scores", "Score distributions", _scores(data, {"config": config, "facts": facts})),
        *([("classifier", "Quality classifier", _classifier(facts["quality_classifier"]))] if facts.get("quality_classifier") else []),
        *([("decontamination", "Decontamination", _decontamination(facts["decontamination"]))] if facts.get("decontamination") else []),
        ("mixture", "Mixture", _mixture(facts, config)),
        ("tokenization", "Tokenization", _tokenization(facts)),
        ("examples", "Rejected examples", _examples(stats, data, config)),
        ("config", "Config", _config(stats)),
    ]
    holds = stats["accounting"]["holds"]
    inputs = ", ".join(stats["run"].get("inputs", []))
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Run report</title>",
        f"<style>{CSS}</style></head><body><main>",
        "<h1>Run report</h1>",
        f'<p class="meta">inputs: {clean(inputs)}<br>config sha256: <code>{clean(str(stats["run"].get("config_sha256", "")))}</code>'
        f" &middot; stats.json schema {stats.get('stats_schema_version', '')}</p>",
        f'<div class="accounting {"ok" if holds else "bad"}">{clean(accounting_line(stats))}</div>',
        "<nav>" + "".join(f'<a href="#{sid}">{clean(title)}</a>' for sid, title, _ in sections) + "</nav>",
    ]
    body = [f'<section id="{sid}"><h2>{clean(title)}</h2>{content}</section>' for sid, title, content in sections]
    return "\n".join(head + body + ["</main></body></html>", ""])


def _table(header: list[str], rows: list[list[Any]], left: tuple[int, ...] = (0,)) -> str:
    """Cells are escaped here; the columns in `left` are left-aligned, the others (numbers) right."""

    def cells(tag, values):
        return "".join(f"<{tag}{' class=l' if i in left else ''}>{clean(str(v))}</{tag}>" for i, v in enumerate(values))

    return "<table><tr>" + cells("th", header) + "</tr>" + "".join(f"<tr>{cells('td', r)}</tr>" for r in rows) + "</table>"


def _details(summary: str, content: str) -> str:
    return f"<details><summary>{clean(summary)}</summary>{content}</details>"


def _figure(svg_text: str, caption: str = "", note: str = "", wide: bool = False) -> str:
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    n = f'<p class="note">{note}</p>' if note else ""
    return f"<figure{' class=wide' if wide else ''}>{cap}{svg_text}{n}</figure>"


def _pct(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "0.0%"


def _sites(stats: dict[str, Any]) -> str:
    """The sites with the most pages read (documents with an http(s) URL), and what became of them."""
    sites = stats["domains"]
    rows = [[site, f"{v['read']:,}", f"{v['kept']:,}", f"{v['rejected']:,}", _pct(v["kept"], v["read"])] for site, v in sites.items()]
    total = stats.get("domains_total", len(sites))
    note = f'<p class="note">{len(sites):,} of {total:,} sites, by pages read; a page rejected at the read (a redirect, an image) counts as read.</p>'
    return note + _table(["site", "read", "kept", "rejected", "kept share"], rows)


def _funnel(stats: dict[str, Any], data: ReportData) -> str:
    a = stats["accounting"]
    read_note = f"{a['records_read']:,} records, {a['dead_letters']:,} dead letters"
    rows = [("read", [a["documents_read"], a["dead_letters"]], read_note, ["documents", "dead letters"])]
    for step in stats["funnel"]:
        rows.append(
            (
                step["stage"],
                [step["out"], step["rejected"]],
                f"{step['in']:,} → {step['out']:,} (−{step['rejected']:,}, {_pct(step['rejected'], step['in'])})",
            )
        )
    docs = svg.stacked_hbars(
        "funnel-documents", "Documents in and out per stage", rows, [("out", svg.KEPT), ("rejected (at read: dead letters)", svg.REMOVED)]
    )
    out = [_figure(docs, "<h4>Documents per stage</h4>", "Each bar is what reached the stage; its red part is what the stage rejected.", wide=True)]

    volumes = {v[0]: v[1:] for v in data.volumes}
    vrows, table = [], []
    for step in stats["funnel"]:
        d_in, c_in, d_out, c_out = volumes.get(step["stage"], (0, 0, 0, 0))  # absent: no document reached it
        vrows.append((step["stage"], [c_out, max(c_in - c_out, 0)], f"{svg.fmt_count(c_in)} → {svg.fmt_count(c_out)} (−{_pct(c_in - c_out, c_in)})"))
        table.append([step["stage"], f"{d_in:,}", f"{d_in - d_out:,}", f"{d_out:,}", f"{c_in:,}", f"{c_out:,}", _pct(c_in - c_out, c_in)])
    if vrows:
        chars = svg.stacked_hbars("funnel-characters", "Characters in and out per stage", vrows, [("out", svg.KEPT), ("removed", svg.REMOVED)])
        out.append(
            _figure(
                chars,
                "<h4>Characters per stage</h4>",
                "Unicode characters of the documents' text, not tokens: tokens exist only after tokenization (below). "
                "Removed = rejected documents plus text cut from the kept ones (C4's line cleaning, counted at quality.c4.v1, "
                "and repeated-paragraph removal at dedup.paragraphs.v1). The mixture counts each kept document once, not its copies.",
                wide=True,
            )
        )
        out.append(
            _details(
                "Table: documents and characters per stage",
                _table(["stage", "documents in", "rejected", "out", "characters in", "characters out", "removed"], table),
            )
        )
    tokens, tpw = stats.get("facts", {}).get("tokens"), stats.get("facts", {}).get("tokens_per_word")
    if tokens:
        t_in = sum(e["tokens"] for by_source in (tpw or {}).values() for e in by_source.values())
        w_in = sum(e["words"] for by_source in (tpw or {}).values() for e in by_source.values())
        out.append(
            f"<p>Tokens (real, from the tokenizer): the mixture's input is <b>{t_in:,.0f}</b> tokens for {w_in:,.0f} words; "
            f"the shards hold <b>{tokens['tokens']:,}</b> tokens (copies and end-of-document tokens included) in "
            f"{tokens['rows']:,} rows and {tokens['shards']:,} shards.</p>"
        )
    return "".join(out)


def _stacked_by(stats: dict[str, Any], key: str, plot_id: str, title: str, names: list[str], other: bool) -> str:
    rows = []
    for step in stats["funnel"]:
        for reason, n in stats["rejections"].get(step["stage"], {}).items():
            by = stats[key][step["stage"]][reason]
            values = [by.get(name, 0) for name in names]
            if other:
                values.append(n - sum(values))
            rows.append((reason, values, f"{n:,}"))
    series = [(name, svg.PALETTE[i % len(svg.PALETTE)]) for i, name in enumerate(names)]
    if other:
        series.append(("other", "#cfcfcf"))
    return svg.stacked_hbars(plot_id, title, rows, series)


def _rejections(stats: dict[str, Any]) -> str:
    out = _rejection_charts(stats) if any(stats["rejections"].values()) else ["<p>No stage rejected anything.</p>"]
    dead = stats.get("dead_letters", {})
    if dead:
        out.append("<h3>Dead letters</h3>" + _table(["reason", "records"], [[r, f"{n:,}"] for r, n in dead.items()]))
    skipped = stats.get("skipped_rules", {})
    rows = []
    for step in stats["funnel"]:
        groups: dict[str, list[str]] = {}  # rules skipped for the same documents share a row
        for rule, langs in skipped.get(step["stage"], {}).items():
            groups.setdefault(", ".join(f"{l} {n:,}" for l, n in langs.items()), []).append(rule)
        rows += [[step["stage"], ", ".join(rules), by_lang] for by_lang, rules in groups.items()]
    if rows:
        out.append(
            _details(
                "Rules skipped: no definition for the document's language (neither passed nor failed)",
                _table(["stage", "rules", "documents by language"], rows, left=(0, 1, 2)),
            )
        )
    return "".join(out)


def _rejection_charts(stats: dict[str, Any]) -> list[str]:
    sources = sorted({s for rs in stats["rejections_by_source"].values() for by in rs.values() for s in by})
    lang_totals: dict[str, int] = defaultdict(int)
    for rs in stats["rejections_by_language"].values():
        for by in rs.values():
            for lang, n in by.items():
                lang_totals[lang] += n
    langs = [l for l, _ in sorted(lang_totals.items(), key=lambda kv: (-kv[1], kv[0]))]
    top, other = langs[:MAX_LANGUAGES], len(langs) > MAX_LANGUAGES
    src = stats["sources"]
    per_source = svg.stacked_hbars(
        "sources",
        "Documents kept and rejected per source",
        [(s, [v["kept"], v["read"] - v["kept"]], f"{v['read']:,} → {v['kept']:,} ({_pct(v['kept'], v['read'])} kept)") for s, v in src.items()],
        [("kept", svg.KEPT), ("rejected", svg.REMOVED)],
    )
    out = [
        _figure(
            per_source,
            "<h4>Per source: read and kept</h4>",
            "Kept: documents with at least one copy in the shards (or past the last stage).",
            wide=True,
        ),
        _figure(
            _stacked_by(stats, "rejections_by_source", "rejections-by-source", "Rejections per reason and source", sources, False),
            "<h4>Rejections per reason, by source</h4>",
            "Reasons in stage order.",
            wide=True,
        ),
        _figure(
            _stacked_by(stats, "rejections_by_language", "rejections-by-language", "Rejections per reason and language", top, other),
            "<h4>Rejections per reason, by language</h4>",
            f"The {len(top)} languages with the most rejections{', the rest as other' if other else ''}; the language is fastText's label.",
            wide=True,
        ),
    ]
    rows = []
    for step in stats["funnel"]:
        for reason, n in stats["rejections"].get(step["stage"], {}).items():
            by_source = ", ".join(
                f"{s} {k:,}" for s, k in sorted(stats["rejections_by_source"][step["stage"]][reason].items(), key=lambda kv: (-kv[1], kv[0]))
            )
            rows.append([step["stage"], reason, f"{n:,}", _pct(n, step["in"]), by_source])
    out.append(_details("Table: rejections per reason", _table(["stage", "reason", "rejected", "of stage input", "by source"], rows, left=(0, 1, 4))))
    return out


def _scores(data: ReportData, root: dict[str, Any]) -> str:
    counts: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    for (key, lang, i), n in data.histograms:
        counts[(key, lang)][i] = n

    def sort_key(kl):
        key, lang = kl
        found = sc.spec_for(key)
        n = int(found[1].get("n", 0)) if found else 0
        return sc.order(key), n, key, lang != sc.ALL, lang

    figures: dict[str, list[str]] = defaultdict(list)
    for key, lang in sorted(counts, key=sort_key):
        found = sc.spec_for(key)
        if found is None:
            continue
        spec, fields = found
        bins = spec.bins
        if bins is None:  # declared, not drawn (a bucket, a cutoff)
            continue
        values = [counts[(key, lang)].get(i, 0) for i in range(bins.n)]
        title = spec.title.replace("{n}", fields.get("n", "")) + ("" if lang == sc.ALL else f" ({lang})")
        lines = sc.thresholds(spec, fields, lang, root)
        note = clean(spec.note)
        if key == PERPLEXITY_KEY and lang not in (root["facts"].get("perplexity_cutoffs") or {}):
            note += "; <b>no cutoffs for this language</b> (fewer than perplexity.min_reference scored documents in the gated sources): not bucketed"
        plot = svg.histogram(f"hist:{key}" + ("" if lang == sc.ALL else f":{lang}"), title, bins, values, lines)
        caption = f"<h4>{clean(title)}</h4><code>{clean(key)}</code> &middot; {sum(values):,} documents"
        section = next((name for prefix, name in sc.SECTIONS if key.startswith(prefix)), "Other")
        figures[section].append(_figure(plot, caption, note))
    out = [
        '<p class="note">Counted right after each scoring step over every document that reached it, '
        "so documents rejected later are included. Dashed lines are the configured thresholds (a rule set to null draws none); "
        "values beyond an axis are counted in its end bins; the count axis is logarithmic.</p>"
    ]
    for _, name in list(sc.SECTIONS) + [("", "Other")]:
        if figures.get(name):
            out.append(f"<h3>{clean(name)}</h3><div class=grid>{''.join(figures[name])}</div>")
    return "".join(out)


def _decontamination(sets: dict[str, Any]) -> str:
    """Per evaluation set (stats.json facts.decontamination): its size and what matched it."""
    keys = ["passages", "ngrams", "documents_rejected", "documents_cut", "characters_cut", "ngrams_matched"]
    return _table(["eval set", *(k.replace("_", " ") for k in keys)], [[name, *(f"{v[k]:,}" for k in keys)] for name, v in sorted(sets.items())])


def _classifier(qc: dict[str, Any]) -> str:
    """The model used and, when trained in the run, its figures on the held-out hash split."""
    if not qc.get("trained"):
        return f"<p>Model: <code>{clean(str(qc.get('model')))}</code>" + (f" &middot; {clean(qc['reason'])}" if qc.get("reason") else "") + "</p>"
    head = (
        f"<p>Trained in this run: <code>{clean(str(qc.get('model')))}</code>, {qc.get('train_per_class', 0):,} documents per class ("
        + clean(", ".join(qc.get("positive_sources", [])) + " vs " + ", ".join(qc.get("negative_sources", [])))
        + ")</p>"
    )
    h = qc.get("heldout")
    if not h:
        return head + "<p>No held-out documents of both classes: no validation figures.</p>"
    rows = [[f"{h['positives']:,}", f"{h['negatives']:,}", *("" if h[k] is None else f"{h[k]:.4f}" for k in ("precision", "recall", "roc_auc"))]]
    note = f'<p class="note">On the held-out hash split (never trained on), classes balanced; precision and recall of score &gt;= {h["threshold"]:g}.</p>'
    return head + _table(["held-out positives", "held-out negatives", "precision", "recall", "ROC AUC"], rows, left=()) + note


def _mixture(facts: dict[str, Any], config: dict[str, Any]) -> str:
    tokens = facts.get("tokens")
    if not tokens:
        return "<p>No mixture: output.write_tokens is false.</p>"
    mix = tokens["sources"]
    names = list(mix)
    shares = svg.grouped_bars(
        "mixture-shares",
        "Target vs achieved share per source",
        names,
        [("target", "#bab0ac"), ("achieved", svg.KEPT)],
        [[mix[s]["target"], mix[s]["achieved"]] for s in names],
        "share of " + config["mixture"]["unit"],
        "{:.3f}",
        width=520,
    )
    by_source = config["mixture"].get("max_epochs_by_source", {})
    max_epochs = config["mixture"]["max_epochs"]
    epochs = svg.grouped_bars(
        "mixture-epochs",
        "Epochs per source",
        names,
        [("epochs", svg.PALETTE[1])],
        [[mix[s]["epochs"]] for s in names],
        "epochs",
        "{:.2f}",
        reference=(max_epochs, f"max_epochs {max_epochs:g}"),
        width=520,
    )
    rows = [
        [s, f"{m['target']:.3f}", f"{m['achieved']:.3f}", f"{m['epochs']:.3f}", f"{by_source.get(s, max_epochs):g}", m["warning"]]
        for s, m in mix.items()
    ]
    note = "Epochs: copies of each kept document of the source, on average (below 1: down-sampled)."
    if by_source:
        note += " Per-source caps: " + ", ".join(f"{s} {v:g}" for s, v in sorted(by_source.items())) + "."
    return (
        "<div class=grid style='grid-template-columns:1fr 1fr'>"
        + _figure(shares, "<h4>Target vs achieved share</h4>")
        + _figure(epochs, "<h4>Epochs per source</h4>", clean(note))
        + "</div>"
        + _table(["source", "target", "achieved", "epochs", "max epochs", "warning"], rows, left=(0, 5))
    )


def _tokenization(facts: dict[str, Any]) -> str:
    tpw = facts.get("tokens_per_word")
    if tpw is None:
        return "<p>No tokenization: output.write_tokens is false.</p>"
    if not tpw:
        return "<p>No document reached tokenization.</p>"
    langs = list(tpw)
    sources = sorted({s for by in tpw.values() for s in by})
    series = [(s, svg.PALETTE[i % len(svg.PALETTE)]) for i, s in enumerate(sources)]
    values = [[tpw[l][s]["tokens_per_word"] if s in tpw[l] else None for s in sources] for l in langs]
    plot = svg.grouped_bars(
        "tokens-per-word", "Tokens per word by language and source", langs, series, values, "tokens per word", "{:.2f}", width=1080, height=280
    )
    rows = []
    for l in langs:
        tokens, words = sum(e["tokens"] for e in tpw[l].values()), sum(e["words"] for e in tpw[l].values())
        cells = [f"{tpw[l][s]['tokens_per_word']:.3f}" if s in tpw[l] else "" for s in sources]
        rows.append([l, *cells, f"{tokens / words:.3f}" if words else "", f"{tokens:,.0f}", f"{words:,.0f}"])
    note = "Tokens of each document that reached the mixture, once (no copies, no end-of-document token), over its words as the quality rules count them (one per CJK character)."
    table = _table(["language", *sources, "all sources", "tokens", "words"], rows)
    return _figure(plot, "<h4>Tokens per word</h4>", clean(note), wide=True) + table


def _examples(stats: dict[str, Any], data: ReportData, config: dict[str, Any]) -> str:
    by_reason = {tuple(k): v for k, v in data.examples}
    order = [(step["stage"], reason) for step in stats["funnel"] for reason in stats["rejections"].get(step["stage"], {})]
    order += [(DEAD_LETTERS, reason) for reason in stats.get("dead_letters", {})]
    if not order:
        return "<p>Nothing was rejected.</p>"
    out = [
        f'<p class="note">Per reason, the {EXAMPLES_PER_REASON} smallest document ids (dead letters: locations), '
        f"text cut at {EXCERPT_CHARS} characters. All of them are in rejections/ and dead_letters/.</p>"
    ]
    if not config["output"]["rejected_text"]:
        out.append('<p class="note">output.rejected_text is false: rejections keep no text, so only ids and details are shown.</p>')
    stage = None
    for key in order:
        if key[0] != stage:
            stage = key[0]
            out.append(f"<h3>{clean(stage)}</h3>")
        examples = by_reason.get(key, [])
        out.append(f"<details open><summary>{clean(key[1])}</summary>")
        for doc_id, source, lang, detail, text, chars in examples:
            where = ", ".join(x for x in (source, lang) if x)
            size = f", {chars:,} characters" if chars >= 0 else ""
            out.append(
                f'<div class="example"><div class="head"><code>{clean(doc_id)}</code> ({clean(where)}{size})'
                f' &middot; <span class="detail">{clean(detail)}</span></div>' + (f"<pre>{clean(text)}</pre>" if text is not None else "") + "</div>"
            )
        out.append("</details>")
    return "".join(out)


def _config(stats: dict[str, Any]) -> str:
    text = yaml.safe_dump(stats["run"]["config"], sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    return '<p class="note">Every setting of this run, defaults included (YAML, as --config takes it).</p>' + f"<pre>{clean(text)}</pre>"
