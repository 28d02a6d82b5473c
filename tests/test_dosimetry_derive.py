"""Study-level dosimetry, limits at the boundary and planned-cycle readiness (issue 6 items 5, 7)."""

import math
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from radiotrial.errors import InputError, RadiotrialError
from radiotrial.physics import DosimetryConfig, derive_dosimetry, planned_cycle_check
from radiotrial.physics.config import OrganLimitSpec
from radiotrial.physics.dosimetry.factors import dose_factor_k
from radiotrial.physics.dosimetry.limits import evaluate_limits, exceeds, limits_table

T = 64.10  # Y-90 ICRP-107 half-life, h
K = dose_factor_k("Y-90")


def _adm(**over):
    t1 = datetime(2004, 3, 2, 10, tzinfo=UTC)
    t2 = t1 + timedelta(days=56)
    data = {
        "subject_id": ["S1", "S1", "S2"], "cycle": [1, 2, 1],
        "admin_instant": [t1, t2, t1],
        "radiopharmaceutical": ["Y-90-DOTA-lanreotide"] * 3, "nuclide": ["Y-90"] * 3,
        "calibrated_activity": [2.0, 1.0, 1.0],
        "calibration_instant": [t1 - timedelta(hours=T), t2, t1],
        "residual_activity": [0.05, None, None],
        "residual_instant": [t1 + timedelta(hours=T), None, None],
        "activity_unit": ["GBq"] * 3, "route": ["intra-arterial hepatic"] * 3,
        "embolisation": [True, False, False],
        "liver_mass_kg": [1.8, 1.8, None], "tumour_mass_kg": [0.3, 0.3, None],
    }
    data.update(over)
    return pl.DataFrame(data, schema_overrides={"residual_activity": pl.Float64,
                                                "liver_mass_kg": pl.Float64, "tumour_mass_kg": pl.Float64})


SCAN = pl.DataFrame({
    "subject_id": ["S1", "S1"], "tracer": ["In-111 pentetreotide"] * 2,
    "scan_date": [date(2004, 2, 1), date(2004, 3, 3)],  # second scan is after cycle 1
    "tumour_counts": [6000.0, 12000.0], "normal_liver_counts": [5000.0, 5000.0],
    "lung_shunt_fraction": [None, 0.1],
}, schema_overrides={"lung_shunt_fraction": pl.Float64})


def test_per_administration_activity_and_doses():
    r = derive_dosimetry({"administration": _adm(), "scintigraphy": SCAN}, DosimetryConfig())
    a = r.administrations
    s1c1 = a.row(0, named=True)
    # 2 GBq one half-life before -> 1 GBq at injection; 0.05 GBq residual one half-life after -> 0.1.
    assert s1c1["calibrated_activity_gbq"] == 2.0
    assert s1c1["activity_at_injection_gbq"] == pytest.approx(1.0)
    assert s1c1["residual_activity_gbq"] == pytest.approx(0.1)
    assert s1c1["administered_activity_gbq"] == pytest.approx(0.9)
    # Default config: no washout -> liver dose = upper bound = K A / M.
    assert s1c1["liver_dose_gy"] == pytest.approx(K * 0.9 / 1.8)
    assert s1c1["liver_dose_upper_gy"] == pytest.approx(K * 0.9 / 1.8)
    # Cycle 1 uses the Feb scan: T/N = (6000/0.3)/(5000/1.5) = 6, LSF missing -> 0.
    assert s1c1["tn_ratio"] == pytest.approx(6.0) and s1c1["lung_shunt_fraction"] == 0.0
    assert s1c1["normal_liver_dose_gy"] == pytest.approx(K * 0.9 / (6 * 0.3 + 1.5))
    assert s1c1["tumour_dose_gy"] == pytest.approx(6 * K * 0.9 / (6 * 0.3 + 1.5))
    # Cycle 2 uses the March scan: T/N 12, LSF 0.1.
    s1c2 = a.row(1, named=True)
    assert s1c2["tn_ratio"] == pytest.approx(12.0) and s1c2["lung_shunt_fraction"] == pytest.approx(0.1)
    assert s1c2["normal_liver_dose_gy"] == pytest.approx(K * 1.0 * 0.9 / (12 * 0.3 + 1.5))
    # S2 has no masses and no scan: doses null, activity still derived.
    s2 = a.row(2, named=True)
    assert s2["administered_activity_gbq"] == pytest.approx(1.0)
    assert s2["liver_dose_gy"] is None and s2["tumour_dose_gy"] is None


