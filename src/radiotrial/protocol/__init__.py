"""Protocol engine: eligibility, treatment/assessment schedule and readiness for the next cycle.

Pure functions over the record frames (``dict[str, pl.DataFrame]``, docs/import-format.md) and
the ``protocol`` section of ``study.yaml`` (:class:`ProtocolConfig`).
"""

from radiotrial.protocol.config import ProtocolConfig
from radiotrial.protocol.eligibility import assess_eligibility, eligibility_summary
from radiotrial.protocol.readiness import Check, Readiness, check_readiness
from radiotrial.protocol.schedule import Schedule, build_schedule, data_cutoff

__all__ = [
    "Check",
    "ProtocolConfig",
    "Readiness",
    "Schedule",
    "assess_eligibility",
    "build_schedule",
    "check_readiness",
    "data_cutoff",
    "eligibility_summary",
]
