"""Both sides of every grade boundary of every term, per criteria version (spec §3 table).

Range notation (spec §3): "<A - B" means B <= x < A; ">A - B" means A < x <= B; an unprefixed
"x baseline" lower bound is inclusive.
"""

from __future__ import annotations

import pytest
from test_toxicity_helpers import grade_one

# (criteria, analyte, value, lln, uln, expected grade) — low-direction terms
LOW = [
    # CTC v2.0 haemoglobin, g/dL: <LLN-10.0 / 8.0-<10.0 / 6.5-<8.0 / <6.5
    ("ctc-v2", "HGB", 12.0, 12.0, 16, 0), ("ctc-v2", "HGB", 11.99, 12.0, 16, 1),
    ("ctc-v2", "HGB", 10.0, 12.0, 16, 1), ("ctc-v2", "HGB", 9.99, 12.0, 16, 2),
    ("ctc-v2", "HGB", 8.0, 12.0, 16, 2), ("ctc-v2", "HGB", 7.99, 12.0, 16, 3),
    ("ctc-v2", "HGB", 6.5, 12.0, 16, 3), ("ctc-v2", "HGB", 6.49, 12.0, 16, 4),
    # v2.0 WBC: <LLN-3.0 / >=2.0-<3.0 / >=1.0-<2.0 / <1.0
    ("ctc-v2", "WBC", 4.0, 4.0, 10, 0), ("ctc-v2", "WBC", 3.99, 4.0, 10, 1),
    ("ctc-v2", "WBC", 3.0, 4.0, 10, 1), ("ctc-v2", "WBC", 2.99, 4.0, 10, 2),
    ("ctc-v2", "WBC", 2.0, 4.0, 10, 2), ("ctc-v2", "WBC", 1.99, 4.0, 10, 3),
    ("ctc-v2", "WBC", 1.0, 4.0, 10, 3), ("ctc-v2", "WBC", 0.99, 4.0, 10, 4),
    # v2.0 neutrophils: >=1.5-<2.0 (LLN not used) / >=1.0-<1.5 / >=0.5-<1.0 / <0.5
    ("ctc-v2", "NEUT", 2.0, 1.8, 7, 0), ("ctc-v2", "NEUT", 1.99, 1.8, 7, 1),
    ("ctc-v2", "NEUT", 1.5, 1.8, 7, 1), ("ctc-v2", "NEUT", 1.49, 1.8, 7, 2),
    ("ctc-v2", "NEUT", 1.0, 1.8, 7, 2), ("ctc-v2", "NEUT", 0.99, 1.8, 7, 3),
    ("ctc-v2", "NEUT", 0.5, 1.8, 7, 3), ("ctc-v2", "NEUT", 0.49, 1.8, 7, 4),
    ("ctc-v2", "NEUT", 1.9, None, 7, 1),  # LLN not needed in v2.0
    # v2.0 lymphocytes: <LLN-1.0 / >=0.5-<1.0 / <0.5 / no grade 4
    ("ctc-v2", "LYMPH", 1.2, 1.2, 4, 0), ("ctc-v2", "LYMPH", 1.19, 1.2, 4, 1),
    ("ctc-v2", "LYMPH", 1.0, 1.2, 4, 1), ("ctc-v2", "LYMPH", 0.99, 1.2, 4, 2),
    ("ctc-v2", "LYMPH", 0.5, 1.2, 4, 2), ("ctc-v2", "LYMPH", 0.49, 1.2, 4, 3),
    ("ctc-v2", "LYMPH", 0.01, 1.2, 4, 3),
    # v2.0 platelets: <LLN-75.0 / >=50.0-<75.0 / >=10.0-<50.0 / <10.0
    ("ctc-v2", "PLAT", 150, 150, 400, 0), ("ctc-v2", "PLAT", 149.9, 150, 400, 1),
    ("ctc-v2", "PLAT", 75.0, 150, 400, 1), ("ctc-v2", "PLAT", 74.9, 150, 400, 2),
    ("ctc-v2", "PLAT", 50.0, 150, 400, 2), ("ctc-v2", "PLAT", 49.9, 150, 400, 3),
    ("ctc-v2", "PLAT", 10.0, 150, 400, 3), ("ctc-v2", "PLAT", 9.9, 150, 400, 4),
    # CTCAE v5 anaemia: <LLN-10.0 / <10.0-8.0 / <8.0 (G4 clinical only)
    ("ctcae-v5", "HGB", 12.0, 12.0, 16, 0), ("ctcae-v5", "HGB", 11.99, 12.0, 16, 1),
    ("ctcae-v5", "HGB", 10.0, 12.0, 16, 1), ("ctcae-v5", "HGB", 9.99, 12.0, 16, 2),
    ("ctcae-v5", "HGB", 8.0, 12.0, 16, 2), ("ctcae-v5", "HGB", 7.99, 12.0, 16, 3),
    ("ctcae-v5", "HGB", 5.0, 12.0, 16, 3),
    ("ctcae-v5", "HGB", 9.9, 9.5, 16, 2),  # LLN < 10: admiral tests <10.0 before <LLN (spec §3)
    # v5 WBC: <LLN-3.0 / <3.0-2.0 / <2.0-1.0 / <1.0
    ("ctcae-v5", "WBC", 4.0, 4.0, 10, 0), ("ctcae-v5", "WBC", 3.99, 4.0, 10, 1),
    ("ctcae-v5", "WBC", 3.0, 4.0, 10, 1), ("ctcae-v5", "WBC", 2.99, 4.0, 10, 2),
    ("ctcae-v5", "WBC", 2.0, 4.0, 10, 2), ("ctcae-v5", "WBC", 1.99, 4.0, 10, 3),
    ("ctcae-v5", "WBC", 1.0, 4.0, 10, 3), ("ctcae-v5", "WBC", 0.99, 4.0, 10, 4),
    # v5 neutrophils: <LLN-1.5 / <1.5-1.0 / <1.0-0.5 / <0.5
    ("ctcae-v5", "NEUT", 2.0, 2.0, 7, 0), ("ctcae-v5", "NEUT", 1.99, 2.0, 7, 1),
    ("ctcae-v5", "NEUT", 1.5, 2.0, 7, 1), ("ctcae-v5", "NEUT", 1.49, 2.0, 7, 2),
    ("ctcae-v5", "NEUT", 1.0, 2.0, 7, 2), ("ctcae-v5", "NEUT", 0.99, 2.0, 7, 3),
    ("ctcae-v5", "NEUT", 0.5, 2.0, 7, 3), ("ctcae-v5", "NEUT", 0.49, 2.0, 7, 4),
    # v5 lymphocytes: <LLN-0.8 / <0.8-0.5 / <0.5-0.2 / <0.2
    ("ctcae-v5", "LYMPH", 1.0, 1.0, 4, 0), ("ctcae-v5", "LYMPH", 0.99, 1.0, 4, 1),
    ("ctcae-v5", "LYMPH", 0.8, 1.0, 4, 1), ("ctcae-v5", "LYMPH", 0.79, 1.0, 4, 2),
    ("ctcae-v5", "LYMPH", 0.5, 1.0, 4, 2), ("ctcae-v5", "LYMPH", 0.49, 1.0, 4, 3),
    ("ctcae-v5", "LYMPH", 0.2, 1.0, 4, 3), ("ctcae-v5", "LYMPH", 0.19, 1.0, 4, 4),
    # v5 platelets (issue #5 example): 74.9 / 75.0 / 50.0 / 49.9 / 25.0 / 24.9
    ("ctcae-v5", "PLAT", 150, 150, 400, 0), ("ctcae-v5", "PLAT", 149.9, 150, 400, 1),
    ("ctcae-v5", "PLAT", 75.0, 150, 400, 1), ("ctcae-v5", "PLAT", 74.9, 150, 400, 2),
    ("ctcae-v5", "PLAT", 50.0, 150, 400, 2), ("ctcae-v5", "PLAT", 49.9, 150, 400, 3),
    ("ctcae-v5", "PLAT", 25.0, 150, 400, 3), ("ctcae-v5", "PLAT", 24.9, 150, 400, 4),
    # CTCAE v4.03 spot checks
    ("ctcae-v4.03", "PLAT", 24.9, 150, 400, 4), ("ctcae-v4.03", "NEUT", 1.49, 2.0, 7, 2),
    ("ctcae-v4.03", "HGB", 7.99, 12.0, 16, 3),
    # CTCAE v4.03, every boundary (wave 3: confirmed against admiral ncictcaev4.json)
    # anaemia: <LLN-10.0 / <10.0-8.0 / <8.0 with no numeric lower bound and no numeric grade 4
    ("ctcae-v4.03", "HGB", 12.0, 12.0, 16, 0), ("ctcae-v4.03", "HGB", 11.99, 12.0, 16, 1),
    ("ctcae-v4.03", "HGB", 10.0, 12.0, 16, 1), ("ctcae-v4.03", "HGB", 9.99, 12.0, 16, 2),
    ("ctcae-v4.03", "HGB", 8.0, 12.0, 16, 2), ("ctcae-v4.03", "HGB", 6.5, 12.0, 16, 3),
    ("ctcae-v4.03", "HGB", 6.49, 12.0, 16, 3), ("ctcae-v4.03", "HGB", 4.0, 12.0, 16, 3),
    # WBC: <LLN-3.0 / <3.0-2.0 / <2.0-1.0 / <1.0
    ("ctcae-v4.03", "WBC", 4.0, 4.0, 10, 0), ("ctcae-v4.03", "WBC", 3.99, 4.0, 10, 1),
    ("ctcae-v4.03", "WBC", 3.0, 4.0, 10, 1), ("ctcae-v4.03", "WBC", 2.99, 4.0, 10, 2),
    ("ctcae-v4.03", "WBC", 2.0, 4.0, 10, 2), ("ctcae-v4.03", "WBC", 1.99, 4.0, 10, 3),
    ("ctcae-v4.03", "WBC", 1.0, 4.0, 10, 3), ("ctcae-v4.03", "WBC", 0.99, 4.0, 10, 4),
    # neutrophils: <LLN-1.5 / <1.5-1.0 / <1.0-0.5 / <0.5
    ("ctcae-v4.03", "NEUT", 2.0, 2.0, 7, 0), ("ctcae-v4.03", "NEUT", 1.99, 2.0, 7, 1),
    ("ctcae-v4.03", "NEUT", 1.5, 2.0, 7, 1), ("ctcae-v4.03", "NEUT", 1.0, 2.0, 7, 2),
    ("ctcae-v4.03", "NEUT", 0.99, 2.0, 7, 3), ("ctcae-v4.03", "NEUT", 0.5, 2.0, 7, 3),
    ("ctcae-v4.03", "NEUT", 0.49, 2.0, 7, 4),
    # lymphocytes: <LLN-0.8 / <0.8-0.5 / <0.5-0.2 / <0.2
    ("ctcae-v4.03", "LYMPH", 1.0, 1.0, 4, 0), ("ctcae-v4.03", "LYMPH", 0.99, 1.0, 4, 1),
    ("ctcae-v4.03", "LYMPH", 0.8, 1.0, 4, 1), ("ctcae-v4.03", "LYMPH", 0.79, 1.0, 4, 2),
    ("ctcae-v4.03", "LYMPH", 0.5, 1.0, 4, 2), ("ctcae-v4.03", "LYMPH", 0.49, 1.0, 4, 3),
    ("ctcae-v4.03", "LYMPH", 0.2, 1.0, 4, 3), ("ctcae-v4.03", "LYMPH", 0.19, 1.0, 4, 4),
    # platelets: <LLN-75.0 / <75.0-50.0 / <50.0-25.0 / <25.0
    ("ctcae-v4.03", "PLAT", 150, 150, 400, 0), ("ctcae-v4.03", "PLAT", 149.9, 150, 400, 1),
    ("ctcae-v4.03", "PLAT", 75.0, 150, 400, 1), ("ctcae-v4.03", "PLAT", 74.9, 150, 400, 2),
    ("ctcae-v4.03", "PLAT", 50.0, 150, 400, 2), ("ctcae-v4.03", "PLAT", 49.9, 150, 400, 3),
    ("ctcae-v4.03", "PLAT", 25.0, 150, 400, 3),
]


