"""The data dictionary: every record type's columns, types, units, required flags, allowed values.

One place, used by the database schema (``store/schema.py``), validation (``study/validation.py``),
the template (``study/template.py``) and the documentation (``docs/import-format.md``). It lives in
the storage layer because the schema is built from it and layers depend downwards only
(ARCHITECTURE.md, Layers); it imports nothing above ``radiotrial.units``. Column names and record
types are the contract of ``docs/import-format.md``; do not rename them.

Kinds of column:

``code``     pseudonymous code, ``^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`` (import-format.md, Conventions)
``str``      free text (kept verbatim after stripping surrounding blanks)
``enum``     one of ``allowed`` (exact spelling)
``int``      whole number;  ``float``: decimal number (finite)
``bool``     ``true``/``false`` (``yes``/``no``, ``1``/``0`` accepted, case-insensitive)
``date``     ``YYYY-MM-DD``;  ``instant``: ISO 8601 with a UTC offset, stored in UTC
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from radiotrial.units import ACTIVITY_UNITS, LAB_UNITS, LENGTH_UNITS

Kind = Literal["code", "str", "enum", "int", "float", "bool", "date", "instant"]

#: Pattern of pseudonymous codes (import-format.md, Conventions).
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"

#: Human-readable description of each kind (template dictionary and error messages).
KIND_TEXT: dict[str, str] = {
    "code": "code (letters, digits, _ . -; max 32)",
    "str": "text",
    "enum": "one of the allowed values",
    "int": "whole number",
    "float": "number",
    "bool": "true/false",
    "date": "date YYYY-MM-DD",
    "instant": "date-time with UTC offset, e.g. 2004-03-02T10:30:00+01:00",
}


@dataclass(frozen=True)
class Column:
    """One column of a record type."""

    name: str
    kind: Kind
    required: bool = False
    description: str = ""
    unit: str | None = None
    allowed: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    ref: str | None = None  # record type this column refers to

    def range_text(self) -> str:
        """The allowed range as text ('≥ 0', '0–4', '> 0') or ''."""
        if self.min is not None and self.max is not None:
            return f"{_num(self.min)}–{_num(self.max)}"
        if self.min is not None:
            return f"{'>' if self.min_exclusive else '≥'} {_num(self.min)}"
        if self.max is not None:
            return f"≤ {_num(self.max)}"
        return ""


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass(frozen=True)
class RecordType:
    """One record type = one CSV file / sheet / database table."""

    name: str
    key: tuple[str, ...]
    description: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def file(self) -> str:
        """The CSV file name of this record type."""
        return f"{self.name}.csv"

    @property
    def names(self) -> list[str]:
        """Column names in dictionary order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """The column called ``name`` (KeyError if unknown)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _subject_id() -> Column:
    return Column("subject_id", "code", True, "pseudonymous subject code", ref="subject")


_ECOG = dict(min=0, max=4)

#: Disposition events (CDISC SDTM DS milestones; ADaM IG 1.3 ADSL EOTSTT / EOSSTT).
END_OF_TREATMENT = "end of treatment"
END_OF_STUDY = "end of study"
DISPOSITION_EVENTS: tuple[str, ...] = (END_OF_TREATMENT, END_OF_STUDY)
#: Disposition reasons, a subset of CDISC NCOMPLT (C66727) in lower case; ``completed`` = the
#: planned course was finished (ADSL EOTSTT / EOSSTT "COMPLETED").
DISPOSITION_REASONS: tuple[str, ...] = (
    "completed", "progressive disease", "adverse event", "withdrawal by subject",
    "physician decision", "lost to follow-up", "death", "other",
)

RECORD_TYPES: tuple[RecordType, ...] = (
    RecordType("site", ("site_id",), "Participating centres.", (
        Column("site_id", "code", True, "pseudonymous site code"),
        Column("name", "str", False, "site name"),
    )),
    RecordType("subject", ("subject_id",), "One row per enrolled subject; no direct identifiers.", (
        Column("subject_id", "code", True, "pseudonymous subject code (no names, initials, record numbers)"),
        Column("site_id", "code", False, "site of enrolment", ref="site"),
        Column("sex", "enum", True, "sex", allowed=("M", "F")),
        Column("age", "int", False, "age at enrolment (one of age / birth_year required)",
               unit="years", min=0, max=120),
        Column("birth_year", "int", False, "year of birth (one of age / birth_year required)",
               min=1880, max=2100),
        Column("enrolment_date", "date", True, "date of enrolment"),
        Column("histology", "str", True, "histology, e.g. neuroendocrine carcinoma"),
        Column("primary_site", "str", False, "primary tumour site",
               examples=("small intestine", "pancreas", "unknown")),
        Column("liver_metastases", "bool", False, "liver metastases present"),
        Column("progression_date", "date", False,
               "date of documented radiologic progression before entry"),
        Column("performance_status", "int", False, "ECOG performance status at baseline", **_ECOG),
    )),
    RecordType("eligibility", ("subject_id", "criterion"), "Result of each eligibility criterion.", (
        _subject_id(),
        Column("criterion", "str", True, "criterion code (free text)"),
        Column("met", "bool", True, "criterion met"),
        Column("assessed_date", "date", False, "date assessed"),
        Column("note", "str", False, "note (no identifiers)"),
    )),
    RecordType("scintigraphy", ("subject_id", "scan_date", "tracer"),
               "Receptor or perfusion scintigraphy.", (
        _subject_id(),
        Column("tracer", "str", True, "tracer",
               examples=("In-111 pentetreotide", "Tc-99m MAA", "Ga-68 DOTATATE")),
        Column("scan_date", "date", True, "scan date"),
        Column("uptake_grade", "int", False, "Krenning uptake grade", min=0, max=4),
        Column("tumour_counts", "float", False, "tumour counts (tumour-to-normal ratio)", min=0),
        Column("normal_liver_counts", "float", False, "normal liver counts", min=0),
        Column("lung_shunt_fraction", "float", False, "lung shunt fraction", min=0, max=1),
    )),
    RecordType("administration", ("subject_id", "cycle"), "One row per treatment cycle.", (
        _subject_id(),
        Column("cycle", "int", True, "cycle number (1, 2, …)", min=1),
        Column("admin_instant", "instant", True, "start of administration"),
        Column("radiopharmaceutical", "str", True, "radiopharmaceutical",
               examples=("Y-90-DOTA-lanreotide",)),
        Column("nuclide", "str", True, "radionuclide", examples=("Y-90", "Lu-177", "Ho-166")),
        Column("calibrated_activity", "float", True, "calibrated activity (in activity_unit)",
               unit="activity_unit", min=0, min_exclusive=True),
        Column("calibration_instant", "instant", True, "instant of the activity calibration"),
        Column("residual_activity", "float", False, "residual activity (in activity_unit)",
               unit="activity_unit", min=0),
        Column("residual_instant", "instant", False, "instant of the residual measurement"),
        Column("activity_unit", "enum", True, "unit of the activities; stored as GBq",
               allowed=tuple(ACTIVITY_UNITS)),
        Column("route", "enum", True, "route", allowed=("intra-arterial hepatic", "intravenous")),
        Column("embolisation", "bool", True, "embolisation performed"),
        Column("embolisation_agent", "str", False, "embolisation agent"),
        Column("liver_mass_kg", "float", False, "liver mass", unit="kg", min=0, min_exclusive=True),
        Column("tumour_mass_kg", "float", False, "tumour mass", unit="kg", min=0,
               min_exclusive=True),
    )),
    RecordType("lesion", ("subject_id", "lesion_id"), "Lesions identified at baseline or later.", (
        _subject_id(),
        Column("lesion_id", "code", True, "lesion code, e.g. T01, NT01, NEW01"),
        Column("organ", "str", True, "organ, e.g. liver"),
        Column("role", "enum", True, "role", allowed=("target", "non-target", "new")),
        Column("nodal", "bool", True, "lymph node"),
        Column("method", "enum", False, "imaging method", allowed=("CT", "MRI", "US")),
    )),
    RecordType("measurement", ("subject_id", "lesion_id", "assessment_date"),
               "Lesion measurements; stored in mm.", (
        _subject_id(),
        Column("lesion_id", "code", True, "lesion code", ref="lesion"),
        Column("assessment_date", "date", True, "assessment date"),
        Column("longest_diameter", "float", False, "longest diameter (required when present)",
               unit="unit", min=0),
        Column("perpendicular_diameter", "float", False, "longest perpendicular diameter",
               unit="unit", min=0),
        Column("short_axis", "float", False, "short axis (nodes)", unit="unit", min=0),
        Column("unit", "enum", True, "unit of the diameters; stored as mm",
               allowed=tuple(LENGTH_UNITS)),
        Column("state", "enum", True, "lesion state",
               allowed=("present", "absent", "too_small", "not_evaluated")),
    )),
    RecordType("tumour_assessment", ("subject_id", "assessment_date"),
               "Radiologic assessment time points.", (
        _subject_id(),
        Column("assessment_date", "date", True, "assessment date"),
        Column("modality", "enum", False, "modality", allowed=("CT", "MRI", "US")),
        Column("non_target_status", "enum", False, "non-target lesion status",
               allowed=("CR", "non-CR/non-PD", "PD", "NE")),
        Column("new_lesions", "bool", True, "new lesions found"),
        Column("reader", "str", False, "reader (role or code, no names)"),
    )),
    RecordType("lab", ("subject_id", "instant", "analyte"),
               "Laboratory results; converted to the analyte's canonical unit.", (
        _subject_id(),
        Column("instant", "instant", True, "sampling instant"),
        Column("analyte", "enum", True, "analyte (CDISC LBTESTCD)", allowed=tuple(LAB_UNITS)),
        Column("value", "float", True, "result (in unit)", unit="unit", min=0),
        Column("unit", "str", True, "unit; see the lab unit table; stored canonical"),
        Column("lln", "float", False, "lower limit of normal (same unit)", unit="unit", min=0),
        Column("uln", "float", False, "upper limit of normal (same unit)", unit="unit", min=0),
    )),
    RecordType("marker", ("subject_id", "marker", "sample_date"), "Tumour-marker results.", (
        _subject_id(),
        Column("marker", "str", True, "marker name", examples=("CgA", "5-HIAA")),
        Column("sample_date", "date", True, "sample date"),
        Column("value", "float", True, "result (in unit)", min=0),
        Column("unit", "str", True, "unit (free text; markers compare only with themselves)"),
        Column("uln", "float", False, "upper limit of normal (same unit)", min=0),
    )),
    RecordType("clinical", ("subject_id", "assessment_date"), "Clinical assessments.", (
        _subject_id(),
        Column("assessment_date", "date", True, "assessment date"),
        Column("symptom_status", "enum", False, "symptoms versus baseline (empty at baseline)",
               allowed=("improved", "stable", "worse")),
        Column("performance_status", "int", False, "ECOG performance status", **_ECOG),
        Column("notes", "str", False, "symptom notes (no identifiers)"),
    )),
    RecordType("adverse_event", ("subject_id", "term", "start_date"), "Adverse events.", (
        _subject_id(),
        Column("term", "str", True, "adverse event term"),
        Column("grade", "int", True, "toxicity grade", min=1, max=5),
        Column("start_date", "date", True, "start date"),
        Column("end_date", "date", False, "end date"),
        Column("serious", "bool", False, "serious adverse event"),
        Column("attribution", "enum", False, "relation to treatment",
               allowed=("unrelated", "unlikely", "possible", "probable", "definite")),
    )),
    RecordType("follow_up", ("subject_id",), "Survival follow-up; one row per subject.", (
        _subject_id(),
        Column("last_known_alive_date", "date", True, "last date known alive"),
        Column("death_date", "date", False, "date of death"),
        Column("death_cause", "str", False, "cause of death"),
        Column("new_therapy_date", "date", False,
               "start of a new anti-cancer therapy (ends response assessment)"),
    )),
    RecordType("disposition", ("subject_id", "event"),
               "Disposition (CDISC SDTM DS): end of treatment and end of study, one row each.", (
        _subject_id(),
        Column("event", "enum", True, "disposition event", allowed=DISPOSITION_EVENTS),
        Column("date", "date", True, "date of the event"),
        Column("reason", "enum", True, "reason (completed or why discontinued)",
               allowed=DISPOSITION_REASONS),
        Column("note", "str", False, "note (no identifiers)"),
    )),
)

#: Record types by name, in dictionary (= file and table creation) order.
BY_NAME: dict[str, RecordType] = {rt.name: rt for rt in RECORD_TYPES}

#: Record type names in dictionary order.
RECORD_TYPE_NAMES: tuple[str, ...] = tuple(BY_NAME)


def record_type(name: str) -> RecordType:
    """The record type called ``name``; a :class:`RadiotrialError` naming the known ones otherwise."""
    from radiotrial.errors import RadiotrialError

    try:
        return BY_NAME[name]
    except KeyError:
        raise RadiotrialError(
            f"unknown record type {name!r}; known: {', '.join(RECORD_TYPE_NAMES)}"
        ) from None


def polars_schema(rt: RecordType) -> dict:
    """Polars dtypes of a record type's typed frame (canonical units applied)."""
    import polars as pl

    types = {
        "code": pl.String, "str": pl.String, "enum": pl.String, "int": pl.Int64,
        "float": pl.Float64, "bool": pl.Boolean, "date": pl.Date,
        "instant": pl.Datetime("us", "UTC"),
    }
    return {c.name: types[c.kind] for c in rt.columns}


def empty_frame(rt: RecordType):
    """An empty typed frame of ``rt``."""
    import polars as pl

    return pl.DataFrame(schema=polars_schema(rt))


def allowed_text(c: Column) -> str:
    """Allowed values / range / examples of a column, for the dictionary and messages."""
    if c.name == "unit" and c.kind == "str" and c.description.startswith("unit; see the lab"):
        return "; ".join(f"{a}: {', '.join(u)}" for a, u in LAB_UNITS.items())
    if c.allowed:
        return ", ".join(c.allowed)
    if c.range_text():
        return c.range_text()
    if c.examples:
        return "e.g. " + ", ".join(c.examples)
    return ""


#: Name of the spreadsheet-row-number column carried by all-text tables during validation.
ROW = "__line"
