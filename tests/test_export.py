"""Export: import → export → import → export is exact (files and values), hypothesis-generated."""

from __future__ import annotations

import datetime as dt
import filecmp
import shutil
from pathlib import Path

import polars as pl
from conftest import STUDY_YAML
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radiotrial.store.dictionary import BY_NAME
from radiotrial.study.canonical import csv_text
from radiotrial.study.exporter import export_study
from radiotrial.study.importer import import_study
from radiotrial.study.load import load_study

codes = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,8}", fullmatch=True)
text = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_characters="\x7f"),
               min_size=1, max_size=12).map(str.strip).filter(bool)
finite = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)
dates = st.dates(dt.date(2000, 1, 1), dt.date(2000, 12, 31))


@st.composite
def studies(draw):
    ids = draw(st.lists(codes, min_size=1, max_size=4, unique=True))
    subjects = [{
        "subject_id": s, "site_id": None, "sex": draw(st.sampled_from(["M", "F"])),
        "age": draw(st.integers(0, 120)), "birth_year": draw(st.none() | st.integers(1900, 2000)),
        "enrolment_date": dt.date(2001, 1, 1), "histology": draw(text),
        "primary_site": draw(st.none() | text), "liver_metastases": draw(st.none() | st.booleans()),
        "progression_date": draw(st.none() | dates),
        "performance_status": draw(st.none() | st.integers(0, 4)),
    } for s in ids]
    labs, adms = [], []
    for s in ids:
        for i in range(draw(st.integers(0, 3))):
            lln = draw(st.none() | finite)
            labs.append({
                "subject_id": s,
                "instant": dt.datetime(2001, 1, 2, tzinfo=dt.UTC)
                + dt.timedelta(microseconds=draw(st.integers(0, 10**12))) + dt.timedelta(days=i * 20),
                "analyte": draw(st.sampled_from(["HGB", "PLAT", "BILI", "ALT"])),
                "value": draw(finite), "unit": None, "lln": lln,
                "uln": None if lln is None else lln + draw(finite)})
        for c in range(1, draw(st.integers(0, 2)) + 1):
            t = dt.datetime(2001, 1, 1, 9, tzinfo=dt.UTC) + dt.timedelta(days=56 * c)
            adms.append({
                "subject_id": s, "cycle": c, "admin_instant": t, "radiopharmaceutical": draw(text),
                "nuclide": "Y-90", "calibrated_activity": draw(finite.filter(lambda x: x > 0)),
                "calibration_instant": t, "residual_activity": None, "residual_instant": None,
                "activity_unit": "GBq", "route": "intravenous", "embolisation": draw(st.booleans()),
                "embolisation_agent": draw(st.none() | text), "liver_mass_kg": None,
                "tumour_mass_kg": None})
    canon = {"HGB": "g/dL", "PLAT": "10^9/L", "BILI": "umol/L", "ALT": "U/L"}
    frames = {"subject": pl.DataFrame(subjects, schema=_schema("subject"))}
    if labs:
        frames["lab"] = pl.DataFrame(labs, schema=_schema("lab")).with_columns(
            pl.col("analyte").replace_strict(canon).alias("unit"))
    if adms:
        frames["administration"] = pl.DataFrame(adms, schema=_schema("administration"))
    return frames


def _schema(name):
    from radiotrial.store.dictionary import polars_schema

    return polars_schema(BY_NAME[name])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames=studies())
def test_round_trip_is_exact(tmp_path_factory, frames):
    root = tmp_path_factory.mktemp("rt")
    src = root / "src"
    src.mkdir()
    (src / "study.yaml").write_text(STUDY_YAML, encoding="utf-8")
    for name, f in frames.items():
        (src / f"{name}.csv").write_text(csv_text(f, BY_NAME[name]), encoding="utf-8")
    import_study(src, str(root / "a.db"), user="t")
    export_study(str(root / "a.db"), root / "out")
    names = sorted(p.name for p in src.iterdir())
    assert sorted(p.name for p in (root / "out").iterdir()) == names
    _match, mismatch, errors = filecmp.cmpfiles(src, root / "out", names, shallow=False)
    assert not mismatch and not errors
    loaded = load_study(str(root / "a.db"))
    for name, f in frames.items():
        want = f.sort(list(BY_NAME[name].key))
        assert loaded.frames[name].equals(want), name
    import_study(root / "out", str(root / "b.db"), user="t")
    assert load_study(str(root / "b.db")).data_hash == loaded.data_hash
    shutil.rmtree(root)


def test_export_refuses_to_overwrite_a_study(tmp_path, study_db):
    import pytest

    from radiotrial.errors import RadiotrialError

    export_study(study_db, tmp_path / "o")
    with pytest.raises(RadiotrialError, match="already holds a study"):
        export_study(study_db, tmp_path / "o")
    export_study(study_db, tmp_path / "o", overwrite=True)


def test_export_of_mixed_units_writes_canonical_and_keeps_hash(tmp_path, study_db):
    out = export_study(study_db, tmp_path / "o")
    lab = (Path(out.out) / "lab.csv").read_text()
    assert "HGB,13.0,g/dL,12.0,16.0" in lab
    assert ",1.5,2004-03-11T08:00:00Z,,,GBq," in (Path(out.out) / "administration.csv").read_text()
    again = import_study(tmp_path / "o", str(tmp_path / "b.db"), user="t")
    assert again.data_hash == out.data_hash


def test_export_is_audited_and_the_chain_still_verifies(tmp_path, study_db):
    import json

    import pytest
    from typer.testing import CliRunner

    from radiotrial.cli.main import app
    from radiotrial.errors import RadiotrialError
    from radiotrial.store.service import StudyStore

    with StudyStore(study_db, create=False) as store:
        n0 = len(store.history())
    res = CliRunner().invoke(app, ["export", str(tmp_path / "x"), "--db", study_db,
                                   "--format", "xlsx", "--user", "stat1"])
    assert res.exit_code == 0, res.output
    with pytest.raises(RadiotrialError, match="already holds a study"):  # refused: no row
        export_study(study_db, tmp_path / "x", user="stat2")
    with pytest.raises(RadiotrialError, match="unknown export format"):
        export_study(study_db, tmp_path / "y", fmt="pdf", user="stat2")  # type: ignore[arg-type]
    s = export_study(study_db, tmp_path / "z", user="stat3")
    with StudyStore(study_db, create=False) as store:
        rows = store.history()
        assert store.verify_audit().ok
    new = rows[n0:]
    assert [(r["action"], r["user_name"], r["source"]) for r in new] == [
        ("EXPORT", "stat1", "cli"), ("EXPORT", "stat3", "api")]
    first, second = (json.loads(r["new_value"]) for r in new)
    assert first["target"] == str((tmp_path / "x").resolve()) and first["format"] == "xlsx"
    assert first["files"] == ["study.yaml", "study.xlsx"]
    assert second["format"] == "csv" and second["data_hash"] == s.data_hash == first["data_hash"]
    assert second["records"] == sum(s.records.values())
    assert all(r["old_value"] is None and r["record_type"] == "study" for r in new)
    res = CliRunner().invoke(app, ["audit", "verify", "--db", study_db])
    assert res.exit_code == 0 and f"{n0 + 2} rows" in res.output
