"""academic: LaTeX bodies of the Sweave (.Rnw) vignettes shipped in Debian ``r-cran-*`` packages."""

from __future__ import annotations

import os
import re

from .common import clean_lines, doc, pick
from .fetch import RNW_PKGS, read_text, walk


def rnw_body(src):
    """LaTeX body of a vignette: comments and preamble dropped, like arXiv-derived corpora."""
    src = re.sub(r"(?m)(?<!\\)%.*$", "", src)
    m = re.search(r"\\begin\{document\}(.*?)(\\end\{document\}|$)", src, re.S)
    body = m.group(1) if m else src
    # Title and abstract of JSS-style articles live in the preamble: keep them.
    front = []
    for cmd in ("title", "Plaintitle", "Abstract"):
        mm = re.search(r"\\%s\{(.*?)\}\s*(?=\\[A-Za-z]|$)" % cmd, src[: m.start()] if m else "", re.S)
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
            if len(text) < 3000:  # stubs that only point to a PDF
                continue
            docs.append(doc(text, "academic", "deb:%s/%s" % (pkg, rel), "en"))
    # About 40 of the ~60 articles keep the sample small; two 100 kB+ papers stay in.
    long_ones = [d for d in docs if len(d["text"]) > 100000]
    rest = [d for d in docs if len(d["text"]) <= 100000]
    return long_ones + pick(rest, 38, lambda d: "rnw" + d["url"])
