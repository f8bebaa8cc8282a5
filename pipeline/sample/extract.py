"""Text extraction: HTML and man(7) roff to plain text, and a reader for R's .rdb data bases.

The HTML extraction is deliberately naive (tag stripping that keeps navigation, header and
footer text, as a crawler would); the roff converter renders the common man-page macros; the
R reader understands just enough of R's XDR serialisation for janeaustenr's data base.
"""

from __future__ import annotations

import gzip
import html
import re
import struct
import zlib

from .common import reflow

# --------------------------------------------------------------------------------------------
# Text extraction
# --------------------------------------------------------------------------------------------

RE_HTML_DROP = re.compile(r"(?is)<(script|style)\b.*?</\1\s*>|<!--.*?-->")
RE_HTML_BLOCK = re.compile(
    r"(?i)</?(br|p|div|h[1-6]|li|ul|ol|tr|table|pre|dt|dd|dl|title|"
    r"blockquote|section|header|footer|nav|form|hr)\b[^>]*>"
)
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
    for m in re.finditer(
        r'(?is)<div class="para"[^>]*>(.*?)</div>|<p(?![^>]*(?:class|id)="title")'
        r"(?:\s[^>]*)?>(.*?)</p>",
        page,
    ):
        inner = m.group(1) if m.group(1) is not None else m.group(2)
        if re.search(r"(?i)<(code|pre|div|table|span class=\"(command|filename))", inner):
            # Paragraphs that quote commands or file names mix languages: skip them.
            continue
        t = html.unescape(RE_TAG.sub("", inner))
        out.append(reflow(t.split("\n")))
    return out


ROFF_CHARS = {
    "em": "\u2014",
    "en": "\u2013",
    "aq": "'",
    "dq": '"',
    "lq": "\u201c",
    "rq": "\u201d",
    "oq": "\u2018",
    "cq": "\u2019",
    "bu": "\u2022",
    "co": "\u00a9",
    "rg": "\u00ae",
    "hy": "-",
    "mi": "-",
    "pl": "+",
    "eq": "=",
    "ti": "~",
    "ha": "^",
    "rs": "\\",
    "sl": "/",
    "Fo": "\u00ab",
    "Fc": "\u00bb",
    "fo": "\u2039",
    "fc": "\u203a",
    "de": "\u00b0",
    "mu": "\u00d7",
    "tm": "\u2122",
    "ga": "`",
    "aa": "\u00b4",
    "ua": "\u2191",
    "da": "\u2193",
    "->": "\u2192",
    "<-": "\u2190",
    "<=": "\u2264",
    ">=": "\u2265",
    "r!": "\u00a1",
    "r?": "\u00bf",
    "at": "@",
    "sh": "#",
    "Do": "$",
    "ba": "|",
    "lB": "[",
    "rB": "]",
    "lC": "{",
    "rC": "}",
    "la": "\u27e8",
    "ra": "\u27e9",
    "ss": "\u00df",
}


def roff_inline(s):
    """Resolve the common roff escapes of man pages to plain characters."""
    s = re.sub(r"\\f(\[[^\]]*\]|\(..|.)", "", s)  # font changes
    s = re.sub(r"\\s[+-]?\d+|\\s\[[^\]]*\]", "", s)  # size changes
    s = re.sub(r"\\\*(\[[^\]]*\]|\(..|.)", "", s)  # string registers
    s = re.sub(r"\\[nk](\[[^\]]*\]|\(..|.)", "", s)  # number registers

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
    return [
        a.replace('""', '"') for a in (m.group(1) if m.group(1) is not None else m.group(2) for m in re.finditer(r'"((?:[^"]|"")*)"?|(\S+)', arg))
    ]


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
        v = self.b[self.p : self.p + n]
        self.p += n
        return v

    def read(self):
        assert self.raw(2) == b"X\n", "not XDR"
        version = self.int()
        self.int(), self.int()  # writer and minimal reader versions
        if version == 3:
            self.raw(self.int())  # native encoding name
        return self.item()

    def item(self):
        flags = self.int()
        typ, has_attr, has_tag = flags & 0xFF, flags & 512, flags & 1024
        if typ in (254, 253, 242, 251, 252):  # NULL, global/empty env, missing arg
            return None
        if typ == 255:  # reference to an earlier symbol
            return self.refs[(flags >> 8) - 1]
        if typ == 1:  # SYMSXP
            sym = ("sym", self.item())
            self.refs.append(sym)
            return sym
        if typ == 9:  # CHARSXP
            n = self.int()
            if n == -1:
                return None
            return self.raw(n).decode("latin-1" if flags & (4 << 12) else "utf-8")
        if typ == 2:  # pairlist
            if has_attr:
                self.item()
            tag = self.item() if has_tag else None
            car, cdr = self.item(), self.item()
            return [(tag, car)] + (cdr if isinstance(cdr, list) else [])
        n = self.int()
        if typ in (16, 19):  # character vector, list
            value = [self.item() for _ in range(n)]
        elif typ in (10, 13):  # logical, integer
            value = list(struct.unpack_from(">%di" % n, self.b, self.p))
            self.p += 4 * n
        elif typ == 14:  # double
            value = list(struct.unpack_from(">%dd" % n, self.b, self.p))
            self.p += 8 * n
        else:
            raise ValueError("unsupported R type %d" % typ)
        attrs = self.item() if has_attr else None
        return {"type": typ, "value": value, "attrs": dict((t[1] if isinstance(t, tuple) else t, v) for t, v in (attrs or []))}


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
        chunk = blob[off : off + length]
        # Each entry: 4-byte big-endian uncompressed length, then a zlib stream.
        out[name] = RReader(zlib.decompress(chunk[4:])).read()
    return out
