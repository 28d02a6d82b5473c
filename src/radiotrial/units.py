"""Units: one canonical unit per quantity, explicit conversion factors, unknown units refused.

Units are checked, never guessed (ARCHITECTURE.md, Conventions). Each lab analyte has one canonical
unit (the first of its table); values, LLN and ULN are converted with the same factor.

Conversion sources:
- Haemoglobin: 1 g/dL = 10 g/L; 1 g/dL = 0.6206 mmol/L (Hb monomer, M = 16 114.5 g/mol; SI
  conversion tables, e.g. AMA Manual of Style, SI conversion calculator).
- Cell counts: 1 × 10^9/L = 1 × 10^3/µL = 1000 /mm³ = 1000 cells/µL (1 µL = 1 mm³).
- Bilirubin: 1 mg/dL = 17.104 µmol/L (M = 584.66 g/mol).
- Creatinine: 1 mg/dL = 88.42 µmol/L (M = 113.12 g/mol).
- Enzymes: U/L and IU/L are the same unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from radiotrial.errors import InputError, Problem

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import polars as pl

_COUNT_UNITS = {"10^9/L": 1.0, "10^3/uL": 1.0, "/mm3": 1e-3, "cells/uL": 1e-3}
_ENZYME_UNITS = {"U/L": 1.0, "IU/L": 1.0}

#: analyte code (CDISC LBTESTCD) → {unit: factor to the canonical unit}; canonical unit first.
LAB_UNITS: dict[str, dict[str, float]] = {
    "HGB": {"g/dL": 1.0, "g/L": 0.1, "mmol/L": 1.0 / 0.6206},
    "WBC": dict(_COUNT_UNITS),
    "NEUT": dict(_COUNT_UNITS),
    "LYMPH": dict(_COUNT_UNITS),
    "PLAT": dict(_COUNT_UNITS),
    "ALT": dict(_ENZYME_UNITS),
    "AST": dict(_ENZYME_UNITS),
    "ALP": dict(_ENZYME_UNITS),
    "GGT": dict(_ENZYME_UNITS),
    "BILI": {"umol/L": 1.0, "mg/dL": 17.104},
    "CREAT": {"umol/L": 1.0, "mg/dL": 88.42},
}

#: analyte code → canonical unit.
LAB_CANONICAL: dict[str, str] = {a: next(iter(u)) for a, u in LAB_UNITS.items()}

#: Spellings accepted on input for the unit names above (case-insensitive, spaces ignored).
_UNIT_ALIASES = {
    "µmol/l": "umol/L", "μmol/l": "umol/L", "10^3/µl": "10^3/uL", "10^3/μl": "10^3/uL",
    "10e9/l": "10^9/L", "x10^9/l": "10^9/L", "g/l": "g/L", "g/dl": "g/dL", "mmol/l": "mmol/L",
    "mg/dl": "mg/dL", "umol/l": "umol/L", "10^9/l": "10^9/L", "10^3/ul": "10^3/uL",
    "/mm3": "/mm3", "/mm³": "/mm3", "cells/ul": "cells/uL", "cells/µl": "cells/uL",
    "u/l": "U/L", "iu/l": "IU/L",
}

ACTIVITY_UNITS: dict[str, float] = {"GBq": 1.0, "MBq": 1e-3}
LENGTH_UNITS: dict[str, float] = {"mm": 1.0, "cm": 10.0}


def normalise_unit(unit: str) -> str:
    """Return the canonical spelling of a unit name (``'g/l'`` → ``'g/L'``); unknown names unchanged."""
    key = unit.strip().replace(" ", "").lower()
    return _UNIT_ALIASES.get(key, unit.strip())


def lab_factor(analyte: str, unit: str) -> float | None:
    """Factor converting ``unit`` to the analyte's canonical unit, or ``None`` if unknown."""
    return LAB_UNITS.get(analyte, {}).get(normalise_unit(unit))


