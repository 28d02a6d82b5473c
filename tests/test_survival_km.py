"""Kaplan–Meier edge rules (R's conventions), input handling and validation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from radiotrial.errors import InputError, RadiotrialError
from radiotrial.stats import find_quantiles, kaplan_meier
from radiotrial.stats._counting import _by_bincount, _by_sort, event_counts

TOL = math.sqrt(np.finfo(float).eps)


# --- medians and quantiles -------------------------------------------------------------------

def test_median_midpoint_when_flat_at_half():
    s = kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1]).strata[0]  # S = .75 .5 .25 0
    assert s.median.estimate == 2.5


def test_median_flat_at_half_to_the_end_uses_last_followup():
    s = kaplan_meier([1, 2, 3, 4], [1, 1, 0, 0]).strata[0]  # S = .75 .5 .5 .5
    assert s.median.estimate == 3.0  # (2 + last time 4) / 2, R's findq "lastpt"


def test_median_first_time_below_half():
    s = kaplan_meier([1, 2, 3, 4, 5], [1, 1, 1, 0, 0]).strata[0]  # S = .8 .6 .4 .4 .4
    assert s.median.estimate == 3.0


def test_median_not_reached_is_none():
    s = kaplan_meier([1, 2, 3, 4, 5], [1, 0, 0, 0, 0]).strata[0]
    m = s.median
    assert m.estimate is None and m.upper is None
    assert s.quantiles["quantile"].to_list()[2] is None


def test_quantile_tolerance_both_sides():
    t = np.array([1.0, 2.0, 3.0])
    inside = np.array([0.2, 0.5 - TOL / 2, 0.8])  # within sqrt(eps): counts as exactly 0.5
    outside = np.array([0.2, 0.5 - 2 * TOL, 0.8])  # beyond: first level >= 0.5 is at t = 3
    assert find_quantiles(t, inside, np.array([0.5]))[0] == 2.5
    assert find_quantiles(t, outside, np.array([0.5]))[0] == 3.0
    assert find_quantiles(t, np.array([0.2, 0.5 + TOL / 2, 0.8]), np.array([0.5]))[0] == 2.5
    assert find_quantiles(t, np.array([0.2, 0.5 + 2 * TOL, 0.8]), np.array([0.5]))[0] == 2.0


def test_quantile_prob_zero_and_invalid():
    s = kaplan_meier([1, 2, 3], [1, 1, 1]).strata[0]
    assert s.quantile([0.0])["quantile"][0] == 0.0
    with pytest.raises(RadiotrialError, match="probs"):
        s.quantile([1.5])


# --- limits where S is 0 or 1 ----------------------------------------------------------------

@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
def test_s_zero_gives_undefined_limits(conf_type):
    s = kaplan_meier([1, 2, 3], [1, 1, 1], conf_type=conf_type).strata[0]
    tab = s.table
    assert tab["survival"][-1] == 0.0
    assert math.isinf(s.se_log[-1])
    assert tab["lower"][-1] is None and tab["upper"][-1] is None and tab["std_err"][-1] is None
    assert tab["lower"][0] is not None


def test_s_one_log_log_undefined_but_log_is_one():
    t, e = [1, 2, 3, 4], [0, 1, 1, 0]
    ll = kaplan_meier(t, e, conf_type="log-log").strata[0].table
    lg = kaplan_meier(t, e, conf_type="log").strata[0].table
    assert ll["lower"][0] is None and ll["upper"][0] is None  # R: S == 1 -> NA for log-log
    assert lg["lower"][0] == 1.0 and lg["upper"][0] == 1.0


def test_plain_limits_clipped_and_log_upper_capped():
    rng = np.random.default_rng(3)
    t = rng.integers(1, 50, 40)
    e = rng.random(40) < 0.8
    for ct in ("plain", "log"):
        tab = kaplan_meier(t, e, conf_type=ct).strata[0].table.drop_nulls()
        assert tab["lower"].min() >= 0 and tab["upper"].max() <= 1


def test_conf_level_changes_width():
    t, e = [1, 2, 3, 4, 5, 6], [1, 0, 1, 1, 0, 1]
    a = kaplan_meier(t, e, conf_level=0.90).strata[0].table
    b = kaplan_meier(t, e, conf_level=0.99).strata[0].table
    assert (a["lower"] > b["lower"]).any()
    assert (a["lower"] >= b["lower"]).all()


# --- landmarks and RMST ----------------------------------------------------------------------

def test_at_before_between_and_past_follow_up():
    s = kaplan_meier([2, 4, 6, 8], [1, 1, 0, 1]).strata[0]
    at = s.at([0, 1, 2, 3, 8, 9])
    assert at["n_risk"].to_list() == [4, 4, 4, 3, 1, 0]
    assert at["survival"].to_list()[:4] == [1.0, 1.0, 0.75, 0.75]
    assert at["std_err"][0] == 0.0 and at["lower"][0] == 1.0
    assert at["survival"][4] == 0.0
    assert at["survival"][5] is None  # past the last follow-up: R drops it, we keep a null row


def test_rmst_by_hand():
    s = kaplan_meier([2, 4, 6], [1, 1, 1]).strata[0]  # S: 1 on [0,2), 2/3 [2,4), 1/3 [4,6), 0
    est, se = s.rmst(5.0)
    assert est == pytest.approx(2 + 2 * 2 / 3 + 1 / 3)
    # variance: areas after t=2 (2/3*2 + 1/3*1 = 5/3), after t=4 (1/3): d/(n(n-d)) = 1/6, 1/2
    assert se == pytest.approx(math.sqrt((5 / 3) ** 2 / 6 + (1 / 3) ** 2 / 2))
    with pytest.raises(RadiotrialError, match="horizon"):
        s.rmst(-1)


# --- groups, input types, validation ---------------------------------------------------------

def test_group_levels_in_r_factor_order():
    t = [1, 2, 3, 4, 5, 6]
    e = [1, 1, 1, 1, 1, 1]
    assert kaplan_meier(t, e, group=[10, 9, 2, 10, 9, 2]).groups == ["2", "9", "10"]
    assert kaplan_meier(t, e, group=["b", "a", "B", "b", "a", "B"]).groups == ["B", "a", "b"]
    assert kaplan_meier(t, e, group=[True, False] * 3).groups == ["FALSE", "TRUE"]
    assert kaplan_meier(t, e, group=[1.0, 2.0] * 3).groups == ["1", "2"]


def test_grouped_equals_separate_fits():
    rng = np.random.default_rng(5)
    t = rng.integers(1, 100, 300).astype(float)
    e = rng.random(300) < 0.7
    g = rng.choice(["x", "y", "z"], 300)
    fit = kaplan_meier(t, e, group=g)
    for s in fit.strata:
        alone = kaplan_meier(t[g == s.group], e[g == s.group]).strata[0]
        assert s.table.equals(alone.table)


def test_input_types_agree():
    t = [5, 3, 3, 8, 1, 9]
    e = [1, 0, 1, 1, 0, 1]
    ref = kaplan_meier(np.array(t), np.array(e)).strata[0].table
    for tt, ee in [(pl.Series(t), pl.Series(e)), (pd.Series(t), pd.Series(e)),
                   (t, [bool(v) for v in e]), (pl.Series(t, dtype=pl.Float64), pl.Series(e).cast(pl.Boolean))]:
        assert kaplan_meier(tt, ee).strata[0].table.equals(ref)


@pytest.mark.parametrize(
    "time, event, match",
    [
        ([1, -2, 3], [1, 1, 1], "time must be >= 0"),
        ([1, float("nan"), 3], [1, 1, 1], "finite"),
        ([1, float("inf"), 3], [1, 1, 1], "finite"),
        ([1, 2, 3], [1, 2, 1], "event must be 1"),
        ([1, 2, 3], [1, 1], "length"),
        ([1, 2, 3], [1, None, 1], "event must be 1"),
        (["1", "x", "3"], [1, 1, 1], "number"),
    ],
)
def test_validation_errors_name_field_and_value(time, event, match):
    with pytest.raises(RadiotrialError, match=match):
        kaplan_meier(time, event)


def test_validation_uses_column_name():
    with pytest.raises(InputError) as exc:
        kaplan_meier(pl.Series("os_days", [1, 2]), pl.Series("death", [1, 2]))
    assert "column 'death'" in str(exc.value) and "value 2" in str(exc.value)


def test_bad_options():
    with pytest.raises(RadiotrialError, match="conf_type"):
        kaplan_meier([1], [1], conf_type="logit")
    with pytest.raises(RadiotrialError, match="conf_level"):
        kaplan_meier([1], [1], conf_level=95)
    with pytest.raises(RadiotrialError, match="missing"):
        kaplan_meier([1, 2], [1, 1], group=pl.Series([1, None]))
    with pytest.raises(RadiotrialError, match="no observations"):
        kaplan_meier([], [])


# --- counting strategies and a cross-check with lifelines ------------------------------------

def _naive(t, e):
    times = np.unique(t)
    d = np.array([np.sum(e[t == x]) for x in times])
    c = np.array([np.sum(~e[t == x]) for x in times])
    return times, d, c


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=60))
def test_counting_paths_agree(rows):
    t = np.array([r[0] for r in rows], dtype=float)
    e = np.array([r[1] for r in rows])
    expected = _naive(t, e)
    for got in (_by_sort(t, e), _by_bincount(t.astype(np.intp), e, int(t.max()) + 1),
                event_counts(t, e)):
        for a, b in zip(got, expected, strict=False):
            np.testing.assert_array_equal(a, b)


def test_sort_path_continuous_and_zero():
    t = np.array([0.0, 0.5, 0.5, 1e-300, 3.25, 1e300, 0.0])
    e = np.array([True, False, True, True, False, True, False])
    for a, b in zip(event_counts(t, e), _naive(t, e), strict=False):
        np.testing.assert_array_equal(a, b)


def test_matches_lifelines_survival_and_loglog_ci():
    import lifelines
    rng = np.random.default_rng(11)
    t = np.round(rng.exponential(100, 500), 1)
    e = rng.random(500) < 0.7
    s = kaplan_meier(t, e, conf_type="log-log").strata[0]
    kmf = lifelines.KaplanMeierFitter().fit(t, e)
    sf = kmf.survival_function_.iloc[1:, 0].to_numpy()  # lifelines adds a t = 0 row
    np.testing.assert_allclose(s.survival, sf, atol=1e-12)
    ci = kmf.confidence_interval_.iloc[1:].to_numpy()
    ok = ~np.isnan(s.lower)
    np.testing.assert_allclose(s.lower[ok], ci[ok, 0], atol=1e-9)
    np.testing.assert_allclose(s.upper[ok], ci[ok, 1], atol=1e-9)
