"""`radiotrial dose activity | partition | bed` (issue 6 item 6)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from radiotrial.cli.main import app
from radiotrial.errors import RadiotrialError

runner = CliRunner()


def _json(args):
    result = runner.invoke(app, ["dose", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_activity_administered_with_residual_after_injection():
    # 1200 MBq at 08:00+01:00, injected 10:00+01:00, 50 MBq residual at 11:00+01:00 (after).
    out = _json(["activity", "-n", "Y-90", "--calibrated", "1200", "--unit", "MBq",
                 "--calibration-instant", "2004-03-02T08:00+01:00", "--admin-instant", "2004-03-02T09:00Z",
                 "--residual", "50", "--residual-instant", "2004-03-02T11:00+01:00"])
    f2, f1 = 2 ** (-2 / 64.1), 2 ** (1 / 64.1)
    assert out["activity_at_injection_gbq"] == pytest.approx(1.2 * f2)
    assert out["residual_at_injection_gbq"] == pytest.approx(0.05 * f1)
    assert out["administered_activity_gbq"] == pytest.approx(1.2 * f2 - 0.05 * f1)


def test_activity_decay_only_and_errors():
    out = _json(["activity", "--calibrated", "1", "--calibration-instant", "2004-03-02T08:00Z",
                 "--at", "2004-03-04T20:06Z"])  # +60.1 h
    assert out["activity_at_gbq"] == pytest.approx(2 ** (-60.1 / 64.1))
    r = runner.invoke(app, ["dose", "activity", "--calibrated", "1", "--calibration-instant", "2004-03-02T08:00",
                            "--at", "2004-03-03T08:00Z"])
    assert isinstance(r.exception, RadiotrialError) and "UTC offset" in str(r.exception)
    r = runner.invoke(app, ["dose", "activity", "--calibrated", "1", "--calibration-instant", "2004-03-02T08:00Z",
                            "--admin-instant", "2004-03-02T08:00Z", "--residual", "2",
                            "--residual-instant", "2004-03-02T08:00Z"])
    assert isinstance(r.exception, RadiotrialError) and "above the dispensed" in str(r.exception)


def test_partition_forward_inverse_and_counts():
    inv = _json(["partition", "--normal-liver-dose", "40", "--tn", "4", "--tumour-mass", "0.2",
                 "--liver-mass", "1.7", "--lsf", "0.1", "--k", "49.67"])
    assert inv["activity_gbq"] == pytest.approx(40 * 2.3 / (49.67 * 0.9))
    fwd = _json(["partition", "--activity", str(inv["activity_gbq"]), "--tn", "4", "--tumour-mass", "0.2",
                 "--liver-mass", "1.7", "--lsf", "0.1", "--k", "49.67"])
    assert fwd["normal_liver_dose_gy"] == pytest.approx(40) and fwd["tumour_dose_gy"] == pytest.approx(160)
    counts = _json(["partition", "--activity", "1", "--tumour-counts", "6000", "--normal-counts", "5000",
                    "--tumour-mass", "0.3", "--liver-mass", "1.5", "--liver-mass-excludes-tumour"])
    assert counts["tn_ratio"] == pytest.approx(6.0)
    r = runner.invoke(app, ["dose", "partition", "--tn", "3", "--tumour-mass", "0.2", "--liver-mass", "1.7"])
    assert isinstance(r.exception, RadiotrialError) and "exactly one" in str(r.exception)


def test_bed_two_cycles():
    out = _json(["bed", "--organ", "kidney", "--dose", "10", "--dose", "8", "--t-eff", "40"])
    assert out["cumulative_bed_gy"] == pytest.approx(22.126527, abs=1e-5)
    assert out["cumulative_dose_gy"] == 18.0
    out = _json(["bed", "--dose", "5", "--t-eff", "40", "--alpha-beta", "1e12", "--t-rep", "1"])
    assert out["cumulative_bed_gy"] == pytest.approx(5.0)


def test_help_teaches_with_examples():
    for cmd in ("activity", "partition", "bed"):
        r = runner.invoke(app, ["dose", cmd, "--help"])
        assert r.exit_code == 0 and "radiotrial dose " + cmd in r.output


def test_cli_error_exits_2_without_traceback():
    exe = Path(sys.executable).with_name("radiotrial")
    p = subprocess.run([str(exe), "dose", "bed", "--dose", "1", "--t-eff", "10", "--organ", "spleen"], check=False,
                       capture_output=True, text=True)
    assert p.returncode == 2 and "alpha/beta" in p.stderr and "Traceback" not in p.stderr
