"""Dosimetry section of ``study.yaml``: dose model, dose factor and organ limits."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DosimetryConfig(BaseModel):
    """Which dose estimates the study derives per administration."""

    model_config = ConfigDict(extra="forbid")
