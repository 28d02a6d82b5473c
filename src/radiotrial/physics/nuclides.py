"""Radionuclide data (half-lives, decay modes, mean energies, imaging photons) with sources.

All numbers live in ``data/nuclides.yaml`` (spec/dosimetry.md 1.1); this module only reads them.
Default data set: ICRP-107, because the S-value libraries are built on it (spec 1.1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from radiotrial.errors import RadiotrialError
from radiotrial.physics._data import load

Dataset = Literal["ICRP-107", "ENSDF"]
DATASETS: tuple[str, ...] = ("ICRP-107", "ENSDF")
DEFAULT_DATASET: Dataset = "ICRP-107"

#: Hours per unit of the half-life units used in the data file.
_HOURS = {"s": 1 / 3600, "min": 1 / 60, "h": 1.0, "d": 24.0, "y": 365.25 * 24}


@dataclass(frozen=True)
class Nuclide:
    """One radionuclide in one evaluated data set (values and sources from ``nuclides.yaml``)."""

    name: str
    dataset: str
    half_life_h: float | None
    half_life_uncertainty_h: float | None
    beta_mean_mev: float | None
    electron_np_mev: float | None
    decay_mode: str
    daughter: str
    photons: str
    status: dict[str, str | None]
    source: str

    @property
    def decay_constant_per_h(self) -> float:
        """Physical decay constant lambda = ln 2 / T1/2 (1/h)."""
        return math.log(2) / self.require("half_life_h")

    def require(self, field: str) -> float:
        """Value of ``field``; a clear error where the data set holds none."""
        value = getattr(self, field)
        if value is None:
            raise RadiotrialError(
                f"nuclide {self.name!r}: data set {self.dataset!r} holds no {field}; "
                f"choose another data set (one of {', '.join(DATASETS)}) or supply the value"
            )
        return float(value)


def nuclide_names() -> list[str]:
    """Names of all nuclides in the data file (e.g. ``Y-90``)."""
    return list(load("nuclides")["nuclides"])


def get_nuclide(name: str, dataset: str = DEFAULT_DATASET) -> Nuclide:
    """Data of nuclide ``name`` (``Y-90``, ``Lu-177``, ...) from ``dataset`` (ICRP-107 or ENSDF)."""
    data = load("nuclides")
    table = data["nuclides"]
    if name not in table:
        raise RadiotrialError(
            f"nuclide {name!r} is not known; known nuclides: {', '.join(table)}"
        )
    if dataset not in DATASETS:
        raise RadiotrialError(f"data set {dataset!r} is not known; use one of {', '.join(DATASETS)}")
    entry = table[name]
    ds = entry[dataset]
    hl = ds["half_life"]
    factor = _HOURS[hl["unit"]]
    return Nuclide(
        name=name,
        dataset=dataset,
        half_life_h=None if hl["value"] is None else hl["value"] * factor,
        half_life_uncertainty_h=None if hl["uncertainty"] is None else hl["uncertainty"] * factor,
        beta_mean_mev=ds["beta_mean_mev"]["value"],
        electron_np_mev=ds["electron_np_mev"]["value"],
        decay_mode=entry["decay_mode"],
        daughter=entry["daughter"],
        photons=entry["photons"],
        status={
            "half_life": hl["status"],
            "beta_mean_mev": ds["beta_mean_mev"]["status"],
            "electron_np_mev": ds["electron_np_mev"]["status"],
        },
        source=data["sources"][dataset],
    )


def half_life_h(name: str, dataset: str = DEFAULT_DATASET) -> float:
    """Physical half-life of ``name`` in hours from ``dataset``."""
    return get_nuclide(name, dataset).require("half_life_h")
