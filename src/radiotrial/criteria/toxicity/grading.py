"""Grade a long table of lab results under an NCI criteria version, vectorised (Polars).

Input columns (lab record type, ``docs/import-format.md``): ``subject_id``, ``instant`` (UTC),
``analyte``, ``value``, ``unit``, ``lln``, ``uln``. Units are converted to the canonical unit of
each analyte first (:func:`radiotrial.units.convert_labs`; unknown units raise).

Rules (issue #5; ``shared/spec/response-and-toxicity.md`` §3):

- Grades are tested from the highest down; the first grade whose rule holds is the grade
  (admiral's ``case_when`` order, spec §4b). Values and limits are rounded to
  ``config.significant_digits`` significant digits on input and a value within a relative
  10^-digits of a limit counts as equal to it (admiral compares ``signif(., 15)``).
- A rule whose limit is unknown (missing LLN / ULN / baseline) and that is reached before any
  rule proves a grade makes the result "not gradable" with a reason — never grade 0.
- Baseline = last non-missing value on or before first treatment (``config.baseline_cutoff``;
  default: instant before the end of the treatment-start date, UTC).
- Grades that only clinical information can give (transfusion, life-threatening) are never
  assigned; the lab grade is a lower bound flagged ``clinical_review``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from radiotrial.criteria.toxicity.config import ToxicityConfig
from radiotrial.criteria.toxicity.tables import Criteria, Rule, Term, load_criteria
from radiotrial.errors import InputError, Problem, RadiotrialError
from radiotrial.units import convert_labs

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

REQUIRED = ("subject_id", "instant", "analyte", "value", "unit")

# internal "grade" codes for results that cannot be graded
_MISSING_VALUE = -2
_UNKNOWN_LIMIT = -1
_NO_TERM = -3


def _numeric(labs: pl.DataFrame, column: str, file: str | None) -> pl.DataFrame:
    """Cast ``column`` to Float64; non-numeric entries raise an InputError naming each row."""
    import polars as pl

    dtype = labs.schema[column]
    if dtype.is_numeric():
        return labs.with_columns(pl.col(column).cast(pl.Float64))
    text = pl.col(column).cast(pl.String).str.strip_chars()
    cast = text.cast(pl.Float64, strict=False)
    bad = labs.with_row_index("__r").filter(text.is_not_null() & (text != "") & cast.is_null())
    if bad.height:
        problems = [
            Problem(file, int(r) + 2, column, v, "not a number")
            for r, v in bad.select("__r", column).head(50).iter_rows()
        ]
        raise InputError(problems, summary=f"{bad.height} lab row(s) with a non-numeric {column}")
    return labs.with_columns(pl.when(text == "").then(None).otherwise(cast).alias(column))


def _prepare(labs: pl.DataFrame, file: str | None) -> pl.DataFrame:
    """Check columns and types, add missing LLN/ULN, convert units; instants to UTC."""
    import polars as pl

    missing = [c for c in REQUIRED if c not in labs.columns]
    if missing:
        raise InputError(
            [Problem(file, None, c, None, "required lab column is missing") for c in missing]
        )
    for c in ("lln", "uln"):
        if c not in labs.columns:
            labs = labs.with_columns(pl.lit(None, dtype=pl.Float64).alias(c))
    for c in ("value", "lln", "uln"):
        labs = _numeric(labs, c, file)
    dtype = labs.schema["instant"]
    if dtype == pl.Date:
        labs = labs.with_columns(pl.col("instant").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"))
    elif isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            raise RadiotrialError(
                "lab column 'instant' has no time zone; instants must be timezone-aware (UTC)"
            )
        labs = labs.with_columns(
            pl.col("instant").dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        )
    else:
        raise RadiotrialError(f"lab column 'instant' must be a datetime, not {dtype}")
    labs = labs.with_columns(pl.col("analyte").cast(pl.String), pl.col("unit").cast(pl.String))
    return convert_labs(labs, file=file)


def _baseline(
    work: pl.DataFrame, treatment_start: pl.DataFrame | None, config: ToxicityConfig
) -> pl.DataFrame:
    """Add ``phase`` (baseline / pre / post / untreated), ``baseline`` flag, ``base``, ``base_uln``."""
    import polars as pl

    keys = ["subject_id", "analyte"]
    if treatment_start is None:
        if config.baseline_without_treatment == "none":
            return work.with_columns(
                pl.lit("post").alias("phase"), pl.lit(False).alias("baseline"),
                pl.lit(None, dtype=pl.Float64).alias("base"),
                pl.lit(None, dtype=pl.Float64).alias("base_uln"),
            )
        cand = work.filter(pl.col("value").is_not_null())
        first = (
            cand.sort(["instant", "__row"]).group_by(keys).first()
            .select(*keys, pl.col("__row").alias("__brow"), pl.col("instant").alias("__binst"),
                    pl.col("value").alias("base"), pl.col("uln").alias("base_uln"))
        )
        work = work.join(first, on=keys, how="left")
        is_base = pl.col("__row") == pl.col("__brow")
        pre = pl.col("__binst").is_not_null() & (pl.col("instant") < pl.col("__binst"))
        phase = pl.when(is_base).then(pl.lit("baseline")).when(pre).then(pl.lit("pre"))
        return work.with_columns(
            phase.otherwise(pl.lit("post")).alias("phase"), is_base.fill_null(False).alias("baseline")
        ).drop("__brow", "__binst")

    ts = treatment_start
    if "subject_id" not in ts.columns or "treatment_start" not in ts.columns:
        raise RadiotrialError("treatment_start frame needs columns 'subject_id' and 'treatment_start'")
    cols = ["subject_id", "treatment_start"]
    if config.baseline_cutoff == "first_dose_instant":
        if "treatment_start_instant" not in ts.columns:
            raise RadiotrialError(
                "baseline_cutoff 'first_dose_instant' needs column 'treatment_start_instant'"
            )
        cols.append("treatment_start_instant")
    ts = ts.select(cols).unique("subject_id", keep="first")
    work = work.join(ts, on="subject_id", how="left")
    if config.baseline_cutoff == "day_end":
        end = pl.col("treatment_start").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        pre = pl.col("instant") < end + pl.duration(days=1)
    else:
        pre = pl.col("instant") <= pl.col("treatment_start_instant")
    work = work.with_columns(pre.alias("__pre"))
    cand = work.filter(pl.col("__pre") & pl.col("value").is_not_null())
    last = (
        cand.sort(["instant", "__row"]).group_by(keys).last()
        .select(*keys, pl.col("__row").alias("__brow"), pl.col("value").alias("base"),
                pl.col("uln").alias("base_uln"))
    )
    work = work.join(last, on=keys, how="left")
    is_base = (pl.col("__row") == pl.col("__brow")).fill_null(False)
    phase = (
        pl.when(pl.col("treatment_start").is_null()).then(pl.lit("untreated"))
        .when(is_base).then(pl.lit("baseline"))
        .when(pl.col("__pre")).then(pl.lit("pre"))
        .otherwise(pl.lit("post"))
    )
    return work.with_columns(phase.alias("phase"), is_base.alias("baseline")).drop(
        [c for c in ("__pre", "__brow", "treatment_start_instant") if c in work.columns]
    )


def _compare(x: pl.Expr, op: str, thr: pl.Expr, rel: float) -> pl.Expr:
    """``x OP thr`` where values within a relative ``rel`` of ``thr`` count as equal to it.

    Values and limits were rounded to ``significant_digits`` on input; the tolerance absorbs the
    rounding error of ``factor x limit`` (all lab limits are positive).
    """
    if op == "<":
        return x < thr * (1.0 - rel)
    if op == "<=":
        return x <= thr * (1.0 + rel)
    if op == ">":
        return x > thr * (1.0 + rel)
    return x >= thr * (1.0 - rel)


def _baseline_abnormal(config: ToxicityConfig) -> pl.Expr:
    """Baseline above its ULN (the ULN recorded with the baseline, else the row's own ULN)."""
    import polars as pl

    rel = 10.0 ** -config.significant_digits
    return _compare(pl.col("base"), ">", pl.coalesce(pl.col("base_uln"), pl.col("uln")), rel)


def _grade_expr(term: Term, config: ToxicityConfig) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Expressions (effective baseline-abnormal flag, grade code, not-gradable reason) of a term.

    They are evaluated in this order, each in its own ``with_columns`` (columns ``__babn`` and
    ``__code``), so that each is computed once.
    """
    import polars as pl

    rel = 10.0 ** -config.significant_digits
    x = pl.col("value")
    use_base = pl.col("__usebase")
    base_known = pl.col("base").is_not_null()
    assume = config.missing_baseline == "assume_normal"
    babn = _baseline_abnormal(config)
    if assume:
        babn = babn.fill_null(False)
    babn_eff = pl.when(use_base).then(babn).otherwise(pl.lit(False))
    babn_col = pl.col("__babn")
    uln_only = config.baseline_abnormal_mode == "uln_multiples"

    def rule_expr(rule: Rule) -> pl.Expr | None:
        if rule.when == "baseline_abnormal" and uln_only:
            return None
        if rule.ref == "abs":
            cmp = _compare(x, rule.op, pl.lit(rule.factor), rel)
        else:
            ref = pl.col({"lln": "lln", "uln": "uln", "base": "base"}[rule.ref])
            cmp = _compare(x, rule.op, ref * rule.factor, rel)
        if rule.ref == "base":
            if assume:
                cmp = cmp.fill_null(False)
            cmp = cmp & use_base  # BL limits never apply to baseline / pre-treatment records
        if rule.when == "baseline_normal" and not uln_only:
            cmp = cmp & ~babn_col
        elif rule.when == "baseline_abnormal":
            cmp = cmp & babn_col
        return cmp

    chain = pl.when(x.is_null()).then(pl.lit(_MISSING_VALUE))
    if not config.grade_within_normal_range:
        inside = (
            _compare(x, ">=", pl.col("lln"), rel) if term.direction == "low"
            else _compare(x, "<=", pl.col("uln"), rel)
        )
        chain = chain.when(inside).then(pl.lit(0))
    for grade, rules in term.grades.items():  # highest grade first
        parts = [e for e in (rule_expr(r) for r in rules) if e is not None]
        if not parts:
            continue
        # Kleene OR: True if any is True, null if none True and any null (a limit unknown)
        cond = parts[0]
        for e in parts[1:]:
            cond = cond | e
        chain = chain.when(cond).then(pl.lit(grade)).when(cond.is_null()).then(pl.lit(_UNKNOWN_LIMIT))
    code = chain.otherwise(pl.lit(0)).cast(pl.Int8)

    refs = {r.ref for rules in term.grades.values() for r in rules}
    whens = {r.when for rules in term.grades.values() for r in rules}
    reasons = []
    if "lln" in refs:
        reasons.append(pl.when(pl.col("lln").is_null()).then(pl.lit("LLN missing")))
    if "uln" in refs:
        reasons.append(pl.when(pl.col("uln").is_null()).then(pl.lit("ULN missing")))
    if "base" in refs and not assume:
        reasons.append(pl.when(use_base & ~base_known).then(pl.lit("no baseline value")))
    if "baseline_abnormal" in whens and not uln_only and not assume:
        reasons.append(
            pl.when(use_base & base_known & pl.col("base_uln").is_null() & pl.col("uln").is_null())
            .then(pl.lit("baseline ULN missing"))
        )
    limit_reason = (
        pl.concat_str(reasons, separator="; ", ignore_nulls=True) if reasons else pl.lit(None)
    )
    c = pl.col("__code")
    reason = (
        pl.when(c == _MISSING_VALUE).then(pl.lit("missing value"))
        .when(c == _UNKNOWN_LIMIT).then(limit_reason)
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return babn_eff, code, reason


def grade_labs(
    labs: pl.DataFrame,
    criteria: str | None = None,
    *,
    treatment_start: pl.DataFrame | None = None,
    config: ToxicityConfig | None = None,
    file: str | None = None,
) -> pl.DataFrame:
    """Grade every lab result; one output row per input row, in input order.

    ``criteria`` (``ctc-v2``, ``ctcae-v5``, ``ctcae-v4.03``) defaults to ``config.criteria``.
    ``treatment_start``: columns ``subject_id``, ``treatment_start`` (date) and, for
    ``baseline_cutoff='first_dose_instant'``, ``treatment_start_instant``; ``None`` = no treatment
    information (``config.baseline_without_treatment`` then picks the baseline).

    Added columns: ``term``, ``category``, ``direction``, ``criteria``, ``phase`` (baseline / pre /
    post / untreated), ``baseline`` (the baseline record), ``base`` (baseline value),
    ``baseline_abnormal``, ``grade`` (Int8, null when not gradable), ``gradable``,
    ``not_gradable_reason``, ``baseline_grade``, ``max_lab_grade``, ``clinical_review`` (a higher
    grade is possible on clinical information the lab value cannot show). ``value``, ``lln``,
    ``uln`` and ``unit`` are in the analyte's canonical unit.
    """
    import polars as pl

    config = config or ToxicityConfig()
    crit: Criteria = load_criteria(criteria or config.criteria)
    d = config.significant_digits
    work = _prepare(labs, file).with_columns(
        # conversion factors such as 0.1 leave 6.490000000000001; keep the reported value exact
        [pl.col(c).round_sig_figs(d) for c in ("value", "lln", "uln")]
    ).with_row_index("__row")
    work = _baseline(work, treatment_start, config)
    self_graded = config.grade_baseline_record == "self"
    work = work.with_columns(
        (
            (pl.col("phase") == "post")
            | (pl.lit(self_graded) & pl.col("phase").is_in(["baseline", "pre"]))
        ).alias("__usebase")
    )

    parts = []
    for (analyte,), part in work.partition_by("analyte", as_dict=True, maintain_order=False).items():
        term = crit.term_for(analyte)
        if term is None:
            parts.append(part.with_columns(
                pl.lit(None, dtype=pl.String).alias("term"),
                pl.lit(None, dtype=pl.String).alias("category"),
                pl.lit(None, dtype=pl.String).alias("direction"),
                pl.lit(_NO_TERM, dtype=pl.Int8).alias("__code"),
                pl.lit(f"no {crit.name} term for analyte {analyte}").alias("not_gradable_reason"),
                pl.lit(None, dtype=pl.Int8).alias("max_lab_grade"),
                pl.lit(None, dtype=pl.Boolean).alias("baseline_abnormal"),
                pl.lit(None, dtype=pl.Int8).alias("__clin"),
            ))
            continue
        babn_eff, code, reason = _grade_expr(term, config)
        clin = max(term.clinical) if term.clinical else None
        babn = (
            _baseline_abnormal(config) if term.direction == "high"
            else pl.lit(None, dtype=pl.Boolean)
        )
        part = part.with_columns(babn_eff.alias("__babn"), babn.alias("baseline_abnormal"))
        part = part.with_columns(code.alias("__code"))
        parts.append(part.with_columns(
            pl.lit(term.term).alias("term"),
            pl.lit(term.category).alias("category"),
            pl.lit(term.direction).alias("direction"),
            reason.alias("not_gradable_reason"),
            pl.lit(term.max_lab_grade, dtype=pl.Int8).alias("max_lab_grade"),
            pl.lit(clin, dtype=pl.Int8).alias("__clin"),
        ).drop("__babn"))
    if not parts:
        parts.append(work.with_columns(
            pl.lit(None, dtype=pl.String).alias("term"),
            pl.lit(None, dtype=pl.String).alias("category"),
            pl.lit(None, dtype=pl.String).alias("direction"),
            pl.lit(None, dtype=pl.Int8).alias("__code"),
            pl.lit(None, dtype=pl.String).alias("not_gradable_reason"),
            pl.lit(None, dtype=pl.Int8).alias("max_lab_grade"),
            pl.lit(None, dtype=pl.Boolean).alias("baseline_abnormal"),
            pl.lit(None, dtype=pl.Int8).alias("__clin"),
        ))
    out = pl.concat(parts, how="vertical_relaxed")
    out = out.sort("__row").with_columns(
        pl.when(pl.col("__code") >= 0).then(pl.col("__code")).otherwise(None).cast(pl.Int8).alias("grade"),
        (pl.col("__code") >= 0).alias("gradable"),
        pl.lit(crit.name).alias("criteria"),
    ).with_columns(
        ((pl.col("grade") >= 1) & (pl.col("grade") < pl.col("__clin"))).fill_null(False)
        .alias("clinical_review"),
    )
    bgrade = out.filter(pl.col("baseline")).select(
        "subject_id", "analyte", pl.col("grade").alias("baseline_grade")
    )
    out = out.join(bgrade, on=["subject_id", "analyte"], how="left", maintain_order="left")
    keep = [c for c in labs.columns if c not in ("lln", "uln")] + ["lln", "uln"]
    added = [
        "term", "category", "direction", "criteria", "phase", "baseline", "base",
        "baseline_abnormal", "grade", "gradable", "not_gradable_reason", "baseline_grade",
        "max_lab_grade", "clinical_review",
    ]
    extra = [c for c in ("treatment_start",) if c in out.columns]
    return out.select(keep + extra + added)
