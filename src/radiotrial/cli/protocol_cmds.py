"""``radiotrial eligibility | schedule | ready``: the protocol engine on a stored study.

Heavy modules (polars, the engines, the store) are imported inside the commands.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import typer

from radiotrial.errors import RadiotrialError

ELIGIBILITY_HELP = """\
Who is eligible? Every subject checked against the protocol's entry criteria.

The criteria are in study.yaml, [bold]protocol.eligibility.rules[/bold]
(histology, liver metastases, progression within N months, scintigraphy
uptake grade, age, lab thresholds, performance status).

Each subject is [green]eligible[/green] (all criteria met), [red]not eligible[/red]
(a criterion not met) or [yellow]not assessable[/yellow] (data missing or outside
its look-back window; missing data is never eligible). Lab and scan windows
end at the first treatment.

[bold]Examples[/bold] (one line per subject with reasons; every criterion,
record and value used; JSON)

  radiotrial eligibility --db study.db
  radiotrial eligibility --db study.db --details
  radiotrial eligibility --db study.db --json > eligibility.json
"""

SCHEDULE_HELP = """\
Who is due, who is overdue, and which visits deviated from the protocol?

Planned dates come from the actual first treatment: cycles every
[bold]protocol.cycle_interval_days[/bold] ± tolerance (default 56 ± 7), an
assessment in days 56-84 after each cycle (an assessment counts for the
earliest cycle whose window holds it), follow-up visits after treatment ends.
Only records dated on or before --as-of are used, so the worklist is the one
the team would have seen that day (default: the data cut-off, i.e. the latest
record date; [italic]--as-of today[/italic] for a running study).

Lists the worklist (due and overdue events; --all adds planned ones) and the
deviations (cycle early or late, assessment outside its window or missing,
cycle after progression).

[bold]Examples[/bold]

  radiotrial schedule --db study.db
  radiotrial schedule --db study.db --as-of 2002-10-01 --all
  radiotrial schedule --db study.db --timeline --json > schedule.json
"""

READY_HELP = """\
May this subject receive the next cycle on this date? READY or HOLD, with every reason.

Hold reasons: death or a new therapy; end of treatment or end of study
recorded (disposition); a lab below the retreatment threshold (default
platelets >= 75, neutrophils >= 1.0 x10^9/L within 14 days); toxicity not
recovered to <= grade 1; interval too short; cumulative dose or BED over an
organ limit with the planned activity; progression documented; maximum cycles
reached. Only records dated on or before --on are used (a cycle given on
--on counts as given). --activity needs its unit, GBq or MBq.
Exit code 0 = ready, 1 = hold.

[bold]Examples[/bold] (example study: cycles 2 and 3 READY, HOLD after the end of
treatment on 2002-05-08)

  radiotrial ready LAN-01-007 --db study.db --on 2002-01-01 --activity 1.1GBq
  radiotrial ready LAN-01-007 --db study.db --on 2002-03-01 --activity 950MBq
  radiotrial ready LAN-01-007 --db study.db --on 2004-05-12 --json
"""

_ACTIVITY = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(GBq|MBq)?\s*$", re.IGNORECASE)


def parse_date(text: str | None, option: str) -> date | None:
    """ISO date (or ``today``) from a command-line option; None when not given."""
    if text is None:
        return None
    if text.strip().lower() == "today":
        return date.today()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise RadiotrialError(
            f"{option}: {text!r} is not a date; use YYYY-MM-DD (e.g. 2004-05-12) or 'today'"
        ) from None


def parse_activity(text: str | None) -> float | None:
    """Activity in GBq from ``1.0GBq`` or ``950 MBq``; the unit (GBq or MBq) is required."""
    if text is None:
        return None
    m = _ACTIVITY.match(text)
    if not m:
        raise RadiotrialError(
            f"--activity: {text!r} is not an activity; write e.g. 1.0GBq or 950MBq")
    value = float(m.group(1))
    if m.group(2) is None:
        raise RadiotrialError(
            f"--activity: {text!r} has no unit; write GBq or MBq, e.g. {m.group(1)}GBq or "
            f"{m.group(1)}MBq")
    if value <= 0:
        raise RadiotrialError(f"--activity: {text!r} must be > 0")
    return value / 1000.0 if m.group(2).lower() == "mbq" else value


def _load(db: str) -> Any:
    from pathlib import Path

    from radiotrial.study import load as load_mod

    if "://" not in db and not Path(db).exists():
        raise RadiotrialError(f"--db: study database {db!r} not found; create it with "
                              f"`radiotrial import STUDY_FOLDER --db {db}`")
    return load_mod.load_study(db)


def _progression(frames: dict, config: Any) -> Any:
    """PD time points under the study's response criteria (from the response engine)."""
    from radiotrial.study.engines import progression_dates

    return progression_dates(frames, config)


def _table(df: Any, title: str, colours: dict[str, dict[str, str]] | None = None) -> Any:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=False)
    for col in df.columns:
        table.add_column(col.replace("_", " "), overflow="fold")
    for row in df.iter_rows(named=True):
        cells = []
        for col in df.columns:
            v = row[col]
            text = "" if v is None else str(v)
            style = (colours or {}).get(col, {}).get(text)
            text = escape(text)
            cells.append(f"[{style}]{text}[/{style}]" if style else text)
        table.add_row(*cells)
    return table


