"""Kaplan–Meier, log-rank and Cox against R 4.2.2 / survival 3.5-3 (shared/reference/survival)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from radiotrial.stats import cox, kaplan_meier, logrank

REF = Path(__file__).resolve().parents[2] / "shared" / "reference" / "survival"
if not REF.exists():  # pragma: no cover - layout fallback
    REF = Path("/work/shared/reference/survival")
DATASETS = {"lung": "sex", "veteran": "trt"}
CONF_TYPES = ("log", "log-log", "plain")
ATOL = 1e-10


def _num(values) -> np.ndarray:
    """R's JSON numbers; "NA"/"NaN" -> nan, "Inf" -> inf."""
    conv = {"NA": np.nan, "NaN": np.nan, "Inf": np.inf, "-Inf": -np.inf}
    return np.array([conv[v] if isinstance(v, str) else v for v in values], dtype=float)


def _na(v):
    return None if isinstance(v, str) and v in ("NA", "NaN") else v


def _close(actual, expected, atol=ATOL):
    a = np.asarray(actual, dtype=float)
    b = _num(expected)
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.isinf(a), np.isinf(b))
    fin = np.isfinite(b)
    np.testing.assert_allclose(a[fin], b[fin], rtol=0, atol=atol)


@pytest.fixture(scope="module", params=list(DATASETS))
def dataset(request):
    name = request.param
    ref = json.loads((REF / f"{name}.km.json").read_text())
    df = pl.read_csv(REF / f"{name}.csv")
    return name, df, ref


@pytest.mark.parametrize("conf_type", CONF_TYPES)
def test_km_table_matches_r(dataset, conf_type):
    _, df, ref = dataset
    r = ref["km"][conf_type]
    s = kaplan_meier(df["time"], df["status"], conf_type=conf_type).strata[0]
    tab = s.table
    assert tab.columns == ["time", "n_risk", "n_event", "n_censor", "survival", "std_err",
                           "lower", "upper"]
    np.testing.assert_array_equal(tab["time"].to_numpy(), _num(r["time"]))
    for ours, theirs in (("n_risk", "n.risk"), ("n_event", "n.event"), ("n_censor", "n.censor")):
        np.testing.assert_array_equal(tab[ours].to_numpy(), _num(r[theirs]))
    _close(tab["survival"].to_numpy(), r["surv"])
    _close(s.se_log, r["std.err"])  # R's fit$std.err, Inf where S = 0
    _close(tab["std_err"].fill_null(np.nan).to_numpy() ** 2, r["greenwood_var_surv"])
    _close(tab["lower"].fill_null(np.nan).to_numpy(), r["lower"])
    _close(tab["upper"].fill_null(np.nan).to_numpy(), r["upper"])


@pytest.mark.parametrize("conf_type", CONF_TYPES)
def test_median_quantiles_landmarks_rmean_match_r(dataset, conf_type):
    _, df, ref = dataset
    r = ref["km"][conf_type]
    s = kaplan_meier(df["time"], df["status"], conf_type=conf_type).strata[0]
    m = s.median
    assert (m.estimate, m.lower, m.upper) == (_na(r["median"]), _na(r["median_lcl"]),
                                              _na(r["median_ucl"]))
    q = s.quantiles
    assert q["prob"].to_list() == r["quantile"]["probs"]
    for col in ("quantile", "lower", "upper"):
        _close(q[col].fill_null(np.nan).to_numpy(), r["quantile"][col])
    lm = r["landmarks"]["days"]
    at = s.at(lm["requested"])
    np.testing.assert_array_equal(at["n_risk"].to_numpy(), lm["n.risk"])
    _close(at["survival"].to_numpy(), lm["surv"])
    _close(at["std_err"].to_numpy(), lm["std.err_surv_scale"])
    _close(at["lower"].to_numpy(), lm["lower"])
    _close(at["upper"].to_numpy(), lm["upper"])
    est, se = s.rmst(float(df["time"].max()))
    assert est == pytest.approx(r["table"]["rmean"], abs=1e-9)
    assert se == pytest.approx(r["table"]["se(rmean)"], abs=1e-9)


@pytest.mark.parametrize("conf_type", CONF_TYPES)
def test_by_group_summary_matches_r(dataset, conf_type):
    name, df, ref = dataset
    fit = kaplan_meier(df["time"], df["status"], group=df[DATASETS[name]], conf_type=conf_type)
    assert fit.groups == list(ref["km_by_group"][conf_type])
    horizon = float(df["time"].max())  # R's rmean = "common": the largest time of all curves
    for s in fit.strata:
        r = ref["km_by_group"][conf_type][s.group]
        assert (s.n, s.events) == (r["records"], r["events"])
        m = s.median
        assert (m.estimate, m.lower, m.upper) == (r["median"], _na(r["0.95LCL"]),
                                                  _na(r["0.95UCL"]))
        est, se = s.rmst(horizon)
        assert est == pytest.approx(r["rmean"], abs=1e-9)
        assert se == pytest.approx(r["se(rmean)"], abs=1e-9)


def test_veteran_flat_at_half_gives_midpoint():
    """veteran trt 2: S sits at exactly 0.5 from day 52 to 53, R reports 52.5."""
    df = pl.read_csv(REF / "veteran.csv")
    s = kaplan_meier(df["time"], df["status"], group=df["trt"])["2"]
    assert s.median.estimate == 52.5


def test_logrank_matches_r(dataset):
    name, df, ref = dataset
    r = ref["logrank"]
    lr = logrank(df["time"], df["status"], df[DATASETS[name]])
    assert lr.groups == r["groups"]
    np.testing.assert_array_equal(lr.n, r["n"])
    np.testing.assert_array_equal(lr.observed, r["observed"])
    _close(lr.expected, r["expected"])
    np.testing.assert_allclose(lr.variance, np.array(r["var"], dtype=float), atol=ATOL, rtol=0)
    assert lr.chisq == pytest.approx(r["chisq"], abs=ATOL)
    assert lr.df == r["df"]
    assert lr.p == pytest.approx(r["p"], abs=ATOL)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cox_matches_r(dataset, ties):
    name, df, ref = dataset
    r = ref["cox"][ties]
    fit = cox(df["time"], df["status"], group=df[DATASETS[name]], ties=ties)
    assert fit.terms == r["terms"]
    np.testing.assert_allclose(fit.coef, r["coef"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(fit.se, r["se"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(fit.hr, r["hr"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(fit.hr_lower, r["hr_lower95"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(fit.hr_upper, r["hr_upper95"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(fit.z, r["z"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(fit.p, r["wald_p"], atol=1e-7, rtol=0)
    assert fit.loglik == pytest.approx(r["loglik"], abs=1e-6)
    assert fit.loglik_null == pytest.approx(r["loglik_null"], abs=1e-6)
    assert fit.lr_stat == pytest.approx(r["lr_test"]["stat"], abs=1e-6)
    assert fit.lr_df == r["lr_test"]["df"]
    assert fit.lr_p == pytest.approx(r["lr_test"]["p"], abs=1e-7)
    assert (fit.n, fit.n_events) == (r["n"], r["nevent"])
