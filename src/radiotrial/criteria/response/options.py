"""Response section of ``study.yaml``: which criteria and their named options."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class ResponseConfig(BaseModel):
    """Tumour response criteria and options (defaults documented with their sources)."""

    model_config = ConfigDict(extra="forbid")

    criteria: Literal["WHO", "RECIST1.1", "RECIST1.0"] = "WHO"
