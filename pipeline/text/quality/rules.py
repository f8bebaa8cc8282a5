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


class CompiledRules:
    """A family's rules with their settings read and score keys built once: a gate checks every
    document, and reading a setting through the config (a Python __getattr__ for some families)
    and formatting each key was most of a check's time."""

    def __init__(self, rules: list[Rule], stage_id: str, cfg: Any):
        # (score key, threshold, rule) of each rule that is on; None/False switches a rule off
        self._active = []
        for rule in rules:
            threshold = getattr(cfg, rule.setting)
            if threshold is not None and threshold is not False:
                self._active.append((score_key(stage_id, rule.signal), threshold, rule))

    def evaluate(self, scores: Mapping[str, float]) -> tuple[tuple[Reason, str] | None, list[str]]:
        """As `evaluate`, with the rules and settings given at construction."""
        skipped = []
        for key, threshold, rule in self._active:
            value = scores.get(key)
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


def evaluate(rules: list[Rule], stage_id: str, scores: Mapping[str, float], cfg: Any) -> tuple[tuple[Reason, str] | None, list[str]]:
    """(first failing rule's (reason, detail) or None, settings of the rules skipped for lack of a
    value). Rules after the first failure are not evaluated, so not reported as skipped either."""
    return CompiledRules(rules, stage_id, cfg).evaluate(scores)
