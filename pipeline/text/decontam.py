"""N-gram overlap with evaluation sets (GPT-3, Brown et al. 2020, appendix C), pure numpy.

Text is normalised as GPT-3 did: lower case, punctuation stripped; what is left is a sequence of
words (the `\\w+` runs, as substring dedup splits them: pipeline.text.dedup.substring), and an
n-gram is n consecutive words (13 by default). An evaluation set becomes the sorted uint64 hashes
of its n-grams (EvalIndex: small, sent to every worker); a training document's n-gram hashes are
looked up in it with one searchsorted. A passage shorter than n words has no n-gram and matches
nothing (GPT-3 used shorter n-grams for short passages; we do not). Hashes are 64-bit: a false
match needs a collision, ~ (document n-grams x index size) / 2^64.
"""

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from pipeline.settings import check
from pipeline.text.dedup.minhash import unit_hashes
from pipeline.text.dedup.substring import cut, removed_mask, removed_ranges, window_hashes, words


@dataclass(frozen=True, kw_only=True)
class DecontaminationConfig:
    """Training text that overlaps evaluation sets (GPT-3, Brown et al. 2020, appendix C: 13-grams
    of lowercased words without punctuation). pipeline.stages.decontaminate."""

    enabled: bool = False
    eval_sets: list[str] = field(default_factory=list)  # JSONL(.gz) or Parquet files, any Beam filesystem
    text_field: str = "text"  # the eval records' field holding the passage
    ngram: int = 13  # GPT-3's overlap length, in normalised words
    mode: Literal["reject", "cut"] = "reject"  # cut: remove the matching spans, keep the rest
    min_chars_left: int = 100  # mode cut: shorter than this afterwards -> rejected (contaminated)
    batch_size: int = 256

    def __post_init__(self):
        check(not self.enabled or bool(self.eval_sets), "decontamination.eval_sets", "must list at least one file when enabled")
        check(1 <= self.ngram <= 1000, "decontamination.ngram", "must be in [1, 1000]")
        check(bool(self.text_field), "decontamination.text_field", "must not be empty")
        check(self.min_chars_left >= 0, "decontamination.min_chars_left", "must be >= 0")
        check(1 <= self.batch_size <= 100_000, "decontamination.batch_size", "must be in [1, 100000]")


def ngram_hashes(text: str, n: int) -> np.ndarray:
    """uint64 hash of each normalised word n-gram of `text`, in order."""
    return window_hashes(unit_hashes(words(text, lowercase=True)), n)


def set_hashes(texts, n: int) -> np.ndarray:
    """The distinct n-gram hashes of an evaluation set's passages, sorted."""
    parts = [ngram_hashes(t, n) for t in texts]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.uint64)


@dataclass(frozen=True)
class EvalIndex:
    """Every evaluation set's n-grams: hashes sorted, and which set each came from (the first
    listed that has it). `names[i]` is set i's name (its path), `ngrams[i]` its distinct n-grams."""

    hashes: np.ndarray  # uint64, sorted, unique
    set_of: np.ndarray  # int32, parallel to hashes
    names: tuple[str, ...]
    ngrams: tuple[int, ...]

    @classmethod
    def build(cls, per_set: list[tuple[str, np.ndarray]]) -> "EvalIndex":
        if not per_set:
            return cls(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int32), (), ())
        hashes = np.concatenate([h for _, h in per_set])
        owners = np.concatenate([np.full(len(h), i, dtype=np.int32) for i, (_, h) in enumerate(per_set)])
        order = np.lexsort((owners, hashes))  # by hash, then the first set listed
        hashes, owners = hashes[order], owners[order]
        first = np.concatenate(([True], hashes[1:] != hashes[:-1]))
        return cls(hashes[first], owners[first], tuple(name for name, _ in per_set), tuple(len(h) for _, h in per_set))

    def matches(self, doc_hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions of the document's n-grams found in an eval set, that set's index per position)."""
        if len(self.hashes) == 0 or len(doc_hashes) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
        at = np.minimum(np.searchsorted(self.hashes, doc_hashes), len(self.hashes) - 1)
        hit = np.flatnonzero(self.hashes[at] == doc_hashes)
        return hit, self.set_of[at[hit]]


def ngram_text(text: str, position: int, n: int) -> str:
    """The normalised n-gram at word `position`, as it is matched (for a rejection's detail)."""
    return " ".join(words(text, lowercase=True)[position : position + n])


def cut_ngrams(text: str, positions: np.ndarray, n: int) -> tuple[str, int]:
    """(text without the words of the n-grams at `positions`, characters removed); cuts on word
    boundaries as substring dedup cuts."""
    mask = removed_mask(len(words(text)), positions, n)
    ranges = removed_ranges(text, mask)
    return cut(text, ranges), sum(b - a for a, b in ranges)
