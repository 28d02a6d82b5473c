"""Statistics engines: Kaplan–Meier, log-rank, Cox, proportions, survival plots.

Pure and vectorised (arrays/dataframes in, results out). Numbers match R's ``survival`` package;
see ``radiotrial.stats.survival`` for the conventions and their sources. statsmodels and
matplotlib are imported only when :func:`cox` or :func:`plot_km` is called.
"""

from radiotrial.stats.coxph import CoxResult, cox
from radiotrial.stats.logrank import LogRankResult, logrank
from radiotrial.stats.plot import plot_km
from radiotrial.stats.proportions import proportion_ci
from radiotrial.stats.survival import (
    CONF_TYPES,
    KMResult,
    KMStratum,
    Median,
    confidence_limits,
    find_quantiles,
    kaplan_meier,
)

__all__ = [
    "CONF_TYPES",
    "CoxResult",
    "KMResult",
    "KMStratum",
    "LogRankResult",
    "Median",
    "confidence_limits",
    "cox",
    "find_quantiles",
    "kaplan_meier",
    "logrank",
    "plot_km",
    "proportion_ci",
]
