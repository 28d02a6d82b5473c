"""Benchmark: vectorised decay vs radioactivedecay, and derive_dosimetry on 10^6 administrations.

Prints ratios against baselines measured in the same run (no timing assertions anywhere).
Run: .venv/bin/python benchmarks/bench_decay.py
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import radioactivedecay as rd

from radiotrial.physics import DosimetryConfig, derive_dosimetry
from radiotrial.physics.decay import decay_activity
from radiotrial.physics.nuclides import half_life_h


def _best(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    n_rd = 200
    t_rd = _best(lambda: [rd.Inventory({"Y-90": 1.0}, "GBq").decay(1, "d").activities("GBq") for _ in range(n_rd)]) / n_rd
    n = 1_000_000
    ages = np.random.default_rng(0).uniform(-48, 200, n)
    t_np = _best(lambda: decay_activity(np.ones(n), ages, half_life_h("Y-90"))) / n
    print(f"decay per value: radioactivedecay {t_rd * 1e6:.1f} us, numpy {t_np * 1e9:.2f} ns, ratio {t_rd / t_np:.0f}x")

    t1 = datetime(2004, 3, 2, 10, tzinfo=UTC)
    ids = pl.int_range(0, n, eager=True).cast(pl.String)
    adm = pl.DataFrame({
        "subject_id": ids, "cycle": pl.Series([1] * n),
        "admin_instant": pl.Series([t1] * n).dt.replace_time_zone("UTC"),
        "nuclide": ["Y-90"] * n, "calibrated_activity": np.full(n, 1.1),
        "calibration_instant": pl.Series([t1 - timedelta(hours=2)] * n).dt.replace_time_zone("UTC"),
        "residual_activity": np.full(n, 0.03),
        "residual_instant": pl.Series([t1 + timedelta(hours=1)] * n).dt.replace_time_zone("UTC"),
        "liver_mass_kg": np.full(n, 1.6), "tumour_mass_kg": np.full(n, 0.2),
    })
    cfg = DosimetryConfig(dose_per_gbq={"kidney": 2.0}, effective_half_life_h={"kidney": 40.0})
    t_derive = _best(lambda: derive_dosimetry({"administration": adm}, cfg), repeat=1)
    base = _best(lambda: adm.group_by("subject_id").agg(pl.col("calibrated_activity").sum()), repeat=1)
    print(f"derive_dosimetry on {n:,} administrations: {t_derive:.2f} s "
          f"({t_derive / base:.1f}x a plain Polars group-by sum, {base:.2f} s)")


if __name__ == "__main__":
    main()