def lab_codes(
    labs: pl.DataFrame,
    *,
    analyte: str = "analyte",
    unit: str = "unit",
    file: str | None = None,
    row_offset: int = 2,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row analyte and unit codes and the factor table, vectorised; unknown pairs raise.

    Returns ``(a_idx, u_idx, table)``: ``a_idx`` (uint8) indexes ``LAB_UNITS``, ``u_idx`` the
    distinct unit spellings of ``labs``, and ``table[a_idx, u_idx]`` is each row's factor to the
    analyte's canonical unit. Only the distinct spellings are normalised in Python (a handful);
    rows are mapped through dense Enum codes, so no string join or per-row Python work is done.
    Unknown analytes or units raise :class:`InputError` listing every offending row.
    """
    import numpy as np
    import polars as pl

    names = list(LAB_UNITS)
    an = labs.get_column(analyte)
    a_codes = an.cast(pl.String).cast(pl.Enum(names), strict=False).to_physical()
    if a_codes.null_count():
        a_codes = a_codes.fill_null(len(names))
    a_idx = a_codes.cast(pl.UInt8).to_numpy()
    text = labs.get_column(unit).cast(pl.String)
    spellings = text.drop_nulls().unique(maintain_order=True).to_list()
    table = np.full((len(names) + 1, len(spellings) + 1), np.nan)
    for j, spelling in enumerate(spellings):
        key = spelling.replace(" ", "").lower()  # same key as the former per-row string join
        canon = _UNIT_ALIASES.get(key, spelling.strip())
        for i, name in enumerate(names):
            f = LAB_UNITS[name].get(canon)
            if f is not None:
                table[i, j] = f
    if len(spellings) <= 1 and not text.null_count():
        u_idx = np.zeros(len(text), dtype=np.uint8)
    else:
        u_codes = text.cast(pl.Enum(spellings)).to_physical()
        if u_codes.null_count():
            u_codes = u_codes.fill_null(len(spellings))
        u_idx = u_codes.to_numpy()
    if np.isnan(table[_present(a_idx, table.shape[0])][:, _present(u_idx, table.shape[1])]).any():
        bad = np.flatnonzero(np.isnan(table[a_idx, u_idx]))
    else:
        bad = np.zeros(0, dtype=np.int64)
    if bad.size:
        problems = []
        an_vals = an.gather(bad).to_list()
        un_vals = labs.get_column(unit).gather(bad).to_list()
        for idx, a_val, u_val in zip(bad.tolist(), an_vals, un_vals, strict=True):
            if a_val not in LAB_UNITS:
                reason = f"unknown analyte; known: {', '.join(LAB_UNITS)}"
                problems.append(Problem(file, idx + row_offset, analyte, a_val, reason))
            else:
                reason = f"unknown unit for {a_val}; allowed: {', '.join(LAB_UNITS[a_val])}"
                problems.append(Problem(file, idx + row_offset, unit, u_val, reason))
        raise InputError(problems, summary=f"{len(problems)} lab row(s) with unknown analyte or unit")
    return a_idx, u_idx, table


def _present(codes: np.ndarray, size: int) -> np.ndarray:
    """Boolean mask of the codes in ``range(size)`` that occur in ``codes`` (one counting pass)."""
    import numpy as np

    return np.bincount(codes, minlength=size)[:size] > 0


def convert_labs(
    labs: pl.DataFrame,
    *,
    analyte: str = "analyte",
    value: str = "value",
    unit: str = "unit",
    scaled: Sequence[str] = ("lln", "uln"),
    file: str | None = None,
    row_offset: int = 2,
) -> pl.DataFrame:
    """Convert a long lab table to canonical units, vectorised.

    ``value`` and every column in ``scaled`` that exists are multiplied by the factor of their row's
    (analyte, unit) pair; the unit column is set to the canonical unit. Unknown analytes or units
    raise :class:`InputError` listing every offending row (``row_offset`` maps row index 0 to the
    spreadsheet row number; 2 = first data row under a header).
    """
    import numpy as np
    import polars as pl

    a_idx, u_idx, table = lab_codes(labs, analyte=analyte, unit=unit, file=file, row_offset=row_offset)
    canon = pl.Series(unit, list(LAB_CANONICAL.values()), dtype=pl.String)
    cols = [c for c in (value, *scaled) if c in labs.columns]
    used = table[_present(a_idx, table.shape[0])][:, _present(u_idx, table.shape[1])]
    if np.all(used == 1.0):
        scaled_cols = [pl.col(c).cast(pl.Float64) for c in cols]
    else:
        # scale(): v / (1/f) when f < 1, else v * f; as (v * mul) / div, exact as mul or div is 1
        factor = table[a_idx, u_idx]
        below = factor < 1.0
        mul = pl.Series("__mul", np.where(below, 1.0, factor))
        div = pl.Series("__div", np.where(below, 1.0 / factor, 1.0))
        scaled_cols = [(pl.col(c).cast(pl.Float64) * pl.lit(mul) / pl.lit(div)).alias(c) for c in cols]
    return labs.with_columns([*scaled_cols, canon.gather(a_idx).alias(unit)])


def scale(values: pl.Expr, factor: pl.Expr) -> pl.Expr:
    """``values × factor``, computed as a division by ``1/factor`` when the factor is below 1.

    Factors such as 0.1 or 1e-3 are not exact in binary; dividing by their exact reciprocal (10,
    1000) gives the correctly rounded result (130 g/L → 13.0 g/dL, not 13.000000000000002).
    """
    import polars as pl

    return pl.when(factor < 1).then(values / (1.0 / factor)).otherwise(values * factor)


def _scalar(value: float, unit: str, table: dict[str, float], what: str) -> float:
    factor = table.get(unit.strip())
    if factor is None:
        raise InputError(Problem(None, None, f"{what} unit", unit, f"allowed: {', '.join(table)}"))
    return value * factor


def activity_to_gbq(value: float, unit: str) -> float:
    """Activity in GBq from ``value`` in ``unit`` (GBq or MBq)."""
    return _scalar(value, unit, ACTIVITY_UNITS, "activity")


def length_to_mm(value: float, unit: str) -> float:
    """Length in mm from ``value`` in ``unit`` (mm or cm)."""
    return _scalar(value, unit, LENGTH_UNITS, "length")


def known_units(table: dict[str, float]) -> Iterable[str]:
    """The unit names a conversion table accepts (for messages and templates)."""
    return tuple(table)
