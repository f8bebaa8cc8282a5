"""stats.json: counts per stage, reason, source and language, the funnel and the accounting.

Pure Python: the pipeline feeds it (key, count) pairs from a global combine; the CLI prints its
summary; tests check the identity. Counting from the output collections themselves (not from
Beam metrics, which some runners report only approximately) means a stage that loses a
document without a Rejection breaks the identity and fails the run.
"""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

STATS_SCHEMA_VERSION = 1

# Keys of the counted events (the first element of each key tuple).
READ = "read"  # ("read", source): a document parsed from the input
DEAD = "dead"  # ("dead", reason, source)
REJECTED = "rejected"  # ("rejected", stage, reason, source, lang)
KEPT = "kept"  # ("kept", source, lang)
SKIPPED = "skipped"  # ("skipped", stage, rule, lang): a rule with no definition for the language
DOMAIN = "domain"  # ("domain", site, "read" | "kept" | "rejected"): web pages per site
TOP_DOMAINS = 100  # sites listed in stats.json, by documents read


def build_stats(
    counts: Iterable[tuple[tuple, int]],
    stages: list[str],
    files: dict[str, list[dict[str, Any]]],
    run: dict[str, Any],
) -> dict[str, Any]:
    """counts: ((kind, ...), n) pairs; stages: filter stage ids in graph order."""
    read_by_source: dict[str, int] = defaultdict(int)
    dead_by_reason: dict[str, int] = defaultdict(int)
    kept_by_source: dict[str, int] = defaultdict(int)
    kept_by_lang: dict[str, int] = defaultdict(int)
    rejected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    # stage -> reason -> source (or language) -> n: what each rule drops, where.
    rejected_by_source: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    rejected_by_lang: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    skipped: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    domains: dict[str, dict[str, int]] = defaultdict(lambda: {"read": 0, "kept": 0, "rejected": 0})
    for key, n in counts:
        kind = key[0]
        if kind == READ:
            read_by_source[key[1]] += n
        elif kind == DEAD:
            dead_by_reason[key[1]] += n
        elif kind == REJECTED:
            _, stage, reason, source, lang = key
            rejected[stage][reason] += n
            rejected_by_source[stage][reason][source] += n
            rejected_by_lang[stage][reason][lang or "unknown"] += n
        elif kind == KEPT:
            kept_by_source[key[1]] += n
            kept_by_lang[key[2] or "unknown"] += n
        elif kind == SKIPPED:
            _, stage, rule, lang = key
            skipped[stage][rule][lang or "unknown"] += n
        elif kind == DOMAIN:
            domains[key[1]][key[2]] += n
        else:
            raise ValueError(f"unknown count key {key!r}")

    documents_read = sum(read_by_source.values())
    dead_letters = sum(dead_by_reason.values())
    kept = sum(kept_by_source.values())
    rejections = sum(sum(r.values()) for r in rejected.values())
    records_read = documents_read + dead_letters
    unknown_stages = sorted(set(rejected) - set(stages))
    if unknown_stages:
        raise ValueError(f"rejections from stages not in the graph: {unknown_stages}")

    funnel, remaining = [], documents_read
    for stage in stages:
        dropped = sum(rejected.get(stage, {}).values())
        funnel.append({"stage": stage, "in": remaining, "rejected": dropped, "out": remaining - dropped})
        remaining -= dropped

    written = {name: sum(f["rows"] for f in fs) for name, fs in files.items()}
    checks = {
        "records_read = kept + rejected + dead_letters": records_read == kept + rejections + dead_letters,
        "funnel ends at kept": remaining == kept,
    }
    if "documents" in written:
        checks["documents written = kept"] = written["documents"] == kept
    if "rejections" in written:
        checks["rejections written = rejected"] = written["rejections"] == rejections
    if "dead_letters" in written:
        checks["dead letters written = dead_letters"] = written["dead_letters"] == dead_letters

    return {
        "stats_schema_version": STATS_SCHEMA_VERSION,
        "run": run,
        "accounting": {
            "records_read": records_read,
            "documents_read": documents_read,
            "kept": kept,
            "rejected": rejections,
            "dead_letters": dead_letters,
            "checks": checks,
            "holds": all(checks.values()),
        },
        "funnel": funnel,
        "rejections": {s: dict(sorted(r.items())) for s, r in sorted(rejected.items())},
        "rejections_by_source": _nested(rejected_by_source),
        "rejections_by_language": _nested(rejected_by_lang),
        "skipped_rules": {
            stage: {rule: dict(sorted(langs.items())) for rule, langs in sorted(rules.items())} for stage, rules in sorted(skipped.items())
        },
        "dead_letters": dict(sorted(dead_by_reason.items())),
        "sources": {
            s: {"read": read_by_source.get(s, 0), "kept": kept_by_source.get(s, 0)} for s in sorted(set(read_by_source) | set(kept_by_source))
        },
        "kept_by_language": dict(sorted(kept_by_lang.items(), key=lambda kv: (-kv[1], kv[0]))),
        # The sites with the most pages read (documents with an http(s) URL): read, kept, rejected.
        "domains": dict(sorted(domains.items(), key=lambda kv: (-kv[1]["read"], kv[0]))[:TOP_DOMAINS]),
        "domains_total": len(domains),
        "files": {name: sorted(fs, key=lambda f: f["path"]) for name, fs in sorted(files.items())},
    }


