"""Derive the analysis datasets (CDISC ADaM-shaped) from a loaded study.

``derive(loaded)`` runs the engines (:mod:`radiotrial.study.engines`) and assembles:

* **ADSL** one row per subject (demography, populations, treatment dates, outcome flags);
* **ADEX** one row per administration (activities, embolisation, dose estimates);
* **ADTR** tumour sums per subject and assessment (BASE, CHG, PCHG, NADIR, PCHGNAD);
* **ADRS** OVR per assessment, BOR and CBOR per subject, plus marker (MKRSP) and clinical
  (CLIMP) response;
* **ADLB** graded labs (ATOXGR, BTOXGR);
* **ADTTE** OS and PFS (CNSR = 0 for events, the CDISC convention);
* **ADDV** protocol deviations, when the protocol engine reports them.

Conventions (ARCHITECTURE.md; CDISC SDTM IG 4.4.4): study day 1 = first treatment, no day 0;
treatment start = UTC date of the first administration; USUBJID = STUDYID-SUBJID. The assembly is
vectorised Polars, no per-subject loops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from radiotrial.errors import RadiotrialError
from radiotrial.study.adam_meta import dictionary
from radiotrial.study.engines import HAEMATOLOGICAL, EngineOutputs, frame, run_engines

#: admiral ``aval_resp()`` coding of response categories (admiralonco R/aval_resp.R).
RESPONSE_CODES = {"CR": 1, "PR": 2, "SD": 3, "NON-CR/NON-PD": 4, "PD": 5, "NE": 6, "MISSING": 7}

#: Best responses that make a subject response-evaluable (a BOR of NE or none does not).
EVALUABLE_BOR = ("CR", "PR", "SD", "PD")


@dataclass(frozen=True)
class DeriveOptions:
    """Named choices of the derivation, with their defaults and sources.

    * ``tte_add_one_day``: AVAL = ADT - STARTDT + 1 (admiral ``derive_vars_duration(add_one =
      TRUE)``, its default, so that an event on the day of first treatment lasts one day).
      ``False`` gives ADT - STARTDT as in most hand-written R ``survival`` code.
    * ``days_per_month``: 365.25 / 12 = 30.4375 (admiral ``compute_duration(out_unit =
      "months")``).
    * ``pfs_censor_at_new_therapy``: records after the start of a new anti-cancer therapy are
      ignored for PFS (FDA Guidance "Clinical Trial Endpoints for the Approval of Cancer Drugs
      and Biologics", 2018, Table A; admiralonco#94).
    """

    tte_add_one_day: bool = True
    days_per_month: float = 365.25 / 12
    pfs_censor_at_new_therapy: bool = True


@dataclass
class AnalysisDatasets:
    """The ADaM-shaped analysis datasets of one study and how they were made."""

    study_id: str
    adsl: pl.DataFrame
    adex: pl.DataFrame
    adtr: pl.DataFrame
    adrs: pl.DataFrame
    adlb: pl.DataFrame
    adtte: pl.DataFrame
    adtox: pl.DataFrame | None = None
    addv: pl.DataFrame | None = None
    criteria: str = "WHO"
    toxicity_criteria: str = "ctc-v2"
    options: DeriveOptions = field(default_factory=DeriveOptions)

    def as_dict(self) -> dict[str, pl.DataFrame]:
        """Datasets by ADaM name (ADDV only when present)."""
        out = {"ADSL": self.adsl, "ADEX": self.adex, "ADTR": self.adtr, "ADRS": self.adrs,
               "ADLB": self.adlb, "ADTTE": self.adtte}
        if self.adtox is not None:
            out["ADTOX"] = self.adtox
        if self.addv is not None:
            out["ADDV"] = self.addv
        return out


# --------------------------------------------------------------------------- helpers


def study_day(date: pl.Expr, start: pl.Expr) -> pl.Expr:
    """CDISC study day: date - start + 1 on or after start, date - start before (no day 0)."""
    diff = (date - start).dt.total_days()
    return pl.when(diff >= 0).then(diff + 1).otherwise(diff).cast(pl.Int64)


def _subjects(frames: dict[str, pl.DataFrame], study_id: str) -> pl.DataFrame:
    subj = frame(frames, "subject")
    if subj is None:
        raise RadiotrialError("the study has no subjects (subject.csv is empty)")
    cols = subj.columns

    def opt(name: str, dtype: Any) -> pl.Expr:
        return pl.col(name) if name in cols else pl.lit(None, dtype=dtype)

    age = opt("age", pl.Int64)
    if "birth_year" in cols:
        age = pl.coalesce(age, pl.col("enrolment_date").dt.year() - pl.col("birth_year"))
    return subj.select(
        STUDYID=pl.lit(study_id),
        USUBJID=pl.lit(study_id + "-") + pl.col("subject_id"),
        SUBJID=pl.col("subject_id"),
        SITEID=opt("site_id", pl.String),
        AGE=age.cast(pl.Int64),
        AGEU=pl.lit("YEARS"),
        SEX=pl.col("sex"),
        HISTOL=opt("histology", pl.String),
        PRIMSITE=opt("primary_site", pl.String),
        LIVMETFL=_yn(opt("liver_metastases", pl.Boolean)),
        ECOGBL=opt("performance_status", pl.Int64),
        PROGDT=opt("progression_date", pl.Date),
        ENRLDT=pl.col("enrolment_date"),
    )


def _yn(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.is_null()).then(None).when(expr).then(pl.lit("Y")).otherwise(pl.lit("N"))


def _flag(expr: pl.Expr) -> pl.Expr:
    """Y/N population flag: null counts as N."""
    return pl.when(expr.fill_null(False)).then(pl.lit("Y")).otherwise(pl.lit("N"))


def _administrations(frames: dict[str, pl.DataFrame], out: EngineOutputs) -> pl.DataFrame:
    adm = frame(frames, "administration")
    schema = {"subject_id": pl.String, "cycle": pl.Int64,
              "admin_instant": pl.Datetime("us", "UTC"), "embolisation": pl.Boolean}
    if adm is None:
        return pl.DataFrame(schema=schema | {"ADT": pl.Date, "administered_gbq": pl.Float64})
    adm = adm.with_columns(ADT=pl.col("admin_instant").dt.convert_time_zone("UTC").dt.date())
    dose = out.dose_admin.drop([c for c in out.dose_admin.columns
                                if c in adm.columns and c not in ("subject_id", "cycle")])
    return adm.join(dose.with_columns(pl.col("cycle").cast(adm.schema["cycle"])),
                    on=["subject_id", "cycle"], how="left")


# --------------------------------------------------------------------------- ADSL


def _eligibility(out: EngineOutputs) -> pl.DataFrame | None:
    """ELIGFL / ELIGRSN from the protocol engine: "Y" only when every criterion is met.

    A subject who is not assessable (data missing) is not eligible: ELIGFL = "N", and ELIGRSN
    names each criterion not met or not assessable with its reason.
    """
    if out.eligibility is None:
        return None
    return out.eligibility.select(
        "subject_id",
        ELIGFL=pl.when(pl.col("eligible").fill_null(False)).then(pl.lit("Y")).otherwise(pl.lit("N")),
        ELIGRSN=pl.col("reason").cast(pl.String),
    )


def _krenning(frames: dict[str, pl.DataFrame], trt: pl.DataFrame) -> pl.DataFrame | None:
    sc = frame(frames, "scintigraphy")
    if sc is None or "uptake_grade" not in sc.columns:
        return None
    sc = sc.filter(pl.col("tracer").str.to_lowercase().str.contains("pentetreotide|dotatate"))
    sc = sc.join(trt.select("subject_id", "TRTSDT"), on="subject_id", how="left")
    sc = sc.filter(pl.col("TRTSDT").is_null() | (pl.col("scan_date") <= pl.col("TRTSDT")))
    return sc.sort("scan_date").group_by("subject_id").agg(
        KRENNGR=pl.col("uptake_grade").drop_nulls().last().cast(pl.Int64))


def _evaluability_reason(adtr: pl.DataFrame, adsl: pl.DataFrame,
                         first_assessment_due_day: int = 84) -> pl.DataFrame:
    """Why a treated subject has no evaluable best response, when the records say more than
    the response engine's generic reason (first reason that applies; null = use the engine's).

    "Died" / "withdrew" before the first tumour assessment only when that happened by the end of
    the first assessment window (``first_assessment_due_day`` after the first treatment, the
    protocol's ``assessment_window_end_days``); a later death without imaging is a missing
    assessment, not an early death.
    """
    has = adtr.group_by("SUBJID").agg(
        has_base=(pl.col("ABLFL") == "Y").any(),
        has_post=(pl.col("ADY") > 1).any(),
    )
    d = adsl.join(has, on="SUBJID", how="left")
    no_post = ~pl.col("has_post").fill_null(False)
    due = pl.col("TRTSDT") + pl.duration(days=first_assessment_due_day)
    withdrew = pl.col("DCSREAS").str.contains("WITHDRAWAL").fill_null(False)
    return d.select(
        "SUBJID",
        EFFRSN_DERIVED=pl.when(pl.col("SAFFL") != "Y").then(pl.lit("not treated"))
        .when(~pl.col("has_base").fill_null(False)).then(pl.lit("no baseline tumour assessment"))
        .when(no_post & (pl.col("DTHDT") <= due))
        .then(pl.lit("died before the first tumour assessment"))
        .when(no_post & withdrew & (pl.col("EOSDT") <= due))
        .then(pl.lit("withdrew before the first tumour assessment"))
        .when(no_post).then(pl.lit("no tumour assessment after treatment")),
    )


def build_adsl(frames: dict[str, pl.DataFrame], out: EngineOutputs, study_id: str,
               adm: pl.DataFrame) -> pl.DataFrame:
    """ADSL: one row per subject (see module docstring)."""
    base = _subjects(frames, study_id)
    trt = adm.group_by("subject_id").agg(
        TRTSDT=pl.col("ADT").min(), TRTEDT=pl.col("ADT").max(),
        NCYCLES=pl.col("cycle").n_unique().cast(pl.Int64),
        CUMACT=pl.col("administered_gbq").sum(),
        EMBFL=_flag(pl.col("embolisation").any()).first(),
    )
    adsl = base.join(trt.rename({"subject_id": "SUBJID"}), on="SUBJID", how="left")
    el = _eligibility(out)
    if el is not None:
        adsl = adsl.join(el.rename({"subject_id": "SUBJID"}), on="SUBJID", how="left")
    else:
        adsl = adsl.with_columns(ELIGFL=pl.lit(None, pl.String), ELIGRSN=pl.lit(None, pl.String))
    kr = _krenning(frames, trt)
    adsl = (adsl.join(kr.rename({"subject_id": "SUBJID"}), on="SUBJID", how="left")
            if kr is not None else adsl.with_columns(KRENNGR=pl.lit(None, pl.Int64)))

    fu = frame(frames, "follow_up")
    if fu is not None:
        fcols = fu.columns
        adsl = adsl.join(fu.select(
            SUBJID=pl.col("subject_id"), LSTALVDT=pl.col("last_known_alive_date"),
            DTHDT=pl.col("death_date") if "death_date" in fcols else pl.lit(None, pl.Date),
            DTHCAUS=pl.col("death_cause") if "death_cause" in fcols else pl.lit(None, pl.String),
            NTHRDT=(pl.col("new_therapy_date") if "new_therapy_date" in fcols
                    else pl.lit(None, pl.Date)),
        ), on="SUBJID", how="left")
    else:
        adsl = adsl.with_columns(LSTALVDT=pl.lit(None, pl.Date), DTHDT=pl.lit(None, pl.Date),
                                 DTHCAUS=pl.lit(None, pl.String), NTHRDT=pl.lit(None, pl.Date))
    adsl = adsl.with_columns(
        SAFFL=_flag(pl.col("TRTSDT").is_not_null()),
        DTHFL=_flag(pl.col("DTHDT").is_not_null()),
        NCYCLES=pl.col("NCYCLES").fill_null(0),
        CUMACT=pl.col("CUMACT").fill_null(0.0),
    )
    return _add_disposition(adsl, frame(frames, "disposition"))


def _add_disposition(adsl: pl.DataFrame, disp: pl.DataFrame | None) -> pl.DataFrame:
    """EOTSTT/EOTDT/DCTREAS and EOSSTT/EOSDT/DCSREAS (ADaM IG 1.3 ADSL, subject disposition).

    From the ``disposition`` records (SDTM DS): reason ``completed`` gives "COMPLETED", any other
    "DISCONTINUED" with the reason in upper case (CDISC NCOMPLT style). Without a record: a death
    (follow_up) ends both, "DISCONTINUED" / "DEATH" on DTHDT; otherwise treatment is "ONGOING"
    for a treated subject (null when never treated) and the study "ONGOING".
    """
    from radiotrial.store.dictionary import END_OF_STUDY, END_OF_TREATMENT

    schema = {"subject_id": pl.String, "event": pl.String, "date": pl.Date, "reason": pl.String}
    d = (disp.select([pl.col(c).cast(t) for c, t in schema.items()]) if disp is not None
         else pl.DataFrame(schema=schema))
    for event, pre in ((END_OF_TREATMENT, "T"), (END_OF_STUDY, "S")):
        rec = d.filter(pl.col("event") == event).group_by("subject_id").agg(
            pl.col("date").min().alias(f"__{pre}DT"), pl.col("reason").first().alias(f"__{pre}R"))
        adsl = adsl.join(rec.rename({"subject_id": "SUBJID"}), on="SUBJID", how="left")
    dead = pl.col("DTHDT").is_not_null()

    def status(pre: str, undecided: pl.Expr) -> pl.Expr:
        r = pl.col(f"__{pre}R")
        return (pl.when(r == "completed").then(pl.lit("COMPLETED"))
                .when(r.is_not_null() | dead).then(pl.lit("DISCONTINUED"))
                .otherwise(undecided))

    def reason(pre: str) -> pl.Expr:
        r = pl.col(f"__{pre}R")
        return (pl.when(r == "completed").then(pl.lit(None, pl.String))
                .when(r.is_not_null()).then(r.str.to_uppercase())
                .when(dead).then(pl.lit("DEATH")))

    treated = pl.col("SAFFL") == "Y"
    return adsl.with_columns(
        EOTSTT=pl.when(treated).then(status("T", pl.lit("ONGOING"))),
        EOTDT=pl.when(treated).then(pl.coalesce("__TDT", pl.col("DTHDT"))),
        DCTREAS=pl.when(treated).then(reason("T")),
        EOSSTT=status("S", pl.lit("ONGOING")),
        EOSDT=pl.coalesce("__SDT", pl.col("DTHDT")),
        DCSREAS=reason("S"),
    ).drop("__TDT", "__TR", "__SDT", "__SR")


def _add_outcome_flags(adsl: pl.DataFrame, out: EngineOutputs, adtr: pl.DataFrame,
                       confirm: bool = True, first_assessment_due_day: int = 84) -> pl.DataFrame:
    """Best response and the response-evaluable population.

    ``BOR`` is the protocol's primary best overall response: the confirmed one (``CBOR``) when
    the criteria's ``confirm`` option is on (WHO: response must persist >= 4 weeks, Miller 1981;
    RECIST 1.1 single-arm trials, Eisenhauer 2009 §4.6), else the unconfirmed one (``UBOR``).
    """
    rs = out.response_subj
    rcols = rs.columns
    cbor = pl.col("cbor") if "cbor" in rcols else pl.lit(None, pl.String)
    rs = rs.select(
        SUBJID=pl.col("subject_id"),
        BOR=pl.coalesce(cbor, pl.col("bor")) if confirm else pl.col("bor"),
        UBOR=pl.col("bor"),
        CBOR=cbor,
        ENG_RSN=pl.col("reason").cast(pl.String) if "reason" in rcols else pl.lit(None, pl.String),
    )
    adsl = adsl.join(rs, on="SUBJID", how="left")
    adsl = adsl.with_columns(
        EFFFL=_flag((pl.col("SAFFL") == "Y") & pl.col("BOR").is_in(EVALUABLE_BOR)))
    adsl = adsl.join(_evaluability_reason(adtr, adsl, first_assessment_due_day), on="SUBJID",
                     how="left")
    adsl = adsl.with_columns(
        EFFRSN=pl.when(pl.col("EFFFL") == "Y").then(None)
        .otherwise(pl.coalesce("EFFRSN_DERIVED", "ENG_RSN")),
    ).drop("ENG_RSN", "EFFRSN_DERIVED")

    best = adtr.filter(pl.col("ADY") > 1).group_by("SUBJID").agg(BPCHG=pl.col("PCHG").min())
    basesum = adtr.filter(pl.col("ABLFL") == "Y").select("SUBJID", BASESUM=pl.col("AVAL"))
    adsl = adsl.join(basesum, on="SUBJID", how="left").join(best, on="SUBJID", how="left")

    mk = out.marker_subj
    adsl = adsl.join(mk.select(
        SUBJID=pl.col("subject_id"), MKBLFL=_flag(pl.col("evaluable")),
        MKRSPFL=pl.when(pl.col("evaluable")).then(_flag(pl.col("responder"))),
        MKRSN=(pl.col("reason").cast(pl.String) if "reason" in mk.columns
               else pl.lit(None, pl.String)),
    ), on="SUBJID", how="left")
    cl = out.clinical_subj
    adsl = adsl.join(cl.select(
        SUBJID=pl.col("subject_id"), CLEVLFL=_flag(pl.col("evaluable")),
        CLIMPFL=pl.when(pl.col("evaluable")).then(_flag(pl.col("improved"))),
    ), on="SUBJID", how="left")
    return adsl.with_columns(MKBLFL=pl.col("MKBLFL").fill_null("N"),
                             CLEVLFL=pl.col("CLEVLFL").fill_null("N"))


# --------------------------------------------------------------------------- ADEX


def build_adex(adm: pl.DataFrame, adsl: pl.DataFrame) -> pl.DataFrame:
    """ADEX: one row per administration with activities and dose estimates."""
    keys = adsl.select("STUDYID", "USUBJID", "SUBJID", "TRTSDT")
    cols = adm.columns

    def opt(name: str, dtype: Any) -> pl.Expr:
        return pl.col(name) if name in cols else pl.lit(None, dtype=dtype)

    dose_cols = [c for c in cols if c.endswith("_gy")]
    ex = adm.rename({"subject_id": "SUBJID"}).join(keys, on="SUBJID", how="left")
    ex = ex.sort("SUBJID", "admin_instant").select(
        "STUDYID", "USUBJID", "SUBJID", *[pl.col(c).alias(c.upper()) for c in dose_cols],
        CYCLE=pl.col("cycle").cast(pl.Int64),
        EXTRT=opt("radiopharmaceutical", pl.String),
        NUCLIDE=opt("nuclide", pl.String),
        EXROUTE=opt("route", pl.String),
        ASTDTM=pl.col("admin_instant"),
        ASTDT=pl.col("ADT"),
        ASTDY=study_day(pl.col("ADT"), pl.col("TRTSDT")),
        INTVLD=(pl.col("ADT") - pl.col("ADT").shift(1).over("SUBJID")).dt.total_days(),
        CALACT=opt("calibrated_activity", pl.Float64),
        RESACT=opt("residual_activity", pl.Float64),
        ADMACT=pl.col("administered_gbq"),
        CUMACTC=pl.col("administered_gbq").cum_sum().over("SUBJID"),
        EMBFL=_yn(pl.col("embolisation")),
        EMBAGENT=opt("embolisation_agent", pl.String),
        LIVMASS=opt("liver_mass_kg", pl.Float64),
        TUMMASS=opt("tumour_mass_kg", pl.Float64),
    )
    dose = [c.upper() for c in dose_cols]
    return ex.select([c for c in ex.columns if c not in dose] + dose)


# --------------------------------------------------------------------------- ADTR / ADRS


def build_adtr(out: EngineOutputs, adsl: pl.DataFrame, criteria: str) -> pl.DataFrame:
    """ADTR: tumour sum per assessment from the last pre-treatment (baseline) one onwards."""
    who = criteria.upper() == "WHO"
    paramcd, param, unit = (("SPD", "Sum of products of diameters", "mm2") if who
                            else ("SDIAM", "Sum of diameters", "mm"))
    keys = adsl.filter(pl.col("TRTSDT").is_not_null()).select(
        "STUDYID", "USUBJID", "SUBJID", "TRTSDT")
    tp = out.response_tp.select(SUBJID=pl.col("subject_id"), ADT=pl.col("assessment_date"),
                                AVAL=pl.col("sum").cast(pl.Float64))
    tp = tp.join(keys, on="SUBJID", how="inner").sort("SUBJID", "ADT")
    last_pre = (pl.col("ADT") <= pl.col("TRTSDT"))
    is_base = last_pre & (pl.col("ADT") == pl.col("ADT").filter(last_pre).max().over("SUBJID"))
    tp = tp.with_columns(ABLFL=pl.when(is_base).then(pl.lit("Y")))
    tp = tp.filter((pl.col("ABLFL") == "Y") | (pl.col("ADT") > pl.col("TRTSDT")))
    base = pl.col("AVAL").filter(pl.col("ABLFL") == "Y").first().over("SUBJID")
    nadir = pl.col("AVAL").cum_min().shift(1).over("SUBJID")
    tp = tp.with_columns(BASE=base, NADIR=nadir).with_columns(
        CHG=pl.col("AVAL") - pl.col("BASE"),
        PCHG=pl.when(pl.col("BASE") > 0).then(100 * (pl.col("AVAL") / pl.col("BASE") - 1)),
        PCHGNAD=pl.when(pl.col("NADIR") > 0).then(100 * (pl.col("AVAL") / pl.col("NADIR") - 1)),
        ADY=study_day(pl.col("ADT"), pl.col("TRTSDT")),
        AVISITN=(pl.int_range(pl.len()).over("SUBJID")
                 - (pl.col("ABLFL") == "Y").any().over("SUBJID").cast(pl.Int64) + 1),
    )
    return tp.select(
        "STUDYID", "USUBJID", "SUBJID", PARAMCD=pl.lit(paramcd), PARAM=pl.lit(param),
        PARCAT1=pl.lit(criteria), AVAL="AVAL", AVALU=pl.lit(unit), BASE="BASE", CHG="CHG",
        PCHG="PCHG", NADIR="NADIR", PCHGNAD="PCHGNAD", ABLFL="ABLFL", ADT="ADT", ADY="ADY",
        AVISITN="AVISITN",
        AVISIT=pl.when(pl.col("ABLFL") == "Y").then(pl.lit("Baseline"))
        .otherwise(pl.lit("Assessment ") + pl.col("AVISITN").cast(pl.String)),
    )


def build_adrs(out: EngineOutputs, adsl: pl.DataFrame, criteria: str) -> pl.DataFrame:
    """ADRS: OVR per post-baseline assessment, BOR/CBOR per treated subject, MKRSP, CLIMP."""
    keys = adsl.filter(pl.col("SAFFL") == "Y").select("STUDYID", "USUBJID", "SUBJID", "TRTSDT")
    code = pl.col("AVALC").replace_strict(RESPONSE_CODES, default=None, return_dtype=pl.Int64)
    ovr = out.response_tp.select(SUBJID=pl.col("subject_id"), ADT=pl.col("assessment_date"),
                                 AVALC=pl.col("response").cast(pl.String))
    ovr = ovr.join(keys, on="SUBJID", how="inner").filter(pl.col("ADT") > pl.col("TRTSDT"))
    ovr = ovr.sort("SUBJID", "ADT").with_columns(
        PARAMCD=pl.lit("OVR"), PARAM=pl.lit(f"Overall response at time point ({criteria})"),
        AVISITN=pl.int_range(1, pl.len() + 1).over("SUBJID").cast(pl.Int64))
    first_date = ovr.group_by("SUBJID", "AVALC").agg(ADT=pl.col("ADT").min())

    def subject_param(col: str, paramcd: str, param: str) -> pl.DataFrame:
        d = adsl.filter(pl.col("SAFFL") == "Y").select(
            "STUDYID", "USUBJID", "SUBJID", "TRTSDT",
            AVALC=pl.col(col).fill_null("MISSING"))
        d = d.join(first_date, on=["SUBJID", "AVALC"], how="left")
        return d.with_columns(PARAMCD=pl.lit(paramcd), PARAM=pl.lit(param),
                              AVISITN=pl.lit(None, pl.Int64))

    parts = [ovr, subject_param("UBOR", "BOR", f"Best overall response ({criteria})")]
    if adsl.get_column("CBOR").is_not_null().any():
        parts.append(subject_param("CBOR", "CBOR",
                                   f"Best confirmed overall response ({criteria})"))
    rs = pl.concat([p.select(ovr.columns) for p in parts], how="vertical_relaxed")
    rs = rs.with_columns(AVAL=code, PARCAT1=pl.lit(criteria),
                         ADY=study_day(pl.col("ADT"), pl.col("TRTSDT")))

    yn = []
    for flag, evl, paramcd, param in (
        ("MKRSPFL", "MKBLFL", "MKRSP", "Biologic response (tumour-marker reduction)"),
        ("CLIMPFL", "CLEVLFL", "CLIMP", "Clinical improvement"),
    ):
        yn.append(adsl.filter((pl.col("SAFFL") == "Y") & (pl.col(evl) == "Y")).select(
            "STUDYID", "USUBJID", "SUBJID", PARAMCD=pl.lit(paramcd), PARAM=pl.lit(param),
            PARCAT1=pl.lit("radiotrial"), AVALC=pl.col(flag),
            AVAL=(pl.col(flag) == "Y").cast(pl.Int64)))
    rs = pl.concat([rs, *yn], how="diagonal_relaxed")
    return rs.select("STUDYID", "USUBJID", "SUBJID", "PARAMCD", "PARAM", "PARCAT1", "AVALC",
                     "AVAL", "ADT", "ADY", "AVISITN")


# --------------------------------------------------------------------------- ADLB


def build_adlb(out: EngineOutputs, adsl: pl.DataFrame, adm: pl.DataFrame) -> pl.DataFrame:
    """ADLB: graded labs; the baseline record is the last one at or before the first dose."""
    lab = out.tox_labs
    keys = adsl.select("STUDYID", "USUBJID", "SUBJID", "TRTSDT")
    first = adm.group_by("subject_id").agg(FIRSTDTM=pl.col("admin_instant").min())
    cols = lab.columns

    def opt(name: str, dtype: Any) -> pl.Expr:
        return pl.col(name) if name in cols else pl.lit(None, dtype=dtype)

    time = pl.col("instant") if "instant" in cols else pl.col("date").cast(pl.Datetime("us", "UTC"))
    lb = lab.join(first, on="subject_id", how="left").select(
        SUBJID=pl.col("subject_id"), PARAMCD=pl.col("analyte"),
        AVAL=pl.col("value").cast(pl.Float64), AVALU=opt("unit", pl.String),
        ANRLO=opt("lln", pl.Float64), ANRHI=opt("uln", pl.Float64),
        ATOXDSC=opt("term", pl.String), ADTM=time, FIRSTDTM=pl.col("FIRSTDTM"),
        GRADE=pl.col("grade").cast(pl.Int64), BGRADE=opt("baseline_grade", pl.Int64),
    )
    lb = lb.join(keys, on="SUBJID", how="left").sort("SUBJID", "PARAMCD", "ADTM")
    pre = pl.col("ADTM") <= pl.col("FIRSTDTM")
    is_base = pre & (pl.col("ADTM") == pl.col("ADTM").filter(pre).max()
                     .over("SUBJID", "PARAMCD"))
    lb = lb.with_columns(ABLFL=pl.when(is_base).then(pl.lit("Y")))
    own_base = pl.col("GRADE").filter(pl.col("ABLFL") == "Y").first().over("SUBJID", "PARAMCD")
    lb = lb.with_columns(
        ADT=pl.col("ADTM").dt.convert_time_zone("UTC").dt.date(),
        BTOXGRN=pl.coalesce("BGRADE", own_base),
    )
    return lb.select(
        "STUDYID", "USUBJID", "SUBJID", "PARAMCD",
        PARAM=pl.col("PARAMCD") + pl.lit(" (") + pl.col("AVALU").fill_null("") + pl.lit(")"),
        PARCAT1=pl.when(pl.col("PARAMCD").is_in(HAEMATOLOGICAL)).then(pl.lit("HAEMATOLOGY"))
        .otherwise(pl.lit("CHEMISTRY")),
        AVAL="AVAL", AVALU="AVALU", ANRLO="ANRLO", ANRHI="ANRHI", ADTM="ADTM", ADT="ADT",
        ADY=study_day(pl.col("ADT"), pl.col("TRTSDT")), ABLFL="ABLFL", ATOXDSC="ATOXDSC",
        ATOXGR=pl.col("GRADE").cast(pl.String), ATOXGRN=pl.col("GRADE").abs(),
        BTOXGR=pl.col("BTOXGRN").cast(pl.String),
    )


def build_adtox(out: EngineOutputs, adsl: pl.DataFrame) -> pl.DataFrame:
    """ADTOX (radiotrial): worst post-baseline grade per subject and term, with reversibility.

    One row per subject x term from the toxicity engine; PARCAT1 HAEMATOLOGY for the blood
    counts (NCI CTC v2.0 "Blood/Bone marrow"), else the engine's category or CHEMISTRY/CLINICAL.
    """
    w = out.tox_worst
    cols = w.columns

    def opt(name: str, dtype: Any) -> pl.Expr:
        return pl.col(name) if name in cols else pl.lit(None, dtype=dtype)

    haem = opt("haematological", pl.Boolean)
    haem = pl.coalesce(haem, opt("analyte", pl.String).is_in(HAEMATOLOGICAL))
    keys = adsl.select("STUDYID", "USUBJID", "SUBJID")
    return w.select(
        SUBJID=pl.col("subject_id"), PARAMCD=opt("analyte", pl.String),
        ATOXDSC=pl.col("term").cast(pl.String),
        PARCAT1=pl.when(haem).then(pl.lit("HAEMATOLOGY"))
        .when(opt("category", pl.String).is_not_null())
        .then(opt("category", pl.String).str.to_uppercase())
        .when(opt("analyte", pl.String).is_not_null()).then(pl.lit("CHEMISTRY"))
        .otherwise(pl.lit("CLINICAL")),
        WORSTGR=pl.col("worst_grade").cast(pl.Int64).abs(),
        REVFL=_yn(opt("reversible", pl.Boolean)),
    ).join(keys, on="SUBJID", how="inner").select(
        "STUDYID", "USUBJID", "SUBJID", "PARAMCD", "ATOXDSC", "PARCAT1", "WORSTGR", "REVFL",
    ).sort("SUBJID", "ATOXDSC")


# --------------------------------------------------------------------------- ADTTE


def build_adtte(adsl: pl.DataFrame, out: EngineOutputs, options: DeriveOptions) -> pl.DataFrame:
    """ADTTE: OS and PFS from the first treatment (treated subjects only).

    OS: event = death; censored at the last date known alive.
    PFS: event = first PD time point or death, whichever first; censored at the last adequate
    (non-NE) tumour assessment, or at the start date when there is none. With
    ``pfs_censor_at_new_therapy``, PD and death after a new anti-cancer therapy are not events.
    """
    treated = adsl.filter(pl.col("SAFFL") == "Y").select(
        "STUDYID", "USUBJID", "SUBJID", STARTDT=pl.col("TRTSDT"), DTHDT=pl.col("DTHDT"),
        LSTALVDT=pl.coalesce("LSTALVDT", "DTHDT", "TRTSDT"), NTHRDT=pl.col("NTHRDT"))
    os_ = treated.select(
        "STUDYID", "USUBJID", "SUBJID", "STARTDT",
        PARAMCD=pl.lit("OS"), PARAM=pl.lit("Overall survival"),
        ADT=pl.coalesce("DTHDT", "LSTALVDT"),
        CNSR=pl.when(pl.col("DTHDT").is_not_null()).then(0).otherwise(1),
        EVNTDESC=pl.when(pl.col("DTHDT").is_not_null()).then(pl.lit("DEATH"))
        .otherwise(pl.lit("ALIVE AT LAST CONTACT")),
        CNSDTDSC=pl.when(pl.col("DTHDT").is_null()).then(pl.lit("LAST KNOWN ALIVE DATE")),
    )

    tp = out.response_tp.select(SUBJID=pl.col("subject_id"), ADT=pl.col("assessment_date"),
                                RESP=pl.col("response").cast(pl.String))
    tp = tp.join(treated.select("SUBJID", "STARTDT", "NTHRDT"), on="SUBJID", how="inner")
    keep = pl.col("ADT") > pl.col("STARTDT")
    if options.pfs_censor_at_new_therapy:
        keep = keep & (pl.col("NTHRDT").is_null() | (pl.col("ADT") <= pl.col("NTHRDT")))
    tp = tp.filter(keep)
    agg = tp.group_by("SUBJID").agg(
        PDDT=pl.col("ADT").filter(pl.col("RESP") == "PD").min(),
        LASTADQ=pl.col("ADT").filter(pl.col("RESP") != "NE").max(),
    )
    p = treated.join(agg, on="SUBJID", how="left")
    death_ok = pl.col("DTHDT").is_not_null()
    if options.pfs_censor_at_new_therapy:
        death_ok = death_ok & (pl.col("NTHRDT").is_null() | (pl.col("DTHDT") <= pl.col("NTHRDT")))
    event_dt = pl.min_horizontal(pl.col("PDDT"), pl.when(death_ok).then(pl.col("DTHDT")))
    pfs = p.with_columns(EVDT=event_dt).select(
        "STUDYID", "USUBJID", "SUBJID", "STARTDT",
        PARAMCD=pl.lit("PFS"), PARAM=pl.lit("Progression-free survival"),
        ADT=pl.coalesce("EVDT", "LASTADQ", "STARTDT"),
        CNSR=pl.when(pl.col("EVDT").is_not_null()).then(0).otherwise(1),
        EVNTDESC=pl.when(pl.col("EVDT").is_null()).then(pl.lit("CENSORED"))
        .when(pl.col("PDDT") == pl.col("EVDT")).then(pl.lit("DISEASE PROGRESSION"))
        .otherwise(pl.lit("DEATH")),
        CNSDTDSC=pl.when(pl.col("EVDT").is_not_null()).then(None)
        .when(pl.col("LASTADQ").is_not_null()).then(pl.lit("LAST ADEQUATE TUMOUR ASSESSMENT"))
        .otherwise(pl.lit("NO ADEQUATE ASSESSMENT: START DATE")),
    )
    tte = pl.concat([os_, pfs], how="vertical_relaxed")
    days = (pl.col("ADT") - pl.col("STARTDT")).dt.total_days() + int(options.tte_add_one_day)
    return tte.with_columns(
        AVAL=days.cast(pl.Float64), AVALU=pl.lit("DAYS"),
        AVALM=days / options.days_per_month, CNSR=pl.col("CNSR").cast(pl.Int64),
    ).select("STUDYID", "USUBJID", "SUBJID", "PARAMCD", "PARAM", "STARTDT", "ADT", "AVAL",
             "AVALU", "AVALM", "CNSR", "EVNTDESC", "CNSDTDSC").sort("PARAMCD", "SUBJID")


# --------------------------------------------------------------------------- entry points


def derive_frames(frames: dict[str, pl.DataFrame], config: Any,
                  options: DeriveOptions | None = None,
                  outputs: EngineOutputs | None = None) -> AnalysisDatasets:
    """Analysis datasets from canonical ``frames`` and a ``StudyConfig``.

    ``outputs`` lets a caller pass engine results it already has; by default the engines run.
    """
    options = options or DeriveOptions()
    out = outputs if outputs is not None else run_engines(frames, config)
    study_id = config.study_id
    criteria = str(config.response.criteria)
    adm = _administrations(frames, out)
    adsl = build_adsl(frames, out, study_id, adm)
    adtr = build_adtr(out, adsl, criteria)
    adsl = _add_outcome_flags(
        adsl, out, adtr, confirm=bool(getattr(config.response, "confirm", True)),
        first_assessment_due_day=config.protocol.assessment_window_end_days)
    addv = None
    if out.deviations is not None:
        dv = out.deviations
        addv = (dv.rename({"subject_id": "SUBJID"}) if "subject_id" in dv.columns else dv)
        if "SUBJID" in addv.columns:
            addv = adsl.select("STUDYID", "USUBJID", "SUBJID", "TRTSDT").join(
                addv, on="SUBJID", how="inner")
            dates = [c for c, t in addv.schema.items() if t == pl.Date and c != "TRTSDT"]
            addv = addv.with_columns(
                study_day(pl.col(c), pl.col("TRTSDT")).alias(f"{c}_day") for c in dates
            ).drop("TRTSDT")
    return AnalysisDatasets(
        study_id=study_id, adsl=adsl.sort("SUBJID"), adex=build_adex(adm, adsl),
        adtr=adtr, adrs=build_adrs(out, adsl, criteria), adlb=build_adlb(out, adsl, adm),
        adtte=build_adtte(adsl, out, options), adtox=build_adtox(out, adsl), addv=addv, criteria=criteria,
        toxicity_criteria=str(config.toxicity.criteria), options=options,
    )


def derive(loaded: Any, options: DeriveOptions | None = None) -> AnalysisDatasets:
    """Analysis datasets of a loaded study (``radiotrial.study.load.LoadedStudy``)."""
    return derive_frames(loaded.frames, loaded.config, options)


def write_datasets(datasets: AnalysisDatasets, out_dir: str | Path) -> list[Path]:
    """Write each dataset as CSV and Parquet plus ``data_dictionary.csv``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    dsets = datasets.as_dict()
    for name, df in dsets.items():
        csv, pq = out / f"{name.lower()}.csv", out / f"{name.lower()}.parquet"
        df.write_csv(csv)
        df.write_parquet(pq)
        written += [csv, pq]
    dd = out / "data_dictionary.csv"
    dictionary(dsets).write_csv(dd)
    written.append(dd)
    return written
