"""One document's text, split once: every rule family reads tokens and lines from here."""

from functools import cached_property

from pipeline.text.words import CJK_LANGUAGES, is_word, tokenize


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
    def words(self) -> list[str]:
        """Tokens that are not only punctuation or symbols."""
        return [t for t in self.tokens if is_word(t)]

    @cached_property
    def token_count(self) -> int:
        return len(self.tokens)

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()
