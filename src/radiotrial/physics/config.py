"""Dosimetry section of ``study.yaml``: dose model, dose factor and organ limits.

Every field has a default (``DosimetryConfig()`` is the model study's choice) and a source; see
spec/dosimetry.md. This module imports only pydantic (it is loaded by the light CLI path).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Estimate = Literal["liver_peptide", "liver_upper_bound", "partition", "lung"]
Organ = Literal["normal_liver", "tumour", "kidney", "red_marrow", "lung"]


class OrganLimitSpec(BaseModel):
    """One organ limit (same shape as ``physics/data/organ_limits.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    organ: Organ
    quantity: Literal["absorbed", "bed"] = "absorbed"
    scope: Literal["cumulative", "per_treatment"] = "cumulative"
    value_gy: float = Field(gt=0)
    comparison: Literal["<=", "<"] = "<="
    condition: Literal["always", "risk_factors", "no_risk_factors"] = "always"
    source: str = "study protocol"
    status: str | None = None


class RadiobiologySpec(BaseModel):
    """Linear-quadratic parameters overriding ``physics/data/radiobiology.yaml`` for one organ."""

    model_config = ConfigDict(extra="forbid")

    alpha_beta_gy: float = Field(gt=0)
    t_rep_h: float = Field(gt=0)
    source: str = "study protocol"


class DosimetryConfig(BaseModel):
    """Which dose estimates the study derives per administration, and with which constants.

    Defaults (model study: intra-arterial Y-90-DOTA-lanreotide, a peptide):
    - ``dataset`` ICRP-107: the S-value libraries use it (spec 1.1).
    - ``k_energy`` 'beta' and no ``k_override``: K from the data set's mean beta energy per decay
      and half-life (spec 1.3; Y-90 ICRP-107 49.76 Gy.kg/GBq); set 49.67 or 50 to reproduce papers.
    - ``estimates``: the liver peptide model, its permanent-retention upper bound and the partition
      model (spec 2.2). 'lung' is off by default: the lung shunt of MAA describes microspheres,
      while a peptide passes the lung capillaries.
    - ``retained_fraction`` f = 1 and ``liver_effective_half_life_h`` None (= physical half-life):
      no washout, i.e. the conservative upper bound, until the study supplies measured kinetics
      (spec 2.2 and 6: published lanreotide dose per GBq not available offline; no guesses).
    - ``partition_retention`` 'peptide': the partition model's liver activity is scaled by
      f T_eff/T_p like the liver model ('permanent' = microspheres).
    - ``liver_mass_includes_tumour`` True: ``liver_mass_kg`` is the whole-liver CT mass, so
      M_N = liver - tumour (Ho 1996 partition of the whole liver).
    - ``scintigraphy_counts`` 'total': tumour/normal counts are VOI totals, T/N divides by mass.
    - ``lsf_when_missing`` 0.0: no lung shunt measured for a peptide; None makes doses null.
    - ``lung_mass_kg`` 1.0 (Taranis default, spec 2.2).
    - ``dose_per_gbq``: kidney / red marrow Gy per administered GBq supplied by the study
      physicist (e.g. from the study's own blood and imaging dosimetry, spec 2.4); empty, because
      lanreotide values are not available offline (spec 6: do not hard-code guesses).
    - ``effective_half_life_h``: organ -> T_eff (h) for BED of kidney, red marrow, lung; BED is
      null where neither this nor a model gives T_eff.
    - ``limits`` None: ``physics/data/organ_limits.yaml``; a list replaces that table.
    - ``kidney_risk_factors`` False: kidney BED limit 40 Gy, True: 28 Gy (Bodei 2008).
    """

    model_config = ConfigDict(extra="forbid")

    dataset: Literal["ICRP-107", "ENSDF"] = "ICRP-107"
    k_energy: Literal["beta", "electron"] = "beta"
    k_override: float | None = Field(default=None, gt=0)
    estimates: list[Estimate] = Field(
        default_factory=lambda: ["liver_peptide", "liver_upper_bound", "partition"]
    )
    retained_fraction: float = Field(default=1.0, ge=0, le=1)
    liver_effective_half_life_h: float | None = Field(default=None, gt=0)
    partition_retention: Literal["peptide", "permanent"] = "peptide"
    liver_mass_includes_tumour: bool = True
    scintigraphy_counts: Literal["total", "concentration"] = "total"
    scintigraphy_tracers: list[str] | None = None
    lsf_when_missing: float | None = Field(default=0.0, ge=0, lt=1)
    lung_mass_kg: float = Field(default=1.0, gt=0)
    dose_per_gbq: dict[Literal["kidney", "red_marrow"], float] = Field(default_factory=dict)
    effective_half_life_h: dict[Organ, float] = Field(default_factory=dict)
    radiobiology: dict[Organ, RadiobiologySpec] = Field(default_factory=dict)
    limits: list[OrganLimitSpec] | None = None
    kidney_risk_factors: bool = False
