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

#: Lab analytes with their canonical units (docs/import-format.md).
CANONICAL_LAB_UNITS: dict[str, str] = {
    "HGB": "g/dL",
    "WBC": "10^9/L",
    "NEUT": "10^9/L",
    "LYMPH": "10^9/L",
    "PLAT": "10^9/L",
    "ALT": "U/L",
    "AST": "U/L",
    "ALP": "U/L",
    "GGT": "U/L",
    "BILI": "umol/L",
    "CREAT": "umol/L",
}


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Criterion name shown in results; defaults to one derived from the rule.
    name: str | None = None

    @abstractmethod
    def default_name(self) -> str:
        """The criterion name used when the rule gives none (e.g. ``PLAT >= 100 10^9/L``)."""

    @model_validator(mode="after")
    def _fill_name(self) -> _Rule:
        if self.name is None:
            self.name = self.default_name()
        return self


class HistologyRule(_Rule):
    """``subject.histology`` matches one of ``allowed`` (case-insensitive).

    ``match="contains"`` (default) accepts free text such as "well-differentiated neuroendocrine
    carcinoma" for the allowed term "neuroendocrine"; ``"exact"`` needs the whole text.
    Model study: "histologically proved ... neuroendocrine cancers".
    """

    kind: Literal["histology"] = "histology"
    allowed: list[str] = Field(default_factory=lambda: ["neuroendocrine"], min_length=1)
    match: Literal["contains", "exact"] = "contains"

    def default_name(self) -> str:
        return "histology"


class LiverMetastasesRule(_Rule):
    """``subject.liver_metastases`` is true (model study: NET liver metastases)."""

    kind: Literal["liver_metastases"] = "liver_metastases"

    def default_name(self) -> str:
        return "liver_metastases"


class ProgressionRule(_Rule):
    """``subject.progression_date`` lies within ``within_months`` calendar months before enrolment.

    Window: ``enrolment_date - within_months`` <= progression_date <= ``enrolment_date`` (both
    inclusive; calendar months, so 12 months before 2004-03-31 is 2003-03-31). The abstract
    says only "radiologic evidence of disease progression"; 12 months is the usual PRRT entry
    window (e.g. NETTER-1 used progression within 3 years; 12 months is the stricter common
    choice) and is a study setting.
    """

    kind: Literal["progression"] = "progression"
    within_months: int = Field(12, ge=1, le=120)

    def default_name(self) -> str:
        return "progression"


class ScintigraphyRule(_Rule):
    """A scan with ``tracer`` within ``within_days`` before the reference date with Krenning
    uptake grade >= ``min_uptake_grade``.

    The latest such scan in the window is used (scan_date in [reference - within_days,
    reference], inclusive). Krenning scale (Krenning et al., *Ann N Y Acad Sci* 1994;733:416):
    1 very low, 2 <= normal liver, 3 > normal liver, 4 > spleen/kidney; "high uptake" in the
    model study is taken as grade >= 3.
    """

    kind: Literal["scintigraphy"] = "scintigraphy"
    tracer: str = "In-111 pentetreotide"
    within_days: int = Field(90, ge=0)
    min_uptake_grade: int = Field(3, ge=0, le=4)

    def default_name(self) -> str:
        return f"scintigraphy {self.tracer} grade>={self.min_uptake_grade}"


class AgeRule(_Rule):
    """Age at enrolment in [``min_years``, ``max_years``] (inclusive; ``None`` = no bound).

    Uses ``subject.age``; when only ``birth_year`` is recorded the age is one of
    year(enrolment) - birth_year - 1 or year(enrolment) - birth_year, and the criterion is met
    only when both are in range, not met when both are out, otherwise not assessable
    (no birth dates are stored, docs/import-format.md). Default: adults (>= 18).
    """

    kind: Literal["age"] = "age"
    min_years: float | None = 18
    max_years: float | None = None

    def default_name(self) -> str:
        return "age"


