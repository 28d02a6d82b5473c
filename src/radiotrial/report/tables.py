"""The report's tables, each a Polars frame computed from the analysis datasets.

Conventions (shared/spec/data-management.md §4): single-arm study, so n, median [range] and
n (%), no p-values; response rates with exact (Clopper–Pearson) 95 % intervals; percentages of
the stated denominator, whole numbers. No calendar dates: times are study days or months.
"""

from __future__ import annotations

from typing import Any

import polars as pl

#: Response categories in table order (WHO and RECIST share them; NE = not evaluable).
RESPONSE_ORDER = ("CR", "PR", "SD", "PD", "NE")
RESPONSE_NAMES = {"CR": "Complete response", "PR": "Partial response", "SD": "Stable disease",
                  "PD": "Progressive disease", "NE": "Not evaluable"}


def proportion_ci(x: int, n: int) -> tuple[float | None, float | None]:
    """Exact (Clopper–Pearson, Biometrika 1934) 95 % interval; (None, None) when n = 0."""
    if n == 0:
        return None, None
    from radiotrial.stats import proportion_ci as engine

    _, lower, upper = engine(x, n, method="clopper-pearson")
    return lower, upper


def pct(x: int, n: int) -> str:
    """``n (%)`` cell text, whole-number percent rounded half up."""
    from radiotrial.report.narrative import percent

    return f"{x} ({percent(x, n)})" if n else f"{x}"


def _median_range(s: pl.Series, digits: int = 0) -> str:
    s = s.drop_nulls()
    if s.len() == 0:
        return "—"
    fmt = f"{{:.{digits}f}}"
    return (f"{fmt.format(s.median())} [{fmt.format(s.min())}–{fmt.format(s.max())}]")


def flow(adsl: pl.DataFrame) -> pl.DataFrame:
    """CONSORT-style flow: enrolled → eligible → treated → response-evaluable, with reasons.

    The treated (safety) set is every treated patient, eligible or not: a patient treated
    although a criterion was not met (or not assessable) stays in the safety set and is counted
    on a row of its own, as a protocol deviation, instead of disappearing from the flow.
    """
    rows: list[dict[str, Any]] = []
    rows.append({"step": "Enrolled", "n": adsl.height, "excluded": None, "reason": None})
    treated = adsl.filter(pl.col("SAFFL") == "Y")
    if adsl.get_column("ELIGFL").is_not_null().any():
        inel = adsl.filter(pl.col("ELIGFL") != "Y")
        rows += _reasons("Eligible", adsl.height - inel.height, inel, "ELIGRSN",
                         "criteria not met")
        eligible = adsl.filter(pl.col("ELIGFL") == "Y")
        untreated = eligible.filter(pl.col("SAFFL") != "Y")
        rows += _reasons("Treated (safety set)", treated.height, untreated, None, "not treated")
        off_protocol = treated.filter(pl.col("ELIGFL") != "Y").height
        if off_protocol:
            rows.append({"step": "Treated (safety set)", "n": None, "excluded": None,
                         "reason": f"including {off_protocol} treated although not eligible"})
    else:
        rows += _reasons("Treated (safety set)", treated.height,
                         adsl.filter(pl.col("SAFFL") != "Y"), None, "not treated")
    ne = treated.filter(pl.col("EFFFL") != "Y")
    rows += _reasons("Response-evaluable", treated.height - ne.height, ne, "EFFRSN",
                     "not evaluable")
    return pl.DataFrame(rows, schema={"step": pl.String, "n": pl.Int64, "excluded": pl.Int64,
                                      "reason": pl.String})


def _reasons(step: str, n: int, excluded: pl.DataFrame, col: str | None, default: str
             ) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"step": step, "n": n, "excluded": None, "reason": None}]
    if excluded.height == 0:
        return out
    reason = pl.col(col).fill_null(default) if col else pl.lit(default)
    counts = excluded.group_by(reason.alias("reason")).len().sort(["len", "reason"],
                                                                   descending=[True, False])
    for r in counts.iter_rows(named=True):
        out.append({"step": step, "n": None, "excluded": r["len"], "reason": r["reason"]})
    return out


