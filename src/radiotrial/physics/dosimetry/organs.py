"""Kidney and red-marrow absorbed dose from supplied time-integrated activities (spec 2.4).

Kidney: D = TIA_kid * S(kid <- kid) + cross-dose; default S is the non-penetrating self-dose
Delta_np / M_kid (spec 1.3, 2.1), adequate for a pure beta emitter such as Y-90.
Red marrow, EANM blood method (Hindorf C et al., Eur J Nucl Med Mol Imaging 2010;37:1238):
    TIA_RM = [TIA]_blood * RMBLR * m_RM,  RMBLR = 1 (peptides) or 0.19 / (1 - HCT) (antibodies)
    D_RM = TIA_RM S(RM <- RM) + TIA_RB S(RM <- RB)
    m_RM = m_RM,phantom * m_TB / m_TB,phantom
Blood TIA concentration is per kg of blood (GBq.h/kg), marrow mass in kg.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from radiotrial.errors import RadiotrialError
from radiotrial.physics.dosimetry.mird import self_dose_s
from radiotrial.physics.nuclides import DEFAULT_DATASET

#: Red-marrow extracellular fluid fraction for antibodies (Hindorf 2010).
RMECFF = 0.19


def kidney_dose(
    tia_gbq_h: Any,
    kidney_mass_kg: Any,
    nuclide: str = "Y-90",
    *,
    s_value: Any = None,
    cross_dose_gy: Any = 0.0,
    dataset: str = DEFAULT_DATASET,
) -> np.ndarray:
    """Kidney absorbed dose in Gy; ``s_value`` in Gy/(GBq.h) or the self-dose default."""
    s = self_dose_s(kidney_mass_kg, nuclide, dataset=dataset) if s_value is None else np.asarray(s_value, float)
    return np.asarray(tia_gbq_h, float) * s + np.asarray(cross_dose_gy, float)


def rmblr(kind: Literal["peptide", "antibody"] = "peptide", hematocrit: Any = None) -> np.ndarray:
    """Red-marrow-to-blood activity-concentration ratio (Hindorf 2010)."""
    if kind == "peptide":
        return np.asarray(1.0)
    if kind == "antibody":
        if hematocrit is None:
            raise RadiotrialError("hematocrit: required for the antibody RMBLR = 0.19/(1 - HCT)")
        hct = np.asarray(hematocrit, float)
        if np.any((hct <= 0) | (hct >= 1)):
            raise RadiotrialError(f"hematocrit: must be a fraction within 0 and 1, got {hematocrit!r}")
        return RMECFF / (1 - hct)
    raise RadiotrialError(f"kind: must be 'peptide' or 'antibody', got {kind!r}")


def scale_marrow_mass(reference_marrow_kg: Any, body_mass_kg: Any, reference_body_kg: Any) -> np.ndarray:
    """m_RM = m_RM,ph * m_TB / m_TB,ph (Hindorf 2010)."""
    return np.asarray(reference_marrow_kg, float) * np.asarray(body_mass_kg, float) / np.asarray(reference_body_kg, float)


def red_marrow_tia_blood(blood_tia_gbq_h_per_kg: Any, marrow_mass_kg: Any, ratio: Any = 1.0) -> np.ndarray:
    """TIA_RM = [TIA]_blood * RMBLR * m_RM in GBq.h (Hindorf 2010)."""
    return np.asarray(blood_tia_gbq_h_per_kg, float) * np.asarray(ratio, float) * np.asarray(marrow_mass_kg, float)


def red_marrow_dose(
    tia_rm_gbq_h: Any,
    marrow_mass_kg: Any,
    nuclide: str = "Y-90",
    *,
    s_rm_rm: Any = None,
    tia_rb_gbq_h: Any = 0.0,
    s_rm_rb: Any = 0.0,
    dataset: str = DEFAULT_DATASET,
) -> np.ndarray:
    """D_RM = TIA_RM S(RM<-RM) + TIA_RB S(RM<-RB); default S(RM<-RM) = Delta_np / m_RM."""
    s = self_dose_s(marrow_mass_kg, nuclide, dataset=dataset) if s_rm_rm is None else np.asarray(s_rm_rm, float)
    return np.asarray(tia_rm_gbq_h, float) * s + np.asarray(tia_rb_gbq_h, float) * np.asarray(s_rm_rb, float)
