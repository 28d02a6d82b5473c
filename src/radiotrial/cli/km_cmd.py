"""``radiotrial km``: Kaplan–Meier estimates (exact to R's survival package) from a CSV/Parquet file.

Nothing heavy is imported at module level; numpy/polars/matplotlib load inside the command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from radiotrial.errors import InputError, Problem, RadiotrialError

KM_HELP = (
    "Kaplan–Meier survival estimates from a CSV or Parquet file, with R's numbers.\n\n"
    "One row per subject: a follow-up time column and an event column (1 = event, 0 = censored, "
    "or true/false). With --group: one curve per value (in R's factor order) and a log-rank "
    "test. Confidence limits follow R's survfit (conf type [bold]log[/bold] by default); "
    "medians and their limits follow R's quantile.survfit.\n\n"
    "[bold]Examples[/bold]\n\n"
    "  radiotrial km lung.csv --time time --event status --group sex\n\n"
    "  radiotrial km os.parquet --time days --event died --at 365 --at 730 --plot os.png\n\n"
    "  radiotrial km lung.csv --time time --event status --group sex --json > km.json\n\n"
    "  radiotrial km datasets/adtte.csv --time AVAL --censor CNSR   (from `radiotrial derive`; "
    "filter PARAMCD first)\n\n"
    "Without --json it prints medians with CI, survival at the --at times and the log-rank "
    "test; with --json one JSON object (conf_type, conf_level, strata with table, median and "
    "at, logrank), undefined values as null."
)


def _read(path: Path):
    import polars as pl

    if not path.exists():
        raise RadiotrialError(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pl.read_parquet(path)
        if suffix in (".csv", ".txt"):
            return pl.read_csv(path, infer_schema_length=None)
    except Exception as exc:  # noqa: BLE001 - polars raises many types for malformed files
        raise RadiotrialError(f"{path}: cannot read the file ({exc})") from None
    raise RadiotrialError(f"{path}: unknown file type {suffix!r}; use .csv or .parquet")


def _column(df, name: str, option: str, path: Path):
    if name not in df.columns:
        raise RadiotrialError(
            f"{path}: {option} column {name!r} not found; columns are: {', '.join(df.columns)}"
        )
    return df[name]


def _event_column(df, event: str | None, censor: str | None, path: Path):
    """The event indicator (1 = event) from --event, or 1 - --censor (CDISC CNSR)."""
    if (event is None) == (censor is None):
        raise RadiotrialError("give exactly one of --event COL (1 = event) or --censor COL "
                              "(1 = censored, e.g. ADTTE's CNSR)")
    if event is not None:
        if event.upper() == "CNSR":
            raise RadiotrialError(
                f"--event {event}: CNSR is 1 for censored subjects (CDISC ADTTE), so using it as "
                f"the event would invert the curve; use --censor {event}")
        return _column(df, event, "--event", path)
    c = _column(df, censor, "--censor", path)
    bad = ~c.is_in([0, 1]) | c.is_null()
    if bad.any():
        import polars as pl

        row = int(pl.arg_where(bad, eager=True)[0])
        raise InputError(Problem(path.name, row + 2, censor, c[row],
                                 "censoring flag must be 0 (event) or 1 (censored)"))
    return 1 - c


def _located(exc: InputError, path: Path) -> InputError:
    """Re-issue an engine's input error with the file name and spreadsheet row (header = 1)."""
    pos = getattr(exc, "position", None)
    if pos is None or len(exc.problems) != 1:
        return exc
    p = exc.problems[0]
    more = f" ({exc.count} rows like this)" if exc.count > 1 else ""
    return InputError(Problem(path.name, pos + 2, p.field, p.value, exc.reason + more))


def _fmt(v, digits: int = 3) -> str:
    if v is None:
        return "NA"
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.{digits}g}"


