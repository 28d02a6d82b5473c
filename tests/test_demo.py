"""End to end on the example study: import, derive, report; the abstract's numbers come out."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from _abstract import ABSTRACT_RESULTS
from typer.testing import CliRunner

from radiotrial.cli.main import app

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "lanreotide-2005"
ABSTRACT = ABSTRACT_RESULTS

def _run(folder: Path, tmp: Path):
    from radiotrial.report import build_report
    from radiotrial.study.derive import derive
    from radiotrial.study.importer import import_study
    from radiotrial.study.load import load_study

    db = tmp / "study.db"
    import_study(folder, str(db))
    loaded = load_study(str(db))
    ds = derive(loaded)
    return ds, build_report(ds, loaded)


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    return _run(EXAMPLE, tmp_path_factory.mktemp("example"))


def _copy(tmp: Path) -> Path:
    dst = tmp / "study"
    shutil.copytree(EXAMPLE, dst)
    return dst


def test_every_number_of_the_abstract(example):
    ds, rep = example
    adsl = ds.adsl
    treated = adsl.filter(pl.col("SAFFL") == "Y")
    assert treated.height == 23 and ds.adex.height == 36
    assert treated.filter(pl.col("SEX") == "M").height == 13
    assert (treated["AGE"].min(), treated["AGE"].median(), treated["AGE"].max()) == (21, 57, 69)
    ev = treated.filter(pl.col("EFFFL") == "Y")
    assert ev.height == 19
    bor = dict(ev.group_by("BOR").len().iter_rows())
    assert (bor.get("CR", 0), bor.get("PR"), bor.get("SD"), bor.get("PD")) == (0, 3, 12, 4)
    assert treated.filter(pl.col("CLIMPFL") == "Y").height == 14
    assert treated.filter(pl.col("MKBLFL") == "Y").height == 15
    assert treated.filter(pl.col("MKRSPFL") == "Y").height == 9
    n = rep.numbers
    assert (n.tox_subjects, n.tox_reversible) == (3, 3)
    assert round(100 * n.os_rate_1y) == 63 and round(n.os_median_months) == 15
    assert ds.adex["ADMACT"].median() == pytest.approx(1.0, abs=0.1)
    assert rep.paragraph == ABSTRACT


def test_patient_flow_names_why_four_are_not_evaluable(example):
    """The README's design: two early deaths, one withdrawal, one subject never re-imaged."""
    ds, rep = example
    reasons = ds.adsl.filter(pl.col("EFFFL") == "N").group_by("EFFRSN").len()
    assert dict(reasons.iter_rows()) == {
        "died before the first tumour assessment": 2,
        "withdrew before the first tumour assessment": 1,
        "no tumour assessment after treatment": 1,
    }
    assert "withdrew before the first tumour assessment" in rep.html


def test_one_lesion_measurement_changes_the_response(example, tmp_path):
    ds, _ = example
    # the last assessment of a partial responder: one lesion grows threefold
    ovr = ds.adrs.filter((pl.col("PARAMCD") == "OVR") & (pl.col("AVALC") == "PR"))
    subj = ovr["SUBJID"][0]
    last = ds.adtr.filter(pl.col("SUBJID") == subj).sort("ADT").tail(1).row(0, named=True)
    folder = _copy(tmp_path)
    m = pl.read_csv(folder / "measurement.csv", infer_schema_length=0).with_row_index()
    hit = m.filter((pl.col("subject_id") == subj)
                   & (pl.col("assessment_date") == str(last["ADT"]))
                   & (pl.col("state") == "present")).row(0, named=True)
    ld, pd_ = float(hit["longest_diameter"]), float(hit["perpendicular_diameter"])
    m = m.with_columns(longest_diameter=pl.when(pl.col("index") == hit["index"])
                       .then(pl.lit(str(3 * ld))).otherwise(pl.col("longest_diameter")))
    m.drop("index").write_csv(folder / "measurement.csv")
    ds2, _ = _run(folder, tmp_path)
    new = ds2.adtr.filter((pl.col("SUBJID") == subj) & (pl.col("ADT") == last["ADT"]))
    assert new["AVAL"][0] == pytest.approx(last["AVAL"] + 2 * ld * pd_)
    ovr2 = ds2.adrs.filter((pl.col("SUBJID") == subj) & (pl.col("PARAMCD") == "OVR")
                           & (pl.col("ADT") == last["ADT"]))
    assert ovr2["AVALC"][0] == "PD"
    pfs = ds2.adtte.filter((pl.col("SUBJID") == subj) & (pl.col("PARAMCD") == "PFS"))
    assert pfs["CNSR"][0] == 0 and pfs["ADT"][0] == last["ADT"]


