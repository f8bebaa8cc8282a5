r"""Counting LDNOOBW word-list entries in text: whole words and phrases, or substrings where a
language is written without spaces.

C4 dropped every page holding any entry of the English list; we count matches so a gate can use
a count or a density (matches per word, see word_count) instead of "any".

What a match is (NFC, casefolded text against entries made the same way; Turkish also folds ı
and İ to i):
- languages written with spaces: an entry matches as a whole word or phrase: an entry that
  begins (ends) with a word character must not have a word character just before (after) it,
  so "ass" is not found in "class" or "assistant", nor "cunt" in "Scunthorpe"; entries that
  begin or end with punctuation or a symbol ("🖕", "s&m", "13.") need no boundary there. Word
  characters are regex \w plus the combining marks of the Basic Multilingual Plane (a mark
  continues the word it sits on). The words of a phrase may be separated by any run of
  whitespace ("blue\nwaffle" matches);
- zh, ja, th (no spaces between words): entries in those scripts match anywhere (substring);
  their Latin/digit parts ("卖b", "3p", "sm") keep the boundary rule against Latin letters and
  digits, and the spaces of an entry are optional ("セクシーな 10 代" also matches without them);
- counts are of non-overlapping matches, leftmost first; at one position the longest entry
  wins (entries that end in a word character are tried before those that do not).

Design, measured on 5.9 MB of the sample's real text (pipeline/sample/data books, wiki, web,
academic: 5580 documents, 135 with an English match; one core, Python 3.11; reproduce with
python -m bench.toxicity_eval, section Speed):
  (a) one regex per language from a trie of the entries, `(?<!\w)(?:trie)(?!\w)` (boundaries
      once per group of entries, see _pattern) on the casefolded text: 24 MB/s with the
      English list, 33-36 MB/s with the es/it/de/fr lists;
  (b) token-set lookup: the text's maximal word runs (str.translate + split for ASCII text,
      one findall otherwise) against the set of entries; a plain one-word entry is counted as
      tokens, and only a text that holds the whole run sequence of a phrase or punctuated
      entry ("blue waffle", "g-spot") goes to (a): 36 MB/s (en), 46-50 MB/s (es/it/de/fr),
      counts identical to (a) on every document. Counting single-word entries as tokens and
      nothing else would reach 46 MB/s on en but miss phrases (2 documents differ).
We keep (b): exact by construction, and the regex runs on the few documents that need it.
(Both were 2-3x slower while the word class held the combining marks outside the Basic
Multilingual Plane: the class then compiles to a range scan instead of a bitmap.)
zh, ja, th use (a) alone, as their entries start anywhere: 57 MB/s on Chinese, 34 MB/s on
Japanese (the sample's Debian manuals, man pages and fortunes), thanks to a lookahead for the
entries' first characters (5 MB/s on Chinese without it).
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata

from pipeline.text.words import CJK_CHARS, CJK_LANGUAGES

WORDLIST_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wordlists")
THAI_CHARS = "\u0e01-\u0e5b"
# Written without spaces between words: entries in these scripts match as substrings.
NO_SPACE_LANGUAGES = CJK_LANGUAGES | {"th"}
_NO_SPACE_SCRIPT = CJK_CHARS + THAI_CHARS + "\u3000-\u303f\uff00-\uffef"  # plus CJK punctuation and full-width forms
# The list files are named by the npm package's keys; language ID (lid.176) says "fr" for
# Quebec French and "tl" for Filipino/Tagalog. Lists that map to one code are merged.
_FILE_LANGUAGE = {"fr-CA-u-sd-caqc": "fr", "fil": "tl"}
_ASCII_NON_WORD = str.maketrans({chr(c): " " for c in range(128) if not (chr(c).isalnum() or c == 95)})


@functools.cache
def _marks() -> str:
    """The Basic Multilingual Plane's combining marks (Unicode M*) as regex class ranges; regex
    \\w leaves them out. (Marks above it belong to historic scripts and musical notation;
    including them would turn the class from a bitmap into a slow range scan.)"""
    ranges, start, prev = [], None, None
    for cp in range(0x300, 0x10000):
        if unicodedata.category(chr(cp))[0] == "M":
            if start is None:
                start = cp
            elif cp != prev + 1:
                ranges.append((start, prev))
                start = cp
            prev = cp
    ranges.append((start, prev))
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges)


def _word_class(no_space: bool) -> str:
    """The characters that continue a word, as a regex class body."""
    if no_space:  # Latin letters and digits, not the script's own characters
        return rf"^\W{_NO_SPACE_SCRIPT}"
    return rf"\w{_marks()}"


_WS = object()  # trie key of a run of whitespace inside an entry


def _trie(entries: list[str], space: str) -> str:
    """One alternation for the entries, sharing prefixes: at a branch point, a longer entry is
    tried before the shorter one it extends."""
    root: dict = {}
    for entry in entries:
        node = root
        for part in re.split(r"(\s+)", entry):
            for key in [_WS] if part.isspace() else part:
                node = node.setdefault(key, {})
        node[None] = {}

    def emit(node: dict) -> str:
        alts = [
            (space if k is _WS else re.escape(k)) + emit(child)
            for k, child in sorted(node.items(), key=lambda kv: (kv[0] is _WS, str(kv[0])))
            if k is not None
        ]
        if None in node:
            alts.append("")  # last, so the longer entries through this node are tried first
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(root)


def _pattern(entries: list[str], no_space: bool) -> str:
    """The regex for a list: entries grouped by whether they begin and end with a word
    character, each group one trie with its boundary assertions once around it (an assertion
    at every leaf would repeat the word class hundreds of times)."""
    word = f"[{_word_class(no_space)}]"
    is_word = re.compile(word).match
    space = r"\s*" if no_space else r"\s+"
    groups: dict[tuple[bool, bool], list[str]] = {}
    for entry in entries:
        groups.setdefault((bool(is_word(entry[0])), bool(is_word(entry[-1]))), []).append(entry)
    branches = []
    for (word_start, word_end), members in sorted(groups.items(), reverse=True):
        branches.append((f"(?<!{word})" if word_start else "") + _trie(members, space) + (f"(?!{word})" if word_end else ""))
    if not branches:
        return "(?!)"
    # A lookahead for the entries' first characters fails fast where no entry starts; without
    # it the engine tries the top-level alternatives one by one at every position (14x slower
    # on Chinese, where most characters start no entry; ~equal on English).
    firsts = "".join(sorted({re.escape(e[0]) for e in entries}))
    return f"(?=[{firsts}])(?:" + "|".join(branches) + ")"


class WordListMatcher:
    """All entries of one language's list as one matcher; build once per process."""

    def __init__(self, lang: str, entries: list[str]):
        self.lang = lang
        self.entries = sorted({_prepare(e, lang) for e in entries if e.strip()})
        self.no_space = lang in NO_SPACE_LANGUAGES
        self.pattern = re.compile(_pattern(self.entries, self.no_space))
        if self.no_space:
            return
        # A match of an entry covers its word runs as consecutive whole tokens of the text
        # (only non-word characters lie between them). Plain entries (one word, nothing else)
        # are counted as tokens; the others are indexed by their longest run (the rarest, as a
        # rule), and only a text where one of them has its run sequence around that token goes
        # to the regex. Entries without a word run (symbols) are checked as substrings.
        self._word_run = re.compile(f"[{_word_class(False)}]+")
        plain, complex_, symbols = set(), {}, set()
        for entry in self.entries:
            runs = self._word_run.findall(entry)
            if runs == [entry]:
                plain.add(entry)
            elif runs:
                key = max(sorted(runs), key=len)
                complex_.setdefault(key, set()).add((tuple(runs), runs.index(key)))
            else:
                symbols.add(entry)
        self._plain = frozenset(plain)
        self._complex = {key: tuple(sorted(seqs)) for key, seqs in complex_.items()}
        self._keys = self._plain | frozenset(complex_)
        self._symbols = tuple(sorted(symbols))

    def matches(self, text: str) -> int:
        """Non-overlapping matches of the list's entries in text."""
        if not text:
            return 0
        text = _prepare(text, self.lang)
        if self.no_space or (self._symbols and any(s in text for s in self._symbols)):
            return len(self.pattern.findall(text))
        # The text's maximal word runs: what the regex's boundaries delimit.
        tokens = text.translate(_ASCII_NON_WORD).split() if text.isascii() else self._word_run.findall(text)
        hits = self._keys.intersection(tokens)
        if not hits:  # most documents
            return 0
        complex_hits = hits.intersection(self._complex)
        if complex_hits and any(_has_sequence(tokens, key, self._complex[key]) for key in complex_hits):
            return len(self.pattern.findall(text))
        # Only plain entries can match: each token equal to one is a match, and no other
        # entry can overlap it (none has all its runs in the text).
        plain_hits = hits.intersection(self._plain)
        return sum(1 for token in tokens if token in plain_hits) if plain_hits else 0

    def regex_matches(self, text: str) -> int:
        """The same count with the regex alone (design (a)): for tests and benchmarks."""
        return len(self.pattern.findall(_prepare(text, self.lang))) if text else 0


