"""The ``radiotrial`` command.

Each group of commands lives in its own small module with a ``register(app)`` function; this module
only assembles them. Command modules import nothing heavy at module level (numpy, polars,
SQLAlchemy, matplotlib are imported inside the command functions) so that ``radiotrial --help``
starts quickly.
"""

from __future__ import annotations

import importlib
import sys

import typer

from radiotrial import __version__
from radiotrial.errors import RadiotrialError

#: Command modules, in the order their commands appear in ``--help``.
COMMAND_MODULES = (
    "radiotrial.cli.study_cmds",     # demo, derive, report
    "radiotrial.cli.data_cmds",      # import, export, template, audit, edit
    "radiotrial.cli.protocol_cmds",  # eligibility, schedule, ready
    "radiotrial.cli.km_cmd",         # km
    "radiotrial.cli.grade_cmd",      # grade
    "radiotrial.cli.dose_cmds",      # dose activity | partition | bed | ...
)

HELP = """\
Run and analyse radionuclide-therapy studies, from the patient record to the
published result.

[bold]Start here[/bold]

  radiotrial demo                            the example study, end to end
  radiotrial template my-study/              an empty, documented study folder
  radiotrial import my-study/ --db study.db  validate and load, all or none
  radiotrial report --db study.db --out report.html

Add [bold]--help[/bold] to any command for its options and examples;
[bold]--debug[/bold] shows tracebacks.
"""

app = typer.Typer(
    name="radiotrial",
    help=HELP,
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"radiotrial {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    _state["debug"] = debug


#: Help panel of each top-level command or group, so ``--help`` reads as a table of contents.
PANELS = {
    "demo": "Start here",
    "validate": "Study data", "import": "Study data", "export": "Study data", "template": "Study data",
    "add": "Study data", "edit": "Study data", "audit": "Study data",
    "eligibility": "Protocol", "schedule": "Protocol", "ready": "Protocol",
    "derive": "Analyse", "report": "Analyse",
    "km": "Tools for files outside a study", "grade": "Tools for files outside a study",
    "dose": "Tools for files outside a study",
}

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def command_name(info: typer.models.CommandInfo | typer.models.TyperInfo) -> str | None:
    """The name a registered command or group has on the command line."""
    if info.name:
        return info.name
    if isinstance(info, typer.models.TyperInfo) and info.typer_instance is not None:
        return info.typer_instance.info.name
    return info.callback.__name__.replace("_", "-") if info.callback else None


for _info in (*app.registered_commands, *app.registered_groups):
    if command_name(_info) in PANELS:
        _info.rich_help_panel = PANELS[command_name(_info)]


def run() -> None:
    """Console-script entry point: run the app, print user errors without a traceback.

    Typer's standalone mode already turns usage errors into a message and exit code 2; a
    :class:`RadiotrialError` raised by a command is printed here as one clear message.
    """
    try:
        app(prog_name="radiotrial")
    except RadiotrialError as exc:
        if _state["debug"]:
            raise
        _print_error(str(exc))
        sys.exit(exc.exit_code)


def _print_error(message: str) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(stderr=True)
    console.print(Text("error: ", style="bold red") + Text(message), soft_wrap=True)


if __name__ == "__main__":  # pragma: no cover
    run()