def test_peptide_kinetics_and_estimate_selection():
    cfg = DosimetryConfig(liver_effective_half_life_h=40, retained_fraction=0.8, estimates=["liver_peptide", "lung"])
    a = derive_dosimetry({"administration": _adm(), "scintigraphy": SCAN}, cfg).administrations
    assert a["liver_dose_gy"][0] == pytest.approx(K * 0.8 * 0.9 * (40 / T) / 1.8)
    assert "tumour_dose_gy" not in a.columns and "liver_dose_upper_gy" not in a.columns
    assert a["lung_dose_gy"][1] == pytest.approx(K * 1.0 * 0.1 * 0.8 * 40 / T / 1.0)
    with pytest.raises(InputError, match="liver_effective_half_life_h"):
        derive_dosimetry({"administration": _adm()}, DosimetryConfig(liver_effective_half_life_h=70))


def test_subject_cumulative_dose_bed_and_limits():
    cfg = DosimetryConfig(dose_per_gbq={"kidney": 2.0}, effective_half_life_h={"kidney": 40.0})
    r = derive_dosimetry({"administration": _adm(), "scintigraphy": SCAN}, cfg)
    s1 = r.subjects.filter(pl.col("subject_id") == "S1").row(0, named=True)
    assert s1["n_cycles"] == 2 and s1["cumulative_activity_gbq"] == pytest.approx(1.9)
    assert s1["kidney_dose_gy"] == pytest.approx(2 * 1.9)
    g = 2.8 / (2.8 + 40)
    assert s1["kidney_bed_gy"] == pytest.approx(1.8 + g * 1.8**2 / 2.6 + 2.0 + g * 4.0 / 2.6)
    assert s1["kidney_absorbed_cumulative_limit_gy"] == 23.0
    assert s1["kidney_bed_cumulative_limit_gy"] == 40.0
    assert s1["kidney_absorbed_cumulative_headroom_gy"] == pytest.approx(23 - 3.8)
    assert s1["any_limit_exceeded"] is False
    # S2: normal-liver dose unknown -> exceedance unknown, not False.
    s2 = r.subjects.filter(pl.col("subject_id") == "S2").row(0, named=True)
    assert s2["normal_liver_absorbed_per_treatment_exceeded"] is None
    # Risk factors switch the kidney BED limit to 28 Gy.
    r2 = derive_dosimetry({"administration": _adm()}, cfg.model_copy(update={"kidney_risk_factors": True}))
    assert r2.subjects["kidney_bed_cumulative_limit_gy"][0] == 28.0


def test_limit_warns_exactly_at_the_boundary():
    # Kidney coefficient chosen so that S1's cumulative dose (1.9 GBq) lands exactly on a 3.8 Gy limit.
    base = {"dose_per_gbq": {"kidney": 2.0}, "estimates": []}
    for limit, cmp_, expected in [(3.8, "<=", False), (3.8, "<", True), (3.7999, "<=", True), (3.8001, "<", False)]:
        cfg = DosimetryConfig(**base, limits=[OrganLimitSpec(organ="kidney", value_gy=limit, comparison=cmp_)])
        r = derive_dosimetry({"administration": _adm()}, cfg)
        row = r.limits.filter(pl.col("subject_id") == "S1").row(0, named=True)
        assert row["exceeded"] is expected, (limit, cmp_)
        assert (row["warning"] is not None) is expected
        assert any("S1" in w for w in r.warnings) is expected


def test_exceeds_and_default_table():
    assert exceeds([22.9, 23.0, 23.0 + 1e-12, 23.1], 23.0, "<=").tolist() == [False, False, False, True]
    assert exceeds([39.9, 40.0, 40.1], 40.0, "<").tolist() == [False, True, True]
    tab = limits_table()
    assert set(tab["organ"]) == {"kidney", "red_marrow", "lung", "normal_liver"}
    assert tab.filter(pl.col("organ") == "red_marrow")["limit_gy"].to_list() == [2.0]
    lung = tab.filter(pl.col("organ") == "lung").sort("scope")
    assert lung["limit_gy"].to_list() == [50.0, 30.0] and lung["scope"].to_list() == ["cumulative", "per_treatment"]
    vals = pl.DataFrame({"subject_id": ["a"], "organ": ["red_marrow"], "quantity": ["absorbed"],
                         "scope": ["cumulative"], "value_gy": [2.0]})
    assert evaluate_limits(vals, tab)["exceeded"].to_list() == [False]


