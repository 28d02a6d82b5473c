"""Thin, lazily imported adapters to the toxicity and dosimetry engines.

The protocol engine does not import them at module level: readiness asks here for a grader or a
dose checker and records "not checked" when one is missing. Callers (and tests) can pass their
own callables to :func:`~radiotrial.protocol.readiness.check_readiness`.

- :data:`Grader` ``(labs, criteria, treatment_start, toxicity_config) -> frame``: the lab rows
  with an integer ``grade`` column (null = not gradable; the absolute value is used).
  Default: :func:`radiotrial.criteria.toxicity.grade_labs`.
- :data:`DoseChecker` ``(frames, subject_id, planned_gbq, dosimetry_config) ->
  [(exceeds: bool | None, message)]``, one entry per organ limit (absorbed dose and BED;
  ``None`` = could not be evaluated). Default: :func:`radiotrial.physics.derive_dosimetry` then
  :func:`radiotrial.physics.planned_cycle_check`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

#: Organs whose absorbed dose comes only from ``dosimetry.dose_per_gbq`` (study physicist's
#: Gy/GBq, radiotrial.physics.config.DosimetryConfig): no model computes them.
_PER_GBQ_ORGANS = ("kidney", "red_marrow")

Grader = Callable[[pl.DataFrame, str, pl.DataFrame, Any], pl.DataFrame]
DoseChecker = Callable[[Mapping[str, pl.DataFrame], str, float, Any],
                       list[tuple[bool | None, str]]]


def toxicity_grader() -> Grader:
    """The toxicity engine's ``grade_labs`` as a :data:`Grader` (imported on first use)."""
    from radiotrial.criteria.toxicity import grade_labs

    def grade(labs: pl.DataFrame, criteria: str, treatment_start: pl.DataFrame,
              config: Any) -> pl.DataFrame:
        return grade_labs(labs, criteria, treatment_start=treatment_start, config=config)

    return grade


def dose_checker() -> DoseChecker:
    """The dosimetry engine's planned-cycle check as a :data:`DoseChecker` (imported on first use)."""
    from radiotrial.physics import derive_dosimetry, planned_cycle_check

    def check(frames: Mapping[str, pl.DataFrame], subject_id: str, planned_gbq: float,
              dosimetry_config: Any) -> list[tuple[bool | None, str]]:
        prior = derive_dosimetry(frames, dosimetry_config)
        configured = set(getattr(dosimetry_config, "dose_per_gbq", None) or {})
        estimates = getattr(dosimetry_config, "estimates", None)
        if estimates is None:  # DosimetryConfig's default estimates leave out "lung"
            estimates = []
        configured |= {f"estimate {e}" for e in estimates}
        res = planned_cycle_check(prior, {subject_id: planned_gbq}, dosimetry_config)
        out: list[tuple[bool | None, str]] = []
        for r in res.iter_rows(named=True):
            what = f"{r['organ']} {r['scope']} {'BED' if r['quantity'] == 'bed' else 'dose'}"
            if r["would_exceed"] is None:
                out.append((None, f"{what}: not computable ({_why_unknown(r, configured)})"))
            elif r["would_exceed"]:
                out.append((True, r["warning"] or f"{what} would exceed {r['limit_gy']} Gy"))
            else:
                out.append((False, (
                    f"{what}: {r['value_after_gy']:.3g} Gy after the planned "
                    f"{planned_gbq:g} GBq, within {r['comparison']} {r['limit_gy']:g} Gy")))
        return out

    return check


def _why_unknown(row: Mapping[str, Any], configured: set[str]) -> str:
    """Why a planned-cycle check could not be evaluated, naming the study.yaml setting to fill.

    ``configured``: the organs of ``dosimetry.dose_per_gbq`` and "estimate <name>" for each of
    ``dosimetry.estimates`` (radiotrial.physics.config.DosimetryConfig).
    """
    organ = row["organ"]
    if organ == "lung" and row["dose_per_gbq"] is None and "estimate lung" not in configured:
        return "lung dose not estimated: 'lung' is not in dosimetry.estimates in study.yaml"
    if row["dose_per_gbq"] is None and organ in _PER_GBQ_ORGANS and organ not in configured:
        return (f"no {organ} dose per GBq: set dosimetry.dose_per_gbq.{organ} (Gy/GBq) in "
                f"study.yaml")
    if row["dose_per_gbq"] is not None and row["quantity"] == "bed":
        return (f"no effective half-life for the BED: set "
                f"dosimetry.effective_half_life_h.{organ} in study.yaml")
    return "no dose per GBq from a prior cycle"
