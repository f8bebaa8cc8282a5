"""CCNet's own text preparation, for scoring with CCNet's released models (or any KenLM model
trained on SentencePiece pieces): `{lang}.arpa.bin` comes with `{lang}.sp.model`.

Per line, as cc_net/text_normalizer.py's `normalize` with its defaults (accent, case, numbers,
punct=1) and as CCNet-style scorers apply it: strip, lowercase, accents removed, digits to 0,
Unicode punctuation mapped to ASCII by CCNet's table, C0/C1 control characters removed; then the
line is cut into SentencePiece pieces and the pieces are joined by spaces for KenLM.
"""

import re
import unicodedata

# CCNet's table. (Its "１" -> '"' entry is a typo in CCNet; kept, since CCNet's models were
# trained on text normalized with it.)
_UNICODE_PUNCT = {
    "，": ",",
    "。": ".",
    "、": ",",
    "„": '"',
    "”": '"',
    "“": '"',
    "«": '"',
    "»": '"',
    "１": '"',
    "」": '"',
    "「": '"',
    "《": '"',
    "》": '"',
    "´": "'",
    "∶": ":",
    "：": ":",
    "？": "?",
    "！": "!",
    "（": "(",
    "）": ")",
    "；": ";",
    "–": "-",
    "—": " - ",
    "．": ". ",
    "～": "~",
    "’": "'",
    "…": "...",
    "━": "-",
    "〈": "<",
    "〉": ">",
    "【": "[",
    "】": "]",
    "％": "%",
    "►": "-",
}
_PUNCT_TABLE = str.maketrans(_UNICODE_PUNCT)
_DIGIT = re.compile(r"\d")
_NON_PRINTING = re.compile("[" + "".join(map(chr, list(range(0, 32)) + list(range(127, 160)))) + "]")


def ccnet_normalize_line(line: str) -> str:
    line = line.strip()
    if not line:
        return line
    line = line.lower()
    line = "".join(c for c in unicodedata.normalize("NFD", line) if unicodedata.category(c) != "Mn")
    line = _DIGIT.sub("0", line)
    line = line.translate(_PUNCT_TABLE)
    return _NON_PRINTING.sub("", line)


class SentencePieceLines:
    """Text -> CCNet-normalized lines cut into space-joined SentencePiece pieces."""

    def __init__(self, model_path: str):
        try:
            import sentencepiece
        except ImportError:
            raise ImportError("SentencePiece models need the sentencepiece package: pip install 'corpusforge[ccnet]'") from None
        self._sp = sentencepiece.SentencePieceProcessor(model_file=model_path)

    def lines(self, text: str) -> list[str]:
        out = []
        for raw in text.split("\n"):
            line = ccnet_normalize_line(raw)
            if line:
                out.append(" ".join(self._sp.encode(line, out_type=str)))
        return out
