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

    Options (defaults in brackets):

    - ``criteria`` [ctcae-v5]: ``ctc-v2`` (NCI CTC v2.0, 1999), ``ctcae-v4.03``, ``ctcae-v5``.
    - ``baseline_cutoff`` [day_end]: the baseline is the last value on or before first treatment.
      ``day_end``: instant on or before the end (24:00 UTC) of the treatment-start date, the CDISC
      ADaM convention ``ADT <= TRTSDT`` that works with dates only; ``first_dose_instant``: instant
      on or before the first ``admin_instant``.
    - ``baseline_abnormal_mode`` [baseline_multiples]: CTCAE v5 grades ALT, AST, ALP, bilirubin and
      GGT as multiples of the *baseline* when the baseline is above ULN (CTCAE v5.0 term
      definitions; admiral ``ncictcaev5.json``). ``uln_multiples`` ignores that switch and grades
      in multiples of ULN only (v4-style). No effect on versions without baseline-abnormal rules.
    - ``grade_baseline_record`` [uln]: how the baseline (and earlier, pre-treatment) records are
      graded. ``uln``: against ULN/LLN and absolute limits only (baseline treated as normal), so an
      abnormal baseline gets a real grade; ``self``: with the post-baseline rules against its own
      baseline, which gives grade 0 to every abnormal liver baseline under v5 (admiral#2512).
    - ``missing_baseline`` [not_gradable]: a post-baseline value whose grade needs the baseline
      (v5 liver tests: normal vs abnormal baseline; creatinine "x baseline" limits) but that has no
      baseline is "not gradable" (issue #5). ``assume_normal`` grades it as if the baseline was
      normal and skips "x baseline" limits.
    - ``grade_within_normal_range`` [True]: absolute or baseline-multiple limits grade a value even
      when it lies within its own LLN-ULN range, as the documents read literally and as admiral
      orders its tests (v5 Hb 9.9 g/dL with LLN 9.5 is grade 2). ``False`` grades a value within
      the normal range as 0; this also resolves the CTC v2.0 neutrophil ambiguity (ANC 1.9 with
      LLN 1.8: grade 1 by default, grade 0 with ``False``).
    - ``significant_digits`` [12]: values and limits are rounded to this many significant digits
      after unit conversion, and a value within a relative 10^-digits of a limit (e.g. 3.0 x ULN)
      counts as equal to it, so that floating-point error never moves a value across a boundary
      (admiral uses ``signif(., 15)``; 12 leaves room for the conversion factors).
    - ``recovery_target`` [grade1]: a toxicity has recovered when its grade is back to <= 1
      (``grade1``) or to <= the baseline grade (``baseline``; missing baseline grade counts as 0).
    - ``recovery_after`` [last_above_target]: the recovery date is the first value at or below the
      target after the *last* value above it, so a toxicity that recurs and is still above target
      at the last value is "not recovered by last value"; ``first_worst`` takes the first value at
      or below the target after the first occurrence of the worst grade.
    - ``incidence_basis`` [worst_post_baseline]: the incidence tables count each subject's worst
      post-baseline grade; ``treatment_emergent`` counts it only when worse than baseline.
    - ``include_adverse_events`` [True]: merge the ``adverse_event`` records (term, grade) into
      the per-subject worst-grade table and the summaries.
    - ``baseline_without_treatment`` [first_value]: when no treatment start is known (grading a lab
      file outside a study), the first value per subject and analyte is the baseline; ``none``:
      no baseline.
    """

    model_config = ConfigDict(extra="forbid")

    criteria: CriteriaName = "ctcae-v5"
    baseline_cutoff: Literal["day_end", "first_dose_instant"] = "day_end"
    baseline_abnormal_mode: Literal["baseline_multiples", "uln_multiples"] = "baseline_multiples"
    grade_baseline_record: Literal["uln", "self"] = "uln"
    missing_baseline: Literal["not_gradable", "assume_normal"] = "not_gradable"
    grade_within_normal_range: bool = True
    significant_digits: int = Field(default=12, ge=6, le=15)
    recovery_target: Literal["grade1", "baseline"] = "grade1"
    recovery_after: Literal["last_above_target", "first_worst"] = "last_above_target"
    incidence_basis: Literal["worst_post_baseline", "treatment_emergent"] = "worst_post_baseline"
    include_adverse_events: bool = True
    baseline_without_treatment: Literal["first_value", "none"] = "first_value"
