#!/usr/bin/env python3
"""Generate the synthetic example study ``examples/lanreotide-2005`` (radiotrial import format).

The study reconstructs the model study of ``shared/study/abstract.txt`` (hepatic intra-arterial
Y-90-DOTA-lanreotide, 23 patients, 36 treatments). Every record is *raw*: lesion diameters, lab
values with their units and reference ranges, marker values, symptom statuses and dates. The
abstract's results (WHO response, clinical and marker response, NCI CTC v2.0 toxicity,
Kaplan-Meier survival) are NOT written anywhere; they follow from these records. The explicit
per-subject design below (``DESIGN``) fixes what each subject should realise (e.g. an SPD ratio per
scan) and a seeded RNG fills in the rest (lesion sizes, lab values, times of day, activities).
After the assessment period, clinical follow-up visits every 90 +- 10 days (a separate seeded
stream per subject) run until death or the last known alive date, so that the protocol worklist
(``radiotrial schedule --as-of``) of any past date looks like the one the team saw.

Usage::

    python generate.py            # write the CSV files next to this script
    python generate.py --out DIR  # write them elsewhere
    python generate.py --check    # write, then verify every target number independently

The ``--check`` mode recomputes everything from the written CSV files with small independent
calculations (SPD per assessment, % changes, CTC v2.0 grades, Kaplan-Meier with lifelines) and
fails loudly if any target is missed or lies too close to a threshold.
Only the standard library and numpy are needed to generate; ``--check`` also uses lifelines.
"""

from __future__ import annotations

import argparse
import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20050301
#: Local time zone of the (synthetic) site; instants are written with their UTC offset.
TZ = ZoneInfo("Europe/Vienna")
#: Data cut-off: every record date lies in 2001-2004.
CUTOFF = date(2004, 12, 31)
#: Follow-up visits after the treatment/assessment period: every 90 +- 10 days (a study setting,
#: the abstract gives none; radiotrial's default protocol plans them every 90 +- 14 days).
FOLLOW_UP_DAYS = 90
FOLLOW_UP_JITTER = 10
#: A follow-up visit this close to a death from tumour progression records "worse" symptoms.
WORSE_BEFORE_DEATH_DAYS = 180
#: Y-90 half-life, ENSDF 64.05 h (shared/spec/dosimetry.md section 1.1).
Y90_HALF_LIFE_H = 64.05
LAMBDA_PER_H = math.log(2) / Y90_HALF_LIFE_H

# --------------------------------------------------------------------------------------------
# Explicit per-subject design
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    """One tumour marker of a subject: baseline as a multiple of ULN, later values as ratios."""

    name: str  # CgA or 5-HIAA
    baseline_x_uln: float
    ratios: tuple[float, ...]  # value / baseline at each post-baseline assessment visit


@dataclass(frozen=True)
class Subject:
    """What one subject is designed to realise (the data generator fills in the raw values)."""

    n: int  # subject number -> LAN-01-0nn
    sex: str
    age: int
    start: date  # first treatment (cycle 1) date, local = UTC date
    primary: str
    ps: int  # baseline ECOG
    cycles: int
    outcome: str  # designed WHO best response: PR / SD / PD / NE
    spd: tuple[float, ...] = ()  # SPD / baseline SPD at each post-baseline scan
    new_at: int | None = None  # index of the scan where a new liver lesion appears
    non_target: str | None = None  # organ of one non-target lesion
    visits: int | None = None  # post-baseline assessment visits (default: one per cycle)
    imaging: bool = True  # imaging at those visits
    clinical: tuple[str, ...] = ()  # symptom status at each post-baseline visit
    markers: tuple[Marker, ...] = ()
    os_days: int = 0  # first treatment -> death or last known alive
    dead: bool = False
    death_cause: str = ""
    embolised: tuple[int, ...] = ()  # cycles given with embolisation
    late_cycle: int | None = None  # cycle given 70 days after the previous one
    late_last_scan_day: int | None = None  # day of the last scan after its cycle (else 56-70)
    new_therapy_after_scan: int | None = None  # days after the PD scan a new therapy starts
    units: frozenset[str] = frozenset()  # non-canonical lab units used for this subject
    mri: bool = False
    cm: bool = False  # diameters recorded in cm


C = "CgA"
H = "5-HIAA"
# Lab unit choices per subject: g/L for haemoglobin, 10^3/uL for counts, mg/dL for bilirubin
# and creatinine (docs/import-format.md lists them as accepted units).
GL, K_UL, BMG, CMG = "HGB:g/L", "COUNTS:10^3/uL", "BILI:mg/dL", "CREAT:mg/dL"