class LabThreshold(BaseModel):
    """A lab value compared with a threshold in the analyte's canonical unit
    (docs/import-format.md); used as is for retreatment, and by :class:`LabRule` for entry.

    ``relative_to="uln"`` / ``"lln"`` multiplies the threshold by the row's own ULN / LLN
    (a missing ULN/LLN makes the check not assessable unless ``fallback_limit`` is set).
    """

    model_config = ConfigDict(extra="forbid")

    analyte: Literal["HGB", "WBC", "NEUT", "LYMPH", "PLAT", "ALT", "AST", "ALP", "GGT", "BILI",
                     "CREAT"]
    op: Literal[">=", "<=", ">", "<"]
    threshold: float
    relative_to: Literal["absolute", "uln", "lln"] = "absolute"
    #: ULN/LLN (canonical unit) used when the lab row has none; ``None`` (default): such a
    #: value is not assessable, since reference ranges are laboratory-specific.
    fallback_limit: float | None = Field(None, gt=0)

    def label(self) -> str:
        unit = {"absolute": CANONICAL_LAB_UNITS[self.analyte], "uln": "x ULN",
                "lln": "x LLN"}[self.relative_to]
        return f"{self.analyte} {self.op} {self.threshold:g} {unit}"


class LabRule(_Rule, LabThreshold):
    """Entry criterion: the last lab value of ``analyte`` within ``within_days`` before the
    reference date compared with a threshold (see :class:`LabThreshold`).

    The window is [reference date - within_days, reference instant] so that a sample taken
    after the first administration on the same day is not used.
    """

    kind: Literal["lab"] = "lab"
    within_days: int = Field(28, ge=0)

    def default_name(self) -> str:
        return self.label()


class PerformanceStatusRule(_Rule):
    """``subject.performance_status`` (ECOG at baseline) <= ``max_ecog``.

    Default 2, the usual PRRT/SIRT entry limit (e.g. ECOG 0-2; Karnofsky >= 60 in NETTER-1).
    """

    kind: Literal["performance_status"] = "performance_status"
    max_ecog: int = Field(2, ge=0, le=4)

    def default_name(self) -> str:
        return f"ECOG <= {self.max_ecog}"


class RecordedRule(_Rule):
    """A criterion recorded by the site in ``eligibility.csv`` (``criterion`` code, ``met``).

    For criteria that are not derivable from other records (e.g. informed consent).
    """

    kind: Literal["recorded"] = "recorded"
    criterion: str

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
    """Entry criteria as declarative rules over the recorded data.

    ``reference``: the date look-back windows end on. ``"first_treatment"`` (default; the issue's
    "within N days before first treatment") uses the first administration; a subject without one
    falls back to ``enrolment_date`` when ``untreated_reference="enrolment"`` (default) or gets
    "not assessable" for windowed rules when ``"none"``.
    """

    model_config = ConfigDict(extra="forbid")

    rules: list[EligibilityRule] = Field(default_factory=_default_rules)
    reference: Literal["first_treatment", "enrolment"] = "first_treatment"
    untreated_reference: Literal["enrolment", "none"] = "enrolment"

    @model_validator(mode="after")
    def _unique_names(self) -> EligibilityConfig:
        names = [r.name for r in self.rules]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"eligibility rule names must be unique; repeated: {dup}")
        return self


