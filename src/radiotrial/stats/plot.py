"""Publication-style Kaplan–Meier figure with a numbers-at-risk table.

Step curves (right-continuous), censor ticks, optional pointwise CI band (the fit's conf type),
dotted median guide lines, and the number at risk printed under each x tick, aligned with it.
Follows the reporting advice of Pocock, Clayton & Altman (Lancet 2002;359:1686–1689): show the
numbers at risk, do not extend the curve past the data, keep the y axis 0–1.

matplotlib is imported inside :func:`plot_km` (Agg backend), so importing this module is light.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from radiotrial.errors import RadiotrialError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from radiotrial.stats.survival import KMResult

#: Days per month for ``time_unit="months"``: the mean Gregorian month, 365.25 / 12 days
#: (the convention of ADaM time-to-event analyses reporting months).
DAYS_PER_MONTH = 365.25 / 12

#: Colour-blind-safe palette (Okabe & Ito, "Color Universal Design", 2008).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def _ticks(xmax: float, unit: str) -> np.ndarray:
    from matplotlib.ticker import MaxNLocator

    steps = [1, 2, 3, 6, 10] if unit == "months" else [1, 2, 2.5, 5, 10]
    loc = MaxNLocator(nbins=7, steps=steps, integer=True, min_n_ticks=4)
    ticks = np.asarray(loc.tick_values(0, xmax))
    return ticks[(ticks >= 0) & (ticks <= xmax * 1.0001)]


def at_risk_table(result: KMResult, ticks: Sequence[float], *, scale: float = 1.0) -> pl.DataFrame:
    """Numbers at risk per stratum at display times ``ticks`` (time in display units)."""
    rows: dict[str, list[Any]] = {"group": [], "time": [], "n_risk": []}
    for s in result.strata:
        t = np.asarray(ticks, dtype=np.float64)
        n = s.at(t * scale)["n_risk"].to_numpy()
        rows["group"] += [s.group] * t.size
        rows["time"] += t.tolist()
        rows["n_risk"] += n.tolist()
    return pl.DataFrame(rows, schema={"group": pl.Utf8, "time": pl.Float64, "n_risk": pl.Int64})


def plot_km(
    result: KMResult,
    *,
    time_unit: str = "days",
    show_ci: bool = True,
    show_censor: bool = True,
    show_median: bool = True,
    risk_table: bool = True,
    ticks: Sequence[float] | None = None,
    xmax: float | None = None,
    title: str | None = None,
    ylabel: str = "Survival probability",
    xlabel: str | None = None,
    group_title: str | None = None,
    figsize: tuple[float, float] = (7.0, 5.2),
) -> tuple[Figure, pl.DataFrame]:
    """Draw ``result`` (times in days) and return ``(figure, at-risk table)``.

    ``time_unit``: ``days`` or ``months`` (days / 30.4375) for the x axis. ``ticks`` (display
    units) default to round numbers up to the last follow-up time; the at-risk table has one
    row per stratum and tick: group, time, n_risk.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if time_unit not in ("days", "months"):
        raise RadiotrialError(f"time_unit: unknown value {time_unit!r}; use days or months")
    scale = DAYS_PER_MONTH if time_unit == "months" else 1.0
    last = max((float(s.time[-1]) for s in result.strata if s.time.size), default=1.0) / scale
    xmax = float(xmax) if xmax is not None else last
    tick_values = np.asarray(ticks, dtype=float) if ticks is not None else _ticks(xmax, time_unit)
    table = at_risk_table(result, tick_values, scale=scale)
    multi = len(result.strata) > 1

    n_rows = len(result.strata) if risk_table else 0
    row_in = 0.24  # inches per at-risk row
    extra = (0.45 + row_in * n_rows) if risk_table else 0.0
    fig = plt.figure(figsize=(figsize[0], figsize[1] + extra))
    if risk_table:
        gs = fig.add_gridspec(
            2, 1, height_ratios=[figsize[1] - 0.6, row_in * n_rows + 0.05], hspace=0.0,
            top=0.95 if title else 0.97, bottom=0.03, left=0.15, right=0.97,
        )
        ax = fig.add_subplot(gs[0])
        axr = fig.add_subplot(gs[1], sharex=ax)
    else:
        ax = fig.add_subplot(111)
        axr = None

    for i, s in enumerate(result.strata):
        colour = PALETTE[i % len(PALETTE)] if multi else "#222222"
        x = np.concatenate(([0.0], s.time)) / scale
        y = np.concatenate(([1.0], s.survival))
        label = s.group if multi else "All subjects"
        med = s.median
        unit = "mo" if time_unit == "months" else "d"
        if med.estimate is not None:
            lo = "NR" if med.lower is None else _fmt(med.lower / scale)
            hi = "NR" if med.upper is None else _fmt(med.upper / scale)
            ci = f"{100 * s.conf_level:g}% CI"
            label += f": median {_fmt(med.estimate / scale)} {unit} ({ci} {lo}–{hi})"
        else:
            label += ": median not reached"
        ax.step(x, y, where="post", color=colour, lw=1.6, label=label, zorder=3)
        if show_ci:
            # log-log limits are undefined where S = 1 (R); the band is degenerate there
            flat = s.survival == 1.0
            lower = np.concatenate(([1.0], np.where(flat, 1.0, s.lower)))
            upper = np.concatenate(([1.0], np.where(flat, 1.0, s.upper)))
            ax.fill_between(x, lower, upper, step="post", color=colour, alpha=0.15, lw=0,
                            zorder=1)
        if show_censor:
            c = s.n_censor > 0
            ax.plot(s.time[c] / scale, s.survival[c], ls="none", marker="|", ms=7, mew=1.1,
                    color=colour, zorder=4)
        if show_median and med.estimate is not None:
            m = med.estimate / scale
            ax.plot([0, m], [0.5, 0.5], ls=":", lw=0.9, color="0.45", zorder=2)
            ax.plot([m, m], [0, 0.5], ls=":", lw=0.9, color=colour, zorder=2)

    ax.set_xlim(0, xmax * 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xticks(tick_values)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%.1f"))
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel or f"Time ({time_unit})")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color="0.9", lw=0.6, zorder=0)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, loc="upper right", frameon=False, fontsize=9,
              title=group_title if multi else None, title_fontsize=9)
    if title:
        ax.set_title(title, loc="left", fontsize=11)

    if axr is not None:
        axr.set_ylim(-0.5, n_rows - 0.5)
        axr.invert_yaxis()
        for i, s in enumerate(result.strata):
            colour = PALETTE[i % len(PALETTE)] if multi else "#222222"
            counts = table.filter(pl.col("group").eq_missing(s.group))["n_risk"].to_list()
            for t, n in zip(tick_values, counts, strict=False):
                axr.text(t, i, str(n), ha="center", va="center", fontsize=9, color=colour)
            axr.annotate(
                s.group if multi else "All", xy=(0, i), xycoords=("axes fraction", "data"),
                xytext=(-16, 0), textcoords="offset points", ha="right", va="center",
                fontsize=9, color=colour,
            )
        axr.set_yticks([])
        axr.tick_params(axis="x", length=0, labelbottom=False)
        for side in ("top", "right", "bottom", "left"):
            axr.spines[side].set_visible(False)
        axr.annotate("Number at risk", xy=(0.015, 1), xycoords=("figure fraction", "axes fraction"),
                     xytext=(0, 2), textcoords="offset points", ha="left", va="bottom",
                     fontsize=9, fontweight="bold")
        # the risk table sits below the x-axis label of the curve panel
        pos = axr.get_position()
        shift = 0.5 / fig.get_figheight()
        axr.set_position([pos.x0, pos.y0 - shift * 0.2, pos.width, pos.height])
        ax_pos = ax.get_position()
        ax.set_position([ax_pos.x0, ax_pos.y0 + shift, ax_pos.width, ax_pos.height - shift])
    else:
        fig.subplots_adjust(left=0.15, right=0.97, top=0.95 if title else 0.97, bottom=0.12)
    return fig, table


def _fmt(v: float) -> str:
    """Times for labels: whole numbers without decimals, otherwise one decimal."""
    return f"{v:.0f}" if abs(v - round(v)) < 1e-9 else f"{v:.1f}"
