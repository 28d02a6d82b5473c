"""The command starts, teaches and stays fast to import."""

import subprocess
import sys

from typer.testing import CliRunner

from radiotrial import __version__
from radiotrial.cli.main import app


def test_help_lists_start_here():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "radiotrial demo" in result.output


def test_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_cli_import_is_light():
    """`radiotrial --help` must not import the heavy scientific stack."""
    code = (
        "import sys, radiotrial.cli.main; "
        "heavy = [m for m in ('numpy', 'polars', 'sqlalchemy', 'matplotlib', 'scipy', 'pandas') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_command_has_a_help_panel():
    """`radiotrial --help` groups every command; a new command must be given a panel."""
    from radiotrial.cli.main import PANELS, command_name

    infos = [*app.registered_commands, *app.registered_groups]
    names = {command_name(i) for i in infos}
    assert {"demo", "import", "km", "dose", "audit"} <= names
    assert names - set(PANELS) == set()
    assert all(i.rich_help_panel for i in infos)