def _has_sequence(tokens: list[str], key: str, seqs: tuple[tuple[tuple[str, ...], int], ...]) -> bool:
    """Whether some (runs, i) in seqs has tokens[p - i : p - i + len(runs)] == runs at a
    position p of key."""
    p = -1
    try:
        while True:
            p = tokens.index(key, p + 1)
            for runs, i in seqs:
                if p >= i and tuple(tokens[p - i : p - i + len(runs)]) == runs:
                    return True
    except ValueError:
        return False


def _prepare(text: str, lang: str = "") -> str:
    """NFC and casefolded: what entries and text are compared as."""
    if not text.isascii():
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        if "\u0e4d\u0e32" in text:  # Thai SARA AM spelt as NIKHAHIT + SARA AA (its NFKC form)
            text = text.replace("\u0e4d\u0e32", "\u0e33")
    text = text.casefold()
    if lang == "tr":
        # Turkish pairs dotless ı with I and i with İ; casefolding pairs I with i. Folding all
        # four to "i" makes "AMCIK" find "amcık" (İ casefolds to i + a combining dot).
        text = text.replace("i\u0307", "i").replace("ı", "i")
    return text


_SCRIPT_CHAR = {
    "th": re.compile(f"[{THAI_CHARS}]"),
    **{lang: re.compile(f"[{CJK_CHARS}]") for lang in CJK_LANGUAGES},
}


