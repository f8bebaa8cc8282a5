"""One document's text, split once: every rule family reads tokens and lines from here."""

import re
from functools import cached_property

from pipeline.text.words import CJK_LANGUAGES, tokenize

_PUNCT_LINE = re.compile(r"^[^\w\n][^\n]*", re.M)  # a token that is not a word (see words.is_word)


class TextView:
    def __init__(self, text: str, lang: str | None, token_count: int | None = None):
        self.text = text
        self.lang = lang or "unknown"
        self.cjk = self.lang in CJK_LANGUAGES
        if token_count is not None:  # known from an earlier pass: spares a tokenization
            self.token_count = token_count

    @cached_property
    def tokens(self) -> list[str]:
        """Words and punctuation runs (datatrove's "words": its ratios divide by all of them)."""
        return tokenize(self.text)

    @cached_property
    def joined_tokens(self) -> str:
        """The tokens one per line: regexes over it count per token in C, not in a Python loop."""
        return "\n".join(self.tokens)

    @cached_property
    def word_count_and_chars(self) -> tuple[int, int]:
        """(number of word tokens, their total length), from the punctuation tokens (fewer)."""
        punct = _PUNCT_LINE.findall(self.joined_tokens)
        chars = len(self.joined_tokens) - max(len(self.tokens) - 1, 0)
        return len(self.tokens) - len(punct), chars - sum(map(len, punct))

    @cached_property
    def token_count(self) -> int:
        return len(self.tokens)

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()
