"""Benchmark: grade N lab values (mixed analytes and units) in chunks; ratio to numpy searchsorted.

Usage: .venv/bin/python benchmarks/bench_grading.py [--total 1e8] [--chunk 1e7] [--criteria ctcae-v5]

Each chunk holds whole subjects (50 values per subject, 11 analytes, units drawn from each
analyte's accepted units, values around the grade limits, baseline before day 0), so memory stays
bounded by the chunk. The baseline is ``numpy.searchsorted`` of the same number of values over one
analyte's four thresholds, measured in the same run. Only grading is timed, not data generation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import polars as pl

from radiotrial.criteria.toxicity import ToxicityConfig, grade_labs
from radiotrial.units import LAB_UNITS

ANALYTES = list(LAB_UNITS)
# typical canonical-unit centre and (lln, uln) per analyte
NORMAL = {"HGB": (14.0, 12.0, 16.0), "WBC": (6.0, 4.0, 10.0), "NEUT": (4.0, 2.0, 7.5),
          "LYMPH": (2.0, 1.0, 4.0), "PLAT": (250.0, 150.0, 400.0), "ALT": (30.0, 7.0, 40.0),
          "AST": (30.0, 8.0, 40.0), "ALP": (90.0, 40.0, 130.0), "GGT": (40.0, 8.0, 60.0),
          "BILI": (10.0, 3.0, 21.0), "CREAT": (80.0, 50.0, 110.0)}
PER_SUBJECT = 50


def make_chunk(n: int, offset: int, rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``n`` lab rows for ``n // PER_SUBJECT`` subjects, plus their treatment starts."""
    n_subj = max(n // PER_SUBJECT, 1)
    subj = offset + np.repeat(np.arange(n_subj), PER_SUBJECT)[:n]
    a_idx = rng.integers(0, len(ANALYTES), n)
    centre = np.array([NORMAL[a][0] for a in ANALYTES])[a_idx]
    lln = np.array([NORMAL[a][1] for a in ANALYTES])[a_idx]
    uln = np.array([NORMAL[a][2] for a in ANALYTES])[a_idx]
    # log-normal spread wide enough to visit every grade
    value = centre * np.exp(rng.normal(0.0, 0.8, n))
    # pick a unit per row among the analyte's accepted units and express the value in it
    units, factors = [], []
    for a in ANALYTES:
        units.append(list(LAB_UNITS[a]))
        factors.append(list(LAB_UNITS[a].values()))
    u_choice = rng.integers(0, 4, n)
    n_units = np.array([len(u) for u in units])[a_idx]
    u_idx = u_choice % n_units
    flat_units = [u for us in units for u in us]
    starts_ = np.cumsum([0] + [len(u) for u in units])[:-1]
    flat_idx = starts_[a_idx] + u_idx
    fac = np.array([f for fs in factors for f in fs])[flat_idx]
    day = rng.integers(-14, 200, n)
    instant = (np.datetime64("2005-01-01T08:00:00", "us") + day.astype("timedelta64[D]"))
    frame = pl.DataFrame({
        "subject_id": pl.Series(subj).cast(pl.String),
        "instant": pl.Series(instant).dt.replace_time_zone("UTC"),
        "analyte": pl.Series(ANALYTES)[pl.Series(a_idx)],
        "value": value / fac,
        "unit": pl.Series(flat_units)[pl.Series(flat_idx)],
        "lln": lln / fac,
        "uln": uln / fac,
    })
    ts = pl.DataFrame({
        "subject_id": pl.Series(np.arange(offset, offset + n_subj)).cast(pl.String),
        "treatment_start": [dt.date(2005, 1, 1)] * n_subj,
    })
    return frame, ts


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--total", type=float, default=1e8)
    p.add_argument("--chunk", type=float, default=1e7)
    p.add_argument("--criteria", default="ctcae-v5")
    args = p.parse_args()
    total, chunk = int(args.total), int(args.chunk)
    rng = np.random.default_rng(5)
    cfg = ToxicityConfig(criteria=args.criteria)

    t_grade = t_ss = 0.0
    graded_n = gradable = 0
    counts = np.zeros(5, dtype=np.int64)
    done = 0
    while done < total:
        n = min(chunk, total - done)
        frame, ts = make_chunk(n, done, rng)
        t0 = time.perf_counter()
        out = grade_labs(frame, treatment_start=ts, config=cfg)
        t_grade += time.perf_counter() - t0
        graded_n += out.height
        gradable += int(out["gradable"].sum())
        vc = out["grade"].drop_nulls().value_counts()
        for g, c in vc.iter_rows():
            counts[int(g)] += c
        # baseline: numpy searchsorted over one analyte's thresholds (v5 platelets), same size
        vals = frame["value"].to_numpy()
        thresholds = np.array([25.0, 50.0, 75.0, 150.0])
        t0 = time.perf_counter()
        np.searchsorted(thresholds, vals, side="right")
        t_ss += time.perf_counter() - t0
        done += n
        del frame, out
    print(f"criteria {args.criteria}: graded {graded_n:,} lab values in chunks of {chunk:,}")
    print(f"  gradable {gradable:,}; by grade 0-4: {counts.tolist()}")
    print(f"  grade_labs:          {t_grade:8.2f} s  ({graded_n / t_grade / 1e6:.2f} M values/s)")
    print(f"  numpy searchsorted:  {t_ss:8.2f} s  (one analyte's 4 thresholds, same size)")
    print(f"  ratio grade_labs / searchsorted = {t_grade / t_ss:.1f}x")


if __name__ == "__main__":
    main()
