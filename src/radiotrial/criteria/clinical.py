"""Clinical (symptom) response."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ClinicalConfig(BaseModel):
    """Clinical response rule."""

    model_config = ConfigDict(extra="forbid")

    performance_status_counts: bool = False
