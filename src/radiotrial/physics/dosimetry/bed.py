"""Biologically effective dose, linear-quadratic model (spec/dosimetry.md 2.4).

Instantaneous uptake, mono-exponential clearance with effective half-life T_eff, repair
half-time T_rep (Dale RG, Br J Radiol 1985;58:515; Bodei L et al., EJNMMI 2008;35:1847):
    BED = D + G D^2 / (alpha/beta),  G = T_rep / (T_rep + T_eff)
    EQD2 = BED / (1 + 2/(alpha/beta))
Cycles 8 weeks apart repair fully between cycles, so BED_tot = sum_i [D_i + G_i D_i^2/(alpha/beta)].
Organ parameters are data (``data/radiobiology.yaml``): kidney alpha/beta 2.6 Gy, T_rep 2.8 h.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from radiotrial.errors import RadiotrialError
from radiotrial.physics._data import load


@dataclass(frozen=True)
class Radiobiology:
    """Linear-quadratic parameters of one organ with their source."""

    alpha_beta_gy: float
    t_rep_h: float
    source: str


def radiobiology(organ: str) -> Radiobiology:
    """Default LQ parameters of ``organ`` from ``data/radiobiology.yaml``."""
    table = load("radiobiology")["parameters"]
    if organ not in table:
        raise RadiotrialError(f"organ {organ!r} has no default alpha/beta; known: {', '.join(table)}; "
                              "give alpha_beta_gy and t_rep_h")
    p = table[organ]
    return Radiobiology(float(p["alpha_beta_gy"]), float(p["t_rep_h"]), p["source"])


def g_factor(t_rep_h: Any, t_eff_h: Any) -> np.ndarray:
    """Dose-protraction factor G = T_rep / (T_rep + T_eff) for mono-exponential clearance."""
    t_rep, t_eff = np.asarray(t_rep_h, float), np.asarray(t_eff_h, float)
    if np.any(t_rep <= 0) or np.any(t_eff <= 0):
        raise RadiotrialError("t_rep_h and t_eff_h must be > 0")
    return t_rep / (t_rep + t_eff)


def bed(dose_gy: Any, alpha_beta_gy: Any, *, g: Any = None, t_rep_h: Any = None, t_eff_h: Any = None) -> np.ndarray:
    """BED = D + G D^2/(alpha/beta); give ``g`` or both ``t_rep_h`` and ``t_eff_h``.

    With alpha/beta = inf (no quadratic term) BED equals D.
    """
    if g is None:
        if t_rep_h is None or t_eff_h is None:
            raise RadiotrialError("bed: give g or both t_rep_h and t_eff_h")
        g = g_factor(t_rep_h, t_eff_h)
    d = np.asarray(dose_gy, float)
    ab = np.asarray(alpha_beta_gy, float)
    if np.any(ab <= 0):
        raise RadiotrialError(f"alpha_beta_gy: must be > 0, got {alpha_beta_gy!r}")
    return d + np.asarray(g, float) * d * d / ab


def cumulative_bed(
    doses_gy: Any, alpha_beta_gy: float, *, t_rep_h: float, t_eff_h: Any, axis: int = -1
) -> np.ndarray:
    """Sum of per-cycle BEDs (full repair between cycles); ``t_eff_h`` per cycle or shared."""
    return np.sum(bed(doses_gy, alpha_beta_gy, t_rep_h=t_rep_h, t_eff_h=t_eff_h), axis=axis)


def eqd2(bed_gy: Any, alpha_beta_gy: Any) -> np.ndarray:
    """Equivalent dose in 2-Gy fractions: BED / (1 + 2/(alpha/beta))."""
    return np.asarray(bed_gy, float) / (1 + 2 / np.asarray(alpha_beta_gy, float))


def max_dose_for_bed(bed_headroom_gy: Any, alpha_beta_gy: Any, g: Any) -> np.ndarray:
    """Largest D with D + G D^2/(alpha/beta) <= H: D = (sqrt(1 + 4 c H) - 1)/(2 c), c = G/(alpha/beta)."""
    h = np.maximum(np.asarray(bed_headroom_gy, float), 0.0)
    c = np.asarray(g, float) / np.asarray(alpha_beta_gy, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c > 0, (np.sqrt(1 + 4 * c * h) - 1) / (2 * c), h)


LN2 = math.log(2)
