"""Peptide retention in the liver after intra-arterial injection (spec/dosimetry.md 2.2).

A peptide washes out, so K*A/M is only an upper bound. For a fraction f retained with
mono-exponential effective half-life T_eff (instantaneous uptake), the time-integrated activity is
f*A*T_eff/ln2 instead of A*T_p/ln2, hence

    D = K * f * A * (T_eff / T_p) / M          (spec 2.2, "Peptide, not microspheres")

Example (spec): 1 GBq Y-90 fully retained in a 1.5 kg liver gives at most 33 Gy; T_eff = 40 h
gives 21 Gy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from radiotrial.errors import RadiotrialError


def retention_factor(
    retained_fraction: Any, effective_half_life_h: Any, physical_half_life_h: Any
) -> np.ndarray:
    """f * T_eff / T_p: the fraction of the permanent-retention dose actually delivered."""
    f = np.asarray(retained_fraction, dtype=float)
    teff = np.asarray(effective_half_life_h, dtype=float)
    tp = np.asarray(physical_half_life_h, dtype=float)
    if np.any((f < 0) | (f > 1)):
        raise RadiotrialError(f"retained_fraction: must be within 0-1, got {f.ravel()[((f < 0) | (f > 1)).ravel()][0]!r}")
    if np.any(teff <= 0) or np.any(teff > tp * (1 + 1e-12)):
        raise RadiotrialError(
            "effective_half_life_h: must be > 0 and not longer than the physical half-life "
            f"({float(np.max(tp)):.4g} h); got {teff.ravel()[0]!r}"
        )
    return f * teff / tp


def liver_peptide_dose(
    activity_gbq: Any,
    liver_mass_kg: Any,
    k_gy_kg_per_gbq: float,
    *,
    retained_fraction: Any = 1.0,
    effective_half_life_h: Any,
    physical_half_life_h: Any,
) -> np.ndarray:
    """Mean liver absorbed dose D = K f A (T_eff/T_p) / M in Gy (spec 2.2)."""
    m = np.asarray(liver_mass_kg, dtype=float)
    if np.any(m <= 0):
        raise RadiotrialError(f"liver_mass_kg: must be > 0, got {m[m <= 0].ravel()[0]!r}")
    r = retention_factor(retained_fraction, effective_half_life_h, physical_half_life_h)
    return k_gy_kg_per_gbq * r * np.asarray(activity_gbq, dtype=float) / m
