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
    import polars as pl

    pairs = [(a, u, f) for a, units in LAB_UNITS.items() for u, f in units.items()]
    table = pl.DataFrame(
        {"__a": [p[0] for p in pairs], "__u": [p[1] for p in pairs], "__f": [p[2] for p in pairs]},
        schema={"__a": pl.String, "__u": pl.String, "__f": pl.Float64},
    )
    aliases = pl.DataFrame(
        {"__key": list(_UNIT_ALIASES), "__canon": list(_UNIT_ALIASES.values())},
        schema={"__key": pl.String, "__canon": pl.String},
    )
    work = labs.with_row_index("__row").with_columns(
        pl.col(unit).cast(pl.String).str.replace_all(" ", "").str.to_lowercase().alias("__key")
    )
    work = work.join(aliases, on="__key", how="left").with_columns(
        pl.coalesce(pl.col("__canon"), pl.col(unit).cast(pl.String).str.strip_chars()).alias("__u")
    )
    work = work.join(table, left_on=[analyte, "__u"], right_on=["__a", "__u"], how="left")
    bad = work.filter(pl.col("__f").is_null()).sort("__row")
    if bad.height:
        problems = []
        for r in bad.select("__row", analyte, unit).iter_rows():
            idx, an, un = r
            if an not in LAB_UNITS:
                reason = f"unknown analyte; known: {', '.join(LAB_UNITS)}"
                problems.append(Problem(file, idx + row_offset, analyte, an, reason))
            else:
                reason = f"unknown unit for {an}; allowed: {', '.join(LAB_UNITS[an])}"
                problems.append(Problem(file, idx + row_offset, unit, un, reason))
        raise InputError(problems, summary=f"{len(problems)} lab row(s) with unknown analyte or unit")
    canon = pl.DataFrame(
        {"__a": list(LAB_CANONICAL), "__cu": list(LAB_CANONICAL.values())},
        schema={"__a": pl.String, "__cu": pl.String},
    )
    work = work.join(canon, left_on=analyte, right_on="__a", how="left")
    cols = [c for c in (value, *scaled) if c in labs.columns]
    work = work.with_columns(
        [scale(pl.col(c).cast(pl.Float64), pl.col("__f")).alias(c) for c in cols]
        + [pl.col("__cu").alias(unit)]
    )
    return work.sort("__row").select(labs.columns)


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
