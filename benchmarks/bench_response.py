"""Benchmark: time-point response + confirmed BOR for N subjects x 8 time points x 5 lesions.

Prints the engine time and its ratio to a plain Polars group-by of the same measurements (sum of
longest diameters per subject and date), measured in the same run. Usage:

    .venv/bin/python benchmarks/bench_response.py --subjects 1000000 --criteria RECIST1.1
"""

from __future__ import annotations

import argparse
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
    """Synthetic targets, measurements and the date grid (baseline at day -7, then every 56 d)."""
    rng = np.random.default_rng(seed)
    subj = np.repeat(np.arange(n, dtype=np.int64), N_TP * N_LES)
    tp = np.tile(np.repeat(np.arange(N_TP), N_LES), n)
    les = np.tile(np.arange(N_LES), n * N_TP)
    base = rng.uniform(12, 60, size=n * N_LES)
    trend = rng.normal(0.0, 0.15, size=n)  # per-subject relative change per time point
    size = base[subj * N_LES + les] * np.clip(1 + trend[subj] * tp, 0, None)
    size = np.where(size < 3, 0.0, size)
    days = np.where(tp == 0, -7, tp * 56)
    measurement = pl.DataFrame({
        "subject_id": subj, "lesion_id": les.astype(np.int32),
        "assessment_date": np.datetime64(START) + days.astype("timedelta64[D]"),
        "longest_diameter": size, "perpendicular_diameter": size * 0.8,
        "state": np.where(size == 0, "absent", "present"),
    }).with_columns(pl.col("assessment_date").cast(pl.Date), short_axis=pl.lit(None, pl.Float64))
    targets = pl.DataFrame({"subject_id": np.repeat(np.arange(n, dtype=np.int64), N_LES),
                            "lesion_id": np.tile(np.arange(N_LES, dtype=np.int32), n),
                            "nodal": np.zeros(n * N_LES, dtype=bool)})
    dates = measurement.select("subject_id", "assessment_date").unique().with_columns(
        baseline_date=pl.lit(START).cast(pl.Date) - pl.duration(days=7))
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
    print(bor.group_by("bor_confirmed").len().sort("bor_confirmed"))


if __name__ == "__main__":
    main()