DESIGN: tuple[Subject, ...] = (
    Subject(1, "M", 57, date(2001, 2, 12), "small intestine", 1, 2, "SD", spd=(0.86, 0.84),
            non_target="lymph node", clinical=("improved", "improved"),
            markers=(Marker(C, 6.0, (0.42, 0.33)),), os_days=428, dead=True,
            death_cause="tumour progression", embolised=(1,)),
    Subject(2, "F", 52, date(2001, 3, 26), "pancreas", 0, 2, "PR", spd=(0.40, 0.31),
            clinical=("improved", "improved"),
            markers=(Marker(C, 9.0, (0.45, 0.30)), Marker(H, 4.0, (0.44, 0.32))),
            os_days=1150, units=frozenset({GL})),
    Subject(3, "M", 64, date(2001, 5, 7), "small intestine", 2, 1, "PD", spd=(1.58,),
            non_target="peritoneum", clinical=("worse",),
            markers=(Marker(C, 12.0, (1.60,)), Marker(H, 8.0, (1.50,))), os_days=196, dead=True,
            death_cause="tumour progression", new_therapy_after_scan=21),
    Subject(4, "F", 61, date(2001, 6, 18), "unknown", 1, 1, "SD", spd=(1.06,),
            clinical=("stable",), markers=(Marker(C, 0.5, (0.9,)),), os_days=395, dead=True,
            death_cause="tumour progression", units=frozenset({K_UL})),
    Subject(5, "M", 66, date(2001, 8, 6), "pancreas", 2, 1, "NE", visits=0,
            markers=(Marker(C, 0.4, ()),), os_days=38, dead=True,
            death_cause="hepatic failure due to tumour progression", units=frozenset({GL})),
    Subject(6, "M", 48, date(2001, 9, 17), "small intestine", 0, 2, "SD", spd=(0.90, 0.88),
            non_target="liver", clinical=("stable", "improved"),
            markers=(Marker(H, 5.0, (0.40, 0.35)),), os_days=655, dead=True,
            death_cause="tumour progression", embolised=(2,), late_cycle=2),
    Subject(7, "F", 45, date(2001, 11, 5), "small intestine", 0, 3, "PR",
            spd=(0.40, 0.32, 0.28), clinical=("improved", "improved", "improved"),
            markers=(Marker(C, 15.0, (0.44, 0.30, 0.25)),), os_days=1000,
            embolised=(1, 2), mri=True),
    Subject(8, "M", 59, date(2002, 1, 14), "pancreas", 1, 2, "SD", spd=(0.97, 1.52),
            clinical=("improved", "worse"), markers=(Marker(C, 3.0, (0.85, 1.30)),),
            os_days=457, dead=True, death_cause="tumour progression",
            new_therapy_after_scan=25, units=frozenset({BMG, CMG})),
    Subject(9, "F", 68, date(2002, 2, 25), "pancreas", 2, 1, "PD", spd=(1.50,),
            clinical=("worse",), markers=(Marker(H, 6.0, (1.35,)),), os_days=112, dead=True,
            death_cause="tumour progression", embolised=(1,)),
    Subject(10, "M", 56, date(2002, 4, 8), "small intestine", 1, 3, "SD",
            spd=(0.88, 0.83, 0.85), non_target="lymph node",
            clinical=("improved", "stable", "stable"),
            markers=(Marker(C, 20.0, (0.40, 0.35, 0.38)),), os_days=910, dead=True,
            death_cause="tumour progression", cm=True, units=frozenset({K_UL})),
    Subject(11, "F", 34, date(2002, 5, 21), "rectum", 0, 1, "NE", visits=0,
            markers=(Marker(C, 0.6, ()),), os_days=36),
    Subject(12, "M", 62, date(2002, 7, 1), "small intestine", 1, 2, "SD", spd=(0.93, 0.95),
            clinical=("improved", "improved"), markers=(Marker(C, 7.0, (0.41, 0.36)),),
            os_days=780, dead=True, death_cause="tumour progression", late_last_scan_day=96,
            units=frozenset({GL, BMG})),
    Subject(13, "F", 53, date(2002, 8, 12), "small intestine", 0, 2, "PR", spd=(0.38, 0.30),
            clinical=("stable", "improved"), markers=(Marker(H, 10.0, (0.45, 0.30)),),
            os_days=850, embolised=(1, 2), units=frozenset({CMG})),
    Subject(14, "M", 65, date(2002, 9, 23), "unknown", 2, 1, "NE", imaging=False,
            clinical=("improved",), markers=(Marker(C, 4.0, (0.90,)),), os_days=170,
            dead=True, death_cause="tumour progression"),
    Subject(15, "M", 58, date(2002, 11, 4), "pancreas", 1, 2, "SD", spd=(1.04, 1.08),
            new_at=1, clinical=("stable", "worse"), markers=(Marker(H, 0.6, (0.8, 1.1)),),
            os_days=318, dead=True, death_cause="tumour progression",
            new_therapy_after_scan=28, units=frozenset({K_UL, BMG})),
    Subject(16, "F", 50, date(2003, 1, 13), "lung", 1, 1, "PD", spd=(1.03,), new_at=0,
            clinical=("improved",), markers=(Marker(C, 5.0, (1.20,)),), os_days=262, dead=True,
            death_cause="tumour progression", embolised=(1,), new_therapy_after_scan=30,
            units=frozenset({GL})),
    Subject(17, "M", 60, date(2003, 2, 24), "small intestine", 1, 2, "SD", spd=(0.84, 0.82),
            clinical=("improved", "stable"),
            markers=(Marker(C, 8.0, (0.45, 0.38)), Marker(H, 6.0, (0.43, 0.36))),
            os_days=540, dead=True, death_cause="cardiovascular, unrelated to the tumour",
            embolised=(2,), mri=True),
    Subject(18, "F", 69, date(2003, 4, 7), "unknown", 2, 1, "NE", visits=0, os_days=47,
            dead=True, death_cause="tumour progression", units=frozenset({CMG})),
    Subject(19, "M", 54, date(2003, 5, 5), "small intestine", 0, 2, "SD", spd=(1.05, 1.08),
            non_target="liver", clinical=("stable", "improved"),
            markers=(Marker(C, 4.5, (0.44, 0.33)),), os_days=600, cm=True),
    Subject(20, "F", 63, date(2003, 7, 14), "pancreas", 1, 1, "PD", spd=(1.10,), new_at=0,
            clinical=("worse",), os_days=335, dead=True, death_cause="tumour progression",
            units=frozenset({K_UL})),
    Subject(21, "M", 21, date(2003, 8, 18), "pancreas", 0, 1, "SD", spd=(0.92,),
            clinical=("improved",), os_days=500, embolised=(1,), units=frozenset({GL})),
    Subject(22, "F", 55, date(2003, 10, 20), "small intestine", 1, 1, "SD", spd=(1.08,),
            clinical=("improved",), markers=(Marker(C, 2.5, (1.10,)),), os_days=420,
            units=frozenset({K_UL})),
    Subject(23, "M", 41, date(2004, 3, 8), "unknown", 1, 1, "SD", spd=(0.98,),
            clinical=("stable",), markers=(Marker(C, 0.7, (0.8,)),), os_days=290,
            units=frozenset({BMG})),
)

