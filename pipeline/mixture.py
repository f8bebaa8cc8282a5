"""Mixture weighting: how many copies of each document go into the shards. No Beam here.

Targets are shares of the output per source, in tokens (or bytes). From what each source has
after filtering, `plan_mixture` finds per-source rates: a source with more than its share is
down-sampled, one with less is repeated, at most `max_epochs` times (Muennighoff et al. 2023:
up to ~4 epochs of repeated data cost almost nothing against unique data). The total is the
largest the caps allow, or a configured number of tokens.

A document's copies are a pure function of (seed, document id, the source's rate and size), never
of processing order: with rate k + f, every document gets k copies, and one more if its id hash
falls below the source's threshold. The threshold is chosen from a histogram of the source's
units over 2^20 hash buckets so that the extra copies hold a share f of the source's units, to
within the units of one bucket (about one document for a source of under a million documents);
so every source lands on its target to within a document, which a per-document coin flip with
probability f would not (its error grows with the square root of the documents).
"""

import hashlib
import math
from dataclasses import dataclass

HASH_BITS = 64
BUCKET_BITS = 20  # 2^20 histogram buckets per source


def doc_hash(seed: int, doc_id: str, salt: str = "mixture") -> int:
    """A 64-bit hash of (seed, salt, id): uniform, and the same on every machine and run."""
    data = f"{seed}\x00{salt}\x00{doc_id}".encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def bucket_of(h: int) -> int:
    return h >> (HASH_BITS - BUCKET_BITS)


@dataclass(frozen=True)
class SourcePlan:
    target_share: float  # as configured
    share: float  # renormalized over the sources that have documents
    available: int  # units after filtering
    rate: float  # copies per unit: the expected epochs
    whole_copies: int  # every document gets this many ...
    extra_below_bucket: int  # ... plus one if bucket_of(doc_hash) < this
    warning: str = ""

    def copies(self, h: int) -> int:
        return self.whole_copies + (1 if bucket_of(h) < self.extra_below_bucket else 0)


def plan_rates(
    available: dict[str, int],
    shares: dict[str, float],
    max_epochs: dict[str, float],
    target_total: int | None,
) -> tuple[dict[str, tuple[float, float, str]], float]:
    """({source: (renormalized share, rate, warning)}, planned total units).

    Sources with a share but no documents cannot be reached: their share goes to the others in
    proportion, with a warning. Sources with documents but no share are dropped, with a warning.
    """
    present = {s: shares[s] for s in sorted(shares) if available.get(s, 0) > 0 and shares[s] > 0}
    out: dict[str, tuple[float, float, str]] = {}
    for source in sorted(set(shares) | set(available)):
        if source not in shares and available.get(source, 0) > 0:
            out[source] = (0.0, 0.0, "not in mixture.shares: none of its documents are written")
        elif shares.get(source) == 0 and available.get(source, 0) > 0:
            out[source] = (0.0, 0.0, "share 0 in mixture.shares: none of its documents are written")
        elif source not in present and shares.get(source, 0) > 0:
            out[source] = (0.0, 0.0, "no documents left after filtering: its share went to the other sources in proportion")
    if not present:
        return out, 0.0
    norm = sum(present.values())
    share = {s: v / norm for s, v in present.items()}
    # The largest total at which no source needs more than max_epochs of its data.
    cap_total = min(available[s] * max_epochs[s] / share[s] for s in present)
    total = cap_total if target_total is None else float(target_total)
    for s in present:
        rate = share[s] * total / available[s]
        warning = ""
        if rate > max_epochs[s] * (1 + 1e-12):
            reached = available[s] * max_epochs[s] / total
            warning = f"capped at {max_epochs[s]:g} epochs: share {reached:.4f} instead of {share[s]:.4f} (the target total needs {rate:.2f} epochs)"
            rate = max_epochs[s]
        elif rate > max_epochs[s] * (1 - 1e-12):
            rate = max_epochs[s]  # the source that binds the total, without rounding noise
        out[s] = (share[s], rate, warning)
    return out, total


def extra_copy_bucket(histogram: dict[int, int], fraction: float) -> int:
    """The bucket bound b such that documents in buckets < b hold the share `fraction` of the
    source's units as closely as the buckets allow."""
    if fraction <= 0.0:
        return 0
    total = sum(histogram.values())
    target = fraction * total
    cumulative = 0
    for bucket in sorted(histogram):
        after = cumulative + histogram[bucket]
        if after >= target:
            # Take this bucket if that lands closer to the target than stopping before it.
            return bucket + 1 if after - target <= target - cumulative else bucket
        cumulative = after
    return 1 << BUCKET_BITS


def plan_mixture(
    available: dict[str, int],
    histograms: dict[str, dict[int, int]],
    shares: dict[str, float],
    max_epochs: dict[str, float],
    target_total: int | None = None,
) -> dict[str, SourcePlan]:
    rates, _ = plan_rates(available, shares, max_epochs, target_total)
    plans = {}
    for source, (share, rate, warning) in rates.items():
        whole = math.floor(rate + 1e-12)
        fraction = max(0.0, rate - whole)
        plans[source] = SourcePlan(
            target_share=shares.get(source, 0.0),
            share=share,
            available=available.get(source, 0),
            rate=rate,
            whole_copies=whole,
            extra_below_bucket=extra_copy_bucket(histograms.get(source, {}), fraction),
            warning=warning,
        )
    return plans
