"""The report's figures (matplotlib, Agg): each returns ``(svg_text, data_frame)``.

* waterfall: best % change in tumour sum per patient, coloured by best overall response, with
  the criteria's reference lines (WHO: -50 % / +25 %, Miller et al., Cancer 1981; RECIST 1.1:
  -30 % / +20 %, Eisenhauer et al., Eur J Cancer 2009);
* swimmer: time on study per patient with cycles, response onset, progression and death;
* Kaplan–Meier: via :func:`radiotrial.stats.plot_km` (numbers at risk aligned to the ticks).

Colours: Okabe & Ito colour-blind-safe palette. Figures are returned as inline SVG so the report
file is self-contained.
"""

from __future__ import annotations

import io
import re
from typing import Any

import polars as pl

#: Reference lines (PR threshold, PD threshold) in % change of the tumour sum.
REFERENCE_LINES = {"WHO": (-50.0, 25.0), "RECIST1.1": (-30.0, 20.0), "RECIST1.0": (-30.0, 20.0)}
RESPONSE_COLOURS = {"CR": "#009E73", "PR": "#0072B2", "SD": "#E69F00", "PD": "#D55E00",
                    "NE": "#999999"}
DAYS_PER_MONTH = 365.25 / 12


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.family": "DejaVu Sans",
                         "font.size": 9, "axes.spines.top": False,
                         "axes.spines.right": False})
    return plt


def to_svg(fig: Any) -> str:
    """The figure as SVG text (no XML prolog, so it can be inlined in HTML); closes it."""
    plt = _plt()
    buf = io.StringIO()
    # no metadata block: it carries the rendering date (a calendar date, and not reproducible)
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)
    return text[text.index("<svg"):]


def waterfall(adsl: pl.DataFrame, criteria: str) -> tuple[str | None, pl.DataFrame]:
    """Best % change per response-evaluable patient with a post-baseline sum, sorted descending."""
    data = adsl.filter((pl.col("EFFFL") == "Y") & pl.col("BPCHG").is_not_null()).select(
        "SUBJID", "BPCHG", "BOR").sort("BPCHG", descending=True)
    if data.height == 0:
        return None, data
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    x = list(range(data.height))
    colours = [RESPONSE_COLOURS.get(b, "#999999") for b in data["BOR"]]
    ax.bar(x, data["BPCHG"].to_list(), color=colours, width=0.8)
    pr, pd = REFERENCE_LINES.get(criteria, REFERENCE_LINES["WHO"])
    for y, lab in ((pr, f"{pr:+.0f}% (PR)"), (pd, f"{pd:+.0f}% (PD)")):
        ax.axhline(y, color="#444444", lw=0.8, ls="--")
        ax.annotate(lab, (1.0, y), xycoords=("axes fraction", "data"), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=8, color="#444444")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, data["SUBJID"].to_list(), rotation=90, fontsize=7)
    ax.set_ylabel("Best change in tumour size from baseline (%)")
    ax.set_xlabel("Patient")
    ymin = min(-100.0, float(data["BPCHG"].min()) - 5)
    ymax = max(pd + 15, float(data["BPCHG"].max()) + 5)
    ax.set_ylim(ymin, ymax)
    present = [b for b in ("CR", "PR", "SD", "PD", "NE") if b in set(data["BOR"].to_list())]
    handles = [plt.Rectangle((0, 0), 1, 1, color=RESPONSE_COLOURS[b]) for b in present]
    ax.legend(handles, present, title="Best response", frameon=False, fontsize=8,
              title_fontsize=8, loc="lower left", ncol=len(present))
    return to_svg(fig), data