#: Designed grade-3 haematological events (subject, cycle, analyte, canonical value) and the
#: recovery values measured at the next assessment visit. NCI CTC v2.0 grade 3 ranges
#: (shared/spec/response-and-toxicity.md section 3): PLAT 10-<50, WBC 1.0-<2.0, NEUT 0.5-<1.0,
#: Hb 6.5-<8.0 g/dL.
TOX_NADIR: dict[tuple[int, int], dict[str, float]] = {
    (7, 2): {"NEUT": 0.72, "WBC": 1.55, "LYMPH": 0.85, "PLAT": 96.0, "HGB": 10.9},
    (17, 2): {"PLAT": 33.0, "WBC": 3.4, "NEUT": 2.2, "LYMPH": 1.1, "HGB": 11.2},
    (21, 1): {"HGB": 7.2, "PLAT": 88.0, "WBC": 3.3, "NEUT": 2.1, "LYMPH": 1.05},
}
TOX_RECOVERY: dict[tuple[int, int], dict[str, float]] = {
    (7, 2): {"NEUT": 2.3, "WBC": 3.8, "LYMPH": 1.2, "PLAT": 142.0, "HGB": 11.3},
    (17, 2): {"PLAT": 131.0, "WBC": 4.4, "NEUT": 2.6, "LYMPH": 1.3, "HGB": 11.6},
    (21, 1): {"HGB": 10.6, "PLAT": 151.0, "WBC": 4.5, "NEUT": 2.8, "LYMPH": 1.4},
    (7, 3): {"HGB": 11.1, "PLAT": 168.0, "WBC": 4.6, "NEUT": 2.5, "LYMPH": 1.5},  # stays <= 1
}
#: Adverse-event terms recorded for the designed grade-3 events.
TOX_TERMS = {"NEUT": "Neutropenia", "WBC": "Leukopenia", "PLAT": "Thrombocytopenia",
             "HGB": "Anaemia"}

# Reference ranges (canonical units; typical adult laboratory ranges, synthetic site).
REF = {
    "HGB": {"M": (13.5, 17.5), "F": (12.0, 16.0)},  # g/dL
    "WBC": (4.0, 10.0), "NEUT": (2.0, 7.5), "LYMPH": (1.0, 4.0), "PLAT": (150.0, 400.0),
    "ALT": (10.0, 45.0), "AST": (10.0, 40.0), "ALP": (40.0, 130.0),  # U/L
    "BILI": (3.4, 20.5),  # umol/L
    "CREAT": {"M": (62.0, 106.0), "F": (44.0, 80.0)},  # umol/L
}
MARKER_UNIT = {C: ("ng/mL", 98.0), H: ("umol/24h", 47.0)}  # unit, ULN
BILI_MGDL = 17.104  # umol/L per mg/dL (docs/import-format.md)
CREAT_MGDL = 88.42  # umol/L per mg/dL (docs/import-format.md)
HAEM = ("HGB", "WBC", "NEUT", "LYMPH", "PLAT")
ANALYTES = HAEM + ("ALT", "AST", "ALP", "BILI", "CREAT")
ELIGIBILITY = (
    "histology_net", "liver_metastases_large_volume", "progression_within_6_months",
    "in111_pentetreotide_krenning_3_4_within_60_days", "ecog_0_2", "platelets_ge_100",
    "neutrophils_ge_1.5", "haemoglobin_ge_9", "bilirubin_le_2_uln", "creatinine_le_1.5_uln",
    "informed_consent",
)

# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------


def sid(n: int) -> str:
    """Pseudonymous subject code."""
    return f"LAN-01-{n:03d}"


def local_instant(d: date, minutes: int) -> datetime:
    """A Vienna local instant ``minutes`` after midnight of ``d`` (aware)."""
    return datetime.combine(d, time(0, 0), tzinfo=TZ) + timedelta(minutes=minutes)


def iso(dt: datetime, utc: bool = False) -> str:
    """ISO 8601 with an explicit UTC offset (``Z`` when ``utc``)."""
    if utc:
        return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return dt.isoformat(timespec="seconds")


def fmt(x: float, nd: int) -> str:
    """Fixed-point text of ``x`` (integers without a decimal point)."""
    return f"{x:.{nd}f}" if nd > 0 else str(round(x))


@dataclass
class Tables:
    """Rows of every CSV file, keyed by file stem."""

    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def add(self, table: str, /, **row: object) -> None:
        self.rows.setdefault(table, []).append(
            {k: "" if v is None else str(v) for k, v in row.items()})


@dataclass
class Visit:
    """A post-baseline assessment visit."""

    day: date
    cycle: int  # cycle it follows


def schedule(s: Subject, rng: np.random.Generator) -> tuple[list[date], list[Visit]]:
    """Cycle dates and assessment visits: cycles 57-60 days apart (one at 70), visits on day 56
    after each cycle (day 66 before a late cycle), the last one 56-70 days after its cycle."""
    cycles = [s.start]
    visits: list[Visit] = []
    nvis = s.cycles if s.visits is None else s.visits
    for k in range(1, s.cycles + 1):
        if k < s.cycles:
            late = s.late_cycle == k + 1
            gap = 70 if late else 56 + int(rng.integers(1, 5))
            if k <= nvis:
                visits.append(Visit(cycles[-1] + timedelta(days=66 if late else 56), k))
            cycles.append(cycles[-1] + timedelta(days=gap))
        elif k <= nvis:
            day = s.late_last_scan_day or 56 + int(rng.integers(0, 15))
            visits.append(Visit(cycles[-1] + timedelta(days=day), k))
    return cycles, visits


def build(rng: np.random.Generator) -> Tables:
    """All tables of the study, from ``DESIGN`` and ``rng``."""
    t = Tables()
    t.add("site", site_id="S01", name="Nuclear medicine department, synthetic site")
    net = rng.uniform(0.78, 1.22, size=sum(s.cycles for s in DESIGN))
    net = np.round(net - np.median(net) + 0.985, 3)  # median administered activity ~1 GBq
    net_iter = iter(net.tolist())
    for s in DESIGN:
        build_subject(t, s, rng, net_iter)
    return t


def build_subject(t: Tables, s: Subject, rng: np.random.Generator, net_iter: Iterator[float]) -> None:
    """Append every record of one subject."""
    code = sid(s.n)
    cycles, visits = schedule(s, rng)
    enrol = s.start - timedelta(days=int(rng.integers(4, 10)))
    screen = enrol - timedelta(days=int(rng.integers(1, 5)))
    ct0 = s.start - timedelta(days=int(rng.integers(10, 25)))
    scint = s.start - timedelta(days=int(rng.integers(20, 46)))
    # documented progression within 6 months before entry (and not before 2001)
    hi = min(151, (enrol - date(2001, 1, 1)).days)
    progression = enrol - timedelta(days=int(rng.integers(30, hi)))
    end = s.start + timedelta(days=s.os_days)
    assert end <= CUTOFF, (code, end)

    t.add("subject", subject_id=code, site_id="S01", sex=s.sex, age=s.age,
          enrolment_date=enrol, histology="neuroendocrine tumour", primary_site=s.primary,
          liver_metastases="true", progression_date=progression, performance_status=s.ps)
    for crit in ELIGIBILITY:
        t.add("eligibility", subject_id=code, criterion=crit, met="true", assessed_date=enrol,
              note="")
    tumour = int(rng.integers(350, 1200))
    normal = int(tumour / rng.uniform(2.5, 6.0))
    t.add("scintigraphy", subject_id=code, tracer="In-111 pentetreotide", scan_date=scint,
          uptake_grade=int(rng.choice([3, 4], p=[0.35, 0.65])), tumour_counts=tumour,
          normal_liver_counts=normal, lung_shunt_fraction="")

    administrations(t, s, code, cycles, rng, net_iter)
    imaging(t, s, code, ct0, visits, rng)
    nadir_days = labs(t, s, code, screen, cycles, visits, rng)
    markers_and_clinical(t, s, code, enrol, screen, visits, rng)
    # own seeded stream per subject: the visits do not shift any other drawn value
    follow_up_visits(t, s, code, cycles, visits, np.random.default_rng((SEED, s.n)))
    adverse_events(t, s, code, cycles, visits, nadir_days, rng)

    new_therapy = None
    if s.new_therapy_after_scan is not None:
        new_therapy = visits[-1].day + timedelta(days=s.new_therapy_after_scan)
        assert new_therapy < end
    t.add("follow_up", subject_id=code, last_known_alive_date=end,
          death_date=end if s.dead else None, death_cause=s.death_cause if s.dead else None,
          new_therapy_date=new_therapy)
    disposition(t, s, code, visits, end)


