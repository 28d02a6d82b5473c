"""Randomized equivalence: the vectorised ``grade_labs`` against a plain per-row Python grader.

The reference below restates the rules of ``grading.py`` (spec §3 and §4b: grades tested from the
highest down, first rule that holds wins, a rule whose limit is unknown before any grade is proven
makes the row "not gradable"; Kleene logic for unknowns) one row at a time, with dictionaries for
the baseline. Rows are small random frames around every limit, in canonical units, with missing
limits, values, subjects and treatment starts, over every grading option.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random

import numpy as np
import polars as pl
import pytest

from radiotrial.criteria.toxicity import ToxicityConfig, grade_labs, load_criteria
from radiotrial.criteria.toxicity import grading
from radiotrial.units import LAB_CANONICAL, LAB_UNITS

UTC = dt.UTC
START = dt.date(2005, 3, 1)
NORMAL = {"HGB": (14.0, 12.0, 16.0), "WBC": (6.0, 4.0, 10.0), "NEUT": (4.0, 2.0, 7.5),
          "LYMPH": (2.0, 1.0, 4.0), "PLAT": (250.0, 150.0, 400.0), "ALT": (30.0, 7.0, 40.0),
          "AST": (30.0, 8.0, 40.0), "ALP": (90.0, 40.0, 130.0), "GGT": (40.0, 8.0, 60.0),
          "BILI": (10.0, 3.0, 21.0), "CREAT": (80.0, 50.0, 110.0)}
MULTIPLES = [0.2, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 6.0, 10.0, 20.0, 25.0]
ABSOLUTE = [0.2, 0.5, 0.8, 1.0, 1.5, 2.0, 3.0, 6.5, 8.0, 10.0, 25.0, 50.0, 75.0]


# ------------------------------------------------------------------ reference (one row at a time)

def _cmp(x: float, op: str, thr: float | None, rel: float) -> bool | None:
    if thr is None:
        return None
    return {"<": x < thr * (1 - rel), "<=": x <= thr * (1 + rel),
            ">": x > thr * (1 + rel), ">=": x >= thr * (1 - rel)}[op]


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _mul(a: float | None, f: float) -> float | None:
    return None if a is None else a * f


def reference_grade(term, row: dict, cfg: ToxicityConfig) -> tuple[int | None, str | None, bool | None]:
    """(grade, not_gradable_reason, baseline_abnormal) of one row under ``term``."""
    rel = 10.0 ** -cfg.significant_digits
    assume = cfg.missing_baseline == "assume_normal"
    uln_only = cfg.baseline_abnormal_mode == "uln_multiples"
    x, lln, uln, base, base_uln, use = (row[k] for k in ("value", "lln", "uln", "base", "base_uln", "use_base"))
    ref_uln = base_uln if base_uln is not None else uln
    babn_raw = None if base is None else _cmp(base, ">", ref_uln, rel)
    babn = (False if babn_raw is None else babn_raw) if assume else babn_raw
    babn_eff = babn if use else False
    out_babn = babn_raw if term.direction == "high" else None
    if x is None:
        return None, "missing value", out_babn
    if not cfg.grade_within_normal_range:
        inside = _cmp(x, ">=", lln, rel) if term.direction == "low" else _cmp(x, "<=", uln, rel)
        if inside:
            return 0, None, out_babn
    refs = {"lln": lln, "uln": uln, "base": base}
    for g, rules in term.grades.items():
        cond: bool | None = False
        for r in rules:
            if r.when == "baseline_abnormal" and uln_only:
                continue
            c = _cmp(x, r.op, r.factor if r.ref == "abs" else _mul(refs[r.ref], r.factor), rel)
            if r.ref == "base":
                if assume and c is None:
                    c = False
                c = _and(c, use)
            if r.when == "baseline_normal" and not uln_only:
                c = _and(c, None if babn_eff is None else not babn_eff)
            elif r.when == "baseline_abnormal":
                c = _and(c, babn_eff)
            cond = _or(cond, c)
        if cond is True:
            return g, None, out_babn
        if cond is None:
            used = {r.ref for rs in term.grades.values() for r in rs}
            whens = {r.when for rs in term.grades.values() for r in rs}
            why = []
            if "lln" in used and lln is None:
                why.append("LLN missing")
            if "uln" in used and uln is None:
                why.append("ULN missing")
            if "base" in used and not assume and use and base is None:
                why.append("no baseline value")
            if ("baseline_abnormal" in whens and not uln_only and not assume and use
                    and base is not None and base_uln is None and uln is None):
                why.append("baseline ULN missing")
            return None, "; ".join(why), out_babn
    return 0, None, out_babn


def reference_baseline(rows: list[dict], starts: dict[str, dt.date | None] | None, cfg) -> None:
    """Add phase, baseline, base, base_uln, use_base to each row (dicts, in place)."""
    groups: dict[tuple, list[int]] = {}
    for i, r in enumerate(rows):
        if r["subject_id"] is not None:
            groups.setdefault((r["subject_id"], r["analyte"]), []).append(i)
    for r in rows:
        r.update(phase="post", baseline=False, base=None, base_uln=None)
    if starts is None:
        for idx in groups.values():
            cand = [i for i in idx if rows[i]["value"] is not None]
            if not cand:
                continue
            b = min(cand, key=lambda i: (rows[i]["instant"], i))
            for i in idx:
                rows[i].update(base=rows[b]["value"], base_uln=rows[b]["uln"])
                rows[i]["phase"] = ("baseline" if i == b
                                    else "pre" if rows[i]["instant"] < rows[b]["instant"] else "post")
            rows[b]["baseline"] = True
    else:
        for r in rows:
            start = starts.get(r["subject_id"]) if r["subject_id"] is not None else None
            r["_pre"] = start is not None and r["instant"] < dt.datetime.combine(
                start, dt.time(0), tzinfo=UTC) + dt.timedelta(days=1)
            r["_treated"] = start is not None
        for idx in groups.values():
            cand = [i for i in idx if rows[i]["_pre"] and rows[i]["value"] is not None]
            b = max(cand, key=lambda i: (rows[i]["instant"], i)) if cand else None
            for i in idx:
                if b is not None:
                    rows[i].update(base=rows[b]["value"], base_uln=rows[b]["uln"])
                rows[i]["baseline"] = i == b
        for r in rows:
            r["phase"] = ("untreated" if not r["_treated"] else "baseline" if r["baseline"]
                          else "pre" if r["_pre"] else "post")
    self_graded = cfg.grade_baseline_record == "self"
    for r in rows:
        r["use_base"] = r["phase"] == "post" or (self_graded and r["phase"] in ("baseline", "pre"))


# ------------------------------------------------------------------ random data

def random_labs(seed: int, n: int = 400) -> tuple[pl.DataFrame, pl.DataFrame]:
    rnd = random.Random(seed)
    analytes = list(LAB_UNITS)
    n_subj = max(n // rnd.choice([8, 40]), 2)
    rows = []
    for _ in range(n):
        a = rnd.choice(analytes)
        centre, lln, uln = NORMAL[a]
        k = rnd.random()
        if k < 0.3:
            v = uln * rnd.choice(MULTIPLES)
        elif k < 0.5:
            v = rnd.choice(ABSOLUTE)
        else:
            v = round(centre * rnd.lognormvariate(0, 1.0), rnd.choice([0, 1, 2]))
        inst = (dt.datetime.combine(START, dt.time(rnd.choice([0, 9, 23])), tzinfo=UTC)
                + dt.timedelta(days=rnd.randint(-5, 10)))
        rows.append((
            None if rnd.random() < 0.02 else f"S{rnd.randrange(n_subj)}", inst, a,
            None if rnd.random() < 0.05 else v, LAB_CANONICAL[a],
            None if rnd.random() < 0.08 else lln, None if rnd.random() < 0.08 else uln,
        ))
    labs = pl.DataFrame(rows, orient="row", schema={
        "subject_id": pl.String, "instant": pl.Datetime("us", "UTC"), "analyte": pl.String,
        "value": pl.Float64, "unit": pl.String, "lln": pl.Float64, "uln": pl.Float64})
    treated = [f"S{i}" for i in range(n_subj) if rnd.random() < 0.8]
    starts = pl.DataFrame({
        "subject_id": treated,
        "treatment_start": [None if rnd.random() < 0.05 else START + dt.timedelta(days=rnd.randint(-1, 1))
                            for _ in treated],
    }, schema={"subject_id": pl.String, "treatment_start": pl.Date})
    return labs, starts


def check(labs: pl.DataFrame, starts: pl.DataFrame | None, cfg: ToxicityConfig) -> None:
    out = grade_labs(labs, treatment_start=starts, config=cfg)
    rows = labs.to_dicts()
    start_map = None if starts is None else dict(starts.iter_rows())
    reference_baseline(rows, start_map, cfg)
    crit = load_criteria(cfg.criteria)
    for r in rows:
        term = crit.term_for(r["analyte"])
        r["grade"], r["not_gradable_reason"], r["baseline_abnormal"] = reference_grade(term, r, cfg)
    base_grade = {(r["subject_id"], r["analyte"]): r["grade"] for r in rows if r["baseline"]}
    for r in rows:
        r["baseline_grade"] = base_grade.get((r["subject_id"], r["analyte"]))
    cols = ["phase", "baseline", "base", "grade", "not_gradable_reason", "baseline_abnormal",
            "baseline_grade"]
    expected = pl.DataFrame([{c: r[c] for c in cols} for r in rows], schema=out.select(cols).schema)
    got = out.select(cols)
    for c in cols:
        assert got[c].to_list() == expected[c].to_list(), c
    assert out["gradable"].to_list() == [g is not None for g in expected["grade"]]


OPTIONS = list(itertools.product(
    ["ctc-v2", "ctcae-v5", "ctcae-v4.03"], ["baseline_multiples", "uln_multiples"], ["uln", "self"],
    ["not_gradable", "assume_normal"], [True, False],
))


@pytest.mark.parametrize("criteria,mode,record,missing,within", OPTIONS)
def test_grade_labs_matches_reference_grader(criteria, mode, record, missing, within):
    cfg = ToxicityConfig(criteria=criteria, baseline_abnormal_mode=mode, grade_baseline_record=record,
                         missing_baseline=missing, grade_within_normal_range=within)
    seed = OPTIONS.index((criteria, mode, record, missing, within))
    labs, starts = random_labs(seed)
    check(labs, starts, cfg)
    check(labs, None, cfg)  # no treatment information: first value is the baseline


def test_blocks_do_not_change_results(monkeypatch):
    labs, starts = random_labs(99, n=3000)
    cfg = ToxicityConfig(criteria="ctcae-v5")
    whole = grade_labs(labs, treatment_start=starts, config=cfg)
    monkeypatch.setattr(grading, "_BLOCK", 97)  # many blocks, uneven last block
    assert grade_labs(labs, treatment_start=starts, config=cfg).equals(whole)
    check(labs, starts, cfg)


def test_nan_counts_as_missing():
    labs, _ = random_labs(5, n=20)
    labs = labs.with_columns(pl.lit(float("nan")).alias("value"))
    out = grade_labs(labs, "ctcae-v5")
    assert out["grade"].null_count() == 20
    assert set(out["not_gradable_reason"].to_list()) == {"missing value"}


def test_round_sig_matches_polars():
    rng = np.random.default_rng(0)
    n = 200_000
    v = np.concatenate([
        rng.random(n) * 10.0 ** rng.integers(-14, 16, n),          # every magnitude
        np.round(rng.random(n) * 1000, 2) * 0.1,                    # g/L -> g/dL
        np.round(rng.random(n) * 20, 3) / 0.6206,                   # mmol/L -> g/dL
        np.round(rng.random(n) * 30, 1) * 17.104,                   # mg/dL -> umol/L
        [0.0, -0.0, 1e-300, 5e-324, 1e300, 1234567890.125, -2.5e-7, np.inf, -np.inf],
    ])
    v[::7] *= -1
    for digits in (6, 12, 15):
        expected = pl.Series(v).round_sig_figs(digits).to_numpy()
        got = grading._round_sig(v, digits)
        same = (got == expected) | (np.isnan(got) & np.isnan(expected))
        assert same.all(), v[~same][:5]