def _nested(counts: dict) -> dict:
    """stage -> reason -> key -> n, every level sorted (stats.json is compared byte for byte)."""
    return {s: {r: dict(sorted(by.items())) for r, by in sorted(rs.items())} for s, rs in sorted(counts.items())}


def accounting_line(stats: dict[str, Any]) -> str:
    a = stats["accounting"]
    verdict = "holds" if a["holds"] else "DOES NOT HOLD: " + ", ".join(k for k, ok in a["checks"].items() if not ok)
    return (
        f"accounting: read {a['records_read']:,} = kept {a['kept']:,} + rejected {a['rejected']:,} + dead letters {a['dead_letters']:,} ({verdict})"
    )


def summary(stats: dict[str, Any]) -> str:
    """The funnel as a few human lines, for the end of a run."""
    a = stats["accounting"]
    lines = [f"read        {a['records_read']:>10,} records ({a['documents_read']:,} documents, {a['dead_letters']:,} dead letters)"]
    for reason, n in stats["dead_letters"].items():
        lines.append(f"  dead letter {reason:<32} {n:>10,}")
    repeated = stats.get("facts", {}).get("repeated_ids")
    if repeated and repeated["ids"]:
        lines.append(
            f"  repeated record ids: {repeated['ids']:,} ids held by {repeated['documents']:,} documents; each of those"
            " documents' id is '<record id>@<where it was read>' (record_id keeps the given id)"
        )
    for step in stats["funnel"]:
        lines.append(f"{step['stage']:<28} in {step['in']:>10,}  rejected {step['rejected']:>10,}  out {step['out']:>10,}")
        for reason, n in stats["rejections"].get(step["stage"], {}).items():
            by_source = stats["rejections_by_source"][step["stage"]][reason]
            where = ", ".join(f"{s} {k:,}" for s, k in sorted(by_source.items(), key=lambda kv: -kv[1]))
            lines.append(f"  {reason:<42} {n:>10,}   ({where})")
        # Rules skipped for the same documents share one line.
        groups: dict[str, list[str]] = {}
        for rule, langs in stats.get("skipped_rules", {}).get(step["stage"], {}).items():
            groups.setdefault(", ".join(f"{lang} {n:,}" for lang, n in langs.items()), []).append(rule)
        for by_lang, rules in groups.items():
            lines.append(f"  skipped {', '.join(rules)} (no definition for: {by_lang})")
        if step["stage"] == "perplexity.filter.v1" and stats.get("facts", {}).get("perplexity_cutoffs"):
            cuts = "; ".join(
                f"{lang} {c['cutoffs'][0]:,.0f} | {c['cutoffs'][1]:,.0f}" + (f" ({c['sample']:,} docs)" if c["sample"] else "")
                for lang, c in stats["facts"]["perplexity_cutoffs"].items()
            )
            lines.append(f"  cutoffs head | middle: {cuts}")
    tokens = stats.get("facts", {}).get("tokens")
    if tokens:
        mix = ", ".join(f"{s} {m['achieved']:.3f}/{m['target']:.2f} x{m['epochs']:.2f}" for s, m in tokens["sources"].items())
        lines.append(f"mixture (achieved/target share, epochs): {mix}")
        lines += [f"  warning: {s}: {m['warning']}" for s, m in tokens["sources"].items() if m["warning"]]
        lines.append(f"tokens: {tokens['tokens']:,} in {tokens['rows']:,} rows, {tokens['shards']:,} shards (tokens/manifest.json)")
    kept_sources = ", ".join(f"{s} {v['kept']:,}/{v['read']:,}" for s, v in stats["sources"].items())
    lines.append(f"documents per source label, kept/read: {kept_sources}")
    top_langs = ", ".join(f"{l} {n:,}" for l, n in list(stats["kept_by_language"].items())[:12])
    lines.append(f"kept by language: {top_langs}")
    lines.append(accounting_line(stats))
    return "\n".join(lines)
