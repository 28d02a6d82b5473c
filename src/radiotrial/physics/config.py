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

    organ: Organ = Field(
        description="Organ at risk: normal_liver, tumour, kidney, red_marrow or lung."
    )
    quantity: Literal["absorbed", "bed"] = Field(
        "absorbed",
        description="'absorbed' (default): physical absorbed dose; 'bed': biologically effective "
        "dose (linear-quadratic model, radiobiology).",
    )
    scope: Literal["cumulative", "per_treatment"] = Field(
        "cumulative",
        description="'cumulative' (default): summed over all cycles; 'per_treatment': each "
        "administration alone.",
    )
    value_gy: float = Field(gt=0, description="The limit in Gy.")
    comparison: Literal["<=", "<"] = Field(
        "<=",
        description="As the source words it: '<=' (default) means reaching the value is still "
        "allowed, '<' means reaching it is already a violation.",
    )
    condition: Literal["always", "risk_factors", "no_risk_factors"] = Field(
        "always",
        description="When the limit applies: 'always' (default), 'risk_factors' (hypertension or "
        "diabetes present; see kidney_risk_factors) or 'no_risk_factors'.",
    )
    source: str = Field("study protocol", description="Where the limit comes from (citation).")
    status: str | None = Field(
        None,
        description="Provenance mark as in organ_limits.yaml: V = checked against the abstract "
        "in the spec, L = literature value, confirm; null = not given.",
    )


class RadiobiologySpec(BaseModel):
    """Linear-quadratic parameters overriding ``physics/data/radiobiology.yaml`` for one organ."""

    model_config = ConfigDict(extra="forbid")

    alpha_beta_gy: float = Field(gt=0, description="alpha/beta ratio in Gy (spec 2.4).")
    t_rep_h: float = Field(gt=0, description="Repair half-time in hours (spec 2.4).")
    source: str = Field("study protocol", description="Where the values come from (citation).")


class DosimetryConfig(BaseModel):
    """Which dose estimates the study derives per administration, and with which constants.

    Defaults: the model study (intra-arterial Y-90-DOTA-lanreotide, a peptide); each field's
    description gives its source in spec/dosimetry.md.
    """

    model_config = ConfigDict(extra="forbid")

    dataset: Literal["ICRP-107", "ENSDF"] = Field(
        "ICRP-107",
        description="Nuclear decay data set: ICRP-107 (default; the S-value libraries use it, "
        "spec 1.1) or ENSDF.",
    )
    k_energy: Literal["beta", "electron"] = Field(
        "beta",
        description="Energy behind the dose factor K (Gy.kg/GBq, complete local absorption): "
        "'beta' (default) = the data set's mean beta energy per decay and half-life (spec 1.3; "
        "Y-90 ICRP-107 49.76 Gy.kg/GBq); 'electron' = all non-penetrating electrons.",
    )
    k_override: float | None = Field(
        default=None,
        gt=0,
        description="Use this K (Gy.kg/GBq) instead of computing it, e.g. 49.67 or 50 to "
        "reproduce published results; null (default) = computed (spec 1.3).",
    )
    estimates: list[Estimate] = Field(
        default_factory=lambda: ["liver_peptide", "liver_upper_bound", "partition"],
        description="Dose estimates derived per administration: liver_peptide, "
        "liver_upper_bound (its permanent-retention bound), partition (spec 2.2), lung. 'lung' is "
        "off by default: the lung shunt of MAA describes microspheres, while a peptide passes the "
        "lung capillaries.",
    )
    retained_fraction: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Fraction f of the activity retained in the liver. Default 1 (with no "
        "liver_effective_half_life_h): no washout, the conservative upper bound, until the study "
        "supplies measured kinetics (spec 2.2 and 6: published lanreotide dose per GBq not "
        "available offline; no guesses).",
    )
    liver_effective_half_life_h: float | None = Field(
        default=None,
        gt=0,
        description="Effective half-life of the retained liver activity in hours; null (default) "
        "= the physical half-life (no washout; spec 2.2).",
    )
    partition_retention: Literal["peptide", "permanent"] = Field(
        "peptide",
        description="'peptide' (default): the partition model's liver activity is scaled by "
        "f x T_eff / T_p like the liver model; 'permanent': microspheres (spec 2.2).",
    )
    liver_mass_includes_tumour: bool = Field(
        True,
        description="True (default): liver_mass_kg is the whole-liver CT mass, so the normal "
        "liver mass is liver - tumour (Ho et al. 1996 partition of the whole liver); False: it is "
        "the normal liver alone.",
    )
    scintigraphy_counts: Literal["total", "concentration"] = Field(
        "total",
        description="'total' (default): tumour/normal-liver counts are VOI totals and the T/N "
        "ratio divides by mass; 'concentration': counts are already per unit mass.",
    )
    scintigraphy_tracers: list[str] | None = Field(
        None,
        description="Use only scans with these tracers (as recorded) for T/N ratios and lung "
        "shunt; null (default) = every scan.",
    )
    lsf_when_missing: float | None = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="Lung shunt fraction used when none is measured: 0 (default; none for a "
        "peptide); null makes the doses that need it null.",
    )
    lung_mass_kg: float = Field(
        default=1.0, gt=0, description="Lung mass in kg for the lung dose (1.0: Taranis default, "
        "spec 2.2)."
    )
    dose_per_gbq: dict[Literal["kidney", "red_marrow"], float] = Field(
        default_factory=dict,
        description="Kidney / red marrow absorbed dose in Gy per administered GBq, supplied by the "
        "study physicist (e.g. from the study's own blood and imaging dosimetry, spec 2.4), as "
        "{kidney: ..., red_marrow: ...}. Empty by default: lanreotide values are not available "
        "offline (spec 6: no hard-coded guesses).",
    )
    effective_half_life_h: dict[Organ, float] = Field(
        default_factory=dict,
        description="Organ -> effective half-life T_eff in hours for the BED of kidney, red "
        "marrow and lung; BED is null where neither this nor a model gives T_eff (spec 2.4).",
    )
    radiobiology: dict[Organ, RadiobiologySpec] = Field(
        default_factory=dict,
        description="Organ -> linear-quadratic parameters replacing those of "
        "physics/data/radiobiology.yaml for that organ (spec 2.4).",
    )
    limits: list[OrganLimitSpec] | None = Field(
        None,
        description="Organ limits checked for cumulative dose / BED; null (default) = the table "
        "physics/data/organ_limits.yaml; a list replaces that table entirely.",
    )
    kidney_risk_factors: bool = Field(
        False,
        description="Whether the patients have kidney risk factors (hypertension, diabetes): "
        "False (default) = kidney BED limit 40 Gy, True = 28 Gy (Bodei et al., EJNMMI 2008;35:1847).",
    )