def table1(adsl: pl.DataFrame, criteria: str = "WHO") -> pl.DataFrame:
    """Baseline characteristics of the treated patients: n, median [range], n (%).

    The baseline tumour burden is WHO's sum of products of diameters (mm²) or RECIST's sum of
    diameters (mm), as the study's ``criteria`` measure it.
    """
    d = adsl.filter(pl.col("SAFFL") == "Y")
    n = d.height
    rows: list[tuple[str, str, str]] = [("Patients", "n", str(n))]
    rows.append(("Age, years", "median [range]", _median_range(d["AGE"])))
    for code, name in (("M", "Men"), ("F", "Women")):
        rows.append(("Sex", name, pct(d.filter(pl.col("SEX") == code).height, n)))

    def categorical(col: str, label: str, order: list[Any] | None = None) -> None:
        if col not in d.columns or d[col].is_null().all():
            return
        counts = d.group_by(col).len()
        levels = order or sorted(counts[col].drop_nulls().to_list(), key=str)
        for lv in levels:
            k = counts.filter(pl.col(col) == lv)["len"].sum()
            rows.append((label, str(lv), pct(int(k), n)))
        miss = d[col].null_count()
        if miss:
            rows.append((label, "missing", pct(miss, n)))

    categorical("PRIMSITE", "Primary tumour site")
    categorical("HISTOL", "Histology")
    categorical("ECOGBL", "ECOG performance status")
    categorical("KRENNGR", "Krenning uptake grade (In-111 pentetreotide)")
    if "LIVMETFL" in d.columns and d["LIVMETFL"].is_not_null().any():
        rows.append(("Liver metastases", "yes", pct(d.filter(pl.col("LIVMETFL") == "Y").height,
                                                      n)))
    if "BASESUM" in d.columns:
        burden = ("Baseline sum of products of diameters, mm²" if criteria.upper() == "WHO"
                  else "Baseline sum of diameters, mm")
        rows.append((burden, "median [range]", _median_range(d["BASESUM"])))
    # only when markers were recorded: "0 (0)" would claim they were measured and normal
    if "MKBLFL" in d.columns and (
            (d["MKBLFL"] == "Y").any() or d.get_column("MKRSN").is_not_null().any()):
        rows.append(("Tumour marker elevated at baseline", "yes",
                     pct(d.filter(pl.col("MKBLFL") == "Y").height, n)))
    return pl.DataFrame(rows, schema=["characteristic", "category", "value"], orient="row")


#: Dose-estimate columns of ADEX → what they estimate and with which model
#: (radiotrial.physics.derive_dosimetry; formulas and sources in radiotrial.physics.dosimetry).
DOSE_LABELS = {
    "LIVER_DOSE_GY": "whole liver (peptide retention model)",
    "LIVER_DOSE_UPPER_GY": "whole liver, upper bound (complete retention)",
    "NORMAL_LIVER_DOSE_GY": "normal liver (partition model)",
    "TUMOUR_DOSE_GY": "tumour (partition model)",
    "LUNG_DOSE_GY": "lung (partition model)",
    "KIDNEY_DOSE_GY": "kidneys",
    "RED_MARROW_DOSE_GY": "red marrow",
}


