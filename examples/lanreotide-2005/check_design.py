"""Independent verification of the example study (``python generate.py --check``).

Reads the written CSV files back (plain ``csv``; nothing from radiotrial or from the generator's
design) and recomputes every number the abstract reports, with margins away from every
threshold so that any correct implementation of the protocol agrees:

* WHO response (sum of products of bidimensional diameters; PR <= -50 % from baseline confirmed
  >= 28 days later; PD >= +25 % over nadir or new lesions; SD needs >= 42 days from treatment
  start): PR 3, SD 12, PD 4, NE 4 -- also under the variants ``pd_reference=baseline``,
  ``pd_scope=any_lesion``, non-target lesions added to the sum, out-of-window scans dropped, and
  minor response (-25 % .. -50 %) as a category.
* Clinical improvement 14/23; markers elevated 15, >= 50 % decrease 9.
* NCI CTC v2.0 haematological grade >= 3 in exactly 3 subjects, all recovering to grade <= 1.
* Kaplan-Meier (lifelines) 1-year survival rounding to 63 %, median rounding to 15 months.
"""

from __future__ import annotations

import csv
import itertools
import re
import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

MONTH = 365.25 / 12


def read(folder: Path, name: str) -> list[dict[str, str]]:
    """Rows of one CSV file."""
    with open(folder / f"{name}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def d(s: str) -> date:
    """Parse a date."""
    return date.fromisoformat(s)


def utc_date(s: str) -> date:
    """UTC date of an instant with offset."""
    dt = datetime.fromisoformat(s)
    assert dt.tzinfo is not None, s
    return (dt - dt.utcoffset()).date()


def start_dates(folder: Path) -> dict[str, date]:
    """Treatment start = UTC date of cycle 1."""
    return {r["subject_id"]: utc_date(r["admin_instant"]) for r in read(folder, "administration")
            if r["cycle"] == "1"}


# ---------------------------------------------------------------- response (WHO)


def scans(folder: Path, include_non_target: bool = False) -> dict[str, list[dict]]:
    """Per subject, per scan date: SPD, per-lesion products, new-lesion flag."""
    role = {(r["subject_id"], r["lesion_id"]): r["role"] for r in read(folder, "lesion")}
    prod: dict[tuple[str, date], dict[str, float]] = defaultdict(dict)
    for r in read(folder, "measurement"):
        k = role[(r["subject_id"], r["lesion_id"])]
        if k == "target" or (include_non_target and k == "non-target"):
            f = 10.0 if r["unit"] == "cm" else 1.0
            assert r["state"] == "present"
            p = float(r["longest_diameter"]) * f * float(r["perpendicular_diameter"]) * f
            prod[(r["subject_id"], d(r["assessment_date"]))][r["lesion_id"]] = p
    new = {(r["subject_id"], d(r["assessment_date"])): r["new_lesions"] == "true"
           for r in read(folder, "tumour_assessment")}
    for r in read(folder, "measurement"):
        if role[(r["subject_id"], r["lesion_id"])] == "new":
            assert new[(r["subject_id"], d(r["assessment_date"]))]
    out: dict[str, list[dict]] = defaultdict(list)
    for (s, day), lesions in sorted(prod.items()):
        out[s].append({"date": day, "spd": sum(lesions.values()), "lesions": lesions,
                       "new": new[(s, day)]})
    return out


def who_bor(folder: Path, pd_reference: str = "nadir", pd_scope: str = "sum",
            include_non_target: bool = False, window_only: bool = False,
            minor_response: bool = False) -> tuple[dict[str, str], list[str]]:
    """Best overall response per subject under one reading of WHO, and margin violations."""
    start = start_dates(folder)
    admins = defaultdict(list)
    for r in read(folder, "administration"):
        admins[r["subject_id"]].append(utc_date(r["admin_instant"]))
    sc = scans(folder, include_non_target)
    bor, issues = {}, []
    for s in start:
        rows = sc.get(s, [])
        base = [x for x in rows if x["date"] <= start[s]]
        post = [x for x in rows if x["date"] > start[s]]
        if window_only:
            post = [x for x in post
                    if 56 <= (x["date"] - max(a for a in admins[s] if a < x["date"])).days <= 84]
        if not base or not post:
            bor[s] = "NE"
            continue
        b = base[-1]
        nadir_spd, nadir_les = b["spd"], dict(b["lesions"])
        tps = []
        for x in post:
            ref = nadir_spd if pd_reference == "nadir" else b["spd"]
            ch_base = x["spd"] / b["spd"] - 1
            ch_ref = x["spd"] / ref - 1
            les_ref = nadir_les if pd_reference == "nadir" else b["lesions"]
            les_max = max(x["lesions"][k] / les_ref[k] - 1 for k in b["lesions"])
            sum_pd, les_pd = ch_ref >= 0.25, les_max >= 0.25
            is_pd = x["new"] or {"sum": sum_pd, "any_lesion": les_pd,
                                 "either": sum_pd or les_pd}[pd_scope]
            if is_pd:
                tp = "PD"
                if not x["new"] and min(ch_ref, les_max) < 0.40 and sum_pd:
                    issues.append(f"{s} {x['date']}: PD by {ch_ref:+.1%} only")
            elif ch_base <= -0.5:
                tp = "PR"
                if ch_base > -0.55:
                    issues.append(f"{s} {x['date']}: PR at {ch_base:+.1%}")
            else:
                tp = "MR" if minor_response and ch_base <= -0.25 else "SD"
                if not (-0.25 < ch_base < 0.15 and ch_ref < 0.15 and les_max < 0.18):
                    issues.append(f"{s} {x['date']}: SD near a threshold {ch_base:+.1%} "
                                  f"ref {ch_ref:+.1%} lesion {les_max:+.1%}")
            tps.append((x["date"], tp))
            nadir_spd = min(nadir_spd, x["spd"])
            nadir_les = {k: min(v, x["lesions"][k]) for k, v in nadir_les.items()}
            if tp == "PD":
                break
        # confirmed PR: a PR followed >= 28 days later by another PR, no PD in between
        confirmed = any(t1 == "PR" and any(t2 == "PR" and (d2 - d1).days >= 28
                                           for d2, t2 in tps if d2 > d1)
                        for d1, t1 in tps)
        sd_ok = any(t in ("PR", "SD", "MR") and (dd - start[s]).days >= 42 for dd, t in tps)
        if confirmed:
            bor[s] = "PR"
        elif sd_ok:
            bor[s] = "SD"
        elif any(t == "PD" for _, t in tps):
            bor[s] = "PD"
        else:
            bor[s] = "NE"
        if any(t in ("PR", "SD") and 0 < (dd - start[s]).days < 49 for dd, t in tps):
            issues.append(f"{s}: assessment within a week of the SD minimum")
    return bor, issues


# ---------------------------------------------------------------- labs (CTC v2.0)

HGB_UNIT = {"g/dL": 1.0, "g/L": 0.1, "mmol/L": 1 / 0.6206}
COUNT_UNIT = {"10^9/L": 1.0, "10^3/uL": 1.0, "/mm3": 1e-3, "cells/uL": 1e-3}
CHEM_UNIT = {"BILI": {"umol/L": 1.0, "mg/dL": 17.104}, "CREAT": {"umol/L": 1.0, "mg/dL": 88.42}}


def canonical(r: dict[str, str]) -> tuple[float, float | None, float | None]:
    """(value, lln, uln) in the canonical unit of the analyte (docs/import-format.md)."""
    a, u = r["analyte"], r["unit"]
    if a == "HGB":
        f = HGB_UNIT[u]
    elif a in ("WBC", "NEUT", "LYMPH", "PLAT"):
        f = COUNT_UNIT[u]
    elif a in CHEM_UNIT:
        f = CHEM_UNIT[a][u]
    else:
        assert u in ("U/L", "IU/L"), u
        f = 1.0
    num = [float(r[k]) * f if r[k] else None for k in ("value", "lln", "uln")]
    return num[0], num[1], num[2]


def ctc2_grade(a: str, v: float, lln: float | None, uln: float | None) -> int:
    """NCI CTC v2.0 grade (shared/spec/response-and-toxicity.md section 3)."""
    low = {  # grade-4/3/2/1 lower limits (value < limit -> that grade), grade 1 below LLN
        "HGB": (6.5, 8.0, 10.0), "WBC": (1.0, 2.0, 3.0), "NEUT": (0.5, 1.0, 1.5),
        "PLAT": (10.0, 50.0, 75.0), "LYMPH": (-1.0, 0.5, 1.0)}
    if a in low:
        g4, g3, g2 = low[a]
        if v < g4:
            return 4
        if v < g3:
            return 3
        if v < g2:
            return 2
        if a == "NEUT":
            return 1 if v < 2.0 else 0
        return 1 if lln is not None and v < lln else 0
    mult = {"ALT": (2.5, 5, 20), "AST": (2.5, 5, 20), "ALP": (2.5, 5, 20),
            "BILI": (1.5, 3, 10), "CREAT": (1.5, 3, 6)}[a]
    x = v / uln
    return 4 if x > mult[2] else 3 if x > mult[1] else 2 if x > mult[0] else 1 if x > 1 else 0


# ---------------------------------------------------------------- survival


def km(times: list[float], events: list[int]) -> list[tuple[float, float]]:
    """Own Kaplan-Meier: (time, S after time) at each event time."""
    out, s = [], 1.0
    for t in sorted({t for t, e in zip(times, events, strict=False) if e}):
        n = sum(1 for x in times if x >= t)
        dd = sum(1 for x, e in zip(times, events, strict=False) if x == t and e)
        s *= 1 - dd / n
        out.append((t, s))
    return out


def os_data(folder: Path) -> tuple[list[float], list[int]]:
    """Overall survival in days from first treatment; death = event."""
    start = start_dates(folder)
    t, e = [], []
    for r in read(folder, "follow_up"):
        end = d(r["death_date"] or r["last_known_alive_date"])
        t.append(float((end - start[r["subject_id"]]).days))
        e.append(1 if r["death_date"] else 0)
    return t, e


# ---------------------------------------------------------------- all checks


def run_checks(folder: Path) -> list[str]:
    """Every check; returns the failures (empty = all targets met with margin)."""
    fail: list[str] = []

    def need(ok: bool, msg: str) -> None:
        if not ok:
            fail.append(msg)

    subj = read(folder, "subject")
    ages = [int(r["age"]) for r in subj]
    need(len(subj) == 23, f"subjects {len(subj)}")
    need(sum(r["sex"] == "M" for r in subj) == 13, "13 men")
    need((min(ages), max(ages), statistics.median(ages)) == (21, 69, 57), f"ages {ages}")
    need(all(re.fullmatch(r"LAN-01-\d{3}", r["subject_id"]) for r in subj), "codes")
    need(all(0 <= int(r["performance_status"]) <= 2 for r in subj), "ECOG 0-2")
    start = start_dates(folder)
    enrol = {r["subject_id"]: d(r["enrolment_date"]) for r in subj}
    for r in subj:
        gap = (enrol[r["subject_id"]] - d(r["progression_date"])).days
        need(0 < gap <= 183, f"{r['subject_id']} progression {gap} d before entry")

    # administrations
    adm = read(folder, "administration")
    need(len(adm) == 36, f"administrations {len(adm)}")
    per = defaultdict(list)
    for r in adm:
        per[r["subject_id"]].append(r)
    dist = sorted(len(v) for v in per.values())
    need(dist.count(1) == 12 and dist.count(2) == 9 and dist.count(3) == 2, f"cycles {dist}")
    gaps = []
    for rows in per.values():
        ds = [utc_date(r["admin_instant"]) for r in sorted(rows, key=lambda r: int(r["cycle"]))]
        gaps += [(b - a).days for a, b in itertools.pairwise(ds)]
    off = [g for g in gaps if abs(g - 56) > 7]
    need(off == [70], f"cycle intervals off 56+-7: {off}")
    lam = 0.6931471805599453 / 64.05
    net, cal_a = [], []
    for r in adm:
        f = 1e-3 if r["activity_unit"] == "MBq" else 1.0
        inj = datetime.fromisoformat(r["admin_instant"])
        cal = datetime.fromisoformat(r["calibration_instant"])
        res = datetime.fromisoformat(r["residual_instant"])
        need(cal < inj < res, f"instants order {r['subject_id']}")
        a_inj = float(r["calibrated_activity"]) * f * 2.718281828459045 ** (
            -lam * (inj - cal).total_seconds() / 3600)
        r_inj = float(r["residual_activity"]) * f * 2.718281828459045 ** (
            lam * (res - inj).total_seconds() / 3600)
        need(r_inj < a_inj, "residual above calibrated")
        net.append(a_inj - r_inj)
        cal_a.append(float(r["calibrated_activity"]) * f)
    need(0.96 <= statistics.median(net) <= 1.04, f"median administered {statistics.median(net)}")
    need(0.96 <= statistics.median(cal_a) <= 1.04, f"median calibrated {statistics.median(cal_a)}")

    # eligibility: scintigraphy, baseline labs
    for r in read(folder, "scintigraphy"):
        gap = (start[r["subject_id"]] - d(r["scan_date"])).days
        need(0 < gap <= 60 and r["uptake_grade"] in ("3", "4"), f"scintigraphy {r}")
    need(all(r["met"] == "true" for r in read(folder, "eligibility")), "eligibility met")
    labs = defaultdict(list)
    for r in read(folder, "lab"):
        v, lo, hi = canonical(r)
        labs[r["subject_id"]].append((utc_date(r["instant"]), r["analyte"], v, lo, hi))
    elig = {"PLAT": lambda v, lo, hi: v >= 100, "NEUT": lambda v, lo, hi: v >= 1.5,
            "HGB": lambda v, lo, hi: v >= 9.0, "BILI": lambda v, lo, hi: v <= 2 * hi,
            "CREAT": lambda v, lo, hi: v <= 1.5 * hi}
    for s, rows in labs.items():
        base_day = max(x[0] for x in rows if x[0] <= start[s])
        for day, a, v, lo, hi in rows:
            if day == base_day and a in elig:
                need(elig[a](v, lo, hi), f"{s} baseline {a} {v}")

    # response
    bor, issues = who_bor(folder)
    counts = {k: sum(v == k for v in bor.values()) for k in ("PR", "SD", "PD", "NE")}
    need(counts == {"PR": 3, "SD": 12, "PD": 4, "NE": 4}, f"WHO BOR {counts}")
    fail += issues
    variants = [{"pd_reference": "baseline"}, {"pd_scope": "any_lesion"},
                {"pd_scope": "either"}, {"include_non_target": True},
                {"window_only": True}, {"minor_response": True}]
    for v in variants:
        need(who_bor(folder, **v)[0] == bor, f"BOR changes under {v}")
    sc = scans(folder)
    outside = []
    for s, rows in sc.items():
        ds = sorted(utc_date(r["admin_instant"]) for r in per[s])
        for x in rows:
            prior = [a for a in ds if a < x["date"]]
            if prior and not 56 <= (x["date"] - prior[-1]).days <= 84:
                outside.append((s, x["date"]))
    need(len(outside) == 1, f"scans outside 56-84 days: {outside}")

    # clinical
    clin = read(folder, "clinical")
    improved = {r["subject_id"] for r in clin if r["symptom_status"] == "improved"
                and d(r["assessment_date"]) > start[r["subject_id"]]}
    need(len(improved) == 14, f"clinical improvement {len(improved)}")
    need(all(r["symptom_status"] == "" for r in clin if d(r["assessment_date"]) <= start[
        r["subject_id"]]), "baseline symptom status empty")

    # markers
    mk = defaultdict(list)
    for r in read(folder, "marker"):
        mk[(r["subject_id"], r["marker"])].append(
            (d(r["sample_date"]), float(r["value"]), float(r["uln"])))
    elevated, responders = set(), set()
    for (s, m), rows in mk.items():
        rows.sort()
        base = [x for x in rows if x[0] <= start[s]][-1]
        post = [x for x in rows if x[0] > start[s]]
        if base[1] > base[2]:
            elevated.add(s)
            need(base[1] >= 2 * base[2], f"{s} {m} baseline near ULN")
            best = min(x[1] for x in post) / base[1] - 1
            need(bool(post), f"{s} {m} elevated without follow-up")
            need(best <= -0.55 or best > -0.30, f"{s} {m} best change {best:+.0%}")
            if best <= -0.55:
                responders.add(s)
        else:
            need(base[1] <= 0.8 * base[2], f"{s} {m} baseline near ULN")
    for s in responders:  # every elevated marker of a responder responds
        for (s2, m), rows in mk.items():
            if s2 == s and rows[0][1] > rows[0][2]:
                need(min(x[1] for x in rows[1:]) <= 0.45 * rows[0][1], f"{s} {m} disagrees")
    need(len(elevated) == 15 and len(responders) == 9,
         f"markers elevated {len(elevated)} responders {len(responders)}")

    # toxicity
    g3 = set()
    for s, rows in labs.items():
        post = [x for x in rows if x[0] > start[s]]
        haem = [(day, a, v, ctc2_grade(a, v, lo, hi)) for day, a, v, lo, hi in post
                if a in ("HGB", "WBC", "NEUT", "LYMPH", "PLAT")]
        worst = max((g for *_, g in haem), default=0)
        if worst >= 3:
            g3.add(s)
            last_day = max(x[0] for x in haem)
            need(all(g <= 1 for day, _a, _v, g in haem if day == last_day), f"{s} not recovered")
            for day, a, _v, g in haem:
                if g >= 3:
                    later = [g2 for d2, a2, v2, g2 in haem if a2 == a and d2 > day]
                    need(bool(later) and later[0] <= 1, f"{s} {a} does not recover")
        else:
            floors = {"HGB": 8.6, "WBC": 2.3, "NEUT": 1.15, "LYMPH": 0.6, "PLAT": 58.0}
            need(all(v >= floors[a] for _, a, v, _ in haem), f"{s} haem near grade 3")
        liver = [ctc2_grade(a, v, lo, hi) for day, a, v, lo, hi in rows
                 if a in ("ALT", "AST", "ALP", "BILI", "CREAT")]
        need(max(liver) <= 1, f"{s} liver/renal grade {max(liver)}")
    need(len(g3) == 3, f"grade >= 3 haematological: {sorted(g3)}")
    for s, rows in per.items():  # every later cycle follows labs recovered to grade <= 1
        for r in rows:
            if r["cycle"] == "1":
                continue
            day = utc_date(r["admin_instant"])
            prior = [x for x in labs[s] if day - timedelta(days=14) <= x[0] < day]
            need(bool(prior), f"{s} cycle {r['cycle']} without labs in the 14 days before")
            last = max(x[0] for x in prior)
            need(all(ctc2_grade(a, v, lo, hi) <= 1 for dd, a, v, lo, hi in prior if dd == last),
                 f"{s} cycle {r['cycle']} given with grade >= 2 labs")

    # survival
    t, e = os_data(folder)
    from lifelines import KaplanMeierFitter

    for shift in (0, 1):
        tt = [x + shift for x in t]
        fit = KaplanMeierFitter().fit(tt, e)
        for year in (365.0, 365.25, 366.0):
            s1 = float(fit.survival_function_at_times([year]).iloc[0])
            need(0.625 < s1 < 0.635, f"1-year survival {s1:.4f}")
        med = float(fit.median_survival_time_) / MONTH
        need(14.7 < med < 15.3, f"median {med:.2f} months")
    steps = km(t, e)
    own_1y = [s for tm, s in steps if tm <= 365.25][-1]
    need(round(own_1y * 100) == 63, f"own KM 1-year {own_1y}")
    before = [s for tm, s in steps if s > 0.5]
    after = [s for tm, s in steps if s <= 0.5]
    need(before[-1] > 0.52 and after[0] < 0.48, "median not on a clear step")
    need(all(abs(x - 365.25) > 25 for x in t), "event or censoring near 1 year")

    # record dates
    fu = {r["subject_id"]: r for r in read(folder, "follow_up")}
    dates = defaultdict(list)
    for name, cols in [("measurement", ["assessment_date"]), ("marker", ["sample_date"]),
                       ("clinical", ["assessment_date"]), ("scintigraphy", ["scan_date"]),
                       ("adverse_event", ["start_date", "end_date"]),
                       ("eligibility", ["assessed_date"])]:
        for r in read(folder, name):
            dates[r["subject_id"]] += [d(r[c]) for c in cols if r[c]]
    for r in read(folder, "lab"):
        dates[r["subject_id"]].append(utc_date(r["instant"]))
    for r in adm:
        dates[r["subject_id"]] += [utc_date(r[c]) for c in
                                   ("admin_instant", "calibration_instant", "residual_instant")]
    for s, ds in dates.items():
        alive = d(fu[s]["last_known_alive_date"])
        need(min(ds) >= enrol[s] - timedelta(days=90), f"{s} record before screening window")
        need(max(ds) <= alive, f"{s} record after last known alive")
        ds = ds + [alive, enrol[s]] + [d(r["progression_date"]) for r in subj
                                        if r["subject_id"] == s]
        need(all(date(2001, 1, 1) <= x <= date(2004, 12, 31) for x in ds), f"{s} not in 2001-04")

    # disposition: one end of treatment per treated subject, on/after the last administration
    # and not after death; end of study only for the withdrawal, nothing dated after it
    disp = read(folder, "disposition")
    eot = {r["subject_id"]: r for r in disp if r["event"] == "end of treatment"}
    eos = {r["subject_id"]: r for r in disp if r["event"] == "end of study"}
    n_eot = len([r for r in disp if r["event"] == "end of treatment"])
    need(len(eot) == n_eot == len({r["subject_id"] for r in adm}),
         "one end of treatment per treated subject")
    last_adm: dict[str, date] = {}
    for r in adm:
        last_adm[r["subject_id"]] = max(last_adm.get(r["subject_id"], date.min),
                                        utc_date(r["admin_instant"]))
    for s, r in eot.items():
        need(d(r["date"]) >= last_adm[s], f"{s} end of treatment before its last cycle")
        dd = fu[s]["death_date"]
        need(not dd or d(r["date"]) <= d(dd), f"{s} end of treatment after death")
    need(set(eos) == {"LAN-01-011"} and eos["LAN-01-011"]["reason"] == "withdrawal by subject",
         "end of study: LAN-01-011 withdrew")
    for s, r in eos.items():
        need(max(dates[s]) <= d(r["date"]), f"{s} record after end of study")
    return fail


def main(folder: Path) -> None:
    """Print the result of every check; exit non-zero on failure."""
    fail = run_checks(Path(folder))
    bor, _ = who_bor(Path(folder))
    print("WHO best response:", {k: sum(v == k for v in bor.values()) for k in
                                 ("PR", "SD", "PD", "NE")})
    if fail:
        print("FAILED:\n  " + "\n  ".join(fail))
        raise SystemExit(1)
    print("all design checks passed")
