"""Export a stored study back to the import layout (round-trip exact).

CSV: ``study.yaml`` (verbatim as imported) and one CSV per record type in canonical form
(see ``canonical.py``): canonical units, rows in key order; record types without rows are omitted,
except ``subject.csv``. XLSX: the same tables as sheets of ``study.xlsx`` with typed cells (numbers,
dates, booleans); instants are text with ``Z`` (Excel has no time zones); number cells hold the
canonical shortest round-trip text of each double (ECMA-376 Part 1 §18.3.1.96 ``<v>`` is
xsd:double text), so all 17 significant digits survive. Importing an export
gives the same data hash; exporting that again gives identical files.

Every export is recorded in the audit trail (spec/data-management.md §2 lists EXPORT among the
actions; EMA/INS/GCP/112288/2023 and ICH E6(R3) §4.2.2 ask for workflow actions to be logged): one
``EXPORT`` row with the user, and as ``new_value`` the target folder, format, files, record count
and data hash. The study is read and the row appended in one write transaction, so the recorded
hash is that of exactly the data written; if writing the files fails, no row is recorded.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from radiotrial.errors import RadiotrialError
from radiotrial.store import audit
from radiotrial.store.service import StudyStore, json_text
from radiotrial.store.dictionary import BY_NAME, RECORD_TYPE_NAMES
from radiotrial.study.canonical import conform, csv_text, sort_by_key, to_text
from radiotrial.study.importer import default_user
from radiotrial.study.load import read_study
from radiotrial.study.reader import CONFIG, WORKBOOK


@dataclass
class ExportSummary:
    """What an export wrote."""

    study_id: str
    out: str
    files: list[str] = field(default_factory=list)
    records: dict[str, int] = field(default_factory=dict)
    data_hash: str = ""
    user: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)


def export_study(db: str | os.PathLike, out: Path | str, *,
                 fmt: Literal["csv", "xlsx"] = "csv", overwrite: bool = False,
                 user: str | None = None, source: str = "api") -> ExportSummary:
    """Write the study in ``db`` to folder ``out`` in the import layout (``fmt`` csv or xlsx).

    The export is recorded in the audit trail as an ``EXPORT`` row by ``user`` (default: see
    :func:`radiotrial.study.importer.default_user`) with ``source``.
    """
    if fmt not in ("csv", "xlsx"):
        raise RadiotrialError(f"unknown export format {fmt!r}; use csv or xlsx")
    out = Path(out)
    user = user or default_user()
    with StudyStore(db, create=False) as store, store.transaction() as conn:
        study = read_study(store, conn)
        _check_target(out, overwrite)
        names = [n for n in RECORD_TYPE_NAMES if n == "subject" or study.frames[n].height]
        files = [CONFIG] + ([f"{n}.csv" for n in names] if fmt == "csv" else [WORKBOOK])
        out.mkdir(parents=True, exist_ok=True)
        (out / CONFIG).write_text(study.config_yaml, encoding="utf-8")
        if fmt == "csv":
            for n in names:
                (out / f"{n}.csv").write_text(csv_text(study.frames[n], BY_NAME[n]),
                                              encoding="utf-8")
        else:
            write_workbook(out / WORKBOOK, {n: study.frames[n] for n in names})
        counts = {n: study.frames[n].height for n in names}
        audit.append(conn, [audit.Event(
            "EXPORT", "study", json_text({"study_id": study.study_id}), None, None, None,
            json_text({"target": str(out.resolve()), "format": fmt, "files": files,
                       "records": sum(counts.values()), "data_hash": study.data_hash}),
        )], user=user, source=source)
    return ExportSummary(study.study_id, str(out), files, counts, study.data_hash, user)


def _check_target(out: Path, overwrite: bool) -> None:
    if not out.exists() or overwrite:
        return
    clash = [p.name for p in out.iterdir()
             if p.name in (CONFIG, WORKBOOK) or (p.suffix == ".csv" and p.stem in BY_NAME)]
    if clash:
        raise RadiotrialError(
            f"{out} already holds a study ({', '.join(sorted(clash)[:3])}, …); choose an empty "
            "folder or pass --overwrite")


def write_workbook(path: Path, frames: dict, dictionary: list[list[str]] | None = None) -> None:
    """Write typed frames as sheets (typed cells; instants as canonical text) to ``path``."""
    import polars as pl
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    for name, frame in frames.items():
        rt = BY_NAME[name]
        ws = wb.create_sheet(name)
        ws.append(rt.names)
        frame = sort_by_key(conform(frame, rt), rt)
        text = to_text(frame, rt)
        # instants as canonical text; floats as their canonical (shortest round-trip) text
        inst = [c.name for c in rt.columns if c.kind in ("instant", "float")]
        frame = frame.with_columns([text.get_column(n) for n in inst]) if inst else frame
        floats = {c.name for c in rt.columns if c.kind == "float"}
        strs = {c.name for c in rt.columns if frame.schema[c.name] == pl.String} - floats
        for row in frame.iter_rows():
            cells = []
            for name_, v in zip(rt.names, row, strict=True):
                cell = WriteOnlyCell(ws, value=v)
                if v is not None:
                    if name_ in floats:
                        # a number cell holding the exact text: openpyxl would format a float
                        # with '%.16g', which loses the 17th significant digit
                        cell.data_type = "n"
                    elif name_ in strs:
                        cell.data_type = "s"  # never let text such as '=x' become a formula
                cells.append(cell)
            ws.append(cells)
    if dictionary:
        ws = wb.create_sheet("dictionary")
        for row in dictionary:
            ws.append(row)
    wb.save(path)
