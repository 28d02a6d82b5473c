"""Grade a long table of lab results under an NCI criteria version, vectorised (Polars + numpy).

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
  A NaN value or limit counts as missing.
- Baseline = last non-missing value on or before first treatment (``config.baseline_cutoff``;
  default: instant before the end of the treatment-start date, UTC).
- Grades that only clinical information can give (transfusion, life-threatening) are never
  assigned; the lab grade is a lower bound flagged ``clinical_review``.

Implementation (no sort, no join but one, no per-row Python): analytes and units become dense codes
(Enum casts of the few distinct spellings, :func:`radiotrial.units.lab_codes`); one left join maps
each row's subject to its treatment start; the baseline is found with scatter-max/min reductions
(``numpy.maximum.at``) over dense (subject, analyte) keys; values are converted, rounded and graded
by numpy in cache-sized row blocks, each term's rules on its analyte's rows only, in three-valued
(Kleene) logic so that an unknown limit gives "not gradable" exactly where the former Polars
``when/then`` chain did; the string columns are gathered from per-code lookup lists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from radiotrial.criteria.toxicity.config import ToxicityConfig
from radiotrial.criteria.toxicity.tables import Criteria, Rule, Term, load_criteria
from radiotrial.errors import InputError, Problem, RadiotrialError
from radiotrial.units import LAB_CANONICAL, LAB_UNITS, lab_codes

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import polars as pl

REQUIRED = ("subject_id", "instant", "analyte", "value", "unit")

# internal "grade" codes for results that cannot be graded
_MISSING_VALUE = -2
_UNKNOWN_LIMIT = -1
_NO_TERM = -3

#: phase codes (index into _PHASES); the last is an untreated subject's baseline record (possible
#: when a first-dose instant is known without a treatment-start date)
_PHASES = ("baseline", "pre", "post", "untreated", "untreated")
_BASELINE, _PRE, _POST, _UNTREATED, _UNTREATED_BASE = range(5)

#: limit reasons, in the order they are joined ("; ") into ``not_gradable_reason``
_REASONS = ("LLN missing", "ULN missing", "no baseline value", "baseline ULN missing")


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


def _prepare(
    labs: pl.DataFrame, file: str | None
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Check columns and types, add missing LLN/ULN, instants to UTC, code analytes and units.

    Returns the frame (unit set to the canonical unit; ``value``, ``lln``, ``uln`` still in the
    unit given) and :func:`radiotrial.units.lab_codes` ``(a_idx, u_idx, factor table)``.
    """
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
        if dtype != pl.Datetime("us", "UTC"):
            labs = labs.with_columns(
                pl.col("instant").dt.convert_time_zone("UTC").dt.cast_time_unit("us")
            )
    else:
        raise RadiotrialError(f"lab column 'instant' must be a datetime, not {dtype}")
    labs = labs.with_columns(pl.col("analyte").cast(pl.String), pl.col("unit").cast(pl.String))
    a_idx, u_idx, table = lab_codes(labs, file=file)
    canon = pl.Series("unit", list(LAB_CANONICAL.values()), dtype=pl.String)
    return labs.with_columns(canon.gather(a_idx).alias("unit")), a_idx, u_idx, table


#: exact powers of ten 10^0 .. 10^22 (the largest exactly representable in binary64)
_P10 = tuple(10.0**k for k in range(23))


def _round_sig(v: np.ndarray, digits: int) -> np.ndarray:
    """``v`` rounded to ``digits`` significant digits, as ``polars.Expr.round_sig_figs``.

    ``round(v * 10^k) / 10^k`` with ``k = digits - 1 - floor(log10|v|)``, half away from zero;
    when ``0 <= k <= 22`` the scale is an exact power of ten and ``|v * 10^k| < 10^15 < 2^52``,
    so ``trunc(y + copysign(0.5, y))`` is exact. Other finite non-zero values (below 1e-11 or above
    1e12 for 12 digits) go through Polars itself; zero, NaN and infinities are returned unchanged.
    """
    import numpy as np
    import polars as pl

    with np.errstate(divide="ignore", invalid="ignore"):
        k = (digits - 1) - np.floor(np.log10(np.abs(v)))
    fast = (k >= 0) & (k <= 22)
    sc = np.asarray(_P10)[np.where(fast, k, 0).astype(np.intp)]
    y = v * sc
    out = np.where(fast, np.trunc(y + np.copysign(0.5, y)) / sc, v)
    slow = ~fast & np.isfinite(v) & (v != 0)
    if slow.any():
        out[slow] = pl.Series(v[slow]).round_sig_figs(digits).to_numpy()
    return out


