"""Commands of this group are registered here (work in progress; see the issue tracker)."""

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `radiotrial` app."""
