"""Complete-absorption dose factor K and per-TIA dose factors (spec/dosimetry.md 1.3).

K = E * N / GBq with N = 1e9 * T1/2[s] / ln 2 decays per GBq and E the mean energy per decay in
joules (1 MeV = 1.602176634e-13 J, CODATA 2018 exact). D[Gy] = K * A[GBq] / M[kg] for complete
local absorption and permanent retention. Y-90, ICRP-107 (0.9329 MeV, 64.10 h): K = 49.76.
Per-TIA factor: Delta * 3.6e12 J.kg.../(GBq.h) = E[MeV] * 1.602176634e-13 * 1e9 * 3600 Gy.kg/(GBq.h)
(Y-90 non-penetrating electrons 0.538, Lu-177 0.0853, In-111 0.0201; spec 1.3).
"""

from __future__ import annotations

import math
from typing import Literal

from radiotrial.errors import RadiotrialError
from radiotrial.physics.nuclides import DEFAULT_DATASET, get_nuclide

#: Joules per MeV (CODATA 2018, exact since the 2019 SI redefinition).
MEV_TO_J = 1.602176634e-13
#: Becquerel per GBq.
BQ_PER_GBQ = 1e9
#: Published K overrides for Y-90 (spec 1.3): 49.67 (Taranis / literature), 50 (TheraSphere IFU).
K_OVERRIDES = {"49.67": 49.67, "50": 50.0}

Energy = Literal["beta", "electron"]
_FIELD = {"beta": "beta_mean_mev", "electron": "electron_np_mev"}


def _energy_mev(nuclide: str, dataset: str, energy: Energy) -> float:
    if energy not in _FIELD:
        raise RadiotrialError(f"energy {energy!r} is not known; use 'beta' or 'electron'")
    return get_nuclide(nuclide, dataset).require(_FIELD[energy])


def dose_factor_k(
    nuclide: str = "Y-90",
    *,
    dataset: str = DEFAULT_DATASET,
    energy: Energy = "beta",
    override: float | None = None,
) -> float:
    """K in Gy.kg/GBq for complete local absorption and permanent retention (spec 1.3).

    ``energy``: 'beta' (mean beta energy per decay, the spec's K) or 'electron' (all
    non-penetrating electrons). ``override`` (e.g. 49.67 or 50) is returned as is, so published
    results can be reproduced; it must be positive.
    """
    if override is not None:
        if not override > 0:
            raise RadiotrialError(f"k_override: must be > 0 Gy.kg/GBq, got {override!r}")
        return float(override)
    nuc = get_nuclide(nuclide, dataset)
    decays_per_gbq = BQ_PER_GBQ * nuc.require("half_life_h") * 3600.0 / math.log(2)
    return _energy_mev(nuclide, dataset, energy) * MEV_TO_J * decays_per_gbq


def tia_dose_factor(
    nuclide: str = "Y-90", *, dataset: str = DEFAULT_DATASET, energy: Energy = "electron"
) -> float:
    """Absorbed dose per time-integrated activity for local absorption, Gy.kg/(GBq.h) (spec 1.3).

    Divide by the mass (kg) to get the self-dose S value for non-penetrating emissions.
    """
    return _energy_mev(nuclide, dataset, energy) * MEV_TO_J * BQ_PER_GBQ * 3600.0
