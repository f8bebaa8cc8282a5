"""The selection rules, each a pure function of (score, seed, document id) and the run's cutoffs.

- threshold: keep when score >= t.
- top_fraction (DCLM, Li et al. 2024): keep the top f by score; the cutoff is the (1 - f)
  percentile of a sample drawn by id hash, so it never depends on bundle order.
- pareto (GPT-3, Brown et al. 2020, App. A): keep when np.random.pareto(alpha) > 1 - score.
  numpy's pareto is the Lomax distribution, X = U^(-1/alpha) - 1 for U uniform in (0, 1]; U comes
  from blake2b of (seed, id), so a document's draw is the same on every run and runner.
"""

import numpy as np

from pipeline.mixture import doc_hash

SAMPLE_SALT = "quality-classifier-sample"  # the top_fraction reference sample
PARETO_SALT = "quality-classifier-pareto"
HELDOUT_SALT = "quality-classifier-heldout"  # the training split: held out when below the fraction
TRAIN_ORDER_SALT = "quality-classifier-train"  # training examples: which ones, and their order


def uniform(seed: int, doc_id: str, salt: str) -> float:
    """A uniform draw in (0, 1]: (h + 1) / 2^64 of a 64-bit hash, so never 0 (U^(-1/alpha) is finite)."""
    return (doc_hash(seed, doc_id, salt) + 1) / 2.0**64


def pareto_draw(seed: int, doc_id: str, alpha: float) -> float:
    """A Lomax(alpha) draw (numpy.random.pareto's distribution) by inverse CDF."""
    return uniform(seed, doc_id, PARETO_SALT) ** (-1.0 / alpha) - 1.0


def pareto_keeps(score: float, seed: int, doc_id: str, alpha: float) -> tuple[bool, float]:
    """GPT-3's rule: (kept, the draw). P(keep) = P(X > 1 - score) = (2 - score)^-alpha: 1 at
    score 1, 2^-9 = 0.2% at score 0 with alpha 9, so a few low-scored documents stay for diversity."""
    draw = pareto_draw(seed, doc_id, alpha)
    return draw > 1.0 - score, draw


def top_fraction_cutoff(sample: list[float], fraction: float) -> float:
    """The score at the (1 - fraction) percentile of the sample: keeping score >= it keeps ~fraction."""
    return float(np.percentile(np.asarray(sample, dtype=np.float64), 100.0 * (1.0 - fraction)))
