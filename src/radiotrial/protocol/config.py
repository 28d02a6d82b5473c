"""Protocol section of ``study.yaml``: cycle interval, assessment window, eligibility, retreatment.

Defaults are the model study's (McStay et al., *Radiology* 2005;237:718, ``study/abstract.txt``):
cycles every 8 weeks, assessment 8-12 weeks after each cycle, histologically proven NET liver
metastases with radiologic progression and high In-111 pentetreotide uptake. Where the abstract
is silent (maximum cycles, look-back windows, lab thresholds, follow-up interval) the default is
the usual PRRT practice cited at the field, and is a study choice to be set in ``study.yaml``.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from radiotrial.units import LAB_CANONICAL

_KIND = ("Rule type, which selects the rule and its other fields: histology, liver_metastases, "
         "progression, scintigraphy, age, lab, performance_status or recorded.")

#: Lab analytes with their canonical units (docs/import-format.md).
CANONICAL_LAB_UNITS: dict[str, str] = LAB_CANONICAL  # one source: radiotrial.units


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        None,
        description="Criterion name shown in results; must be unique among the rules. Default: "
        "derived from the rule (e.g. 'PLAT >= 100 10^9/L').",
    )

    @abstractmethod
    def default_name(self) -> str:
        """The criterion name used when the rule gives none (e.g. ``PLAT >= 100 10^9/L``)."""

    @model_validator(mode="after")
    def _fill_name(self) -> _Rule:
        if self.name is None:
            self.name = self.default_name()
        return self


class HistologyRule(_Rule):
    """Histology: ``subject.histology`` matches one of the allowed terms (case-insensitive)."""

    kind: Literal["histology"] = Field("histology", description=_KIND)
    allowed: list[str] = Field(
        default_factory=lambda: ["neuroendocrine"],
        min_length=1,
        description="Accepted histology terms (case-insensitive). Default: neuroendocrine (model "
        "study: 'histologically proved ... neuroendocrine cancers', McStay et al. 2005).",
    )
    match: Literal["contains", "exact"] = Field(
        "contains",
        description="'contains' (default) accepts free text such as 'well-differentiated "
        "neuroendocrine carcinoma' for the term 'neuroendocrine'; 'exact' needs the whole text.",
    )

    def default_name(self) -> str:
        return "histology"


class LiverMetastasesRule(_Rule):
    """Liver metastases: ``subject.liver_metastases`` is true (model study: NET liver metastases)."""

    kind: Literal["liver_metastases"] = Field("liver_metastases", description=_KIND)

    def default_name(self) -> str:
        return "liver_metastases"


class ProgressionRule(_Rule):
    """Progression: radiologic progression (``subject.progression_date``) shortly before enrolment."""

    kind: Literal["progression"] = Field("progression", description=_KIND)
    within_months: int = Field(
        12,
        ge=1,
        le=120,
        description="Progression date must lie in [enrolment_date - within_months, "
        "enrolment_date], both inclusive, in calendar months (12 months before 2004-03-31 is "
        "2003-03-31). The abstract says only 'radiologic evidence of disease progression'; 12 is "
        "the stricter common PRRT entry window (NETTER-1 used 3 years) and a study setting.",
    )

    def default_name(self) -> str:
        return "progression"


class ScintigraphyRule(_Rule):
    """Scintigraphy: a recent receptor scan shows high tumour uptake (Krenning grade).

    The latest scan with the tracer in the window is used.
    """

    kind: Literal["scintigraphy"] = Field("scintigraphy", description=_KIND)
    tracer: str = Field(
        "In-111 pentetreotide",
        description="Tracer of the qualifying scan, as recorded in scintigraphy.csv (model study: "
        "In-111 pentetreotide).",
    )
    within_days: int = Field(
        90,
        ge=0,
        description="The scan must lie in [reference date - within_days, reference date], "
        "inclusive; the latest such scan is used. 90 days: a study setting.",
    )
    min_uptake_grade: int = Field(
        3,
        ge=0,
        le=4,
        description="Minimum Krenning uptake grade (Krenning et al., Ann N Y Acad Sci "
        "1994;733:416: 1 very low, 2 <= normal liver, 3 > normal liver, 4 > spleen/kidney); the "
        "model study's 'high uptake' is taken as grade >= 3.",
    )

    def default_name(self) -> str:
        return f"scintigraphy {self.tracer} grade>={self.min_uptake_grade}"


class AgeRule(_Rule):
    """Age: age at enrolment within [min_years, max_years], inclusive.

    Uses ``subject.age``; when only ``birth_year`` is recorded the age is one of
    year(enrolment) - birth_year - 1 or year(enrolment) - birth_year, and the criterion is met
    only when both are in range, not met when both are out, otherwise not assessable
    (no birth dates are stored, docs/import-format.md).
    """

    kind: Literal["age"] = Field("age", description=_KIND)
    min_years: float | None = Field(
        18,
        description="Lowest age in years (inclusive); null = no lower bound. Default 18: adults. "
        "With only birth_year recorded, both possible ages must be in range.",
    )
    max_years: float | None = Field(
        None, description="Highest age in years (inclusive); null (default) = no upper bound."
    )

    def default_name(self) -> str:
        return "age"


class LabThreshold(BaseModel):
    """Lab threshold: the last lab value of an analyte compared with a threshold.

    Used as is for retreatment, and by :class:`LabRule` for entry.
    """

    model_config = ConfigDict(extra="forbid")

    analyte: Literal["HGB", "WBC", "NEUT", "LYMPH", "PLAT", "ALT", "AST", "ALP", "GGT", "BILI",
                     "CREAT"] = Field(
        description="Lab analyte code (HGB, WBC, NEUT, LYMPH, PLAT, ALT, AST, ALP, GGT, BILI, "
        "CREAT); values are compared in its canonical unit (docs/import-format.md: HGB g/dL, "
        "blood counts 10^9/L, enzymes U/L, BILI and CREAT umol/L).",
    )
    op: Literal[">=", "<=", ">", "<"] = Field(
        description="Comparison the value must pass: value op threshold (>=, <=, >, <)."
    )
    threshold: float = Field(
        description="Threshold in the analyte's canonical unit, or a multiple of ULN/LLN when "
        "relative_to is uln/lln."
    )
    relative_to: Literal["absolute", "uln", "lln"] = Field(
        "absolute",
        description="'absolute' (default): threshold in the canonical unit; 'uln' / 'lln': "
        "threshold x the lab row's own ULN / LLN (a missing ULN/LLN makes the check not "
        "assessable unless fallback_limit is set).",
    )
    fallback_limit: float | None = Field(
        None,
        gt=0,
        description="ULN/LLN (canonical unit) used when the lab row has none; null (default): "
        "such a value is not assessable, since reference ranges are laboratory-specific.",
    )

    def label(self) -> str:
        unit = {"absolute": CANONICAL_LAB_UNITS[self.analyte], "uln": "x ULN",
                "lln": "x LLN"}[self.relative_to]
        return f"{self.analyte} {self.op} {self.threshold:g} {unit}"


class LabRule(_Rule, LabThreshold):
    """Lab: the last lab value of an analyte before the reference date passes a threshold."""

    kind: Literal["lab"] = Field("lab", description=_KIND)
    within_days: int = Field(
        28,
        ge=0,
        description="Look-back window: [reference date - within_days, reference instant], so a "
        "sample taken after the first administration on the same day is not used. 28 days: the "
        "usual PRRT screening window, a study setting.",
    )

    def default_name(self) -> str:
        return self.label()


class PerformanceStatusRule(_Rule):
    """Performance status: ``subject.performance_status`` (ECOG at baseline) at most max_ecog."""

    kind: Literal["performance_status"] = Field("performance_status", description=_KIND)
    max_ecog: int = Field(
        2,
        ge=0,
        le=4,
        description="Highest ECOG performance status accepted. Default 2, the usual PRRT/SIRT "
        "entry limit (ECOG 0-2; Karnofsky >= 60 in NETTER-1).",
    )

    def default_name(self) -> str:
        return f"ECOG <= {self.max_ecog}"


class RecordedRule(_Rule):
    """Recorded: a criterion recorded by the site in ``eligibility.csv`` (e.g. informed consent).

    For criteria that are not derivable from other records.
    """

    kind: Literal["recorded"] = Field("recorded", description=_KIND)
    criterion: str = Field(
        description="Criterion code as recorded in the criterion column of eligibility.csv "
        "(its met column says yes/no)."
    )

    def default_name(self) -> str:
        return self.criterion


EligibilityRule = Annotated[
    HistologyRule | LiverMetastasesRule | ProgressionRule | ScintigraphyRule | AgeRule | LabRule | PerformanceStatusRule | RecordedRule,
    Field(discriminator="kind"),
]


def _default_rules() -> list:
    """The model study's entry criteria (abstract) plus the usual PRRT lab limits.

    Lab limits: platelets >= 100 x10^9/L, neutrophils >= 1.5 x10^9/L, haemoglobin >= 9 g/dL,
    bilirubin <= 2 x ULN, creatinine <= 1.5 x ULN (issue #8; in line with common PRRT protocols,
    e.g. Kwekkeboom et al., *J Clin Oncol* 2008;26:2124 and the EANM PRRT guideline,
    Bodei et al., *EJNMMI* 2013;40:800).
    """
    return [
        HistologyRule(),
        LiverMetastasesRule(),
        ProgressionRule(),
        ScintigraphyRule(),
        AgeRule(),
        LabRule(analyte="PLAT", op=">=", threshold=100),
        LabRule(analyte="NEUT", op=">=", threshold=1.5),
        LabRule(analyte="HGB", op=">=", threshold=9),
        LabRule(analyte="BILI", op="<=", threshold=2, relative_to="uln"),
        LabRule(analyte="CREAT", op="<=", threshold=1.5, relative_to="uln"),
        PerformanceStatusRule(),
    ]


class EligibilityConfig(BaseModel):
    """Entry criteria as declarative rules over the recorded data."""

    model_config = ConfigDict(extra="forbid")

    rules: list[EligibilityRule] = Field(
        default_factory=_default_rules,
        description="Entry criteria; a subject is eligible when every rule is met. Defaults: the "
        "model study's criteria (McStay et al. 2005 abstract) plus the usual PRRT lab limits "
        "(issue #8; Kwekkeboom et al., J Clin Oncol 2008;26:2124; EANM PRRT guideline, Bodei et "
        "al., EJNMMI 2013;40:800). Each rule starts with its kind; names must be unique.",
    )
    reference: Literal["first_treatment", "enrolment"] = Field(
        "first_treatment",
        description="Date the look-back windows end on: 'first_treatment' (default; issue #8 "
        "'within N days before first treatment') = the first administration, or "
        "'enrolment' = enrolment_date.",
    )
    untreated_reference: Literal["enrolment", "none"] = Field(
        "enrolment",
        description="For a subject never treated: 'enrolment' (default) uses enrolment_date as "
        "the reference; 'none' makes windowed rules not assessable.",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> EligibilityConfig:
        names = [r.name for r in self.rules]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"eligibility rule names must be unique; repeated: {dup}")
        return self


class RetreatmentConfig(BaseModel):
    """Conditions for giving the next cycle (readiness); any failed or uncheckable one holds it."""

    model_config = ConfigDict(extra="forbid")

    labs: list[LabThreshold] = Field(
        default_factory=lambda: [
            LabThreshold(analyte="PLAT", op=">=", threshold=75),
            LabThreshold(analyte="NEUT", op=">=", threshold=1.0),
        ],
        description="Lab limits for the next cycle; the last value within lab_within_days must "
        "pass each, and a missing value holds the cycle. Defaults: platelets >= 75 x10^9/L, "
        "neutrophils >= 1.0 x10^9/L (issue #8; the usual PRRT retreatment limits, cf. EANM PRRT "
        "guideline, Bodei et al., EJNMMI 2013;40:800).",
    )
    lab_within_days: int = Field(
        14,
        ge=0,
        description="Lab values count when taken at most this many days before the day of the "
        "cycle (a study setting).",
    )
    max_toxicity_grade: int = Field(
        1,
        ge=0,
        le=4,
        description="Toxicity must be back to <= this grade: graded recent labs (toxicity "
        "section's criteria) and adverse events ongoing on the day of the cycle. Default 1.",
    )
    toxicity_attributions: list[
        Literal["unrelated", "unlikely", "possible", "probable", "definite", "unknown"]
    ] = Field(
        default_factory=lambda: ["possible", "probable", "definite", "unknown"],
        description="Adverse events with these attributions (unrelated, unlikely, possible, "
        "probable, definite, unknown) count as toxicity; a missing attribution counts as unknown.",
    )
    max_cumulative_activity_gbq: float | None = Field(
        None,
        gt=0,
        description="Simple cap on given + planned activity in GBq (calibrated activities) that "
        "needs no dose model; null (default) = no cap.",
    )
    dose_check: Literal["if_available", "required", "off"] = Field(
        "if_available",
        description="Cumulative absorbed dose / BED with the planned activity against the organ "
        "limits of the dosimetry section: 'if_available' (default) checks when the dosimetry "
        "engine is installed; 'required' holds the cycle when it cannot be checked; 'off' never "
        "checks.",
    )
    hold_on_progression: bool = Field(
        True,
        description="Hold the next cycle once progression is documented after first treatment "
        "(tumour assessment with non-target PD or new lesions).",
    )


class ProtocolConfig(BaseModel):
    """Treatment and assessment schedule of the protocol (defaults: the model study's 8-week cycles)."""

    model_config = ConfigDict(extra="forbid")

    cycle_interval_days: int = Field(
        56,
        ge=1,
        description="Planned days between cycles: 'treatment cycles were performed in 8-week "
        "intervals' (model study abstract).",
    )
    cycle_tolerance_days: int = Field(
        7,
        ge=0,
        description="A cycle is on time within ± this many days of its planned date, inclusive "
        "(49 and 63 are on time for 56 ± 7). Default 7 (issue #8).",
    )
    cycle_anchor: Literal["previous_cycle", "first_treatment"] = Field(
        "previous_cycle",
        description="Planned date of cycle k+1: actual cycle k + interval ('previous_cycle', "
        "default: a delay shifts the following cycles) or first treatment + k x interval "
        "('first_treatment': a fixed grid).",
    )
    max_cycles: int = Field(
        4,
        ge=1,
        description="Planned number of cycles; one more is a deviation. Not stated in the "
        "abstract (36 treatments in 23 patients); 4 is a study setting (four cycles is the usual "
        "PRRT course, e.g. NETTER-1).",
    )
    assessment_window_start_days: int = Field(
        56,
        ge=0,
        description="First day of the response-assessment window after each cycle, inclusive "
        "('assessed 8-12 weeks after each treatment cycle', abstract: 8 weeks).",
    )
    assessment_window_end_days: int = Field(
        84,
        ge=0,
        description="Last day of the assessment window after each cycle, inclusive (abstract: "
        "12 weeks); not before assessment_window_start_days.",
    )
    assessment_sources: list[Literal["tumour_assessment", "measurement", "clinical", "marker"]] = (
        Field(
            default_factory=lambda: ["tumour_assessment", "measurement"],
            min_length=1,
            description="Records that count as an assessment: tumour_assessment, measurement "
            "(tumour imaging, the default), clinical, marker.",
        )
    )
    stale_after_days: int | None = Field(
        56,
        ge=0,
        description="Without an end-of-treatment record, a next cycle or assessment overdue by "
        "more than this many days past its window is taken as not going to happen: it leaves the "
        "worklist (a missed assessment stays a deviation) and a subject whose next cycle is that "
        "late is 'off: cycles stopped' and moves to follow-up. Default 56 (one cycle interval; a "
        "study setting); null keeps them overdue indefinitely.",
    )
    follow_up_interval_days: int = Field(
        90,
        ge=1,
        description="Days from the last contact to the next follow-up visit after treatment ends "
        "(every 3 months: a study setting, the abstract gives none).",
    )
    follow_up_tolerance_days: int = Field(
        14,
        ge=0,
        description="A follow-up visit is on time within ± this many days of its planned date "
        "(inclusive; a study setting).",
    )
    eligibility: EligibilityConfig = Field(
        default_factory=EligibilityConfig,
        description="Entry criteria: rules over the recorded data and the date their look-back "
        "windows end on.",
    )
    retreatment: RetreatmentConfig = Field(
        default_factory=RetreatmentConfig,
        description="Conditions for giving the next cycle (readiness); a check that cannot be "
        "made for lack of data holds the cycle.",
    )

    @model_validator(mode="after")
    def _window_in_order(self) -> ProtocolConfig:
        if self.assessment_window_end_days < self.assessment_window_start_days:
            raise ValueError(
                "assessment_window_end_days "
                f"({self.assessment_window_end_days}) is before assessment_window_start_days "
                f"({self.assessment_window_start_days})"
            )
        return self