# --------------------------------------------------------------------------------------------
# baseline

#: rows per block of the numpy passes: temporaries stay cache-sized (2 MB of float64) and are
#: recycled by the allocator instead of page-faulting fresh memory for every 10^7-row array.
_BLOCK = 1 << 18
_NONE = -1


def _blocks(n: int) -> range:
    return range(0, n, _BLOCK)


class _Baseline(NamedTuple):
    """Per-row baseline information (numpy, input order) and per-(subject, analyte) key tables."""

    phase: np.ndarray  # uint8 codes into _PHASES
    key: np.ndarray  # dense (subject, analyte) key, -1 = none (no baseline possible)
    best_row: np.ndarray  # per key: the baseline row, -1 = none
    base: np.ndarray  # per key: baseline value (NaN = none)
    base_uln: np.ndarray  # per key: ULN recorded with the baseline (NaN = none)
    treatment_start: pl.Series | None  # joined treatment start (output column), if given


def _join_subjects(subjects: pl.Series, table: pl.DataFrame) -> pl.DataFrame:
    """Left-join each row's subject to ``table`` (one row per subject), keeping row order."""
    return subjects.to_frame("subject_id").join(
        table, on="subject_id", how="left", maintain_order="left"
    )


def _keys(sidx: pl.Series, a_idx: np.ndarray, n_an: int) -> np.ndarray:
    """Dense (subject, analyte) key ``sidx * n_an + analyte``; -1 where the subject has no index."""
    import numpy as np
    import polars as pl

    none = np.iinfo(np.uint32).max
    s_np = sidx.cast(pl.UInt32).fill_null(none).to_numpy()
    key = np.empty(s_np.shape[0], dtype=np.int64)
    for s in _blocks(key.shape[0]):  # block-wise: no 10^7-row int64 temporaries
        sb = s_np[s:s + _BLOCK].astype(np.int64)
        key[s:s + _BLOCK] = np.where(sb == none, _NONE, sb * n_an + a_idx[s:s + _BLOCK])
    return key


