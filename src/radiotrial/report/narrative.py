"""The results paragraph, written from derived numbers in the model study's abstract style.

Style rules (taken from the model study's abstract, ``shared/study/abstract.txt``, which follows
the RSNA / AMA number style):

* whole numbers below 10 are words ("three (16%) of 19 patients"), 10 and above are digits;
* a number that opens a sentence is always a word ("Four (21%) of 19 patients ...");
* percentages are whole numbers, rounded half up (3/19 = 15.79 % -> "16%");
* the paragraph names the criteria ("National Cancer Institute common toxicity criteria
  grade > 2") and reports survival as "The 1-year survival rate was 63% (median survival time,
  15 months)."

Everything here is plain text assembly from a :class:`NarrativeNumbers`; no number is written in.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

_ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]

#: How each toxicity criteria version is named in a sentence (NCI CTC v2.0, 1999; CTCAE v4.03,
#: 2010; CTCAE v5.0, 2017). The ctc-v2 wording is the abstract's.
TOXICITY_CRITERIA_NAMES = {
    "ctc-v2": "National Cancer Institute common toxicity criteria",
    "ctcae-v4.03": "National Cancer Institute Common Terminology Criteria for Adverse Events "
    "version 4.03",
    "ctcae-v5": "National Cancer Institute Common Terminology Criteria for Adverse Events "
    "version 5.0",
}


def number_word(n: int) -> str:
    """English words for 0 <= n < 1000 (``21`` -> ``"twenty-one"``)."""
    if n < 0:
        return "minus " + number_word(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("-" + _ONES[ones] if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = _ONES[hundreds] + " hundred"
        return head + (" " + number_word(rest) if rest else "")
    return str(n)


def count_text(n: int, *, start: bool = False) -> str:
    """A count as the abstract writes it: words below 10 (or at a sentence start), else digits."""
    if start:
        word = number_word(n) if n < 1000 else str(n)
        return word[:1].upper() + word[1:]
    return number_word(n) if 0 <= n < 10 else str(n)


def percent(x: int, n: int) -> int:
    """Whole-number percentage of x out of n, rounded half up (15.79 -> 16, 12.5 -> 13)."""
    if n <= 0:
        raise ValueError("percentage of an empty denominator")
    return int((Decimal(100 * x) / Decimal(n)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _round_half_up(x: float) -> int:
    return int(Decimal(repr(x)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def plural(n: int, singular: str, many: str | None = None) -> str:
    """``n`` with the noun in the right number: ``1 man``, ``2 men``, ``0 events``."""
    return f"{n} {singular if n == 1 else (many or singular + 's')}"


def _patients(n: int) -> str:
    return "patient" if n == 1 else "patients"


@dataclass(frozen=True)
class NarrativeNumbers:
    """Every number the results paragraph reports, all derived from the analysis datasets.

    ``n_evaluable`` is the response-evaluable set (ADSL.EFFFL = Y); the response counts are best
    overall responses within it. ``clinical_*`` and ``marker_*`` use their own evaluable sets.
    ``tox_subjects`` counts subjects with a haematological grade >= ``tox_min_grade``;
    ``tox_reversible`` how many of them recovered. ``os_rate_1y`` is a proportion (0-1) or None
    when not estimable; ``os_median_months`` None means the median was not reached.
    """

    n_evaluable: int
    n_cr: int
    n_pr: int
    n_sd: int
    n_pd: int
    clinical_improved: int
    clinical_n: int
    marker_reduced: int
    marker_n: int
    tox_subjects: int
    tox_reversible: int
    tox_min_grade: int = 3
    toxicity_criteria: str = "ctc-v2"
    os_rate_1y: float | None = None
    os_median_months: float | None = None
    os_n: int = 0


def _pct(x: int, n: int) -> str:
    return f"{percent(x, n)}%"


def _response_sentences(v: NarrativeNumbers) -> list[str]:
    n = v.n_evaluable
    if n == 0:
        return ["No patient was evaluable for tumour response."]
    out: list[str] = []
    pieces: list[str] = []
    if v.n_cr and v.n_pr:
        pieces.append(
            f"Complete response to treatment was achieved in {count_text(v.n_cr)} "
            f"({_pct(v.n_cr, n)}) of {count_text(n)} {_patients(n)}, partial response in "
            f"{count_text(v.n_pr)} ({_pct(v.n_pr, n)})"
        )
    elif v.n_cr or v.n_pr:
        kind, k = ("Complete", v.n_cr) if v.n_cr else ("Partial", v.n_pr)
        pieces.append(
            f"{kind} response to treatment was achieved in {count_text(k)} ({_pct(k, n)}) of "
            f"{count_text(n)} {_patients(n)}"
        )
    if pieces:
        sentence = pieces[0]
        if v.n_sd:
            joiner = ", and stable disease in" if v.n_cr and v.n_pr else (
                ", and stable disease was achieved in"
            )
            sentence += f"{joiner} {count_text(v.n_sd)} ({_pct(v.n_sd, n)})"
        out.append(sentence + ".")
    else:
        sentence = (
            f"No objective (complete or partial) response was observed in the {count_text(n)} "
            f"response-evaluable {_patients(n)}"
        )
        if v.n_sd:
            sentence += (
                f"; stable disease was achieved in {count_text(v.n_sd)} ({_pct(v.n_sd, n)})"
            )
        out.append(sentence + ".")
    if v.n_pd:
        out.append(
            f"{count_text(v.n_pd, start=True)} ({_pct(v.n_pd, n)}) of {count_text(n)} "
            f"{_patients(n)} had continued disease progression."
        )
    else:
        out.append("No patient had continued disease progression.")
    return out


def _clinical_marker_sentence(v: NarrativeNumbers) -> str | None:
    parts: list[str] = []
    if v.clinical_n:
        parts.append(
            f"Clinical improvement was reported by {count_text(v.clinical_improved)} "
            f"({_pct(v.clinical_improved, v.clinical_n)}) of the {count_text(v.clinical_n)} "
            f"{_patients(v.clinical_n)}"
        )
    if v.marker_n:
        text = (
            f"a reduction in biologic marker levels was observed in "
            f"{count_text(v.marker_reduced)} ({_pct(v.marker_reduced, v.marker_n)}) of "
            f"{count_text(v.marker_n)} {_patients(v.marker_n)}"
        )
        parts.append(text if parts else text[:1].upper() + text[1:])
    if not parts:
        return None
    return ", and ".join(parts) + "."


def _toxicity_sentence(v: NarrativeNumbers) -> str:
    name = TOXICITY_CRITERIA_NAMES.get(v.toxicity_criteria, v.toxicity_criteria)
    grade = f"grade > {v.tox_min_grade - 1}"
    k = v.tox_subjects
    if k == 0:
        return f"No hematologic toxicity of {name} {grade} occurred."
    who = f"{count_text(k)} {_patients(k)}"
    if v.tox_reversible == k:
        return f"Reversible hematologic toxicity ({name} {grade}) occurred in {who}."
    if v.tox_reversible == 0:
        rev = "it was not reversible in any of them" if k > 1 else "it was not reversible"
    else:
        rev = f"it was reversible in {count_text(v.tox_reversible)}"
    return f"Hematologic toxicity ({name} {grade}) occurred in {who}; {rev}."


def _survival_sentence(v: NarrativeNumbers) -> str | None:
    if v.os_n == 0:
        return None
    if v.os_median_months is None:
        median = "median survival time not reached"
    else:
        months = _round_half_up(v.os_median_months)
        median = f"median survival time, {months} {'month' if months == 1 else 'months'}"
    if v.os_rate_1y is None:
        return f"The 1-year survival rate could not be estimated ({median})."
    return f"The 1-year survival rate was {_round_half_up(100 * v.os_rate_1y)}% ({median})."


def results_paragraph(v: NarrativeNumbers) -> str:
    """The results paragraph for ``v``, in the abstract's style (see module docstring)."""
    sentences = _response_sentences(v)
    cm = _clinical_marker_sentence(v)
    if cm:
        sentences.append(cm)
    sentences.append(_toxicity_sentence(v))
    surv = _survival_sentence(v)
    if surv:
        sentences.append(surv)
    return " ".join(sentences)
