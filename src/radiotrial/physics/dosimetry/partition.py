"""Y-90 hepatic-arterial models: partition model (forward and inverse), lung shunt, lung dose.

Partition model (Ho S et al., Eur J Nucl Med 1996;23:947; spec/dosimetry.md 2.2):
    T/N = (A_T/M_T) / (A_N/M_N)                 from pre-therapy scintigraphy counts
    A_L = A (1 - LSF) (1 - R) r                 activity in the liver (r: retention factor,
                                                1 for microspheres, f T_eff/T_p for a peptide)
    D_N = K A_L / (T/N * M_T + M_N),  D_T = T/N * D_N
    D_lung = K A LSF (1 - R) r / M_lung        (M_lung default 1 kg, Taranis; spec 2.2)
Inverse (prescription): A = D_N (T/N M_T + M_N) / (K (1 - LSF) (1 - R) r), with D_N = D_T / (T/N)
for a tumour prescription. With R = 0 and r = 1 this is the spec's formula.
All functions are vectorised (numpy broadcasting).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from radiotrial.errors import RadiotrialError

#: Default lung mass, kg (Taranis default 1000 g; spec 2.2).
DEFAULT_LUNG_MASS_KG = 1.0


def _arr(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _fraction(x: Any, field: str) -> np.ndarray:
    a = _arr(x)
    if np.any((a < 0) | (a >= 1)):
        raise RadiotrialError(f"{field}: must be within 0 and 1 (exclusive of 1), got {a.ravel()[((a < 0) | (a >= 1)).ravel()][0]!r}")
    return a


def _positive(x: Any, field: str) -> np.ndarray:
    a = _arr(x)
    if np.any(a <= 0):
        raise RadiotrialError(f"{field}: must be > 0, got {a.ravel()[(a <= 0).ravel()][0]!r}")
    return a


def lung_shunt_fraction(lung_ant: Any, lung_post: Any, liver_ant: Any, liver_post: Any) -> np.ndarray:
    """LSF = C_lung / (C_lung + C_liver) with geometric means sqrt(C_ant C_post) of planar counts
    (Tc-99m MAA; spec 2.2)."""
    lung = np.sqrt(_arr(lung_ant) * _arr(lung_post))
    liver = np.sqrt(_arr(liver_ant) * _arr(liver_post))
    return lung / (lung + liver)


def tumour_to_normal_ratio(
    tumour_counts: Any,
    normal_counts: Any,
    tumour_mass_kg: Any = 1.0,
    normal_mass_kg: Any = 1.0,
    *,
    counts: Literal["total", "concentration"] = "total",
) -> np.ndarray:
    """T/N = (C_T/M_T) / (C_N/M_N) for total VOI counts; C_T/C_N for count concentrations (spec 2.2)."""
    ct, cn = _arr(tumour_counts), _arr(normal_counts)
    if counts == "concentration":
        return ct / cn
    if counts != "total":
        raise RadiotrialError(f"counts: must be 'total' or 'concentration', got {counts!r}")
    return (ct / _arr(tumour_mass_kg)) / (cn / _arr(normal_mass_kg))


@dataclass(frozen=True)
class PartitionDoses:
    """Partition-model result (Gy; activities GBq)."""

    liver_activity_gbq: np.ndarray
    normal_liver_gy: np.ndarray
    tumour_gy: np.ndarray
    lung_gy: np.ndarray


def partition_doses(
    activity_gbq: Any,
    tn_ratio: Any,
    tumour_mass_kg: Any,
    normal_liver_mass_kg: Any,
    k_gy_kg_per_gbq: float,
    *,
    lung_shunt_fraction: Any = 0.0,
    residual_fraction: Any = 0.0,
    retention: Any = 1.0,
    lung_mass_kg: Any = DEFAULT_LUNG_MASS_KG,
) -> PartitionDoses:
    """Forward partition model: tumour, normal-liver and lung doses (module docstring)."""
    a = _arr(activity_gbq)
    lsf = _fraction(lung_shunt_fraction, "lung_shunt_fraction")
    res = _fraction(residual_fraction, "residual_fraction")
    tn = _positive(tn_ratio, "tn_ratio")
    mt = _positive(tumour_mass_kg, "tumour_mass_kg")
    mn = _positive(normal_liver_mass_kg, "normal_liver_mass_kg")
    injected = a * (1 - res) * _arr(retention)
    a_liver = injected * (1 - lsf)
    d_n = k_gy_kg_per_gbq * a_liver / (tn * mt + mn)
    d_lung = k_gy_kg_per_gbq * injected * lsf / _positive(lung_mass_kg, "lung_mass_kg")
    return PartitionDoses(a_liver, d_n, tn * d_n, d_lung)


def partition_activity(
    tn_ratio: Any,
    tumour_mass_kg: Any,
    normal_liver_mass_kg: Any,
    k_gy_kg_per_gbq: float,
    *,
    normal_liver_dose_gy: Any = None,
    tumour_dose_gy: Any = None,
    lung_shunt_fraction: Any = 0.0,
    residual_fraction: Any = 0.0,
    retention: Any = 1.0,
) -> np.ndarray:
    """Inverse partition model: activity (GBq) giving a prescribed normal-liver *or* tumour dose."""
    if (normal_liver_dose_gy is None) == (tumour_dose_gy is None):
        raise RadiotrialError("give exactly one of normal_liver_dose_gy or tumour_dose_gy")
    tn = _positive(tn_ratio, "tn_ratio")
    d_n = _arr(normal_liver_dose_gy) if tumour_dose_gy is None else _arr(tumour_dose_gy) / tn
    lsf = _fraction(lung_shunt_fraction, "lung_shunt_fraction")
    res = _fraction(residual_fraction, "residual_fraction")
    mt = _positive(tumour_mass_kg, "tumour_mass_kg")
    mn = _positive(normal_liver_mass_kg, "normal_liver_mass_kg")
    return d_n * (tn * mt + mn) / (k_gy_kg_per_gbq * (1 - lsf) * (1 - res) * _arr(retention))


def lung_dose(
    activity_gbq: Any,
    lung_shunt_fraction: Any,
    k_gy_kg_per_gbq: float,
    *,
    lung_mass_kg: Any = DEFAULT_LUNG_MASS_KG,
    residual_fraction: Any = 0.0,
) -> np.ndarray:
    """D_lung = K A LSF (1 - R) / M_lung (spec 2.2)."""
    lsf = _fraction(lung_shunt_fraction, "lung_shunt_fraction")
    res = _fraction(residual_fraction, "residual_fraction")
    return k_gy_kg_per_gbq * _arr(activity_gbq) * lsf * (1 - res) / _positive(lung_mass_kg, "lung_mass_kg")