def test_input_errors_name_row_and_field():
    with pytest.raises(InputError, match=r"row 3, column 'nuclide'"):
        derive_dosimetry({"administration": _adm(nuclide=["Y-90", "Y-91", "Y-90"])})
    with pytest.raises(InputError, match=r"row 2, column 'residual_activity'.*exceeds"):
        derive_dosimetry({"administration": _adm(residual_activity=[5.0, None, None])})
    with pytest.raises(InputError, match="tumour_mass_kg"):
        derive_dosimetry({"administration": _adm(tumour_mass_kg=[2.0, 0.3, None])})
    naive = _adm().with_columns(pl.col("admin_instant").dt.replace_time_zone(None))
    with pytest.raises(InputError, match="admin_instant"):
        derive_dosimetry({"administration": naive})


def test_empty_and_missing_frames():
    assert derive_dosimetry({}, DosimetryConfig()).administrations.height == 0
    empty = _adm().head(0)
    assert derive_dosimetry({"administration": empty}).subjects.height == 0
    minimal = _adm().select("subject_id", "cycle", "admin_instant", "nuclide", "calibrated_activity", "calibration_instant")
    r = derive_dosimetry({"administration": minimal})
    assert r.administrations["administered_activity_gbq"].to_list() == pytest.approx([1.0, 1.0, 1.0])


def test_planned_cycle_check():
    cfg = DosimetryConfig(dose_per_gbq={"kidney": 2.0, "red_marrow": 0.5},
                          effective_half_life_h={"kidney": 40.0})
    r = derive_dosimetry({"administration": _adm(), "scintigraphy": SCAN}, cfg)
    out = planned_cycle_check(r, {"S1": 1.0, "S2": 4.0, "S9": 1.0}, cfg)
    marrow = out.filter(pl.col("organ") == "red_marrow").sort("subject_id")
    # S1: 0.95 Gy so far + 0.5 planned = 1.45 <= 2; S2: 0.5 + 2.0 = 2.5 > 2, over by 0.5;
    # max activity for S2 = (2 - 0.5) / 0.5 = 3 GBq. S9 has no prior cycles: unknown.
    assert marrow["value_after_gy"].to_list()[:2] == pytest.approx([1.45, 2.5])
    assert marrow["would_exceed"].to_list() == [False, True, None]
    assert marrow["excess_gy"][1] == pytest.approx(0.5)
    assert marrow["max_activity_gbq"][1] == pytest.approx(3.0)
    assert "at most 3.0 GBq" in marrow["warning"][1]
    # BED max activity solves the quadratic: planning exactly that activity reaches the limit.
    kb = out.filter((pl.col("organ") == "kidney") & (pl.col("quantity") == "bed") & (pl.col("subject_id") == "S1"))
    amax = kb["max_activity_gbq"][0]
    again = planned_cycle_check(r, {"S1": amax}, cfg).filter(
        (pl.col("organ") == "kidney") & (pl.col("quantity") == "bed"))
    assert again["value_after_gy"][0] == pytest.approx(40.0)
    assert again["would_exceed"][0] is True  # "<" limit: reaching 40 Gy BED is a violation
    with pytest.raises(RadiotrialError, match="planned_activity_gbq"):
        planned_cycle_check(r, {"S1": -1.0}, cfg)


def test_vectorised_on_many_rows():
    n = 50_000
    t1 = datetime(2004, 3, 2, 10, tzinfo=UTC)
    big = pl.DataFrame({
        "subject_id": [f"S{i}" for i in range(n)], "cycle": [1] * n,
        "admin_instant": [t1] * n, "nuclide": ["Y-90"] * n,
        "calibrated_activity": [1.0] * n, "calibration_instant": [t1] * n,
        "liver_mass_kg": [1.5] * n, "tumour_mass_kg": [0.2] * n,
    })
    r = derive_dosimetry({"administration": big}, DosimetryConfig(dose_per_gbq={"kidney": 2.0}))
    assert r.subjects.height == n
    assert r.administrations["liver_dose_gy"][n - 1] == pytest.approx(K / 1.5)
    assert math.isclose(r.subjects["kidney_dose_gy"].sum(), 2.0 * n)
