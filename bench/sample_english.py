"""The English documents of the built-in sample, as the quality and dedup benchmarks read them."""

import gzip
import json
import os

from bench.common import ROOT
from pipeline.records import Document

SOURCES = ("web", "wiki", "books", "curated", "academic")


def english_docs(min_score: float = 0.65) -> list[Document]:
    """The corpus (see the module docstring), as pipeline Documents with lang="en"."""
    from pipeline.text.langid import LanguageIdentifier, default_model_path

    ident, docs = LanguageIdentifier(default_model_path()), []
    for source in SOURCES:
        with gzip.open(os.path.join(ROOT, "pipeline", "sample", "data", f"{source}.jsonl.gz"), "rt", encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        for i, (row, (lang, score)) in enumerate(zip(rows, ident.predict([r["text"] for r in rows]))):
            if lang == "en" and score >= min_score:
                docs.append(Document(id=f"{source}-{i}", text=row["text"], source=source, url=row.get("url"), lang="en", lang_score=score))
    return docs
