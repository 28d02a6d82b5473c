"""``radiotrial dose ...``: activity bookkeeping, partition model and BED from the command line.

Nothing heavy is imported at module level (numpy is imported inside the commands).
"""

from __future__ import annotations

import json
from datetime import datetime

import typer

from radiotrial.errors import RadiotrialError

dose_app = typer.Typer(
    name="dose",
    help="Radionuclide physics: decay and administered activity, partition model, BED.",
    no_args_is_help=True,
)


def _instant(text: str | None, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)  # Python >= 3.11 accepts a trailing Z
    except ValueError:
        raise RadiotrialError(f"{field}: {text!r} is not an ISO 8601 instant (e.g. 2004-03-02T10:30:00+01:00)") from None
    if value.tzinfo is None:
        raise RadiotrialError(f"{field}: {text!r} has no UTC offset; add one, e.g. {text}+01:00 or {text}Z")
    return value


def _to_gbq(value: float | None, unit: str, field: str) -> float | None:
    factors = {"GBq": 1.0, "MBq": 1e-3}
    if unit not in factors:
        raise RadiotrialError(f"--unit: {unit!r} is not known; use GBq or MBq")
    if value is not None and value < 0:
        raise RadiotrialError(f"{field}: activity must be >= 0, got {value!r}")
    return None if value is None else value * factors[unit]


def _emit(data: dict, as_json: bool, title: str) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=True)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for key, val in data.items():
        table.add_row(key, f"{val:.6g}" if isinstance(val, float) else str(val))
    Console().print(table)


