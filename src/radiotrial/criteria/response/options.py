"""Response section of ``study.yaml``: which criteria and their named options.

Every ambiguity of WHO (Miller et al., Cancer 1981;47:207-214) and RECIST 1.1 (Eisenhauer et al.,
Eur J Cancer 2009;45:228-247) is an explicit option with a documented default; the sources are the
sections of ``spec/response-and-toxicity.md`` named in each field's description (§1 WHO, §2 RECIST,
§4a admiralonco).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Criteria = Literal["WHO", "RECIST1.1", "RECIST1.0"]


class ResponseConfig(BaseModel):
    """Tumour response criteria and options (defaults documented with their sources)."""

    model_config = ConfigDict(extra="forbid")

    criteria: Criteria = Field(
        "WHO",
        description="WHO (Miller 1981; bidimensional sum of products, SPD), RECIST1.1 (Eisenhauer "
        "2009; sum of diameters, node short axis) or RECIST1.0 (Therasse 2000; sum of longest "
        "diameters, no 5 mm rule). Default WHO: the model study's criteria (abstract).",
    )
    # --- WHO options (spec §1, 'Known ambiguities') ---------------------------------------------
    pd_reference: Literal["nadir", "baseline"] = Field(
        "nadir",
        description="WHO: the +25 % PD increase is measured against the smallest SPD on study "
        "including baseline (nadir) or against baseline. Default nadir: 'most groups used the "
        "smallest SPD' (spec §1 ambiguity 1; RECIST 2000 made it explicit). RECIST always uses the "
        "nadir.",
    )
    pd_scope: Literal["sum", "any_lesion", "either"] = Field(
        "sum",
        description="WHO: apply the +25 % PD rule to the SPD (sum), to each lesion's product "
        "('increase of one or more lesions', literal reading), or either. Default sum: the "
        "'modified WHO' practice of 2000s trials; a 25 % product rise is only an 11.8 % diameter "
        "rise, so per-lesion PD misclassifies small lesions (Warr et al. JCO 1984; spec §1 "
        "ambiguity 2).",
    )
    pr_threshold_pct: float = Field(
        50.0,
        gt=0,
        lt=100,
        description="WHO: PR when the SPD decreased by at least this percentage from baseline "
        "(inclusive; Miller 1981, '50% or more decrease'; spec §1).",
    )
    pd_threshold_pct: float = Field(
        25.0,
        gt=0,
        description="WHO: PD when the SPD (or a lesion, see pd_scope) increased by at least this "
        "percentage over the reference (inclusive; Miller 1981 '>=25% increase'; spec §1).",
    )
    minor_response: bool = Field(
        False,
        description="WHO: report minor response (MR) for an SPD decrease of >= 25 % and < 50 % "
        "from baseline, as in NET PRRT series (Kwekkeboom et al. JCO 2008; spec §1). Off by "
        "default (not part of Miller 1981). MR ranks between PR and SD and, like SD, needs "
        "sd_min_days.",
    )
    minor_threshold_pct: float = Field(
        25.0,
        gt=0,
        lt=100,
        description="WHO: lower bound (inclusive) of the minor-response decrease band (spec §1).",
    )
    who_unidimensional: Literal["square", "not_evaluable"] = Field(
        "square",
        description="WHO: a target lesion measured in one dimension only (no perpendicular "
        "diameter) enters the SPD as longest diameter squared ('square', so that its share scales "
        "like an area and the SPD thresholds stay consistent), or makes the time point "
        "incomplete ('not_evaluable'). Miller 1981 allows linear measurement where only one "
        "diameter can be measured but gives no combination rule (spec §1 [K], ambiguity 6); "
        "default square is radiotrial's choice.",
    )
    # --- RECIST options (spec §2) ---------------------------------------------------------------
    too_small_mm: float = Field(
        5.0,
        ge=0,
        description="A target lesion recorded 'too_small' (present, too small to measure) counts "
        "as this diameter (RECIST 1.1: 5 mm; spec §2). WHO has no rule (spec §1 ambiguity 5); "
        "radiotrial uses the same default, i.e. a product of 5 x 5 = 25 mm2.",
    )
    min_measurable_mm: float = Field(
        10.0,
        gt=0,
        description="RECIST: a non-nodal target lesion is measurable at >= this longest diameter "
        "(RECIST 1.1: 10 mm on CT; RECIST 1.0: 10 mm on spiral CT; spec §2). Violations are "
        "reported in data_issue.",
    )
    min_nodal_short_axis_mm: float = Field(
        15.0,
        gt=0,
        description="RECIST 1.1: a nodal target is measurable at short axis >= 15 mm; a node is "
        "normal (counts as gone for CR) below 10 mm (spec §2).",
    )
    normal_node_mm: float = Field(
        10.0,
        gt=0,
        description="RECIST 1.1: a node with short axis below this is normal; CR requires every "
        "target node below it (spec §2).",
    )
    max_targets: int | None = Field(
        None,
        ge=1,
        description="Maximum number of target lesions; null = the criteria's own (RECIST 1.1: 5, "
        "RECIST 1.0: 10, WHO: no limit; spec §1, §2). Excess is reported in data_issue.",
    )
    max_targets_per_organ: int | None = Field(
        None,
        ge=1,
        description="Maximum targets per organ; null = the criteria's own (RECIST 1.1: 2, RECIST "
        "1.0: 5, WHO: no limit; spec §2). Excess is reported in data_issue.",
    )
    after_cr: Literal["pd", "flag"] = Field(
        "pd",
        description="Disease seen again after a complete response. 'pd': a time point after an "
        "overall CR at which any target lesion is present again (non-nodal: measured > 0 or too "
        "small; RECIST 1.1 node: short axis >= normal_node_mm) or the non-target status is "
        "NON-CR/NON-PD is PD, dated at that time point (RECIST 1.1, Eisenhauer 2009 Table 3 "
        "footnote a and §4.3: 'disease seen after a true CR means PD'; RECIST 1.0, Therasse 2000; "
        "WHO CR = disappearance of all known disease, Miller 1981; spec §2). A target or "
        "non-target that was not evaluated is not disease seen. 'flag': keep the response the "
        "measurements give (e.g. PR) and report a PR after a CR in data_issue (admiralonco "
        "signal_crpr, admiralonco#87/#161/#276; spec §4a, §5 item 5).",
    )
    # --- Best overall response (spec §2 BOR, §4a admiralonco) -----------------------------------
    confirm: bool = Field(
        True,
        description="Whether CR/PR must be confirmed for the primary best response (WHO: 'two "
        "observations not less than 4 weeks apart', Miller 1981; RECIST 1.1 in non-randomised "
        "trials; spec §1, §2). Both bor and bor_confirmed are always reported; this option "
        "chooses which one dates first_response_date and duration_of_response_days.",
    )
    confirm_days: int = Field(
        28,
        ge=1,
        description="A CR/PR is confirmed by a CR (or, for PR, a CR/PR) at least this many days "
        "later (inclusive; 4 weeks in WHO and RECIST; admiralonco uses ADT.join >= ADT + 28; "
        "spec §1, §2, §4a).",
    )
    max_ne_between: int = Field(
        1,
        ge=0,
        description="At most this many NE time points between a response and its confirmation "
        "(admiralonco max_nr_ne = 1; spec §4a).",
    )
    sd_min_days: int = Field(
        42,
        ge=0,
        description="SD (and non-CR/non-PD, MR, unconfirmed CR/PR) counts for best response only "
        "at an assessment at least this many days after treatment start (RECIST 1.1 'in general "
        "not less than 6-8 weeks'; admiralonco bor_sd ADT >= RANDDT + 42; spec §2, §4a).",
    )
    baseline_rule: Literal["last_on_or_before_start", "first_assessment"] = Field(
        "last_on_or_before_start",
        description="Baseline assessment: the last one on or before treatment start (the date of "
        "the first administration; CDISC ADaM baseline convention) or the subject's first "
        "assessment (as pyrecist does, spec §4c).",
    )
    dor_origin: Literal["auto", "first_response", "treatment_start"] = Field(
        "auto",
        description="Origin of the duration of response: the first documented CR/PR (RECIST) or "
        "the start of treatment (WHO: 'overall response is dated from the start of treatment', "
        "spec §1). auto = WHO: treatment_start; RECIST: first_response.",
    )

    def effective_max_targets(self) -> tuple[int | None, int | None]:
        """(total, per organ) target limits for the chosen criteria (spec §2)."""
        defaults = {"WHO": (None, None), "RECIST1.1": (5, 2), "RECIST1.0": (10, 5)}[self.criteria]
        total = self.max_targets if self.max_targets is not None else defaults[0]
        per_organ = (
            self.max_targets_per_organ if self.max_targets_per_organ is not None else defaults[1]
        )
        return total, per_organ

    def effective_dor_origin(self) -> Literal["first_response", "treatment_start"]:
        """Resolve ``dor_origin='auto'`` for the chosen criteria (spec §1, §2)."""
        if self.dor_origin != "auto":
            return self.dor_origin
        return "treatment_start" if self.criteria == "WHO" else "first_response"
