"""Binomial confidence intervals against R (binom.test, prop.test(correct = FALSE))."""

from __future__ import annotations

import pytest

from radiotrial.errors import RadiotrialError
from radiotrial.stats import proportion_ci


def test_clopper_pearson_matches_r_binom_test():
    # R: binom.test(5, 20)$conf.int -> 0.08657147 0.49104587
    est, lo, hi = proportion_ci(5, 20)
    assert est == 0.25
    assert lo == pytest.approx(0.0865714691, abs=1e-9)
    assert hi == pytest.approx(0.4910458717, abs=1e-9)


def test_wilson_matches_r_prop_test():
    # R: prop.test(5, 20, correct = FALSE)$conf.int -> 0.1118617 0.4687009
    _, lo, hi = proportion_ci(5, 20, method="wilson")
    assert lo == pytest.approx(0.1118617014, abs=1e-9)
    assert hi == pytest.approx(0.4687008776, abs=1e-9)


def test_boundaries():
    assert proportion_ci(0, 10) == (0.0, 0.0, pytest.approx(0.3084971, abs=1e-7))
    assert proportion_ci(10, 10)[1:] == (pytest.approx(0.6915029, abs=1e-7), 1.0)
    _, lo, hi = proportion_ci(0, 10, method="wilson")
    assert lo == 0.0 and 0 < hi < 1
    assert proportion_ci(3, 10, conf_level=0.99)[1] < proportion_ci(3, 10)[1]


@pytest.mark.parametrize("args, kwargs, match", [
    ((11, 10), {}, "x"), ((-1, 10), {}, "x"), ((1, 0), {}, "n"), ((1.5, 10), {}, "whole"),
    ((1, 10), {"method": "wald"}, "method"), ((1, 10), {"conf_level": 1.2}, "conf_level"),
])
def test_errors(args, kwargs, match):
    with pytest.raises(RadiotrialError, match=match):
        proportion_ci(*args, **kwargs)
