"""Data commands: import, export, template, audit verify / show, edit, add.

Nothing heavy is imported at module level (the command functions import what they need), so
``radiotrial --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from radiotrial.errors import RadiotrialError

DB_HELP = "Study database: a SQLite file (created if missing) or any SQLAlchemy URL."
#: For commands that read or change an existing study (a missing database is refused).
DB_EXISTING_HELP = ("Study database holding an imported study: a SQLite file or any SQLAlchemy "
                    "URL (must exist).")
JSON_HELP = "Print a machine-readable JSON summary instead of text."
USER_HELP = "User recorded in the audit trail (default: $RADIOTRIAL_USER or your login name)."

audit_app = typer.Typer(
    help="Inspect the audit trail: who changed what, when and why.\n\n"
         "Example:\n\n  radiotrial audit verify --db study.db\n\n"
         "  radiotrial audit show --db study.db --subject LAN-01-003",
    no_args_is_help=True,
)


def _parse_pairs(pairs: list[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in pairs:
        if "=" not in p:
            raise RadiotrialError(f"{option} {p!r}: write column=value")
        k, v = p.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def validate_cmd(
    study: Path = typer.Argument(..., help="Study folder (CSV files or study.xlsx, plus study.yaml)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Check a study folder exactly as `radiotrial import` would, writing nothing.

    Lists every problem of every file (file, row, column, value, reason) and exits 2, or prints
    the record counts and the data hash an import would store and exits 0. Use it while filling
    in a study folder, before the first import.

    Example:

      radiotrial validate my-study/
    """
    from radiotrial.study.importer import validate_study

    summary = validate_study(study)
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
        return
    typer.echo(f"study {summary.study_id} in {study} is valid: {_counts(summary.records)}; "
               f"data hash {summary.data_hash}")


def _counts(records: dict[str, int]) -> str:
    """``N records (type n, type n, ...)`` for a summary line."""
    per_type = ", ".join(f"{k} {v}" for k, v in records.items())
    return f"{sum(records.values())} records ({per_type})"


