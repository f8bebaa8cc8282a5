"""Document perplexity under a KenLM model, as CCNet computes it. No Beam here.

A document's score is the sum over its lines of KenLM's log10 probability of the line as a
sentence (<s> ... </s>), and its length the number of tokens plus one end of sentence per line;
perplexity = 10 ** (-score / length). This is what KenLM's `query` tool prints as "Perplexity
including OOVs" for a file holding the same normalized lines, so the two agree to rounding.
"""

from dataclasses import dataclass

from pipeline.text.perplexity.normalize import normalize_text

# What a model's training text went through, recorded next to it (pipeline/lm/train.py) and
# checked before a run scores with it. Bump when normalize.py / ccnet.py change their output.
NORMALIZATION = "ccnet-words-v1"
SENTENCEPIECE_NORMALIZATION = "ccnet-sentencepiece-v1"


def metadata_path(model_path: str) -> str:
    """The JSON file beside a model that says how it was made."""
    return model_path + ".json"


@dataclass(frozen=True)
class DocumentScore:
    log10_prob: float  # summed over the lines
    tokens: int  # words plus one end of sentence per line; 0 for a document with no words

    @property
    def perplexity(self) -> float | None:
        return 10.0 ** (-self.log10_prob / self.tokens) if self.tokens else None


class LanguageModel:
    """One loaded KenLM model. Binary models are memory-mapped (KenLM's default load method), so
    every process on a machine shares one copy in the page cache. With `sentencepiece` (a
    SentencePiece model path), text is prepared as CCNet prepares it for its released models
    (pipeline/text/perplexity/ccnet.py) instead of our word normalization."""

    def __init__(self, path: str, sentencepiece: str | None = None):
        import kenlm

        self.path = path
        self._model = kenlm.Model(path)
        self.order = self._model.order
        self._pieces = None
        if sentencepiece:
            from pipeline.text.perplexity.ccnet import SentencePieceLines

            self._pieces = SentencePieceLines(sentencepiece)

    def score_lines(self, lines: list[str]) -> DocumentScore:
        """Lines already normalized (normalize_lines), none blank."""
        score = self._model.score
        log10_prob = 0.0
        for line in lines:
            log10_prob += score(line, bos=True, eos=True)
        return DocumentScore(log10_prob, sum(len(line.split()) for line in lines) + len(lines))

    def score(self, text: str) -> DocumentScore:
        if self._pieces is not None:
            return self.score_lines(self._pieces.lines(text))
        # On UTF-8 bytes: KenLM's wrapper would encode every line itself, and after normalization
        # the only whitespace is ASCII " " and "\n", so bytes split exactly as the text would.
        normalized = normalize_text(text).encode("utf-8")
        lines = [line for line in normalized.split(b"\n") if line and not line.isspace()]
        score = self._model.score
        log10_prob = 0.0
        for line in lines:  # KenLM splits each line on whitespace itself
            log10_prob += score(line, True, True)
        # Tokens: every word, plus one end of sentence per line.
        return DocumentScore(log10_prob, len(normalized.split()) + len(lines))
