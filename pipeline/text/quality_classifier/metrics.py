"""Validation figures of a binary classifier, numpy only: precision and recall at a threshold,
and ROC AUC as the Mann-Whitney statistic (ties counted half), which is what
sklearn.metrics.roc_auc_score computes."""

import numpy as np


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """P(score of a random positive > score of a random negative); None without both classes."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    n_pos = int(labels.sum())
    n_neg = labels.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    # Average 1-based ranks, tied scores sharing the mean of their positions.
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    ranks = (ends - (counts - 1) / 2.0)[inverse]
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def figures(labels: np.ndarray, scores: np.ndarray, threshold: float = 0.5) -> dict[str, float | int | None]:
    """Counts, precision and recall of `score >= threshold` as positive, and ROC AUC (4 decimals)."""
    labels = np.asarray(labels, dtype=bool)
    predicted = np.asarray(scores, dtype=np.float64) >= threshold
    tp = int((predicted & labels).sum())
    auc = roc_auc(labels, scores)

    def r(x):
        return None if x is None else round(x, 4)

    return {
        "positives": int(labels.sum()),
        "negatives": int((~labels).sum()),
        "threshold": threshold,
        "precision": r(tp / int(predicted.sum()) if predicted.any() else None),
        "recall": r(tp / int(labels.sum()) if labels.any() else None),
        "roc_auc": r(auc),
    }
