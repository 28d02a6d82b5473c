"""Validation of a study's record tables: types, ranges, required values, units, cross-record checks.

Vectorised with Polars: every check is one expression over a whole table; Python only loops over
the problems found (to build messages). Input tables are all-text frames (as read from CSV/XLSX)
with a ``__row`` column holding the spreadsheet row number (header = row 1). The rules are those of
``docs/import-format.md``; each option below names its source.

All problems of all files are collected and raised together as one :class:`InputError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from radiotrial.errors import InputError, Problem
from radiotrial.store.dictionary import (
    BY_NAME,
    CODE_PATTERN,
    KIND_TEXT,
    RECORD_TYPES,
    ROW,
    Column,
    RecordType,
)
from radiotrial.units import ACTIVITY_UNITS, LENGTH_UNITS, convert_labs, scale

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl


#: Largest number of problems listed in one error (the count of the rest is given).
MAX_PROBLEMS = 1000

#: Half-lives in days for the residual-activity check (NNDC NuDat 3 / DDEP recommended values:
#: Y-90 64.05 h, Lu-177 6.647 d, Ho-166 26.82 h, I-131 8.0252 d, In-111 2.8047 d).
#: A nuclide not listed is checked without decay correction, a weaker but never false check.
HALF_LIFE_DAYS: dict[str, float] = {
    "Y-90": 64.05 / 24, "Lu-177": 6.647, "Ho-166": 26.82 / 24, "I-131": 8.0252, "In-111": 2.8047,
}


@dataclass(frozen=True)
class ValidationOptions:
    """Named options of the import checks (defaults: docs/import-format.md, cross-record checks)."""

    #: Records (administration, measurement, tumour/clinical assessment, lab) may precede
    #: ``enrolment_date`` by at most this many days (screening window).
    screening_window_days: int = 90
    #: Relative tolerance of "residual (decayed to injection) not above calibrated activity",
    #: for rounding of the recorded activities.
    residual_tolerance: float = 1e-6


# --------------------------------------------------------------------------------------------
# one table


def _instant_expr(name: str):
    import polars as pl

    r = pl.col(name)
    norm = (
        r.str.replace(r"[zZ]$", "+00:00")
        .str.replace(r"^(\d{4}-\d{2}-\d{2})[ tT]", "${1}T")
        .str.replace(r"T(\d{2}:\d{2})([+-])", "T${1}:00${2}")
    )
    return norm.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_zone="UTC", time_unit="us"
    )


def _parse_expr(c: Column):
    import polars as pl

    r = pl.col(c.name)
    if c.kind == "int":
        return r.cast(pl.Int64, strict=False)
    if c.kind == "float":
        f = r.cast(pl.Float64, strict=False)
        return pl.when(f.is_finite()).then(f).otherwise(None)
    if c.kind == "bool":
        table = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
        return r.str.to_lowercase().replace_strict(table, default=None, return_dtype=pl.Boolean)
    if c.kind == "date":
        return r.str.to_date("%Y-%m-%d", strict=False)
    if c.kind == "instant":
        return _instant_expr(c.name)
    return r


def _collect(frame: pl.DataFrame, mask, file: str, column: str | None, reason: str,
             value=None) -> list[Problem]:
    """Problems for the rows of ``frame`` where ``mask`` is true (value = ``value`` or the column)."""
    import polars as pl

    value = value if value is not None else (pl.col(column) if column else pl.lit(None))
    bad = frame.filter(mask.fill_null(False)).select(pl.col(ROW), value.alias("__v"))
    return [Problem(file, row, column, v.isoformat() if hasattr(v, "isoformat") else v, reason)
            for row, v in bad.iter_rows()]


def parse_table(rt: RecordType, raw: pl.DataFrame, file: str) -> tuple[pl.DataFrame, list[Problem]]:
    """Check and type one all-text table; returns the typed frame (with ``__row``) and problems.

    Header problems (unknown or missing required column) are reported at row 1. Values that do not
    parse are set to null in the typed frame and reported with their text.
    """
    import polars as pl

    if ROW not in raw.columns:
        raw = raw.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
    problems: list[Problem] = []
    names = set(rt.names)
    for col in raw.columns:
        if col != ROW and col not in names:
            problems.append(Problem(file, 1, col, None,
                                    f"unknown column; {rt.file} has: {', '.join(rt.names)}"))
    for c in rt.columns:
        if c.name not in raw.columns:
            if c.required:
                problems.append(Problem(file, 1, c.name, None, "required column missing"))
            raw = raw.with_columns(pl.lit(None, dtype=pl.String).alias(c.name))
    raw = raw.with_columns(
        [pl.col(c.name).cast(pl.String).str.strip_chars().replace("", None) for c in rt.columns]
    )
    typed = raw.select(pl.col(ROW), *[_parse_expr(c).alias(c.name) for c in rt.columns])
    both = raw.select(ROW, *[pl.col(c.name).alias(f"__raw_{c.name}") for c in rt.columns])
    both = both.hstack(typed.drop(ROW))
    for c in rt.columns:
        rawc, val = pl.col(f"__raw_{c.name}"), pl.col(c.name)
        if c.required:
            problems += _collect(both, rawc.is_null(), file, c.name, "required value missing",
                                 value=rawc)
        if c.kind in ("int", "float", "bool", "date", "instant"):
            reason = f"not a valid {KIND_TEXT[c.kind]}"
            if c.kind == "instant":
                naive = rawc.is_not_null() & ~rawc.str.contains(r"([zZ]|[+-]\d{2}:?\d{2})$")
                problems += _collect(both, naive, file, c.name,
                                     "instant without UTC offset (write e.g. "
                                     "2004-03-02T10:30:00+01:00 or ...Z)", value=rawc)
                bad = rawc.is_not_null() & val.is_null() & ~naive
            else:
                bad = rawc.is_not_null() & val.is_null()
            if c.kind in ("int", "float"):
                # "4,0": a decimal comma (European locale) rather than a dot
                comma = rawc.str.contains(r"^[+-]?\d*,\d+$")
                problems += _collect(both, bad & comma, file, c.name,
                                     f"{reason}; use a dot as decimal separator", value=rawc)
                bad = bad & ~comma
            problems += _collect(both, bad, file, c.name, reason, value=rawc)
        if c.kind == "code":
            problems += _collect(both, ~val.str.contains(CODE_PATTERN), file, c.name,
                                 "not a valid code: letters, digits, '_', '.', '-' (max 32), "
                                 "starting with a letter or digit")
        if c.allowed:
            problems += _collect(both, ~val.is_in(list(c.allowed)), file, c.name,
                                 f"not allowed; use one of: {', '.join(c.allowed)}")
        if c.min is not None or c.max is not None:
            out = pl.lit(False)
            if c.min is not None:
                out = out | (val <= c.min if c.min_exclusive else val < c.min)
            if c.max is not None:
                out = out | (val > c.max)
            problems += _collect(both, out, file, c.name,
                                 f"out of range: must be {c.range_text()}", value=rawc)
    problems += _row_rules(rt, typed, file)
    problems += _duplicates(rt, typed, file)
    return typed, problems


def _duplicates(rt: RecordType, typed: pl.DataFrame, file: str) -> list[Problem]:
    import polars as pl

    key = list(rt.key)
    if typed.height == 0:
        return []
    dup = typed.filter(pl.all_horizontal([pl.col(k).is_not_null() for k in key]))
    dup = dup.with_columns(pl.col(ROW).min().over(key).alias("__first")).filter(
        pl.col(ROW) != pl.col("__first")
    )
    col = key[-1]
    out = []
    for row in dup.select(ROW, "__first", *key).iter_rows(named=True):
        what = ", ".join(f"{k}={row[k]}" for k in key)
        out.append(Problem(file, row[ROW], col, row[col],
                           f"duplicate record ({what}); first at row {row['__first']}"))
    return out


def _row_rules(rt: RecordType, t: pl.DataFrame, file: str) -> list[Problem]:
    """Checks between columns of one row (import-format.md, per-file notes)."""
    import polars as pl

    c = pl.col
    p: list[Problem] = []
    if rt.name == "subject":
        p += _collect(t, c("age").is_null() & c("birth_year").is_null(), file, "age",
                      "one of age / birth_year is required")
    elif rt.name == "administration":
        p += _collect(t, c("residual_activity").is_not_null() & c("residual_instant").is_null(),
                      file, "residual_instant", "required with residual_activity")
        p += _collect(t, c("residual_instant") < c("admin_instant"), file, "residual_instant",
                      "residual measured before the administration (admin_instant)")
    elif rt.name == "measurement":
        p += _collect(t, (c("state") == "present") & c("longest_diameter").is_null(), file,
                      "longest_diameter", "a present lesion needs longest_diameter")
    elif rt.name == "lab":
        p += _collect(t, c("lln") > c("uln"), file, "lln", "lln above uln")
    elif rt.name == "adverse_event":
        p += _collect(t, c("end_date") < c("start_date"), file, "end_date", "before start_date")
    elif rt.name == "follow_up":
        p += _collect(t, c("death_date") < c("last_known_alive_date"), file, "death_date",
                      "before last_known_alive_date")
    return p


def convert_units(rt: RecordType, t: pl.DataFrame, file: str) -> tuple[pl.DataFrame, list[Problem]]:
    """Convert activities to GBq, diameters to mm and labs to their canonical unit (units.py)."""
    import polars as pl

    if rt.name == "administration":
        f = pl.col("activity_unit").replace_strict(ACTIVITY_UNITS, default=None,
                                                   return_dtype=pl.Float64)
        t = t.with_columns(
            scale(pl.col("calibrated_activity"), f), scale(pl.col("residual_activity"), f),
            pl.when(f.is_not_null()).then(pl.lit("GBq")).otherwise(pl.col("activity_unit"))
            .alias("activity_unit"),
        )
    elif rt.name == "measurement":
        f = pl.col("unit").replace_strict(LENGTH_UNITS, default=None, return_dtype=pl.Float64)
        cols = ("longest_diameter", "perpendicular_diameter", "short_axis")
        t = t.with_columns(
            *[scale(pl.col(n), f) for n in cols],
            pl.when(f.is_not_null()).then(pl.lit("mm")).otherwise(pl.col("unit")).alias("unit"),
        )
    elif rt.name == "lab":
        ok = pl.col("analyte").is_not_null() & pl.col("unit").is_not_null()
        part = t.filter(ok)
        try:
            conv = convert_labs(part, file=file, row_offset=0)
        except InputError as exc:
            rows = part.get_column(ROW).to_list()
            problems = [Problem(file, rows[q.row], q.field, q.value, q.reason)
                        for q in exc.problems]
            return t, problems
        t = pl.concat([conv, t.filter(~ok)]).sort(ROW)
    return t, []


# --------------------------------------------------------------------------------------------
# across tables


def _dated(frames: dict[str, pl.DataFrame], columns: list[tuple[str, str]]) -> pl.DataFrame:
    """Long table (subject_id, date, rt, col, __row) of the given (record type, column) dates."""
    import polars as pl

    parts = []
    for name, col in columns:
        f = frames.get(name)
        if f is None or f.height == 0:
            continue
        d = pl.col(col).dt.date() if f.schema[col] == pl.Datetime("us", "UTC") else pl.col(col)
        parts.append(f.select(
            pl.col("subject_id"), d.alias("date"), pl.lit(name).alias("rt"),
            pl.lit(col).alias("col"), pl.col(ROW),
        ).filter(pl.col("date").is_not_null() & pl.col("subject_id").is_not_null()))
    schema = {"subject_id": pl.String, "date": pl.Date, "rt": pl.String, "col": pl.String,
              ROW: pl.Int64}
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


#: Every dated column of a subject's records (for death / last-known-alive checks).
_ALL_DATES = [
    ("subject", "enrolment_date"), ("subject", "progression_date"),
    ("eligibility", "assessed_date"), ("scintigraphy", "scan_date"),
    ("administration", "admin_instant"), ("administration", "residual_instant"),
    ("measurement", "assessment_date"), ("tumour_assessment", "assessment_date"),
    ("lab", "instant"), ("marker", "sample_date"), ("clinical", "assessment_date"),
    ("adverse_event", "start_date"), ("adverse_event", "end_date"),
    ("follow_up", "new_therapy_date"),
]
#: Screening records: they must not precede enrolment by more than the screening window
#: (import-format.md: baseline imaging / measurements, assessments, labs).
_AFTER_ENROLMENT = [
    ("measurement", "assessment_date"), ("tumour_assessment", "assessment_date"),
    ("clinical", "assessment_date"), ("lab", "instant"),
]
#: Treatment records: none may precede enrolment at all (treatment starts after enrolment,
#: ICH E6(R3) §3.10 / protocol; the screening window is for screening records only).
_NOT_BEFORE_ENROLMENT = [("administration", "admin_instant")]


def check_study(frames: dict[str, pl.DataFrame], files: dict[str, str],
                options: ValidationOptions | None = None) -> list[Problem]:
    """Cross-record checks of import-format.md on typed frames (with ``__row``), canonical units."""
    import polars as pl

    opt = options or ValidationOptions()
    p: list[Problem] = []
    subj = frames.get("subject")
    subj_keys = (subj.select("subject_id").drop_nulls().unique() if subj is not None
                 else pl.DataFrame(schema={"subject_id": pl.String}))

    # references resolve
    site = frames.get("site")
    if subj is not None:
        sites = site.select("site_id") if site is not None else pl.DataFrame(
            schema={"site_id": pl.String})
        bad = subj.filter(pl.col("site_id").is_not_null()).join(sites, on="site_id", how="anti")
        p += _collect(bad, pl.lit(True), files.get("subject", "subject.csv"), "site_id",
                      "unknown site (not in site.csv)")
    for rt in RECORD_TYPES:
        f = frames.get(rt.name)
        if rt.name in ("site", "subject") or f is None or f.height == 0:
            continue
        bad = f.filter(pl.col("subject_id").is_not_null()).join(subj_keys, on="subject_id",
                                                                 how="anti")
        p += _collect(bad, pl.lit(True), files[rt.name], "subject_id",
                      "unknown subject (not in subject.csv)")
    meas, les = frames.get("measurement"), frames.get("lesion")
    if meas is not None and meas.height:
        keys = (les.select("subject_id", "lesion_id") if les is not None
                else pl.DataFrame(schema={"subject_id": pl.String, "lesion_id": pl.String}))
        bad = meas.filter(pl.col("lesion_id").is_not_null()).join(
            keys, on=["subject_id", "lesion_id"], how="anti")
        p += _collect(bad, pl.lit(True), files["measurement"], "lesion_id",
                      "unknown lesion of this subject (not in lesion.csv)")

    if subj is None or subj.height == 0:
        return p
    enrol = subj.select("subject_id", pl.col("enrolment_date").alias("__enrol"))

    # nothing before enrolment minus the screening window
    early = _dated(frames, _AFTER_ENROLMENT).join(enrol, on="subject_id").filter(
        pl.col("date") < pl.col("__enrol") - pl.duration(days=opt.screening_window_days))
    for rt_name, col, row, date, en in early.select("rt", "col", ROW, "date", "__enrol").iter_rows():
        p.append(Problem(files[rt_name], row, col, date.isoformat(),
                         f"more than {opt.screening_window_days} days before enrolment_date "
                         f"{en.isoformat()}"))
    # no treatment before enrolment (same day allowed; dates of instants in UTC)
    before = _dated(frames, _NOT_BEFORE_ENROLMENT).join(enrol, on="subject_id").filter(
        pl.col("date") < pl.col("__enrol"))
    for rt_name, col, row, date, en in before.select("rt", "col", ROW, "date", "__enrol").iter_rows():
        p.append(Problem(files[rt_name], row, col, date.isoformat(),
                         f"before enrolment_date {en.isoformat()}: treatment cannot precede "
                         "enrolment"))

    # administrations: increasing instants by cycle; residual not above calibrated activity
    adm = frames.get("administration")
    if adm is not None and adm.height:
        a = adm.filter(pl.col("cycle").is_not_null() & pl.col("admin_instant").is_not_null())
        a = a.sort("subject_id", "cycle").with_columns(
            pl.col("admin_instant").shift(1).over("subject_id").alias("__prev"),
            pl.col("cycle").shift(1).over("subject_id").alias("__pcycle"))
        for row, val, pc in a.filter(pl.col("admin_instant") <= pl.col("__prev")).select(
                ROW, "admin_instant", "__pcycle").iter_rows():
            p.append(Problem(files["administration"], row, "admin_instant", val.isoformat(),
                             f"not after the administration of cycle {pc}"))
        p += _residual_check(adm, files["administration"], opt)

    p += _disposition_checks(frames, files, enrol)

    # death and last-known-alive against every record date
    fu = frames.get("follow_up")
    if fu is not None and fu.height:
        dated = _dated(frames, _ALL_DATES)
        latest = dated.sort("date", ROW).group_by("subject_id").agg(pl.all().last())
        adm_last = _dated(frames, [("administration", "admin_instant")]).group_by(
            "subject_id").agg(pl.col("date").max().alias("__last_adm"))
        j = fu.join(latest, on="subject_id", how="left", suffix="_rec").join(
            adm_last, on="subject_id", how="left")
        ffile = files["follow_up"]
        for row, dd, la in j.filter(pl.col("death_date") < pl.col("__last_adm")).select(
                ROW, "death_date", "__last_adm").iter_rows():
            p.append(Problem(ffile, row, "death_date", dd.isoformat(),
                             f"before the last administration ({la.isoformat()})"))
        lka_dated = dated.filter(~pl.col("col").is_in(["end_date"]))
        lka_latest = lka_dated.sort("date", ROW).group_by("subject_id").agg(pl.all().last())
        for label, col, src in (("death_date", "death_date", latest),
                                ("last_known_alive_date", "last_known_alive_date", lka_latest)):
            jj = fu.select(ROW, "subject_id", col).join(src, on="subject_id", suffix="_rec")
            bad = jj.filter(pl.col(col) < pl.col("date"))
            for row, v, rtn, rc, rrow, d in bad.select(
                    ROW, col, "rt", "col", f"{ROW}_rec", "date").iter_rows():
                p.append(Problem(ffile, row, label, v.isoformat(),
                                 f"before {rc} {d.isoformat()} in {files.get(rtn, rtn)} "
                                 f"row {rrow}"))
    return p


#: Records that end with the study: none may be dated after a subject's end of study
#: (follow-up survival status and adverse events may; docs/import-format.md, disposition).
_STUDY_RECORDS = [
    ("scintigraphy", "scan_date"), ("administration", "admin_instant"),
    ("measurement", "assessment_date"), ("tumour_assessment", "assessment_date"),
    ("lab", "instant"), ("marker", "sample_date"), ("clinical", "assessment_date"),
]


def _disposition_checks(frames: dict[str, pl.DataFrame], files: dict[str, str],
                        enrol: pl.DataFrame) -> list[Problem]:
    """Disposition (CDISC SDTM DS) against enrolment, administrations, death and other records.

    Date not before enrolment; end of treatment not before the last administration; end of study
    not before end of treatment and not after death; no study record after end of study.
    """
    import polars as pl

    from radiotrial.store.dictionary import END_OF_STUDY, END_OF_TREATMENT

    disp = frames.get("disposition")
    if disp is None or disp.height == 0:
        return []
    dfile = files["disposition"]
    d = disp.filter(pl.col("subject_id").is_not_null() & pl.col("date").is_not_null()
                    & pl.col("event").is_not_null()).select("subject_id", "event", "date", ROW)
    p: list[Problem] = []
    for row, v, en in d.join(enrol, on="subject_id").filter(
            pl.col("date") < pl.col("__enrol")).select(ROW, "date", "__enrol").iter_rows():
        p.append(Problem(dfile, row, "date", v.isoformat(),
                         f"before enrolment_date {en.isoformat()}"))
    eot = d.filter(pl.col("event") == END_OF_TREATMENT).select(
        "subject_id", pl.col("date").alias("__eot"), pl.col(ROW).alias("__eot_row"))
    eos = d.filter(pl.col("event") == END_OF_STUDY).select(
        "subject_id", pl.col("date").alias("__eos"), pl.col(ROW).alias("__eos_row"))
    # end of treatment not before the last administration (= no administration after it)
    adm = _dated(frames, [("administration", "admin_instant")])
    last_adm = adm.sort("date", ROW).group_by("subject_id").agg(pl.all().last())
    bad = eot.join(last_adm, on="subject_id").filter(pl.col("__eot") < pl.col("date"))
    for row, v, la, arow in bad.select("__eot_row", "__eot", "date", ROW).iter_rows():
        p.append(Problem(dfile, row, "date", v.isoformat(),
                         f"end of treatment before the last administration {la.isoformat()} "
                         f"in {files['administration']} row {arow}"))
    # end of study not before end of treatment
    bad = eos.join(eot, on="subject_id").filter(pl.col("__eos") < pl.col("__eot"))
    for row, v, e, erow in bad.select("__eos_row", "__eos", "__eot", "__eot_row").iter_rows():
        p.append(Problem(dfile, row, "date", v.isoformat(),
                         f"end of study before end of treatment {e.isoformat()} (row {erow})"))
    # no disposition after death
    fu = frames.get("follow_up")
    if fu is not None and fu.height:
        death = fu.filter(pl.col("death_date").is_not_null()).select(
            "subject_id", "death_date", pl.col(ROW).alias("__fu_row"))
        bad = d.join(death, on="subject_id").filter(pl.col("date") > pl.col("death_date"))
        for row, v, dd, frow in bad.select(ROW, "date", "death_date", "__fu_row").iter_rows():
            p.append(Problem(dfile, row, "date", v.isoformat(),
                             f"after death_date {dd.isoformat()} in {files['follow_up']} "
                             f"row {frow}"))
    # no study record after end of study
    late = _dated(frames, _STUDY_RECORDS).join(eos, on="subject_id").filter(
        pl.col("date") > pl.col("__eos"))
    for rtn, col, row, v, e, erow in late.select(
            "rt", "col", ROW, "date", "__eos", "__eos_row").iter_rows():
        p.append(Problem(files[rtn], row, col, v.isoformat(),
                         f"after end of study {e.isoformat()} in {dfile} row {erow}"))
    return p


def _residual_check(adm: pl.DataFrame, file: str, opt: ValidationOptions) -> list[Problem]:
    """Residual activity decayed back to injection must not exceed the calibrated activity there.

    A_res·exp(λ(t_res − t_adm)) ≤ A_cal·exp(−λ(t_adm − t_cal))  ⇔  A_res ≤ A_cal·exp(−λ(t_res − t_cal)).
    """
    import polars as pl

    lam = pl.col("nuclide").replace_strict(
        {k: 0.6931471805599453 / v for k, v in HALF_LIFE_DAYS.items()}, default=0.0,
        return_dtype=pl.Float64)
    dt_days = (pl.col("residual_instant") - pl.col("calibration_instant")).dt.total_microseconds() \
        / 86_400e6
    limit = pl.col("calibrated_activity") * (-lam * dt_days).exp() * (1 + opt.residual_tolerance)
    return _collect(adm, pl.col("residual_activity") > limit, file, "residual_activity",
                    "above the calibrated activity once both are decayed to the same instant")


# --------------------------------------------------------------------------------------------
# everything


def validate_tables(raw: dict[str, pl.DataFrame], files: dict[str, str] | None = None,
                    options: ValidationOptions | None = None) -> dict[str, pl.DataFrame]:
    """Validate all-text tables of a study and return typed, canonical frames (without ``__row``).

    ``raw`` maps record type → all-text frame (optionally with ``__row``); ``files`` maps record
    type → the name used in messages (default ``<type>.csv``). Raises :class:`InputError` with
    every problem found in every table.
    """
    files = {name: (files or {}).get(name, f"{name}.csv") for name in BY_NAME}
    problems: list[Problem] = []
    if "subject" not in raw:
        problems.append(Problem(files["subject"], None, None, None,
                                "subject table missing (every study needs subject.csv)"))
    typed: dict[str, pl.DataFrame] = {}
    for name, frame in raw.items():
        rt = BY_NAME[name]
        t, probs = parse_table(rt, frame, files[name])
        t, unit_probs = convert_units(rt, t, files[name])
        typed[name] = t
        problems += probs + unit_probs
    problems += check_study(typed, files, options)
    if problems:
        raise_problems(problems)
    return {name: t.drop(ROW) for name, t in typed.items()}


def raise_problems(problems: list[Problem], outcome: str = "nothing was imported") -> None:
    """Raise one :class:`InputError` listing the problems (sorted by file and row; capped)."""
    problems = sorted(problems, key=lambda q: (q.file or "", q.row or 0, q.field or ""))
    files = sorted({q.file for q in problems if q.file})
    n = len(problems)
    summary = f"{n} problem(s) in {', '.join(files) or 'the input'}; {outcome}"
    if n > MAX_PROBLEMS:
        summary += f" (first {MAX_PROBLEMS} listed)"
        problems = problems[:MAX_PROBLEMS]
    raise InputError(problems, summary=summary)
