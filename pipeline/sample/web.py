"""web: Debian Administrator's Handbook and Python HTML pages (tag-stripped), fortune cookies.

The handbook and Python doc page selections are also used by ``heldout`` (which skips the
pages used here) and ``curated`` (which takes Python reST sources, some of the same pages).
"""

from __future__ import annotations

import collections
import os
import re

from .common import doc, pick, skey, source_lang
from .extract import html_to_text
from .fetch import FORTUNE_PKGS, read_text, walk

HB = "usr/share/doc/debian-handbook/html"
HB_TRANSLATED = {
    "de-DE": "de",
    "fr-FR": "fr",
    "es-ES": "es",
    "it-IT": "it",
    "ru-RU": "ru",
    "zh-CN": "zh",
    "ja-JP": "ja",
    "pt-BR": "pt",
    "nl-NL": "nl",
    "pl-PL": "pl",
}
# Editions whose pages are (almost) all still English: near duplicates of en-US pages.
HB_UNTRANSLATED = ["da-DK", "ko-KR", "tr-TR"]
PYDOC = "usr/share/doc/python3.11/html"

RE_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def handbook_pages(root):
    return sorted(f[:-5] for f in os.listdir(os.path.join(root, HB, "en-US")) if f.endswith(".html"))


def handbook_selection(root):
    """Which handbook pages the web sample uses, per edition (also excluded from held-out)."""
    pages = handbook_pages(root)
    sizes = {p: os.path.getsize(os.path.join(root, HB, "en-US", p + ".html")) for p in pages}
    small = [p for p in pages if sizes[p] <= 40000]
    large = [p for p in pages if sizes[p] > 40000]
    sel = {"en-US": sorted(pick(small, 34, lambda p: "hb-en" + p) + pick(large, 3, lambda p: "hb-enL" + p))}
    for ed in HB_TRANSLATED:
        # The bullseye editions are partly untranslated: take mostly pages that are in the
        # edition's language, and one mixed or English page as real sites have them.
        lang = HB_TRANSLATED[ed]
        done, todo = [], []
        for p in small:
            text = html_to_text(read_text(os.path.join(root, HB, ed, p + ".html")))
            (done if source_lang(text, lang) == lang else todo).append(p)
        sel[ed] = sorted(pick(done, 6, lambda p: "hb-" + ed + p) + pick(todo, 1, lambda p: "hb-" + ed + p))
    # Untranslated editions: the same pages as chosen for en-US, so they are near duplicates.
    for ed in HB_UNTRANSLATED:
        sel[ed] = sorted(pick(sel["en-US"], 3, lambda p: "hb-" + ed + p))
    return sel


def pydoc_html_pages(root):
    base = os.path.join(root, PYDOC)
    out = []
    for rel in walk(base):
        if rel.endswith(".html") and not rel.startswith(("_", "search")):
            out.append(rel)
    return out


def pydoc_selection(root):
    """Python doc pages used as web pages (HTML) and as curated text (reST), with overlap."""
    base = os.path.join(root, PYDOC)
    pages = [
        p
        for p in pydoc_html_pages(root)
        if os.path.getsize(os.path.join(base, p)) <= 60000 and os.path.exists(os.path.join(base, "_sources", p[:-5] + ".rst.txt"))
    ]
    html_sel = pick(pages, 45, lambda p: "pyhtml" + p)
    # Index pages are almost all boilerplate and links: a couple belong in a web sample.
    html_sel += [p for p in ("genindex-A.html", "py-modindex.html") if p not in html_sel]
    rst_only = [p for p in pages if p not in html_sel]
    rst_sel = pick(rst_only, 70, lambda p: "pyrst" + p)
    # The same page as HTML (web) and as reST (curated): cross-source near duplicates.
    rst_sel += pick([p for p in html_sel if p in pages], 12, lambda p: "pyboth" + p)
    return sorted(set(html_sel)), sorted(set(rst_sel))


def fortune_files(roots):
    out = []
    for pkg in FORTUNE_PKGS:
        root = roots[pkg]
        for rel in walk(root, "usr/share/games/fortunes"):
            if rel.endswith(".dat"):
                continue
            out.append((pkg, rel))
    return out


def fortune_lang(pkg, rel):
    if pkg in ("fortunes", "fortunes-min", "fortunes-bofh-excuses"):
        return "en"
    return {"fortunes-br": "pt", "fortunes-zh": "zh", "fortunes-es-off": "es", "fortunes-it-off": "it"}.get(pkg, pkg.split("-")[1])


def split_fortunes(text):
    """Fortune files hold cookies separated by lines consisting of '%'."""
    text = RE_ANSI.sub("", text)  # fortunes-zh colours its attributions with ANSI codes
    return [c.strip("\n") for c in re.split(r"(?m)^%\s*$", text) if c.strip()]


# Fortunes sampled per language (about this many cookies each). The sample is chosen by the
# SHA-1 of the cookie *text*, so identical cookies (within a file, or across fortunes /
# fortunes-min, es/off and fortunes-es-off) are kept or dropped together: exact duplicates
# as they occur in real data.
FORTUNE_TARGET = {"en": 900, "de": 450, "es": 350, "it": 350, "ru": 350, "zh": 250, "pl": 150, "pt": 150, "cs": 100}
# Most cookies are one-liners; keep them a minority (45%) of the sampled ones so that the
# sample's documents are mostly 200 B - 20 kB, while short junk is still plentiful.
FORTUNE_SHORT, FORTUNE_SHORT_SHARE = 200, 0.45


def build_web(roots):
    """web: tag-stripped handbook and Python HTML pages, plus fortune cookies."""
    docs = []
    hb = roots["debian-handbook"]
    for ed, pages in sorted(handbook_selection(hb).items()):
        for p in pages:
            text = html_to_text(read_text(os.path.join(hb, HB, ed, p + ".html")))
            lang = source_lang(text, "en" if ed == "en-US" else ed.split("-")[0])
            docs.append(doc(text, "web", "deb:debian-handbook/%s/%s/%s.html" % (HB, ed, p), lang))
    pd = roots["python3.11-doc"]
    for p in pydoc_selection(pd)[0]:
        text = html_to_text(read_text(os.path.join(pd, PYDOC, p)))
        docs.append(doc(text, "web", "deb:python3.11-doc/%s/%s" % (PYDOC, p), "en"))
    cookies = []
    for pkg, rel in fortune_files(roots):
        for i, cookie in enumerate(split_fortunes(read_text(os.path.join(roots[pkg], rel)))):
            cookies.append((fortune_lang(pkg, rel), pkg, rel, i, cookie))

    def group(lang, cookie):
        return lang, len(cookie.encode("utf-8")) < FORTUNE_SHORT

    totals = collections.Counter(group(c[0], c[4]) for c in cookies)
    for lang, pkg, rel, i, cookie in cookies:
        short = group(lang, cookie)[1]
        share = FORTUNE_SHORT_SHARE if short else 1 - FORTUNE_SHORT_SHARE
        rate = min(1.0, share * FORTUNE_TARGET[lang] / totals[lang, short])
        if pkg == "fortunes-bofh-excuses":
            rate = 0.6  # one-line excuses: junk by design
        if int(skey("fortune", cookie)[:8], 16) / 2**32 < rate:
            docs.append(doc(cookie, "web", "deb:%s/%s#%d" % (pkg, rel, i), lang))
    return docs
