"""``study.yaml``: the study's identity and its protocol as data (pydantic-validated).

Each section's model is owned by the engine that uses it; this module only assembles them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from radiotrial.criteria.clinical import ClinicalConfig
from radiotrial.criteria.markers import MarkerConfig
from radiotrial.criteria.response.options import ResponseConfig
from radiotrial.criteria.toxicity.config import ToxicityConfig
from radiotrial.physics.config import DosimetryConfig
from radiotrial.protocol.config import ProtocolConfig


class StudyConfig(BaseModel):
    """The whole ``study.yaml``."""

    model_config = ConfigDict(extra="forbid")

    study_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
    title: str
    protocol: ProtocolConfig = Field(default_factory=ProtocolConfig)
    response: ResponseConfig = Field(default_factory=ResponseConfig)
    toxicity: ToxicityConfig = Field(default_factory=ToxicityConfig)
    markers: MarkerConfig = Field(default_factory=MarkerConfig)
    clinical: ClinicalConfig = Field(default_factory=ClinicalConfig)
    dosimetry: DosimetryConfig = Field(default_factory=DosimetryConfig)
