"""books: chapter-sized documents from Jane Austen's six novels (Debian ``r-cran-janeaustenr``).

The text is read from the package's R data base with the small reader in ``extract``.
"""

from __future__ import annotations

import os
import re

from .common import clean_lines, doc, pick
from .extract import read_rdb

AUSTEN_TITLES = {
    "emma": "Emma",
    "mansfieldpark": "Mansfield Park",
    "northangerabbey": "Northanger Abbey",
    "persuasion": "Persuasion",
    "prideprejudice": "Pride and Prejudice",
    "sensesensibility": "Sense and Sensibility",
}
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
    return [
        doc(text, "books", "deb:r-cran-janeaustenr/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb#%s/chapter-%d" % (name, n), "en")
        for name, n, text in chosen
    ]
