"""`radiotrial km` end to end: R's numbers in --json, readable text, plots, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from radiotrial.cli.main import app
from radiotrial.errors import RadiotrialError

REF = Path("/work/shared/reference/survival")
if not REF.exists():  # pragma: no cover
    REF = Path(__file__).resolve().parents[2] / "shared" / "reference" / "survival"
LUNG = REF / "lung.csv"
runner = CliRunner()


def _num(v):
    return np.array([np.nan if isinstance(x, str) or x is None else x for x in v], dtype=float)


def test_json_lung_by_sex_is_r():
    res = runner.invoke(app, ["km", str(LUNG), "--time", "time", "--event", "status",
                              "--group", "sex", "--json", "--at", "180", "--at", "365"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert set(out) == {"conf_type", "conf_level", "strata", "logrank"}
    assert out["conf_type"] == "log" and out["conf_level"] == 0.95
    ref = json.loads((REF / "lung.km.json").read_text())
    assert [s["group"] for s in out["strata"]] == ["1", "2"]
    for s in out["strata"]:
        r = ref["km_by_group"]["log"][s["group"]]
        assert set(s) == {"group", "n", "events", "table", "median", "at"}
        assert set(s["table"]) == {"time", "n_risk", "n_event", "n_censor", "survival",
                                   "std_err", "lower", "upper"}
        assert (s["n"], s["events"]) == (r["records"], r["events"])
        assert s["median"] == {"estimate": r["median"], "lower": r["0.95LCL"],
                               "upper": r["0.95UCL"]}
        assert [a["time"] for a in s["at"]] == [180, 365]
        assert set(s["at"][0]) == {"time", "n_risk", "survival", "std_err", "lower", "upper"}
    lr = out["logrank"]
    assert lr["chisq"] == pytest.approx(ref["logrank"]["chisq"], abs=1e-10)
    assert lr["p"] == pytest.approx(ref["logrank"]["p"], abs=1e-10)
    assert lr["df"] == 1 and lr["observed"] == [112.0, 53.0]


@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
def test_json_ungrouped_veteran_table_is_r(conf_type):
    res = runner.invoke(app, ["km", str(REF / "veteran.csv"), "--time", "time", "--event",
                              "status", "--conf-type", conf_type, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["logrank"] is None and out["strata"][0]["group"] is None
    tab = out["strata"][0]["table"]
    r = json.loads((REF / "veteran.km.json").read_text())["km"][conf_type]
    for ours, theirs in (("survival", "surv"), ("lower", "lower"), ("upper", "upper")):
        a, b = _num(tab[ours]), _num(r[theirs])
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], atol=1e-10, rtol=0)
    assert tab["lower"][-1] is None and tab["std_err"][-1] is None  # S = 0 at the end
    assert "NaN" not in res.stdout and "Infinity" not in res.stdout


def test_text_output_and_plot(tmp_path):
    png = tmp_path / "km.png"
    res = runner.invoke(app, ["km", str(LUNG), "--time", "time", "--event", "status",
                              "--group", "sex", "--at", "365", "--plot", str(png)])
    assert res.exit_code == 0, res.output
    assert "270" in res.output and "212 – 310" in res.output
    assert "Log-rank" in res.output and "10.327" in res.output
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_parquet_input(tmp_path):
    df = pl.read_csv(LUNG).with_columns(pl.col("status").cast(pl.Boolean))
    path = tmp_path / "lung.parquet"
    df.write_parquet(path)
    res = runner.invoke(app, ["km", str(path), "--time", "time", "--event", "status", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["strata"][0]["median"]["estimate"] == 310


@pytest.mark.parametrize("args, match", [
    (["--time", "days", "--event", "status"], "column 'days' not found"),
    (["--time", "time", "--event", "sex"], "row 8, column 'sex'"),
    (["--time", "time", "--event", "status", "--conf-type", "logit"], "conf_type"),
    (["--time", "time", "--event", "status", "--plot", "x.gif"], "--plot"),
])
def test_errors_are_radiotrial_errors(args, match):
    res = runner.invoke(app, ["km", str(LUNG), *args])
    assert isinstance(res.exception, RadiotrialError)
    assert match in str(res.exception)


def test_missing_file():
    res = runner.invoke(app, ["km", "nope.csv", "--time", "t", "--event", "e"])
    assert isinstance(res.exception, RadiotrialError) and "not found" in str(res.exception)


def test_help_teaches():
    res = runner.invoke(app, ["km", "--help"])
    assert res.exit_code == 0
    assert "radiotrial km lung.csv" in res.output and "--json" in res.output


def test_censor_column_is_the_complement_of_event(tmp_path):
    import polars as pl
    from typer.testing import CliRunner

    from radiotrial.cli.main import app

    path = tmp_path / "os.csv"
    pl.DataFrame({"AVAL": [5, 8, 12, 20], "CNSR": [0, 1, 0, 1],
                  "died": [1, 0, 1, 0]}).write_csv(path)
    runner = CliRunner()
    by_event = runner.invoke(app, ["km", str(path), "--time", "AVAL", "--event", "died", "--json"])
    by_censor = runner.invoke(app, ["km", str(path), "--time", "AVAL", "--censor", "CNSR",
                                    "--json"])
    assert by_event.exit_code == 0 and by_event.output == by_censor.output
    inverted = runner.invoke(app, ["km", str(path), "--time", "AVAL", "--event", "CNSR"])
    assert inverted.exit_code != 0 and "--censor CNSR" in str(inverted.exception)
    both = runner.invoke(app, ["km", str(path), "--time", "AVAL", "--event", "died",
                               "--censor", "CNSR"])
    assert both.exit_code != 0 and "exactly one" in str(both.exception)