def _candidates(key: np.ndarray, value: np.ndarray, pre: np.ndarray | None) -> np.ndarray:
    """Rows that may be a baseline: a key, a value (not missing) and, if given, pre-treatment."""
    import numpy as np

    parts = []
    for s in _blocks(key.shape[0]):
        ok = (key[s:s + _BLOCK] >= 0) & ~np.isnan(value[s:s + _BLOCK])
        if pre is not None:
            ok &= pre[s:s + _BLOCK]
        parts.append(s + np.flatnonzero(ok))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _pick(
    key: np.ndarray, rows: np.ndarray, instant: np.ndarray, n_keys: int, last: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Per key, the candidate ``rows`` with the largest (``last``) or smallest ``(instant, row)``.

    Scatter reductions (``ufunc.at``), no sort: first the extreme instant per key, then the
    extreme row among the candidates at that instant. Returns (row per key, -1 = none; instant).
    """
    import numpy as np

    kc, tc = key[rows], instant[rows]
    big = np.iinfo(np.int64)
    best_t = np.full(n_keys, big.min if last else big.max, dtype=np.int64)
    (np.maximum if last else np.minimum).at(best_t, kc, tc)
    hit = tc == best_t[kc]
    best_row = np.full(n_keys, -1 if last else big.max, dtype=np.int64)
    (np.maximum if last else np.minimum).at(best_row, kc[hit], rows[hit])
    if not last:
        best_row[best_row == big.max] = -1
    return best_row, best_t


def _at(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``values[rows]``, NaN where ``rows`` is -1 (per key: the baseline record's value)."""
    import numpy as np

    out = np.full(rows.shape[0], np.nan)
    has = rows >= 0
    out[has] = values[rows[has]]
    return out


def _baseline(
    work: pl.DataFrame,
    a_idx: np.ndarray,
    value: np.ndarray,
    uln: np.ndarray,
    treatment_start: pl.DataFrame | None,
    config: ToxicityConfig,
) -> _Baseline:
    """Phase (baseline / pre / post / untreated), baseline record, value and ULN per key."""
    import numpy as np
    import polars as pl

    n = work.height
    n_an = len(LAB_UNITS)
    inst_s = work.get_column("instant")
    nat = np.iinfo(np.int64).min
    phys = inst_s.to_physical()
    instant = (phys.fill_null(nat) if phys.null_count() else phys).to_numpy()
    empty = np.zeros(0, dtype=np.int64)

    if treatment_start is None:
        if config.baseline_without_treatment == "none":
            return _Baseline(
                np.full(n, _POST, dtype=np.uint8), np.full(n, _NONE, dtype=np.int64),
                empty, np.zeros(0), np.zeros(0), None,
            )
        subjects = work.get_column("subject_id")
        table = subjects.drop_nulls().unique().to_frame("subject_id").with_row_index("__sidx")
        key = _keys(_join_subjects(subjects, table).get_column("__sidx"), a_idx, n_an)
        best_row, best_t = _pick(
            key, _candidates(key, value, None), instant, table.height * n_an, last=False
        )
        inst_known = inst_s.is_not_null().to_numpy()
        phase = np.empty(n, dtype=np.uint8)
        for s in _blocks(n):  # phase: baseline / pre (before the baseline instant) / post
            k = key[s:s + _BLOCK]
            kk = np.maximum(k, 0)
            brow = np.where(k >= 0, best_row[kk] if best_row.size else -1, -1)
            binst = best_t[kk] if best_t.size else np.full(k.shape[0], nat)
            is_base = brow == np.arange(s, s + k.shape[0])
            pre = (brow >= 0) & (binst != nat) & inst_known[s:s + _BLOCK] & (instant[s:s + _BLOCK] < binst)
            phase[s:s + _BLOCK] = np.where(is_base, _BASELINE, np.where(pre, _PRE, _POST))
        return _Baseline(phase, key, best_row, _at(value, best_row), _at(uln, best_row), None)

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
    ts = ts.select(cols).unique("subject_id", keep="first").with_row_index("__sidx")
    if config.baseline_cutoff == "day_end":
        end = pl.col("treatment_start").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        cut = (end + pl.duration(days=1)).alias("__cut")
        is_pre = pl.col("instant") < pl.col("__cut")
    else:
        cut = pl.col("treatment_start_instant").alias("__cut")
        is_pre = pl.col("instant") <= pl.col("__cut")
    joined = _join_subjects(
        work.get_column("subject_id"), ts.select("subject_id", "__sidx", "treatment_start", cut)
    )
    pre = (
        joined.select(inst_s, "__cut").select(is_pre.fill_null(False)).to_series().to_numpy()
    )
    start_col = joined.get_column("treatment_start")
    treated = start_col.is_not_null().to_numpy()
    key = _keys(joined.get_column("__sidx"), a_idx, n_an)
    best_row, _ = _pick(key, _candidates(key, value, pre), instant, ts.height * n_an, last=True)
    phase = np.empty(n, dtype=np.uint8)
    for s in _blocks(n):  # phase: untreated / baseline / pre / post
        k = key[s:s + _BLOCK]
        brow = np.where(k >= 0, best_row[np.maximum(k, 0)] if best_row.size else -1, -1)
        is_base = brow == np.arange(s, s + k.shape[0])
        phase[s:s + _BLOCK] = np.where(
            ~treated[s:s + _BLOCK], np.where(is_base, _UNTREATED_BASE, _UNTREATED),
            np.where(is_base, _BASELINE, np.where(pre[s:s + _BLOCK], _PRE, _POST)),
        )
    return _Baseline(phase, key, best_row, _at(value, best_row), _at(uln, best_row), start_col)


# --------------------------------------------------------------------------------------------
# rule evaluation in three-valued logic


class _Tri(NamedTuple):
    """A three-valued (Kleene) boolean array: ``t`` true, ``n`` unknown (``None`` = never)."""

    t: np.ndarray
    n: np.ndarray | None


def _and(a: _Tri, b: _Tri) -> _Tri:
    """Kleene AND: false if either is false, true if both true, else unknown."""
    t = a.t & b.t
    if a.n is None and b.n is None:
        return _Tri(t, None)
    a_ok = a.t if a.n is None else a.t | a.n  # not false
    b_ok = b.t if b.n is None else b.t | b.n
    return _Tri(t, a_ok & b_ok & ~t)


def _or(a: _Tri, b: _Tri) -> _Tri:
    """Kleene OR: true if either is true, unknown if none true and any unknown."""
    t = a.t | b.t
    if a.n is None and b.n is None:
        return _Tri(t, None)
    n = a.n if b.n is None else (b.n if a.n is None else a.n | b.n)
    return _Tri(t, n & ~t)


def _not(a: _Tri) -> _Tri:
    return _Tri(~a.t if a.n is None else ~(a.t | a.n), a.n)


def _compare(x: np.ndarray, op: str, thr: np.ndarray | float, rel: float) -> np.ndarray:
    """``x OP thr`` where values within a relative ``rel`` of ``thr`` count as equal to it.

    Values and limits were rounded to ``significant_digits`` on input; the tolerance absorbs the
    rounding error of ``factor x limit`` (all lab limits are positive). NaN compares false.
    """
    if op == "<":
        return x < thr * (1.0 - rel)
    if op == "<=":
        return x <= thr * (1.0 + rel)
    if op == ">":
        return x > thr * (1.0 + rel)
    return x >= thr * (1.0 - rel)


class _Rows(NamedTuple):
    """The numpy columns of one term's rows."""

    x: np.ndarray
    lln: np.ndarray
    uln: np.ndarray
    base: np.ndarray
    base_uln: np.ndarray
    use_base: np.ndarray


def _baseline_abnormal(r: _Rows, rel: float) -> _Tri:
    """Baseline above its ULN (the ULN recorded with the baseline, else the row's own ULN)."""
    import numpy as np

    thr = np.where(np.isnan(r.base_uln), r.uln, r.base_uln)
    n = np.isnan(r.base) | np.isnan(thr)
    return _Tri(_compare(r.base, ">", thr, rel), n)


def _grade_term(term: Term, r: _Rows, config: ToxicityConfig) -> tuple[np.ndarray, np.ndarray, _Tri]:
    """Grade codes, limit-reason bits (index into ``_REASONS``) and baseline-abnormal of a term.

    Same semantics as the rule chain: value missing -> ``_MISSING_VALUE``; optionally a value within
    the normal range -> 0; then from the highest grade down the first grade whose rules (OR) are
    true; a grade whose rules are unknown before any is true -> ``_UNKNOWN_LIMIT``; else 0.
    """
    import numpy as np

    rel = 10.0 ** -config.significant_digits
    m = r.x.shape[0]
    assume = config.missing_baseline == "assume_normal"
    uln_only = config.baseline_abnormal_mode == "uln_multiples"
    u = _Tri(r.use_base, None)
    babn_raw = _baseline_abnormal(r, rel)
    babn = _Tri(babn_raw.t, None) if assume else babn_raw
    babn_eff = _and(babn, u)  # never unknown where use_base is False
    refs = {"lln": r.lln, "uln": r.uln, "base": r.base}
    nan = {k: np.isnan(v) for k, v in refs.items()}

    def rule_tri(rule: Rule) -> _Tri | None:
        if rule.when == "baseline_abnormal" and uln_only:
            return None
        if rule.ref == "abs":
            cmp = _Tri(_compare(r.x, rule.op, rule.factor, rel), None)
        else:
            cmp = _Tri(_compare(r.x, rule.op, refs[rule.ref] * rule.factor, rel), nan[rule.ref])
        if rule.ref == "base":
            if assume:
                cmp = _Tri(cmp.t, None)
            cmp = _and(cmp, u)  # BL limits never apply to baseline / pre-treatment records
        if rule.when == "baseline_normal" and not uln_only:
            cmp = _and(cmp, _not(babn_eff))
        elif rule.when == "baseline_abnormal":
            cmp = _and(cmp, babn_eff)
        return cmp

    code = np.zeros(m, dtype=np.int8)
    missing = np.isnan(r.x)
    code[missing] = _MISSING_VALUE
    open_ = ~missing
    if not config.grade_within_normal_range:
        inside = (
            _compare(r.x, ">=", r.lln, rel) if term.direction == "low"
            else _compare(r.x, "<=", r.uln, rel)
        )
        open_ &= ~inside
    for grade, rules in term.grades.items():  # highest grade first
        parts = [p for p in (rule_tri(rule) for rule in rules) if p is not None]
        if not parts:
            continue
        cond = parts[0]
        for p in parts[1:]:
            cond = _or(cond, p)
        code[open_ & cond.t] = grade
        if cond.n is not None:
            code[open_ & cond.n] = _UNKNOWN_LIMIT
            open_ &= ~(cond.t | cond.n)
        else:
            open_ &= ~cond.t

    all_rules = [rule for rules in term.grades.values() for rule in rules]
    used = {rule.ref for rule in all_rules}
    whens = {rule.when for rule in all_rules}
    bits = np.zeros(m, dtype=np.uint8)
    unk = code == _UNKNOWN_LIMIT
    if unk.any():
        if "lln" in used:
            bits |= (unk & nan["lln"]).astype(np.uint8)
        if "uln" in used:
            bits |= (unk & nan["uln"]).astype(np.uint8) << 1
        if "base" in used and not assume:
            bits |= (unk & r.use_base & nan["base"]).astype(np.uint8) << 2
        if "baseline_abnormal" in whens and not uln_only and not assume:
            no_uln = unk & r.use_base & ~nan["base"] & np.isnan(r.base_uln) & nan["uln"]
            bits |= no_uln.astype(np.uint8) << 3
    return code, bits, babn_raw


# --------------------------------------------------------------------------------------------
# public entry point


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
    import numpy as np
    import polars as pl

    config = config or ToxicityConfig()
    crit: Criteria = load_criteria(criteria or config.criteria)
    d = config.significant_digits
    work, a_idx, u_idx, table = _prepare(labs, file)
    n = work.height
    # to the canonical unit, then round: conversion factors such as 0.1 leave 6.490000000000001;
    # keep the reported value exact. NaN counts as missing (null) from here on.
    cols = ("value", "lln", "uln")
    conv = {c: np.empty(n) for c in cols}
    unit_factors = bool(np.all(table[~np.isnan(table)] == 1.0))  # all rows already canonical
    for s in _blocks(n):
        if not unit_factors:
            f = table[a_idx[s:s + _BLOCK], u_idx[s:s + _BLOCK]]
            below = f < 1.0
            mul, div = np.where(below, 1.0, f), np.where(below, 1.0 / f, 1.0)
        for c in cols:  # units.scale(): v / (1/f) when f < 1, else v * f
            v = work.get_column(c).slice(s, _BLOCK).to_numpy()
            conv[c][s:s + _BLOCK] = _round_sig(v if unit_factors else (v * mul) / div, d)
    work = work.with_columns([pl.Series(c, conv[c], nan_to_null=True) for c in cols])
    value, uln = conv["value"], conv["uln"]
    bl = _baseline(work, a_idx, value, uln, treatment_start, config)
    self_graded = config.grade_baseline_record == "self"

    names = list(LAB_UNITS)
    terms = [crit.term_for(a) for a in names]
    clin = np.array(
        [max(t.clinical) if t is not None and t.clinical else -1 for t in terms] + [-1], dtype=np.int8
    )
    # per-row results; reason codes: 0 none, 1 missing value, 2 + bits limit reasons, 18 + a no term
    code = np.empty(n, dtype=np.int8)
    reason = np.empty(n, dtype=np.uint8)
    babn = np.empty(n, dtype=np.uint8)  # baseline_abnormal: 0 false, 1 true, 2 null
    base = np.empty(n)
    for s in _blocks(n):
        m = min(_BLOCK, n - s)
        a = a_idx[s:s + m]
        k = bl.key[s:s + m]
        kk = np.maximum(k, 0)
        has_key = k >= 0
        b_val = np.where(has_key, bl.base[kk], np.nan) if bl.base.size else np.full(m, np.nan)
        b_uln = np.where(has_key, bl.base_uln[kk], np.nan) if bl.base.size else np.full(m, np.nan)
        base[s:s + m] = b_val
        ph = bl.phase[s:s + m]
        use_base = ph == _POST
        if self_graded:
            use_base |= (ph == _BASELINE) | (ph == _PRE)
        x, lo, hi = (conv[c][s:s + m] for c in cols)
        c_b = np.full(m, _NO_TERM, dtype=np.int8)
        r_b = (18 + a).astype(np.uint8)
        n_b = np.full(m, 2, dtype=np.uint8)
        order = np.argsort(a, kind="stable")  # radix sort of uint8: the block's rows by analyte
        bounds = np.concatenate([[0], np.cumsum(np.bincount(a, minlength=len(names)))])
        for i, term in enumerate(terms):
            if term is None or bounds[i] == bounds[i + 1]:
                continue
            idx = order[bounds[i]:bounds[i + 1]]
            rows = _Rows(x[idx], lo[idx], hi[idx], b_val[idx], b_uln[idx], use_base[idx])
            c_t, bits, babn_t = _grade_term(term, rows, config)
            c_b[idx] = c_t
            r_b[idx] = np.where(
                c_t == _MISSING_VALUE, 1, np.where(c_t == _UNKNOWN_LIMIT, 2 + bits, 0)
            )
            if term.direction == "high":
                nb = babn_t.t.astype(np.uint8)
                if babn_t.n is not None:
                    nb[babn_t.n] = 2
                n_b[idx] = nb
        code[s:s + m] = c_b
        reason[s:s + m] = r_b
        babn[s:s + m] = n_b

    # baseline_grade: the grade of the subject's baseline record of the analyte (-1 = none)
    has_base = bl.best_row >= 0
    n_keys = bl.best_row.shape[0]
    bgrade = np.full(n_keys + 1, -1, dtype=np.int8)
    bgrade[:-1][has_base] = np.maximum(code[bl.best_row[has_base]], -1)
    bgrade_row = np.empty(n, dtype=np.int8)
    for s in _blocks(n):
        k = bl.key[s:s + _BLOCK]
        bgrade_row[s:s + _BLOCK] = bgrade[np.where(k >= 0, k, n_keys)]

    reasons: list[str | None] = [None, "missing value"]
    reasons += ["; ".join(t for j, t in enumerate(_REASONS) if k >> j & 1) for k in range(16)]
    reasons += [f"no {crit.name} term for analyte {a}" for a in names]

    def lookup(values: list, dtype: pl.DataType, index: str) -> pl.Expr:
        return pl.lit(pl.Series(values, dtype=dtype)).gather(pl.col(index))

    raw = pl.DataFrame({
        "__a": a_idx, "__code": code, "__reason": reason, "__babn": babn, "__phase": bl.phase,
        "__bgrade": bgrade_row, "__clin": clin[a_idx],
    })
    c = pl.col("__code")
    new = raw.select(
        lookup([t.term if t else None for t in terms], pl.String, "__a").alias("term"),
        lookup([t.category if t else None for t in terms], pl.String, "__a").alias("category"),
        lookup([t.direction if t else None for t in terms], pl.String, "__a").alias("direction"),
        pl.lit(crit.name, dtype=pl.String).alias("criteria"),
        lookup(list(_PHASES), pl.String, "__phase").alias("phase"),
        pl.col("__phase").is_in([_BASELINE, _UNTREATED_BASE]).alias("baseline"),
        pl.lit(pl.Series("base", base, nan_to_null=True)).alias("base"),
        pl.when(pl.col("__babn") < 2).then(pl.col("__babn") == 1).alias("baseline_abnormal"),
        pl.when(c >= 0).then(c).alias("grade"),
        (c >= 0).alias("gradable"),
        lookup(reasons, pl.String, "__reason").alias("not_gradable_reason"),
        pl.when(pl.col("__bgrade") >= 0).then(pl.col("__bgrade")).alias("baseline_grade"),
        lookup([t.max_lab_grade if t else None for t in terms], pl.Int8, "__a").alias("max_lab_grade"),
        ((c >= 1) & (c < pl.col("__clin"))).alias("clinical_review"),
    )
    keep = [c for c in labs.columns if c not in ("lln", "uln")] + ["lln", "uln"]
    extra = [] if bl.treatment_start is None else [bl.treatment_start]
    return work.select(keep).hstack([*extra, *new.get_columns()])