@pytest.mark.parametrize("criteria,analyte,value,lln,uln,expected", LOW)
def test_low_direction_boundaries(criteria, analyte, value, lln, uln, expected):
    r = grade_one(analyte, value, criteria, lln=lln, uln=uln)
    assert r["gradable"], r["not_gradable_reason"]
    assert r["grade"] == expected


ULN = 40.0
# (criteria, analyte, multiple of ULN, expected) with a normal baseline (20 U/L or umol/L)
HIGH_ULN = []
_LIMITS = {
    # analyte: {criteria: (G1 upper, G2 upper, G3 upper)} in x ULN; grade 1 starts above 1.0 x ULN
    "ALT": {"ctc-v2": (2.5, 5.0, 20.0), "ctcae-v5": (3.0, 5.0, 20.0), "ctcae-v4.03": (3.0, 5.0, 20.0)},
    "AST": {"ctc-v2": (2.5, 5.0, 20.0), "ctcae-v5": (3.0, 5.0, 20.0), "ctcae-v4.03": (3.0, 5.0, 20.0)},
    "BILI": {"ctc-v2": (1.5, 3.0, 10.0), "ctcae-v5": (1.5, 3.0, 10.0), "ctcae-v4.03": (1.5, 3.0, 10.0)},
    "ALP": {"ctc-v2": (2.5, 5.0, 20.0), "ctcae-v5": (2.5, 5.0, 20.0), "ctcae-v4.03": (2.5, 5.0, 20.0)},
    "GGT": {"ctc-v2": (2.5, 5.0, 20.0), "ctcae-v5": (2.5, 5.0, 20.0), "ctcae-v4.03": (2.5, 5.0, 20.0)},
    "CREAT": {"ctc-v2": (1.5, 3.0, 6.0), "ctcae-v5": (1.5, 3.0, 6.0), "ctcae-v4.03": (1.5, 3.0, 6.0)},
}
for _a, _per in _LIMITS.items():
    for _c, (_g1, _g2, _g3) in _per.items():
        for _grade, _limit in enumerate((1.0, _g1, _g2, _g3)):
            HIGH_ULN.append((_c, _a, _limit * ULN, _grade))            # at the limit: lower grade
            HIGH_ULN.append((_c, _a, _limit * ULN + 0.01, _grade + 1))  # just above: next grade


