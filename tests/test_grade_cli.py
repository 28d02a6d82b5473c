"""`radiotrial grade LABS.csv --criteria ... [--json]`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from radiotrial.cli.main import app
from radiotrial.errors import InputError

CSV = """subject_id,instant,analyte,value,unit,lln,uln
S01,2005-03-01T09:00:00Z,PLAT,49.9,10^9/L,150,400
S01,2005-03-10T09:00:00+01:00,HGB,64.9,g/L,120,160
S02,2005-03-01T09:00:00Z,WBC,3.5,10^9/L,,10
"""


@pytest.fixture
def lab_file(tmp_path: Path) -> Path:
    p = tmp_path / "labs.csv"
    p.write_text(CSV)
    return p


def test_grade_json_ctc_v2(lab_file):
    result = CliRunner().invoke(app, ["grade", str(lab_file), "--criteria", "ctc-v2", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["grade"] for r in rows] == [3, 4, None]
    assert rows[1]["value"] == 6.49 and rows[1]["unit"] == "g/dL"
    assert rows[1]["instant"] == "2005-03-10T08:00:00Z"
    assert rows[2]["not_gradable_reason"] == "LLN missing"


def test_grade_table_default_v5(lab_file):
    result = CliRunner().invoke(app, ["grade", str(lab_file)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "ctcae-v5" in result.output and "not gradable" in result.output


def test_grade_help_teaches():
    result = CliRunner().invoke(app, ["grade", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "radiotrial grade labs.csv --criteria ctc-v2" in result.output


def test_unknown_unit_and_bad_instant_are_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV.replace("g/L", "g/X"))
    result = CliRunner().invoke(app, ["grade", str(bad)])
    assert isinstance(result.exception, InputError) and "g/X" in str(result.exception)
    bad.write_text(CSV.replace("2005-03-01T09:00:00Z,PLAT", "2005-03-01T09:00:00,PLAT"))
    result = CliRunner().invoke(app, ["grade", str(bad)])
    assert isinstance(result.exception, InputError) and "UTC offset" in str(result.exception)


def test_error_exit_code_through_console_script(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV.replace("49.9", "abc"))
    out = subprocess.run(
        [sys.executable, "-c", "from radiotrial.cli.main import run; run()", "grade", str(bad)],
        capture_output=True, text=True, check=False,
    )
    assert out.returncode == 2
    assert "not a number" in out.stderr and "Traceback" not in out.stderr
