"""CLI errors and help of demo / derive / report (no example data needed)."""

from typer.testing import CliRunner

from radiotrial.cli.main import app
from radiotrial.errors import RadiotrialError


def test_help_teaches_with_examples():
    for cmd in ("demo", "derive", "report"):
        r = CliRunner().invoke(app, [cmd, "--help"])
        assert r.exit_code == 0
        assert f"radiotrial {cmd}" in r.output


def test_missing_database_is_a_clear_error(tmp_path):
    r = CliRunner().invoke(app, ["report", "--db", str(tmp_path / "none.db")])
    assert isinstance(r.exception, RadiotrialError)
    assert "none.db" in str(r.exception) and "--db" in str(r.exception)


def test_demo_missing_example_folder(tmp_path):
    r = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), "--example",
                                 str(tmp_path / "nowhere")])
    assert r.exception is not None
