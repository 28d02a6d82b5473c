"""``radiotrial grade``: grade a lab file under NCI CTC v2.0 / CTCAE v4.03 / CTCAE v5.0."""

from __future__ import annotations

from pathlib import Path

import typer

from radiotrial.errors import InputError, Problem, RadiotrialError

GRADE_HELP = """\
Grade the lab results of a CSV file (outside a study) under an NCI toxicity criteria version.

The file has the columns of a study's [bold]lab.csv[/bold]: subject_id, instant (ISO 8601 with a
UTC offset), analyte (HGB, WBC, NEUT, LYMPH, PLAT, ALT, AST, ALP, GGT, BILI, CREAT), value, unit,
lln, uln. Units are converted to each analyte's canonical unit first (Hb g/dL, counts 10^9/L,
bilirubin and creatinine umol/L); an unknown unit or a non-numeric value is an error. Without a
treatment date, the first value of each subject and analyte is the baseline. A result that
cannot be graded (missing value, LLN, ULN or needed baseline) is shown "not gradable" with the
reason, never as grade 0.

[bold]Examples[/bold]

  radiotrial grade labs.csv --criteria ctc-v2
  radiotrial grade labs.csv --criteria ctcae-v5 --json > graded.json

A row such as [italic]S01,2005-03-01T09:00:00Z,PLAT,49.9,10^9/L,150,400[/italic] is grade 3 under
both versions (v5: <50.0-25.0; v2.0: >=10.0-<50.0).
"""


def _read_labs(path: Path):
    import polars as pl

    if not path.is_file():
        raise RadiotrialError(f"lab file not found: {path}")
    try:
        raw = pl.read_csv(path, infer_schema=False)
    except Exception as exc:  # polars raises several types for malformed CSV
        raise RadiotrialError(f"cannot read {path.name} as CSV: {exc}") from exc
    raw = raw.rename({c: c.strip().lower() for c in raw.columns})
    if "instant" not in raw.columns:
        raise InputError(Problem(path.name, None, "instant", None, "required lab column is missing"))
    text = pl.col("instant").str.strip_chars()
    parsed = text.str.to_datetime(time_zone="UTC", strict=False)
    bad = raw.with_row_index("__r").filter(text.is_not_null() & parsed.is_null())
    missing = raw.with_row_index("__r").filter(text.is_null())
    problems = [
        Problem(path.name, int(r) + 2, "instant", v, "not an ISO 8601 instant with a UTC offset")
        for r, v in bad.select("__r", "instant").head(50).iter_rows()
    ] + [
        Problem(path.name, int(r) + 2, "instant", None, "required value is missing")
        for (r,) in missing.select("__r").head(50).iter_rows()
    ]
    if problems:
        raise InputError(problems, summary=f"{len(problems)} lab row(s) with a bad instant")
    return raw.with_columns(parsed.alias("instant"))


def register(app: typer.Typer) -> None:
    """Add ``radiotrial grade`` to the app."""

    @app.command("grade", help=GRADE_HELP)
    def grade(
        labs: Path = typer.Argument(  # noqa: B008 - Typer idiom
            ..., help="Lab CSV file (columns as in a study's lab.csv)."
        ),
        criteria: str = typer.Option(
            "ctcae-v5", "--criteria", "-c",
            help="ctcae-v5 (default), ctc-v2 (NCI CTC v2.0, 1999) or ctcae-v4.03.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print graded rows as JSON records."),
    ) -> None:
        import polars as pl

        from radiotrial.criteria.toxicity import ToxicityConfig, grade_labs
        from radiotrial.criteria.toxicity.tables import canonical_name

        name = canonical_name(criteria)
        frame = _read_labs(labs)
        graded = grade_labs(frame, name, config=ToxicityConfig(criteria=name), file=labs.name)
        if as_json:
            out = graded.with_columns(pl.col("instant").dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
            typer.echo(out.write_json())
            return
        _print_table(graded, name)


def _print_table(graded, name: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Lab grades ({name})")
    for col in ("subject", "instant (UTC)", "analyte", "value", "unit", "term", "phase", "grade", "note"):
        table.add_column(col)
    for r in graded.iter_rows(named=True):
        grade = "-" if r["grade"] is None else str(r["grade"])
        note = r["not_gradable_reason"] or ("higher grade possible on clinical grounds"
                                            if r["clinical_review"] else "")
        if r["grade"] is None:
            note = f"not gradable: {note}"
        value = "" if r["value"] is None else f"{r['value']:g}"
        table.add_row(
            str(r["subject_id"]), r["instant"].strftime("%Y-%m-%d %H:%M"), r["analyte"], value,
            r["unit"], r["term"] or "", r["phase"], grade, note,
        )
    Console().print(table)