#: Subject who withdrew consent after the day-28 blood count (end of treatment and of study on
#: the last contact; nothing is recorded after it).
WITHDRAWN = 11


def disposition(t: Tables, s: Subject, code: str, visits: list[Visit], end: date) -> None:
    """End of treatment for every subject (none is on treatment at the cut-off), end of study for
    the withdrawal; no random draw, so no other value moves.

    Reason and date of the end of treatment: death before any assessment -> ``death`` on the
    death date; documented progression (the design's PD scan, or the PD scan that preceded a new
    therapy) -> ``progressive disease`` on that scan; otherwise the decision at the assessment
    after the last cycle: ``completed`` after 2-3 cycles (the planned course), ``physician
    decision`` after a single cycle.
    """
    if s.n == WITHDRAWN:
        for event in ("end of treatment", "end of study"):
            t.add("disposition", subject_id=code, event=event, date=end,
                  reason="withdrawal by subject", note="consent withdrawn")
        return
    if not visits:
        assert s.dead, code
        day, reason = end, "death"
    elif s.outcome == "PD" or s.new_therapy_after_scan is not None:
        day, reason = visits[-1].day, "progressive disease"
    else:
        day, reason = visits[-1].day, "completed" if s.cycles > 1 else "physician decision"
    t.add("disposition", subject_id=code, event="end of treatment", date=day, reason=reason,
          note="")


def administrations(t: Tables, s: Subject, code: str, cycles: list[date],
                    rng: np.random.Generator, net_iter: Iterator[float]) -> None:
    """Calibrated activity at a calibration instant 1-2 h before injection, residual 1-4 %
    measured 20-60 min after injection; net administered activity drawn around 1 GBq."""
    mbq = s.n in (4, 12, 19)
    liver = round(float(rng.uniform(1.9, 3.0)), 2)
    tumour_kg = round(float(rng.uniform(0.35, 1.3)), 2)
    for k, d in enumerate(cycles, start=1):
        inj = local_instant(d, int(rng.integers(9 * 60, 12 * 60 + 30)))
        cal = inj - timedelta(minutes=int(rng.integers(60, 121)))
        res = inj + timedelta(minutes=int(rng.integers(20, 61)))
        a_net = next(net_iter)
        frac = float(rng.uniform(0.01, 0.04))
        a_inj = a_net / (1.0 - frac)
        a_cal = a_inj * math.exp(LAMBDA_PER_H * (inj - cal).total_seconds() / 3600)
        a_res = frac * a_inj * math.exp(-LAMBDA_PER_H * (res - inj).total_seconds() / 3600)
        emb = k in s.embolised
        scale, nd, ndr = (1000.0, 0, 1) if mbq else (1.0, 3, 4)
        t.add("administration", subject_id=code, cycle=k, admin_instant=iso(inj),
              radiopharmaceutical="Y-90-DOTA-lanreotide", nuclide="Y-90",
              calibrated_activity=fmt(a_cal * scale, nd),
              calibration_instant=iso(cal, utc=s.n % 3 == 0),
              residual_activity=fmt(a_res * scale, ndr), residual_instant=iso(res),
              activity_unit="MBq" if mbq else "GBq", route="intra-arterial hepatic",
              embolisation="true" if emb else "false",
              embolisation_agent="gelatin sponge particles" if emb else None,
              liver_mass_kg=liver, tumour_mass_kg=tumour_kg)


