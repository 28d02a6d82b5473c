"""The results paragraph follows the abstract's style and adapts to the numbers."""

import pytest
from _abstract import ABSTRACT_RESULTS

from radiotrial.report.narrative import (
    NarrativeNumbers,
    count_text,
    number_word,
    percent,
    results_paragraph,
)

ABSTRACT = ABSTRACT_RESULTS


def _abstract_numbers(**change):
    base = {
        "n_evaluable": 19, "n_cr": 0, "n_pr": 3, "n_sd": 12, "n_pd": 4,
        "clinical_improved": 14, "clinical_n": 23, "marker_reduced": 9, "marker_n": 15,
        "tox_subjects": 3, "tox_reversible": 3, "toxicity_criteria": "ctc-v2",
        "os_rate_1y": 0.6304, "os_median_months": 15.2, "os_n": 23,
    }
    base.update(change)
    return NarrativeNumbers(**base)


def test_abstract_paragraph_reproduced_exactly():
    assert results_paragraph(_abstract_numbers()) == ABSTRACT


@pytest.mark.parametrize(
    "n, text, start",
    [(0, "zero", "Zero"), (3, "three", "Three"), (9, "nine", "Nine"), (10, "10", "Ten"),
     (12, "12", "Twelve"), (21, "21", "Twenty-one"), (40, "40", "Forty")],
)
def test_count_text_words_below_ten_and_at_sentence_start(n, text, start):
    assert count_text(n) == text
    assert count_text(n, start=True) == start


def test_number_word_hundreds():
    assert number_word(105) == "one hundred five"


@pytest.mark.parametrize("x, n, p", [(3, 19, 16), (12, 19, 63), (4, 19, 21), (14, 23, 61),
                                     (9, 15, 60), (1, 8, 13), (1, 40, 3), (0, 5, 0)])
def test_percent_rounds_half_up(x, n, p):
    assert percent(x, n) == p


def test_complete_response_joins_partial_and_stable():
    text = results_paragraph(_abstract_numbers(n_cr=1, n_pr=2))
    assert text.startswith(
        "Complete response to treatment was achieved in one (5%) of 19 patients, partial "
        "response in two (11%), and stable disease in 12 (63%)."
    )


def test_no_objective_response():
    text = results_paragraph(_abstract_numbers(n_pr=0, n_sd=15))
    assert text.startswith(
        "No objective (complete or partial) response was observed in the 19 response-evaluable "
        "patients; stable disease was achieved in 15 (79%)."
    )


def test_no_progression_sentence():
    text = results_paragraph(_abstract_numbers(n_pd=0, n_sd=16))
    assert "No patient had continued disease progression." in text


def test_toxicity_not_all_reversible():
    text = results_paragraph(_abstract_numbers(tox_reversible=2))
    assert ("Hematologic toxicity (National Cancer Institute common toxicity criteria grade > 2)"
            " occurred in three patients; it was reversible in two.") in text
    assert "Reversible hematologic" not in text


def test_toxicity_none_and_single():
    assert "No hematologic toxicity of" in results_paragraph(_abstract_numbers(tox_subjects=0,
                                                                            tox_reversible=0))
    assert "occurred in one patient." in results_paragraph(
        _abstract_numbers(tox_subjects=1, tox_reversible=1))


def test_ctcae_named():
    text = results_paragraph(_abstract_numbers(toxicity_criteria="ctcae-v5"))
    assert "Common Terminology Criteria for Adverse Events version 5.0 grade > 2" in text


def test_median_not_reached_and_rate_not_estimable():
    assert "(median survival time not reached)" in results_paragraph(
        _abstract_numbers(os_median_months=None))
    assert "could not be estimated" in results_paragraph(_abstract_numbers(os_rate_1y=None))


def test_markers_absent_drop_clause():
    text = results_paragraph(_abstract_numbers(marker_n=0, marker_reduced=0))
    assert "biologic marker" not in text
    assert "Clinical improvement was reported by 14 (61%) of the 23 patients." in text