def exposure(adsl: pl.DataFrame, adex: pl.DataFrame) -> pl.DataFrame:
    """Treatment exposure: cycles, activity per administration, embolisation, cumulative dose."""
    d = adsl.filter(pl.col("SAFFL") == "Y")
    n = d.height
    rows: list[tuple[str, str]] = [("Administrations, total", str(adex.height))]
    for k, cnt in d.group_by("NCYCLES").len().sort("NCYCLES").iter_rows():
        rows.append((f"Patients with {k} cycle{'s' if k != 1 else ''}", pct(cnt, n)))
    rows.append(("Cycles per patient, median [range]", _median_range(d["NCYCLES"])))
    rows.append(("Activity per administration, GBq, median [range]",
                 _median_range(adex["ADMACT"], 2)))
    rows.append(("Cumulative activity per patient, GBq, median [range]",
                 _median_range(d["CUMACT"], 2)))
    emb = adex.filter(pl.col("EMBFL") == "Y").height
    rows.append(("Administrations with embolisation", pct(emb, adex.height)))
    iv = adex["INTVLD"].drop_nulls()
    if iv.len():
        rows.append(("Interval between cycles, days, median [range]", _median_range(iv)))
    for col in [c for c in adex.columns if c.endswith("_GY")]:
        name = DOSE_LABELS.get(col, col[:-3].lower().replace("_", " "))
        rows.append((f"Absorbed dose, {name}, Gy per administration, median [range]",
                     _median_range(adex[col], 1)))
    return pl.DataFrame(rows, schema=["measure", "value"], orient="row")