def imaging(t: Tables, s: Subject, code: str, ct0: date, visits: list[Visit],
            rng: np.random.Generator) -> None:
    """Bidimensional liver target lesions; each scan scales every lesion's product by the
    designed SPD ratio (with +-2 % lesion-level noise), diameters rounded to whole mm."""
    method = "MRI" if s.mri else "CT"
    n_target = int(rng.integers(2, 5))
    base = []
    for i in range(n_target):
        ld = float(rng.uniform(38, 95))
        base.append((ld, ld * float(rng.uniform(0.7, 0.92))))
        t.add("lesion", subject_id=code, lesion_id=f"T{i + 1:02d}", organ="liver",
              role="target", nodal="false", method=method)
    nt_base = None
    if s.non_target:
        nodal = s.non_target == "lymph node"
        t.add("lesion", subject_id=code, lesion_id="NT01", organ=s.non_target,
              role="non-target", nodal="true" if nodal else "false", method=method)
        ld = float(rng.uniform(16, 26))
        nt_base = (ld, ld * 0.75)
    scans = [(ct0, 1.0)]
    if s.imaging:
        scans += [(v.day, r) for v, r in zip(visits, s.spd, strict=True)]
    unit = "cm" if s.cm else "mm"

    def put(lesion: str, d: date, ld: float, pd_: float, nodal: bool = False) -> None:
        ld_mm, pd_mm = round(ld), round(pd_)
        pd_mm = min(pd_mm, ld_mm)
        conv = (lambda v: fmt(v / 10, 1)) if s.cm else (lambda v: str(v))
        t.add("measurement", subject_id=code, lesion_id=lesion, assessment_date=d,
              longest_diameter=conv(ld_mm), perpendicular_diameter=conv(pd_mm),
              short_axis=conv(pd_mm) if nodal else None, unit=unit, state="present")

    for j, (d, ratio) in enumerate(scans):
        for i, (ld, pd_) in enumerate(base):
            f = 1.0 if j == 0 else math.sqrt(ratio * float(np.exp(rng.normal(0, 0.01))))
            put(f"T{i + 1:02d}", d, ld * f, pd_ * f)
        if nt_base is not None:
            f = 1.0 if j == 0 else math.sqrt(ratio)
            put("NT01", d, nt_base[0] * f, nt_base[1] * f, nodal=s.non_target == "lymph node")
        new = s.new_at is not None and j >= 1 and j - 1 >= s.new_at
        if new:
            if j - 1 == s.new_at:
                t.add("lesion", subject_id=code, lesion_id="NEW01", organ="liver", role="new",
                      nodal="false", method=method)
            ld = float(rng.uniform(15, 22))
            put("NEW01", d, ld, ld * 0.8)
        t.add("tumour_assessment", subject_id=code, assessment_date=d, modality=method,
              non_target_status="non-CR/non-PD" if nt_base is not None else None,
              new_lesions="true" if new else "false", reader="R1")


def lab_row(t: Tables, s: Subject, code: str, instant: datetime, analyte: str,
            value: float) -> None:
    """One lab result, converted from canonical to the subject's reporting unit."""
    ref = REF[analyte]
    lln, uln = ref[s.sex] if isinstance(ref, dict) else ref
    unit, factor, nd = {
        "HGB": ("g/dL", 1.0, 1), "WBC": ("10^9/L", 1.0, 2), "NEUT": ("10^9/L", 1.0, 2),
        "LYMPH": ("10^9/L", 1.0, 2), "PLAT": ("10^9/L", 1.0, 0), "ALT": ("U/L", 1.0, 0),
        "AST": ("U/L", 1.0, 0), "ALP": ("U/L", 1.0, 0), "BILI": ("umol/L", 1.0, 1),
        "CREAT": ("umol/L", 1.0, 0),
    }[analyte]
    if analyte == "HGB" and GL in s.units:
        unit, factor, nd = "g/L", 10.0, 0
    if analyte in ("WBC", "NEUT", "LYMPH", "PLAT") and K_UL in s.units:
        unit = "10^3/uL"
    if analyte == "BILI" and BMG in s.units:
        unit, factor, nd = "mg/dL", 1 / BILI_MGDL, 2
    if analyte == "CREAT" and CMG in s.units:
        unit, factor, nd = "mg/dL", 1 / CREAT_MGDL, 2
    ndr = nd if analyte != "PLAT" else 0
    t.add("lab", subject_id=code, instant=iso(instant), analyte=analyte,
          value=fmt(value * factor, nd), unit=unit, lln=fmt(lln * factor, ndr),
          uln=fmt(uln * factor, ndr))