@pytest.mark.parametrize("criteria,analyte,value,expected", HIGH_ULN)
def test_high_direction_uln_boundaries(criteria, analyte, value, expected):
    # baseline = ULN exactly (normal, and 1.5 x baseline = 1.5 x ULN for creatinine)
    r = grade_one(analyte, value, criteria, uln=ULN, base=ULN)
    assert r["gradable"], r["not_gradable_reason"]
    assert r["grade"] == expected


# v5 baseline-abnormal rules: baseline 80 with ULN 40 (2 x ULN)
BASE = 80.0
V5_ABNORMAL = [
    ("ALT", 1.5 * BASE - 0.01, 0), ("ALT", 1.5 * BASE, 1),  # inclusive "1.5 - 3.0 x baseline"
    ("ALT", 3.0 * BASE, 1), ("ALT", 3.0 * BASE + 0.01, 2), ("ALT", 5.0 * BASE, 2),
    ("ALT", 5.0 * BASE + 0.01, 3), ("ALT", 20.0 * BASE, 3), ("ALT", 20.0 * BASE + 0.01, 4),
    ("AST", 1.5 * BASE, 1), ("AST", 3.0 * BASE + 0.01, 2),
    ("BILI", BASE, 0), ("BILI", BASE + 0.01, 1), ("BILI", 1.5 * BASE, 1),
    ("BILI", 1.5 * BASE + 0.01, 2), ("BILI", 3.0 * BASE, 2), ("BILI", 3.0 * BASE + 0.01, 3),
    ("BILI", 10.0 * BASE, 3), ("BILI", 10.0 * BASE + 0.01, 4),
    ("ALP", 2.0 * BASE - 0.01, 0), ("ALP", 2.0 * BASE, 1), ("ALP", 2.5 * BASE, 1),
    ("ALP", 2.5 * BASE + 0.01, 2), ("ALP", 5.0 * BASE + 0.01, 3), ("ALP", 20.0 * BASE + 0.01, 4),
    ("GGT", 2.0 * BASE, 1), ("GGT", 2.5 * BASE + 0.01, 2),
    # GGT, every baseline-multiple boundary (wave 3: confirmed against admiral ncictcaev5.json)
    ("GGT", 2.0 * BASE - 0.01, 0), ("GGT", 2.5 * BASE, 1), ("GGT", 5.0 * BASE, 2),
    ("GGT", 5.0 * BASE + 0.01, 3), ("GGT", 20.0 * BASE, 3), ("GGT", 20.0 * BASE + 0.01, 4),
]


