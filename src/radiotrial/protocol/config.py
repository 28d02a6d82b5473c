"""Protocol section of ``study.yaml``: cycle interval, assessment window, eligibility, retreatment."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ProtocolConfig(BaseModel):
    """Treatment and assessment schedule of the protocol (defaults: the model study's 8-week cycles)."""

    model_config = ConfigDict(extra="forbid")

    cycle_interval_days: int = 56
    cycle_tolerance_days: int = 7
