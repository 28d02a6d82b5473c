"""Small record frames for the protocol tests (one fully eligible, treated subject to vary)."""

from __future__ import annotations

from datetime import UTC as UTC_TZ
from datetime import date, datetime, timedelta

import polars as pl

UTC = pl.Datetime("us", "UTC")
ENROL = date(2004, 3, 1)
FIRST = date(2004, 3, 10)  # first treatment


def at(d: date, hour: int = 10) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC_TZ)


def day(n: int) -> date:
    """Date ``n`` days after first treatment."""
    return FIRST + timedelta(days=n)


def subject(**over) -> dict:
    row = {
        "subject_id": "S01", "site_id": "A", "sex": "M", "age": 57.0, "birth_year": None,
        "enrolment_date": ENROL, "histology": "well-differentiated neuroendocrine carcinoma",
        "primary_site": "small intestine", "liver_metastases": True,
        "progression_date": date(2004, 1, 15), "performance_status": 1,
    }
    row.update(over)
    return row


SUBJECT_SCHEMA = {
    "subject_id": pl.String, "site_id": pl.String, "sex": pl.String, "age": pl.Float64,
    "birth_year": pl.Int64, "enrolment_date": pl.Date, "histology": pl.String,
    "primary_site": pl.String, "liver_metastases": pl.Boolean, "progression_date": pl.Date,
    "performance_status": pl.Int64,
}
LAB_SCHEMA = {
    "subject_id": pl.String, "instant": UTC, "analyte": pl.String, "value": pl.Float64,
    "unit": pl.String, "lln": pl.Float64, "uln": pl.Float64,
}
ADMIN_SCHEMA = {
    "subject_id": pl.String, "cycle": pl.Int64, "admin_instant": UTC,
    "radiopharmaceutical": pl.String, "nuclide": pl.String, "calibrated_activity": pl.Float64,
    "calibration_instant": UTC, "activity_unit": pl.String, "route": pl.String,
    "embolisation": pl.Boolean,
}
UNITS = {"PLAT": "10^9/L", "NEUT": "10^9/L", "HGB": "g/dL", "BILI": "umol/L",
         "CREAT": "umol/L", "WBC": "10^9/L"}
ULN = {"BILI": 21.0, "CREAT": 110.0}


def subjects(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=SUBJECT_SCHEMA)


def labs(rows: list[tuple]) -> pl.DataFrame:
    """rows: (subject_id, datetime, analyte, value[, uln])."""
    out = []
    for r in rows:
        sid, inst, analyte, value = r[:4]
        uln = r[4] if len(r) > 4 else ULN.get(analyte)
        out.append({"subject_id": sid, "instant": inst, "analyte": analyte, "value": value,
                    "unit": UNITS[analyte], "lln": None, "uln": uln})
    return pl.DataFrame(out, schema=LAB_SCHEMA)


def screening_labs(sid: str = "S01", when: datetime | None = None, **over) -> list[tuple]:
    when = when or at(date(2004, 3, 5), 8)
    values = {"PLAT": 210.0, "NEUT": 3.2, "HGB": 12.5, "BILI": 12.0, "CREAT": 80.0}
    values.update(over)
    return [(sid, when, a, v) for a, v in values.items()]


def admins(rows: list[tuple]) -> pl.DataFrame:
    """rows: (subject_id, cycle, date or datetime[, activity GBq])."""
    out = []
    for r in rows:
        sid, cyc, when = r[:3]
        gbq = r[3] if len(r) > 3 else 1.0
        inst = when if isinstance(when, datetime) else at(when)
        out.append({"subject_id": sid, "cycle": cyc, "admin_instant": inst,
                    "radiopharmaceutical": "Y-90-DOTA-lanreotide", "nuclide": "Y-90",
                    "calibrated_activity": gbq, "calibration_instant": inst - timedelta(hours=2),
                    "activity_unit": "GBq", "route": "intra-arterial hepatic",
                    "embolisation": False})
    return pl.DataFrame(out, schema=ADMIN_SCHEMA)


def scans(rows: list[tuple]) -> pl.DataFrame:
    """rows: (subject_id, scan_date, uptake_grade[, tracer])."""
    return pl.DataFrame(
        [{"subject_id": r[0], "tracer": r[3] if len(r) > 3 else "In-111 pentetreotide",
          "scan_date": r[1], "uptake_grade": r[2]} for r in rows],
        schema={"subject_id": pl.String, "tracer": pl.String, "scan_date": pl.Date,
                "uptake_grade": pl.Int64},
    )


def assessments(rows: list[tuple]) -> pl.DataFrame:
    """rows: (subject_id, date[, non_target_status[, new_lesions]])."""
    return pl.DataFrame(
        [{"subject_id": r[0], "assessment_date": r[1], "modality": "CT",
          "non_target_status": r[2] if len(r) > 2 else "non-CR/non-PD",
          "new_lesions": r[3] if len(r) > 3 else False} for r in rows],
        schema={"subject_id": pl.String, "assessment_date": pl.Date, "modality": pl.String,
                "non_target_status": pl.String, "new_lesions": pl.Boolean},
    )


def follow_up(rows: list[tuple]) -> pl.DataFrame:
    """rows: (subject_id, last_known_alive_date, death_date, new_therapy_date)."""
    return pl.DataFrame(
        [{"subject_id": r[0], "last_known_alive_date": r[1], "death_date": r[2],
          "death_cause": None, "new_therapy_date": r[3]} for r in rows],
        schema={"subject_id": pl.String, "last_known_alive_date": pl.Date,
                "death_date": pl.Date, "death_cause": pl.String, "new_therapy_date": pl.Date},
    )


def adverse_events(rows: list[tuple]) -> pl.DataFrame:
    """rows: (subject_id, term, grade, start_date, end_date[, attribution])."""
    return pl.DataFrame(
        [{"subject_id": r[0], "term": r[1], "grade": r[2], "start_date": r[3],
          "end_date": r[4], "serious": False,
          "attribution": r[5] if len(r) > 5 else "possible"} for r in rows],
        schema={"subject_id": pl.String, "term": pl.String, "grade": pl.Int64,
                "start_date": pl.Date, "end_date": pl.Date, "serious": pl.Boolean,
                "attribution": pl.String},
    )


def eligible_frames() -> dict[str, pl.DataFrame]:
    """One subject, S01, who meets every default criterion and received cycle 1 on FIRST."""
    return {
        "subject": subjects(subject()),
        "administration": admins([("S01", 1, FIRST)]),
        "scintigraphy": scans([("S01", date(2004, 2, 10), 4)]),
        "lab": labs(screening_labs()),
    }


def test_fixture_is_consistent():
    f = eligible_frames()
    assert f["subject"].height == 1 and f["lab"].height == 5
    assert f["administration"]["admin_instant"].dtype == UTC
