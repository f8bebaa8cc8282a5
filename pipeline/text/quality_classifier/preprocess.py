"""The text a quality classifier reads, prepared as its training text was.

fastText's predict reads one line (it raises on "\n") and splits words on whitespace; a model
scores well only on text prepared the way its training text was, so the preparation is named in
the config and the same function prepares training and scored text.
"""

from collections.abc import Callable


def newlines_to_spaces(text: str) -> str:
    """One line: every "\\n" becomes a space (fastText's own supervised tutorial data is one line per document)."""
    return text.replace("\n", " ")


def dclm(text: str) -> str:
    """DCLM's normalisation (baselines/mappers/enrichers/quality_prediction_enrichers_calc_fasttext.py):
    " ".join(content.strip().splitlines()): also strips the ends and splits on every line
    boundary Python knows (\\r, \\x0b, \\x0c, \\x1c-\\x1e, \\x85, \\u2028, \\u2029)."""
    return " ".join(text.strip().splitlines())


def lowercase(text: str) -> str:
    """newlines_to_spaces, lower-cased: for models trained on lower-cased text (fastText's tutorial)."""
    return text.replace("\n", " ").lower()


PREPROCESS: dict[str, Callable[[str], str]] = {"newlines_to_spaces": newlines_to_spaces, "dclm": dclm, "lowercase": lowercase}
