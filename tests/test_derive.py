"""Derivation of the ADaM-shaped analysis datasets from frames and engine results."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest
from _derive_fixture import config, frames, outputs

from radiotrial.study.derive import DeriveOptions, derive_frames, study_day, write_datasets

D = dt.date


@pytest.fixture(scope="module")
def ds():
    return derive_frames(frames(), config(), outputs=outputs())


def row(df: pl.DataFrame, **where) -> dict:
    for k, v in where.items():
        df = df.filter(pl.col(k) == v)
    assert df.height == 1, df
    return df.row(0, named=True)


@pytest.mark.parametrize("date, start, day", [
    (D(2004, 1, 10), D(2004, 1, 10), 1), (D(2004, 1, 11), D(2004, 1, 10), 2),
    (D(2004, 1, 9), D(2004, 1, 10), -1), (D(2004, 1, 8), D(2004, 1, 10), -2)])
def test_study_day_has_no_day_zero(date, start, day):
    out = pl.select(study_day(pl.lit(date), pl.lit(start))).item()
    assert out == day


def test_adsl_one_row_per_subject_and_identifiers(ds):
    assert ds.adsl.height == 4
    assert ds.adsl["USUBJID"].to_list() == [f"LANREO-2005-S0{i}" for i in range(1, 5)]


def test_adsl_treatment_and_populations(ds):
    s1 = row(ds.adsl, SUBJID="S01")
    # first administration at 23:00 UTC on 9 Jan: the UTC date is the treatment start
    assert s1["TRTSDT"] == D(2004, 1, 9) and s1["TRTEDT"] == D(2004, 3, 5)
    assert s1["NCYCLES"] == 2 and s1["CUMACT"] == pytest.approx(1.9)
    assert s1["EMBFL"] == "Y" and s1["SAFFL"] == "Y" and s1["EFFFL"] == "Y"
    assert s1["DTHFL"] == "Y" and s1["BOR"] == "PR" and s1["BPCHG"] == pytest.approx(-60.0)
    s3 = row(ds.adsl, SUBJID="S03")
    assert s3["SAFFL"] == "N" and s3["EFFFL"] == "N" and s3["EFFRSN"] == "not treated"
    assert s3["ELIGFL"] == "N" and s3["ELIGRSN"] == "uptake"
    assert s3["NCYCLES"] == 0


def test_adsl_evaluability_reason(ds):
    s2 = row(ds.adsl, SUBJID="S02")
    assert s2["EFFFL"] == "N"
    assert s2["EFFRSN"] == "died before the first tumour assessment"
    # The records' specific reason wins over the engine's generic one; the engine's reason is
    # used where the records explain nothing more (S04: imaged after treatment, yet NE).
    out = outputs()
    out.response_subj = out.response_subj.with_columns(
        bor=pl.Series(["PR", "NE", "NE"]),
        reason=pl.Series([None, "engine reason", "engine reason"]))
    adsl = derive_frames(frames(), config(), outputs=out).adsl
    assert row(adsl, SUBJID="S02")["EFFRSN"] == "died before the first tumour assessment"
    s4 = row(adsl, SUBJID="S04")
    assert (s4["EFFFL"], s4["EFFRSN"]) == ("N", "engine reason")


def test_adsl_marker_and_clinical_flags(ds):
    assert row(ds.adsl, SUBJID="S01")["MKRSPFL"] == "Y"
    assert row(ds.adsl, SUBJID="S02")["MKBLFL"] == "N"
    assert row(ds.adsl, SUBJID="S02")["MKRSPFL"] is None
    assert row(ds.adsl, SUBJID="S04")["CLIMPFL"] == "Y"
    assert row(ds.adsl, SUBJID="S03")["CLEVLFL"] == "N"


def test_adex_per_administration(ds):
    assert ds.adex.height == 4
    c2 = row(ds.adex, SUBJID="S01", CYCLE=2)
    assert c2["ASTDY"] == 57 and c2["INTVLD"] == 56
    assert c2["CUMACTC"] == pytest.approx(1.9) and c2["EMBFL"] == "Y"
    assert c2["LIVER_DOSE_GY"] == 9.0
    assert ds.adex.columns[-1] == "LIVER_DOSE_GY"


def test_adtr_baseline_change_and_nadir(ds):
    s1 = ds.adtr.filter(pl.col("SUBJID") == "S01").sort("ADT")
    assert s1["ABLFL"].to_list() == ["Y", None, None]
    assert s1["PCHG"].to_list() == pytest.approx([0.0, -60.0, -40.0])
    assert s1["NADIR"].to_list()[1:] == [1000.0, 400.0]
    assert s1["PCHGNAD"].to_list()[2] == pytest.approx(50.0)
    assert s1["ADY"].to_list() == [-4, 84, 145]
    assert set(ds.adtr["PARAMCD"]) == {"SPD"}


def test_adtr_recist_parameter():
    cfg = config().model_copy(update={"response": config().response.model_copy(
        update={"criteria": "RECIST1.1"})})
    d = derive_frames(frames(), cfg, outputs=outputs())
    assert set(d.adtr["PARAMCD"]) == {"SDIAM"} and set(d.adtr["AVALU"]) == {"mm"}


def test_adrs_parameters(ds):
    ovr = ds.adrs.filter(pl.col("PARAMCD") == "OVR")
    assert ovr.height == 3  # baseline rows are not time-point responses
    bor = ds.adrs.filter(pl.col("PARAMCD") == "BOR").sort("SUBJID")
    assert bor["AVALC"].to_list() == ["PR", "NE", "SD"]  # treated subjects only
    assert bor["AVAL"].to_list() == [2, 6, 3]
    assert row(bor, SUBJID="S01")["ADT"] == D(2004, 4, 1)
    assert ds.adrs.filter(pl.col("PARAMCD") == "MKRSP").height == 2
    assert ds.adrs.filter(pl.col("PARAMCD") == "CLIMP")["AVALC"].to_list().count("Y") == 2
    assert "CBOR" not in set(ds.adrs["PARAMCD"])


def test_adlb_baseline_and_grades(ds):
    s1 = ds.adlb.filter(pl.col("SUBJID") == "S01").sort("ADTM")
    assert s1["ABLFL"].to_list() == ["Y", None, None]
    assert s1["ATOXGR"].to_list() == ["0", "-3", "0"]
    assert s1["ATOXGRN"].to_list() == [0, 3, 0]
    assert s1["BTOXGR"].to_list() == ["0", "0", "0"]
    # S04's only lab is after the first dose: no baseline
    assert row(ds.adlb, SUBJID="S04")["BTOXGR"] is None
    assert set(ds.adlb["PARCAT1"]) == {"HAEMATOLOGY"}


def test_adtte_os_and_pfs(ds):
    tte = ds.adtte
    assert set(tte["SUBJID"]) == {"S01", "S02", "S04"}  # untreated S03 has no origin
    os1 = row(tte, SUBJID="S01", PARAMCD="OS")
    assert os1["CNSR"] == 0 and os1["AVAL"] == (D(2004, 9, 1) - D(2004, 1, 9)).days + 1
    assert os1["AVALM"] == pytest.approx(os1["AVAL"] / 30.4375)
    os4 = row(tte, SUBJID="S04", PARAMCD="OS")
    assert os4["CNSR"] == 1 and os4["ADT"] == D(2005, 1, 15)
    p1 = row(tte, SUBJID="S01", PARAMCD="PFS")
    assert p1["CNSR"] == 0 and p1["ADT"] == D(2004, 6, 1)
    assert p1["EVNTDESC"] == "DISEASE PROGRESSION"
    p2 = row(tte, SUBJID="S02", PARAMCD="PFS")
    assert p2["CNSR"] == 0 and p2["EVNTDESC"] == "DEATH"
    p4 = row(tte, SUBJID="S04", PARAMCD="PFS")
    assert p4["CNSR"] == 1 and p4["ADT"] == D(2004, 4, 10)


def test_adtte_duration_option():
    d = derive_frames(frames(), config(), DeriveOptions(tte_add_one_day=False),
                      outputs=outputs())
    assert row(d.adtte, SUBJID="S01", PARAMCD="OS")["AVAL"] == 236


def test_pfs_new_therapy_censors():
    f = frames()
    f["follow_up"] = f["follow_up"].with_columns(
        new_therapy_date=pl.Series([D(2004, 5, 1), None, None, None]))
    d = derive_frames(f, config(), outputs=outputs())
    p1 = row(d.adtte, SUBJID="S01", PARAMCD="PFS")
    assert p1["CNSR"] == 1 and p1["ADT"] == D(2004, 4, 1)
    off = derive_frames(f, config(), DeriveOptions(pfs_censor_at_new_therapy=False),
                        outputs=outputs())
    assert row(off.adtte, SUBJID="S01", PARAMCD="PFS")["CNSR"] == 0


def test_changed_death_date_changes_os(ds):
    f = frames()
    f["follow_up"] = f["follow_up"].with_columns(
        death_date=pl.Series([D(2004, 10, 1), D(2004, 3, 15), None, None]))
    d = derive_frames(f, config(), outputs=outputs())
    assert row(d.adtte, SUBJID="S01", PARAMCD="OS")["AVAL"] == row(
        ds.adtte, SUBJID="S01", PARAMCD="OS")["AVAL"] + 30


def test_missing_optional_record_types():
    f = frames()
    del f["eligibility"], f["follow_up"]
    d = derive_frames(f, config(), outputs=dataclasses.replace(outputs(), eligibility=None))
    assert d.adsl["ELIGFL"].is_null().all()
    assert row(d.adtte, SUBJID="S01", PARAMCD="OS")["CNSR"] == 1


def test_write_datasets(tmp_path, ds):
    paths = write_datasets(ds, tmp_path)
    names = {p.name for p in paths}
    for n in ("adsl", "adex", "adtr", "adrs", "adlb", "adtte"):
        assert f"{n}.csv" in names and f"{n}.parquet" in names
    back = pl.read_parquet(tmp_path / "adsl.parquet")
    assert back.equals(ds.adsl)
    dd = pl.read_csv(tmp_path / "data_dictionary.csv")
    assert dd.columns == ["dataset", "name", "label", "type", "unit"]
    cnsr = dd.filter((pl.col("dataset") == "ADTTE") & (pl.col("name") == "CNSR")).row(0)
    assert "0 = event" in cnsr[2]
    dose = dd.filter(pl.col("name") == "LIVER_DOSE_GY").row(0, named=True)
    assert dose["unit"] == "Gy"
    assert dd.filter(pl.col("name") == "TRTSDT")["type"].to_list() == ["date"]


def test_adtox_worst_grade_and_reversibility(ds):
    s1 = row(ds.adtox, SUBJID="S01")
    assert s1["WORSTGR"] == 3 and s1["REVFL"] == "Y" and s1["PARCAT1"] == "HAEMATOLOGY"
    assert "ADTOX" in ds.as_dict()


@pytest.mark.parametrize(("confirm", "primary"), [(True, "SD"), (False, "PR")])
def test_primary_best_response_follows_the_confirmation_option(confirm, primary):
    """S01's PR was not confirmed (confirmed BOR SD): with confirmation on, ADSL.BOR is SD."""
    out = outputs()
    out = dataclasses.replace(out, response_subj=out.response_subj.with_columns(
        cbor=pl.Series(["SD", "NE", "SD"])))
    cfg = config()
    cfg = cfg.model_copy(update={"response": cfg.response.model_copy(update={"confirm": confirm})})
    d = derive_frames(frames(), cfg, outputs=out)
    s1 = row(d.adsl, SUBJID="S01")
    assert (s1["BOR"], s1["UBOR"], s1["CBOR"]) == (primary, "PR", "SD")
    assert row(d.adrs, SUBJID="S01", PARAMCD="BOR")["AVALC"] == "PR"
    assert row(d.adrs, SUBJID="S01", PARAMCD="CBOR")["AVALC"] == "SD"