class RetreatmentConfig(BaseModel):
    """Conditions for giving the next cycle (readiness).

    Defaults: platelets >= 75 x10^9/L and neutrophils >= 1.0 x10^9/L (issue #8; the usual
    PRRT retreatment limits, cf. EANM PRRT guideline, Bodei et al., *EJNMMI* 2013;40:800),
    measured within ``lab_within_days`` before the day of the cycle; toxicity back to
    <= grade ``max_toxicity_grade`` (graded labs and ongoing adverse events); the cumulative
    absorbed dose and BED within the organ limits of the dosimetry section when the dosimetry
    engine is available; ``max_cumulative_activity_gbq`` (``None`` = no limit) as a simple
    activity cap that needs no dose model.
    """

    model_config = ConfigDict(extra="forbid")

    labs: list[LabThreshold] = Field(
        default_factory=lambda: [
            LabThreshold(analyte="PLAT", op=">=", threshold=75),
            LabThreshold(analyte="NEUT", op=">=", threshold=1.0),
        ]
    )
    lab_within_days: int = Field(14, ge=0)
    max_toxicity_grade: int = Field(1, ge=0, le=4)
    #: adverse events of these attributions count as toxicity (ongoing on the day of the cycle)
    toxicity_attributions: list[
        Literal["unrelated", "unlikely", "possible", "probable", "definite", "unknown"]
    ] = Field(default_factory=lambda: ["possible", "probable", "definite", "unknown"])
    max_cumulative_activity_gbq: float | None = Field(None, gt=0)
    #: ``"if_available"``: check dose/BED limits when the dosimetry engine is installed;
    #: ``"required"``: hold when it cannot be checked; ``"off"``: never check.
    dose_check: Literal["if_available", "required", "off"] = "if_available"
    hold_on_progression: bool = True


class ProtocolConfig(BaseModel):
    """Treatment and assessment schedule of the protocol (defaults: the model study's 8-week cycles).

    - ``cycle_interval_days`` ± ``cycle_tolerance_days``: "treatment cycles were performed in
      8-week intervals" (abstract); tolerance ± 7 days (issue #8), inclusive (49 and 63 are on
      time for 56 ± 7).
    - ``cycle_anchor``: planned date of cycle k+1 = actual cycle k + interval
      (``"previous_cycle"``, default: a delay shifts the following cycles) or first treatment +
      k x interval (``"first_treatment"``: a fixed grid).
    - ``max_cycles``: not stated in the abstract (36 treatments in 23 patients); 4 is a study
      setting (four cycles is the usual PRRT course, e.g. NETTER-1).
    - Assessment window: days ``assessment_window_start_days``..``assessment_window_end_days``
      after each cycle, inclusive ("assessed 8-12 weeks after each treatment cycle").
      ``assessment_sources``: which records count as an assessment (tumour imaging by default).
    - ``stale_after_days``: the records hold no "end of treatment" event, so a next cycle or
      an assessment overdue by more than this many days past its window is taken as not going
      to happen: it leaves the worklist (a missed assessment stays a deviation) and a subject
      whose next cycle is that late is "off: cycles stopped" and moves to follow-up. Default 56
      (one cycle interval; a study setting); ``None`` keeps them overdue indefinitely.
    - ``follow_up_interval_days`` ± ``follow_up_tolerance_days``: visits after treatment ends
      (every 3 months: a study setting, the abstract gives none).
    """

    model_config = ConfigDict(extra="forbid")

    cycle_interval_days: int = Field(56, ge=1)
    cycle_tolerance_days: int = Field(7, ge=0)
    cycle_anchor: Literal["previous_cycle", "first_treatment"] = "previous_cycle"
    max_cycles: int = Field(4, ge=1)
    assessment_window_start_days: int = Field(56, ge=0)
    assessment_window_end_days: int = Field(84, ge=0)
    assessment_sources: list[Literal["tumour_assessment", "measurement", "clinical", "marker"]] = (
        Field(default_factory=lambda: ["tumour_assessment", "measurement"], min_length=1)
    )
    stale_after_days: int | None = Field(56, ge=0)
    follow_up_interval_days: int = Field(90, ge=1)
    follow_up_tolerance_days: int = Field(14, ge=0)
    eligibility: EligibilityConfig = Field(default_factory=EligibilityConfig)
    retreatment: RetreatmentConfig = Field(default_factory=RetreatmentConfig)

    @model_validator(mode="after")
    def _window_in_order(self) -> ProtocolConfig:
        if self.assessment_window_end_days < self.assessment_window_start_days:
            raise ValueError(
                "assessment_window_end_days "
                f"({self.assessment_window_end_days}) is before assessment_window_start_days "
                f"({self.assessment_window_start_days})"
            )
        return self
