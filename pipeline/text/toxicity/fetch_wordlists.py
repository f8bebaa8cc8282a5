"""Regenerate wordlists/<lang>.txt from the npm package naughty-words (the LDNOOBW lists).

Run:  python -m pipeline.text.toxicity.fetch_wordlists

The lists are committed data, so the pipeline never fetches at run time; this script only
records how they were made and lets a later version replace them. It uses the ordinary npm
client (``npm pack``: the tarball of a pinned version, checked against its pinned SHA-1) and
reads the tarball with tarfile, so nothing from the package is executed.

Each file: a first comment line naming the package, version, licence and source, then one
entry per line: NFC, lowercased, whitespace collapsed, deduplicated, sorted. Files are named
by the package's language keys (index.js), e.g. "fil" and "fr-CA-u-sd-caqc"; wordlists.py
maps those to the codes language ID gives.
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata

PACKAGE = "naughty-words"
VERSION = "1.2.0"
SHA1 = "255f60bad94b430fb1216d05a3f4eec3e1061d64"  # npm's shasum of naughty-words-1.2.0.tgz
LICENCE = "CC-BY-4.0"
SOURCE = "https://github.com/LDNOOBW/List-of-Dirty-Naughty-Obscene-and-Otherwise-Bad-Words"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wordlists")
HEADER = f"# {PACKAGE} {VERSION}, {LICENCE}, {SOURCE}"

# The package's index.js: module.exports['<key>'] = require('./<file>.json');
_EXPORT = re.compile(r"""module\.exports\[['"]([^'"]+)['"]\]\s*=\s*require\(['"]\./([^'"]+\.json)['"]\)""")


def normalize_entry(entry: str, lang: str) -> str:
    entry = " ".join(unicodedata.normalize("NFC", entry).lower().split())
    if lang == "th":
        # The Thai list spells SARA AM as NIKHAHIT + SARA AA (its NFKC decomposition), which NFC
        # does not recompose; Thai text is written with the single character U+0E33, so keep
        # the list's entries in the form text uses.
        entry = entry.replace("\u0e4d\u0e32", "\u0e33")
    return entry


def npm_pack(workdir: str) -> str:
    """`npm pack` the pinned version into workdir; the tarball's path, after checking its SHA-1."""
    out = subprocess.run(["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"], cwd=workdir, check=True, capture_output=True, text=True).stdout.split()
    path = os.path.join(workdir, out[-1])
    with open(path, "rb") as f:
        digest = hashlib.sha1(f.read()).hexdigest()
    if digest != SHA1:
        raise RuntimeError(f"{path}: SHA-1 {digest}, expected {SHA1}")
    return path


def read_lists(tarball: str) -> dict[str, list[str]]:
    """{language key: raw entries} from the tarball's index.js and JSON files."""
    with tarfile.open(tarball) as tar:

        def member(name):
            return tar.extractfile(f"package/{name}").read().decode("utf-8")

        exports = _EXPORT.findall(member("index.js"))
        return {key: json.loads(member(file)) for key, file in exports}


def write_lists(lists: dict[str, list[str]], out_dir: str = OUT_DIR) -> dict[str, int]:
    os.makedirs(out_dir, exist_ok=True)
    counts = {}
    for lang, raw in sorted(lists.items()):
        entries = sorted({e for e in (normalize_entry(r, lang) for r in raw) if e})
        # The loader skips "#" lines; an entry starting with "#" would be lost.
        assert not any(e.startswith("#") for e in entries), lang
        with open(os.path.join(out_dir, f"{lang}.txt"), "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join([HEADER, *entries]) + "\n")
        counts[lang] = len(entries)
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.text.toxicity.fetch_wordlists",
        description=f"Rewrite the LDNOOBW word lists from npm's {PACKAGE} {VERSION} (SHA-1 pinned) with `npm pack`.",
    )
    parser.add_argument("--out", default=OUT_DIR, help="folder for <lang>.txt (default: the lists the pipeline loads)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        counts = write_lists(read_lists(npm_pack(tmp)), args.out)
    print(f"{len(counts)} lists in {args.out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)


if __name__ == "__main__":
    main()