def swimmer(adsl: pl.DataFrame, adex: pl.DataFrame, adrs: pl.DataFrame, adtte: pl.DataFrame
            ) -> tuple[str | None, pl.DataFrame]:
    """One lane per treated patient: follow-up in months, cycles, first response, PD, death."""
    os_ = adtte.filter(pl.col("PARAMCD") == "OS").select(
        "SUBJID", months=pl.col("AVALM"), died=pl.col("CNSR") == 0)
    ovr = adrs.filter(pl.col("PARAMCD") == "OVR")
    resp = ovr.filter(pl.col("AVALC").is_in(["CR", "PR"])).group_by("SUBJID").agg(
        response_month=(pl.col("ADY").min() - 1) / DAYS_PER_MONTH)
    prog = ovr.filter(pl.col("AVALC") == "PD").group_by("SUBJID").agg(
        progression_month=(pl.col("ADY").min() - 1) / DAYS_PER_MONTH)
    cyc = adex.group_by("SUBJID").agg(
        cycle_months=((pl.col("ASTDY") - 1) / DAYS_PER_MONTH).sort())
    data = (os_.join(adsl.select("SUBJID", "BOR"), on="SUBJID", how="left")
            .join(cyc, on="SUBJID", how="left").join(resp, on="SUBJID", how="left")
            .join(prog, on="SUBJID", how="left").sort("months"))
    if data.height == 0:
        return None, data
    plt = _plt()
    h = max(2.5, 0.22 * data.height + 1.2)
    fig, ax = plt.subplots(figsize=(7.0, h))
    for i, r in enumerate(data.iter_rows(named=True)):
        colour = RESPONSE_COLOURS.get(r["BOR"] or "NE", "#999999")
        ax.barh(i, r["months"], color=colour, alpha=0.55, height=0.6)
        cm = r["cycle_months"] or []
        ax.plot(cm, [i] * len(cm), ls="none", marker="v", ms=4, color="black")
        if r["response_month"] is not None:
            ax.plot(r["response_month"], i, ls="none", marker="o", ms=5, mfc="white",
                    mec="#0072B2", mew=1.5)
        if r["progression_month"] is not None:
            ax.plot(r["progression_month"], i, ls="none", marker="D", ms=4, color="#D55E00")
        if r["died"]:
            ax.plot(r["months"], i, ls="none", marker="X", ms=6, color="black")
        else:
            ax.annotate("", xy=(r["months"] + 1.2, i), xytext=(r["months"], i),
                        arrowprops={"arrowstyle": "->", "lw": 1.0, "color": "#333333"})
    ax.set_yticks(range(data.height), data["SUBJID"].to_list(), fontsize=7)
    ax.set_xlabel("Months since first treatment")
    ax.set_ylim(-0.8, data.height - 0.2)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    present = [b for b in ("CR", "PR", "SD", "PD", "NE") if b in set(data["BOR"].fill_null(
        "NE").to_list())]
    handles = [Patch(color=RESPONSE_COLOURS[b], alpha=0.55, label=f"Best response {b}")
               for b in present] + [
        Line2D([], [], ls="none", marker="v", color="black", label="Cycle"),
        Line2D([], [], ls="none", marker="o", mfc="white", mec="#0072B2", mew=1.5,
               label="First response"),
        Line2D([], [], ls="none", marker="D", color="#D55E00", label="Progression"),
        Line2D([], [], ls="none", marker="X", color="black", label="Death"),
        Line2D([], [], ls="-", color="#333333", label="Alive (arrow)"),
    ]
    ax.legend(handles=handles, frameon=False, fontsize=7, loc="center left",
              bbox_to_anchor=(1.01, 0.5))
    return to_svg(fig), data


def kaplan_meier(adtte: pl.DataFrame, paramcd: str, title: str) -> dict[str, Any] | None:
    """KM of one ADTTE parameter: SVG with numbers at risk, the curve table and estimates."""
    from radiotrial.stats import kaplan_meier as km
    from radiotrial.stats import plot_km

    d = adtte.filter(pl.col("PARAMCD") == paramcd)
    if d.height == 0:
        return None
    fit = km(d["AVAL"].to_numpy(), (1 - d["CNSR"]).to_numpy())
    s = fit.strata[0]
    fig, at_risk = plot_km(fit, time_unit="months", xlabel="Months since first treatment",
                           ylabel=f"{title} probability")
    one_year = s.at([12 * DAYS_PER_MONTH]).row(0, named=True)
    med = s.median
    scale = DAYS_PER_MONTH
    curve = s.table.with_columns(months=pl.col("time") / scale)
    return {
        "svg": to_svg(fig), "at_risk": at_risk, "curve": curve,
        "n": s.n, "events": s.events,
        "median": None if med.estimate is None else med.estimate / scale,
        "median_lower": None if med.lower is None else med.lower / scale,
        "median_upper": None if med.upper is None else med.upper / scale,
        "rate_1y": one_year["survival"], "rate_1y_lower": one_year["lower"],
        "rate_1y_upper": one_year["upper"],
    }
