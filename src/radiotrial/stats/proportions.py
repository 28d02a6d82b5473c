"""Confidence intervals for a binomial proportion (response rates).

* ``clopper-pearson`` (exact; R's ``binom.test``): beta quantiles
  B(α/2; x, n-x+1) and B(1-α/2; x+1, n-x), with 0 and 1 at x = 0 and x = n
  (Clopper & Pearson, Biometrika 1934;26:404–413).
* ``wilson`` (score interval; R's ``prop.test(correct = FALSE)``): Wilson, JASA 1927;22:209–212.
"""

from __future__ import annotations

import math

from radiotrial.errors import RadiotrialError

METHODS = ("clopper-pearson", "wilson")


def proportion_ci(
    x: int, n: int, *, method: str = "clopper-pearson", conf_level: float = 0.95
) -> tuple[float, float, float]:
    """Estimate x/n with its two-sided confidence limits: ``(estimate, lower, upper)``."""
    from scipy.stats import beta, norm

    for name, v in (("x", x), ("n", n)):
        if isinstance(v, bool) or not float(v).is_integer():
            raise RadiotrialError(f"{name}: must be a whole number, got {v!r}")
    x, n = int(x), int(n)
    if n <= 0:
        raise RadiotrialError(f"n: must be at least 1, got {n}")
    if not 0 <= x <= n:
        raise RadiotrialError(f"x: must be between 0 and n = {n}, got {x}")
    if not (isinstance(conf_level, (int, float)) and 0 < conf_level < 1):
        raise RadiotrialError(f"conf_level: must be between 0 and 1, got {conf_level!r}")
    alpha = 1 - conf_level
    p = x / n
    if method == "clopper-pearson":
        lower = 0.0 if x == 0 else float(beta.ppf(alpha / 2, x, n - x + 1))
        upper = 1.0 if x == n else float(beta.ppf(1 - alpha / 2, x + 1, n - x))
    elif method == "wilson":
        z = float(norm.ppf(1 - alpha / 2))
        z2 = z * z
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        lower, upper = max(0.0, centre - half), min(1.0, centre + half)
    else:
        raise RadiotrialError(f"method: unknown value {method!r}; use one of {', '.join(METHODS)}")
    return p, lower, upper
