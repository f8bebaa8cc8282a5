"""Held-out language-ID evaluation set (``tests/data/langid_heldout.jsonl.gz``).

Its texts come from units (pages, sections, articles, man pages) that the sample does not use,
and ``build_heldout`` checks that none of them occurs in the sample.
"""

from __future__ import annotations

import collections
import os
import re
import sys

from .common import LANG_STOP, english_ratio, reflow, skey, words
from .curated import debref_lang, debref_sections, debref_selection, man_selection
from .extract import html_paragraphs, man_paragraphs
from .fetch import DEBREF_LANGS, read_text
from .web import HB, HB_TRANSLATED, handbook_pages, handbook_selection
from .wiki import wiki_selection

RE_CODEY = re.compile(r"(?:^|\s)[-+*]\w|[{}<>$=_|@#\\]|/\w|\w/|--|\.\w{2,4}\b(?<!\.\s)|\(\d\)|https?:|::|\w\(\)")
RE_SENT = re.compile(r"(?<=[.!?])\s+(?=[^\s])|(?<=[。！？])")


def sentences_from(par, lang):
    """The first 1-3 sentences of a paragraph, bounded to a natural length."""
    sents = [s.strip() for s in RE_SENT.split(par) if s.strip()]
    n = 1 + int(skey("nsent", par)[:2], 16) % 3
    text = ""
    for s in sents[:n]:
        cand = (text + ("" if lang in ("zh", "ja") else " ") + s).strip()
        if len(cand) > 320 and text:
            break
        text = cand
    return text


def label_ok(text, lang):
    """Conservative checks that the text is natural prose in the labelled language."""
    if RE_CODEY.search(text) or re.search(r"\d{3,}", text):
        return False
    # Whole sentences only: this drops headings, table captions and list labels.
    if not re.search(r"[.!?\u3002\uff01\uff1f][\"'\u201d\u00bb)\uff09\u300d]*$", text):
        return False
    first = text.split()[0]
    if first.isupper() and len(first) > 1 or text[0] in "\u306f\u3092\u306b\u304c\u3067\u3068\u306e\u3001\u3002\uff0c":
        # A man page's option or variable name, or a sentence whose subject was markup.
        return False
    if lang in ("zh", "ja", "ru") and re.fullmatch(r"[A-Za-z]{1,2}", first):
        return False
    cjk = len(re.findall("[\u3400-\u9fff]", text))
    kana = len(re.findall("[\u3040-\u30ff]", text))
    latin = len(re.findall("[A-Za-z]", text))
    cyr = len(re.findall("[\u0400-\u04ff]", text))
    if lang in ("zh", "ja"):
        if len(text) < 12 or len(text) > 200 or latin > 0.1 * len(text):
            return False
        if lang == "zh":
            return kana == 0 and cjk >= 0.5 * len(text)
        return kana >= 3 and (cjk + kana) >= 0.5 * len(text)
    if len(text) < 40 or len(text) > 400 or cjk or kana:
        return False
    if lang == "ru":
        return cyr >= 0.6 * (cyr + latin) and latin < 0.1 * len(text)
    if cyr:
        return False
    w = words(text)
    if len(w) < 6 or not text[0].isupper():
        return False
    own = sum(1 for x in w if x in LANG_STOP[lang]) / len(w)
    if lang == "en":
        return own >= 0.15
    # Untranslated English left in a translated manual: drop it.
    return own >= 0.12 and english_ratio(text) < 0.05


def heldout_candidates(roots, wheel):
    """(lang, unit url, text) from pages, sections, articles and man pages unused by the sample."""
    cands = []

    def add(lang, url, pars):
        for i, par in enumerate(pars):
            t = sentences_from(re.sub(r"\s+", " ", par).strip(), lang)
            if t and label_ok(t, lang):
                cands.append((lang, "%s#p%d" % (url, i), t))

    # Debian Reference: sections not in the sample; paragraphs are the indented blocks.
    for lang in DEBREF_LANGS:
        pkg = "debian-reference-" + lang
        secs = debref_sections(roots[pkg], lang)
        keep = debref_selection(secs)
        for num, text in secs:
            if num in keep:
                continue
            blocks = re.split(r"\n\s*\n", text)[1:]
            pars = [reflow(b.split("\n")) for b in blocks if b.startswith("    ") and not b.startswith("     ") and not re.match(r"\s*[*+#$]", b)]
            add(debref_lang(lang), "deb:%s/debian-reference.%s.txt.gz#%s" % (pkg, lang, num), pars)
    # Handbook: pages of translated editions not used in the sample.
    hb = roots["debian-handbook"]
    sel = handbook_selection(hb)
    editions = dict(HB_TRANSLATED, **{"en-US": "en", "id-ID": "id", "vi-VN": "vi", "ca-ES": "ca"})
    for ed, lang in sorted(editions.items()):
        for p in handbook_pages(hb):
            if p in sel.get(ed, []):
                continue
            page = read_text(os.path.join(hb, HB, ed, p + ".html"))
            add(lang, "deb:debian-handbook/%s/%s.html" % (ed, p), html_paragraphs(page))
    # Man pages not in the sample.
    pages, chosen = man_selection(roots)
    for pkg, d, rel in pages:
        if (pkg, d, rel) in chosen:
            continue
        add(d.split("_")[0], "deb:%s/%s" % (pkg, rel), man_paragraphs(read_text(os.path.join(roots[pkg], rel))))
    # Wikipedia lead sections not in the sample.
    arts, chosen_w = wiki_selection(wheel)
    chosen_w = {(a[0], a[1]) for a in chosen_w}
    for lang, title, text in arts:
        if (lang, title) not in chosen_w:
            add(lang, "wiki:%s/%s" % (lang, title), [text])
    return cands


def build_heldout(roots, wheel, sample_docs, per_lang=100):
    cands = heldout_candidates(roots, wheel)
    # The sample's text, whitespace-normalised: no held-out text may occur in it.
    corpus = "\n".join(" ".join(d["text"].split()) for d in sample_docs)
    by_lang = collections.defaultdict(list)
    for lang, url, text in cands:
        by_lang[lang].append((url, text))
    out = []
    for lang in sorted(by_lang):
        # Spread over sources: round-robin over source kinds, each in SHA-1 order.
        groups = collections.defaultdict(list)
        seen = set()
        for url, text in sorted(by_lang[lang], key=lambda c: skey("held", c[0])):
            kind = url.split("/")[0]
            if text not in seen:
                seen.add(text)
                groups[kind].append((url, text))
        chosen = []
        iters = [iter(groups[k]) for k in sorted(groups)]
        while len(chosen) < per_lang and iters:
            for it in list(iters):
                nxt = next(it, None)
                if nxt is None:
                    iters.remove(it)
                    continue
                if " ".join(nxt[1].split()) in corpus:
                    continue
                chosen.append(nxt)
                if len(chosen) >= per_lang:
                    break
        if len(chosen) >= 60:
            out += [{"text": t, "lang": lang, "url": u} for u, t in chosen]
        else:
            print("held-out: dropping %s (%d texts)" % (lang, len(chosen)), file=sys.stderr)
    return sorted(out, key=lambda r: (r["lang"], r["url"]))
