import sys
import unicodedata

import numpy as np

from pipeline.text import unicode_categories as uc


def test_code_points_are_those_of_unicodedata_categories():
    for wanted, lo, hi in ((lambda c: c[0] in "PS" or c == "Cf", 0, sys.maxunicode + 1), (lambda c: c == "Mn", 0x300, 0x10000)):
        expected = [cp for cp in range(lo, hi) if wanted(unicodedata.category(chr(cp)))]
        assert uc.code_points(wanted, lo, hi).tolist() == expected


def test_every_category_is_known():
    seen = {unicodedata.category(chr(cp)) for cp in range(0, sys.maxunicode + 1, 7)}
    assert seen <= set(uc.CATEGORIES)


def test_runs_are_the_consecutive_stretches():
    assert uc.runs(np.array([], dtype=np.int64)) == []
    assert uc.runs(np.array([5])) == [(5, 5)]
    assert uc.runs(np.array([1, 2, 3, 7, 9, 10])) == [(1, 3), (7, 7), (9, 10)]