def test_one_platelet_count_changes_the_toxicity(example, tmp_path):
    _, rep = example
    folder = _copy(tmp_path)
    lab = pl.read_csv(folder / "lab.csv", infer_schema_length=0)
    adm = pl.read_csv(folder / "administration.csv", infer_schema_length=0)
    # a grade-4 platelet count (< 10 x 10^9/L, CTC v2.0) in a patient who had none
    subj = adm["subject_id"][0]
    post = lab.filter((pl.col("subject_id") == subj) & (pl.col("analyte") == "PLAT")
                      & (pl.col("instant") > adm["admin_instant"][0]))
    target = post["instant"][0]
    lab = lab.with_columns(value=pl.when((pl.col("subject_id") == subj)
                                         & (pl.col("analyte") == "PLAT")
                                         & (pl.col("instant") == target))
                           .then(pl.lit("5")).otherwise(pl.col("value")))
    lab.write_csv(folder / "lab.csv")
    ds2, rep2 = _run(folder, tmp_path)
    worst = ds2.adtox.filter((pl.col("SUBJID") == subj) & (pl.col("PARAMCD") == "PLAT"))
    assert worst["WORSTGR"][0] == 4
    assert rep2.numbers.tox_subjects >= rep.numbers.tox_subjects


def test_one_death_date_changes_survival(example, tmp_path):
    ds, _ = example
    folder = _copy(tmp_path)
    fu = pl.read_csv(folder / "follow_up.csv", infer_schema_length=0)
    dead = fu.filter(pl.col("death_date").is_not_null())["subject_id"][0]
    before = ds.adtte.filter((pl.col("SUBJID") == dead) & (pl.col("PARAMCD") == "OS"))["AVAL"][0]
    fu = fu.with_columns(
        death_date=pl.when(pl.col("subject_id") == dead)
        .then((pl.col("death_date").str.to_date() + pl.duration(days=30)).cast(pl.String))
        .otherwise(pl.col("death_date")),
        last_known_alive_date=pl.when(pl.col("subject_id") == dead)
        .then((pl.col("last_known_alive_date").str.to_date() + pl.duration(days=30))
              .cast(pl.String)).otherwise(pl.col("last_known_alive_date")))
    fu.write_csv(folder / "follow_up.csv")
    ds2, _ = _run(folder, tmp_path)
    after = ds2.adtte.filter((pl.col("SUBJID") == dead) & (pl.col("PARAMCD") == "OS"))["AVAL"][0]
    assert after == before + 30


def test_demo_command_prints_paragraph_and_path(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "Partial response to treatment was achieved in three (16%)" in " ".join(
        result.output.split())
    assert (tmp_path / "demo" / "report.html").exists()
    assert (tmp_path / "demo" / "datasets" / "adsl.parquet").exists()


def test_derive_and_report_commands(tmp_path):
    from radiotrial.study.importer import import_study

    db = tmp_path / "s.db"
    import_study(EXAMPLE, str(db))
    r = CliRunner().invoke(app, ["derive", "--db", str(db), str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out" / "adtte.csv").exists()
    r = CliRunner().invoke(app, ["report", "--db", str(db), "--out", str(tmp_path / "r.html")])
    assert r.exit_code == 0, r.output
    assert "Report:" in r.output
