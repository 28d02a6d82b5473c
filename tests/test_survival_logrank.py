"""Log-rank test: k groups and strata, against lifelines and by construction."""

from __future__ import annotations

import numpy as np
import pytest

from radiotrial.errors import RadiotrialError
from radiotrial.stats import logrank


def _data(n=400, k=3, seed=2):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, k, n)
    t = np.ceil(rng.exponential(100 * (1 + 0.3 * g)))
    e = rng.random(n) < 0.75
    return t, e, g


def test_three_groups_match_lifelines():
    from lifelines import statistics as stats
    t, e, g = _data()
    lr = logrank(t, e, g)
    ref = stats.multivariate_logrank_test(t, g, e)
    assert lr.df == 2
    assert lr.chisq == pytest.approx(ref.test_statistic, abs=1e-9)
    assert lr.p == pytest.approx(ref.p_value, abs=1e-10)
    assert lr.observed.sum() == pytest.approx(lr.expected.sum())
    np.testing.assert_allclose(lr.variance.sum(axis=1), 0, atol=1e-9)  # rows of V sum to 0


def test_identical_groups_give_zero_and_shifted_groups_significant():
    t = np.array([1, 2, 3, 4, 5, 6, 7, 8] * 2, dtype=float)
    e = np.ones(16, dtype=bool)
    g = np.array([0] * 8 + [1] * 8)
    assert logrank(t, e, g).chisq == pytest.approx(0, abs=1e-12)
    t2 = np.concatenate([np.arange(1, 9), np.arange(1, 9) + 20.0])
    assert logrank(t2, e, g).p < 0.001


def test_stratified_sums_strata():
    t, e, g = _data(seed=4)
    s = np.random.default_rng(9).integers(0, 2, t.size)
    strat = logrank(t, e, g, strata=s)
    parts = [logrank(t[s == k], e[s == k], g[s == k]) for k in (0, 1)]
    np.testing.assert_allclose(strat.observed, sum(p.observed for p in parts))
    np.testing.assert_allclose(strat.expected, sum(p.expected for p in parts))
    np.testing.assert_allclose(strat.variance, sum(p.variance for p in parts))
    one = logrank(t, e, g, strata=np.zeros(t.size, dtype=int))
    assert one.chisq == pytest.approx(logrank(t, e, g).chisq)
    assert strat.chisq != pytest.approx(one.chisq)


def test_needs_two_groups():
    with pytest.raises(RadiotrialError, match="at least 2 groups"):
        logrank([1, 2, 3], [1, 1, 1], ["a", "a", "a"])