def labs(t: Tables, s: Subject, code: str, screen: date, cycles: list[date],
         visits: list[Visit], rng: np.random.Generator) -> dict[int, date]:
    """Screening labs meeting eligibility; a nadir check 27-33 days after each cycle (counts
    fall to 45-90 % of baseline, never below CTC v2.0 grade 2 except the designed grade-3 events
    of ``TOX_NADIR``); labs at each assessment visit, i.e. before the next cycle (recovered to
grade <= 1: 92-103 % of baseline, or ``TOX_RECOVERY``); liver tests mildly
    abnormal (large-volume liver metastases), creatinine normal. Returns the nadir-check dates."""
    hgb_lln = REF["HGB"][s.sex][0]
    base = {
        "HGB": float(rng.uniform(hgb_lln - 1.0, hgb_lln + 1.5)),
        "WBC": float(rng.uniform(4.6, 8.0)), "NEUT": float(rng.uniform(2.6, 5.2)),
        "LYMPH": float(rng.uniform(1.3, 2.6)), "PLAT": float(rng.uniform(165, 320)),
    }
    liver_x = {"ALT": rng.uniform(0.8, 1.9), "AST": rng.uniform(0.8, 1.9),
               "ALP": rng.uniform(1.1, 2.0), "BILI": rng.uniform(0.4, 1.2),
               "CREAT": rng.uniform(0.55, 0.9)}
    floors = {"HGB": 9.0, "WBC": 2.5, "NEUT": 1.25, "LYMPH": 0.7, "PLAT": 62.0}
    caps = {"ALT": 2.2, "AST": 2.2, "ALP": 2.3, "BILI": 1.35, "CREAT": 1.0}
    nadir_f = {"HGB": (0.88, 0.98), "WBC": (0.55, 0.9), "NEUT": (0.5, 0.9),
               "LYMPH": (0.5, 0.85), "PLAT": (0.45, 0.85)}

    def panel(instant: datetime, kind: str, key: tuple[int, int] | None) -> None:
        for a in ANALYTES:
            if a in HAEM:
                if kind == "base":
                    v = base[a]
                elif kind == "nadir":
                    v = max(base[a] * float(rng.uniform(*nadir_f[a])), floors[a])
                else:
                    v = base[a] * float(rng.uniform(0.92, 1.03))
                if kind == "nadir" and key in TOX_NADIR:
                    v = TOX_NADIR[key][a]
                if kind == "visit" and key in TOX_RECOVERY:
                    v = TOX_RECOVERY[key][a]
            else:
                ref = REF[a]
                uln = (ref[s.sex] if isinstance(ref, dict) else ref)[1]
                x = liver_x[a] if kind == "base" else liver_x[a] * float(rng.uniform(0.9, 1.12))
                v = uln * min(float(x), caps[a])
            lab_row(t, s, code, instant, a, v)

    panel(local_instant(screen, int(rng.integers(7 * 60, 10 * 60))), "base", None)
    end = s.start + timedelta(days=s.os_days)
    nadir_days: dict[int, date] = {}
    for k, d in enumerate(cycles, start=1):
        nadir_day = d + timedelta(days=int(rng.integers(27, 34)))
        if nadir_day < end:
            nadir_days[k] = nadir_day
            panel(local_instant(nadir_day, int(rng.integers(7 * 60, 10 * 60))), "nadir", (s.n, k))
    for v in visits:
        panel(local_instant(v.day, int(rng.integers(7 * 60, 9 * 60))), "visit", (s.n, v.cycle))
    return nadir_days


def visit_ps(baseline: int, status: str) -> int:
    """ECOG at a visit: one point better when improved, one worse when worse (0-3)."""
    return {"improved": max(baseline - 1, 0), "stable": baseline,
            "worse": min(baseline + 1, 3)}[status]


def markers_and_clinical(t: Tables, s: Subject, code: str, enrol: date, screen: date,
                         visits: list[Visit], rng: np.random.Generator) -> None:
    """Markers at screening and at each visit; symptoms at enrolment (empty status) and at
    each visit, with the designed status."""
    for m in s.markers:
        unit, uln = MARKER_UNIT[m.name]
        b = m.baseline_x_uln * uln
        t.add("marker", subject_id=code, marker=m.name, sample_date=screen,
              value=fmt(b, 1), unit=unit, uln=fmt(uln, 0))
        for v, r in zip(visits, m.ratios, strict=True):
            t.add("marker", subject_id=code, marker=m.name, sample_date=v.day,
                  value=fmt(b * r, 1), unit=unit, uln=fmt(uln, 0))
    t.add("clinical", subject_id=code, assessment_date=enrol, symptom_status=None,
          performance_status=s.ps, notes="baseline: flushing, diarrhoea or hepatic pain")
    for v, status in zip(visits, s.clinical, strict=True):
        ps = visit_ps(s.ps, status)
        t.add("clinical", subject_id=code, assessment_date=v.day, symptom_status=status,
              performance_status=ps, notes="")


def follow_up_dates(s: Subject, cycles: list[date], visits: list[Visit],
                    rng: np.random.Generator) -> list[date]:
    """Follow-up visit dates: every ``FOLLOW_UP_DAYS`` +- ``FOLLOW_UP_JITTER`` days (seeded) after
    the last assessment visit (or the planned one, day 56 after the last cycle, when there is
    none), strictly before death or on/before the last known alive date."""
    end = s.start + timedelta(days=s.os_days)
    d = visits[-1].day if visits else cycles[-1] + timedelta(days=56)
    out: list[date] = []
    while True:
        d += timedelta(days=FOLLOW_UP_DAYS + int(rng.integers(-FOLLOW_UP_JITTER,
                                                               FOLLOW_UP_JITTER + 1)))
        if d > end or (s.dead and d == end):
            return out
        out.append(d)


def follow_up_visits(t: Tables, s: Subject, code: str, cycles: list[date], visits: list[Visit],
                     rng: np.random.Generator) -> None:
    """Clinical follow-up visits after the assessment period (no imaging, labs or markers):
    symptoms ``worse`` once the subject has progressed (designed PD, or a new therapy after a
    PD scan) or within ``WORSE_BEFORE_DEATH_DAYS`` of a death from tumour progression, else
    ``stable``; the performance status stays as at the last visit; no notes."""
    ps = visit_ps(s.ps, s.clinical[len(visits) - 1]) if visits and s.clinical else s.ps
    progressed = s.outcome == "PD" or s.new_therapy_after_scan is not None
    tumour_death = s.dead and "tumour progression" in s.death_cause
    death = s.start + timedelta(days=s.os_days)
    for d in follow_up_dates(s, cycles, visits, rng):
        near = tumour_death and (death - d).days <= WORSE_BEFORE_DEATH_DAYS
        t.add("clinical", subject_id=code, assessment_date=d,
              symptom_status="worse" if progressed or near else "stable",
              performance_status=ps, notes="")


