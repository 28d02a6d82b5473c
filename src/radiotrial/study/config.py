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

    study_id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$",
        description="The study's code (CDISC STUDYID): letters, digits, _ . - (at most 40 "
        "characters), starting with a letter or digit; prefixes USUBJID in the datasets.",
    )
    title: str = Field(description="The study's title, free text; heads the report.")
    protocol: ProtocolConfig = Field(
        default_factory=ProtocolConfig,
        description="Treatment and assessment schedule, eligibility and retreatment rules.")
    response: ResponseConfig = Field(
        default_factory=ResponseConfig,
        description="Tumour response criteria (WHO, RECIST 1.1, RECIST 1.0) and their options.")
    toxicity: ToxicityConfig = Field(
        default_factory=ToxicityConfig,
        description="Lab toxicity grading: NCI criteria version and grading options.")
    markers: MarkerConfig = Field(
        default_factory=MarkerConfig,
        description="Biologic (tumour-marker) response rule.")
    clinical: ClinicalConfig = Field(
        default_factory=ClinicalConfig,
        description="Clinical (symptom) improvement rule.")
    dosimetry: DosimetryConfig = Field(
        default_factory=DosimetryConfig,
        description="Activity bookkeeping, dose estimates per administration and organ limits.")
