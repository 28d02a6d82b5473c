"""Decay, administered and cumulated activity (issue 6 item 2) against closed forms and radioactivedecay."""

import math
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
import radioactivedecay as rd

from radiotrial.errors import RadiotrialError
from radiotrial.physics.decay import (
    activity_at,
    administered_activity,
    administered_activity_array,
    cumulated_activity,
    decay_activity,
    effective_half_life,
)
from radiotrial.physics.nuclides import get_nuclide, half_life_h, nuclide_names

CET = timezone(timedelta(hours=1))
ISSUE_NUCLIDES = ["Y-90", "In-111", "Lu-177", "Ga-68", "Ho-166", "I-131", "Tc-99m"]


def test_all_issue_nuclides_present_with_sources():
    assert set(ISSUE_NUCLIDES) <= set(nuclide_names())
    for name in ISSUE_NUCLIDES:
        nuc = get_nuclide(name)
        assert nuc.half_life_h > 0 and nuc.source and nuc.decay_mode and nuc.photons
        assert get_nuclide(name, "ENSDF").half_life_uncertainty_h is not None  # ENSDF with uncertainty


@pytest.mark.parametrize("name", ISSUE_NUCLIDES + ["Lu-177m"])
def test_icrp107_half_life_matches_radioactivedecay(name):
    assert half_life_h(name) == pytest.approx(rd.Nuclide(name).half_life("h"), rel=1e-6)


@pytest.mark.parametrize("name", ISSUE_NUCLIDES)
@pytest.mark.parametrize("days", [0.1, 1.0, 7.0])
def test_decay_matches_radioactivedecay(name, days):
    t0 = datetime(2004, 3, 2, 10, 0, tzinfo=UTC)
    ours = activity_at(1.0, t0, t0 + timedelta(days=days), name)
    theirs = rd.Inventory({name: 1.0}, "GBq").decay(days, "d").activities("GBq")[name]
    assert ours == pytest.approx(theirs, rel=1e-9)


def test_decay_closed_form_forward_and_backward_and_time_zones():
    t_half = half_life_h("Y-90")
    t0 = datetime(2004, 3, 2, 10, 0, tzinfo=CET)  # 09:00 UTC
    assert activity_at(2.0, t0, t0 + timedelta(hours=t_half), "Y-90") == pytest.approx(1.0)
    assert activity_at(2.0, t0, t0 - timedelta(hours=t_half), "Y-90") == pytest.approx(4.0)
    # Same instant written in another zone: no decay at all.
    assert activity_at(2.0, t0, datetime(2004, 3, 2, 9, 0, tzinfo=UTC), "Y-90") == pytest.approx(2.0)
    # ENSDF half-life is a different data set: slightly different result.
    one_week = t0 + timedelta(days=7)
    assert activity_at(1.0, t0, one_week, "Y-90", dataset="ENSDF") != activity_at(1.0, t0, one_week, "Y-90")


def test_naive_instant_and_negative_activity_are_errors():
    aware = datetime(2004, 3, 2, 10, tzinfo=UTC)
    with pytest.raises(RadiotrialError, match="no time zone"):
        activity_at(1.0, datetime(2004, 3, 2, 10), aware, "Y-90")
    with pytest.raises(RadiotrialError, match=">= 0"):
        activity_at(-1.0, aware, aware, "Y-90")
    with pytest.raises(RadiotrialError, match="not known"):
        activity_at(1.0, aware, aware, "Xx-1")


def test_administered_activity_residual_before_and_after_injection():
    t_half = half_life_h("Y-90")
    t_inj = datetime(2004, 3, 2, 10, 0, tzinfo=UTC)
    t_cal = t_inj - timedelta(hours=t_half)  # calibrated one half-life earlier: 2.0 -> 1.0 at injection
    # Residual measured one half-life AFTER injection: 0.05 then means 0.1 at injection.
    r = administered_activity(2.0, t_cal, t_inj, "Y-90", residual_activity=0.05,
                              residual_instant=t_inj + timedelta(hours=t_half))
    assert (r.at_injection, r.residual_at_injection, r.administered) == pytest.approx((1.0, 0.1, 0.9))
    # Residual measured before injection (one half-life): 0.2 then means 0.1 at injection.
    r = administered_activity(2.0, t_cal, t_inj, "Y-90", residual_activity=0.2,
                              residual_instant=t_inj - timedelta(hours=t_half))
    assert r.administered == pytest.approx(0.9)
    # No residual.
    assert administered_activity(2.0, t_cal, t_inj, "Y-90").administered == pytest.approx(1.0)


def test_administered_activity_errors():
    t = datetime(2004, 3, 2, 10, tzinfo=UTC)
    with pytest.raises(RadiotrialError, match="above the dispensed"):
        administered_activity(1.0, t, t, "Y-90", residual_activity=1.01, residual_instant=t)
    # Exactly all of it left behind is allowed (administered 0).
    assert administered_activity(1.0, t, t, "Y-90", residual_activity=1.0, residual_instant=t).administered == 0
    with pytest.raises(RadiotrialError, match="residual_instant"):
        administered_activity(1.0, t, t, "Y-90", residual_activity=0.1)
    with pytest.raises(RadiotrialError, match="residual_activity"):
        administered_activity(1.0, t, t, "Y-90", residual_activity=-0.1, residual_instant=t)
    with pytest.raises(RadiotrialError, match="admin_instant"):
        administered_activity(1.0, t, datetime(2004, 3, 2, 10), "Y-90")


def test_administered_activity_array_is_vectorised():
    n = 100_000
    cal = np.full(n, 2.0)
    _, res, adm = administered_activity_array(cal, np.full(n, 64.1), np.full(n, np.nan), np.full(n, np.nan), 64.1)
    assert adm.shape == (n,) and np.allclose(adm, 1.0) and np.all(res == 0)


def test_cumulated_activity_closed_forms():
    t = half_life_h("Y-90")
    assert cumulated_activity(1.0, t) == pytest.approx(t / math.log(2))
    # Numerical integral of the decay curve over 0..48 h.
    grid = np.linspace(0, 48, 200_001)
    numeric = np.trapezoid(decay_activity(1.0, grid, t), grid)
    assert cumulated_activity(1.0, t, end_h=48) == pytest.approx(numeric, rel=1e-8)
    # Effective half-life: 40 h biological with physical 64.1 h.
    teff = float(effective_half_life(t, 40.0))
    assert teff == pytest.approx(t * 40 / (t + 40))
    assert cumulated_activity(1.0, teff) == pytest.approx(teff / math.log(2))
    assert float(effective_half_life(t, np.inf)) == pytest.approx(t)
    # Physical-only cumulated decays agree with radioactivedecay's cumulative decays.
    decays = rd.Inventory({"Y-90": 1.0}, "Bq").cumulative_decays(48, "h")["Y-90"]  # number = Bq.s
    assert cumulated_activity(1.0, t, end_h=48) == pytest.approx(decays / 3600.0, rel=1e-6)
