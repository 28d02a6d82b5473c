"""The HTML report and its data, built from the small hand-made study."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest
from _derive_fixture import config, frames, outputs

from radiotrial.errors import RadiotrialError
from radiotrial.report import build_report, write_report
from radiotrial.report.build import ReportOptions
from radiotrial.study.derive import derive_frames


@pytest.fixture(scope="module")
def report():
    ds = derive_frames(frames(), config(), outputs=outputs())
    return build_report(ds, SimpleNamespace(config=config(), data_hash="deadbeef"))


def test_html_is_self_contained_and_has_sections(report):
    html = report.html
    for section in ("Patient flow", "Baseline characteristics", "Treatment exposure",
                    "Tumour response", "Biologic and clinical response", "Toxicity",
                    "Survival", "Protocol deviations", "Methods and reproducibility", "Results"):
        assert f"<h2>{section}</h2>" in html
    assert html.count("<svg") >= 4  # waterfall, swimmer, OS, PFS
    import re

    assert not re.search(r"(src|href)=[\"']?(https?:)?//", html)  # no external resources
    assert "<metadata>" not in html
    assert "deadbeef" in html and "radiotrial 0.1.0" in html
    import html as html_lib

    assert html_lib.escape(report.paragraph, quote=False) in html


def test_no_calendar_dates_in_report(report):
    import re

    assert not re.search(r"\b(19|20)\d\d-\d\d-\d\d\b", report.html)


def test_response_rates_with_exact_ci(report):
    rates = report.tables["response_rates"]
    orr = rates.row(0, named=True)
    assert (orr["n"], orr["N"]) == (1, 2)
    # Clopper-Pearson 1/2: 1.26 %-98.74 %
    assert orr["ci_lower"] == pytest.approx(1.2579, abs=1e-3)
    assert orr["ci_upper"] == pytest.approx(98.742, abs=1e-2)


def test_flow_counts_and_reasons(report):
    flow = report.tables["flow"]
    steps = flow.filter(pl.col("n").is_not_null())
    assert steps["n"].to_list() == [4, 3, 3, 2]
    reasons = flow.filter(pl.col("reason").is_not_null())["reason"].to_list()
    assert reasons == ["uptake", "died before the first tumour assessment"]


def test_waterfall_data_sorted_and_coloured_by_bor(report):
    wf = report.tables["waterfall"]
    assert wf["SUBJID"].to_list() == ["S04", "S01"]
    assert wf["BOR"].to_list() == ["SD", "PR"]


def test_toxicity_table_counts_grade3_and_reversibility(report):
    tox = report.tables["toxicity"].row(0, named=True)
    assert tox["grade_3"] == 1 and tox["grade_3_plus"] == 1 and tox["reversible"] == 1


def test_km_estimates_and_paragraph(report):
    est = report.tables["km_os_estimates"].row(0, named=True)
    assert est["n"] == 3 and est["events"] == 2
    assert est["rate_1y"] == pytest.approx(1 / 3)
    assert report.numbers.os_rate_1y == pytest.approx(1 / 3)
    assert "The 1-year survival rate was 33%" in report.paragraph
    at_risk = report.tables["km_os_at_risk"]
    assert at_risk["n_risk"][0] == 3


def test_clinical_denominator_option():
    ds = derive_frames(frames(), config(), outputs=outputs())
    loaded = SimpleNamespace(config=config(), data_hash="x")
    treated = build_report(ds, loaded)
    assert (treated.numbers.clinical_improved, treated.numbers.clinical_n) == (2, 3)
    ev = build_report(ds, loaded, ReportOptions(clinical_denominator="evaluable"))
    assert ev.numbers.clinical_n == 3
    with pytest.raises(RadiotrialError, match="clinical_denominator"):
        build_report(ds, loaded, ReportOptions(clinical_denominator="all"))


def test_paragraph_follows_a_changed_response():
    out = outputs()
    out.response_subj = out.response_subj.with_columns(bor=pl.Series(["PR", "NE", "PD"]))
    ds = derive_frames(frames(), config(), outputs=out)
    rep = build_report(ds, SimpleNamespace(config=config(), data_hash="x"))
    assert "One (50%) of two patients had continued disease progression." in rep.paragraph


def test_write_report(tmp_path, report):
    p = write_report(report, tmp_path / "sub" / "r.html")
    assert p.read_text(encoding="utf-8") == report.html


def test_report_anchors_the_audit_trail(tmp_path):
    """The report prints the audit trail's row count and head hash, as `audit verify` does."""
    from radiotrial.report import build_report
    from radiotrial.store.service import StudyStore
    from radiotrial.study.derive import derive
    from radiotrial.study.importer import import_study
    from radiotrial.study.load import load_study

    example = Path(__file__).resolve().parents[1] / "examples" / "lanreotide-2005"
    db = str(tmp_path / "study.db")
    import_study(example, db, user="test")
    loaded = load_study(db)
    with StudyStore(db, create=False) as store:
        report = store.verify_audit()
    assert (loaded.audit_rows, loaded.audit_head) == (report.rows, report.head_hash)
    html = build_report(derive(loaded), loaded).html
    assert f"{report.rows} rows" in html and report.head_hash in html


def _adsl(**cols):
    base = {"SUBJID": ["A", "B", "C"], "ELIGFL": ["Y", "N", "N"],
            "ELIGRSN": [None, "uptake: grade 2", "uptake: grade 2"], "SAFFL": ["Y", "Y", "N"],
            "EFFFL": ["Y", "N", "N"], "EFFRSN": [None, "no baseline tumour assessment", None]}
    base.update(cols)
    return pl.DataFrame(base)


def test_flow_keeps_treated_patients_who_were_not_eligible():
    from radiotrial.report.tables import flow

    f = flow(_adsl())
    steps = {r["step"]: r["n"] for r in f.iter_rows(named=True) if r["n"] is not None}
    assert steps == {"Enrolled": 3, "Eligible": 1, "Treated (safety set)": 2,
                     "Response-evaluable": 1}
    notes = f.filter(pl.col("n").is_null() & pl.col("excluded").is_null())["reason"].to_list()
    assert notes == ["including 1 treated although not eligible"]


def test_no_clinical_records_means_no_clinical_sentence():
    from radiotrial.report.build import numbers

    adsl = _adsl(CLEVLFL=["N", "N", "N"], CLIMPFL=["N", "N", "N"], MKBLFL=["N", "N", "N"],
                 MKRSPFL=[None, None, None], BOR=["SD", None, None])
    ds = SimpleNamespace(adsl=adsl, adtox=None, toxicity_criteria="ctcae-v5")
    v = numbers(ds, None)
    assert (v.clinical_n, v.marker_n) == (0, 0)
    adsl = adsl.with_columns(CLEVLFL=pl.Series(["Y", "N", "N"]))
    assert numbers(SimpleNamespace(adsl=adsl, adtox=None, toxicity_criteria="ctcae-v5"),
                   None).clinical_n == 2  # the abstract's denominator: all treated patients


def test_plural():
    from radiotrial.report.narrative import plural

    assert (plural(1, "man", "men"), plural(2, "man", "men"), plural(0, "event")) == (
        "1 man", "2 men", "0 events")
