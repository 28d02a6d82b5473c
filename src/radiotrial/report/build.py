"""Assemble the study report: tables, figures, the results paragraph, one self-contained HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from radiotrial.report import figures as fig
from radiotrial.report import tables as tab
from radiotrial.report.narrative import (
    TOXICITY_CRITERIA_NAMES,
    NarrativeNumbers,
    percent,
    plural,
)
from radiotrial.report.narrative import results_paragraph as paragraph_of

TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class ReportOptions:
    """Named choices of the report.

    * ``clinical_denominator``: ``treated`` (default; the model study's abstract reports clinical
      improvement "by 14 (61%) of the 23 patients", i.e. over all treated patients, counting
      those never re-assessed as not improved) or ``evaluable`` (patients with a post-baseline
      clinical assessment only).
    """

    clinical_denominator: str = "treated"


@dataclass
class Report:
    """The rendered report, its paragraph, and the data behind every table and figure."""

    html: str
    paragraph: str
    numbers: NarrativeNumbers
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    figures: dict[str, str] = field(default_factory=dict)


def _f(v: float | None, digits: int = 0) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _ci(lo: float | None, hi: float | None, digits: int = 0) -> str:
    return "—" if lo is None or hi is None else f"{lo:.{digits}f}–{hi:.{digits}f}"


def _view(df: pl.DataFrame, caption: str, header: list[str] | None = None,
          num: tuple[int, ...] = (), note: str | None = None) -> dict[str, Any]:
    rows = [["" if v is None else (f"{v:.1f}" if isinstance(v, float) else str(v)) for v in r]
            for r in df.iter_rows()]
    return {"caption": caption, "header": header or df.columns, "rows": rows, "num": set(num),
            "note": note}


def numbers(datasets: Any, os_fit: dict[str, Any] | None,
            options: ReportOptions | None = None) -> NarrativeNumbers:
    """Every number of the results paragraph, from the datasets and the OS fit."""
    options = options or ReportOptions()
    adsl = datasets.adsl.filter(pl.col("SAFFL") == "Y")
    clin_evaluable = adsl.filter(pl.col("CLEVLFL") == "Y").height
    # no clinical assessment recorded at all: no denominator, so no sentence about improvement
    clin_n = (adsl.height if options.clinical_denominator == "treated" and clin_evaluable
              else clin_evaluable)
    ev = adsl.filter(pl.col("EFFFL") == "Y")
    def count(d: pl.DataFrame, col: str, val: str) -> int:
        return d.filter(pl.col(col) == val).height

    tox_n, tox_rev = tab.haematological_grade3(datasets.adtox)
    return NarrativeNumbers(
        n_evaluable=ev.height, n_cr=count(ev, "BOR", "CR"), n_pr=count(ev, "BOR", "PR"),
        n_sd=count(ev, "BOR", "SD"), n_pd=count(ev, "BOR", "PD"),
        clinical_improved=count(adsl, "CLIMPFL", "Y"), clinical_n=clin_n,
        marker_reduced=count(adsl, "MKRSPFL", "Y"), marker_n=count(adsl, "MKBLFL", "Y"),
        tox_subjects=tox_n, tox_reversible=tox_rev,
        toxicity_criteria=datasets.toxicity_criteria,
        os_rate_1y=None if os_fit is None else os_fit["rate_1y"],
        os_median_months=None if os_fit is None else os_fit["median"],
        os_n=0 if os_fit is None else os_fit["n"],
    )


def _marker_rule(m: Any) -> str:
    """The marker response rule in words (from ``MarkerConfig``)."""
    which = ", ".join(m.markers) if m.markers else "any recorded marker"
    size = {"decrease_50": "a decrease of at least 50 %", "any_decrease": "any decrease",
            "custom": f"a decrease of at least {m.threshold_pct:g} %" if m.threshold_pct
            else "a decrease"}[m.rule]
    pick = ("the marker with the largest decrease" if m.selection == "best"
            else "the first evaluable marker in protocol order")
    return (f"Marker response: {size} from baseline ({which}; {pick}), among patients whose "
            "baseline value exceeded the upper limit of normal.")


def _clinical_rule(c: Any) -> str:
    """The clinical improvement rule in words (from ``ClinicalConfig``)."""
    ps = (f" or an ECOG performance status at least {c.ps_improvement_points} point(s) better "
          "than baseline" if c.performance_status_counts else "")
    return f"Clinical improvement: improved symptoms at any post-baseline visit{ps}."


def _activity(adex: pl.DataFrame) -> str:
    """Median administered activity (decay-corrected, net of residual) for the summary."""
    act = adex["ADMACT"].drop_nulls() if "ADMACT" in adex.columns else None
    if act is None or act.len() == 0:
        return ""
    return f" (median administered activity per administration, {act.median():.2f} GBq)"


def _summary(datasets: Any, title: str) -> str:
    adsl = datasets.adsl
    t = adsl.filter(pl.col("SAFFL") == "Y")
    men = t.filter(pl.col("SEX") == "M").height
    ages = t["AGE"].drop_nulls()
    age = (f"median age {ages.median():.0f} years, range {ages.min()}–{ages.max()}"
           if ages.len() else "age not recorded")
    return (f"{title}. {plural(adsl.height, 'patient')} were enrolled and {t.height} were treated "
            f"({plural(men, 'man', 'men')}, {plural(t.height - men, 'woman', 'women')}; {age}), "
            f"receiving {plural(datasets.adex.height, 'administration')} in all{_activity(datasets.adex)}. Tumour response was assessed with the "
            f"{datasets.criteria} criteria and toxicity graded with the "
            f"{TOXICITY_CRITERIA_NAMES.get(datasets.toxicity_criteria, datasets.toxicity_criteria)}"
            ".")


def build_report(datasets: Any, loaded: Any, options: ReportOptions | None = None) -> Report:
    """Build the report of ``datasets`` (``AnalysisDatasets``) for ``loaded`` (config, hash)."""
    options = options or ReportOptions()
    if options.clinical_denominator not in ("treated", "evaluable"):
        from radiotrial.errors import RadiotrialError

        raise RadiotrialError(f"clinical_denominator: unknown value "
                              f"{options.clinical_denominator!r}; use treated or evaluable")
    from jinja2 import Environment, PackageLoader, select_autoescape

    from radiotrial import __version__

    config = loaded.config
    adsl = datasets.adsl
    n_safety = adsl.filter(pl.col("SAFFL") == "Y").height
    data: dict[str, pl.DataFrame] = {}
    views: dict[str, Any] = {}

    flow = tab.flow(adsl)
    data["flow"] = flow
    steps = []
    for r in flow.iter_rows(named=True):
        if r["n"] is not None:
            steps.append({"step": r["step"], "n": r["n"], "excluded": [], "n_excluded": 0,
                          "notes": []})
        elif r["excluded"] is None:  # a remark on the step, e.g. treated although not eligible
            steps[-1]["notes"].append(r["reason"])
        else:
            steps[-1]["excluded"].append({"reason": r["reason"], "n": r["excluded"]})
            steps[-1]["n_excluded"] += r["excluded"]

    data["table1"] = t1 = tab.table1(adsl, datasets.criteria)
    t1_shown = t1.with_columns(characteristic=pl.when(
        pl.col("characteristic") == pl.col("characteristic").shift(1)).then(pl.lit(""))
        .otherwise(pl.col("characteristic")))
    views["table1"] = _view(t1_shown, f"Table 1. Baseline characteristics of the treated patients "
                                f"(N = {n_safety})", ["Characteristic", "", "Value"], (2,),
                            "Values are n (%) or median [range].")
    data["exposure"] = ex = tab.exposure(adsl, datasets.adex)
    views["exposure"] = _view(ex, "Table 2. Treatment exposure", ["Measure", "Value"], (1,),
                              "Activity is the administered activity (calibrated activity "
                              "decay-corrected to injection, net of the residual).")

    cats, rates = tab.response(adsl)
    data["response"], data["response_rates"] = cats, rates
    n_ev = int(rates["N"][0]) if rates.height else 0
    rows = [[r["response"], f"{r['n']} ({percent(r['n'], n_ev)})" if n_ev else str(r["n"])]
            for r in cats.iter_rows(named=True)]
    rows += [[r["rate"], f"{r['n']} ({_f(r['percent'])}; 95% CI {_ci(r['ci_lower'], r['ci_upper'])})"]
             for r in rates.iter_rows(named=True)]
    views["response"] = {"caption": f"Table 3. Best overall response ({datasets.criteria}) in "
                                    f"the response-evaluable patients (N = {n_ev})",
                         "header": ["Response", "n (%)"], "rows": rows, "num": {1},
                         "note": "CI: exact (Clopper–Pearson) 95 % confidence interval."}

    bc = tab.biologic_clinical(adsl, options.clinical_denominator)
    data["biologic_clinical"] = bc
    views["biologic"] = {
        "caption": "Table 4. Biologic and clinical response",
        "header": ["Outcome", "n / N (%)", "95% CI", "Denominator"], "num": {1, 2},
        "rows": [[r["outcome"], f"{r['n']} / {r['N']} ({_f(r['percent'])})",
                  _ci(r["ci_lower"], r["ci_upper"]), r["denominator"]]
                 for r in bc.iter_rows(named=True)],
        "note": _marker_rule(config.markers) + " " + _clinical_rule(config.clinical)}

    tox = tab.toxicity(datasets.adtox, n_safety)
    data["toxicity"] = tox
    views["toxicity"] = {
        "caption": f"Table 5. Worst grade per patient and term "
                   f"({TOXICITY_CRITERIA_NAMES.get(datasets.toxicity_criteria, '')}), "
                   f"N = {n_safety} treated patients",
        "header": ["Category", "Term", "Grade 1", "Grade 2", "Grade 3", "Grade 4",
                   "Grade ≥ 3, n (%)", "Reversible grade ≥ 3"],
        "num": {2, 3, 4, 5, 6, 7},
        "rows": [[r["category"].capitalize(), r["term"], r["grade_1"], r["grade_2"],
                  r["grade_3"], r["grade_4"], tab.pct(r["grade_3_plus"], n_safety),
                  f"{r['reversible']} / {r['grade_3_plus']}" if r["grade_3_plus"] else "—"]
                 for r in tox.iter_rows(named=True)],
        "note": "Patients are counted once per term at their worst post-baseline grade. "
                "Reversible: the grade fell back during follow-up."}

    dv = tab.deviations(datasets.addv)
    if dv is not None:
        data["deviations"] = dv
    views["deviations"] = (_view(
        dv, "Table 6. Protocol deviations",
        ["Patient" if c == "SUBJID" else c.replace("_day", " (study day)").replace("_", " ")
         .capitalize() for c in dv.columns]) if dv is not None and dv.height else None)
    data["options"] = opts = tab.options_table(config, datasets.options)
    views["options"] = _view(opts, "Table 7. Protocol and derivation options used",
                             ["Section", "Option", "Value"]) | {"cls": "options"}

    figs: dict[str, str] = {}
    svg, wf = fig.waterfall(adsl, datasets.criteria)
    data["waterfall"] = wf
    if svg:
        figs["waterfall"] = svg
    svg, sw = fig.swimmer(adsl, datasets.adex, datasets.adrs, datasets.adtte)
    data["swimmer"] = sw.drop("cycle_months") if "cycle_months" in sw.columns else sw
    if svg:
        figs["swimmer"] = svg
    km_views = []
    os_fit = None
    for code, name in (("OS", "Overall survival"), ("PFS", "Progression-free survival")):
        k = fig.kaplan_meier(datasets.adtte, code, name)
        if k is None:
            continue
        if code == "OS":
            os_fit = k
        figs[f"km_{code.lower()}"] = k["svg"]
        data[f"km_{code.lower()}_at_risk"] = k["at_risk"]
        data[f"km_{code.lower()}_curve"] = k["curve"]
        data[f"km_{code.lower()}_estimates"] = pl.DataFrame([{
            key: k[key] for key in ("n", "events", "median", "median_lower", "median_upper",
                                    "rate_1y", "rate_1y_lower", "rate_1y_upper")}])
        med = ("not reached" if k["median"] is None else
               f"{k['median']:.1f} months (95% CI {_ci(k['median_lower'], k['median_upper'], 1)})")
        if k["median"] is not None and k["median_upper"] is None:
            med = f"{k['median']:.1f} months (95% CI {_f(k['median_lower'], 1)}–not reached)"
        rate = ("not estimable" if k["rate_1y"] is None else
                f"{100 * k['rate_1y']:.0f}% (95% CI "
                f"{_ci(None if k['rate_1y_lower'] is None else 100 * k['rate_1y_lower'], None if k['rate_1y_upper'] is None else 100 * k['rate_1y_upper'])})")
        km_views.append({"svg": k["svg"], "name": name, "n": k["n"], "events": k["events"],
                         "median_text": med, "rate_text": rate})

    nums = numbers(datasets, os_fit, options)
    text = paragraph_of(nums)
    env = Environment(loader=PackageLoader("radiotrial.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    who = datasets.criteria.upper() == "WHO"
    html = env.get_template(TEMPLATE).render(
        title=config.title, study_id=config.study_id, criteria=datasets.criteria,
        toxicity_name=TOXICITY_CRITERIA_NAMES.get(datasets.toxicity_criteria,
                                                  datasets.toxicity_criteria),
        version=__version__, data_hash=getattr(loaded, "data_hash", "unknown"),
        audit_rows=getattr(loaded, "audit_rows", 0), audit_head=getattr(loaded, "audit_head", ""),
        summary=_summary(datasets, config.title), flow=steps, tables=views, figures=figs,
        km=km_views, paragraph=text,
        sum_name="products of bidimensional diameters" if who else "diameters",
        deviations_text="The protocol engine reported no deviations." if dv is not None
        else "Protocol deviations were not derived for this study.",
    )
    return Report(html=html, paragraph=text, numbers=nums, tables=data, figures=figs)


def write_report(report: Report, path: str | Path) -> Path:
    """Write the report's HTML to ``path`` (parent folders are created)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(report.html, encoding="utf-8")
    return p