@pytest.mark.parametrize("analyte,value,expected", V5_ABNORMAL)
def test_v5_abnormal_baseline_multiples(analyte, value, expected):
    r = grade_one(analyte, value, "ctcae-v5", uln=ULN, base=BASE)
    assert r["baseline_abnormal"] is True
    assert r["grade"] == expected


def test_v5_alt_at_three_times_uln_vs_three_times_baseline():
    # normal baseline: 3.0 x ULN is grade 1, just above is grade 2
    assert grade_one("ALT", 120.0, "ctcae-v5", uln=40, base=30)["grade"] == 1
    assert grade_one("ALT", 120.01, "ctcae-v5", uln=40, base=30)["grade"] == 2
    # abnormal baseline 60: 3.0 x ULN (120) is only 2 x baseline -> grade 1; 3.0 x BL (180) -> 1
    assert grade_one("ALT", 120.0, "ctcae-v5", uln=40, base=60)["grade"] == 1
    assert grade_one("ALT", 180.0, "ctcae-v5", uln=40, base=60)["grade"] == 1
    assert grade_one("ALT", 180.01, "ctcae-v5", uln=40, base=60)["grade"] == 2
    # baseline exactly at ULN is normal (abnormal = above ULN)
    assert grade_one("ALT", 120.01, "ctcae-v5", uln=40, base=40)["grade"] == 2
    # option: ULN multiples only -> 180 = 4.5 x ULN = grade 2 even with an abnormal baseline
    r = grade_one("ALT", 180.0, "ctcae-v5", uln=40, base=60, baseline_abnormal_mode="uln_multiples")
    assert r["grade"] == 2


