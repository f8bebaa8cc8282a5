"""Shared helpers of the sample build: stable selection, records, language checks, text tidying.

Selection never uses Python's salted ``hash()``: items are picked by the SHA-1 of a stable key.
``LANG_STOP`` (function words per language) serves both the report's language counts here and
the held-out set's label checks in ``heldout``.
"""

from __future__ import annotations

import hashlib
import re


def skey(*parts: str) -> str:
    """Stable selection key: SHA-1 of the parts (never Python's salted hash())."""
    return hashlib.sha1("\x00".join(parts).encode("utf-8")).hexdigest()


def pick(items, n, key):
    """The n items with the smallest SHA-1 key: a deterministic pseudo-random sample."""
    return sorted(items, key=lambda it: skey(key(it)))[:n]


def doc(text, source, url, lang):
    """A record; ``lang`` (known from the source) is only used for the report, not written."""
    return {"text": text, "source": source, "url": url, "_lang": lang}


CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
RE_CJK_GAP = re.compile(r"(?<=[%s])\s+(?=[%s])" % (CJK, CJK))

EN_STOP = set("the of and to in is that for it with as are this be by on not or from an you can which if your have will at was all but has".split())


def words(text):
    return re.findall(r"[^\W\d_]+", text.lower())


def english_ratio(text):
    """Share of tokens that are common English function words (untranslated-text detector)."""
    w = words(text)
    return sum(1 for x in w if x in EN_STOP) / len(w) if w else 0.0


LANG_STOP = {
    "de": "der die das und ist nicht mit von zu den ein eine sie es auf für sich im dem wird werden oder auch bei",
    "fr": "le la les et est des une un du dans pour pas que qui sur au avec ce sont par ou se plus",
    "es": "el la los las y es de en que un una del por para con se no como al su más",
    "it": "il la le e è di che un una per non del della con sono si da come più gli al",
    "pt": "o a os as e é de que um uma do da em para não com se por mais no na",
    "nl": "de het een en is van dat niet op te met voor zijn die als er bij ook",
    "pl": "i w nie się na jest z do to że jak o co ale po od przez dla",
    "id": "dan yang di ini itu untuk dengan dari tidak ada dalam akan pada atau juga",
    "vi": "và của là có không các được cho một những trong này với để",
    "ca": "el la els les i és de que un una per amb no del al es com en",
    "en": "the of and to in is that for it with as are this be",
}
LANG_STOP = {k: set(v.split()) for k, v in LANG_STOP.items()}


def source_lang(text, lang):
    """The language a translated document is in: its edition's, unless left untranslated.

    Only used for the report's per-language counts; CJK and Cyrillic are judged by script,
    other languages by comparing English and own-language function words.
    """
    if lang == "en":
        return lang
    latin = len(re.findall("[A-Za-z]", text))
    if lang in ("zh", "ja"):
        own = len(re.findall("[\u3040-\u30ff\u3400-\u9fff]", text))
        return lang if own >= 0.3 * (own + latin) else "en"
    if lang == "ru":
        own = len(re.findall("[\u0400-\u04ff]", text))
        return lang if own >= 0.4 * (own + latin) else "en"
    w = words(text)
    own = sum(1 for x in w if x in LANG_STOP.get(lang, ())) / len(w) if w else 0.0
    return "en" if english_ratio(text) > max(own, 0.05) else lang


def reflow(lines):
    """Join wrapped lines into one paragraph; CJK text is joined without spaces."""
    s = " ".join(l.strip() for l in lines if l.strip())
    return RE_CJK_GAP.sub("", s)


def clean_lines(text):
    """Strip trailing space per line and squeeze runs of blank lines."""
    out = re.sub(r"[ \t]+\n", "\n", text.replace("\r\n", "\n"))
    return re.sub(r"\n{3,}", "\n\n", out).strip("\n")