def _print_text(result, at: list[float]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    pct = f"{100 * result.conf_level:g}%"
    med = Table(title=f"Kaplan–Meier (conf type {result.conf_type}, {pct} limits)")
    for col in ("group", "n", "events", "median", f"{pct} CI"):
        med.add_column(col, justify="left" if col == "group" else "right")
    for s in result.strata:
        m = s.median
        med.add_row(s.group or "all", str(s.n), str(s.events), _fmt(m.estimate),
                    f"{_fmt(m.lower)} – {_fmt(m.upper)}")
    console.print(med)
    if at:
        lt = Table(title="Survival at landmark times")
        for col in ("group", "time", "n at risk", "survival", "std err", f"{pct} CI"):
            lt.add_column(col, justify="left" if col == "group" else "right")
        for s in result.strata:
            for r in s.at(at).iter_rows(named=True):
                surv = "NA" if r["survival"] is None else f"{r['survival']:.3f}"
                se = "NA" if r["std_err"] is None else f"{r['std_err']:.3f}"
                lo = "NA" if r["lower"] is None else f"{r['lower']:.3f}"
                hi = "NA" if r["upper"] is None else f"{r['upper']:.3f}"
                lt.add_row(s.group or "all", _fmt(r["time"]), str(r["n_risk"]), surv, se,
                           f"{lo} – {hi}")
        console.print(lt)
    lr = result.logrank()
    if lr is not None:
        console.print(
            f"Log-rank test: chi-square {lr.chisq:.3f} on {lr.df} df, p = {lr.p:.4g}  "
            + "  ".join(f"{g}: O {o:.0f} / E {e:.1f}"
                        for g, o, e in zip(lr.groups, lr.observed, lr.expected, strict=False))
        )


def km(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file, one row per subject.")],
    time: Annotated[str, typer.Option("--time", help="Column with follow-up time (e.g. days).")],
    event: Annotated[
        str | None, typer.Option("--event", help="Column with 1 = event, 0 = censored.")
    ] = None,
    censor: Annotated[
        str | None,
        typer.Option("--censor", help="Instead of --event: column with 1 = censored, 0 = event "
                     "(CDISC ADTTE.CNSR, as written by `radiotrial derive`)."),
    ] = None,
    group: Annotated[
        str | None, typer.Option("--group", help="Column to split curves by (log-rank test).")
    ] = None,
    conf_type: Annotated[
        str, typer.Option("--conf-type", help="log (R's default), log-log or plain.")
    ] = "log",
    conf_level: Annotated[
        float, typer.Option("--conf-level", help="Confidence level, e.g. 0.95.")
    ] = 0.95,
    at: Annotated[
        list[float] | None, typer.Option("--at", help="Landmark time, e.g. 365; repeatable.")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write the figure: .png, .svg or .pdf.")
    ] = None,
    time_unit: Annotated[
        str, typer.Option("--plot-unit", help="Plot x axis in days or months.")
    ] = "days",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Kaplan–Meier estimates; see ``KM_HELP``."""
    from radiotrial.stats import kaplan_meier

    at = list(at or [])
    df = _read(data)
    t = _column(df, time, "--time", data)
    e = _event_column(df, event, censor, data)
    g = _column(df, group, "--group", data) if group else None
    if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise RadiotrialError(f"--plot: unknown file type {plot.suffix!r}; use .png, .svg or .pdf")
    try:
        result = kaplan_meier(t, e, group=g, conf_type=conf_type, conf_level=conf_level)
    except InputError as exc:
        raise _located(exc, data) from None
    if plot is not None:
        from radiotrial.stats import plot_km

        fig, _ = plot_km(result, time_unit=time_unit, group_title=group)
        fig.savefig(plot, dpi=200)
    if as_json:
        typer.echo(json.dumps(result.to_json_dict(at=at), allow_nan=False))
    else:
        _print_text(result, list(at))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `radiotrial` app."""
    app.command(name="km", help=KM_HELP, no_args_is_help=True)(km)
