"""curated: Debian Reference sections, rendered translated man pages, Python reST doc sources.

The Debian Reference sections and man pages that are not selected here feed ``heldout``.
"""

from __future__ import annotations

import os
import re

from .common import clean_lines, doc, pick, source_lang
from .extract import man_to_text
from .fetch import DEBREF_LANGS, read_text, walk
from .web import PYDOC, pydoc_selection

# Body headings put a no-break space after the number, the contents a plain space.
RE_DEBREF_HEAD = re.compile(r"^(\d+(?:\.\d+)*)\.[ \xa0](\S.*)$")


def debref_sections(root, lang):
    """(section number, text) pairs of the Debian Reference plain-text edition."""
    path = os.path.join(root, "usr/share/debian-reference/debian-reference.%s.txt.gz" % lang)
    lines = read_text(path).split("\n")
    # Column-0 "N.N. Title" lines are section headings, but the same pattern is used by the
    # table of contents (chapter entries), the list of tables and the preface's own contents.
    # Chunks that hold nothing but such entries are dropped, and for a number that occurs
    # several times the longest chunk (the real section) is kept. Chapters start with a
    # localised "Chapter N. Title" line, recognised by the title from the contents.
    heads = {}
    titles = {}
    for i, l in enumerate(lines):
        m = RE_DEBREF_HEAD.match(l)
        if m:
            heads[i] = m.group(1)
            if "." not in m.group(1):
                titles.setdefault(m.group(2).strip(), m.group(1))
    for i, l in enumerate(lines):
        if i not in heads and l[:1].strip():
            for title, num in titles.items():
                if l.endswith(title) and l[-len(title) - 1 :][:1] in " \xa0" and num in l:
                    heads[i] = "ch" + num
    # Skip the contents and list of tables: the body starts at the preface's first section
    # (the first indented "1." entry of the contents), the last such line before chapter 1.
    ch1 = min(i for i, n in heads.items() if n == "ch1")
    pre_title = next(l.strip() for l in lines if re.match(r"^\s+1\.[ \xa0]\S", l))
    start = max(i for i in range(ch1) if lines[i].replace("\xa0", " ") == pre_title.replace("\xa0", " "))
    starts = sorted(i for i in heads if i >= start)
    best = {}
    for n, s in enumerate(starts):
        e = starts[n + 1] if n + 1 < len(starts) else len(lines)
        body = [l for l in lines[s + 1 : e] if l.strip()]
        if all(RE_DEBREF_HEAD.match(l.strip()) for l in body):
            continue  # contents entries, not a section
        num = heads[s]
        if "." not in num and not num.startswith("ch"):
            num = "pr" + num  # the preface numbers sections 1-5
        text = clean_lines("\n".join(lines[s:e]))
        if len(text) > len(best.get(num, "")):
            best[num] = text
    return [(num, best[num]) for num in sorted(best, key=lambda k: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", k)])]


def debref_selection(sections):
    """Same section numbers in every language: translated parallels, untranslated near dups."""
    nums = sorted({n for n, _ in sections})
    return set(pick(nums, 55, lambda n: "debref" + n))


def debref_lang(lang):
    return {"zh-cn": "zh"}.get(lang, lang)


MAN_DIRS = {
    "manpages-de": ["de"],
    "manpages-fr": ["fr"],
    "manpages-es": ["es"],
    "manpages-it": ["it"],
    "manpages-ru": ["ru"],
    "manpages-pl": ["pl"],
    "manpages-nl": ["nl"],
    "manpages-ja": ["ja"],
    "manpages-zh": ["zh_CN"],
}
MAN_COUNT = {"de": 90, "fr": 80, "es": 80, "it": 30, "ru": 40, "pl": 40, "nl": 30, "ja": 50, "zh_CN": 70}


def man_pages(roots):
    out = []
    for pkg, dirs in sorted(MAN_DIRS.items()):
        for d in dirs:
            for rel in walk(roots[pkg], "usr/share/man/" + d):
                if re.search(r"/man\d/", rel):
                    out.append((pkg, d, rel))
    return out


def man_selection(roots):
    pages = man_pages(roots)
    sizes = {p: os.path.getsize(os.path.join(roots[p[0]], p[2])) for p in pages}
    chosen = []
    for d in sorted(MAN_COUNT):
        cands = [p for p in pages if p[1] == d and 600 <= sizes[p] <= 9000]
        chosen += pick(cands, MAN_COUNT[d], lambda p: "man" + p[2])
    return pages, set(chosen)


def build_curated(roots):
    """curated: Debian Reference sections, rendered man pages, Python reST docs."""
    docs = []
    for lang in DEBREF_LANGS:
        pkg = "debian-reference-" + lang
        secs = debref_sections(roots[pkg], lang)
        keep = debref_selection(secs)
        for num, text in secs:
            if num in keep and len(text) > 200:
                l = source_lang(text, debref_lang(lang))  # "en" if left untranslated
                docs.append(doc(text, "curated", "deb:%s/usr/share/debian-reference/debian-reference.%s.txt.gz#%s" % (pkg, lang, num), l))
    _, chosen = man_selection(roots)
    for pkg, d, rel in sorted(chosen):
        text = man_to_text(read_text(os.path.join(roots[pkg], rel)))
        if len(text) > 200:
            docs.append(doc(text, "curated", "deb:%s/%s" % (pkg, rel), source_lang(text, d.split("_")[0])))
    pd = roots["python3.11-doc"]
    for p in pydoc_selection(pd)[1]:
        rel = "%s/_sources/%s.rst.txt" % (PYDOC, p[:-5])
        docs.append(doc(read_text(os.path.join(pd, rel)), "curated", "deb:python3.11-doc/" + rel, "en"))
    return docs
