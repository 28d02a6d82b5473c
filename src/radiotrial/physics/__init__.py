"""Radionuclide physics and dosimetry (issue 6): nuclide data, decay, dose factors, dose models,
BED, organ limits and the study-level derivation.

Submodules: ``nuclides``, ``decay``, ``dosimetry`` (factors, mird, liver, partition,
microspheres, organs, bed, limits), ``derive`` (:func:`derive_dosimetry`), ``planning``
(:func:`planned_cycle_check`), ``config`` (:class:`DosimetryConfig`).
Names are imported lazily so that ``radiotrial.physics.config`` stays light (CLI start-up).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "derive_dosimetry": "radiotrial.physics.derive",
    "DosimetryResult": "radiotrial.physics.derive",
    "planned_cycle_check": "radiotrial.physics.planning",
    "DosimetryConfig": "radiotrial.physics.config",
    "get_nuclide": "radiotrial.physics.nuclides",
    "half_life_h": "radiotrial.physics.nuclides",
    "activity_at": "radiotrial.physics.decay",
    "administered_activity": "radiotrial.physics.decay",
    "cumulated_activity": "radiotrial.physics.decay",
    "dose_factor_k": "radiotrial.physics.dosimetry.factors",
    "tia_dose_factor": "radiotrial.physics.dosimetry.factors",
    "partition_doses": "radiotrial.physics.dosimetry.partition",
    "partition_activity": "radiotrial.physics.dosimetry.partition",
    "liver_peptide_dose": "radiotrial.physics.dosimetry.liver",
    "bed": "radiotrial.physics.dosimetry.bed",
    "cumulative_bed": "radiotrial.physics.dosimetry.bed",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'radiotrial.physics' has no attribute {name!r}")