def _records(df: Any) -> list[dict]:
    return json.loads(df.write_json()) if df.height else []


_STATUS_COLOURS = {
    "status": {"eligible": "green", "not eligible": "red", "not assessable": "yellow",
               "due": "yellow", "overdue": "red", "planned": "", "met": "green",
               "not met": "red"},
    "result": {"met": "green", "not met": "red", "not assessable": "yellow"},
}


def eligibility_cmd(
    db: str = typer.Option(..., "--db", help="The study database (SQLite file or SQLAlchemy URL)."),
    details: bool = typer.Option(False, "--details", help="Show every criterion of every subject."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (summary and criteria)."),
) -> None:
    from rich.console import Console

    from radiotrial.protocol import assess_eligibility, eligibility_summary

    study = _load(db)
    res = assess_eligibility(study.frames, study.config.protocol)
    summ = eligibility_summary(res)
    if as_json:
        typer.echo(json.dumps({"study_id": study.study_id, "subjects": _records(summ),
                               "criteria": _records(res)}, indent=2))
        return
    console = Console()
    if details:
        console.print(_table(res, "Eligibility criteria", _STATUS_COLOURS))
    counts = summ.group_by("status").len().sort("status")
    console.print(f"Eligibility of {summ.height} subject(s): " + ", ".join(
        f"{n} {s}" for s, n in counts.iter_rows()), highlight=False)
    console.print(_table(summ.select("subject_id", "status", "reason"), "", _STATUS_COLOURS))


def schedule_cmd(
    db: str = typer.Option(..., "--db", help="The study database (SQLite file or SQLAlchemy URL)."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Date of the worklist, YYYY-MM-DD or 'today' (default: data cut-off)."),
    show_all: bool = typer.Option(False, "--all", help="Also list events not yet due."),
    timeline: bool = typer.Option(False, "--timeline", help="Also print each subject's timeline."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (worklist, deviations, timeline)."),
) -> None:
    import polars as pl
    from rich.console import Console

    from radiotrial.protocol import build_schedule

    day = parse_date(as_of, "--as-of")
    study = _load(db)
    sched = build_schedule(study.frames, study.config.protocol, day,
                           progression=_progression(study.frames, study.config))
    if as_json:
        typer.echo(json.dumps({
            "study_id": study.study_id, "as_of": sched.as_of.isoformat(),
            "worklist": _records(sched.worklist), "deviations": _records(sched.deviations),
            "subjects": _records(sched.subjects), "timeline": _records(sched.timeline),
        }, indent=2))
        return
    console = Console()
    when = f"{sched.as_of}" + ("" if day else " (data cut-off)")
    if timeline:
        console.print(_table(sched.timeline, "Timeline", _STATUS_COLOURS))
    wl = sched.worklist if show_all else sched.worklist.filter(pl.col("status") != "planned")
    wl = wl.select(
        pl.col("subject_id").alias("subject"), "event", "planned",
        pl.format("{} – {}", "window_start", "window_end").alias("window"), "status",
        pl.col("days_overdue").alias("overdue (days)"),
    )
    console.print(f"Worklist as of {when}: {wl.height} event(s)", highlight=False)
    if wl.height:
        console.print(_table(wl, "", _STATUS_COLOURS))
    console.print(f"Protocol deviations: {sched.deviations.height}", highlight=False)
    if sched.deviations.height:
        console.print(_table(sched.deviations, ""))


def ready_cmd(
    subject: str = typer.Argument(..., help="Subject code, e.g. LAN-01-007."),
    db: str = typer.Option(..., "--db", help="The study database (SQLite file or SQLAlchemy URL)."),
    on: str | None = typer.Option(None, "--on", help="Date of the cycle, YYYY-MM-DD (default today)."),
    activity: str | None = typer.Option(
        None, "--activity",
        help="Planned activity with its unit, GBq or MBq, e.g. 1.0GBq or 950MBq (checks dose and BED)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    from rich.console import Console
    from rich.markup import escape

    from radiotrial.protocol import check_readiness

    day = parse_date(on, "--on") or date.today()
    gbq = parse_activity(activity)
    study = _load(db)
    cfg = study.config
    r = check_readiness(study.frames, cfg.protocol, subject, day, gbq,
                        toxicity_config=cfg.toxicity, dosimetry_config=cfg.dosimetry,
                        progression=_progression(study.frames, cfg))
    if as_json:
        typer.echo(json.dumps(r.to_dict(), indent=2))
    else:
        console = Console()
        verdict = "[bold green]READY[/bold green]" if r.ready else "[bold red]HOLD[/bold red]"
        console.print(f"{subject}, cycle {r.next_cycle} on {day}: {verdict}")
        for c in r.checks:
            mark = {"ok": "[green]ok[/green]", "hold": "[red]HOLD[/red]"}.get(
                c.status, "[yellow]not checked[/yellow]")
            console.print(f"  {mark} {escape(c.name)}: {escape(c.detail)}", highlight=False)
    if not r.ready:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``eligibility``, ``schedule`` and ``ready`` to the `radiotrial` app."""
    app.command("eligibility", help=ELIGIBILITY_HELP)(eligibility_cmd)
    app.command("schedule", help=SCHEDULE_HELP)(schedule_cmd)
    app.command("ready", help=READY_HELP)(ready_cmd)
