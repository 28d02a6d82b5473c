"""Toxicity section of ``study.yaml``: grading criteria version and options.

Every ambiguity of the lab-grading criteria is a named option here with a documented default
(ARCHITECTURE.md, "Rules as data"; the ambiguities are listed in
``shared/spec/response-and-toxicity.md`` §3 "Ambiguities to expose as options" and §6).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CriteriaName = Literal["ctc-v2", "ctcae-v5", "ctcae-v4.03"]


class ToxicityConfig(BaseModel):
    """Which NCI criteria grade the labs (the model study used NCI CTC v2.0), and how.

    Every ambiguity of the criteria is a named option (spec §3 "Ambiguities to expose as
    options", §6); each field's description gives its default and source.
    """

    model_config = ConfigDict(extra="forbid")

    criteria: CriteriaName = Field(
        "ctcae-v5",
        description="Lab grading criteria: ctc-v2 (NCI CTC v2.0, 1999, the model study's), "
        "ctcae-v4.03 or ctcae-v5 (default).",
    )
    baseline_cutoff: Literal["day_end", "first_dose_instant"] = Field(
        "day_end",
        description="The baseline is the last value on or before first treatment: 'day_end' "
        "(default) = on or before the end (24:00 UTC) of the treatment-start date, the CDISC ADaM "
        "convention ADT <= TRTSDT that works with dates only; 'first_dose_instant' = on or before "
        "the first admin_instant.",
    )
    baseline_abnormal_mode: Literal["baseline_multiples", "uln_multiples"] = Field(
        "baseline_multiples",
        description="'baseline_multiples' (default): CTCAE v5 grades ALT, AST, ALP, bilirubin and "
        "GGT as multiples of the baseline when the baseline is above ULN (CTCAE v5.0 term "
        "definitions; admiral ncictcaev5.json). 'uln_multiples' ignores that switch and grades in "
        "multiples of ULN only (v4-style). No effect on versions without baseline-abnormal rules.",
    )
    grade_baseline_record: Literal["uln", "self"] = Field(
        "uln",
        description="How the baseline (and earlier, pre-treatment) records are graded. 'uln' "
        "(default): against ULN/LLN and absolute limits only (baseline treated as normal), so an "
        "abnormal baseline gets a real grade; 'self': with the post-baseline rules against its "
        "own baseline, which gives grade 0 to every abnormal liver baseline under v5 "
        "(admiral#2512).",
    )
    missing_baseline: Literal["not_gradable", "assume_normal"] = Field(
        "not_gradable",
        description="A post-baseline value whose grade needs the baseline (v5 liver tests: "
        "normal vs abnormal baseline; creatinine 'x baseline' limits) but that has none: "
        "'not_gradable' (default; issue #5), or 'assume_normal' = graded as if the baseline was "
        "normal, skipping 'x baseline' limits.",
    )
    grade_within_normal_range: bool = Field(
        True,
        description="True (default): absolute or baseline-multiple limits grade a value even "
        "within its own LLN-ULN range, as the documents read literally and as admiral orders its "
        "tests (v5 Hb 9.9 g/dL with LLN 9.5 is grade 2). False grades a value within the normal "
        "range as 0; this also resolves the CTC v2.0 neutrophil ambiguity (ANC 1.9 with LLN 1.8: "
        "grade 1 by default, grade 0 with False).",
    )
    significant_digits: int = Field(
        default=12,
        ge=6,
        le=15,
        description="Values and limits are rounded to this many significant digits after unit "
        "conversion, and a value within a relative 10^-digits of a limit (e.g. 3.0 x ULN) counts "
        "as equal to it, so floating-point error never moves a value across a boundary (admiral "
        "uses signif(., 15); 12 leaves room for the conversion factors).",
    )
    recovery_target: Literal["grade1", "baseline"] = Field(
        "grade1",
        description="A toxicity has recovered when its grade is back to <= 1 ('grade1', default) "
        "or to <= the baseline grade ('baseline'; a missing baseline grade counts as 0).",
    )
    recovery_after: Literal["last_above_target", "first_worst"] = Field(
        "last_above_target",
        description="'last_above_target' (default): the recovery date is the first value at or "
        "below the target after the last value above it, so a toxicity that recurs and is still "
        "above target at the last value is 'not recovered by last value'; 'first_worst': the "
        "first value at or below the target after the first occurrence of the worst grade.",
    )
    incidence_basis: Literal["worst_post_baseline", "treatment_emergent"] = Field(
        "worst_post_baseline",
        description="Incidence tables count each subject's worst post-baseline grade "
        "('worst_post_baseline', default), or count it only when worse than baseline "
        "('treatment_emergent').",
    )
    include_adverse_events: bool = Field(
        True,
        description="Merge the adverse_event records (term, grade) into the per-subject "
        "worst-grade table and the summaries.",
    )
    baseline_without_treatment: Literal["first_value", "none"] = Field(
        "first_value",
        description="When no treatment start is known (grading a lab file outside a study): the "
        "first value per subject and analyte is the baseline ('first_value', default), or there "
        "is no baseline ('none').",
    )
