"""Cox model: errors, input forms, strata; score test and concordance against R and by pairs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from radiotrial.errors import RadiotrialError
from radiotrial.stats import cox
from radiotrial.stats.coxph import concordance


def _data(n=200, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    t = rng.exponential(np.exp(-0.7 * x))
    e = rng.random(n) < 0.8
    return t, e, x


def test_continuous_covariate_recovers_effect_and_forms_agree():
    t, e, x = _data()
    a = cox(t, e, {"age": x})
    b = cox(t, e, pl.DataFrame({"age": x}))
    c = cox(t, e, x)
    assert a.terms == ["age"] and c.terms == ["x1"]
    np.testing.assert_allclose(a.coef, b.coef)
    np.testing.assert_allclose(a.coef, c.coef)
    assert 0.4 < a.coef[0] < 1.0 and a.p[0] < 1e-6
    assert a.hr_lower[0] < a.hr[0] < a.hr_upper[0]
    assert a.table.columns == ["term", "coef", "se", "hr", "hr_lower", "hr_upper", "z", "p"]


def test_breslow_equals_efron_without_ties():
    t, e, x = _data()
    np.testing.assert_allclose(cox(t, e, x, ties="efron").coef, cox(t, e, x, ties="breslow").coef,
                               atol=1e-8)


def test_strata_change_the_fit():
    t, e, x = _data()
    s = (np.arange(t.size) % 2).astype(str)
    assert cox(t, e, x, strata=s).coef[0] != pytest.approx(cox(t, e, x).coef[0], abs=1e-6)


def test_errors():
    t = np.arange(1.0, 9.0)
    with pytest.raises(RadiotrialError, match="no events"):
        cox(t, np.zeros(8), group=[1, 2] * 4)
    with pytest.raises(RadiotrialError, match="perfect separation"):
        cox(t, [1, 1, 1, 1, 0, 0, 0, 0], group=[1, 1, 1, 1, 2, 2, 2, 2])
    with pytest.raises(RadiotrialError, match="ties"):
        cox(t, np.ones(8), group=[1, 2] * 4, ties="exact")
    with pytest.raises(RadiotrialError, match="constant"):
        cox(t, np.ones(8), {"z": np.ones(8)})
    with pytest.raises(RadiotrialError, match="covariates"):
        cox(t, np.ones(8))


# --- score test and concordance -------------------------------------------------------------

REF = Path(__file__).resolve().parents[2] / "shared" / "reference" / "survival"
if not REF.exists():  # pragma: no cover - layout fallback
    REF = Path("/work/shared/reference/survival")
GROUPS = {"lung": "sex", "veteran": "trt"}


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("name", list(GROUPS))
def test_score_test_and_concordance_match_r(name, ties):
    """R survival 3.5-3: summary(coxph)$sctest and concordance(fit)$concordance."""
    r = json.loads((REF / f"{name}.km.json").read_text())["cox"][ties]
    df = pl.read_csv(REF / f"{name}.csv")
    fit = cox(df["time"], df["status"], group=df[GROUPS[name]], ties=ties)
    assert fit.score_stat == pytest.approx(r["score_test"]["stat"], abs=1e-10, rel=0)
    assert fit.score_df == r["score_test"]["df"]
    assert fit.score_p == pytest.approx(r["score_test"]["p"], abs=1e-10, rel=0)
    assert fit.concordance == pytest.approx(r["concordance"], abs=1e-12, rel=0)
    # the reference holds no concordance SE; it is checked against the pairwise definition below
    assert 0 < fit.concordance_se < 0.1


def _pairwise(t, e, risk, s):
    """R's concordancefit rules written pair by pair (O(n²)): C-index and jackknife SE."""
    n = t.size
    c = np.zeros(n)
    d = np.zeros(n)
    tx = np.zeros(n)
    for i in range(n):
        if not e[i]:
            continue
        for j in range(n):
            if j == i or s[j] != s[i]:
                continue
            if t[j] > t[i] or (t[j] == t[i] and not e[j]):
                kind = c if risk[i] > risk[j] else d if risk[i] < risk[j] else tx
                kind[i] += 1
                kind[j] += 1
    big_c, big_d, big_t = c.sum() / 2, d.sum() / 2, tx.sum() / 2
    npair = big_c + big_d + big_t
    dfbeta = ((c - d) - (c + d + tx) * (big_c - big_d) / npair) / (2 * npair)
    return (big_c + big_t / 2) / npair, np.sqrt(np.sum(dfbeta**2))


@pytest.mark.parametrize("seed", range(6))
def test_concordance_equals_pairwise_definition_with_ties_and_strata(seed):
    rng = np.random.default_rng(seed)
    n = 150
    t = rng.integers(1, 25, n).astype(float)  # many tied times, events and censorings mixed
    e = rng.random(n) < 0.6
    risk = rng.integers(0, 6, n) * 0.5 if seed % 2 else rng.normal(size=n)  # tied / distinct
    s = rng.integers(0, 1 + seed % 3, n)  # 1, 2 or 3 strata
    expected = _pairwise(t, e, risk, s)
    np.testing.assert_allclose(concordance(t, e, risk, s), expected, rtol=1e-12, atol=0)
    if seed % 3 == 0:  # single stratum: strata=None is the same
        np.testing.assert_allclose(concordance(t, e, risk), expected, rtol=1e-12, atol=0)


def test_concordance_edge_cases():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    e = np.ones(4, dtype=bool)
    assert concordance(t, e, np.array([4.0, 3.0, 2.0, 1.0]))[0] == 1.0  # higher risk dies first
    assert concordance(t, e, np.array([1.0, 2.0, 3.0, 4.0]))[0] == 0.0
    assert concordance(t, e, np.zeros(4))[0] == 0.5  # all risks tied
    # tied event times are not comparable; a censoring tied with an event is
    assert np.isnan(concordance(np.ones(3), e[:3], np.arange(3.0))[0])
    c, _ = concordance(np.ones(2), np.array([True, False]), np.array([1.0, 0.0]))
    assert c == 1.0


def test_cox_concordance_uses_linear_predictor_and_strata():
    t, e, x = _data()
    fit = cox(t, e, x)
    assert fit.concordance == pytest.approx(concordance(t, e, x * fit.coef[0])[0], abs=0)
    assert fit.concordance > 0.6  # x raises the hazard, so high x dies first
    assert fit.score_df == 1 and fit.score_p < 1e-6
    st = (np.arange(t.size) % 2).astype(str)
    fs = cox(t, e, x, strata=st)
    codes = (np.arange(t.size) % 2)
    assert fs.concordance == pytest.approx(
        concordance(t, e, x * fs.coef[0], codes)[0], abs=1e-15)


def test_concordance_scales_to_large_n():
    rng = np.random.default_rng(7)
    n = 100_000
    x = rng.normal(size=n)
    t = np.round(rng.exponential(np.exp(-x)) * 365)  # day-rounded: heavy time ties
    e = rng.random(n) < 0.7
    c, se = concordance(t, e, x)
    assert 0.6 < c < 0.8 and 0 < se < 0.01
