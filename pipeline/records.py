"""The three kinds of element that flow through the pipeline: Document, Rejection, DeadLetter.

Pure Python (no Beam): stages, tests and benchmarks build and inspect them directly. Documents
are immutable: a stage that changes one returns a new one (`with_scores`, `replace`), so a
retried bundle or a fused stage can never see a half-updated element.
"""

import dataclasses
import enum
import functools
from collections.abc import Mapping
from dataclasses import dataclass


class FrozenMap(dict):
    """A dict that refuses mutation; pickles as a plain mapping so Beam's coders handle it."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("Document maps are immutable; use Document.with_scores / with_metadata")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse  # type: ignore[assignment]

    def __reduce__(self):
        return (FrozenMap, (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))


@dataclass(frozen=True, kw_only=True)
class Document:
    id: str  # unique within a run: the record's own id, or one derived from where it was read
    text: str
    source: str
    url: str | None = None
    lang: str | None = None
    lang_score: float | None = None
    scores: Mapping[str, float] = dataclasses.field(default_factory=FrozenMap)
    metadata: Mapping[str, str] = dataclasses.field(default_factory=FrozenMap)
    record_id: str | None = None  # the id field of the input record, as given (None: it had none)
    # A web page's body until the extract stage turns it into `text` (then None); never written.
    html: bytes | None = None

    def __post_init__(self):
        # Normalise plain dicts given by callers so every Document's maps are frozen.
        if not isinstance(self.scores, FrozenMap):
            object.__setattr__(self, "scores", FrozenMap(self.scores))
        if not isinstance(self.metadata, FrozenMap):
            object.__setattr__(self, "metadata", FrozenMap(self.metadata))

    def __reduce__(self):
        # Beam pickles each document on its own at every stage boundary, so every copy spelled
        # out its ~30 score keys ("quality.gopher_repetition.v1:dup_5gram_char_frac", ...): more
        # bytes than the text of a short document. Declared keys travel as their index in one
        # table that every process builds the same (_score_key_table); others as themselves.
        codes = _score_key_table()[1]
        return (
            _document,
            (
                self.id,
                self.text,
                self.source,
                self.url,
                self.lang,
                self.lang_score,
                tuple(codes.get(key, key) for key in self.scores),
                tuple(self.scores.values()),
                dict(self.metadata),
                self.record_id,
                self.html,
            ),
        )

    def replace(self, **changes) -> "Document":
        """dataclasses.replace(self, **changes), in a quarter of its time (0.7 us, not 3): stages
        copy every document several times. The copy's fields are set directly, as __init__
        would set them, and its maps are frozen as __post_init__ freezes them."""
        if not _DOCUMENT_FIELDS.issuperset(changes):
            raise TypeError(f"Document has no field {sorted(set(changes) - _DOCUMENT_FIELDS)[0]!r}")
        copy = object.__new__(Document)
        state = copy.__dict__
        state.update(self.__dict__)
        state.update(changes)
        for name in ("scores", "metadata"):
            if name in changes and not isinstance(state[name], FrozenMap):
                state[name] = FrozenMap(state[name])
        return copy

    def with_scores(self, new: Mapping[str, float]) -> "Document":
        return self.replace(scores=FrozenMap({**self.scores, **new}))

    def with_metadata(self, new: Mapping[str, str]) -> "Document":
        return self.replace(metadata=FrozenMap({**self.metadata, **new}))

    def to_row(self) -> dict:
        """A row of schemas.DOCUMENT_SCHEMA (map columns sorted, so files are byte-stable)."""
        return {
            "id": self.id,
            "text": self.text,
            "source": self.source,
            "url": self.url,
            "lang": self.lang,
            "lang_score": self.lang_score,
            "scores": sorted(self.scores.items()),
            "metadata": sorted(self.metadata.items()),
            "record_id": self.record_id,
        }


class Reason(str, enum.Enum):
    """Base of every stage's reason enum: members are short snake_case strings."""

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, kw_only=True)
class Rejection:
    doc_id: str
    source: str
    lang: str | None
    stage: str
    reason: str
    detail: str
    text: str | None = None
    url: str | None = None

    @classmethod
    def of(cls, doc: Document, stage: str, reason: Reason, detail: str, keep_text: bool) -> "Rejection":
        return cls(
            doc_id=doc.id,
            source=doc.source,
            lang=doc.lang,
            stage=stage,
            reason=reason.value,
            detail=detail,
            text=doc.text if keep_text else None,
            url=doc.url,
        )

    def to_row(self) -> dict:
        # Every field is a str or None: a plain dict of them is what dataclasses.asdict gives,
        # without its recursive deep copy: 0.8 us instead of 7.7 us, for each of ~95k rejections at
        # 100 MB of input.
        return {f: getattr(self, f) for f in _REJECTION_FIELDS}


@dataclass(frozen=True, kw_only=True)
class DeadLetter:
    location: str
    reason: str
    detail: str
    raw_excerpt: str
    source: str | None = None

    def to_row(self) -> dict:
        return {f: getattr(self, f) for f in _DEAD_LETTER_FIELDS}


@functools.cache
def _score_key_table() -> tuple[tuple[str, ...], dict[str, int]]:
    """(keys, key -> index): every score key the registry declares, an n-gram key for n up to
    32, in sorted order. A function of the code alone, so the same in every worker."""
    from pipeline.stages import registry  # plain data, imported on first use: records stays a light import

    keys = set()
    for spec in registry.scores():
        keys.update({spec.key.replace("{n}", str(n)) for n in range(1, 33)} if "{n}" in spec.key else {spec.key})
    table = tuple(sorted(keys))
    return table, {key: i for i, key in enumerate(table)}


def _document(id, text, source, url, lang, lang_score, codes, values, metadata, record_id, html) -> Document:
    table = _score_key_table()[0]
    doc = object.__new__(Document)
    doc.__dict__.update(
        id=id,
        text=text,
        source=source,
        url=url,
        lang=lang,
        lang_score=lang_score,
        scores=FrozenMap(zip([table[c] if type(c) is int else c for c in codes], values)),
        metadata=FrozenMap(metadata),
        record_id=record_id,
        html=html,
    )
    return doc


_DOCUMENT_FIELDS = frozenset(f.name for f in dataclasses.fields(Document))
_REJECTION_FIELDS = tuple(f.name for f in dataclasses.fields(Rejection))
_DEAD_LETTER_FIELDS = tuple(f.name for f in dataclasses.fields(DeadLetter))