def import_cmd(
    study: Path = typer.Argument(..., help="Study folder (CSV files or study.xlsx, plus study.yaml)."),
    db: str = typer.Option("study.db", "--db", help=DB_HELP),
    user: str = typer.Option(None, "--user", help=USER_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Validate a study folder and load it into the study database, all or nothing.

    Every problem of every file is listed (file, row, column, value, reason) and nothing is
    written if there is any. Each created record is recorded in the audit trail. Re-importing the
    same folder is a no-op; importing different data into a database that already holds a study
    is refused (use `radiotrial edit` for corrections).

    Example:

      radiotrial template my-study/      # fill in the CSV files, then:

      radiotrial import my-study/ --db study.db
    """
    from rich.console import Console

    from radiotrial.study.importer import import_study

    console = Console(stderr=True)
    if console.is_terminal and not as_json:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task("importing", total=4)

            def progress(what: str, done: int, total: int) -> None:
                bar.update(task, description=what, completed=done, total=total)

            summary = import_study(study, db, user=user, progress=progress)
    else:
        summary = import_study(study, db, user=user)
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
        return
    if summary.status == "unchanged":
        typer.echo(f"{db} already holds exactly this study ({summary.study_id}); nothing to do.")
        return
    typer.echo(f"imported study {summary.study_id} into {db}: {_counts(summary.records)}; "
               f"{summary.audit_rows} audit rows; data hash {summary.data_hash[:12]}…")


def export_cmd(
    out: Path = typer.Argument(..., help="Folder to write (must not already hold a study)."),
    db: str = typer.Option("study.db", "--db", help=DB_EXISTING_HELP),
    fmt: str = typer.Option("csv", "--format", help="csv (one file per record type) or xlsx."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace study files already in OUT."),
    user: str = typer.Option(None, "--user", help=USER_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Write the stored study back as a study folder (round-trip exact, canonical units).

    The export is recorded in the audit trail (user, target folder, format, data hash).

    Example:

      radiotrial export --db study.db exported/

      radiotrial export --db study.db exported-xlsx/ --format xlsx
    """
    from radiotrial.study.exporter import export_study

    summary = export_study(db, out, fmt=fmt, overwrite=overwrite,  # type: ignore[arg-type]
                           user=user, source="cli")
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        typer.echo(f"wrote {len(summary.files)} files to {out} (study {summary.study_id}, "
                   f"data hash {summary.data_hash[:12]}…)")


def template_cmd(
    out: Path = typer.Argument(..., help="Folder to create."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace files already in OUT."),
) -> None:
    """Write an empty, documented study folder to fill in.

    OUT/ gets study.yaml, one CSV per record type (headers only) and dictionary.csv (every
    column: type, unit, required, allowed values); OUT/xlsx/ the same as one workbook.

    Example:

      radiotrial template my-study/
    """
    from radiotrial.study.template import write_template

    files = write_template(out, overwrite=overwrite)
    typer.echo(f"wrote {len(files)} files to {out}; see {out / 'dictionary.csv'} for the columns")


@audit_app.command("verify")
def audit_verify(
    db: str = typer.Option("study.db", "--db", help=DB_EXISTING_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Re-compute the audit trail's hash chain; name every edited, removed or reordered row.

    Exits 0 when intact, non-zero otherwise.

    Example:

      radiotrial audit verify --db study.db
    """
    from radiotrial.store.audit import AuditError
    from radiotrial.store.service import StudyStore

    with StudyStore(db, create=False) as store:
        report = store.verify_audit()
    if as_json:
        typer.echo(json.dumps({"ok": report.ok, "rows": report.rows,
                               "head_hash": report.head_hash, "problems": report.problems},
                              indent=2))
        if not report.ok:
            raise typer.Exit(1)
        return
    if not report.ok:
        raise AuditError("audit trail verification FAILED:\n" +
                         "\n".join(f"  - {p}" for p in report.problems))
    typer.echo(f"audit trail intact: {report.rows} rows, head hash {report.head_hash}")


@audit_app.command("show")
def audit_show(
    db: str = typer.Option("study.db", "--db", help=DB_EXISTING_HELP),
    subject: str = typer.Option(None, "--subject", help="Only this subject's history."),
    record_type: str = typer.Option(None, "--record-type", help="Only this record type."),
    limit: int = typer.Option(None, "--limit", help="At most this many rows."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List the audit trail (oldest first), optionally for one subject or record type.

    Example:

      radiotrial audit show --db study.db --subject LAN-01-003 --record-type administration
    """
    from radiotrial.store.service import StudyStore

    with StudyStore(db, create=False) as store:
        rows = store.history(subject=subject, record_type=record_type, limit=limit)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        what = " and ".join(x for x in (subject, record_type and f"record type {record_type}") if x)
        typer.echo(f"no audit rows for {what}" if what else f"no audit rows in {db}")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("seq", "time (UTC)", "user", "action", "record", "key", "field", "old", "new",
                  "reason", "source")
    for r in rows:
        table.add_row(str(r["seq"]), r["ts_utc"], r["user_name"], r["action"], r["record_type"],
                      r["record_key"] or "", r["field"] or "", _short(r["old_value"]),
                      _short(r["new_value"]), r["reason"] or "", r["source"])
    Console().print(table)


def _short(text: str | None, width: int = 60) -> str:
    if text is None:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"


def edit_cmd(
    record_type: str = typer.Argument(..., help="Record type, e.g. administration, lab, subject."),
    key: list[str] = typer.Option(..., "--key", help="Key column=value (repeat for each key column)."),
    set_: list[str] = typer.Option(None, "--set", help="Column=new value (repeat; empty value clears)."),
    delete: bool = typer.Option(False, "--delete", help="Delete the record instead."),
    reason: str = typer.Option(..., "--reason", help="Why (required; kept in the audit trail)."),
    db: str = typer.Option("study.db", "--db", help=DB_EXISTING_HELP),
    user: str = typer.Option(None, "--user", help=USER_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Correct or delete one stored record; the reason and the old values go to the audit trail.

    The corrected record is validated like an import and the study re-checked; a problem changes
    nothing. Values use the import format (units in the unit column are converted).

    Example:

      radiotrial edit administration --db study.db --key subject_id=LAN-01-003 --key cycle=1 \\
          --set calibrated_activity=1.05 --reason "transcription error, source: pharmacy log"

      radiotrial edit lab --db study.db --key subject_id=LAN-01-003 \\
          --key instant=2001-04-29T09:06:00+02:00 --key analyte=HGB --delete \\
          --reason "duplicate entry"

    A key that other records reference (a subject's subject_id, a lesion's lesion_id, a site's
    site_id) cannot be renamed or deleted while they do.
    """
    from radiotrial.study.edit import edit_record, key_text

    if delete and set_:
        raise RadiotrialError("give either --set or --delete, not both")
    summary = edit_record(db, record_type, _parse_pairs(key, "--key"),
                          _parse_pairs(set_ or [], "--set"), reason=reason, user=user,
                          delete=delete)
    if as_json:
        typer.echo(json.dumps({"record_type": summary.record_type, "key": summary.key,
                               "deleted": summary.deleted,
                               "changes": {k: {"old": o, "new": n}
                                           for k, (o, n) in summary.changes.items()}}, indent=2))
    elif summary.deleted:
        typer.echo(f"deleted {record_type} {key_text(summary.key)}")
    elif not summary.changes:
        typer.echo("no value changed; nothing recorded")
    else:
        for k, (o, n) in summary.changes.items():
            typer.echo(f"{record_type} {key_text(summary.key)}: {k} {_shown(o)} → {_shown(n)}")


def _shown(text: str | None) -> str:
    """A stored value as text for a message (empty shown as ``(empty)``)."""
    return "(empty)" if text is None else text


def add_cmd(
    record_type: str = typer.Argument(..., help="Record type, e.g. lab, administration, subject."),
    set_: list[str] = typer.Option(None, "--set", help="Column=value of the new record (repeat)."),
    from_csv: Path = typer.Option(None, "--from-csv",
                                  help="CSV file of new records (header = column names)."),
    reason: str = typer.Option(None, "--reason", help="Why (optional; kept in the audit trail)."),
    db: str = typer.Option("study.db", "--db", help=DB_EXISTING_HELP),
    user: str = typer.Option(None, "--user", help=USER_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Add records to a stored study (new visits, labs, cycles…), checked exactly like an import.

    Types, ranges, units (converted to canonical), references and the cross-record date rules are
    checked against what is stored; a key already stored is refused. All new records go in one
    transaction with one CREATE audit row each; any problem (file, row, column, value, reason)
    adds nothing.

    Example:

      radiotrial add lab --db study.db --set subject_id=LAN-01-003 \\
          --set instant=2001-07-30T08:00:00+02:00 --set analyte=HGB --set value=12.1 \\
          --set unit=g/dL

      radiotrial add lab --db study.db --from-csv new-labs.csv --reason "cycle 3 results"
    """
    from radiotrial.study.edit import SET_FILE, add_records

    if bool(set_) == (from_csv is not None):
        raise RadiotrialError("give either --set column=value ... or --from-csv FILE")
    if from_csv is not None:
        from radiotrial.errors import InputError
        from radiotrial.study.reader import read_csv_table

        raw, problems = read_csv_table(from_csv)
        if raw is None:
            raise InputError(problems, summary=f"cannot read {from_csv}; nothing was added")
        summary = add_records(db, record_type, raw, file=from_csv.name, reason=reason, user=user,
                              source=f"cli:{from_csv.resolve()}")
    else:
        summary = add_records(db, record_type, _parse_pairs(set_, SET_FILE), reason=reason,
                              user=user, source="cli")
    if as_json:
        typer.echo(json.dumps({"record_type": summary.record_type, "added": summary.records,
                               "keys": summary.keys, "audit_rows": summary.audit_rows}, indent=2))
    else:
        typer.echo(f"added {summary.records} {summary.record_type} record(s) to {db}; "
                   f"{summary.audit_rows} audit rows")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `radiotrial` app."""
    app.command("validate")(validate_cmd)
    app.command("import")(import_cmd)
    app.command("export")(export_cmd)
    app.command("template")(template_cmd)
    app.add_typer(audit_app, name="audit")
    app.command("edit")(edit_cmd)
    app.command("add")(add_cmd)
