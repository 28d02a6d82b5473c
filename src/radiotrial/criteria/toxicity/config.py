"""Toxicity section of ``study.yaml``: grading criteria version and options."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class ToxicityConfig(BaseModel):
    """Which NCI criteria grade the labs (the model study used NCI CTC v2.0)."""

    model_config = ConfigDict(extra="forbid")

    criteria: Literal["ctc-v2", "ctcae-v5", "ctcae-v4.03"] = "ctcae-v5"