def response(adsl: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Best overall response among response-evaluable patients, and ORR / DCR with exact CIs."""
    treated = adsl.filter(pl.col("SAFFL") == "Y")
    ev = treated.filter(pl.col("EFFFL") == "Y")
    n = ev.height
    rows = []
    for code in RESPONSE_ORDER:
        k = ev.filter(pl.col("BOR") == code).height
        if code == "NE" and k == 0:
            continue
        rows.append({"response": RESPONSE_NAMES[code], "code": code, "n": k,
                     "percent": 100 * k / n if n else None})
    cats = pl.DataFrame(rows, schema={"response": pl.String, "code": pl.String, "n": pl.Int64,
                                      "percent": pl.Float64})
    rates = []
    for name, codes in (("Objective response (CR + PR)", ("CR", "PR")),
                        ("Disease control (CR + PR + SD)", ("CR", "PR", "SD"))):
        k = ev.filter(pl.col("BOR").is_in(codes)).height
        lo, hi = proportion_ci(k, n)
        rates.append({"rate": name, "n": k, "N": n, "percent": 100 * k / n if n else None,
                      "ci_lower": None if lo is None else 100 * lo,
                      "ci_upper": None if hi is None else 100 * hi})
    return cats, pl.DataFrame(rates, schema={"rate": pl.String, "n": pl.Int64, "N": pl.Int64,
                                             "percent": pl.Float64, "ci_lower": pl.Float64,
                                             "ci_upper": pl.Float64})


def biologic_clinical(adsl: pl.DataFrame, clinical_denominator: str = "treated"
                      ) -> pl.DataFrame:
    """Biologic (marker) and clinical response: responders / denominator with exact 95 % CI.

    Clinical improvement is over all treated patients by default (the abstract's "14 (61%) of
    the 23 patients"); ``clinical_denominator="evaluable"`` uses re-assessed patients only.
    """
    d = adsl.filter(pl.col("SAFFL") == "Y")
    rows = []
    treated = clinical_denominator == "treated"
    for name, evl, flag, who in (
        ("Clinical improvement", "SAFFL" if treated else "CLEVLFL", "CLIMPFL",
         "treated patients" if treated else "patients with a clinical assessment"),
        ("Reduction in tumour-marker levels", "MKBLFL", "MKRSPFL",
         "patients with an elevated marker at baseline"),
    ):
        e = d.filter(pl.col(evl) == "Y")
        k = e.filter(pl.col(flag) == "Y").height
        lo, hi = proportion_ci(k, e.height)
        rows.append({"outcome": name, "n": k, "N": e.height, "denominator": who,
                     "percent": 100 * k / e.height if e.height else None,
                     "ci_lower": None if lo is None else 100 * lo,
                     "ci_upper": None if hi is None else 100 * hi})
    return pl.DataFrame(rows, schema={"outcome": pl.String, "n": pl.Int64, "N": pl.Int64,
                                      "denominator": pl.String, "percent": pl.Float64,
                                      "ci_lower": pl.Float64, "ci_upper": pl.Float64})


def toxicity(adtox: pl.DataFrame | None, n_safety: int) -> pl.DataFrame:
    """Worst grade per term: patients by worst grade 1-4, grade >= 3, and reversible grade >= 3."""
    schema = {"category": pl.String, "term": pl.String, "grade_1": pl.Int64,
              "grade_2": pl.Int64, "grade_3": pl.Int64, "grade_4": pl.Int64,
              "grade_3_plus": pl.Int64, "reversible": pl.Int64, "N": pl.Int64}
    if adtox is None or adtox.height == 0:
        return pl.DataFrame(schema=schema)
    w = adtox.group_by("SUBJID", "PARCAT1", "ATOXDSC").agg(
        g=pl.col("WORSTGR").max(),
        rev=((pl.col("WORSTGR") < 3) | (pl.col("REVFL") == "Y")).all())
    out = w.group_by("PARCAT1", "ATOXDSC").agg(
        *[(pl.col("g") == k).sum().cast(pl.Int64).alias(f"grade_{k}") for k in (1, 2, 3)],
        (pl.col("g") >= 4).sum().cast(pl.Int64).alias("grade_4"),
        (pl.col("g") >= 3).sum().cast(pl.Int64).alias("grade_3_plus"),
        ((pl.col("g") >= 3) & pl.col("rev")).sum().cast(pl.Int64).alias("reversible"),
    ).rename({"PARCAT1": "category", "ATOXDSC": "term"})
    out = out.filter(pl.sum_horizontal("grade_1", "grade_2", "grade_3", "grade_4") > 0)
    return out.with_columns(N=pl.lit(n_safety, pl.Int64)).sort(
        ["category", "grade_3_plus", "term"], descending=[False, True, False]).select(
        list(schema))


def haematological_grade3(adtox: pl.DataFrame | None, min_grade: int = 3) -> tuple[int, int]:
    """Patients with a haematological worst grade >= ``min_grade`` and how many all recovered."""
    if adtox is None or adtox.height == 0:
        return 0, 0
    h = adtox.filter((pl.col("PARCAT1") == "HAEMATOLOGY") & (pl.col("WORSTGR") >= min_grade))
    per = h.group_by("SUBJID").agg(rev=(pl.col("REVFL") == "Y").all())
    return per.height, per.filter(pl.col("rev")).height


def deviations(addv: pl.DataFrame | None) -> pl.DataFrame | None:
    """Protocol deviations without calendar dates (study days are kept)."""
    if addv is None:
        return None
    keep = [c for c, t in addv.schema.items()
            if not (t == pl.Date or isinstance(t, pl.Datetime)) and c not in ("STUDYID",
                                                                                "USUBJID")]
    return addv.select(keep)


def options_table(config: Any, derive_options: Any) -> pl.DataFrame:
    """Every protocol and derivation option used, as section / option / value rows.

    Nested settings are flattened to dotted names (``eligibility.reference``); a list of rules
    gives one row per rule, named by the rule (``eligibility.rules[PLAT >= 100]``).
    """
    rows: list[tuple[str, str, str]] = []
    for section in ("protocol", "response", "toxicity", "markers", "clinical", "dosimetry"):
        model = getattr(config, section, None)
        if model is None:
            continue
        for key, value in model.model_dump(mode="json").items():
            rows += [(section, name, text) for name, text in _flatten(key, value)]
    for key, value in vars(derive_options).items():
        rows.append(("derivation", key, f"{value:.4f}" if isinstance(value, float) else str(value)))
    return pl.DataFrame(rows, schema=["section", "option", "value"], orient="row")


def _flatten(name: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict) and value:
        return [row for k, v in value.items() for row in _flatten(f"{name}.{k}", v)]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [(f"{name}[{item.get('name', i + 1)}]",
                 ", ".join(f"{k} = {_text(v)}" for k, v in item.items()
                           if k != "name" and v is not None))
                for i, item in enumerate(value)]
    return [(name, _text(value))]


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return "none" if not value else ", ".join(f"{k} = {_text(v)}" for k, v in value.items())
    return str(value)
