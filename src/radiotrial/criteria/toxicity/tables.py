"""Criteria tables: load the YAML data files (``ctc_v2.yaml``, ``ctcae_v5.yaml``, ...) into rules.

The grading limits live in the data files, one entry per term with its source line; this module
only parses them. Rule grammar (documented at the top of ``ctc_v2.yaml``)::

    OP [NUMBER] [x REF] [if baseline normal|abnormal]      OP: < <= > >=   REF: LLN ULN BL
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Literal

import yaml

from radiotrial.errors import RadiotrialError

#: criteria name (as in ``study.yaml``) → data file in this package.
CRITERIA_FILES: dict[str, str] = {
    "ctc-v2": "ctc_v2.yaml",
    "ctcae-v5": "ctcae_v5.yaml",
    "ctcae-v4.03": "ctcae_v4_03.yaml",
}
_ALIASES = {
    "ctc-v2.0": "ctc-v2", "ctc2": "ctc-v2", "nci-ctc-v2": "ctc-v2", "ctcv2": "ctc-v2",
    "ctcae-v5.0": "ctcae-v5", "ctcae5": "ctcae-v5", "ctcaev5": "ctcae-v5",
    "ctcae-v4": "ctcae-v4.03", "ctcae4": "ctcae-v4.03",
}

_RULE = re.compile(
    r"^\s*(?P<op><=|>=|<|>)\s*(?P<num>[0-9]+(?:\.[0-9]+)?)?\s*(?:x\s*)?(?P<ref>LLN|ULN|BL)?"
    r"\s*(?:if\s+baseline\s+(?P<when>normal|abnormal))?\s*$"
)


@dataclass(frozen=True)
class Rule:
    """One test proving a grade: ``value OP factor × ref`` (``ref='abs'``: ``value OP factor``)."""

    op: Literal["<", "<=", ">", ">="]
    factor: float
    ref: Literal["abs", "lln", "uln", "base"]
    when: Literal["always", "baseline_normal", "baseline_abnormal"] = "always"


@dataclass(frozen=True)
class Term:
    """One graded lab term of a criteria version."""

    term: str
    analyte: str
    category: str
    direction: Literal["low", "high"]
    unit: str
    source: str
    grades: dict[int, tuple[Rule, ...]]
    docs: dict[int, str]
    clinical: dict[int, str] = field(default_factory=dict)
    synonyms: tuple[str, ...] = ()

    @property
    def max_lab_grade(self) -> int:
        """Highest grade a lab value alone can prove."""
        return max(self.grades)

    @property
    def clinical_above(self) -> int | None:
        """Lowest grade (above grade 1) that can also be reached on clinical information alone."""
        above = [g for g in self.clinical if g > 1]
        return min(above) if above else None


@dataclass(frozen=True)
class Criteria:
    """A criteria version: its terms keyed by analyte code."""

    name: str
    title: str
    published: str
    confidence: str
    terms: dict[str, Term]

    def term_for(self, analyte: str) -> Term | None:
        """The term graded from ``analyte``, or ``None`` when this version has none."""
        return self.terms.get(analyte)


def parse_rule(text: str) -> Rule:
    """Parse one rule string of a data file (``'> 3.0 x ULN if baseline normal'``)."""
    m = _RULE.match(text)
    if not m or (m["num"] is None and m["ref"] is None):
        raise ValueError(f"cannot parse grading rule {text!r}")
    ref = {"LLN": "lln", "ULN": "uln", "BL": "base", None: "abs"}[m["ref"]]
    factor = float(m["num"]) if m["num"] is not None else 1.0
    when = {"normal": "baseline_normal", "abnormal": "baseline_abnormal", None: "always"}[m["when"]]
    return Rule(op=m["op"], factor=factor, ref=ref, when=when)  # type: ignore[arg-type]


def canonical_name(criteria: str) -> str:
    """Canonical criteria name (``'CTCAE v5.0'`` → ``'ctcae-v5'``); unknown names raise."""
    key = criteria.strip().lower().replace(" ", "-").replace("_", "-")
    key = _ALIASES.get(key, key)
    if key not in CRITERIA_FILES:
        raise RadiotrialError(
            f"unknown toxicity criteria {criteria!r}; known: {', '.join(CRITERIA_FILES)}"
        )
    return key


@cache
def load_criteria(criteria: str) -> Criteria:
    """Load and parse a criteria data file by name (``ctc-v2``, ``ctcae-v5``, ``ctcae-v4.03``)."""
    name = canonical_name(criteria)
    text = resources.files(__package__).joinpath(CRITERIA_FILES[name]).read_text("utf-8")
    data = yaml.safe_load(text)
    terms: dict[str, Term] = {}
    for entry in data["terms"]:
        grades = {int(g): tuple(parse_rule(r) for r in spec["rules"]) for g, spec in entry["grades"].items()}
        docs = {int(g): str(spec["doc"]) for g, spec in entry["grades"].items()}
        terms[entry["analyte"]] = Term(
            term=entry["term"], analyte=entry["analyte"], category=entry["category"],
            direction=entry["direction"], unit=entry["unit"], source=entry["source"],
            grades=dict(sorted(grades.items(), reverse=True)), docs=docs,
            clinical={int(g): str(t) for g, t in (entry.get("clinical") or {}).items()},
            synonyms=tuple(entry.get("synonyms") or ()),
        )
    return Criteria(
        name=name, title=data["name"], published=str(data["published"]),
        confidence=str(data["confidence"]), terms=terms,
    )
