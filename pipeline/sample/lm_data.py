"""Text for the shipped KenLM models, and the held-out perplexity fixtures.

Training text: Wikipedia lead sections (en, fr, es) from the wiki wheel, minus the articles the
sample uses (so the sample's wiki documents are scored as unseen text) and minus a held-out
slice. The fixtures (``tests/data/perplexity_heldout.jsonl.gz``) hold documents of five kinds,
none seen in training: held-out Wikipedia, novels, technical documentation, source code and
text in another language, for the test that the models order them as expected.
"""

from __future__ import annotations

import os

from .books import austen_chapters
from .code import build_code
from .common import pick, source_lang
from .curated import debref_sections, debref_selection
from .fetch import read_text, walk
from .wiki import wiki_selection

LM_LANGS = ("en", "fr", "es")
HELDOUT_ARTICLES = 300  # per language, never trained on
FIXTURES_PER_KIND = 40
FIXTURE_CHARS = 2500  # documents are cut at a line break near this length


def wiki_split(wheel) -> tuple[dict[str, list[str]], dict[str, list[tuple[str, str]]]]:
    """({lang: training articles}, {lang: held-out (title, text)})."""
    arts, chosen = wiki_selection(wheel)
    in_sample = {(lang, title) for lang, title, _ in chosen}
    train, held = {}, {}
    for lang in LM_LANGS:
        unused = [(title, text) for l, title, text in arts if l == lang and (l, title) not in in_sample]
        held_out = pick(unused, HELDOUT_ARTICLES, lambda a: "lmheld" + lang + a[0])
        held_titles = {title for title, _ in held_out}
        train[lang] = [text for title, text in unused if title not in held_titles]
        held[lang] = sorted(held_out)
    return train, held


def write_training_text(wheel, out_dir: str) -> dict[str, str]:
    """One text file per language, a paragraph per line; returns {lang: path}."""
    train, _ = wiki_split(wheel)
    os.makedirs(out_dir, exist_ok=True)
    paths = {}
    for lang, texts in train.items():
        paths[lang] = os.path.join(out_dir, f"wiki_{lang}.txt")
        with open(paths[lang], "w", encoding="utf-8") as f:
            for text in texts:
                f.write(text.strip() + "\n")
    return paths


def _cut(text: str) -> str:
    """About FIXTURE_CHARS characters, ending at a line break when there is one."""
    text = text.strip()
    if len(text) <= FIXTURE_CHARS:
        return text
    head = text[:FIXTURE_CHARS]
    return head[: head.rfind("\n")] if "\n" in head[FIXTURE_CHARS // 2 :] else head


def fixture_records(roots, wheel, sample_docs) -> list[dict]:
    """Records {text, kind, lang, url}; kinds: wiki, novel, technical, code, foreign."""
    sample_urls = {d["url"] for d in sample_docs}
    out = []

    def add(kind, lang, url, text):
        if url in sample_urls:
            raise AssertionError(f"fixture {url} is in the sample")
        out.append({"text": _cut(text), "kind": kind, "lang": lang, "url": url})

    _, held = wiki_split(wheel)
    for lang in LM_LANGS:
        long_enough = [a for a in held[lang] if len(a[1]) >= 400]
        for title, text in pick(long_enough, FIXTURES_PER_KIND, lambda a: "lmfix" + a[0]):
            add("wiki", lang, f"wiki:{lang}/{title}", text)

    novel_url = "deb:r-cran-janeaustenr/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb#%s/chapter-%d"
    chapters = [c for c in austen_chapters(roots["r-cran-janeaustenr"]) if novel_url % c[:2] not in sample_urls]
    for name, n, text in pick(chapters, FIXTURES_PER_KIND, lambda c: "lmnovel%s%d" % (c[0], c[1])):
        add("novel", "en", novel_url % (name, n), text)

    def sections(lang):
        secs = debref_sections(roots["debian-reference-" + lang], lang)
        used = debref_selection(secs)
        return [(num, text) for num, text in secs if num not in used and len(text) >= 800]

    for num, text in pick(sections("en"), FIXTURES_PER_KIND, lambda s: "lmtech" + s[0]):
        add("technical", "en", f"deb:debian-reference-en#section-{num}", text)
    # Many German sections are left untranslated (English): only the translated ones are foreign.
    german = [s for s in sections("de") if source_lang(s[1], "de") == "de"]
    for num, text in pick(german, FIXTURES_PER_KIND, lambda s: "lmforeign" + s[0]):
        add("foreign", "de", f"deb:debian-reference-de#section-{num}", text)

    base = "usr/lib/python3.11"
    used_code = {d["url"] for d in build_code(roots)}
    files = []
    for pkg in ("libpython3.11-minimal", "libpython3.11-stdlib"):
        for rel in walk(roots[pkg], base):
            url = "file:python3.11/" + os.path.relpath(rel, base)
            if rel.endswith(".py") and url not in used_code and 1500 <= os.path.getsize(os.path.join(roots[pkg], rel)) <= 20000:
                files.append((url, os.path.join(roots[pkg], rel)))
    for url, path in pick(files, FIXTURES_PER_KIND, lambda f: "lmcode" + f[0]):
        add("code", "code", url, read_text(path))
    return sorted(out, key=lambda r: (r["kind"], r["lang"], r["url"]))