@dose_app.command("activity")
def activity_cmd(
    nuclide: str = typer.Option("Y-90", "--nuclide", "-n", help="Nuclide, e.g. Y-90, Lu-177, In-111."),
    calibrated: float = typer.Option(..., "--calibrated", help="Calibrated (dispensed) activity."),
    calibration_instant: str = typer.Option(..., "--calibration-instant", help="When it was calibrated (ISO 8601 with offset)."),
    admin_instant: str | None = typer.Option(None, "--admin-instant", help="Injection instant; gives the administered activity."),
    residual: float | None = typer.Option(None, "--residual", help="Residual activity in syringe and line."),
    residual_instant: str | None = typer.Option(None, "--residual-instant", help="When the residual was measured (before or after injection)."),
    at: str | None = typer.Option(None, "--at", help="Just decay the calibrated activity to this instant."),
    unit: str = typer.Option("GBq", "--unit", help="Unit of the activities given: GBq or MBq (output in GBq)."),
    dataset: str = typer.Option("ICRP-107", "--dataset", help="Half-life data set: ICRP-107 (default) or ENSDF."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Decay an activity, or compute the administered activity of an injection.

    Administered = calibrated decayed to the injection - residual decayed to the injection
    (the residual may be measured after the injection).

    Example:

      radiotrial dose activity -n Y-90 --calibrated 1.2 --calibration-instant 2004-03-02T08:00+01:00 --at 2004-03-03T08:00+01:00

      radiotrial dose activity -n Y-90 --calibrated 1200 --unit MBq --calibration-instant 2004-03-02T08:00+01:00 --admin-instant 2004-03-02T10:00+01:00 --residual 50 --residual-instant 2004-03-02T11:00+01:00 --json
    """
    from radiotrial.physics.decay import activity_at, administered_activity
    from radiotrial.physics.nuclides import half_life_h

    cal = _to_gbq(calibrated, unit, "--calibrated")
    res = _to_gbq(residual, unit, "--residual")
    t_cal = _instant(calibration_instant, "--calibration-instant")
    out: dict = {"nuclide": nuclide, "dataset": dataset, "half_life_h": half_life_h(nuclide, dataset)}
    if at is not None:
        out["activity_at_gbq"] = activity_at(cal, t_cal, _instant(at, "--at"), nuclide, dataset=dataset)
    if admin_instant is None:
        if at is None:
            raise RadiotrialError("give --admin-instant (administered activity) or --at (decay only)")
    else:
        r = administered_activity(cal, t_cal, _instant(admin_instant, "--admin-instant"), nuclide,
                                  residual_activity=res, residual_instant=_instant(residual_instant, "--residual-instant"),
                                  dataset=dataset)
        out |= {"activity_at_injection_gbq": r.at_injection, "residual_at_injection_gbq": r.residual_at_injection,
                "administered_activity_gbq": r.administered}
    _emit(out, as_json, f"{nuclide} activity (GBq)")


@dose_app.command("partition")
def partition_cmd(
    tumour_mass: float = typer.Option(..., "--tumour-mass", help="Tumour mass, kg."),
    liver_mass: float = typer.Option(..., "--liver-mass", help="Whole-liver mass incl. tumour, kg (see --liver-mass-excludes-tumour)."),
    tn: float | None = typer.Option(None, "--tn", help="Tumour-to-normal ratio (or give --tumour-counts and --normal-counts)."),
    tumour_counts: float | None = typer.Option(None, "--tumour-counts", help="Total counts in the tumour VOI."),
    normal_counts: float | None = typer.Option(None, "--normal-counts", help="Total counts in the normal-liver VOI."),
    activity: float | None = typer.Option(None, "--activity", help="Forward: administered activity, GBq."),
    normal_liver_dose: float | None = typer.Option(None, "--normal-liver-dose", help="Inverse: prescribed normal-liver dose, Gy."),
    tumour_dose: float | None = typer.Option(None, "--tumour-dose", help="Inverse: prescribed tumour dose, Gy."),
    lsf: float = typer.Option(0.0, "--lsf", help="Lung shunt fraction, 0-1."),
    residual_fraction: float = typer.Option(0.0, "--residual-fraction", help="Fraction left in vial and line, 0-1."),
    lung_mass: float = typer.Option(1.0, "--lung-mass", help="Lung mass, kg (default 1 kg)."),
    normal_liver_is_given: bool = typer.Option(False, "--liver-mass-excludes-tumour", help="--liver-mass is the normal liver only (tumour excluded)."),
    nuclide: str = typer.Option("Y-90", "--nuclide", "-n", help="Nuclide for K."),
    k: float | None = typer.Option(None, "--k", help="Override K in Gy.kg/GBq (e.g. 49.67 or 50)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Partition model (Ho 1996): doses from an activity, or the activity for a prescription.

    D_N = K A (1-LSF)(1-R) / (T/N M_T + M_N), D_T = T/N D_N; inverse solves A for a normal-liver
    or tumour dose.

    Examples:

      radiotrial dose partition --activity 1.0 --tn 3 --tumour-mass 0.3 --liver-mass 1.8

      radiotrial dose partition --normal-liver-dose 40 --tn 3 --tumour-mass 0.3 --liver-mass 1.8 --lsf 0.05 --json
    """
    from radiotrial.physics.dosimetry.factors import dose_factor_k
    from radiotrial.physics.dosimetry.partition import (
        partition_activity,
        partition_doses,
        tumour_to_normal_ratio,
    )

    mn = liver_mass if normal_liver_is_given else liver_mass - tumour_mass
    if mn <= 0:
        raise RadiotrialError(f"--liver-mass: {liver_mass!r} kg is not above --tumour-mass {tumour_mass!r} kg")
    if tn is None:
        if tumour_counts is None or normal_counts is None:
            raise RadiotrialError("give --tn, or both --tumour-counts and --normal-counts")
        tn = float(tumour_to_normal_ratio(tumour_counts, normal_counts, tumour_mass, mn))
    if sum(x is not None for x in (activity, normal_liver_dose, tumour_dose)) != 1:
        raise RadiotrialError("give exactly one of --activity, --normal-liver-dose, --tumour-dose")
    kk = dose_factor_k(nuclide, override=k)
    out: dict = {"k_gy_kg_per_gbq": kk, "tn_ratio": tn, "tumour_mass_kg": tumour_mass, "normal_liver_mass_kg": mn}
    if activity is None:
        activity = float(partition_activity(tn, tumour_mass, mn, kk, normal_liver_dose_gy=normal_liver_dose,
                                            tumour_dose_gy=tumour_dose, lung_shunt_fraction=lsf,
                                            residual_fraction=residual_fraction))
        out["activity_gbq"] = activity
    d = partition_doses(activity, tn, tumour_mass, mn, kk, lung_shunt_fraction=lsf,
                        residual_fraction=residual_fraction, lung_mass_kg=lung_mass)
    out |= {"activity_gbq": float(activity), "normal_liver_dose_gy": float(d.normal_liver_gy),
            "tumour_dose_gy": float(d.tumour_gy), "lung_dose_gy": float(d.lung_gy)}
    _emit(out, as_json, "Partition model")


@dose_app.command("bed")
def bed_cmd(
    dose: list[float] = typer.Option(..., "--dose", "-d", help="Absorbed dose of one cycle, Gy; repeat per cycle."),  # noqa: B008
    organ: str = typer.Option("kidney", "--organ", help="Organ for default alpha/beta and T_rep (kidney, normal_liver, tumour)."),
    t_eff: float = typer.Option(..., "--t-eff", help="Effective half-life in the organ, h."),
    alpha_beta: float | None = typer.Option(None, "--alpha-beta", help="Override alpha/beta, Gy."),
    t_rep: float | None = typer.Option(None, "--t-rep", help="Override repair half-time, h."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Biologically effective dose per cycle and cumulative (LQ model, full repair between cycles).

    BED = D + D^2 T_rep/(T_rep + T_eff)/(alpha/beta); kidney defaults alpha/beta 2.6 Gy,
    T_rep 2.8 h (Bodei 2008).

    Example (two kidney cycles of 10 Gy, T_eff 40 h):

      radiotrial dose bed --organ kidney --dose 10 --dose 10 --t-eff 40 --json
    """
    from radiotrial.physics.dosimetry.bed import bed, eqd2, radiobiology

    if alpha_beta is None or t_rep is None:
        params = radiobiology(organ)
        alpha_beta = params.alpha_beta_gy if alpha_beta is None else alpha_beta
        t_rep = params.t_rep_h if t_rep is None else t_rep
    per = [float(x) for x in bed(dose, alpha_beta, t_rep_h=t_rep, t_eff_h=t_eff)]
    out = {"organ": organ, "alpha_beta_gy": alpha_beta, "t_rep_h": t_rep, "t_eff_h": t_eff,
           "cycle_doses_gy": [float(x) for x in dose], "cycle_bed_gy": per,
           "cumulative_dose_gy": float(sum(dose)), "cumulative_bed_gy": float(sum(per)),
           "cumulative_eqd2_gy": float(eqd2(sum(per), alpha_beta))}
    _emit(out, as_json, f"BED, {organ}")


def register(app: typer.Typer) -> None:
    """Add ``radiotrial dose`` (activity, partition, bed) to the app."""
    app.add_typer(dose_app, name="dose")
