"""The example study's raw files (examples/lanreotide-2005): formats, counts, units, privacy, and
independent recomputation of every number of the abstract (shared/study/abstract.txt).

These checks use Polars and lifelines only: they do not depend on radiotrial's engines, nor on
the generator's own checker (``check_design.py``), which is exercised separately below so that
two independent implementations agree on the design.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import shutil
import sys
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

FOLDER = Path(__file__).resolve().parents[1] / "examples" / "lanreotide-2005"
MONTH = 365.25 / 12
HAEM = ("HGB", "WBC", "NEUT", "LYMPH", "PLAT")

# Columns of docs/import-format.md (the study-folder contract).
DOC_COLUMNS = {
    "site": {"site_id", "name"},
    "subject": {"subject_id", "site_id", "sex", "age", "birth_year", "enrolment_date", "histology",
                "primary_site", "liver_metastases", "progression_date", "performance_status"},
    "eligibility": {"subject_id", "criterion", "met", "assessed_date", "note"},
    "scintigraphy": {"subject_id", "tracer", "scan_date", "uptake_grade", "tumour_counts",
                     "normal_liver_counts", "lung_shunt_fraction"},
    "administration": {"subject_id", "cycle", "admin_instant", "radiopharmaceutical", "nuclide",
                       "calibrated_activity", "calibration_instant", "residual_activity",
                       "residual_instant", "activity_unit", "route", "embolisation",
                       "embolisation_agent", "liver_mass_kg", "tumour_mass_kg"},
    "lesion": {"subject_id", "lesion_id", "organ", "role", "nodal", "method"},
    "measurement": {"subject_id", "lesion_id", "assessment_date", "longest_diameter",
                    "perpendicular_diameter", "short_axis", "unit", "state"},
    "tumour_assessment": {"subject_id", "assessment_date", "modality", "non_target_status",
                          "new_lesions", "reader"},
    "lab": {"subject_id", "instant", "analyte", "value", "unit", "lln", "uln"},
    "marker": {"subject_id", "marker", "sample_date", "value", "unit", "uln"},
    "clinical": {"subject_id", "assessment_date", "symptom_status", "performance_status",
                 "notes"},
    "adverse_event": {"subject_id", "term", "grade", "start_date", "end_date", "serious",
                      "attribution"},
    "follow_up": {"subject_id", "last_known_alive_date", "death_date", "death_cause",
                  "new_therapy_date"},
}
DATE_COLS = {"enrolment_date", "progression_date", "assessed_date", "scan_date",
             "assessment_date", "sample_date", "start_date", "end_date",
             "last_known_alive_date", "death_date", "new_therapy_date"}
INSTANT_COLS = {"admin_instant", "calibration_instant", "residual_instant", "instant"}
BOOL_COLS = {"liver_metastases", "met", "embolisation", "nodal", "new_lesions", "serious"}
INSTANT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})$")
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


def raw(name: str, folder: Path = FOLDER) -> pl.DataFrame:
    """One CSV file as all-text columns (empty cell = null)."""
    return pl.read_csv(folder / f"{name}.csv", infer_schema=False)


def instant(col: str) -> pl.Expr:
    """Parse an ISO instant with offset to UTC."""
    return pl.col(col).str.replace("Z$", "+00:00").str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%:z", time_zone="UTC")


def day(col: str) -> pl.Expr:
    return pl.col(col).str.to_date("%Y-%m-%d")


def starts(folder: Path = FOLDER) -> pl.DataFrame:
    """Treatment start per subject = UTC date of the first administration."""
    return (raw("administration", folder)
            .group_by("subject_id").agg(start=instant("admin_instant").min().dt.date()))


# ------------------------------------------------------------------------- formats and privacy


def test_every_file_follows_the_import_format():
    for name, cols in DOC_COLUMNS.items():
        with open(FOLDER / f"{name}.csv", encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        assert set(header) <= cols, (name, set(header) - cols)
        df = raw(name)
        assert df.height > 0, name
        for c in df.columns:
            values = df[c].drop_nulls()
            if c in DATE_COLS:
                assert values.str.contains(r"^\d{4}-\d{2}-\d{2}$").all(), (name, c)
                dates = values.str.to_date("%Y-%m-%d")
                assert dates.min().year >= 2001 and dates.max().year <= 2004, (name, c)
            if c in INSTANT_COLS:
                bad = [v for v in values if not INSTANT_RE.match(v)]
                assert not bad, (name, c, bad[:3])  # no naive instants
            if c in BOOL_COLS:
                assert set(values) <= {"true", "false"}, (name, c)
            if c in ("subject_id", "site_id", "lesion_id"):
                assert all(CODE_RE.match(v) for v in values), (name, c)


def test_units_are_valid_mixed_and_canonicalisable():
    lab = raw("lab")
    allowed = {"HGB": {"g/dL", "g/L"}, "BILI": {"umol/L", "mg/dL"},
               "CREAT": {"umol/L", "mg/dL"}, "ALT": {"U/L"}, "AST": {"U/L"}, "ALP": {"U/L"}}
    allowed |= {a: {"10^9/L", "10^3/uL"} for a in ("WBC", "NEUT", "LYMPH", "PLAT")}
    used = lab.group_by("analyte").agg(pl.col("unit").unique()).rows()
    for analyte, units in used:
        assert set(units) <= allowed[analyte], analyte
        assert len(units) == 2 or analyte in ("ALT", "AST", "ALP"), (analyte, units)  # mixed
    assert lab["lln"].null_count() == 0 and lab["uln"].null_count() == 0
    assert set(raw("measurement")["unit"]) == {"mm", "cm"}
    assert set(raw("administration")["activity_unit"]) == {"GBq", "MBq"}
    assert set(raw("marker")["marker"]) == {"CgA", "5-HIAA"}
    assert raw("marker")["uln"].null_count() == 0


def test_no_identifiers():
    forbidden = {"name", "initials", "birth_date", "dob", "date_of_birth", "birth_year", "mrn",
                 "record_number", "patient_name"}
    for name in DOC_COLUMNS:
        cols = set(raw(name).columns) - ({"name"} if name == "site" else set())
        assert not cols & forbidden, (name, cols & forbidden)
    subj = raw("subject")
    assert subj["subject_id"].str.contains(r"^LAN-01-\d{3}$").all()
    assert set(subj["site_id"]) == {"S01"}
    free_text = pl.concat([raw("clinical")["notes"], raw("eligibility")["note"]]).drop_nulls()
    assert not free_text.str.contains(r"\b[A-Z]\.\s?[A-Z]\.|\d{6,}").any()  # initials, numbers


def test_generator_is_deterministic(tmp_path):
    spec = importlib.util.spec_from_file_location("lanreotide_generate", FOLDER / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses need the module registered
    try:
        spec.loader.exec_module(mod)
    finally:
        del sys.modules[spec.name]
    mod.generate(tmp_path)
    for name in DOC_COLUMNS:
        assert (tmp_path / f"{name}.csv").read_bytes() == (FOLDER / f"{name}.csv").read_bytes(), \
            f"{name}.csv differs from a fresh run of generate.py"


# ------------------------------------------------------------------------- design numbers


def test_demographics_and_entry():
    subj = raw("subject").with_columns(pl.col("age", "performance_status").cast(pl.Int64))
    assert subj.height == 23
    assert subj["sex"].value_counts().sort("sex").rows() == [("F", 10), ("M", 13)]
    assert (subj["age"].min(), subj["age"].max(), subj["age"].median()) == (21, 69, 57)
    assert subj["performance_status"].is_between(0, 2).all()
    assert (subj["liver_metastases"] == "true").all()
    assert subj["histology"].str.contains("neuroendocrine").all()
    gap = subj.select((day("enrolment_date") - day("progression_date")).dt.total_days())
    assert gap.to_series().is_between(1, 183).all()  # progression within 6 months
    scan = raw("scintigraphy").join(starts(), on="subject_id").with_columns(
        gap=(pl.col("start") - day("scan_date")).dt.total_days())
    assert scan.height == 23 and scan["gap"].is_between(1, 60).all()
    assert (scan["tracer"] == "In-111 pentetreotide").all()
    assert scan["uptake_grade"].is_in(["3", "4"]).all()
    assert (raw("eligibility")["met"] == "true").all()


def test_administrations_and_schedule():
    adm = raw("administration").with_columns(t=instant("admin_instant"),
                                             cycle=pl.col("cycle").cast(pl.Int64))
    assert adm.height == 36
    per = adm.group_by("subject_id").len()["len"].value_counts().sort("len").rows()
    assert per == [(1, 12), (2, 9), (3, 2)]
    assert (adm["route"] == "intra-arterial hepatic").all() and (adm["nuclide"] == "Y-90").all()
    assert 3 <= (adm["embolisation"] == "true").sum() <= 20
    gaps = (adm.sort("subject_id", "cycle")
            .with_columns(gap=pl.col("t").dt.date().diff().over("subject_id").dt.total_days())
            .drop_nulls("gap")["gap"])
    assert sorted(g for g in gaps if abs(g - 56) > 7) == [70]  # exactly one late cycle
    # activity: calibrated before injection, residual after; median ~1 GBq
    lam = 0.693147 / 64.05  # Y-90, ENSDF (shared/spec/dosimetry.md)
    a = adm.with_columns(
        f=pl.when(pl.col("activity_unit") == "MBq").then(1e-3).otherwise(1.0),
        cal_t=instant("calibration_instant"), res_t=instant("residual_instant"))
    a = a.with_columns(
        a_inj=pl.col("calibrated_activity").cast(pl.Float64) * pl.col("f")
        * (-lam * (pl.col("t") - pl.col("cal_t")).dt.total_seconds() / 3600).exp(),
        r_inj=pl.col("residual_activity").cast(pl.Float64) * pl.col("f")
        * (lam * (pl.col("res_t") - pl.col("t")).dt.total_seconds() / 3600).exp())
    assert (a["cal_t"] < a["t"]).all() and (a["res_t"] > a["t"]).all()
    net = a["a_inj"] - a["r_inj"]
    assert (net > 0).all()
    assert 0.96 <= net.median() <= 1.04
    assert 0.96 <= (a["calibrated_activity"].cast(pl.Float64) * a["f"]).median() <= 1.04


def spd_table(folder: Path = FOLDER, with_non_target: bool = False) -> pl.DataFrame:
    """SPD (mm^2) per subject and scan from target (optionally also non-target) lesions."""
    roles = ["target", "non-target"] if with_non_target else ["target"]
    m = raw("measurement", folder).join(raw("lesion", folder), on=["subject_id", "lesion_id"])
    m = m.filter(pl.col("role").is_in(roles)).with_columns(
        f=pl.when(pl.col("unit") == "cm").then(10.0).otherwise(1.0), d=day("assessment_date"))
    m = m.with_columns(p=pl.col("longest_diameter").cast(pl.Float64) * pl.col("f")
                       * pl.col("perpendicular_diameter").cast(pl.Float64) * pl.col("f"))
    ta = raw("tumour_assessment", folder).select(
        "subject_id", d=day("assessment_date"), new=pl.col("new_lesions") == "true")
    return (m.group_by("subject_id", "d").agg(spd=pl.col("p").sum())
            .join(ta, on=["subject_id", "d"], how="left").join(starts(folder), on="subject_id")
            .sort("subject_id", "d"))


def who_best_response(folder: Path = FOLDER, with_non_target: bool = False) -> dict[str, str]:
    """WHO best response: SPD; PR <= -50 % confirmed >= 28 d later; PD >= +25 % over the nadir
    (baseline included) or new lesions; SD needs an assessment >= 42 d after start."""
    t = spd_table(folder, with_non_target)
    base = (t.filter(pl.col("d") <= pl.col("start")).group_by("subject_id")
            .agg(pl.col("spd").sort_by("d").last().alias("base")))
    post = t.filter(pl.col("d") > pl.col("start")).join(base, on="subject_id")
    post = post.with_columns(
        nadir=pl.min_horizontal(pl.col("base"), pl.col("spd").cum_min().over("subject_id")
                                .shift(1).over("subject_id")),
        ch=pl.col("spd") / pl.col("base") - 1)
    post = post.with_columns(
        tp=pl.when(pl.col("new") | (pl.col("spd") >= 1.25 * pl.col("nadir"))).then(pl.lit("PD"))
        .when(pl.col("ch") <= -0.5).then(pl.lit("PR")).otherwise(pl.lit("SD")),
        day=(pl.col("d") - pl.col("start")).dt.total_days())
    # drop everything after the first PD
    post = post.filter((pl.col("tp") == "PD").cum_sum().over("subject_id").shift(1, fill_value=0)
                       .over("subject_id") == 0)
    pr = post.filter(pl.col("tp") == "PR")
    confirmed = set(pr.join(pr, on="subject_id").filter(
        (pl.col("d_right") - pl.col("d")).dt.total_days() >= 28)["subject_id"])
    sd = set(post.filter(pl.col("tp").is_in(["PR", "SD"]) & (pl.col("day") >= 42))["subject_id"])
    pd = set(post.filter(pl.col("tp") == "PD")["subject_id"])
    out = {}
    for s in raw("subject", folder)["subject_id"]:
        out[s] = ("PR" if s in confirmed else "SD" if s in sd else "PD" if s in pd else "NE")
    return out


def counts(bor: dict[str, str]) -> dict[str, int]:
    return {k: sum(v == k for v in bor.values()) for k in ("PR", "SD", "PD", "NE")}


def test_who_response_3_12_4_of_19():
    bor = who_best_response()
    assert counts(bor) == {"PR": 3, "SD": 12, "PD": 4, "NE": 4}
    # non-target lesions shrink/grow with the targets: adding them to the sum changes nothing
    assert who_best_response(with_non_target=True) == bor


def test_who_changes_keep_far_from_thresholds():
    t = spd_table()
    base = (t.filter(pl.col("d") <= pl.col("start")).group_by("subject_id")
            .agg(base=pl.col("spd").sort_by("d").last()))
    post = t.filter(pl.col("d") > pl.col("start")).join(base, on="subject_id").with_columns(
        ch=pl.col("spd") / pl.col("base") - 1)
    bor = who_best_response()
    for s, ch, new in post.select("subject_id", "ch", "new").rows():
        if new:
            continue
        assert ch <= -0.55 or -0.25 < ch < 0.15 or ch >= 0.40, (s, ch)
        if bor[s] == "PR":
            assert ch <= -0.55
    first = post.group_by("subject_id").agg(pl.all().sort_by("d").first())
    for s, ch, new in first.select("subject_id", "ch", "new").rows():
        if bor[s] == "PD":
            assert new or ch >= 0.40
        if bor[s] == "SD":
            assert -0.25 < ch < 0.15 and not new


def test_not_evaluable_subjects_have_no_post_baseline_imaging():
    t = spd_table()
    imaged = set(t.filter(pl.col("d") > pl.col("start"))["subject_id"])
    ne = {s for s, b in who_best_response().items() if b == "NE"}
    assert len(ne) == 4 and not ne & imaged
    fu = raw("follow_up").filter(pl.col("subject_id").is_in(list(ne))).join(starts(),
                                                                             on="subject_id")
    # three died and one withdrew (censored) within 7 weeks; one lived on without imaging
    early = fu.filter((day("last_known_alive_date") - pl.col("start")).dt.total_days() < 49)
    assert early.height == 3 and early["death_date"].null_count() == 1


def test_one_scan_outside_the_assessment_window():
    adm = raw("administration").select("subject_id", a=instant("admin_instant").dt.date())
    ta = raw("tumour_assessment").select("subject_id", d=day("assessment_date"))
    j = ta.join(adm, on="subject_id").filter(pl.col("a") < pl.col("d"))
    last = j.group_by("subject_id", "d").agg(pl.col("a").max()).with_columns(
        gap=(pl.col("d") - pl.col("a")).dt.total_days())
    outside = last.filter(~pl.col("gap").is_between(56, 84))
    assert outside.height == 1 and outside["gap"][0] > 84


def test_clinical_improvement_14_of_23():
    c = raw("clinical").with_columns(d=day("assessment_date")).join(starts(), on="subject_id")
    assert c.filter(pl.col("d") <= pl.col("start"))["symptom_status"].null_count() == \
        c.filter(pl.col("d") <= pl.col("start")).height  # baseline status empty
    post = c.filter(pl.col("d") > pl.col("start"))
    assert set(post["symptom_status"]) <= {"improved", "stable", "worse"}
    assert post.filter(pl.col("symptom_status") == "improved")["subject_id"].n_unique() == 14


def test_markers_15_elevated_9_halved():
    m = (raw("marker").with_columns(d=day("sample_date"), v=pl.col("value").cast(pl.Float64),
                                    uln=pl.col("uln").cast(pl.Float64))
         .join(starts(), on="subject_id"))
    base = (m.filter(pl.col("d") <= pl.col("start")).group_by("subject_id", "marker")
            .agg(b=pl.col("v").sort_by("d").last(), uln=pl.col("uln").sort_by("d").last()))
    best = (m.filter(pl.col("d") > pl.col("start")).group_by("subject_id", "marker")
            .agg(low=pl.col("v").min()))
    x = base.join(best, on=["subject_id", "marker"], how="left").with_columns(
        ch=pl.col("low") / pl.col("b") - 1, elevated=pl.col("b") > pl.col("uln"))
    el = x.filter("elevated")
    assert el["subject_id"].n_unique() == 15
    assert el["low"].null_count() == 0  # every elevated marker is followed up
    assert (el["b"] >= 2 * el["uln"]).all()  # far above ULN
    assert (x.filter(~pl.col("elevated"))["b"] <= 0.8 * x.filter(~pl.col("elevated"))["uln"]).all()
    assert ((el["ch"] <= -0.55) | (el["ch"] > -0.30)).all()
    per = el.group_by("subject_id").agg(resp=(pl.col("ch") <= -0.5).all(),
                                        any_resp=(pl.col("ch") <= -0.5).any())
    assert (per["resp"] == per["any_resp"]).all()  # markers of one subject agree
    assert per["resp"].sum() == 9


def canonical_labs(folder: Path = FOLDER) -> pl.DataFrame:
    """Labs in canonical units (docs/import-format.md): g/dL, 10^9/L, U/L, umol/L."""
    f = (pl.when(pl.col("unit") == "g/L").then(0.1)
         .when((pl.col("analyte") == "BILI") & (pl.col("unit") == "mg/dL")).then(17.104)
         .when((pl.col("analyte") == "CREAT") & (pl.col("unit") == "mg/dL")).then(88.42)
         .otherwise(1.0))
    return (raw("lab", folder).with_columns(f=f, d=instant("instant").dt.date())
            .with_columns([(pl.col(c).cast(pl.Float64) * pl.col("f")).alias(c)
                           for c in ("value", "lln", "uln")])
            .join(starts(folder), on="subject_id"))


def ctc_v2_grade() -> pl.Expr:
    """NCI CTC v2.0 grade (shared/spec/response-and-toxicity.md section 3)."""
    v, a = pl.col("value"), pl.col("analyte")
    x = v / pl.col("uln")
    return (
        pl.when(a == "HGB").then(pl.when(v < 6.5).then(4).when(v < 8).then(3).when(v < 10)
                                 .then(2).when(v < pl.col("lln")).then(1).otherwise(0))
        .when(a == "WBC").then(pl.when(v < 1).then(4).when(v < 2).then(3).when(v < 3).then(2)
                               .when(v < pl.col("lln")).then(1).otherwise(0))
        .when(a == "NEUT").then(pl.when(v < 0.5).then(4).when(v < 1).then(3).when(v < 1.5)
                                .then(2).when(v < 2).then(1).otherwise(0))
        .when(a == "LYMPH").then(pl.when(v < 0.5).then(3).when(v < 1).then(2)
                                 .when(v < pl.col("lln")).then(1).otherwise(0))
        .when(a == "PLAT").then(pl.when(v < 10).then(4).when(v < 50).then(3).when(v < 75)
                                .then(2).when(v < pl.col("lln")).then(1).otherwise(0))
        .when(a.is_in(["ALT", "AST", "ALP"])).then(
            pl.when(x > 20).then(4).when(x > 5).then(3).when(x > 2.5).then(2).when(x > 1).then(1)
            .otherwise(0))
        .when(a == "BILI").then(pl.when(x > 10).then(4).when(x > 3).then(3).when(x > 1.5).then(2)
                                .when(x > 1).then(1).otherwise(0))
        .when(a == "CREAT").then(pl.when(x > 6).then(4).when(x > 3).then(3).when(x > 1.5)
                                 .then(2).when(x > 1).then(1).otherwise(0))
    )


def grade3_subjects(folder: Path = FOLDER) -> set[str]:
    g = canonical_labs(folder).with_columns(grade=ctc_v2_grade())
    haem = g.filter(pl.col("analyte").is_in(HAEM) & (pl.col("d") > pl.col("start")))
    return set(haem.filter(pl.col("grade") >= 3)["subject_id"])


def test_baseline_labs_meet_eligibility():
    g = canonical_labs()
    base = g.filter(pl.col("d") <= pl.col("start"))
    base = base.filter(pl.col("d") == pl.col("d").max().over("subject_id"))
    assert base["subject_id"].n_unique() == 23
    val = {a: base.filter(pl.col("analyte") == a) for a in ("PLAT", "NEUT", "HGB", "BILI",
                                                             "CREAT")}
    assert (val["PLAT"]["value"] >= 100).all() and (val["NEUT"]["value"] >= 1.5).all()
    assert (val["HGB"]["value"] >= 9).all()
    assert (val["BILI"]["value"] <= 2 * val["BILI"]["uln"]).all()
    assert (val["CREAT"]["value"] <= 1.5 * val["CREAT"]["uln"]).all()


def test_toxicity_three_reversible_grade3_haematological():
    g = canonical_labs().with_columns(grade=ctc_v2_grade())
    post = g.filter(pl.col("d") > pl.col("start"))
    haem = post.filter(pl.col("analyte").is_in(HAEM))
    worst = haem.group_by("subject_id").agg(pl.col("grade").max())
    assert worst.filter(pl.col("grade") >= 3).height == 3
    others = haem.join(worst.filter(pl.col("grade") <= 2), on="subject_id")
    floors = {"HGB": 8.6, "WBC": 2.3, "NEUT": 1.15, "LYMPH": 0.6, "PLAT": 58.0}
    for a, lo in floors.items():  # keep away from the grade-3 boundaries
        assert (others.filter(pl.col("analyte") == a)["value"] >= lo).all(), a
    for s in grade3_subjects():
        h = haem.filter(pl.col("subject_id") == s).sort("d")
        for a in h.filter(pl.col("grade") >= 3)["analyte"].unique():
            seq = h.filter(pl.col("analyte") == a)
            first3 = seq.filter(pl.col("grade") >= 3)["d"].min()
            later = seq.filter(pl.col("d") > first3)["grade"]
            assert later.len() > 0 and later[0] <= 1, (s, a)  # recovered
        assert (h.filter(pl.col("d") == h["d"].max())["grade"] <= 1).all()
    liver = post.filter(~pl.col("analyte").is_in(HAEM))
    assert liver["grade"].max() <= 1  # mildly abnormal liver tests only
    assert liver.filter(pl.col("analyte").is_in(["ALT", "AST", "ALP"]))["grade"].max() == 1
    ae = raw("adverse_event").with_columns(pl.col("grade").cast(pl.Int64))
    assert set(ae.filter(pl.col("grade") >= 3)["subject_id"]) == grade3_subjects()


def os_frame(folder: Path = FOLDER) -> pl.DataFrame:
    fu = raw("follow_up", folder).join(starts(folder), on="subject_id")
    return fu.select(
        "subject_id",
        t=(pl.coalesce(day("death_date"), day("last_known_alive_date")) - pl.col("start"))
        .dt.total_days().cast(pl.Float64),
        e=pl.col("death_date").is_not_null().cast(pl.Int64))


def km_1y_and_median(frame: pl.DataFrame) -> tuple[float, float]:
    from lifelines import KaplanMeierFitter

    fit = KaplanMeierFitter().fit(frame["t"].to_numpy(), frame["e"].to_numpy())
    return (float(fit.survival_function_at_times([365.25]).iloc[0]),
            float(fit.median_survival_time_) / MONTH)


def test_kaplan_meier_63_percent_and_15_months():
    f = os_frame()
    assert f["e"].sum() == 15
    s1, med = km_1y_and_median(f)
    assert round(100 * s1) == 63 and round(med) == 15
    assert 0.627 < s1 < 0.633 and 14.8 < med < 15.2
    s1b, medb = km_1y_and_median(f.with_columns(pl.col("t") + 1))  # day-1 convention
    assert round(100 * s1b) == 63 and round(medb) == 15
    # no event or censoring near 1 year; the median is a clear step across 0.5
    assert ((f["t"] - 365.25).abs() > 25).all()
    times = f.sort("t")
    s, steps = 1.0, []
    for t in times.filter(pl.col("e") == 1)["t"].unique().sort():
        n = (times["t"] >= t).sum()
        s *= 1 - times.filter((pl.col("t") == t) & (pl.col("e") == 1)).height / n
        steps.append((t, s))
    above = [v for _, v in steps if v > 0.5]
    below = [v for _, v in steps if v <= 0.5]
    assert above[-1] > 0.52 and below[0] < 0.48


def test_record_dates_are_consistent():
    subj = raw("subject").select("subject_id", enrol=day("enrolment_date"))
    fu = raw("follow_up").select("subject_id", alive=day("last_known_alive_date"),
                                 death=day("death_date"))
    parts = [raw("lab").select("subject_id", d=instant("instant").dt.date()),
             raw("administration").select("subject_id", d=instant("residual_instant").dt.date())]
    for name, col in [("measurement", "assessment_date"), ("marker", "sample_date"),
                      ("clinical", "assessment_date"), ("adverse_event", "end_date"),
                      ("tumour_assessment", "assessment_date"), ("scintigraphy", "scan_date")]:
        parts.append(raw(name).select("subject_id", d=day(col)))
    allr = pl.concat(parts).drop_nulls().join(subj, on="subject_id").join(fu, on="subject_id")
    assert (allr["d"] >= allr["enrol"] - timedelta(days=90)).all()
    assert (allr["d"] <= allr["alive"]).all()
    dead = allr.drop_nulls("death")
    assert (dead["d"] <= dead["death"]).all()
    assert (fu.drop_nulls("death")["death"] == fu.drop_nulls("death")["alive"]).all()


# ------------------------------------------------------------------------- generator checker


@pytest.fixture(scope="module")
def checker():
    sys.path.insert(0, str(FOLDER))
    try:
        import check_design
    finally:
        sys.path.remove(str(FOLDER))
    return check_design


def test_generator_check_mode_passes(checker):
    assert checker.run_checks(FOLDER) == []


def _edit(folder: Path, name: str, match: dict[str, str], column: str, value: str) -> None:
    path = folder / f"{name}.csv"
    with open(path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    hit = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(hit) == 1, (name, match)
    hit[0][column] = value
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def test_checks_detect_a_changed_raw_record(tmp_path, checker):
    """One platelet count, one lesion measurement and one death date each move a result."""
    work = tmp_path / "study"
    shutil.copytree(FOLDER, work, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    # a platelet nadir of 30 x10^9/L for a subject without toxicity -> 4 subjects with grade 3
    lab = raw("lab", work).filter((pl.col("subject_id") == "LAN-01-001")
                                  & (pl.col("analyte") == "PLAT"))
    _edit(work, "lab", {"subject_id": "LAN-01-001", "analyte": "PLAT",
                        "instant": lab["instant"][1]}, "value", "30")
    assert len(grade3_subjects(work)) == 4
    # the first follow-up scan of an SD subject doubles one lesion -> PD at that scan
    meas = raw("measurement", work).filter((pl.col("subject_id") == "LAN-01-023")
                                           & (pl.col("lesion_id") == "T01"))
    _edit(work, "measurement", {"subject_id": "LAN-01-023", "lesion_id": "T01",
                                "assessment_date": meas["assessment_date"][1]},
          "longest_diameter", str(int(meas["longest_diameter"][1]) * 3))
    assert counts(who_best_response(work))["PD"] == 5
    # a censored long survivor dies at 6 months -> 1-year survival falls
    _edit(work, "follow_up", {"subject_id": "LAN-01-002"}, "death_date", "2001-09-20")
    _edit(work, "follow_up", {"subject_id": "LAN-01-002"}, "last_known_alive_date", "2001-09-20")
    s1, _ = km_1y_and_median(os_frame(work))
    assert round(100 * s1) < 63
    failures = "\n".join(checker.run_checks(work))
    assert "grade >= 3 haematological" in failures and "WHO BOR" in failures
    assert "1-year survival" in failures


def test_follow_up_visits_every_90_days_until_death_or_last_contact():
    """Clinical follow-up visits (no labs that day) every 90 +- 10 days after the assessment
    visits, status stable/worse, performance status carried over, none on/after death."""
    lab_days = raw("lab").select("subject_id", d=instant("instant").dt.date()).unique()
    fu = raw("follow_up").select("subject_id", alive=day("last_known_alive_date"),
                                 death=day("death_date"))
    c = (raw("clinical").with_columns(d=day("assessment_date"))
         .join(starts(), on="subject_id").sort("subject_id", "d")
         .with_columns(gap=pl.col("d").diff().over("subject_id").dt.total_days(),
                       prev_ps=pl.col("performance_status").shift(1).over("subject_id"))
         .join(lab_days.with_columns(lab=pl.lit(True)), on=["subject_id", "d"], how="left")
         .join(fu, on="subject_id"))
    visit = c.filter((pl.col("d") > pl.col("start")) & pl.col("lab").is_null())
    assert visit.height == 83
    assert visit["gap"].is_between(80, 100).all()
    assert set(visit["symptom_status"]) == {"stable", "worse"}
    assert visit["notes"].null_count() == visit.height
    assert (visit["performance_status"] == visit["prev_ps"]).all()
    assert (visit["d"] <= visit["alive"]).all()
    dead = visit.drop_nulls("death")
    assert (dead["d"] < dead["death"]).all()
    # follow-up runs to the end: the last clinical record is at most 100 days before death or
    # the last known alive date
    last = c.group_by("subject_id").agg(pl.col("d").max(), pl.col("alive").first())
    assert ((last["alive"] - last["d"]).dt.total_days() <= 100).all()
    # assessment visits are untouched: one per post-baseline scan/lab visit
    assert c.filter((pl.col("d") > pl.col("start")) & pl.col("lab")).height == 56 - 23
