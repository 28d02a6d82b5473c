"""Biologic (tumour-marker) response."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class MarkerConfig(BaseModel):
    """Marker response rule."""

    model_config = ConfigDict(extra="forbid")

    rule: str = "decrease_50"