def test_v2_and_v4_ignore_abnormal_baseline():
    assert grade_one("ALT", 180.0, "ctc-v2", uln=40, base=60)["grade"] == 2
    assert grade_one("ALT", 180.0, "ctcae-v4.03", uln=40, base=60)["grade"] == 2


CREAT = [
    # (criteria, value, baseline, ULN, grade). v5: G2 >1.5-3.0 x baseline OR >1.5-3.0 x ULN;
    # G3 >3.0 x baseline OR >3.0-6.0 x ULN
    ("ctcae-v5", 60.0, 30.0, 100.0, 2), ("ctcae-v5", 75.0, 50.0, 100.0, 0),
    ("ctcae-v5", 75.01, 50.0, 100.0, 2), ("ctcae-v5", 150.0, 50.0, 100.0, 2),
    ("ctcae-v5", 150.01, 50.0, 100.0, 3), ("ctcae-v5", 95.0, 80.0, 40.0, 2),
    # v4.03: G1 also >1 - 1.5 x baseline (within the normal range)
    ("ctcae-v4.03", 35.0, 30.0, 100.0, 1), ("ctcae-v4.03", 30.0, 30.0, 100.0, 0),
    # v4.03 baseline multiples on both sides (ULN 1000 keeps the ULN rules out of play):
    # G1 >1-1.5 x BL / G2 >1.5-3.0 x BL / G3 >3.0 x BL (admiral ncictcaev4.json)
    ("ctcae-v4.03", 75.0, 50.0, 1000.0, 1), ("ctcae-v4.03", 75.01, 50.0, 1000.0, 2),
    ("ctcae-v4.03", 150.0, 50.0, 1000.0, 2), ("ctcae-v4.03", 150.01, 50.0, 1000.0, 3),
    ("ctcae-v4.03", 50.01, 50.0, 1000.0, 1), ("ctcae-v4.03", 50.0, 50.0, 1000.0, 0),
    # v2.0: multiples of ULN only
    ("ctc-v2", 75.0, 50.0, 50.0, 1), ("ctc-v2", 75.01, 50.0, 50.0, 2), ("ctc-v2", 60.0, 30.0, 100.0, 0),
]


@pytest.mark.parametrize("criteria,value,base,uln,expected", CREAT)
def test_creatinine_baseline_and_uln_multiples(criteria, value, base, uln, expected):
    assert grade_one("CREAT", value, criteria, uln=uln, base=base)["grade"] == expected


def test_creatinine_rows_explicit():
    # ULN 100, baseline 50: 75.01 = 1.5002 x baseline -> grade 2 (v5), though below ULN
    assert grade_one("CREAT", 75.01, "ctcae-v5", uln=100, base=50)["grade"] == 2
    assert grade_one("CREAT", 75.0, "ctcae-v5", uln=100, base=50)["grade"] == 0
    # option: a value inside the normal range is grade 0
    r = grade_one("CREAT", 75.01, "ctcae-v5", uln=100, base=50, grade_within_normal_range=False)
    assert r["grade"] == 0
    # 150.01 = 3.0002 x baseline -> grade 3 (v5)
    assert grade_one("CREAT", 150.01, "ctcae-v5", uln=100, base=50)["grade"] == 3
    # > 6 x ULN -> grade 4
    assert grade_one("CREAT", 600.01, "ctcae-v5", uln=100, base=50)["grade"] == 4
