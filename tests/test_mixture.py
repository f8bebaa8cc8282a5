"""Mixture planning: rates, caps, warnings, and copies that hit each share to within a document."""

import random

import pytest

from pipeline.mixture import BUCKET_BITS, bucket_of, doc_hash, extra_copy_bucket, plan_mixture, plan_rates

SHARES = {"web": 0.6, "books": 0.08, "academic": 0.05, "code": 0.1, "wiki": 0.03, "curated": 0.14}
EPOCHS = {s: 4.0 for s in SHARES}


def test_total_is_the_largest_the_epoch_caps_allow():
    available = {"web": 1000, "books": 1000, "academic": 1000, "code": 1000, "wiki": 1000, "curated": 1000}
    rates, total = plan_rates(available, SHARES, EPOCHS, None)
    assert total == pytest.approx(1000 * 4 / 0.6)  # web binds: 4 epochs of 1,000 units is 60%
    assert rates["web"][1] == pytest.approx(4.0)
    assert rates["wiki"][1] == pytest.approx(0.03 * total / 1000)
    assert all(not w for _, _, w in rates.values())


def test_target_total_caps_sources_and_says_so():
    available = {s: 1000 for s in SHARES}
    rates, total = plan_rates(available, SHARES, EPOCHS, 10_000)
    assert total == 10_000
    share, rate, warning = rates["web"]
    assert rate == 4.0 and warning.startswith("capped at 4 epochs: share 0.4000 instead of 0.6000")
    assert rates["books"][1] == pytest.approx(0.8) and rates["books"][2] == ""


def test_missing_and_unlisted_sources_are_warnings():
    available = {"web": 500, "books": 500, "forum": 100}
    rates, _ = plan_rates(available, {"web": 0.5, "books": 0.25, "code": 0.25}, {"web": 4.0, "books": 4.0, "code": 4.0}, None)
    assert rates["code"] == (0.0, 0.0, "no documents left after filtering: its share went to the other sources in proportion")
    assert rates["forum"] == (0.0, 0.0, "not in mixture.shares: none of its documents are written")
    assert rates["web"][0] == pytest.approx(2 / 3) and rates["books"][0] == pytest.approx(1 / 3)


def test_extra_copy_bucket_is_closest_to_the_fraction():
    histogram = {1: 10, 5: 10, 9: 10, 20: 70}
    assert extra_copy_bucket(histogram, 0.0) == 0
    assert extra_copy_bucket(histogram, 0.1) == 2  # bucket 1 holds exactly 10%
    assert extra_copy_bucket(histogram, 0.14) == 5  # 10% (buckets below 5) is closer than 20%
    assert extra_copy_bucket(histogram, 0.16) == 6
    assert extra_copy_bucket(histogram, 1.0) == 21


@pytest.mark.parametrize("rate_target", ["down", "up"])
def test_copies_hit_the_share_within_one_document(rate_target):
    rng = random.Random(1)
    docs = {f"doc-{i}": rng.randint(50, 5000) for i in range(3000)}  # id -> tokens
    other = {f"other-{i}": rng.randint(50, 5000) for i in range(300)}
    available = {"a": sum(docs.values()), "b": sum(other.values())}
    shares = {"a": 0.3, "b": 0.7} if rate_target == "down" else {"a": 0.9, "b": 0.1}
    histograms = {"a": {}, "b": {}}
    for source, group in (("a", docs), ("b", other)):
        for doc_id, n in group.items():
            b = bucket_of(doc_hash(7, doc_id))
            histograms[source][b] = histograms[source].get(b, 0) + n
    plans = plan_mixture(available, histograms, shares, {"a": 4.0, "b": 4.0})
    written = {s: sum(plans[s].copies(doc_hash(7, i)) * n for i, n in g.items()) for s, g in (("a", docs), ("b", other))}
    total = sum(written.values())
    for source in ("a", "b"):
        expected = plans[source].rate * available[source]
        assert abs(written[source] - expected) <= 5000  # one document's tokens at most
        assert written[source] / total == pytest.approx(shares[source], abs=0.002)
    assert max(p.rate for p in plans.values()) == pytest.approx(4.0)


def test_copies_do_not_depend_on_order_or_process():
    assert doc_hash(3, "x") == doc_hash(3, "x") != doc_hash(4, "x")
    assert 0 <= bucket_of(2**64 - 1) < 2**BUCKET_BITS
