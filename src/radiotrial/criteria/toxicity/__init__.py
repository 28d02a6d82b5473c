"""Lab toxicity grading (NCI CTC v2.0, CTCAE v4.03, CTCAE v5.0) with worst grades and reversibility.

Criteria are data (``ctc_v2.yaml``, ``ctcae_v4_03.yaml``, ``ctcae_v5.yaml``, one entry per term with
its source); options are :class:`ToxicityConfig`. Engines are pure: frames in, frames out.
"""

from radiotrial.criteria.toxicity.config import ToxicityConfig
from radiotrial.criteria.toxicity.derive import ToxicityResult, derive_toxicity, treatment_starts
from radiotrial.criteria.toxicity.grading import grade_labs
from radiotrial.criteria.toxicity.tables import Criteria, Term, load_criteria

__all__ = [
    "Criteria",
    "Term",
    "ToxicityConfig",
    "ToxicityResult",
    "derive_toxicity",
    "grade_labs",
    "load_criteria",
    "treatment_starts",
]
