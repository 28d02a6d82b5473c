"""``radiotrial demo``, ``radiotrial derive`` and ``radiotrial report``.

Nothing heavy is imported at module level (see ``radiotrial.cli.main``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from radiotrial.errors import RadiotrialError

EXAMPLE = "lanreotide-2005"


def example_folder() -> Path:
    """The example study folder: ``examples/lanreotide-2005`` of the source tree.

    The example data live outside the package (``examples/`` at the repository root), so a
    non-editable install has no copy; then the folder is looked up relative to the working
    directory, and a clear error says where it was searched.
    """
    import radiotrial

    candidates = [Path(radiotrial.__file__).resolve().parents[2] / "examples" / EXAMPLE,
                  Path.cwd() / "examples" / EXAMPLE]
    for c in candidates:
        if (c / "subject.csv").exists() or (c / "study.xlsx").exists():
            return c
    raise RadiotrialError(
        f"the example study '{EXAMPLE}' was not found (looked in "
        f"{', '.join(str(c) for c in candidates)}); run from a clone of the radiotrial "
        "repository, or pass --example PATH")


def _import_study(folder: Path, db: Path) -> Any:
    """Import ``folder`` into a new SQLite database at ``db`` with the storage layer."""
    from radiotrial.study.importer import import_study

    return import_study(folder, str(db))


def _load(db: str) -> Any:
    from radiotrial.study.load import load_study

    if "://" not in db and not Path(db).exists():
        raise RadiotrialError(f"--db: database file '{db}' does not exist; create it with "
                              "'radiotrial import FOLDER --db FILE'")
    return load_study(db)


def register(app: typer.Typer) -> None:
    """Add ``demo``, ``derive`` and ``report`` to the ``radiotrial`` app."""

    @app.command(rich_help_panel="Start here")
    def demo(
        out: Annotated[Path, typer.Option(
            "--out", "-o", help="Working folder (created; its study.db is rebuilt).")
        ] = Path("radiotrial-demo"),
        example: Annotated[Optional[Path], typer.Option(  # noqa: UP045 (typer needs Optional)
            "--example", help="Use this study folder instead of the built-in example.")
        ] = None,
    ) -> None:
        """Build the example study end to end and write its report.

        Imports the example study (examples/lanreotide-2005: 23 patients treated with
        Y-90-DOTA-lanreotide) into OUT/study.db, derives the analysis datasets into
        OUT/datasets/, writes OUT/report.html and prints the results paragraph.

        Example:

            radiotrial demo --out /tmp/demo
        """
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn

        from radiotrial.report import build_report, write_report
        from radiotrial.study.derive import derive, write_datasets

        folder = example or example_folder()
        out.mkdir(parents=True, exist_ok=True)
        db = out / "study.db"
        if db.exists():
            db.unlink()
        console = Console()
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console,
                      transient=True) as progress:
            task = progress.add_task(f"Importing {folder.name} into {db} ...")
            _import_study(folder, db)
            progress.update(task, description="Loading and deriving analysis datasets ...")
            loaded = _load(str(db))
            datasets = derive(loaded)
            write_datasets(datasets, out / "datasets")
            progress.update(task, description="Writing the report ...")
            report = build_report(datasets, loaded)
            path = write_report(report, out / "report.html")
        console.print(f"[green]done[/green] datasets in {out / 'datasets'}")
        console.print()
        console.print(report.paragraph, soft_wrap=True)
        console.print()
        console.print(f"Report: {path.resolve()}")

    @app.command(rich_help_panel="Analyse")
    def derive(
        db: Annotated[str, typer.Option("--db", help="Study database (SQLite file).")],
        out: Annotated[Path, typer.Argument(help="Output folder for the datasets.")
                       ] = Path("analysis"),
    ) -> None:
        """Derive the analysis datasets (ADSL, ADEX, ADTR, ADRS, ADLB, ADTTE, ADTOX).

        Writes each dataset as CSV and Parquet plus data_dictionary.csv (name, label, type,
        unit of every column). Study days count from the first treatment (day 1, no day 0);
        ADTTE uses CNSR = 0 for events.

        Example:

            radiotrial derive --db study.db analysis/
        """
        from radiotrial.study.derive import derive as run_derive
        from radiotrial.study.derive import write_datasets

        datasets = run_derive(_load(db))
        paths = write_datasets(datasets, out)
        for name, df in datasets.as_dict().items():
            typer.echo(f"{name:6s} {df.height:6d} rows")
        typer.echo(f"{len(paths)} files written to {out}")

    @app.command(rich_help_panel="Analyse")
    def report(
        db: Annotated[str, typer.Option("--db", help="Study database (SQLite file).")],
        out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")
                       ] = Path("report.html"),
    ) -> None:
        """Write the study report: one self-contained HTML file, readable offline.

        Patient flow, baseline characteristics, exposure, response (with exact 95% CIs),
        waterfall and swimmer plots, biologic and clinical response, toxicity, Kaplan-Meier
        survival, protocol deviations, the options used, and the results paragraph (also
        printed here).

        Example:

            radiotrial report --db study.db --out report.html
        """
        from radiotrial.report import build_report, write_report
        from radiotrial.study.derive import derive as run_derive

        loaded = _load(db)
        rep = build_report(run_derive(loaded), loaded)
        path = write_report(rep, out)
        typer.echo(rep.paragraph)
        typer.echo(f"Report: {path}")
