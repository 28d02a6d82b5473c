"""Read a study folder: ``study.yaml`` plus CSV files or ``study.xlsx`` into all-text tables.

Every cell is read as text (types are checked by ``validation.py``) and each table carries
``__row``, the row number a spreadsheet user sees (header = row 1).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from radiotrial.errors import InputError, Problem, RadiotrialError
from radiotrial.store.dictionary import RECORD_TYPE_NAMES, ROW

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

    from radiotrial.study.config import StudyConfig

#: Files/sheets in a study folder that are documentation, not data (written by the template).
IGNORED = {"dictionary", "readme"}
WORKBOOK = "study.xlsx"
CONFIG = "study.yaml"


@dataclass
class RawStudy:
    """A study folder as read: config text, all-text tables, and the file name of each table."""

    folder: Path
    config_text: str
    tables: dict[str, pl.DataFrame]
    files: dict[str, str]


def read_folder(folder: Path) -> RawStudy:
    """Read ``folder`` (CSV files or ``study.xlsx``, plus ``study.yaml``); file problems raised together."""
    folder = Path(folder)
    if folder.is_file() and folder.suffix.lower() == ".xlsx":
        folder, workbook = folder.parent, folder
    else:
        workbook = folder / WORKBOOK
    if not folder.is_dir():
        raise RadiotrialError(f"study folder not found: {folder}")
    problems: list[Problem] = []
    cfg = folder / CONFIG
    if not cfg.is_file():
        problems.append(Problem(CONFIG, None, None, None, f"missing in {folder}"))
        text = ""
    else:
        text = cfg.read_text(encoding="utf-8")
    csvs = sorted(p for p in folder.glob("*.csv") if p.stem.lower() not in IGNORED)
    if workbook.is_file() and csvs:
        raise RadiotrialError(
            f"{folder} holds both {workbook.name} and CSV files ({csvs[0].name}, …); "
            "keep one of the two layouts")
    if workbook.is_file():
        tables, probs = _read_workbook(workbook)
        files = {name: f"{workbook.name}[{name}]" for name in RECORD_TYPE_NAMES}
    else:
        tables, probs = _read_csvs(csvs)
        files = {name: f"{name}.csv" for name in RECORD_TYPE_NAMES}
    problems += probs
    if not tables and not problems:
        raise RadiotrialError(f"no study data in {folder}: expected subject.csv (or {WORKBOOK})")
    if problems:
        raise InputError(problems, summary=f"cannot read study folder {folder}")
    return RawStudy(folder, text, tables, files)


def _read_csvs(paths: list[Path]) -> tuple[dict[str, pl.DataFrame], list[Problem]]:
    tables: dict[str, pl.DataFrame] = {}
    problems: list[Problem] = []
    for path in paths:
        name = path.stem
        if name not in RECORD_TYPE_NAMES:
            problems.append(Problem(path.name, None, None, None,
                                    f"unknown record type; files are: "
                                    f"{', '.join(n + '.csv' for n in RECORD_TYPE_NAMES)}"))
            continue
        frame, probs = read_csv_table(path)
        problems += probs
        if frame is not None:
            tables[name] = frame
    return tables, problems


def read_csv_table(path: Path, file: str | None = None) -> tuple[pl.DataFrame | None, list[Problem]]:
    """One CSV file as an all-text table with ``__row`` (``None`` and the problems if unreadable).

    Column names are stripped and lower-cased; ``file`` is the name used in messages (default: the
    file's name).
    """
    import polars as pl

    file = file or path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [Problem(file, None, None, None, f"cannot read: {exc.strerror or exc}")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Problem(file, None, None, None,
                              f"not UTF-8 text (byte {exc.start}); save as CSV UTF-8")]
    if not text.strip():
        return None, [Problem(file, 1, None, None, "empty file: needs a header row")]
    try:
        frame = pl.read_csv(io.StringIO(text), infer_schema=False, truncate_ragged_lines=False)
    except Exception as exc:  # noqa: BLE001 - polars reports malformed CSV in several error types
        return None, [_malformed(file, text, exc)]
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    frame = frame.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
    # rows with no value at all (a blank line, or ',,,' as Excel writes them) carry no data:
    # drop them after numbering, so the other rows keep the numbers a spreadsheet shows
    data = [c for c in frame.columns if c != ROW]
    if data:
        filled = pl.any_horizontal([pl.col(c).str.strip_chars().str.len_chars() > 0
                                    for c in data]).fill_null(False)
        frame = frame.filter(filled)
    return frame, []


def _malformed(file: str, text: str, exc: Exception) -> Problem:
    """Problem for CSV text that polars cannot parse, naming the first row with too many fields.

    Only runs on the error path: Python's ``csv`` module (RFC 4180 quoting, as polars) counts the
    fields of each row (header = row 1; a blank line counts as a row, as in a spreadsheet).
    """
    import csv

    hint = 'quote text that contains commas ("...")'
    rows = csv.reader(io.StringIO(text))
    try:
        width = len(next(rows))
        for number, row in enumerate(rows, start=2):
            if len(row) > width:
                return Problem(file, number, None, ",".join(row),
                               f"malformed CSV: {len(row)} values but {width} columns in the "
                               f"header; {hint}")
    except csv.Error as err:
        return Problem(file, None, None, None, f"malformed CSV: {err}; {hint}")
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return Problem(file, None, None, None, f"malformed CSV: {reason}; {hint}")


def _cell_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)
    if isinstance(v, dt.datetime):
        if v.tzinfo is None and v.time() == dt.time(0):
            return v.date().isoformat()
        return v.isoformat()
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    return str(v)


def _read_workbook(path: Path) -> tuple[dict[str, pl.DataFrame], list[Problem]]:
    import openpyxl
    import polars as pl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl/zipfile raise many types for a bad file
        return {}, [Problem(path.name, None, None, None, f"cannot open workbook: {exc}")]
    tables: dict[str, pl.DataFrame] = {}
    problems: list[Problem] = []
    for ws in wb.worksheets:
        name = ws.title.strip()
        if name.lower() in IGNORED:
            continue
        where = f"{path.name}[{ws.title}]"
        if name not in RECORD_TYPE_NAMES:
            problems.append(Problem(where, None, None, None,
                                    f"unknown record type; sheets are: {', '.join(RECORD_TYPE_NAMES)}"))
            continue
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None or all(h is None for h in header):
            problems.append(Problem(where, 1, None, None, "empty sheet: needs a header row"))
            continue
        width = max(i + 1 for i, h in enumerate(header) if h is not None)
        cols = [str(h).strip().lower() if h is not None else "" for h in header[:width]]
        for i, c in enumerate(cols):
            if not c:
                problems.append(Problem(where, 1, None, None, f"blank column name in column {i + 1}"))
        if len(set(cols)) != len(cols):
            problems.append(Problem(where, 1, None, None, "duplicate column names"))
            continue
        data: list[list[str | None]] = []
        numbers: list[int] = []
        for r, row in enumerate(rows, start=2):
            cells = [_cell_text(v) for v in row[:width]]
            cells += [None] * (width - len(cells))
            if any(c is not None and c.strip() for c in cells):
                data.append(cells)
                numbers.append(r)
                extra = [v for v in row[width:] if v is not None]
                if extra:
                    problems.append(Problem(where, r, None, extra[0], "value outside the header's columns"))
        frame = pl.DataFrame(data, schema={c: pl.String for c in cols}, orient="row")
        tables[name] = frame.with_columns(pl.Series(ROW, numbers, dtype=pl.Int64))
    wb.close()
    return tables, problems


# --------------------------------------------------------------------------------------------
# study.yaml


def parse_config(text: str, file: str = CONFIG) -> StudyConfig:
    """Validate ``study.yaml`` text; problems name the line, field and value."""
    import yaml
    from pydantic import ValidationError

    from radiotrial.study.config import StudyConfig

    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        raise InputError(Problem(file, line, None, None, reason),
                         summary=f"{file} is malformed; nothing was imported") from None
    if not isinstance(data, dict):
        raise InputError(Problem(file, 1, None, data, "must be a mapping (study_id: ..., title: ...)"),
                         summary=f"{file} is malformed; nothing was imported")
    try:
        return StudyConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [str(x) for x in err["loc"]]
            value = err.get("input") if err["type"] != "missing" else None
            if isinstance(value, dict):
                value = None
            problems.append(Problem(file, _line_of(node, err["loc"]), ".".join(loc) or None,
                                    value, err["msg"]))
        raise InputError(problems, summary=f"{file} is invalid; nothing was imported") from None


def _line_of(node: Any, loc: tuple) -> int | None:
    """Line (1-based) of the YAML node at ``loc`` (or its nearest existing parent)."""
    import yaml

    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == part), None)
            if nxt is None:
                key = next((k for k, v in node.value if k.value == part), None)
                return key.start_mark.line + 1 if key is not None else line
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        line = node.start_mark.line + 1
    return line
