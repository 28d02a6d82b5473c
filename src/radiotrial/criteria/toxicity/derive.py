"""Toxicity for a whole study: graded labs, worst grades, category and incidence summaries.

Treatment start of a subject = UTC date of its earliest ``admin_instant`` (frames["administration"]).
Adverse events (``adverse_event``: term, grade) starting on or after treatment start are merged
into the worst-grade table; an AE term is matched to a lab term by the criteria's term name or
synonyms (case-insensitive), otherwise it keeps its own name with category ``other``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from radiotrial.criteria.toxicity.config import ToxicityConfig
from radiotrial.criteria.toxicity.grading import grade_labs
from radiotrial.criteria.toxicity.tables import load_criteria
from radiotrial.criteria.toxicity.worst import (
    merge_worst,
    worst_adverse_events,
    worst_by_category,
    worst_lab_grades,
)
from radiotrial.treatment import first_administration

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

HAEM = "haematological"


@dataclass(frozen=True)
class ToxicityResult:
    """Everything :func:`derive_toxicity` derives; every table is a Polars frame.

    - ``graded``: one row per lab result (ADLB-like), see :func:`grade_labs`.
    - ``worst``: per subject × term (labs and AEs merged), worst post-baseline grade and recovery.
    - ``by_category``: per subject × category (haematological, hepatic, renal, other).
    - ``summary``: per term, number of subjects by worst grade (any, >= 3, 4, 5).
    - ``haematological_ge3``: one row: subjects with grade >= 3 haematological toxicity and how
      many of them recovered (the model study's "reversible haematologic toxicity grade > 2").
    - ``adverse_events``: the AE records used, with the mapped term and category.
    """

    criteria: str
    config: ToxicityConfig
    graded: pl.DataFrame
    worst: pl.DataFrame
    by_category: pl.DataFrame
    summary: pl.DataFrame
    haematological_ge3: pl.DataFrame
    adverse_events: pl.DataFrame


def _frame(frames: Mapping[str, pl.DataFrame], name: str) -> pl.DataFrame | None:
    f = frames.get(name)
    return f if f is not None and f.height > 0 else None


def treatment_starts(administration: pl.DataFrame) -> pl.DataFrame:
    """Per subject: ``treatment_start`` (UTC date) and ``treatment_start_instant`` of the first dose."""
    return first_administration(administration).select(
        "subject_id", treatment_start_instant="first_instant", treatment_start="start_date"
    ).sort("subject_id")


def _map_adverse_events(ae: pl.DataFrame, criteria: str, starts: pl.DataFrame | None) -> pl.DataFrame:
    """AE rows with ``term`` mapped to the criteria's term name and a ``category``."""
    import polars as pl

    crit = load_criteria(criteria)
    names, terms, cats = [], [], []
    for t in crit.terms.values():
        for n in (t.term, *t.synonyms):
            names.append(n.strip().lower())
            terms.append(t.term)
            cats.append(t.category)
    lookup = pl.DataFrame({"__k": names, "__term": terms, "__cat": cats}).unique("__k", keep="first")
    out = ae.with_columns(
        pl.col("term").cast(pl.String).str.strip_chars().alias("ae_term"),
        pl.col("term").cast(pl.String).str.strip_chars().str.to_lowercase().alias("__k"),
    ).join(lookup, on="__k", how="left").with_columns(
        pl.coalesce("__term", "ae_term").alias("term"),
        pl.col("__cat").fill_null("other").alias("category"),
    ).drop("__k", "__term", "__cat")
    if starts is not None:
        out = out.join(starts.select("subject_id", "treatment_start"), on="subject_id", how="inner")
        out = out.filter(pl.col("start_date") >= pl.col("treatment_start"))
    return out


def incidence_summary(
    worst: pl.DataFrame, n_treated: int, config: ToxicityConfig
) -> pl.DataFrame:
    """Per term: subjects by worst grade; ``n_evaluable`` = subjects with a lab or AE record."""
    import polars as pl

    w = worst
    if config.incidence_basis == "treatment_emergent":
        w = w.filter(pl.col("treatment_emergent"))
    g = pl.col("worst_grade")
    counted = w.group_by(["term", "category"]).agg(
        *[(g == k).sum().cast(pl.Int32).alias(f"grade_{k}") for k in range(1, 6)],
        (g >= 1).sum().cast(pl.Int32).alias("any_grade"),
        (g >= 3).sum().cast(pl.Int32).alias("grade_ge3"),
    )
    evaluable = worst.group_by(["term", "category"]).agg(
        pl.col("subject_id").n_unique().cast(pl.Int32).alias("n_evaluable"),
        pl.col("source").str.split("+").list.explode(keep_nulls=False, empty_as_null=False).unique().sort().str.join("+").alias("source"),
    )
    out = evaluable.join(counted, on=["term", "category"], how="left").with_columns(
        pl.lit(n_treated, dtype=pl.Int32).alias("n_treated"),
        pl.lit(config.criteria).alias("criteria"),
    )
    cols = ["grade_1", "grade_2", "grade_3", "grade_4", "grade_5", "any_grade", "grade_ge3"]
    out = out.with_columns([pl.col(c).fill_null(0) for c in cols])
    order = ["criteria", "term", "category", "source", "n_treated", "n_evaluable", "any_grade",
             "grade_ge3", "grade_4", "grade_5", "grade_1", "grade_2", "grade_3"]
    return out.select(order).sort(["category", "term"])


def haematological_ge3(worst: pl.DataFrame, n_treated: int, criteria: str) -> pl.DataFrame:
    """One row: subjects with worst haematological grade >= 3, and how many fully recovered.

    A subject's grade >= 3 haematological toxicity is reversible when every haematological term
    that reached grade >= 3 has ``recovered`` (issue #5; the model study's "reversible hematologic
    toxicity (NCI CTC grade > 2) in three patients").
    """
    import polars as pl

    haem = worst.filter((pl.col("category") == HAEM) & (pl.col("worst_grade") >= 3))
    per = haem.group_by("subject_id").agg(
        pl.col("recovered").fill_null(False).all().alias("reversible"),
        pl.col("worst_grade").max(),
    ).sort("subject_id")
    evaluable = worst.filter(pl.col("category") == HAEM)["subject_id"].n_unique()
    return pl.DataFrame({
        "criteria": [criteria],
        "n_treated": [n_treated],
        "n_evaluable": [evaluable],
        "n_grade_ge3": [per.height],
        "n_reversible": [int(per["reversible"].sum())],
        "n_not_reversible": [int((~per["reversible"]).sum())],
        "subject_ids": [per["subject_id"].to_list()],
        "reversible_subject_ids": [per.filter(pl.col("reversible"))["subject_id"].to_list()],
    }, schema_overrides={"n_treated": pl.Int32, "n_evaluable": pl.Int32, "n_grade_ge3": pl.Int32,
                         "n_reversible": pl.Int32, "n_not_reversible": pl.Int32,
                         "subject_ids": pl.List(pl.String), "reversible_subject_ids": pl.List(pl.String)})


def _empty_labs() -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(schema={
        "subject_id": pl.String, "instant": pl.Datetime("us", "UTC"), "analyte": pl.String,
        "value": pl.Float64, "unit": pl.String, "lln": pl.Float64, "uln": pl.Float64,
    })


def derive_toxicity(frames: Mapping[str, pl.DataFrame], config: ToxicityConfig) -> ToxicityResult:
    """Grade a study's labs and derive worst grades, reversibility and summaries (issue #5)."""
    import polars as pl

    adm = _frame(frames, "administration")
    starts = treatment_starts(adm) if adm is not None else None
    labs = _frame(frames, "lab")
    graded = grade_labs(
        labs if labs is not None else _empty_labs(), config.criteria,
        treatment_start=starts, config=config,
    )
    lab_worst = worst_lab_grades(graded, config)

    ae = _frame(frames, "adverse_event")
    ae_rows = _map_adverse_events(ae, config.criteria, starts) if ae is not None else None
    ae_worst = (
        worst_adverse_events(ae_rows, config)
        if ae_rows is not None and config.include_adverse_events else None
    )
    worst = merge_worst(lab_worst, ae_worst)

    if starts is not None:
        n_treated = starts.height
    else:
        subj = _frame(frames, "subject")
        n_treated = subj["subject_id"].n_unique() if subj is not None else graded["subject_id"].n_unique()
    return ToxicityResult(
        criteria=config.criteria,
        config=config,
        graded=graded,
        worst=worst,
        by_category=worst_by_category(worst),
        summary=incidence_summary(worst, n_treated, config),
        haematological_ge3=haematological_ge3(worst, n_treated, config.criteria),
        adverse_events=ae_rows if ae_rows is not None else pl.DataFrame(),
    )