def word_count(text: str, lang: str) -> int:
    """The denominator of match density (matches / words).

    Languages written with spaces: whitespace-separated words. zh, ja (and the other CJK
    codes) and th: each character of the script counts as one word, as
    pipeline.text.words counts each CJK character as a word, plus the whitespace-separated
    runs of everything else (Latin words, numbers). A density in those languages is thus per
    character, several times lower than the same share of words would be in English.
    """
    script = _SCRIPT_CHAR.get(lang) if lang in NO_SPACE_LANGUAGES else None
    if script is None:
        return len(text.split())
    chars = len(script.findall(text))
    return chars + (len(script.sub(" ", text).split()) if chars else len(text.split()))


def _list_files() -> dict[str, list[str]]:
    """{language code: list file paths}."""
    out: dict[str, list[str]] = {}
    for name in sorted(os.listdir(WORDLIST_DIR)):
        if name.endswith(".txt"):
            key = name[:-4]
            out.setdefault(_FILE_LANGUAGE.get(key, key), []).append(os.path.join(WORDLIST_DIR, name))
    return out


def available_languages() -> list[str]:
    """Language codes (as language ID gives them) that have a list."""
    return sorted(_list_files())


def read_entries(lang: str) -> list[str]:
    """The entries of a language's list(s), as stored (lowercased, NFC)."""
    entries = []
    for path in _list_files()[lang]:
        with open(path, encoding="utf-8") as f:
            entries += [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]
    return entries


def load_matchers(langs: list[str] | None = None) -> dict[str, WordListMatcher]:
    """One matcher per language (all with a list by default); languages without a list are
    left out, so a caller looks its document's language up and treats a miss as no list."""
    files = _list_files()
    wanted = sorted(files) if langs is None else [lang for lang in langs if lang in files]
    return {lang: WordListMatcher(lang, read_entries(lang)) for lang in wanted}
