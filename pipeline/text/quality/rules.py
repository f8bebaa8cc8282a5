"""A quality rule compares one signal with one threshold; a family is an ordered list of rules.

Signals are computed once into the document's scores; rules only read them, so a user can
re-threshold from the kept signals without recomputation. A signal a family cannot define for
the document's language is absent from the scores, and its rule is skipped (and counted) rather
than passed or failed.
"""

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.records import Reason


class Bound(enum.Enum):
    MIN = "min"  # fails when value < threshold
    MAX = "max"  # fails when value > threshold
    FORBID = "forbid"  # a 0/1 signal; fails when the setting is true and the signal is 1


@dataclass(frozen=True)
class Rule:
    signal: str  # key in the family's signals
    setting: str  # attribute of the family's config; None/False there switches the rule off
    bound: Bound
    reason: Reason


def score_key(stage_id: str, signal: str) -> str:
    """Where a signal lives in Document.scores: "<stage id>:<signal>"."""
    return f"{stage_id}:{signal}"


def evaluate(rules: list[Rule], stage_id: str, scores: Mapping[str, float], cfg: Any) -> tuple[tuple[Reason, str] | None, list[str]]:
    """(first failing rule's (reason, detail) or None, settings of the rules skipped for lack of a
    value). Rules after the first failure are not evaluated, so not reported as skipped either."""
    skipped = []
    for rule in rules:
        threshold = getattr(cfg, rule.setting)
        if threshold is None or threshold is False:
            continue
        value = scores.get(score_key(stage_id, rule.signal))
        if value is None:
            skipped.append(rule.setting)
            continue
        if rule.bound is Bound.MIN and value < threshold:
            return (rule.reason, f"{rule.signal}={value:.4g} < {threshold}"), skipped
        if rule.bound is Bound.MAX and value > threshold:
            return (rule.reason, f"{rule.signal}={value:.4g} > {threshold}"), skipped
        if rule.bound is Bound.FORBID and value > 0:
            return (rule.reason, f"{rule.signal}"), skipped
    return None, skipped