def adverse_events(t: Tables, s: Subject, code: str, cycles: list[date], visits: list[Visit],
                   nadir_days: dict[int, date], rng: np.random.Generator) -> None:
    """Low-grade peri-procedural events (grade <= 2) and the designed grade-3 blood events."""
    end = s.start + timedelta(days=s.os_days)
    for k, d in enumerate(cycles, start=1):
        if k in s.embolised:
            t.add("adverse_event", subject_id=code, term="Abdominal pain", grade=2, start_date=d,
                  end_date=d + timedelta(days=4), serious="false", attribution="probable")
            t.add("adverse_event", subject_id=code, term="Fever", grade=1,
                  start_date=d + timedelta(days=1), end_date=d + timedelta(days=3),
                  serious="false", attribution="probable")
        if rng.uniform() < 0.5:
            t.add("adverse_event", subject_id=code, term="Nausea", grade=1, start_date=d,
                  end_date=d + timedelta(days=2), serious="false", attribution="possible")
        if rng.uniform() < 0.3 and d + timedelta(days=15) < end:
            t.add("adverse_event", subject_id=code, term="Fatigue", grade=1,
                  start_date=d + timedelta(days=3), end_date=d + timedelta(days=15),
                  serious="false", attribution="possible")
        if (s.n, k) in TOX_NADIR:
            recovery = next(v.day for v in visits if v.cycle == k)
            for a, term in TOX_TERMS.items():
                if a in grade3_analytes(TOX_NADIR[(s.n, k)]):
                    t.add("adverse_event", subject_id=code, term=term, grade=3,
                          start_date=nadir_days[k], end_date=recovery,
                          serious="false", attribution="definite")


def grade3_analytes(values: dict[str, float]) -> set[str]:
    """Analytes of a designed nadir that sit in the CTC v2.0 grade-3 range."""
    g3 = {"HGB": (6.5, 8.0), "WBC": (1.0, 2.0), "NEUT": (0.5, 1.0), "PLAT": (10.0, 50.0)}
    return {a for a, (lo, hi) in g3.items() if lo <= values.get(a, 99) < hi}


COLUMNS = {
    "site": ["site_id", "name"],
    "subject": ["subject_id", "site_id", "sex", "age", "enrolment_date", "histology",
                "primary_site", "liver_metastases", "progression_date", "performance_status"],
    "eligibility": ["subject_id", "criterion", "met", "assessed_date", "note"],
    "scintigraphy": ["subject_id", "tracer", "scan_date", "uptake_grade", "tumour_counts",
                     "normal_liver_counts", "lung_shunt_fraction"],
    "administration": ["subject_id", "cycle", "admin_instant", "radiopharmaceutical", "nuclide",
                       "calibrated_activity", "calibration_instant", "residual_activity",
                       "residual_instant", "activity_unit", "route", "embolisation",
                       "embolisation_agent", "liver_mass_kg", "tumour_mass_kg"],
    "lesion": ["subject_id", "lesion_id", "organ", "role", "nodal", "method"],
    "measurement": ["subject_id", "lesion_id", "assessment_date", "longest_diameter",
                    "perpendicular_diameter", "short_axis", "unit", "state"],
    "tumour_assessment": ["subject_id", "assessment_date", "modality", "non_target_status",
                          "new_lesions", "reader"],
    "lab": ["subject_id", "instant", "analyte", "value", "unit", "lln", "uln"],
    "marker": ["subject_id", "marker", "sample_date", "value", "unit", "uln"],
    "clinical": ["subject_id", "assessment_date", "symptom_status", "performance_status",
                 "notes"],
    "adverse_event": ["subject_id", "term", "grade", "start_date", "end_date", "serious",
                      "attribution"],
    "follow_up": ["subject_id", "last_known_alive_date", "death_date", "death_cause",
                  "new_therapy_date"],
    "disposition": ["subject_id", "event", "date", "reason", "note"],
}


def write(tables: Tables, out: Path) -> None:
    """Write one CSV per record type (header always present)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, cols in COLUMNS.items():
        with open(out / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
            w.writeheader()
            for row in tables.rows.get(name, []):
                assert set(row) == set(cols), (name, set(row) ^ set(cols))
                w.writerow(row)


def generate(out: Path = HERE) -> None:
    """Generate the study folder's CSV files into ``out`` (deterministic)."""
    write(build(np.random.default_rng(SEED)), out)


def main() -> None:
    """Command line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    p.add_argument("--check", action="store_true", help="verify every target number")
    a = p.parse_args()
    generate(a.out)
    print(f"wrote CSV files to {a.out}")
    if a.check:
        import check_design  # local module next to this script

        check_design.main(a.out)


if __name__ == "__main__":
    main()
