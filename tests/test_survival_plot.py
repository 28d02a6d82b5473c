"""plot_km: returns a figure and the numbers-at-risk table, aligned with the x ticks."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from radiotrial.errors import RadiotrialError
from radiotrial.stats import kaplan_meier, plot_km
from radiotrial.stats.plot import DAYS_PER_MONTH


@pytest.fixture(scope="module")
def lung():
    return pl.read_csv("/work/shared/reference/survival/lung.csv")


def test_at_risk_table_matches_ticks_and_counts(lung):
    import matplotlib.pyplot as plt

    fit = kaplan_meier(lung["time"], lung["status"], group=lung["sex"])
    fig, table = plot_km(fit)
    ax = fig.axes[0]
    ticks = ax.get_xticks()
    assert table.columns == ["group", "time", "n_risk"]
    assert table.filter(pl.col("group") == "1")["time"].to_list() == list(ticks)
    t = lung["time"].to_numpy()
    male = lung["sex"].to_numpy() == 1
    expected = [int(np.sum(t[male] >= x)) for x in ticks]
    assert table.filter(pl.col("group") == "1")["n_risk"].to_list() == expected
    texts = [x.get_text() for x in fig.axes[1].texts]
    assert [str(n) for n in expected] == texts[: len(expected)]
    plt.close(fig)


def test_months_and_options(lung):
    import matplotlib.pyplot as plt

    fit = kaplan_meier(lung["time"], lung["status"])
    fig, table = plot_km(fit, time_unit="months", show_ci=False, risk_table=False,
                         ticks=[0, 12, 24])
    assert table["time"].to_list() == [0, 12, 24]
    assert table["n_risk"][1] == int(np.sum(lung["time"].to_numpy() >= 12 * DAYS_PER_MONTH))
    assert len(fig.axes) == 1 and "months" in fig.axes[0].get_xlabel()
    plt.close(fig)
    with pytest.raises(RadiotrialError, match="time_unit"):
        plot_km(fit, time_unit="weeks")
