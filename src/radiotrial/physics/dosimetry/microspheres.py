"""Microsphere activity planning, for comparison with the peptide (spec/dosimetry.md 2.2).

BSA method (SIR-Spheres resin, Sirtex IFU): A[GBq] = (BSA - 0.2) + V_T/(V_T + V_N), times
V_lobe/V_liver for lobar treatment, reduced for the lung shunt: LSF < 10 %: none; 10 % <= LSF
< 15 %: -20 %; 15 % <= LSF <= 20 %: -40 %; LSF > 20 %: do not treat (NaN). The IFU's "10-15 %"
and "15-20 %" bands are read as half-open, lower bound included, and 20 % itself as treatable.
DuBois BSA = 0.20247 H[m]^0.725 W[kg]^0.425 (DuBois D, DuBois EF, Arch Intern Med 1916;17:863).

Single-compartment MIRD (TheraSphere glass IFU): A = D M / (K (1 - LSF)(1 - R)) and
D = K A (1 - LSF)(1 - R) / M, IFU K = 50 Gy.kg/GBq.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from radiotrial.errors import RadiotrialError

#: TheraSphere IFU dose factor (Gy.kg/GBq; spec 1.3).
GLASS_IFU_K = 50.0


def bsa_dubois(height_m: Any, weight_kg: Any) -> np.ndarray:
    """Body surface area in m^2, DuBois formula (constants above)."""
    h, w = np.asarray(height_m, float), np.asarray(weight_kg, float)
    if np.any(h <= 0) or np.any(w <= 0):
        raise RadiotrialError("height_m and weight_kg must be > 0")
    if np.any(h > 3):
        raise RadiotrialError(f"height_m: {float(np.max(h))!r} looks like centimetres; give metres")
    return 0.20247 * h**0.725 * w**0.425


def resin_lsf_reduction(lung_shunt_fraction: Any) -> np.ndarray:
    """Fractional activity reduction for the lung shunt (IFU bands above); NaN = do not treat."""
    lsf = np.asarray(lung_shunt_fraction, float)
    if np.any((lsf < 0) | (lsf > 1)):
        raise RadiotrialError("lung_shunt_fraction: must be within 0 and 1")
    return np.select([lsf < 0.10, lsf < 0.15, lsf <= 0.20], [0.0, 0.20, 0.40], default=np.nan)


def bsa_activity(
    bsa_m2: Any,
    tumour_volume_ml: Any,
    normal_liver_volume_ml: Any,
    *,
    lung_shunt_fraction: Any = 0.0,
    lobe_fraction: Any = 1.0,
) -> np.ndarray:
    """Resin BSA-method activity in GBq, LSF-reduced; NaN where LSF > 20 % (do not treat)."""
    vt, vn = np.asarray(tumour_volume_ml, float), np.asarray(normal_liver_volume_ml, float)
    if np.any(vt < 0) or np.any(vn <= 0):
        raise RadiotrialError("tumour_volume_ml must be >= 0 and normal_liver_volume_ml > 0")
    a = (np.asarray(bsa_m2, float) - 0.2) + vt / (vt + vn)
    return a * np.asarray(lobe_fraction, float) * (1 - resin_lsf_reduction(lung_shunt_fraction))


def glass_activity(
    target_dose_gy: Any,
    mass_kg: Any,
    *,
    lung_shunt_fraction: Any = 0.0,
    residual_fraction: Any = 0.0,
    k_gy_kg_per_gbq: float = GLASS_IFU_K,
) -> np.ndarray:
    """Glass single-compartment prescription A = D M / (K (1-LSF)(1-R)) in GBq."""
    return (np.asarray(target_dose_gy, float) * np.asarray(mass_kg, float)
            / (k_gy_kg_per_gbq * (1 - np.asarray(lung_shunt_fraction, float))
               * (1 - np.asarray(residual_fraction, float))))


def glass_dose(
    activity_gbq: Any,
    mass_kg: Any,
    *,
    lung_shunt_fraction: Any = 0.0,
    residual_fraction: Any = 0.0,
    k_gy_kg_per_gbq: float = GLASS_IFU_K,
) -> np.ndarray:
    """Glass single-compartment delivered dose D = K A (1-LSF)(1-R) / M in Gy."""
    return (k_gy_kg_per_gbq * np.asarray(activity_gbq, float) * (1 - np.asarray(lung_shunt_fraction, float))
            * (1 - np.asarray(residual_fraction, float)) / np.asarray(mass_kg, float))
