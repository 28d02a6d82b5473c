"""Benchmark: time-point response + confirmed BOR for N subjects x 8 time points x 5 lesions.

Prints the engine time and its ratio to a plain Polars group-by of the same measurements (sum of
longest diameters per subject and date), measured in the same run. Usage:

    .venv/bin/python benchmarks/bench_response.py --subjects 1000000 --criteria RECIST1.1
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date

import numpy as np
import polars as pl

from radiotrial.criteria.response import (
    ResponseConfig,
    best_overall_response,
    overall_response_expr,
    target_response_expr,
    target_sums,
)

START = date(2020, 1, 6)
N_TP, N_LES = 8, 5


def make_data(n: int, seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Synthetic targets, measurements and the date grid (baseline at day -7, then every 56 d).

    Rows in (subject, time point, lesion) order; built with Polars expressions from the
    per-lesion and per-subject random draws so that no 40M-row NumPy temporaries (or a NumPy
    unicode array of states) inflate the peak memory attributed to the engine.
    """
    rng = np.random.default_rng(seed)
    base = pl.Series(rng.uniform(12, 60, size=n * N_LES))
    trend = pl.Series(rng.normal(0.0, 0.15, size=n))  # per-subject relative change per time point
    row = pl.int_range(n * N_TP * N_LES, dtype=pl.Int64)
    subj, tp, les = row // (N_TP * N_LES), (row // N_LES) % N_TP, row % N_LES
    size = pl.lit(base).gather(subj * N_LES + les) * (
        1 + pl.lit(trend).gather(subj) * tp.cast(pl.Float64)).clip(lower_bound=0)
    size = pl.when(size < 3).then(0.0).otherwise(size)
    days = pl.when(tp == 0).then(-7).otherwise(tp * 56)
    measurement = pl.select(
        subject_id=subj, lesion_id=les.cast(pl.Int32),
        assessment_date=pl.lit(START) + pl.duration(days=days),
        longest_diameter=size,
    ).with_columns(
        perpendicular_diameter=pl.col("longest_diameter") * 0.8,
        state=pl.when(pl.col("longest_diameter") == 0).then(pl.lit("absent"))
        .otherwise(pl.lit("present")),
        short_axis=pl.lit(None, pl.Float64),
    )
    targets = pl.DataFrame({"subject_id": np.repeat(np.arange(n, dtype=np.int64), N_LES),
                            "lesion_id": np.tile(np.arange(N_LES, dtype=np.int32), n),
                            "nodal": np.zeros(n * N_LES, dtype=bool)})
    cell = pl.int_range(n * N_TP, dtype=pl.Int64)  # the (subject, time point) grid, no unique()
    dates = pl.select(
        subject_id=cell // N_TP,
        assessment_date=pl.lit(START) + pl.duration(days=pl.when(cell % N_TP == 0).then(-7)
                                                    .otherwise(cell % N_TP * 56)),
        baseline_date=pl.lit(START).cast(pl.Date) - pl.duration(days=7),
    )
    return targets, measurement, dates


def engine(targets, measurement, dates, config: ResponseConfig) -> pl.DataFrame:
    sums = target_sums(targets, measurement, dates, config)
    tp = sums.with_columns(
        target_response=pl.when(pl.col("assessment_date") > START)
        .then(target_response_expr(config)),
        non_target_response=pl.lit(None, pl.String), new_lesions=pl.lit(False),
    ).with_columns(
        overall_response=overall_response_expr(),
        days_from_start=(pl.col("assessment_date") - pl.lit(START)).dt.total_days(),
    )
    return best_overall_response(tp.filter(pl.col("assessment_date") > START), config)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--subjects", type=int, default=1_000_000)
    ap.add_argument("--criteria", default="WHO", choices=["WHO", "RECIST1.1", "RECIST1.0"])
    args = ap.parse_args()
    cfg = ResponseConfig(criteria=args.criteria)
    targets, measurement, dates = make_data(args.subjects)
    print(f"{args.subjects:,} subjects x {N_TP} time points x {N_LES} lesions "
          f"= {measurement.height:,} measurements; criteria {args.criteria}; "
          f"polars {pl.__version__}, {pl.thread_pool_size()} threads")
    t0 = time.perf_counter()
    plain = measurement.group_by("subject_id", "assessment_date").agg(pl.col("longest_diameter")
                                                                      .sum())
    t_plain = time.perf_counter() - t0
    t0 = time.perf_counter()
    bor = engine(targets, measurement, dates, cfg)
    t_engine = time.perf_counter() - t0
    assert plain.height == args.subjects * N_TP and bor.height == args.subjects
    print(f"plain group-by (sum per subject x date): {t_plain:8.2f} s")
    print(f"time-point response + confirmed BOR:     {t_engine:8.2f} s")
    print(f"ratio engine / plain group-by:           {t_engine / t_plain:8.1f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB (Linux)
    print(f"peak RSS of the process (data included): {peak:8.2f} GiB")
    print(bor.group_by("bor_confirmed").len().sort("bor_confirmed"))


if __name__ == "__main__":
    main()
