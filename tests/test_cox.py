"""Cox model: errors, covariate input forms, stratification (R values in test_survival_reference)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from radiotrial.errors import RadiotrialError
from radiotrial.stats import cox


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
