"""Kaplan–Meier speed: radiotrial vs a numpy argsort+unique baseline and lifelines.

Exponential survival times (mean 365 days) with ~30 % random censoring, continuous and rounded
up to whole days. For each n: seconds for (a) the numpy baseline — ``np.argsort`` of the times
and ``np.unique`` of the sorted times with counts, the minimum any sort-based KM must do —
(b) radiotrial's full KM with log CI (``kaplan_meier``), and (c) lifelines'
``KaplanMeierFitter.fit``; all measured in this run (best of ``--repeat``).

Usage: python benchmarks/bench_km.py [N ...] [--repeat R] [--no-lifelines]
       (default N: 1e5 1e6 1e7, as in issue #3)
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

from radiotrial.stats import kaplan_meier


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _data(n: int, whole_days: bool, seed: int = 20240501):
    rng = np.random.default_rng(seed)
    t = rng.exponential(365.0, n)
    if whole_days:
        t = np.ceil(t)
    event = rng.random(n) >= 0.30
    return t, event


def baseline(t: np.ndarray) -> None:
    order = np.argsort(t)
    np.unique(t[order], return_counts=True)


def main(argv: list[str]) -> None:
    repeat = 3
    use_lifelines = True
    sizes: list[int] = []
    it = iter(argv)
    for a in it:
        if a == "--repeat":
            repeat = int(next(it))
        elif a == "--no-lifelines":
            use_lifelines = False
        else:
            sizes.append(int(float(a)))
    sizes = sizes or [100_000, 1_000_000, 10_000_000]
    if use_lifelines:
        from lifelines import KaplanMeierFitter
    print(f"{'n':>10} {'times':>10} {'numpy s':>9} {'radiotrial s':>13} {'lifelines s':>12} "
          f"{'rt/numpy':>9} {'lifelines/rt':>13}")
    for n in sizes:
        for whole in (False, True):
            t, e = _data(n, whole)
            t_np = _best(lambda t=t: baseline(t), repeat)
            t_rt = _best(lambda t=t, e=e: kaplan_meier(t, e, conf_type="log"), repeat)
            if use_lifelines:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t_ll = _best(lambda t=t, e=e: KaplanMeierFitter().fit(t, e),
                                 max(1, repeat - 1))
                ll, ratio_ll = f"{t_ll:12.3f}", f"{t_ll / t_rt:13.1f}"
            else:
                ll, ratio_ll = f"{'-':>12}", f"{'-':>13}"
            kind = "days" if whole else "continuous"
            print(f"{n:>10} {kind:>10} {t_np:9.3f} {t_rt:13.3f} {ll} {t_rt / t_np:9.2f} "
                  f"{ratio_ll}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
